/* capture.c: the per-worker capture rings: setting them up, the workers'
 * switching between on and off, and the control side's arm, disarm and
 * totals (see capture.h). */
#include "capture.h"

#include <stdlib.h>

struct ps_capture *ps_capture_new(unsigned n, unsigned slots,
				  const struct ps_counters *cnt,
				  uint64_t tsc_hz)
{
	if (slots < 2 || (slots & (slots - 1)))
		return NULL;
	struct ps_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n = n;
	c->tsc_hz = tsc_hz;
	c->rings = n ? aligned_alloc(64, n * sizeof(*c->rings)) : NULL;
	if (n && !c->rings) {
		free(c);
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		struct ps_capture_ring *r = &c->rings[i];
		memset(r, 0, sizeof(*r));
		r->cnt = &cnt[i];
		r->sw = &c->sw;
		r->mask = slots - 1;
		r->sample = 1;
		r->countdown = 1;
		/* untouched pages until a capture fills them */
		r->slots = calloc(slots, sizeof(*r->slots));
		if (!r->slots) {
			c->n = i;
			ps_capture_free(c);
			return NULL;
		}
	}
	return c;
}

void ps_capture_free(struct ps_capture *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->n; i++)
		free(c->rings[i].slots);
	free(c->rings);
	free(c);
}

int ps_capture_switch_over(struct ps_capture_ring *r)
{
	uint64_t gen = __atomic_load_n(&r->sw->gen, __ATOMIC_ACQUIRE);
	uint32_t on = __atomic_load_n(&r->sw->on, __ATOMIC_RELAXED);
	uint32_t was = __atomic_load_n(&r->is_on, __ATOMIC_RELAXED);
	if (on && !was) {
		r->sample = __atomic_load_n(&r->sw->sample, __ATOMIC_RELAXED);
		r->countdown = r->sample;
		__atomic_store_n(&r->req_start, ps_capture_requests(r->cnt),
				 __ATOMIC_RELAXED);
	} else if (!on && was) {
		__atomic_store_n(&r->req_end, ps_capture_requests(r->cnt),
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&r->is_on, on, __ATOMIC_RELEASE);
	r->local_gen = gen;
	__atomic_store_n(&r->acked_gen, gen, __ATOMIC_RELEASE);
	return on != 0;
}

void ps_capture_worker_exit(struct ps_capture_ring *r)
{
	if (__atomic_load_n(&r->is_on, __ATOMIC_RELAXED)) {
		__atomic_store_n(&r->req_end, ps_capture_requests(r->cnt),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&r->is_on, 0, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&r->exited, 1, __ATOMIC_RELEASE);
}

void ps_capture_arm(struct ps_capture *c, uint32_t sample)
{
	for (unsigned i = 0; i < c->n; i++) {
		struct ps_capture_ring *r = &c->rings[i];
		/* what a worker that missed the last stop handed over after
		 * the writer ended belongs to no capture: dropped here, where
		 * the control side is the ring's only consumer (the writer has
		 * ended) and the worker, switched off, adds nothing */
		__atomic_store_n(&r->tail,
				 __atomic_load_n(&r->head, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		__atomic_store_n(&r->pushed, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->ring_full, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->sampled_out, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->req_start, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->req_end, 0, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&c->sw.sample, sample ? sample : 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->sw.on, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sw.gen, 1, __ATOMIC_RELEASE);
}

void ps_capture_disarm(struct ps_capture *c)
{
	__atomic_store_n(&c->sw.on, 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sw.gen, 1, __ATOMIC_RELEASE);
}

int ps_capture_acked(const struct ps_capture *c)
{
	uint64_t gen = __atomic_load_n(&c->sw.gen, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < c->n; i++) {
		const struct ps_capture_ring *r = &c->rings[i];
		if (!__atomic_load_n(&r->exited, __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&r->acked_gen, __ATOMIC_ACQUIRE) != gen)
			return 0;
	}
	return 1;
}

void ps_capture_totals(const struct ps_capture *c, struct ps_capture_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < c->n; i++) {
		const struct ps_capture_ring *r = &c->rings[i];
		t->pushed += __atomic_load_n(&r->pushed, __ATOMIC_RELAXED);
		t->ring_full += __atomic_load_n(&r->ring_full, __ATOMIC_RELAXED);
		t->sampled_out += __atomic_load_n(&r->sampled_out,
						  __ATOMIC_RELAXED);
		/* is_on first: the snapshot it was stored after is then
		 * seen too */
		uint32_t on = __atomic_load_n(&r->is_on, __ATOMIC_ACQUIRE);
		uint64_t start = __atomic_load_n(&r->req_start, __ATOMIC_RELAXED);
		uint64_t end = on ? ps_capture_requests(r->cnt)
				  : __atomic_load_n(&r->req_end, __ATOMIC_RELAXED);
		t->requests += end - start;
	}
}
