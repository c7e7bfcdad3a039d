/* export.c: the event exporter (see export.h). */
#include "export.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ps_spool.h"

/* A block closes at this many events or bytes, or when the rings are empty
 * (so an event waits at most about a millisecond). */
#define BLOCK_EVENTS 256
#define BLOCK_BYTES (96u << 10)
#define EVENT_MAX 640            /* one formatted event, with margin */
/* Segments of at most 8 MB and at most an eighth of the bound, so the
 * agent frees space in steps well below it. */
#define SPOOL_SEGMENT_MAX (8u << 20)
#define SPOOL_SEGMENT_MIN (64u << 10)

struct worker_ctx {
	struct rte_ring *ring;
	struct ps_counters *cnt;
};

struct ps_exporter {
	FILE *out;
	struct ps_spool_writer *spool;
	pthread_t thread;
	volatile int stop;
	unsigned n;
	struct worker_ctx w[RTE_MAX_LCORE];
	uint64_t next_seq;               /* export_seq of the next event */
	char block[BLOCK_BYTES + EVENT_MAX];
	uint32_t block_len, block_events;
	struct ps_export_totals tot;
	uint64_t overflow_since;         /* events refused in this overflow */
	int overflowing;
};

void ps_export_push(void *ctx, const struct ps_event *ev, unsigned n)
{
	struct worker_ctx *w = ctx;
	unsigned done = rte_ring_sp_enqueue_burst_elem(w->ring, ev,
						       sizeof(*ev), n, NULL);
	w->cnt->export_events += done;
	w->cnt->export_dropped += n - done;
}

/* Bytes as a JSON string's contents (printable ASCII kept, the rest
 * escaped); n at most 24. */
static void json_text(char *out, const uint8_t *s, unsigned n)
{
	size_t k = 0;
	for (unsigned i = 0; i < n && s[i]; i++) {
		uint8_t c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[k++] = (char)c;
		else
			k += (size_t)sprintf(out + k, "\\u%04x", c);
	}
	out[k] = 0;
}

/* A sort result: its own form, "event":"sort_result". */
static int format_sort_result(char *o, const struct ps_event *e,
			      const char *wb, uint64_t seq)
{
	return snprintf(o, EVENT_MAX,
		"{\"event\":\"sort_result\",\"waybill\":\"%s\","
		"\"event_seq\":%u,\"site\":%u,\"status\":\"%s\","
		"\"chute\":%u,\"missort\":%s,\"remembered\":%s,"
		"\"ts_ms\":%llu,\"plan_version\":%u,\"export_seq\":%llu}\n",
		wb, e->event_seq, e->site, ps_sort_status_name(e->status),
		e->chute, e->missort ? "true" : "false",
		e->known ? "true" : "false", (unsigned long long)e->ts_ms,
		e->plan_version, (unsigned long long)seq);
}

static const char *region_source(uint8_t src)
{
	return src == PS_REGION_SCANNER ? "scanner"
	       : src == PS_REGION_MANIFEST ? "manifest" : "none";
}

/* A scan and its decision: the fields of the first form, then the rest
 * of the record (weight, dimensions, service, carrier), so that a replay
 * has the whole record. */
static int format_event(char *o, const struct ps_event *e, uint64_t seq)
{
	char wb[PS_WAYBILL_LEN * 6 + 1], car[2 * 6 + 1];
	json_text(wb, e->waybill, PS_WAYBILL_LEN);
	if (e->type == PS_EVENT_SORT_RESULT)
		return format_sort_result(o, e, wb, seq);
	uint8_t cb[2] = { (uint8_t)(e->carrier >> 8), (uint8_t)e->carrier };
	json_text(car, cb, 2);
	return snprintf(o, EVENT_MAX,
		"{\"waybill\":\"%s\",\"event_seq\":%u,\"site\":%u,"
		"\"device\":%u,\"scan_type\":\"%s\",\"ts_ms\":%llu,"
		"\"region\":%llu,\"reason\":\"%s\",\"chute\":%u,"
		"\"tier\":\"%s\",\"hub\":%u,\"plan_version\":%u,"
		"\"matched_prefix\":%llu,\"weight_g\":%u,\"length_mm\":%u,"
		"\"width_mm\":%u,\"height_mm\":%u,\"service\":%u,"
		"\"carrier\":\"%s\",\"region_used\":%llu,"
		"\"region_source\":\"%s\",\"export_seq\":%llu}\n",
		wb, e->event_seq, e->site, e->device,
		ps_scan_type_name(e->scan_type), (unsigned long long)e->ts_ms,
		(unsigned long long)e->region, ps_reason_name(e->reason),
		e->chute, ps_tier_name(e->tier), e->hub, e->plan_version,
		(unsigned long long)e->matched_prefix, e->weight_g,
		e->length_mm, e->width_mm, e->height_mm, e->service, car,
		(unsigned long long)e->region_used, region_source(e->region_src),
		(unsigned long long)seq);
}

static void add(uint64_t *v, uint64_t n)
{
	__atomic_store_n(v, *v + n, __ATOMIC_RELAXED);
}

/* Say so in the log when the spool fills up and when it takes events
 * again (the export thread's, never a worker's, output). */
static void report_overflow(struct ps_exporter *x, int refused)
{
	if (refused) {
		if (!x->overflowing)
			fprintf(stderr, "parcelsortd: export spool full (%.1f MB):"
				" events are dropped and counted until the "
				"agent catches up\n",
				ps_spool_bytes(x->spool) / 1048576.0);
		x->overflowing = 1;
		x->overflow_since += x->block_events;
	} else if (x->overflowing) {
		fprintf(stderr, "parcelsortd: export spool takes events again; "
			"%llu were dropped\n",
			(unsigned long long)x->overflow_since);
		x->overflowing = 0;
		x->overflow_since = 0;
	}
}

/* Write the block to the file and the spool, and start a new one. */
static void flush_block(struct ps_exporter *x)
{
	if (!x->block_events)
		return;
	int stored = 1;
	if (x->out)
		fwrite(x->block, 1, x->block_len, x->out);
	if (x->spool) {
		int r = ps_spool_append(x->spool, x->block, x->block_len,
					x->block_events);
		report_overflow(x, r > 0);
		if (r > 0)
			add(&x->tot.spool_overflow, x->block_events);
		else if (r < 0)
			add(&x->tot.spool_errors, x->block_events);
		stored = r == 0;
		__atomic_store_n(&x->tot.spool_bytes,
				 ps_spool_bytes(x->spool), __ATOMIC_RELAXED);
	}
	if (stored)
		add(&x->tot.written, x->block_events);
	add(&x->tot.blocks, 1);
	x->block_len = 0;
	x->block_events = 0;
}

static void add_event(struct ps_exporter *x, const struct ps_event *e)
{
	int k = format_event(x->block + x->block_len, e, x->next_seq++);
	x->block_len += (uint32_t)(k < EVENT_MAX ? k : EVENT_MAX - 1);
	if (++x->block_events == BLOCK_EVENTS || x->block_len >= BLOCK_BYTES)
		flush_block(x);
}

static unsigned drain(struct ps_exporter *x)
{
	struct ps_event ev[256];
	unsigned total = 0;
	for (unsigned i = 0; i < x->n; i++) {
		unsigned got = rte_ring_sc_dequeue_burst_elem(
			x->w[i].ring, ev, sizeof(ev[0]), 256, NULL);
		for (unsigned k = 0; k < got; k++)
			add_event(x, &ev[k]);
		total += got;
	}
	return total;
}

static void *writer(void *arg)
{
	struct ps_exporter *x = arg;
	while (!x->stop) {
		if (!drain(x)) {
			flush_block(x);
			if (x->out)
				fflush(x->out);
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	while (drain(x))
		;
	flush_block(x);
	if (x->out)
		fflush(x->out);
	return NULL;
}

static int open_outputs(struct ps_exporter *x, const struct ps_export_cfg *cfg,
			char *err, size_t errlen)
{
	if (cfg->path) {
		x->out = strcmp(cfg->path, "-") ? fopen(cfg->path, "a") : stdout;
		if (!x->out) {
			snprintf(err, errlen, "%s: %s", cfg->path,
				 strerror(errno));
			return -1;
		}
	}
	if (cfg->spool_dir) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		uint64_t boot = (uint64_t)now.tv_sec * 1000000000ull +
				(uint64_t)now.tv_nsec;
		uint64_t seg = cfg->spool_max_bytes / 8;
		seg = seg > SPOOL_SEGMENT_MAX ? SPOOL_SEGMENT_MAX
		      : seg < SPOOL_SEGMENT_MIN ? SPOOL_SEGMENT_MIN : seg;
		x->spool = ps_spool_open(cfg->spool_dir, cfg->spool_max_bytes,
					 seg, boot, err, errlen);
		if (!x->spool)
			return -1;
		x->tot.spool_bytes = ps_spool_bytes(x->spool);
	}
	return 0;
}

static void close_outputs(struct ps_exporter *x)
{
	if (x->out && x->out != stdout)
		fclose(x->out);
	ps_spool_close(x->spool);
}

struct ps_exporter *ps_export_start(const struct ps_export_cfg *cfg,
				    char *err, size_t errlen)
{
	struct ps_exporter *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->next_seq = 1;
	if (open_outputs(x, cfg, err, errlen)) {
		close_outputs(x);
		free(x);
		return NULL;
	}
	x->n = cfg->n_workers;
	for (unsigned i = 0; i < x->n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ps_export_%u", i);
		x->w[i].ring = rte_ring_create_elem(name, sizeof(struct ps_event),
						    cfg->ring_size,
						    SOCKET_ID_ANY,
						    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!x->w[i].ring) {
			snprintf(err, errlen, "cannot create export ring: %s",
				 rte_strerror(rte_errno));
			return NULL;
		}
	}
	if (pthread_create(&x->thread, NULL, writer, x)) {
		snprintf(err, errlen, "cannot start the export thread");
		return NULL;
	}
	return x;
}

void *ps_export_ctx(struct ps_exporter *x, unsigned worker,
		    struct ps_counters *cnt)
{
	x->w[worker].cnt = cnt;
	return &x->w[worker];
}

void ps_export_stop(struct ps_exporter *x, struct ps_export_totals *final)
{
	if (!x)
		return;
	x->stop = 1;
	pthread_join(x->thread, NULL);
	if (final)
		ps_export_totals(x, final);
	close_outputs(x);
	for (unsigned i = 0; i < x->n; i++)
		rte_ring_free(x->w[i].ring);
	free(x);
}

void ps_export_totals(const struct ps_exporter *x, struct ps_export_totals *t)
{
	memset(t, 0, sizeof(*t));
	if (!x)
		return;
	t->written = __atomic_load_n(&x->tot.written, __ATOMIC_RELAXED);
	t->blocks = __atomic_load_n(&x->tot.blocks, __ATOMIC_RELAXED);
	t->spool_overflow = __atomic_load_n(&x->tot.spool_overflow,
					    __ATOMIC_RELAXED);
	t->spool_errors = __atomic_load_n(&x->tot.spool_errors,
					  __ATOMIC_RELAXED);
	t->spool_bytes = __atomic_load_n(&x->tot.spool_bytes,
					 __ATOMIC_RELAXED);
}
