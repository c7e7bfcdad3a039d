/* manifest_persist.c: snapshot and append log of the manifest
 * (manifest_persist.h). Binary, little-endian host layout (the state
 * directory never leaves its machine). */
#include "manifest_persist.h"
#include "ps_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ps_fault.h"

#define SNAP_MAGIC "PSMANIF1"
#define SNAP_END   "PSMEND01"
#define LOG_MAGIC  0x4c4d5350u          /* "PSML" */
#define OP_PUT 1
#define OP_DEL 2
#define SNAP_ENTRY 40
#define LOG_OP 48

/* ---- buffered, checksummed writes ---- */

struct wbuf {
	int fd;
	int failed;
	int err;
	uLong crc;
	size_t n;
	unsigned char b[1 << 16];
};

static void wb_flush(struct wbuf *w)
{
	if (w->n && !w->failed && ps_write_all(w->fd, w->b, w->n)) {
		w->failed = 1;
		w->err = errno;
	}
	w->n = 0;
}

static void wb_put(struct wbuf *w, const void *p, size_t n)
{
	w->crc = crc32(w->crc, p, (uInt)n);
	if (w->n + n > sizeof(w->b))
		wb_flush(w);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void wb_u64(struct wbuf *w, uint64_t v)
{
	wb_put(w, &v, 8);
}

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

static void path_of(char *out, size_t n, const char *dir, uint64_t gen,
		    const char *ext)
{
	snprintf(out, n, "%s/manifest-%" PRIu64 ".%s", dir, gen, ext);
}

/* ---- snapshot ---- */

static void snap_entry(void *arg, const uint8_t *wb, uint64_t region,
		       uint64_t expires_ms)
{
	struct wbuf *w = arg;
	wb_put(w, wb, PS_WB_BYTES);
	wb_u64(w, region);
	wb_u64(w, expires_ms);
}

int ps_mpersist_snapshot(const char *dir, uint64_t gen,
			 const struct ps_mtable *t, int no_fsync,
			 char *err, size_t errlen)
{
	char tmp[4096], dst[4096], logp[4096];
	snprintf(tmp, sizeof(tmp), "%s/.manifest-%" PRIu64 ".snap.tmp", dir,
		 gen);
	path_of(dst, sizeof(dst), dir, gen, "snap");
	path_of(logp, sizeof(logp), dir, gen, "log");
	int lfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (lfd < 0 || (!no_fsync && fsync(lfd))) {
		snprintf(err, errlen, "cannot create %s: %s", logp,
			 strerror(errno));
		if (lfd >= 0)
			close(lfd);
		unlink(logp);
		return -1;
	}
	close(lfd);
	struct wbuf *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		unlink(logp);
		return -1;
	}
	w->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
			 strerror(errno));
		free(w);
		unlink(logp);
		return -1;
	}
	wb_put(w, SNAP_MAGIC, 8);
	wb_u64(w, gen);
	wb_u64(w, ps_mtable_count(t));
	wb_u64(w, 0);
	ps_mtable_each(t, snap_entry, w);
	uint64_t crc = w->crc;
	wb_put(w, SNAP_END, 8);
	wb_u64(w, crc);
	wb_flush(w);
	int failed = w->failed, e = w->err;
	if (!failed && !no_fsync && fsync(w->fd)) {
		failed = 1;
		e = errno;
	}
	if (close(w->fd) && !failed) {
		failed = 1;
		e = errno;
	}
	free(w);
	if (failed || rename(tmp, dst)) {
		if (!failed)
			e = errno;
		snprintf(err, errlen, "cannot write %s: %s", dst, strerror(e));
		unlink(tmp);
		unlink(logp);
		return -1;
	}
	if (!no_fsync && sync_dir(dir)) {
		snprintf(err, errlen, "cannot make %s durable (fsync of %s: %s)",
			 dst, dir, strerror(errno));
		unlink(dst);
		unlink(logp);
		return -1;
	}
	return 0;
}

/* The generation of a manifest file name, or 0. */
static uint64_t gen_of(const char *name, const char *ext)
{
	char tail[16];
	unsigned long long g;
	if (sscanf(name, "manifest-%llu.%15s", &g, tail) != 2 ||
	    strcmp(tail, ext))
		return 0;
	return g;
}

void ps_mpersist_drop_others(const char *dir, uint64_t gen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		uint64_t g = gen_of(de->d_name, "snap");
		if (!g)
			g = gen_of(de->d_name, "log");
		int tmp = !strncmp(de->d_name, ".manifest-", 10);
		if ((g && g != gen) || tmp) {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	}
	closedir(d);
}

static uint64_t newest_gen(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t best = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		uint64_t g = gen_of(de->d_name, "snap");
		if (g > best)
			best = g;
	}
	closedir(d);
	return best;
}

static int read_snapshot(const char *path, struct ps_mtable *t,
			 uint64_t now_ms, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	unsigned char hdr[32], e[SNAP_ENTRY], end[16];
	if (!f || fstat(fileno(f), &st) || fread(hdr, 1, 32, f) != 32 ||
	    memcmp(hdr, SNAP_MAGIC, 8))
		goto bad;
	uint64_t count;
	memcpy(&count, hdr + 16, 8);
	if ((uint64_t)st.st_size != 32 + count * SNAP_ENTRY + 16)
		goto bad;
	if (count > ps_mtable_capacity(t)) {
		snprintf(err, errlen, "%s holds %" PRIu64 " entries, more than "
			 "the capacity %" PRIu64, path, count,
			 ps_mtable_capacity(t));
		fclose(f);
		return -1;
	}
	uLong crc = crc32(0, hdr, 32);
	struct ps_mtable_batch batch;
	ps_mtable_batch_init(&batch, t);
	for (uint64_t i = 0; i < count; i++) {
		if (fread(e, 1, SNAP_ENTRY, f) != SNAP_ENTRY)
			goto bad;
		crc = crc32(crc, e, SNAP_ENTRY);
		uint64_t region, exp;
		memcpy(&region, e + 24, 8);
		memcpy(&exp, e + 32, 8);
		if (exp > now_ms)
			ps_mtable_batch_put(&batch, e, region, exp);
	}
	ps_mtable_batch_flush(&batch);
	uint64_t want;
	if (fread(end, 1, 16, f) != 16 || memcmp(end, SNAP_END, 8))
		goto bad;
	memcpy(&want, end + 8, 8);
	if (want != crc)
		goto bad;
	fclose(f);
	return 0;
bad:
	if (f)
		fclose(f);
	snprintf(err, errlen, "%s is truncated or damaged (checksum)", path);
	return -1;
}

/* Check one log record at off; its end offset, or 0 when torn. */
static uint64_t check_record(FILE *f, uint64_t off, uint64_t size)
{
	unsigned char hdr[16], op[LOG_OP];
	uint32_t magic;
	uint64_t n, want;
	if (size - off < 24 || fseeko(f, (off_t)off, SEEK_SET) ||
	    fread(hdr, 1, 16, f) != 16)
		return 0;
	memcpy(&magic, hdr, 4);
	memcpy(&n, hdr + 8, 8);
	if (magic != LOG_MAGIC || n > (size - off - 24) / LOG_OP)
		return 0;
	uLong crc = crc32(0, hdr, 16);
	for (uint64_t i = 0; i < n; i++) {
		if (fread(op, 1, LOG_OP, f) != LOG_OP)
			return 0;
		crc = crc32(crc, op, LOG_OP);
	}
	if (fread(&want, 1, 8, f) != 8 || want != crc)
		return 0;
	return off + 16 + n * LOG_OP + 8;
}

/* Apply one checked record; -1 when a put found the table full (the
 * capacity was lowered since it was written). */
static int apply_record(FILE *f, uint64_t off, struct ps_mtable *t,
			uint64_t now_ms)
{
	unsigned char hdr[16], op[LOG_OP];
	uint64_t n, kind, region, exp;
	if (fseeko(f, (off_t)off, SEEK_SET) || fread(hdr, 1, 16, f) != 16)
		return 0;
	memcpy(&n, hdr + 8, 8);
	for (uint64_t i = 0; i < n; i++) {
		if (fread(op, 1, LOG_OP, f) != LOG_OP)
			return 0;
		memcpy(&kind, op, 8);
		memcpy(&region, op + 32, 8);
		memcpy(&exp, op + 40, 8);
		if (kind == OP_PUT && exp > now_ms) {
			if (ps_mtable_put(t, op + 8, region, exp) ==
			    PS_MT_FULL)
				return -1;
		} else {
			ps_mtable_del(t, op + 8);
		}
	}
	return 0;
}

static int replay_log(const char *path, struct ps_mtable *t, uint64_t now_ms,
		      uint64_t *log_bytes, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r+b");
	struct stat st;
	*log_bytes = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st)) {
		fclose(f);
		snprintf(err, errlen, "cannot read %s", path);
		return -1;
	}
	uint64_t size = (uint64_t)st.st_size, off = 0, next;
	while (off < size && (next = check_record(f, off, size)) != 0) {
		if (apply_record(f, off, t, now_ms)) {
			snprintf(err, errlen, "%s holds more entries than the "
				 "capacity %" PRIu64, path,
				 ps_mtable_capacity(t));
			fclose(f);
			return -1;
		}
		off = next;
	}
	if (off < size && ftruncate(fileno(f), (off_t)off)) {
		snprintf(err, errlen, "cannot cut the torn end of %s: %s",
			 path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	*log_bytes = off;
	return 0;
}

int ps_mpersist_restore(const char *dir, struct ps_mtable *t,
			uint64_t now_ms, uint64_t *gen_out,
			uint64_t *log_bytes, char *err, size_t errlen)
{
	char snap[4096], logp[4096];
	uint64_t gen = newest_gen(dir);
	*gen_out = gen;
	*log_bytes = 0;
	if (!gen)
		return 0;
	path_of(snap, sizeof(snap), dir, gen, "snap");
	path_of(logp, sizeof(logp), dir, gen, "log");
	if (read_snapshot(snap, t, now_ms, err, errlen))
		return -1;
	return replay_log(logp, t, now_ms, log_bytes, err, errlen);
}

/* ---- the log ---- */

struct ps_mlog {
	struct wbuf w;
	const char *path_dir;
	char path[4096];
	off_t start;
	uint64_t n_ops, written;
	int no_fsync;
};

struct ps_mlog *ps_mlog_begin(const char *dir, uint64_t gen, uint64_t n_ops,
			      int no_fsync, char *err, size_t errlen)
{
	struct ps_mlog *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	path_of(l->path, sizeof(l->path), dir, gen, "log");
	l->w.fd = open(l->path, O_WRONLY | O_CLOEXEC);
	if (l->w.fd < 0 || (l->start = lseek(l->w.fd, 0, SEEK_END)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", l->path,
			 strerror(errno));
		if (l->w.fd >= 0)
			close(l->w.fd);
		free(l);
		return NULL;
	}
	l->n_ops = n_ops;
	l->no_fsync = no_fsync;
	uint32_t hdr[2] = { LOG_MAGIC, 0 };
	wb_put(&l->w, hdr, 8);
	wb_u64(&l->w, n_ops);
	return l;
}

static void log_op(struct ps_mlog *l, uint64_t kind, const uint8_t *wb,
		   uint64_t region, uint64_t exp)
{
	wb_u64(&l->w, kind);
	wb_put(&l->w, wb, PS_WB_BYTES);
	wb_u64(&l->w, region);
	wb_u64(&l->w, exp);
	l->written++;
}

void ps_mlog_put(struct ps_mlog *l, const uint8_t *wb, uint64_t region,
		 uint64_t expires_ms)
{
	log_op(l, OP_PUT, wb, region, expires_ms);
}

void ps_mlog_del(struct ps_mlog *l, const uint8_t *wb)
{
	log_op(l, OP_DEL, wb, 0, 0);
}

void ps_mlog_abort(struct ps_mlog *l)
{
	if (!l)
		return;
	if (ftruncate(l->w.fd, l->start))
		(void)0; /* the torn record is cut at the next restore */
	close(l->w.fd);
	free(l);
}

int ps_mlog_commit(struct ps_mlog *l, uint64_t *bytes, char *err,
		   size_t errlen)
{
	uint64_t crc = l->w.crc;
	wb_put(&l->w, &crc, 8);
	wb_flush(&l->w);
	int e = l->w.err;
	int failed = l->w.failed || l->written != l->n_ops;
	if (!failed && !l->no_fsync && fdatasync(l->w.fd)) {
		failed = 1;
		e = errno;
	}
	if (failed) {
		snprintf(err, errlen, "cannot append to %s: %s", l->path,
			 e ? strerror(e) : "record incomplete");
		ps_mlog_abort(l);
		return -1;
	}
	off_t end = lseek(l->w.fd, 0, SEEK_CUR);
	*bytes = end > 0 ? (uint64_t)end : 0;
	close(l->w.fd);
	free(l);
	return 0;
}
