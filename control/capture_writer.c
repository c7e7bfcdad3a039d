/* capture_writer.c: one capture at a time: its file, the writer thread
 * that drains the workers' rings into it, its limits and its status (see
 * capture_writer.h). */
#include "capture_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ps_clock.h"

#define PCAP_MAGIC_US     0xa1b2c3d4u
#define LINKTYPE_ETHERNET 1u
#define PCAP_GLOBAL_BYTES 24u
#define PCAP_RECORD_BYTES 16u
/* the writer naps this long when every ring is empty */
#define IDLE_NAP_US       200u
/* how long the workers get to follow a switch (they do it between two
 * bursts, or after an --idle-sleep-us nap) */
#define SWITCH_WAIT_MS    2000u

struct session {
	char path[4096];
	int fd;
	uint32_t duration_s, max_mb, sample;
	uint64_t max_bytes;
	uint64_t start_wall_ns, start_tsc, start_mono_ns, end_mono_ns;
	/* written by the writer thread, read by status (relaxed) */
	uint64_t captured;       /* records in the file (or its block) */
	uint64_t bytes;          /* the file's bytes, header included */
	uint64_t discarded;      /* taken from a ring but not written: the
				  * limit was reached or a write failed */
	int stop_asked;          /* atomic: `capture stop` or daemon exit */
	const char *stop_reason; /* what stop_asked stops by */
	int running;             /* atomic: the writer thread has not ended */
	int workers_followed;    /* every worker acknowledged the switches */
	char stopped_by[256];    /* set when it ends (under w->lock) */
	struct ps_capture_totals final;
	pthread_t thread;
	int joinable;
	/* the block being filled */
	uint8_t *block;
	size_t block_len;
	uint64_t block_records;
	uint64_t written;        /* the file's bytes on disk: whole blocks */
	uint64_t last_flush_ns;
	int keep;                /* 0 once the limit or a write error ends it */
};

struct ps_capture_writer {
	struct ps_capture *cap;
	char pdump[256];
	pthread_mutex_t lock;    /* stopped_by, the session's start and end */
	int ever;                /* a capture was started */
	uint64_t *end;           /* per ring: where this drain pass ends */
	struct session s;
};

struct ps_capture_writer *ps_capture_writer_new(struct ps_capture *cap,
						const char *pdump)
{
	struct ps_capture_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->s.block = malloc(PS_CAPTURE_BLOCK_BYTES);
	w->end = calloc(cap->n ? cap->n : 1, sizeof(*w->end));
	if (!w->s.block || !w->end) {
		free(w->s.block);
		free(w->end);
		free(w);
		return NULL;
	}
	w->cap = cap;
	w->s.fd = -1;
	snprintf(w->pdump, sizeof(w->pdump), "%s", pdump ? pdump : "unknown");
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

const char *ps_capture_pdump(const struct ps_capture_writer *w)
{
	return w->pdump;
}

/* ------------------------------------------------------------ the file */

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* The global header, in the host's byte order (readers take both). */
static int write_header(int fd)
{
	uint8_t h[PCAP_GLOBAL_BYTES];
	memset(h, 0, sizeof(h));
	put32(h, PCAP_MAGIC_US);
	put16(h + 4, 2);
	put16(h + 6, 4);
	put32(h + 16, PS_CAPTURE_SNAP);
	put32(h + 20, LINKTYPE_ETHERNET);
	return write_all(fd, h, sizeof(h));
}

static void set_stopped_by(struct ps_capture_writer *w, const char *why)
{
	pthread_mutex_lock(&w->lock);
	if (!w->s.stopped_by[0])
		snprintf(w->s.stopped_by, sizeof(w->s.stopped_by), "%s", why);
	pthread_mutex_unlock(&w->lock);
}

/* The block to the file: whole records only, so a reader of a file whose
 * daemon was killed sees every record before the last block. */
static void flush_block(struct ps_capture_writer *w)
{
	struct session *s = &w->s;
	s->last_flush_ns = ps_mono_ns();
	if (!s->block_len)
		return;
	if (write_all(s->fd, s->block, s->block_len)) {
		char why[200];
		snprintf(why, sizeof(why), "write error: %s", strerror(errno));
		set_stopped_by(w, why);
		s->keep = 0;
		/* a block written in part (a full disk) is taken back, so
		 * that the file still ends with a whole record; its records
		 * were not captured after all */
		if (ftruncate(s->fd, (off_t)s->written))
			set_stopped_by(w, "write error: cannot cut the file "
				       "back to its last whole record");
		__atomic_fetch_sub(&s->captured, s->block_records,
				   __ATOMIC_RELAXED);
		__atomic_fetch_add(&s->discarded, s->block_records,
				   __ATOMIC_RELAXED);
		__atomic_store_n(&s->bytes, s->written, __ATOMIC_RELAXED);
	} else {
		s->written += s->block_len;
	}
	s->block_len = 0;
	s->block_records = 0;
}

/* ------------------------------------------------------ the writer */

static void append(struct ps_capture_writer *w,
		   const struct ps_capture_slot *sl)
{
	struct session *s = &w->s;
	size_t rec = PCAP_RECORD_BYTES + sl->caplen;
	uint64_t bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	if (!s->keep || bytes + rec > s->max_bytes) {
		if (s->keep) {
			set_stopped_by(w, "max-mb");
			s->keep = 0;
		}
		__atomic_fetch_add(&s->discarded, 1, __ATOMIC_RELAXED);
		return;
	}
	if (s->block_len + rec > PS_CAPTURE_BLOCK_BYTES)
		flush_block(w);
	if (!s->keep) {
		__atomic_fetch_add(&s->discarded, 1, __ATOMIC_RELAXED);
		return;
	}
	int64_t dt = (int64_t)(sl->tsc - s->start_tsc);
	double ns = (double)s->start_wall_ns +
		    (double)dt * 1e9 / (double)w->cap->tsc_hz;
	uint64_t us = (uint64_t)(ns / 1000.0);
	uint8_t *p = s->block + s->block_len;
	put32(p, (uint32_t)(us / 1000000u));
	put32(p + 4, (uint32_t)(us % 1000000u));
	put32(p + 8, sl->caplen);
	put32(p + 12, sl->len);
	memcpy(p + PCAP_RECORD_BYTES, sl->data, sl->caplen);
	s->block_len += rec;
	s->block_records++;
	__atomic_store_n(&s->bytes, bytes + rec, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->captured, 1, __ATOMIC_RELAXED);
}

/* What the rings hold now (their heads, read once: frames published
 * after wait for the next pass, so a pass ends however fast the workers
 * hand over), oldest first across the rings: each ring is in its worker's
 * time order, and the writer takes the oldest of their next frames, so
 * the file is in time order whatever worker a frame came from. Returns
 * the frames taken. */
static uint64_t drain(struct ps_capture_writer *w)
{
	struct ps_capture *c = w->cap;
	uint64_t n = 0;
	for (unsigned i = 0; i < c->n; i++)
		w->end[i] = __atomic_load_n(&c->rings[i].head,
					    __ATOMIC_ACQUIRE);
	for (;;) {
		struct ps_capture_ring *best = NULL;
		uint64_t best_tsc = 0;
		for (unsigned i = 0; i < c->n; i++) {
			struct ps_capture_ring *r = &c->rings[i];
			if (r->tail == w->end[i])
				continue;
			uint64_t tsc = r->slots[r->tail & r->mask].tsc;
			if (!best || (int64_t)(tsc - best_tsc) < 0) {
				best = r;
				best_tsc = tsc;
			}
		}
		if (!best)
			return n;
		append(w, &best->slots[best->tail & best->mask]);
		ps_capture_release(best);
		n++;
	}
}

static void nap_us(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000 };
	nanosleep(&ts, NULL);
}

/* Switch the workers off and wait (bounded) until each has, draining
 * what they still hand over; then the last of it. */
static void switch_off(struct ps_capture_writer *w)
{
	struct session *s = &w->s;
	uint64_t until = ps_mono_ns() + (uint64_t)SWITCH_WAIT_MS * 1000000u;
	ps_capture_disarm(w->cap);
	while (!ps_capture_acked(w->cap) && ps_mono_ns() < until) {
		if (!drain(w))
			nap_us(IDLE_NAP_US);
	}
	if (!ps_capture_acked(w->cap))
		s->workers_followed = 0;
	drain(w);
}

static void *writer_main(void *arg)
{
	struct ps_capture_writer *w = arg;
	struct session *s = &w->s;
	uint64_t limit_ns = (uint64_t)s->duration_s * 1000000000u;
	for (;;) {
		uint64_t got = drain(w);
		uint64_t now = ps_mono_ns();
		if (s->block_len &&
		    now - s->last_flush_ns >= PS_CAPTURE_FLUSH_MS * 1000000ull)
			flush_block(w);
		if (__atomic_load_n(&s->stop_asked, __ATOMIC_ACQUIRE)) {
			set_stopped_by(w, s->stop_reason);
			break;
		}
		if (limit_ns && now - s->start_mono_ns >= limit_ns) {
			set_stopped_by(w, "duration");
			break;
		}
		if (!s->keep)
			break;          /* max-mb or a write error */
		if (!got)
			nap_us(IDLE_NAP_US);
	}
	switch_off(w);
	flush_block(w);
	if (fdatasync(s->fd) && errno != EINVAL)
		set_stopped_by(w, "write error: fdatasync failed");
	close(s->fd);
	s->fd = -1;
	ps_capture_totals(w->cap, &s->final);
	pthread_mutex_lock(&w->lock);
	s->end_mono_ns = ps_mono_ns();
	pthread_mutex_unlock(&w->lock);
	__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* ---------------------------------------------------- start and stop */

static void join(struct ps_capture_writer *w)
{
	if (w->s.joinable) {
		pthread_join(w->s.thread, NULL);
		w->s.joinable = 0;
	}
}

static int check_opts(const struct ps_capture_opts *o, char *err, size_t n)
{
	if (!o->path || o->path[0] != '/') {
		snprintf(err, n, "capture start: FILE must be an absolute path "
			 "(parcelsortctl makes it one)");
		return -1;
	}
	if (strlen(o->path) >= sizeof(((struct session *)0)->path)) {
		snprintf(err, n, "capture start: FILE is too long");
		return -1;
	}
	if (o->duration_s > PS_CAPTURE_MAX_DURATION_S) {
		snprintf(err, n, "capture start: --duration is 1..%u seconds",
			 PS_CAPTURE_MAX_DURATION_S);
		return -1;
	}
	if (o->max_mb < 1 || o->max_mb > PS_CAPTURE_MAX_MB_LIMIT) {
		snprintf(err, n, "capture start: --max-mb is 1..%u",
			 PS_CAPTURE_MAX_MB_LIMIT);
		return -1;
	}
	if (o->sample < 1 || o->sample > PS_CAPTURE_MAX_SAMPLE) {
		snprintf(err, n, "capture start: --sample is 1/K with K "
			 "1..%u", PS_CAPTURE_MAX_SAMPLE);
		return -1;
	}
	return 0;
}

static int open_file(const char *path, char *err, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		struct stat st;
		/* O_EXCL sees a symbolic link as existing: say which */
		if (e == EEXIST && !lstat(path, &st) && S_ISLNK(st.st_mode))
			e = ELOOP;
		if (e == EEXIST)
			snprintf(err, n, "capture start: %s exists (a capture "
				 "never overwrites a file)", path);
		else if (e == ELOOP)
			snprintf(err, n, "capture start: %s is a symbolic "
				 "link", path);
		else
			snprintf(err, n, "capture start: %s: %s", path,
				 strerror(e));
		return -1;
	}
	/* exactly 0640, whatever the daemon's umask */
	if (fchmod(fd, 0640) || write_header(fd)) {
		snprintf(err, n, "capture start: %s: %s", path,
			 strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int ps_capture_start(struct ps_capture_writer *w,
		     const struct ps_capture_opts *o, char *err, size_t n)
{
	struct session *s = &w->s;
	if (__atomic_load_n(&s->running, __ATOMIC_ACQUIRE)) {
		snprintf(err, n, "capture start: a capture is already running "
			 "(%s); one at a time: `capture stop` first", s->path);
		return PS_CAPTURE_REFUSED;
	}
	join(w);
	if (check_opts(o, err, n))
		return PS_CAPTURE_BAD_OPTION;
	if (!ps_capture_acked(w->cap)) {
		snprintf(err, n, "capture start: the workers have not "
			 "followed the last stop yet; try again");
		return PS_CAPTURE_REFUSED;
	}
	int fd = open_file(o->path, err, n);
	if (fd < 0)
		return PS_CAPTURE_REFUSED;
	uint8_t *block = s->block;
	memset(s, 0, sizeof(*s));
	s->block = block;
	snprintf(s->path, sizeof(s->path), "%s", o->path);
	s->fd = fd;
	s->duration_s = o->duration_s;
	s->max_mb = o->max_mb;
	s->sample = o->sample;
	s->max_bytes = (uint64_t)o->max_mb << 20;
	s->bytes = PCAP_GLOBAL_BYTES;
	s->written = PCAP_GLOBAL_BYTES;
	s->keep = 1;
	s->workers_followed = 1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->start_wall_ns = (uint64_t)ts.tv_sec * 1000000000u +
			   (uint64_t)ts.tv_nsec;
	s->start_tsc = __builtin_ia32_rdtsc();
	s->start_mono_ns = ps_mono_ns();
	s->last_flush_ns = s->start_mono_ns;
	ps_capture_arm(w->cap, o->sample);
	/* the workers follow between two bursts: wait for them, so that
	 * what is sent after `capture start` returns is in the capture */
	uint64_t until = ps_mono_ns() + (uint64_t)SWITCH_WAIT_MS * 1000000u;
	while (!ps_capture_acked(w->cap) && ps_mono_ns() < until)
		nap_us(IDLE_NAP_US);
	if (!ps_capture_acked(w->cap))
		s->workers_followed = 0;
	__atomic_store_n(&s->running, 1, __ATOMIC_RELEASE);
	w->ever = 1;
	if (pthread_create(&s->thread, NULL, writer_main, w)) {
		ps_capture_disarm(w->cap);
		__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
		close(fd);
		unlink(o->path);
		w->ever = 0;
		snprintf(err, n, "capture start: cannot start the writer "
			 "thread");
		return PS_CAPTURE_REFUSED;
	}
	pthread_setname_np(s->thread, "ps-capture");
	s->joinable = 1;
	return 0;
}

static void ask_stop(struct ps_capture_writer *w, const char *reason)
{
	w->s.stop_reason = reason;
	__atomic_store_n(&w->s.stop_asked, 1, __ATOMIC_RELEASE);
	join(w);
}

int ps_capture_stop(struct ps_capture_writer *w, char *err, size_t n)
{
	if (!__atomic_load_n(&w->s.running, __ATOMIC_ACQUIRE)) {
		if (w->ever)
			snprintf(err, n, "capture stop: no capture is running "
				 "(the last one stopped by %s)",
				 w->s.stopped_by);
		else
			snprintf(err, n, "capture stop: no capture is running");
		return -1;
	}
	ask_stop(w, "stop");
	return 0;
}

void ps_capture_writer_free(struct ps_capture_writer *w)
{
	if (!w)
		return;
	if (__atomic_load_n(&w->s.running, __ATOMIC_ACQUIRE))
		ask_stop(w, "daemon exit");
	join(w);
	pthread_mutex_destroy(&w->lock);
	free(w->s.block);
	free(w->end);
	free(w);
}

/* ------------------------------------------------------------ status */

void ps_capture_status_json(struct ps_capture_writer *w, struct ps_out *o)
{
	struct session *s = &w->s;
	int running = __atomic_load_n(&s->running, __ATOMIC_ACQUIRE);
	ps_out_printf(o, "{\"running\":%s,\"pdump\":",
		      running ? "true" : "false");
	ps_out_json_str(o, w->pdump);
	if (!w->ever) {
		ps_out_write(o, ",\"file\":null}", 13);
		return;
	}
	struct ps_capture_totals t;
	char stopped_by[256];
	pthread_mutex_lock(&w->lock);
	uint64_t end = running ? ps_mono_ns() : s->end_mono_ns;
	snprintf(stopped_by, sizeof(stopped_by), "%s", s->stopped_by);
	pthread_mutex_unlock(&w->lock);
	if (running)
		ps_capture_totals(w->cap, &t);
	else
		t = s->final;
	uint64_t captured = __atomic_load_n(&s->captured, __ATOMIC_RELAXED);
	uint64_t discarded = __atomic_load_n(&s->discarded, __ATOMIC_RELAXED);
	ps_out_write(o, ",\"file\":", 8);
	ps_out_json_str(o, s->path);
	ps_out_printf(o, ",\"duration_s\":%u,\"max_mb\":%u,\"sample\":%u,"
		      "\"elapsed_s\":%.3f,\"captured\":%llu,\"dropped\":%llu,"
		      "\"dropped_ring_full\":%llu,\"dropped_at_limit\":%llu,"
		      "\"sampled_out\":%llu,\"requests\":%llu,"
		      "\"in_flight\":%llu,\"bytes\":%llu,"
		      "\"workers_followed\":%s,\"stopped_by\":",
		      s->duration_s, s->max_mb, s->sample,
		      (double)(end - s->start_mono_ns) / 1e9,
		      (unsigned long long)captured,
		      (unsigned long long)(t.ring_full + discarded),
		      (unsigned long long)t.ring_full,
		      (unsigned long long)discarded,
		      (unsigned long long)t.sampled_out,
		      (unsigned long long)t.requests,
		      (unsigned long long)(t.pushed > captured + discarded
					   ? t.pushed - captured - discarded
					   : 0),
		      (unsigned long long)__atomic_load_n(&s->bytes,
							  __ATOMIC_RELAXED),
		      s->workers_followed ? "true" : "false");
	if (running)
		ps_out_write(o, "null", 4);
	else
		ps_out_json_str(o, stopped_by);
	ps_out_write(o, "}", 1);
}
