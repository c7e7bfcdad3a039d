/* rates.c: the counter baseline, the rates of the last second and the
 * minute samples of pieces per hour (see rates.h). A struct ps_counters is large (a count per chute), so the
 * view keeps its samples on the heap, not on a stack. */
#include "rates.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hour_rates.h"

struct ps_counters_view {
	ps_sum_counters_fn *sum;
	void *arg;
	pthread_mutex_t lock;    /* base, last, rates */
	struct ps_counters base, last, now;
	uint64_t last_ms;
	struct ps_rates rates;
	ps_sum_loop_fn *sum_loop;
	struct ps_loop_counters *loop_base;  /* NULL until a reset */
	struct ps_hour_ring *hour;           /* NULL: no memory for it */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ps_counters_view *ps_view_new(ps_sum_counters_fn *sum, void *arg)
{
	struct ps_counters_view *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->sum = sum;
	v->arg = arg;
	v->hour = ps_hour_ring_new();
	pthread_mutex_init(&v->lock, NULL);
	return v;
}

void ps_view_free(struct ps_counters_view *v)
{
	if (!v)
		return;
	pthread_mutex_destroy(&v->lock);
	ps_hour_ring_free(v->hour);
	free(v->loop_base);
	free(v);
}

static void subtract(struct ps_counters *a, const struct ps_counters *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;
	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		x[i] -= y[i];
}

void ps_view_counters(struct ps_counters_view *v, struct ps_counters *out)
{
	v->sum(v->arg, out);
	pthread_mutex_lock(&v->lock);
	subtract(out, &v->base);
	pthread_mutex_unlock(&v->lock);
}

void ps_view_reset(struct ps_counters_view *v)
{
	pthread_mutex_lock(&v->lock);
	v->sum(v->arg, &v->base);
	if (v->sum_loop) {
		if (!v->loop_base)
			v->loop_base = malloc(sizeof(*v->loop_base));
		if (v->loop_base)
			v->sum_loop(v->arg, v->loop_base);
	}
	pthread_mutex_unlock(&v->lock);
}

void ps_view_set_loop(struct ps_counters_view *v, ps_sum_loop_fn *sum_loop)
{
	v->sum_loop = sum_loop;
}

int ps_view_loop(struct ps_counters_view *v, struct ps_loop_counters *out)
{
	if (!v->sum_loop) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	v->sum_loop(v->arg, out);
	pthread_mutex_lock(&v->lock);
	const struct ps_loop_counters *b = v->loop_base;
	for (unsigned i = 0; b && i < 65536; i++) {
		struct ps_device_counters *d = &out->device[i];
		const struct ps_device_counters *e = &b->device[i];
		d->records -= e->records;
		d->noread -= e->noread;
		d->bad_barcode -= e->bad_barcode;
		d->malformed -= e->malformed;
		d->duplicates -= e->duplicates;
		d->manifest_resolved -= e->manifest_resolved;
		d->manifest_missed -= e->manifest_missed;
		out->chute[i].sorted -= b->chute[i].sorted;
		out->chute[i].missorted -= b->chute[i].missorted;
		out->chute[i].not_discharged -= b->chute[i].not_discharged;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

double ps_view_per_hour(struct ps_counters_view *v, uint16_t chute)
{
	pthread_mutex_lock(&v->lock);
	double r = v->hour ? ps_hour_ring_per_hour(v->hour, chute) : 0;
	pthread_mutex_unlock(&v->lock);
	return r;
}

unsigned ps_view_hour_minutes(struct ps_counters_view *v)
{
	pthread_mutex_lock(&v->lock);
	unsigned m = v->hour ? ps_hour_ring_minutes(v->hour) : 0;
	pthread_mutex_unlock(&v->lock);
	return m;
}

static uint64_t drops(const struct ps_counters *c)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		n += c->drops[i];
	return n;
}

void ps_view_sample(struct ps_counters_view *v)
{
	uint64_t t = mono_ms();
	pthread_mutex_lock(&v->lock);
	if (v->last_ms && t - v->last_ms < 1000) {
		pthread_mutex_unlock(&v->lock);
		return;
	}
	v->sum(v->arg, &v->now);
	if (v->last_ms) {
		double dt = (double)(t - v->last_ms) / 1e3;
		const struct ps_counters *a = &v->last, *b = &v->now;
		v->rates.rx_pps = (double)(b->rx_frames - a->rx_frames) / dt;
		v->rates.tx_pps = (double)(b->tx_frames - a->tx_frames) / dt;
		v->rates.records_ps = (double)(b->records - a->records) / dt;
		v->rates.drops_ps = (double)(drops(b) - drops(a)) / dt;
	}
	if (v->hour)
		ps_hour_ring_sample(v->hour, t, v->now.chute);
	v->last = v->now;
	v->last_ms = t;
	pthread_mutex_unlock(&v->lock);
}

void ps_view_rates(struct ps_counters_view *v, struct ps_rates *r)
{
	pthread_mutex_lock(&v->lock);
	*r = v->rates;
	pthread_mutex_unlock(&v->lock);
}
