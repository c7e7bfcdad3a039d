/* capture.h: the workers' side of `parcelsortctl capture`: a copy of every
 * request frame (scan batch, chute states, sort results) as received,
 * before its reply is written in place, handed to a per-worker
 * single-producer single-consumer ring of fixed slots that the capture
 * writer (control/capture_writer.c) drains into a pcap file.
 *
 * The worker never waits: a frame that finds its ring full is dropped and
 * counted. Sampling 1/K keeps every K-th request frame of the worker by
 * a countdown of its own (no shared counter: with n workers the total
 * kept is within n of frames / K). No lock, syscall, allocation or
 * division per frame. While no capture runs
 * the pipeline's capture pointer is NULL (one predictable branch per
 * request frame) and the worker loop compares its generation with the
 * shared one once per iteration.
 *
 * Switching: the control side (ps_capture_arm / ps_capture_disarm) bumps
 * a shared generation; each worker notices it between two bursts, takes a
 * snapshot of its own request counters (answered decisions + acks), points
 * its pipelines at its ring or back to NULL, and acknowledges the
 * generation. So every request frame a worker answered while it was
 * switched on was offered to the ring exactly once, and
 *     captured + dropped + sampled_out == requests (end - start snapshots)
 * holds exactly per worker, whatever the load. */
#ifndef PS_CAPTURE_H
#define PS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "counters.h"

/* A slot: 2 KB, of which PS_CAPTURE_SNAP bytes of frame (a longer frame is
 * cut there and its pcap record says so: caplen < len). */
#define PS_CAPTURE_SLOT_BYTES 2048u
#define PS_CAPTURE_SNAP (PS_CAPTURE_SLOT_BYTES - 16u)
/* Slots per worker ring (a power of two): 4 MB, touched only by captures */
#define PS_CAPTURE_RING_SLOTS 2048u

struct ps_capture_slot {
	uint64_t tsc;            /* the worker loop iteration's TSC */
	uint16_t len;            /* the frame's length */
	uint16_t caplen;         /* bytes kept in data */
	uint32_t pad;
	uint8_t data[PS_CAPTURE_SNAP];
};

/* What every worker reads once per loop iteration: written by the control
 * side only. */
struct ps_capture_switch {
	uint64_t gen;            /* bumped by every arm and disarm */
	uint32_t on;             /* 1 while a capture runs */
	uint32_t sample;         /* keep every sample-th request frame */
} __attribute__((aligned(64)));

/* One worker's ring and its capture state, in three cache lines: what the
 * worker touches for every frame, what it touches at a switch (and the
 * control side reads), and the writer's tail, so that the writer releasing
 * a slot never takes the line the worker reads for every frame. */
struct ps_capture_ring {
	/* the worker, every frame (slots and mask never change) */
	struct ps_capture_slot *slots;
	uint32_t mask;
	uint32_t countdown;             /* frames until the next kept one */
	uint64_t head;                  /* slots published */
	uint64_t tail_cache;            /* the consumer's tail, last read */
	uint64_t tsc;                   /* this loop iteration's TSC */
	/* counted by the worker while on (reset by the control side while
	 * off): kept in the ring, dropped because it was full, skipped by
	 * sampling */
	uint64_t pushed;
	uint64_t ring_full;
	uint64_t sampled_out;
	/* the worker at a switch; the control side */
	uint64_t local_gen __attribute__((aligned(64)));  /* acted upon */
	uint32_t sample;
	uint32_t exited;                /* atomic: the worker loop ended */
	uint32_t is_on;                 /* atomic: switched on */
	/* the worker's requests answered (decisions + acks) when it switched
	 * on, and when it switched off */
	uint64_t req_start;
	uint64_t req_end;
	uint64_t acked_gen;             /* atomic: the generation acted upon */
	const struct ps_counters *cnt;  /* the worker's counters */
	const struct ps_capture_switch *sw;
	/* the consumer (writer), its own cache line */
	uint64_t tail __attribute__((aligned(64)));
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct ps_capture_ring) == 192,
	       "three cache lines: the worker's, the switch's, the writer's");

/* The control side's view: the switch and every worker's ring. */
struct ps_capture {
	struct ps_capture_switch sw;
	struct ps_capture_ring *rings;
	unsigned n;
	uint64_t tsc_hz;
};

/* n rings of slots slots each (a power of two >= 2); NULL when out of
 * memory. cnt[i] are worker i's counters. */
struct ps_capture *ps_capture_new(unsigned n, unsigned slots,
				  const struct ps_counters *cnt,
				  uint64_t tsc_hz);
void ps_capture_free(struct ps_capture *c);

/* ------------------------------------------------------- worker side */

/* The request frames the worker has answered so far. */
static inline uint64_t ps_capture_requests(const struct ps_counters *c)
{
	return __atomic_load_n(&c->answered[PS_ANS_DECISION], __ATOMIC_RELAXED) +
	       __atomic_load_n(&c->answered[PS_ANS_ACK], __ATOMIC_RELAXED);
}

/* Once per loop iteration: 1 when the switch changed (then the worker
 * calls ps_capture_switch_over and repoints its pipelines). */
static inline int ps_capture_poll(struct ps_capture_ring *r, uint64_t tsc)
{
	r->tsc = tsc;
	return __atomic_load_n(&r->sw->gen, __ATOMIC_ACQUIRE) != r->local_gen;
}

/* Act on the switch: snapshot, acknowledge; returns 1 when now on (the
 * pipelines then get the ring), 0 when off (they get NULL). */
int ps_capture_switch_over(struct ps_capture_ring *r);

/* The worker loop ended: switch off (snapshot) and never answer again. */
void ps_capture_worker_exit(struct ps_capture_ring *r);

/* A request frame as received: kept (every sample-th), or dropped when
 * the ring is full. Never waits. */
static inline void ps_capture_offer(struct ps_capture_ring *r,
				    const uint8_t *data, uint16_t len)
{
	if (--r->countdown) {
		r->sampled_out++;
		return;
	}
	r->countdown = r->sample;
	if (r->head - r->tail_cache > r->mask) {
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (r->head - r->tail_cache > r->mask) {
			r->ring_full++;
			return;
		}
	}
	struct ps_capture_slot *s = &r->slots[r->head & r->mask];
	uint16_t keep = len < PS_CAPTURE_SNAP ? len : PS_CAPTURE_SNAP;
	s->tsc = r->tsc;
	s->len = len;
	s->caplen = keep;
	memcpy(s->data, data, keep);
	r->pushed++;
	__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------- writer side */

/* The next slot to write, NULL when the ring is empty; ps_capture_release
 * hands it back. */
static inline const struct ps_capture_slot *
ps_capture_peek(struct ps_capture_ring *r)
{
	if (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == r->tail)
		return NULL;
	return &r->slots[r->tail & r->mask];
}

static inline void ps_capture_release(struct ps_capture_ring *r)
{
	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------ control side */

/* Totals over the rings (relaxed reads; exact once every worker has
 * acknowledged the disarm). */
struct ps_capture_totals {
	uint64_t pushed, ring_full, sampled_out;
	uint64_t requests;       /* request frames answered while on */
};

/* Empty the rings (what a worker that missed the last stop still handed
 * over), reset their counters, then switch on with 1/sample; the workers
 * follow between two bursts (ps_capture_acked). Only while off: every
 * worker has acknowledged the last disarm and no writer drains. */
void ps_capture_arm(struct ps_capture *c, uint32_t sample);
/* Switch off; the workers follow between two bursts. */
void ps_capture_disarm(struct ps_capture *c);
/* 1 when every worker has acted on the last arm or disarm (or ended). */
int ps_capture_acked(const struct ps_capture *c);
void ps_capture_totals(const struct ps_capture *c,
		       struct ps_capture_totals *t);

#endif
