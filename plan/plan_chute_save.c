/* plan_chute_save.c: the chute state's file in the state directory: the
 * disabled chutes, one a line, saved on every change and read at open. */
#include <stdio.h>
#include <stdlib.h>

#include "plan_persist.h"
#include "plan_store_int.h"

static int save_chutes(struct ps_store *s, char *err, size_t errlen)
{
	char *buf = malloc(65536 * 7 + 64);
	size_t n = 0;
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n += (size_t)sprintf(buf, "# disabled chutes\n");
	for (uint32_t c = 1; c < 65536; c++)
		if (!ps_chute_enabled(&s->chutes, (uint16_t)c))
			n += (size_t)sprintf(buf + n, "%u\n", c);
	int rc = ps_persist_write_small(s->dir, "chutes", buf, n, s->no_fsync,
					err, errlen);
	free(buf);
	return rc;
}

int ps_store_chute_set(struct ps_store *s, const uint16_t *chutes,
		       unsigned n, int enable, struct ps_errors *errs)
{
	char err[512];
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		if (enable)
			ps_chute_enable(&s->chutes, chutes[i]);
		else
			ps_chute_disable(&s->chutes, chutes[i]);
	}
	int rc = save_chutes(s, err, sizeof(err));
	if (rc)
		ps_errors_add(errs, "chutes", 0, "applied but not saved: %s",
			      err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void ps_store_load_chutes(struct ps_store *s)
{
	char path[2200];
	snprintf(path, sizeof(path), "%s/chutes", s->dir);
	FILE *f = fopen(path, "r");
	char line[64];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long c = strtoul(line, NULL, 10);
		if (c >= 1 && c <= 65535)
			ps_chute_disable(&s->chutes, (uint16_t)c);
	}
	fclose(f);
}
