/* plan_persist.c: atomic, checksummed files of the plan state directory. */
#include "plan_persist.h"
#include "ps_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ps_fault.h"

#define TRAILER "# end crc32 "

/* fsync the directory so a rename in it survives a crash. 0 or -1. */
static int sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int e = ps_fault_hit(PS_FAULT_DIR_FSYNC);
	int rc = e ? -1 : fsync(dfd);
	e = errno;
	close(dfd);
	errno = e;
	return rc;
}

int ps_persist_write_small(const char *dir, const char *fname,
			   const char *content, size_t len, int no_fsync,
			   char *err, size_t errlen)
{
	char tmp[4096], dst[4096];
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, fname);
	snprintf(dst, sizeof(dst), "%s/%s", dir, fname);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	if (ps_write_all(fd, content, len) || (!no_fsync && fsync(fd))) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		goto fail;
	}
	if (close(fd) || rename(tmp, dst)) {
		int e = errno;
		unlink(tmp);
		errno = e;
		goto fail;
	}
	if (!no_fsync && sync_dir(dir)) {
		snprintf(err, errlen, "cannot make %s durable (fsync of %s: "
			 "%s)", dst, dir, strerror(errno));
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
	return -1;
}

long ps_persist_read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

static void clean_line(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
	dst[i] = 0;
}

int ps_persist_write_plan(const char *dir, const char *fname,
			  const struct ps_plan_src *src,
			  const struct ps_history_entry *meta, uint64_t at_ms,
			  int no_fsync, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	char origin[sizeof(meta->origin)];
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	clean_line(origin, sizeof(origin), meta->origin);
	fprintf(f, "# parcelsort committed plan: do not edit, checksummed\n");
	fprintf(f, "# version %u\n# committed-ms %llu\n# at-ms %llu\n"
		   "# origin %s\n", meta->version,
		(unsigned long long)meta->committed_ms,
		(unsigned long long)at_ms, origin);
	int werr = ps_plan_write(src, f);
	if (fclose(f) || werr) {
		free(buf);
		snprintf(err, errlen, "out of memory writing the plan");
		return -1;
	}
	return ps_persist_write_checked(dir, fname, buf, len, no_fsync, err,
					errlen);
}

int ps_persist_write_checked(const char *dir, const char *fname, char *buf,
			     size_t len, int no_fsync, char *err,
			     size_t errlen)
{
	char trailer[80];
	int tl = snprintf(trailer, sizeof(trailer), TRAILER "%08lx length %zu\n",
			  crc32(0, (const Bytef *)buf, (uInt)len), len);
	char *all = realloc(buf, len + (size_t)tl + 1);
	if (!all) {
		free(buf);
		snprintf(err, errlen, "out of memory writing %s", fname);
		return -1;
	}
	memcpy(all + len, trailer, (size_t)tl);
	int rc = ps_persist_write_small(dir, fname, all, len + (size_t)tl,
					no_fsync, err, errlen);
	free(all);
	return rc;
}

long ps_persist_read_checked(const char *path, char **out, char *why,
			     size_t wl)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f) {
		snprintf(why, wl, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || st.st_size <= 0) {
		fclose(f);
		snprintf(why, wl, "empty file");
		return -1;
	}
	size_t n = (size_t)st.st_size;
	char *b = malloc(n + 1);
	if (!b || fread(b, 1, n, f) != n) {
		fclose(f);
		free(b);
		snprintf(why, wl, "read error");
		return -1;
	}
	fclose(f);
	b[n] = 0;
	/* the trailer is the last line */
	size_t end = n;
	if (end && b[end - 1] == '\n')
		end--;
	size_t start = end;
	while (start && b[start - 1] != '\n')
		start--;
	unsigned long crc;
	size_t len;
	if (strncmp(b + start, TRAILER, strlen(TRAILER)) ||
	    sscanf(b + start + strlen(TRAILER), "%lx length %zu", &crc,
		   &len) != 2 || len != start ||
	    crc != crc32(0, (const Bytef *)b, (uInt)len)) {
		free(b);
		snprintf(why, wl, "truncated or corrupt (checksum trailer "
			 "missing or wrong)");
		return -1;
	}
	b[start] = 0;
	*out = b;
	return (long)start;
}

static void parse_meta(const char *b, struct ps_history_entry *m,
		       uint64_t *at_ms)
{
	unsigned long long v;
	const char *p;
	memset(m, 0, sizeof(*m));
	if ((p = strstr(b, "\n# version ")) && sscanf(p, "\n# version %llu", &v) == 1)
		m->version = (uint32_t)v;
	if ((p = strstr(b, "\n# committed-ms ")) &&
	    sscanf(p, "\n# committed-ms %llu", &v) == 1)
		m->committed_ms = v;
	if (at_ms && (p = strstr(b, "\n# at-ms ")) &&
	    sscanf(p, "\n# at-ms %llu", &v) == 1)
		*at_ms = v;
	if ((p = strstr(b, "\n# origin "))) {
		p += strlen("\n# origin ");
		size_t k = strcspn(p, "\n");
		if (k >= sizeof(m->origin))
			k = sizeof(m->origin) - 1;
		memcpy(m->origin, p, k);
		m->origin[k] = 0;
	}
	if ((p = strstr(b, "\nplan "))) {
		p += 6;
		size_t k = strcspn(p, " \t\n#");
		if (k >= sizeof(m->name))
			k = sizeof(m->name) - 1;
		memcpy(m->name, p, k);
		m->name[k] = 0;
	}
}

int ps_persist_read_plan(const char *path, struct ps_plan_src *src,
			 struct ps_history_entry *meta, uint64_t *at_ms,
			 struct ps_errors *errs)
{
	char *b, why[256];
	long n = ps_persist_read_checked(path, &b, why, sizeof(why));
	if (n < 0) {
		ps_errors_add(errs, path, 0, "%s", why);
		return -1;
	}
	if (at_ms)
		*at_ms = 0;
	parse_meta(b, meta, at_ms);
	ps_plan_src_init(src);
	int rc = ps_plan_parse(src, b, (size_t)n, path, errs);
	free(b);
	if (rc)
		ps_plan_src_free(src);
	else {
		meta->hubs = (uint32_t)src->n_hubs;
		meta->routes = (uint32_t)src->n_routes;
		meta->rules = (uint32_t)src->n_rules;
	}
	return rc;
}

int ps_persist_read_meta(const char *path, struct ps_history_entry *meta)
{
	char *b, why[256];
	long n = ps_persist_read_checked(path, &b, why, sizeof(why));
	if (n < 0)
		return -1;
	parse_meta(b, meta, NULL);
	/* counts by directive */
	for (const char *p = b; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (!strncmp(p, "hub ", 4))
			meta->hubs++;
		else if (!strncmp(p, "route ", 6))
			meta->routes++;
		else if (!strncmp(p, "rule ", 5))
			meta->rules++;
	}
	free(b);
	return 0;
}
