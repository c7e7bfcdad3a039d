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

struct worker_ctx {
	struct rte_ring *ring;
	struct ps_counters *cnt;
};

struct ps_exporter {
	FILE *out;
	pthread_t thread;
	volatile int stop;
	unsigned n;
	struct worker_ctx w[RTE_MAX_LCORE];
	uint64_t written;
};

void ps_export_push(void *ctx, const struct ps_event *ev, unsigned n)
{
	struct worker_ctx *w = ctx;
	unsigned done = rte_ring_sp_enqueue_burst_elem(w->ring, ev,
						       sizeof(*ev), n, NULL);
	w->cnt->export_events += done;
	w->cnt->export_dropped += n - done;
}

static void write_event(FILE *f, const struct ps_event *e)
{
	char wb[PS_WAYBILL_LEN * 4 + 1];
	size_t k = 0;
	for (unsigned i = 0; i < PS_WAYBILL_LEN && e->waybill[i]; i++) {
		uint8_t c = e->waybill[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			wb[k++] = (char)c;
		else
			k += (size_t)sprintf(wb + k, "\\u%04x", c);
	}
	wb[k] = 0;
	fprintf(f, "{\"waybill\":\"%s\",\"event_seq\":%u,\"site\":%u,"
		   "\"device\":%u,\"scan_type\":\"%s\",\"ts_ms\":%llu,"
		   "\"region\":%llu,\"reason\":\"%s\",\"chute\":%u,"
		   "\"tier\":\"%s\",\"hub\":%u,\"plan_version\":%u,"
		   "\"matched_prefix\":%llu}\n",
		wb, e->event_seq, e->site, e->device,
		ps_scan_type_name(e->scan_type), (unsigned long long)e->ts_ms,
		(unsigned long long)e->region, ps_reason_name(e->reason),
		e->chute, ps_tier_name(e->tier), e->hub, e->plan_version,
		(unsigned long long)e->matched_prefix);
}

static unsigned drain(struct ps_exporter *x)
{
	struct ps_event ev[256];
	unsigned total = 0;
	for (unsigned i = 0; i < x->n; i++) {
		unsigned got = rte_ring_sc_dequeue_burst_elem(
			x->w[i].ring, ev, sizeof(ev[0]), 256, NULL);
		for (unsigned k = 0; k < got; k++)
			write_event(x->out, &ev[k]);
		total += got;
	}
	x->written += total;
	return total;
}

static void *writer(void *arg)
{
	struct ps_exporter *x = arg;
	while (!x->stop) {
		if (!drain(x)) {
			fflush(x->out);
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	while (drain(x))
		;
	fflush(x->out);
	return NULL;
}

struct ps_exporter *ps_export_start(const char *path, unsigned n_workers,
				    unsigned ring_size, char *err,
				    size_t errlen)
{
	struct ps_exporter *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->out = strcmp(path, "-") ? fopen(path, "a") : stdout;
	if (!x->out) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(x);
		return NULL;
	}
	x->n = n_workers;
	for (unsigned i = 0; i < n_workers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ps_export_%u", i);
		x->w[i].ring = rte_ring_create_elem(name, sizeof(struct ps_event),
						    ring_size, SOCKET_ID_ANY,
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

void ps_export_stop(struct ps_exporter *x)
{
	if (!x)
		return;
	x->stop = 1;
	pthread_join(x->thread, NULL);
	if (x->out != stdout)
		fclose(x->out);
	for (unsigned i = 0; i < x->n; i++)
		rte_ring_free(x->w[i].ring);
	free(x);
}

uint64_t ps_export_written(const struct ps_exporter *x)
{
	return x ? x->written : 0;
}
