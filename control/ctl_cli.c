/* ctl_cli.c: what parcelsortctl's command files share (see ctl_cli.h):
 * usage errors, reading a plan file, the offline plan check. */
#include "ctl_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_proto.h"
#include "outbuf.h"
#include "plan.h"
#include "plan_src.h"

int ctl_bad_usage(const char *msg)
{
	fprintf(stderr, "parcelsortctl: %s (--help for the commands)\n", msg);
	return EXIT_USAGE;
}

char *ctl_read_file(const char *path, size_t *len)
{
	return ctl_read_file_max(path, PS_CTL_MAX_REQUEST - 4096, len);
}

char *ctl_read_file_max(const char *path, unsigned long long max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "parcelsortctl: %s: %s\n", path,
			f ? "not a regular file" : strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	if ((unsigned long long)st.st_size > max) {
		fprintf(stderr, "parcelsortctl: %s: %llu bytes, more than the "
			"%llu this command takes\n", path,
			(unsigned long long)st.st_size, max);
		fclose(f);
		return NULL;
	}
	char *b = malloc((size_t)st.st_size + 1);
	if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "parcelsortctl: %s: read error\n", path);
		free(b);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)st.st_size;
	b[*len] = 0;
	return b;
}

int ctl_refuse_nul(const char *path, const char *text, size_t len,
		   unsigned long first)
{
	const char *z = memchr(text, 0, len);
	if (!z)
		return 0;
	unsigned long line = first;
	for (const char *c = text; (c = memchr(c, '\n', (size_t)(z - c))); c++)
		line++;
	fprintf(stderr, "%s:%lu: a NUL byte in the line\n"
		"parcelsortctl: refused, nothing changed\n", path, line);
	return EXIT_REFUSED;
}

/* The plan at path, or in text (len bytes) under that name when text. */
static int plan_check(const char *path, const char *text, size_t len,
		      int json, int quiet_ok)
{
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	int rc = text ? ps_plan_parse(&src, text, len, path, &e)
		      : ps_plan_parse_file(&src, path, &e);
	struct ps_plan *p = rc ? NULL : ps_plan_compile(&src, 1, &e);
	if (!p) {
		if (json) {
			printf("{\"ok\":false,\"errors\":[");
			for (size_t i = 0; i < e.n; i++) {
				struct ps_out o;
				ps_out_init(&o);
				ps_out_json_str(&o, e.msg[i]);
				printf("%s%s", i ? "," : "", o.buf);
				ps_out_free(&o);
			}
			printf("],\"more\":%zu}\n", e.dropped);
		} else {
			ps_errors_print(&e, stderr);
		}
		ps_errors_free(&e);
		ps_plan_src_free(&src);
		return EXIT_REFUSED;
	}
	if (quiet_ok)
		goto done;
	if (json)
		printf("{\"ok\":true,\"name\":\"%s\",\"hubs\":%zu,\"routes\":%zu,"
		       "\"rules\":%zu,\"structure_bytes\":%zu}\n", src.name,
		       src.n_hubs, src.n_routes, src.n_rules, p->bytes);
	else
		printf("%s: plan %s is valid: %zu hubs, %zu routes, %zu rules, "
		       "%s; compiles to %.1f MB\n", path, src.name, src.n_hubs,
		       src.n_routes, src.n_rules,
		       src.has_default ? "a default" : "no default",
		       p->bytes / 1048576.0);
done:
	ps_plan_free(p);
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	return EXIT_DONE;
}

int ctl_plan_check(const char *path, int json, int quiet_ok)
{
	return plan_check(path, NULL, 0, json, quiet_ok);
}

int ctl_plan_check_text(const char *name, const char *text, size_t len,
			int json, int quiet_ok)
{
	return plan_check(name, text, len, json, quiet_ok);
}
