/* wi_pipes.c: the what-if's reference replay: every burst through two
 * dataplane pipelines (pipeline.h), one per plan, each with its own
 * duplicate window and chute states, their exported decisions paired
 * (see wi_engine.h). */
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "ps_clock.h"
#include "wi_capture.h"
#include "wi_engine.h"

#define RUN_RECS (PS_BURST * PS_MAX_RECORDS)
#define ARENA (PS_BURST * (WI_FRAME_MAX + 64u))

/* One plan's dataplane: its pipeline, window, chute states, and the
 * decisions its last run exported. */
struct side {
	struct ps_pipeline pl;
	struct ps_plan *plan;
	struct ps_holds *holds;
	struct ps_chute_state *chutes;
	struct ps_dedup dedup;
	int dedup_ok;
	struct ps_counters *cnt;
	struct ps_pkt_buf pk[PS_BURST];
	uint8_t *arena;           /* the burst's frames, copied: the pipeline
				   * writes its replies over them */
	struct wi_dec dec[RUN_RECS];
	unsigned n;
	int overflow;
};

struct wi_pipes {
	struct side side[2];
};

static void collect(void *ctx, const struct ps_event *ev, unsigned n)
{
	struct side *s = ctx;
	for (unsigned i = 0; i < n; i++) {
		if (ev[i].type != PS_EVENT_SCAN)
			continue;
		if (s->n == RUN_RECS) {
			s->overflow = 1;
			return;
		}
		struct wi_dec *d = &s->dec[s->n++];
		d->ts_ms = ev[i].ts_ms;
		d->hub = ev[i].hub;
		d->chute = ev[i].chute;
		d->reason = ev[i].reason < PS_REASON_COUNT ? ev[i].reason : 0;
	}
}

static int side_init(struct side *s, const struct wi_opts *o, int k,
		     const struct ps_net_cfg *net)
{
	memset(s, 0, sizeof(*s));
	s->plan = (struct ps_plan *)o->plan[k];
	s->holds = (struct ps_holds *)o->holds;
	s->chutes = malloc(sizeof(*s->chutes));
	s->cnt = calloc(1, sizeof(*s->cnt));
	s->arena = malloc(ARENA);
	if (!s->chutes || !s->cnt || !s->arena)
		return -1;
	if (o->chutes)
		memcpy(s->chutes, o->chutes, sizeof(*s->chutes));
	else
		ps_chutes_init(s->chutes);
	if (ps_dedup_init(&s->dedup, o->capacity ? o->capacity
						  : WI_DEFAULT_CAPACITY,
			  o->window_s ? o->window_s : WI_DEFAULT_WINDOW_S))
		return -1;
	s->dedup_ok = 1;
	s->pl.net = net;
	s->pl.plan_slot = &s->plan;
	s->pl.holds_slot = s->holds ? &s->holds : NULL;
	s->pl.chutes = s->chutes;
	s->pl.dedup = &s->dedup;
	s->pl.cnt = s->cnt;
	s->pl.export_fn = collect;
	s->pl.export_ctx = s;
	/* the manifest (offline: just loaded from its file, so nothing in it
	 * has lapsed at the wall clock of the start) */
	s->pl.manifest = o->manifest;
	s->pl.manifest_now_ms = ps_now_ms();
	return 0;
}

static void side_free(struct side *s)
{
	if (s->dedup_ok)
		ps_dedup_free(&s->dedup);
	free(s->chutes);
	free(s->cnt);
	free(s->arena);
}

struct wi_pipes *wi_pipes_open(const struct wi_opts *o,
			       const struct ps_net_cfg *net)
{
	struct wi_pipes *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	for (int k = 0; k < 2; k++)
		if (side_init(&e->side[k], o, k, net)) {
			wi_pipes_close(e);
			return NULL;
		}
	return e;
}

void wi_pipes_close(struct wi_pipes *e)
{
	if (!e)
		return;
	side_free(&e->side[0]);
	side_free(&e->side[1]);
	free(e);
}

/* Run the frames through both sides and tally the pairs. */
int wi_pipes_run(struct wi_pipes *e, const uint8_t *const *frame,
		 const uint16_t *len, unsigned n, uint32_t now_s,
		 struct wi_result *r)
{
	for (int k = 0; k < 2; k++) {
		struct side *s = &e->side[k];
		size_t off = 0;
		for (unsigned i = 0; i < n; i++) {
			memcpy(s->arena + off, frame[i], len[i]);
			s->pk[i].data = s->arena + off;
			s->pk[i].len = len[i];
			off += (len[i] + 63u) & ~63u;
		}
		s->n = 0;
		ps_pipeline_run(&s->pl, s->pk, n, now_s);
	}
	struct side *a = &e->side[0], *b = &e->side[1];
	int mismatch = a->n != b->n || a->overflow || b->overflow;
	unsigned m = a->n < b->n ? a->n : b->n;
	for (unsigned i = 0; i < m; i++)
		wi_result_add(r, &a->dec[i], &b->dec[i]);
	return mismatch ? -1 : 0;
}

void wi_pipes_count(const struct wi_pipes *e, struct wi_result *r)
{
	const struct ps_counters *c = e->side[0].cnt;
	r->scan_datagrams = c->answered[PS_ANS_DECISION];
	r->sorter_datagrams = c->answered[PS_ANS_ACK];
	r->dropped = 0;
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		r->dropped += c->drops[i];
}
