/* ps_spool.c: the bounded event spool, writer and reader (see ps_spool.h). */
#include "ps_spool.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

static const char MAGIC[4] = { 'P', 'S', 'B', '1' };
static const char BOOT_FILE[] = "last-boot";
static const char BOOT_TMP[] = "last-boot.tmp";

static int is_segment(const char *name)
{
	size_t n = strlen(name);
	return n == 16 + 1 + 8 + 6 && name[16] == '-' &&
	       !strcmp(name + 25, ".spool");
}

/* The segments of dir in name order (malloc'ed), their count in *n. */
static char (*list_segments(int dirfd, unsigned *n))[PS_SPOOL_NAME]
{
	*n = 0;
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	unsigned cap = 0;
	char (*v)[PS_SPOOL_NAME] = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_segment(e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			void *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		snprintf(v[(*n)++], PS_SPOOL_NAME, "%s", e->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), (int (*)(const void *,
						  const void *))strcmp);
	return v;
}

static uint64_t file_size(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, 0) ? 0 : (uint64_t)st.st_size;
}

/* ================================================================ writer */

struct seg {
	char name[PS_SPOOL_NAME];
	uint64_t size;
};

struct ps_spool_writer {
	int dirfd, fd;
	uint64_t boot;
	uint32_t segno;
	uint64_t max_bytes, seg_bytes;
	uint64_t block_seq, next_event;
	struct seg *seg;        /* segments on disk, oldest first; the last
				 * is the one being written */
	unsigned n_seg, cap_seg;
	uint64_t bytes;
};

static int push_seg(struct ps_spool_writer *w, const char *name, uint64_t size)
{
	if (w->n_seg == w->cap_seg) {
		unsigned cap = w->cap_seg ? w->cap_seg * 2 : 64;
		void *nv = realloc(w->seg, cap * sizeof(*w->seg));
		if (!nv)
			return -1;
		w->seg = nv;
		w->cap_seg = cap;
	}
	struct seg *s = &w->seg[w->n_seg++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->size = size;
	w->bytes += size;
	return 0;
}

/* The boot id in the counter file: 1 read, 0 no file, -1 unreadable. */
static int read_boot_file(int dirfd, uint64_t *boot)
{
	char buf[32] = "";
	int fd = openat(dirfd, BOOT_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k != 17 || buf[16] != '\n' ||
	    strspn(buf, "0123456789abcdef") != 16) {
		errno = EINVAL;
		return -1;
	}
	*boot = strtoull(buf, NULL, 16);
	return 1;
}

/* The highest boot id this spool has seen: the counter file's, or a
 * segment's name if higher (segments of the version before the counter). */
static int last_boot(int dirfd, const char *dir, uint64_t *last, char *err,
		     size_t errlen)
{
	*last = 0;
	if (read_boot_file(dirfd, last) < 0) {
		snprintf(err, errlen, "%s/%s: %s (it should hold the last "
			 "boot id, 16 hex digits; remove it to take the "
			 "segments' names instead)", dir, BOOT_FILE,
			 errno == EINVAL ? "not a boot id" : strerror(errno));
		return -1;
	}
	unsigned n;
	char (*names)[PS_SPOOL_NAME] = list_segments(dirfd, &n);
	if (n) {
		uint64_t b = strtoull(names[n - 1], NULL, 16);
		*last = b > *last ? b : *last;
	}
	free(names);
	return 0;
}

/* Store boot as the last boot id, durably, before any of its segments. */
static int save_boot(int dirfd, uint64_t boot)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%016" PRIx64 "\n", boot);
	int fd = openat(dirfd, BOOT_TMP,
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	int ok = write(fd, buf, (size_t)len) == len && fsync(fd) == 0;
	int e = errno;
	close(fd);
	if (!ok || renameat(dirfd, BOOT_TMP, dirfd, BOOT_FILE) ||
	    fsync(dirfd)) {
		if (!ok)
			errno = e ? e : EIO;
		return -1;
	}
	return 0;
}

/* This boot's id: the clock's reading if it is past the last boot's id,
 * else the last boot's id + 1, so that ids only ever grow (and segment
 * names sort in writing order) whatever the clock says. */
static int new_boot(struct ps_spool_writer *w, const char *dir,
		    uint64_t clock_ns, char *err, size_t errlen)
{
	uint64_t last;
	if (last_boot(w->dirfd, dir, &last, err, errlen))
		return -1;
	if (last == UINT64_MAX) {
		snprintf(err, errlen, "%s: boot ids used up", dir);
		return -1;
	}
	w->boot = clock_ns > last ? clock_ns : last + 1;
	if (save_boot(w->dirfd, w->boot)) {
		snprintf(err, errlen, "%s/%s: %s", dir, BOOT_FILE,
			 strerror(errno));
		return -1;
	}
	return 0;
}

struct ps_spool_writer *ps_spool_open(const char *dir, uint64_t max_bytes,
				      uint64_t seg_bytes, uint64_t clock_ns,
				      char *err, size_t errlen)
{
	if (mkdir(dir, 0750) && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	struct ps_spool_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	w->fd = -1;
	if (w->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(w);
		return NULL;
	}
	if (new_boot(w, dir, clock_ns, err, errlen)) {
		close(w->dirfd);
		free(w);
		return NULL;
	}
	w->max_bytes = max_bytes;
	w->seg_bytes = seg_bytes;
	w->next_event = 1;
	/* what earlier boots left for the agent counts against the bound */
	unsigned n;
	char (*names)[PS_SPOOL_NAME] = list_segments(w->dirfd, &n);
	for (unsigned i = 0; i < n; i++)
		push_seg(w, names[i], file_size(w->dirfd, names[i]));
	free(names);
	return w;
}

/* Forget the oldest segments the agent has deleted. */
static void reclaim(struct ps_spool_writer *w)
{
	unsigned gone = 0;
	while (gone + 1 < w->n_seg &&
	       faccessat(w->dirfd, w->seg[gone].name, F_OK, 0) != 0) {
		w->bytes -= w->seg[gone].size;
		gone++;
	}
	if (gone) {
		memmove(w->seg, w->seg + gone,
			(w->n_seg - gone) * sizeof(*w->seg));
		w->n_seg -= gone;
	}
}

/* Close the segment being written: the next block goes to a new one. */
static void seal(struct ps_spool_writer *w)
{
	close(w->fd);
	w->fd = -1;
	w->segno++;
}

static int rotate(struct ps_spool_writer *w)
{
	if (w->fd >= 0)
		seal(w);
	char name[PS_SPOOL_NAME];
	snprintf(name, sizeof(name), "%016" PRIx64 "-%08" PRIx32 ".spool",
		 w->boot, w->segno);
	w->fd = openat(w->dirfd, name,
		       O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (w->fd < 0)
		return -1;
	if (push_seg(w, name, 0)) {
		close(w->fd);
		w->fd = -1;
		unlinkat(w->dirfd, name, 0);
		return -1;
	}
	reclaim(w);
	return 0;
}

/* A block write failed part-way: cut the segment back to its last whole
 * block, so that the blocks after it follow whole blocks only. If even
 * that fails, seal the segment: the reader skips a torn tail once a newer
 * segment exists. errno stays the write's. */
static void cut_back(struct ps_spool_writer *w)
{
	int e = errno;
	struct seg *s = &w->seg[w->n_seg - 1];
	if (ftruncate(w->fd, (off_t)s->size)) {
		struct stat st;
		if (fstat(w->fd, &st) == 0 && (uint64_t)st.st_size > s->size) {
			w->bytes += (uint64_t)st.st_size - s->size;
			s->size = (uint64_t)st.st_size;
		}
		seal(w);
	}
	errno = e;
}

static int write_all_v(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t k = writev(fd, iov, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		while (n && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

int ps_spool_append(struct ps_spool_writer *w, const void *payload,
		    uint32_t len, uint32_t count)
{
	uint64_t first = w->next_event;
	w->next_event += count;    /* refused events leave a gap in the numbers */
	if (len > PS_SPOOL_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	uint64_t need = PS_SPOOL_HDR + (uint64_t)len;
	if (w->bytes + need > w->max_bytes) {
		reclaim(w);
		if (w->bytes + need > w->max_bytes)
			return 1;
	}
	if ((w->fd < 0 || w->seg[w->n_seg - 1].size >= w->seg_bytes) &&
	    rotate(w))
		return -1;
	uint8_t h[PS_SPOOL_HDR];
	memcpy(h, MAGIC, 4);
	put32(h + 4, len);
	put64(h + 8, w->block_seq + 1);
	put64(h + 16, first);
	put32(h + 24, count);
	put32(h + 28, (uint32_t)crc32(0, payload, len));
	struct iovec iov[2] = { { h, PS_SPOOL_HDR },
				{ (void *)(uintptr_t)payload, len } };
	if (write_all_v(w->fd, iov, 2)) {
		cut_back(w);
		return -1;
	}
	w->block_seq++;
	w->seg[w->n_seg - 1].size += need;
	w->bytes += need;
	return 0;
}

uint64_t ps_spool_boot(const struct ps_spool_writer *w)
{
	return w->boot;
}

uint64_t ps_spool_bytes(const struct ps_spool_writer *w)
{
	return w->bytes;
}

void ps_spool_close(struct ps_spool_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	close(w->dirfd);
	free(w->seg);
	free(w);
}

/* ================================================================ reader */

struct ps_spool_reader {
	int dirfd, fd;
	char open_name[PS_SPOOL_NAME];
	struct ps_spool_pos pos;
	char *buf;
	uint64_t torn;
	uint8_t scan[16384];    /* for whole blocks after torn bytes */
};

struct ps_spool_reader *ps_spool_reader_open(const char *dir, char *err,
					     size_t errlen)
{
	struct ps_spool_reader *r = calloc(1, sizeof(*r));
	if (r)
		r->buf = malloc(PS_SPOOL_MAX_PAYLOAD);
	if (!r || !r->buf) {
		snprintf(err, errlen, "out of memory");
		if (r)
			free(r);
		return NULL;
	}
	r->fd = -1;
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(r->buf);
		free(r);
		return NULL;
	}
	return r;
}

void ps_spool_seek(struct ps_spool_reader *r, const struct ps_spool_pos *pos)
{
	r->pos = *pos;
}

/* The first segment named after `after` ("" for the very first); 0 if none. */
static int next_segment(struct ps_spool_reader *r, const char *after,
			char *out)
{
	unsigned n;
	char (*v)[PS_SPOOL_NAME] = list_segments(r->dirfd, &n);
	int found = 0;
	for (unsigned i = 0; i < n && !found; i++)
		if (strcmp(v[i], after) > 0) {
			snprintf(out, PS_SPOOL_NAME, "%s", v[i]);
			found = 1;
		}
	free(v);
	return found;
}

static int open_current(struct ps_spool_reader *r)
{
	if (r->fd >= 0 && !strcmp(r->open_name, r->pos.segment))
		return 0;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = openat(r->dirfd, r->pos.segment, O_RDONLY | O_CLOEXEC);
	snprintf(r->open_name, sizeof(r->open_name), "%s", r->pos.segment);
	return r->fd >= 0 ? 0 : -1;
}

/* Whether a whole block starts at off of the open segment: 1 (then in b),
 * 0 not a block, -1 the start of one whose bytes are not all there, or no
 * bytes there at all (yet). The end of the data is not "no block": bytes
 * appended just after it was read are a block being written, and taking
 * them for torn bytes would skip that block when a second one follows it
 * by the time they are searched (skip_torn). */
static int block_at(struct ps_spool_reader *r, uint64_t off,
		    struct ps_spool_block *b)
{
	uint8_t h[PS_SPOOL_HDR];
	ssize_t k = pread(r->fd, h, sizeof(h), (off_t)off);
	if (k <= 0)
		return -1;
	if (memcmp(h, MAGIC, k < 4 ? (size_t)k : 4))
		return 0;
	if (k < PS_SPOOL_HDR)
		return -1;
	uint32_t len = get32(h + 4);
	if (len > PS_SPOOL_MAX_PAYLOAD)
		return 0;
	ssize_t got = pread(r->fd, r->buf, len, (off_t)(off + PS_SPOOL_HDR));
	if (got < (ssize_t)len)
		return -1;
	if ((uint32_t)crc32(0, (const Bytef *)r->buf, len) != get32(h + 28))
		return 0;
	b->boot = strtoull(r->pos.segment, NULL, 16);
	b->seq = get64(h + 8);
	b->first_event = get64(h + 16);
	b->count = get32(h + 24);
	b->len = len;
	b->payload = r->buf;
	b->end = r->pos;
	b->end.offset = off + PS_SPOOL_HDR + len;
	return 1;
}

/* The block at the reader's position: 1 when whole (the position moves
 * past it), 0 no block there, -1 the start of one whose bytes are not all
 * there (block_at). */
static int take_block(struct ps_spool_reader *r, struct ps_spool_block *b)
{
	if (r->fd < 0)
		return 0;
	int v = block_at(r, r->pos.offset, b);
	if (v == 1)
		r->pos = b->end;
	return v;
}

static int bytes_past_pos(const struct ps_spool_reader *r)
{
	struct stat st;
	return r->fd >= 0 && fstat(r->fd, &st) == 0 &&
	       (uint64_t)st.st_size > r->pos.offset;
}

/* The first whole block after off in the open segment: 1 (its offset in
 * *found) or 0. In a segment still being written (!finished) the search
 * stops at a block whose bytes are not all there yet. */
static int find_block_after(struct ps_spool_reader *r, uint64_t off,
			    int finished, uint64_t *found)
{
	struct ps_spool_block b;
	uint64_t p = off + 1;
	for (;;) {
		ssize_t k = pread(r->fd, r->scan, sizeof(r->scan), (off_t)p);
		if (k < 4)
			return 0;
		for (ssize_t i = 0; i + 4 <= k; i++) {
			if (r->scan[i] != MAGIC[0] ||
			    memcmp(r->scan + i, MAGIC, 4))
				continue;
			int v = block_at(r, p + (uint64_t)i, &b);
			if (v == 1) {
				*found = p + (uint64_t)i;
				return 1;
			}
			if (v < 0 && !finished)
				return 0;
		}
		p += (uint64_t)k - 3;
	}
}

/* Bytes at the position that are no block, followed by a whole block in
 * the same segment, are torn (a block cut short, with blocks appended
 * after it by an older writer, or a sealed segment): skip to that block. */
static int skip_torn(struct ps_spool_reader *r, int finished)
{
	uint64_t next;
	if (!bytes_past_pos(r) ||
	    !find_block_after(r, r->pos.offset, finished, &next))
		return 0;
	r->torn++;
	r->pos.offset = next;
	return 1;
}

int ps_spool_read(struct ps_spool_reader *r, struct ps_spool_block *b)
{
	for (;;) {
		if (!r->pos.segment[0]) {
			if (!next_segment(r, "", r->pos.segment))
				return 0;
			r->pos.offset = 0;
		}
		open_current(r);
		int at = take_block(r, b);
		if (at == 1)
			return 1;
		/* a block not all there in the newest segment is one being
		 * written: wait for it (its payload may hold a block's bytes,
		 * which are no block); bytes that are no block at all are torn */
		if (at == 0 && skip_torn(r, 0))
			continue;
		/* at the end of this segment, or at a block still being
		 * written: the writer only ever appends to the newest
		 * segment, so with a newer one this one is finished */
		char next[PS_SPOOL_NAME];
		if (!next_segment(r, r->pos.segment, next))
			return 0;
		if (take_block(r, b) == 1)
			return 1;    /* finished just before the rotation */
		if (skip_torn(r, 1))
			continue;
		if (bytes_past_pos(r))
			r->torn++;
		snprintf(r->pos.segment, sizeof(r->pos.segment), "%s", next);
		r->pos.offset = 0;
	}
}

void ps_spool_release(struct ps_spool_reader *r,
		      const struct ps_spool_pos *pos)
{
	unsigned n;
	char (*v)[PS_SPOOL_NAME] = list_segments(r->dirfd, &n);
	for (unsigned i = 0; i < n && strcmp(v[i], pos->segment) < 0; i++)
		unlinkat(r->dirfd, v[i], 0);
	free(v);
}

uint64_t ps_spool_backlog(struct ps_spool_reader *r,
			  const struct ps_spool_pos *pos)
{
	unsigned n;
	char (*v)[PS_SPOOL_NAME] = list_segments(r->dirfd, &n);
	uint64_t sum = 0;
	for (unsigned i = 0; i < n; i++) {
		int c = strcmp(v[i], pos->segment);
		if (c < 0)
			continue;
		uint64_t sz = file_size(r->dirfd, v[i]);
		sum += c == 0 ? (sz > pos->offset ? sz - pos->offset : 0) : sz;
	}
	free(v);
	return sum;
}

uint64_t ps_spool_torn(const struct ps_spool_reader *r)
{
	return r->torn;
}

void ps_spool_reader_close(struct ps_spool_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	close(r->dirfd);
	free(r->buf);
	free(r);
}

int ps_spool_pos_parse(const char *s, struct ps_spool_pos *pos)
{
	char name[PS_SPOOL_NAME];
	unsigned long long off;
	if (sscanf(s, "%39s %llu", name, &off) != 2 || !is_segment(name))
		return -1;
	snprintf(pos->segment, sizeof(pos->segment), "%s", name);
	pos->offset = off;
	return 0;
}
