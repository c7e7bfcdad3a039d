/* rates.c: the counter baseline and the rates of the last second (see
 * rates.h). A struct ps_counters is large (a count per chute), so the
 * view keeps its samples on the heap, not on a stack. */
#include "rates.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct ps_counters_view {
	ps_sum_counters_fn *sum;
	void *arg;
	pthread_mutex_t lock;    /* base, last, rates */
	struct ps_counters base, last, now;
	uint64_t last_ms;
	struct ps_rates rates;
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
	pthread_mutex_init(&v->lock, NULL);
	return v;
}

void ps_view_free(struct ps_counters_view *v)
{
	if (!v)
		return;
	pthread_mutex_destroy(&v->lock);
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
	pthread_mutex_unlock(&v->lock);
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
