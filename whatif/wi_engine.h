/* wi_engine.h: the two ways the what-if replays a burst of captured frames
 * (whatif.c reads the capture, learns the dataplane's addresses and cuts
 * the frames into the bursts a dataplane would have run). Both answer
 * every record with the decisions two dataplanes, one per plan, would
 * give, in capture order, and tally the pairs:
 *   wi_fast_*   the replay: each frame parsed once, the two plans' steps
 *               1-12 side by side over one duplicate window that keeps
 *               both plans' state (wi_window.h);
 *   wi_pipes_*  the reference: two dataplane pipelines (pipeline.h), one
 *               per plan, each with its own window and chute states: the
 *               workers' own code, slower (the test compares the two). */
#ifndef PS_WI_ENGINE_H
#define PS_WI_ENGINE_H

#include <stdint.h>

#include "pipeline.h"          /* PS_BURST: a dataplane burst */
#include "pkt.h"
#include "whatif.h"

struct wi_fast;
struct wi_pipes;

/* NULL: out of memory (the window of o->capacity entries). */
struct wi_fast *wi_fast_open(const struct wi_opts *o,
			     const struct ps_net_cfg *net);
/* n <= PS_BURST frames at the window's time now_s, under the current
 * net (whatif.c ends a burst before it changes). */
void wi_fast_run(struct wi_fast *e, const uint8_t *const *frame,
		 const uint16_t *len, unsigned n, uint32_t now_s,
		 struct wi_result *r);
/* Scan datagrams, sorter datagrams and frames dropped, into r. */
void wi_fast_count(const struct wi_fast *e, struct wi_result *r);
void wi_fast_close(struct wi_fast *e);

struct wi_pipes *wi_pipes_open(const struct wi_opts *o,
			       const struct ps_net_cfg *net);
/* 0, or -1 when the two pipelines exported different record counts. */
int wi_pipes_run(struct wi_pipes *e, const uint8_t *const *frame,
		 const uint16_t *len, unsigned n, uint32_t now_s,
		 struct wi_result *r);
void wi_pipes_count(const struct wi_pipes *e, struct wi_result *r);
void wi_pipes_close(struct wi_pipes *e);

/* One record decided d0 (current plan) and d1 (candidate): tallied, and
 * the capture's first and last ts_ms moved. */
static inline void wi_result_add(struct wi_result *r, const struct wi_dec *d0,
				 const struct wi_dec *d1)
{
	uint64_t t = d0->ts_ms;
	if (t && (!r->first_ms || t < r->first_ms))
		r->first_ms = t;
	if (t > r->last_ms)
		r->last_ms = t;
	wi_tally_add(&r->tally, d0, d1);
}

#endif
