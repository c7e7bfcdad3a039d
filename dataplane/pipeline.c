/* pipeline.c: one burst of frames through the decision order (see
 * pipeline.h and docs/protocol.md). */
#include "pipeline.h"

#include <string.h>
#include <urcu-qsbr.h>

static inline uint64_t tsc(void)
{
	return __builtin_ia32_rdtsc();
}

#define MAX_RECS (PS_BURST * PS_MAX_RECORDS)
#define DEDUP_AHEAD 16

struct request {
	uint16_t pkt;            /* index into pkts */
	uint16_t first;          /* first record in recs */
	struct ps_header h;
	struct ps_frame f;
};

struct burst {
	struct request req[PS_BURST];
	unsigned n_req;
	struct ps_scan scan[MAX_RECS];
	struct ps_decision dec[MAX_RECS];
	uint64_t hash[MAX_RECS];
	uint16_t sortable[MAX_RECS];
	uint16_t fresh[MAX_RECS];
	unsigned n_rec;
};

static const uint8_t hdr_drop[PS_HDR_STATUS_COUNT] = {
	[PS_HDR_SHORT] = PS_DROP_HDR_SHORT,
	[PS_HDR_MAGIC] = PS_DROP_HDR_MAGIC,
	[PS_HDR_VERSION] = PS_DROP_HDR_VERSION,
	[PS_HDR_KIND] = PS_DROP_HDR_KIND,
	[PS_HDR_COUNT] = PS_DROP_HDR_COUNT,
	[PS_HDR_FLAGS] = PS_DROP_HDR_FLAGS,
	[PS_HDR_LENGTH] = PS_DROP_HDR_LENGTH,
};

/* Phase 1: classify frames; answer ARP/ND/ping; collect requests. */
static void classify(struct ps_pipeline *pl, struct ps_pkt_buf *pkts,
		     unsigned n, struct burst *b)
{
	struct ps_counters *c = pl->cnt;
	for (unsigned i = 0; i < n; i++) {
		struct ps_pkt_buf *pk = &pkts[i];
		struct request *r = &b->req[b->n_req];
		uint8_t why;
		uint16_t nl;
		pk->send = 0;
		pk->is_request = 0;
		c->rx_frames++;
		c->rx_bytes += pk->len;
		enum ps_pkt_verdict v = ps_pkt_input(pl->net, pk->data, pk->len,
						     &r->f, &why, &nl);
		if (v == PS_PKT_DROP) {
			c->drops[why]++;
			continue;
		}
		if (v == PS_PKT_ANSWER) {
			c->answered[why]++;
			pk->send = 1;
			pk->out_len = nl;
			continue;
		}
		enum ps_hdr_status hs = ps_header_check(pk->data + r->f.payload_off,
							r->f.payload_len, &r->h);
		if (hs != PS_HDR_OK) {
			c->drops[hdr_drop[hs]]++;
			continue;
		}
		r->pkt = (uint16_t)i;
		r->first = (uint16_t)b->n_rec;
		b->n_rec += ps_scan_decode_burst(pk->data + r->f.payload_off,
						 &r->h, &b->scan[b->n_rec]);
		pk->is_request = 1;
		b->n_req++;
	}
}

static inline void reject(struct ps_decision *d, const struct ps_plan *p,
			  uint8_t reason)
{
	d->chute = p ? p->reject : 0;
	d->tier = 0;
	d->reason = reason;
	d->hub = 0;
	d->matched_prefix = 0;
	d->plan_version = p ? p->version : 0;
}

/* Phase 2: steps 1-5 of the decision order; sortable records are listed. */
static unsigned pre_decide(const struct ps_plan *p, struct burst *b)
{
	unsigned ns = 0;
	for (unsigned i = 0; i < b->n_rec; i++) {
		const struct ps_scan *s = &b->scan[i];
		struct ps_decision *d = &b->dec[i];
		d->event_seq = s->event_seq;
		switch (s->klass) {
		case PS_CLASS_MALFORMED:
			reject(d, p, PS_R_MALFORMED_RECORD);
			continue;
		case PS_CLASS_TRACK_ONLY:
			reject(d, p, PS_R_TRACK_ONLY);
			d->chute = 0;
			continue;
		}
		if (!p) {
			reject(d, NULL, PS_R_NO_PLAN);
			continue;
		}
		if (s->klass == PS_CLASS_NOREAD) {
			reject(d, p, PS_R_NOREAD);
		} else if (s->klass == PS_CLASS_BAD_BARCODE) {
			reject(d, p, PS_R_BAD_BARCODE);
		} else {
			b->sortable[ns++] = (uint16_t)i;
		}
	}
	return ns;
}

static inline void as_duplicate(struct ps_decision *d,
				const struct ps_decision *first)
{
	uint32_t seq = d->event_seq;
	*d = *first;
	d->event_seq = seq;
	d->reason = PS_R_DUPLICATE;
}

static inline int remembered(uint8_t reason)
{
	return reason == PS_R_ROUTED || reason == PS_R_OVERRIDE ||
	       reason == PS_R_DEFAULT;
}

/* Phase 3: step 6 (duplicate window) and steps 7-10 in one plan burst. */
static void decide(struct ps_pipeline *pl, const struct ps_plan *p,
		   struct burst *b, unsigned ns, uint32_t now)
{
	struct ps_counters *c = pl->cnt;
	struct ps_dedup *dd = pl->dedup;
	unsigned nf = 0, i;
	uint64_t t_start = tsc();
	/* hashes first, then the look-ups with their buckets prefetched a
	 * fixed distance ahead: far enough to hide a miss, near enough that
	 * the line is still in L1 when its turn comes (a burst has up to
	 * 32 x 22 records) */
	for (i = 0; i < ns; i++) {
		unsigned k = b->sortable[i];
		b->hash[k] = ps_dedup_hash(b->scan[k].waybill);
		if (i < DEDUP_AHEAD)
			ps_dedup_prefetch(dd, b->hash[k]);
	}
	for (i = 0; i < ns; i++) {
		unsigned k = b->sortable[i];
		if (i + DEDUP_AHEAD < ns)
			ps_dedup_prefetch(dd, b->hash[b->sortable[i + DEDUP_AHEAD]]);
		struct ps_decision first;
		enum ps_dedup_result r = ps_dedup_lookup(dd, b->hash[k],
							 b->scan[k].waybill,
							 now, &first);
		if (r == PS_DEDUP_HIT && ps_chute_enabled(pl->chutes, first.chute)) {
			as_duplicate(&b->dec[k], &first);
			c->dedup_hits++;
		} else {
			b->fresh[nf++] = (uint16_t)k;
		}
	}
	if (!nf) {
		c->cyc_dedup += tsc() - t_start;
		return;
	}
	const struct ps_scan *sp[MAX_RECS];
	struct ps_decision *dp[MAX_RECS];
	for (i = 0; i < nf; i++) {
		sp[i] = &b->scan[b->fresh[i]];
		dp[i] = &b->dec[b->fresh[i]];
	}
	uint64_t td = tsc();
	c->cyc_dedup += td - t_start;
	ps_plan_decide_burst(p, pl->chutes, sp, dp, nf);
	uint64_t te = tsc();
	c->cyc_decide += te - td;
	for (i = 0; i < nf; i++) {
		unsigned k = b->fresh[i];
		if (!remembered(b->dec[k].reason))
			continue;
		struct ps_decision first;
		int evicted;
		enum ps_dedup_result r = ps_dedup_insert(dd, b->hash[k],
							 b->scan[k].waybill,
							 now, &b->dec[k],
							 pl->chutes, &first,
							 &evicted);
		if (r == PS_DEDUP_HIT) {
			/* an earlier record (this burst, another core) won */
			as_duplicate(&b->dec[k], &first);
			c->dedup_hits++;
		} else if (r == PS_DEDUP_BUSY) {
			c->dedup_busy++;
		} else {
			c->dedup_inserts++;
			c->dedup_evictions += (unsigned)evicted;
		}
	}
	c->cyc_dedup += tsc() - te;
}

static void count_records(struct ps_counters *c, const struct burst *b)
{
	c->records += b->n_rec;
	for (unsigned i = 0; i < b->n_rec; i++) {
		const struct ps_decision *d = &b->dec[i];
		c->records_by_reason[d->reason]++;
		c->records_by_tier[d->tier < PS_TIER_COUNT ? d->tier : 0]++;
		c->chute[d->chute]++;
		c->malformed_by_cause[b->scan[i].malformed]++;
	}
}

static void export_events(struct ps_pipeline *pl, const struct burst *b)
{
	struct ps_event ev[64];
	unsigned n = 0;
	for (unsigned r = 0; r < b->n_req; r++) {
		const struct request *q = &b->req[r];
		for (unsigned i = q->first; i < q->first + q->h.count; i++) {
			const struct ps_scan *s = &b->scan[i];
			const struct ps_decision *d = &b->dec[i];
			struct ps_event *e = &ev[n++];
			memcpy(e->waybill, s->waybill, PS_WAYBILL_LEN);
			e->region = s->region;
			e->matched_prefix = d->matched_prefix;
			e->ts_ms = s->ts_ms;
			e->event_seq = s->event_seq;
			e->hub = d->hub;
			e->plan_version = d->plan_version;
			e->site = q->h.site;
			e->chute = d->chute;
			e->device = s->device;
			e->reason = d->reason;
			e->tier = d->tier;
			e->scan_type = s->scan_type;
			e->pad = 0;
			if (n == 64) {
				pl->export_fn(pl->export_ctx, ev, n);
				n = 0;
			}
		}
	}
	if (n)
		pl->export_fn(pl->export_ctx, ev, n);
}

/* Phase 4: replies in place. */
static void reply(struct ps_pipeline *pl, const struct ps_plan *p,
		  struct ps_pkt_buf *pkts, struct burst *b)
{
	uint32_t site = p ? p->site : pl->site;
	for (unsigned r = 0; r < b->n_req; r++) {
		struct request *q = &b->req[r];
		struct ps_pkt_buf *pk = &pkts[q->pkt];
		uint8_t *payload = pk->data + q->f.payload_off;
		size_t plen = ps_reply_build_inplace(payload, &q->h, site,
						     &b->scan[q->first],
						     &b->dec[q->first]);
		pk->out_len = ps_pkt_reply_udp(pl->net, pk->data, &q->f,
					       (uint16_t)plen);
		pk->send = 1;
		pl->cnt->answered[PS_ANS_DECISION]++;
	}
}

void ps_pipeline_run(struct ps_pipeline *pl, struct ps_pkt_buf *pkts,
		     unsigned n, uint32_t now_s)
{
	static __thread struct burst b;
	struct ps_counters *c = pl->cnt;
	uint64_t t0 = tsc(), t1, t2;
	b.n_req = 0;
	b.n_rec = 0;
	classify(pl, pkts, n, &b);
	if (!b.n_req) {
		c->cyc_parse += tsc() - t0;
		return;
	}
	const struct ps_plan *p = rcu_dereference(*pl->plan_slot);
	unsigned ns = pre_decide(p, &b);
	t1 = tsc();
	c->cyc_parse += t1 - t0;
	if (ns)
		decide(pl, p, &b, ns, now_s);   /* splits dedup and decide */
	t2 = tsc();
	count_records(pl->cnt, &b);
	if (pl->export_fn)
		export_events(pl, &b);
	reply(pl, p, pkts, &b);
	c->cyc_reply += tsc() - t2;
}
