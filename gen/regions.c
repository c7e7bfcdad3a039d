/* regions.c: load the compact region table (data/regions/villages.txt.gz:
 * one township a line followed by the 3-digit suffixes of its villages). */
#include "regions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#ifndef PS_DATA_DIR
#define PS_DATA_DIR "data"
#endif

/* $PARCELSORT_REGIONS, else the clone's data/ (a build tree), else the
 * installed copy (PS_SHARE_DIR, meson's datadir). */
const char *ps_regions_default_path(void)
{
	const char *env = getenv("PARCELSORT_REGIONS");
	if (env && *env)
		return env;
#ifdef PS_SHARE_DIR
	if (access(PS_DATA_DIR "/regions/villages.txt.gz", R_OK))
		return PS_SHARE_DIR "/regions/villages.txt.gz";
#endif
	return PS_DATA_DIR "/regions/villages.txt.gz";
}

static int push(struct ps_regions *r, size_t *cap, uint64_t code)
{
	if (r->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1 << 16;
		uint64_t *p = realloc(r->code, nc * sizeof(*p));
		if (!p)
			return -1;
		r->code = p;
		*cap = nc;
	}
	r->code[r->n++] = code;
	return 0;
}

/* Parse one line; returns 0 or -1 on a malformed line. */
static int parse_line(struct ps_regions *r, size_t *cap, char *line)
{
	char *save = NULL, *tok = strtok_r(line, " \n", &save);
	if (!tok)
		return 0;
	char *end;
	unsigned long long town = strtoull(tok, &end, 10);
	if (*end || strlen(tok) != 9)
		return -1;
	int villages = 0;
	while ((tok = strtok_r(NULL, " \n", &save))) {
		unsigned long v = strtoul(tok, &end, 10);
		if (*end || strlen(tok) != 3 || v == 0)
			return -1;
		if (push(r, cap, town * 1000ull + v))
			return -1;
		villages++;
	}
	if (!villages && push(r, cap, town * 1000ull))
		return -1;
	return 0;
}

int ps_regions_load(struct ps_regions *r, const char *path, char *err,
		    size_t errlen)
{
	memset(r, 0, sizeof(*r));
	gzFile gz = gzopen(path, "rb");
	if (!gz) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 0, lineno = 0;
	char line[8192];
	while (gzgets(gz, line, sizeof(line))) {
		lineno++;
		if (!strchr(line, '\n') && !gzeof(gz)) {
			snprintf(err, errlen, "%s:%zu: line too long", path,
				 lineno);
			goto fail;
		}
		if (parse_line(r, &cap, line)) {
			snprintf(err, errlen, "%s:%zu: malformed line", path,
				 lineno);
			goto fail;
		}
	}
	int zerr;
	if (!gzeof(gz) && gzerror(gz, &zerr) && zerr != Z_OK) {
		snprintf(err, errlen, "%s: %s", path, gzerror(gz, &zerr));
		goto fail;
	}
	gzclose(gz);
	if (r->n == 0) {
		snprintf(err, errlen, "%s: no region codes", path);
		return -1;
	}
	return 0;
fail:
	gzclose(gz);
	ps_regions_free(r);
	return -1;
}

void ps_regions_free(struct ps_regions *r)
{
	free(r->code);
	r->code = NULL;
	r->n = 0;
}
