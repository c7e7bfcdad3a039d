/* pipeline.c: one burst of frames through the decision order (see
 * pipeline.h and docs/protocol.md). */
#include "pipeline.h"

#include <string.h>
#include <urcu-qsbr.h>

#include "pkt_inline.h"
#include "ps_clock.h"

#define likely(x) __builtin_expect(!!(x), 1)

static inline uint64_t tsc(void)
{
	return __builtin_ia32_rdtsc();
}

#define MAX_RECS (PS_BURST * PS_MAX_RECORDS)
#define DEDUP_AHEAD 16    /* a window head prefetched this many records ahead */
#define ENTRY_AHEAD 8     /* its matching slots (duplicates) this many */
#define INSERT_AHEAD 8    /* the slot an insert takes this many */

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
	uint64_t hash[MAX_RECS];         /* the waybill's (window and holds) */
	uint8_t maybe_held[MAX_RECS];    /* the hold filter's answer */
	uint16_t sortable[MAX_RECS];
	uint16_t fresh[MAX_RECS];
	uint8_t src[MAX_RECS];   /* enum ps_region_source */
	uint64_t manifest_region[MAX_RECS]; /* barcode-only: the manifest's */
	int manifest_looked;     /* manifest_region holds this burst's answers */
	unsigned n_rec;
	struct request held;     /* a sorter request after scan batches */
	int has_held;
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

/* The sender against its request kind's allow-list: the scanner list for
 * kind 1 (empty: everyone), the sorter list for kinds 3 and 5 (empty:
 * nobody). Returns 0 or the drop cause. */
static inline uint8_t sender_refused(const struct ps_net_cfg *net,
				     const struct ps_header *h,
				     const struct ps_frame *f)
{
	/* each list's pointer and count read once: a reload moves them
	 * apart, each pair it leaves valid (allow_swap.c) */
	if (h->kind == PS_KIND_SCAN) {
		unsigned n = __atomic_load_n(&net->n_allow, __ATOMIC_RELAXED);
		return !n || ps_prefix_allowed(__atomic_load_n(&net->allow,
							       __ATOMIC_RELAXED),
					       n, f->ip_ver, f->src)
			? 0 : PS_DROP_NOT_ALLOWED;
	}
	unsigned n = __atomic_load_n(&net->n_sorter_allow, __ATOMIC_RELAXED);
	return n && ps_prefix_allowed(__atomic_load_n(&net->sorter_allow,
						      __ATOMIC_RELAXED),
				      n, f->ip_ver, f->src)
		? 0 : PS_DROP_NOT_SORTER;
}

/* The counter of an invalid entry's cause, by kind. */
static uint64_t *invalid_counter(struct ps_counters *c, unsigned kind,
				 uint8_t cause)
{
	if (kind == PS_KIND_CHUTE_STATE) {
		switch (cause) {
		case PS_ENT_CHUTE: return &c->chute_states_invalid_chute;
		case PS_ENT_STATE: return &c->chute_states_invalid_state;
		case PS_ENT_HOLD: return &c->chute_states_invalid_hold;
		default: return &c->chute_states_invalid_reserved;
		}
	}
	switch (cause) {
	case PS_ENT_WAYBILL: return &c->sort_invalid_waybill;
	case PS_ENT_CHUTE: return &c->sort_invalid_chute;
	case PS_ENT_STATUS: return &c->sort_invalid_status;
	default: return &c->sort_invalid_reserved;
	}
}

/* The figures of one kind 5 batch, tallied per result and added to the
 * counters once for the batch. */
struct result_tally {
	uint32_t status[PS_SORT_STATUS_MAX + 1];   /* valid: 1..MAX */
	uint32_t held, unknown, busy, rounds, missorts;
};

static void add_tally(struct ps_counters *c, const struct result_tally *t)
{
	c->sort_sorted += t->status[PS_SORT_SORTED];
	c->sort_chute_full += t->status[PS_SORT_CHUTE_FULL];
	c->sort_chute_blocked += t->status[PS_SORT_CHUTE_BLOCKED];
	c->sort_discharge_failed += t->status[PS_SORT_DISCHARGE_FAILED];
	c->sort_no_destination += t->status[PS_SORT_NO_DESTINATION];
	c->sort_lost += t->status[PS_SORT_LOST];
	c->sort_held += t->held;
	c->sort_unknown += t->unknown;
	c->dedup_busy += t->busy;
	c->rounds += t->rounds;
	c->sort_missorts += t->missorts;
}

/* Kind 3: every valid entry in order, in force on every core on return. */
static unsigned apply_chute_states(struct ps_pipeline *pl, const uint8_t *pay,
				   const struct ps_header *h, uint32_t now)
{
	struct ps_chute_report e[PS_MAX_CHUTE_STATES];
	unsigned applied = 0;
	ps_chute_report_decode_burst(pay, h, e);
	for (unsigned i = 0; i < h->count; i++) {
		if (e[i].invalid) {
			(*invalid_counter(pl->cnt, h->kind, e[i].invalid))++;
			continue;
		}
		ps_chute_report(pl->chutes, e[i].chute, e[i].state,
				e[i].hold_s, now);
		applied++;
	}
	pl->cnt->chute_states += applied;
	return applied;
}

static void sort_event(struct ps_event *ev, const struct ps_sort_result *r,
		       uint32_t site, int known, int missort)
{
	memset(ev, 0, sizeof(*ev));
	memcpy(ev->waybill, r->waybill, PS_WAYBILL_LEN);
	ev->ts_ms = r->ts_ms;
	ev->event_seq = r->event_seq;
	ev->plan_version = r->plan_version;
	ev->site = site;
	ev->chute = r->chute;
	ev->type = PS_EVENT_SORT_RESULT;
	ev->status = r->status;
	ev->known = (uint8_t)known;
	ev->missort = (uint8_t)missort;
}

/* A result's waybill checked as the spec says (ps_waybill_check). */
static int waybill_ok(const struct ps_sort_result *r)
{
	uint8_t len;
	return ps_waybill_check(r->waybill, &len) == PS_WB_VALID;
}

/* One sort result valid but for its waybill, not yet checked: the
 * remembered entry changed (dedup.c), the figures tallied. The window and
 * the hold list hold only waybills that passed the check (sortable
 * records; ps_hold_waybill), so a waybill either knows is valid; the
 * others are checked here. Sets *known and returns whether it is a
 * missort, or -1 when the waybill is invalid (nothing changed or
 * tallied). */
static inline int apply_sort_result(struct ps_pipeline *pl,
				    const struct ps_plan *p,
				    const struct ps_holds *holds,
				    const struct ps_sort_result *r,
				    uint64_t hash, uint32_t now, int *known,
				    struct result_tally *t)
{
	struct ps_dedup_entry was;
	int missort = 0;
	*known = 0;
	if (holds && ps_holds_has_hash(holds, r->waybill, hash)) {
		if (!waybill_ok(r))     /* a list not from ps_hold_waybill */
			return -1;
		t->held++;               /* changes no remembered decision */
	} else {
		enum ps_dedup_result x = ps_dedup_sort_result(
			pl->dedup, hash, r->waybill, now, r->status, &was);
		if (x == PS_DEDUP_HIT) {
			*known = 1;
		} else {
			if (!waybill_ok(r))
				return -1;
			t->unknown++;
			t->busy += x == PS_DEDUP_BUSY;
		}
	}
	t->status[r->status]++;
	if (*known && r->status == PS_SORT_SORTED)
		missort = r->chute != was.dec.chute &&
			  (!p || (r->chute != p->reject &&
				  r->chute != p->intercept));
	else if (*known && r->status != PS_SORT_LOST)
		t->rounds++;
	t->missorts += (unsigned)missort;
	if (pl->loop) {
		struct ps_chute_sort_counters *k;
		if (r->status == PS_SORT_SORTED) {
			k = &pl->loop->chute[r->chute];
			k->sorted++;
			k->missorted += (unsigned)missort;
		} else if (*known && r->status != PS_SORT_LOST) {
			k = &pl->loop->chute[r->chute ? r->chute
						      : was.dec.chute];
			k->not_discharged++;
		}
	}
	return missort;
}

/* Kind 5: every valid entry in order; each exported as an event when
 * events are exported. Each entry is decoded, hashed and its window
 * bucket (and hold filter block) prefetched in one pass, the matching
 * slots prefetched in a second, so that the look-ups overlap instead of
 * waiting one by one; the counters are added once for the batch. A
 * waybill is checked only when the window does not know it (see
 * apply_sort_result); an entry that breaks another rule is decoded again
 * with the check, for the cause in the spec's order. */
static unsigned apply_sort_results(struct ps_pipeline *pl,
				   const struct ps_plan *p,
				   const struct ps_holds *holds,
				   const uint8_t *pay,
				   const struct ps_header *h, uint32_t now)
{
	struct ps_sort_result e[PS_MAX_SORT_RESULTS];
	struct ps_event ev[PS_MAX_SORT_RESULTS];
	uint64_t hash[PS_MAX_SORT_RESULTS];
	struct result_tally t = { 0 };
	unsigned applied = 0, n = h->count;
	const uint8_t *at = pay + PS_HDR_LEN;
	if (holds && !ps_holds_count(holds))
		holds = NULL;
	for (unsigned i = 0; i < n; i++, at += PS_SORT_RESULT_LEN) {
		if (ps_sort_result_decode_unchecked(at, &e[i]) != PS_ENT_VALID) {
			ps_sort_result_decode(at, &e[i]);
			continue;
		}
		hash[i] = ps_wb_hash64(e[i].waybill);   /* ps_dedup_hash */
		ps_dedup_prefetch(pl->dedup, hash[i]);
		if (holds)
			ps_holds_prefetch_hash(holds, hash[i]);
	}
	for (unsigned i = 0; i < n; i++)
		if (!e[i].invalid)
			ps_dedup_prefetch_entry(pl->dedup, hash[i]);
	for (unsigned i = 0; i < n; i++) {
		if (e[i].invalid) {
			(*invalid_counter(pl->cnt, h->kind, e[i].invalid))++;
			continue;
		}
		int known;
		int missort = apply_sort_result(pl, p, holds, &e[i], hash[i],
						now, &known, &t);
		if (missort < 0) {
			pl->cnt->sort_invalid_waybill++;
			continue;
		}
		if (pl->export_fn)
			sort_event(&ev[applied], &e[i], h->site, known,
				   missort);
		applied++;
	}
	add_tally(pl->cnt, &t);
	if (pl->export_fn && applied)
		pl->export_fn(pl->export_ctx, ev, applied);
	return applied;
}

/* A well-formed kind 3 or 5 request from a sorter controller: applied at
 * once, then answered by its acknowledgement, written in place (16 bytes,
 * never more than the request). */
static void sorter_request(struct ps_pipeline *pl, const struct ps_plan *p,
			   const struct ps_holds *holds, struct ps_pkt_buf *pk,
			   const struct ps_header *h, const struct ps_frame *f,
			   uint32_t now)
{
	uint8_t *pay = pk->data + f->payload_off;
	unsigned applied = h->kind == PS_KIND_CHUTE_STATE
		? apply_chute_states(pl, pay, h, now)
		: apply_sort_results(pl, p, holds, pay, h, now);
	size_t plen = ps_ack_encode(pay, h, p ? p->site : pl->site,
				    (uint16_t)applied);
	pk->out_len = ps_pkt_reply_udp_tx(pl->net, pk->data, f, (uint16_t)plen,
					  &pk->tx);
	pk->send = 1;
	pl->cnt->answered[PS_ANS_ACK]++;
}

/* Phase 1: classify frames from *from on; answer ARP/ND/ping; apply and
 * acknowledge the sorter's requests; collect the scan batches. A sorter
 * request that follows collected scan batches is kept in b->held and
 * classifying stops after it (*from): the scans before it are decided
 * first, then it applies, so the frames of a burst take effect in the
 * order they came. */
static void classify(struct ps_pipeline *pl, const struct ps_plan *p,
		     const struct ps_holds *holds, struct ps_pkt_buf *pkts,
		     unsigned *from, unsigned n, struct burst *b,
		     uint32_t now)
{
	struct ps_counters *c = pl->cnt;
	uint64_t rx_bytes = 0;
	unsigned i;
	for (i = *from; i < n; i++) {
		struct ps_pkt_buf *pk = &pkts[i];
		struct request *r = &b->req[b->n_req];
		uint8_t why;
		uint16_t nl;
		pk->send = 0;
		pk->is_request = 0;
		pk->tx.flags = 0;
		rx_bytes += pk->len;
		/* ps_pkt_input_csum, its one-pass path inline */
		enum ps_pkt_verdict v =
			ps_pkt_fast_request4(pl->net, pk->data, pk->len,
					     pk->rx_csum, &r->f)
				? PS_PKT_REQUEST
				: ps_pkt_input_general(pl->net, pk->data,
						       pk->len, pk->rx_csum,
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
		/* the spec's order: magic, version, kind; the kind's
		 * allow-list; count, flags, length (a well-formed scan
		 * batch passes both header stages at once, leaving the
		 * allow-list, which the order puts between them, to refuse
		 * it as before) */
		const uint8_t *pay = pk->data + r->f.payload_off;
		uint8_t refused;
		if (likely(ps_header_scan_ok(pay, r->f.payload_len, &r->h))) {
			refused = sender_refused(pl->net, &r->h, &r->f);
			if (refused) {
				c->drops[refused]++;
				continue;
			}
		} else {
			enum ps_hdr_status hs = ps_header_check_kind(
				pay, r->f.payload_len, &r->h);
			if (hs != PS_HDR_OK) {
				c->drops[hdr_drop[hs]]++;
				continue;
			}
			refused = sender_refused(pl->net, &r->h, &r->f);
			if (refused) {
				c->drops[refused]++;
				continue;
			}
			hs = ps_header_check_body(&r->h, r->f.payload_len);
			if (hs != PS_HDR_OK) {
				c->drops[hdr_drop[hs]]++;
				continue;
			}
		}
		if (pl->capture)        /* a request, before its reply */
			ps_capture_offer(pl->capture, pk->data, pk->len);
		if (r->h.kind != PS_KIND_SCAN) {
			if (b->n_req) {
				b->held = *r;
				b->held.pkt = (uint16_t)i;
				b->has_held = 1;
				i++;
				break;
			}
			sorter_request(pl, p, holds, pk, &r->h, &r->f, now);
			continue;
		}
		r->pkt = (uint16_t)i;
		r->first = (uint16_t)b->n_rec;
		b->n_rec += ps_scan_decode_burst(pk->data + r->f.payload_off,
						 &r->h, &b->scan[b->n_rec]);
		pk->is_request = 1;
		b->n_req++;
	}
	c->rx_frames += i - *from;
	c->rx_bytes += rx_bytes;
	*from = i;
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

/* Phase 2: steps 1-5 of the decision order; sortable records are listed
 * with their waybill's hash, the one the duplicate window and the hold
 * set both read (with a hold list, its filter block prefetched here, as
 * far ahead of the look-up as the burst allows). */
static unsigned pre_decide(const struct ps_plan *p,
			   const struct ps_holds *holds, struct burst *b)
{
	unsigned ns = 0;
	for (unsigned i = 0; i < b->n_rec; i++) {
		const struct ps_scan *s = &b->scan[i];
		struct ps_decision *d = &b->dec[i];
		d->event_seq = s->event_seq;
		b->src[i] = s->region ? PS_REGION_SCANNER : PS_REGION_NONE;
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
			b->hash[i] = ps_dedup_hash(s->waybill);
			if (holds)
				ps_holds_prefetch_hash(holds, b->hash[i]);
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

static inline void intercept(struct ps_decision *d, const struct ps_plan *p)
{
	reject(d, p, PS_R_INTERCEPTED);
	d->chute = p->intercept;
}

/* Steps 6-8 for one sortable record; 1 when decided (intercepted, at the
 * recirculation limit, or a duplicate), 0 when it is to be decided
 * afresh. maybe_held: the hold filter's answer (0 without a list). */
static inline int held_or_remembered(struct ps_pipeline *pl,
				     const struct ps_plan *p,
				     const struct ps_holds *holds,
				     const struct ps_scan *s, uint64_t hash,
				     int maybe_held,
				     struct ps_decision *d, uint32_t now)
{
	struct ps_counters *c = pl->cnt;
	if (maybe_held && ps_holds_table_has(holds, s->waybill, hash)) {
		intercept(d, p);        /* never remembered, never a duplicate */
		return 1;
	}
	struct ps_dedup_entry e;
	if (ps_dedup_lookup_entry(pl->dedup, hash, s->waybill, now, &e) !=
	    PS_DEDUP_HIT)
		return 0;
	if (p->recirculate && e.rounds >= p->recirculate) {
		reject(d, p, PS_R_RECIRC_LIMIT);   /* stays remembered */
		return 1;
	}
	if (e.not_discharged ||
	    !ps_plan_chute_available(p, pl->chutes, e.dec.chute))
		return 0;
	as_duplicate(d, &e.dec);
	c->dedup_hits++;
	return 1;
}

/* Step 8's manifest look-up, made for every sortable record of region 0
 * in one burst before the duplicate window is read: the window's lines
 * then stay in cache (and their pages in the TLB) from its look-up to its
 * insert. A record found a duplicate or held has looked up for nothing. */
static void look_up_manifest(struct ps_pipeline *pl, struct burst *b,
			     unsigned ns)
{
	const uint8_t *wbs[MAX_RECS];
	uint16_t at[MAX_RECS];
	uint64_t region[MAX_RECS];
	unsigned m = 0;
	b->manifest_looked = 0;
	if (!pl->manifest || ps_manifest_empty(pl->manifest))
		return;
	for (unsigned i = 0; i < ns; i++) {
		unsigned k = b->sortable[i];
		if (b->scan[k].region)
			continue;
		wbs[m] = b->scan[k].waybill;
		at[m++] = (uint16_t)k;
	}
	if (!m)
		return;
	ps_manifest_get_burst(pl->manifest, wbs, m, pl->manifest_now_ms,
			      region);
	for (unsigned j = 0; j < m; j++)
		b->manifest_region[at[j]] = region[j];
	b->manifest_looked = 1;
}

/* The end of step 8: the fresh records of region 0 take their waybill's
 * region from the manifest (look_up_manifest's answer); counted once the
 * inserts have said which stay fresh (count_manifest). */
static void resolve_regions(struct burst *b, unsigned nf)
{
	/* not the manifest's emptiness again: an entry added since the
	 * look-up would make this burst read another burst's answers */
	int any = b->manifest_looked;
	for (unsigned i = 0; i < nf; i++) {
		unsigned k = b->fresh[i];
		if (b->scan[k].region)
			continue;
		uint64_t r = any ? b->manifest_region[k] : 0;
		b->scan[k].region = r;
		b->src[k] = r ? PS_REGION_MANIFEST : PS_REGION_MISSED;
	}
}

/* A record found a DUPLICATE at its insert (an earlier record of this
 * burst, or another core, inserted its waybill first) answers the first
 * decision: as one found at the look-up, it took no region from the
 * manifest. */
static inline void region_unused(struct burst *b, unsigned k)
{
	if (b->src[k] >= PS_REGION_MANIFEST) {
		b->scan[k].region = 0;
		b->src[k] = PS_REGION_NONE;
	}
}

/* The manifest's counters, after the inserts: only the records decided
 * with its answer (a region, or none found). */
static void count_manifest(struct ps_pipeline *pl, const struct burst *b,
			   unsigned nf)
{
	unsigned hits = 0, misses = 0;
	for (unsigned i = 0; i < nf; i++) {
		uint8_t src = b->src[b->fresh[i]];
		hits += src == PS_REGION_MANIFEST;
		misses += src == PS_REGION_MISSED;
	}
	pl->cnt->manifest_resolved += hits;
	pl->cnt->manifest_missed += misses;
}

/* Phase 3: steps 6-8 (intercept list, recirculation, duplicate window) and
 * steps 9-12 in one plan burst. */
static void decide(struct ps_pipeline *pl, const struct ps_plan *p,
		   const struct ps_holds *holds, struct burst *b, unsigned ns,
		   uint32_t now)
{
	struct ps_counters *c = pl->cnt;
	struct ps_dedup *dd = pl->dedup;
	unsigned nf = 0, i;
	uint64_t t_start = tsc();
	look_up_manifest(pl, b, ns);
	/* the look-ups with their buckets prefetched a fixed distance ahead
	 * (the hashes are pre_decide's): far enough to hide a miss, near
	 * enough that the line is still in L1 when its turn comes (a burst
	 * has up to 32 x 22 records) */
	for (i = 0; i < ns && i < DEDUP_AHEAD; i++)
		ps_dedup_prefetch(dd, b->hash[b->sortable[i]]);
	for (i = 0; i < ns && i < ENTRY_AHEAD; i++)
		ps_dedup_prefetch_entry(dd, b->hash[b->sortable[i]]);
	/* step 6's filter for the whole burst at once, its blocks
	 * prefetched in pre_decide; the table is read below only for the
	 * records it lets through */
	if (holds)
		ps_holds_filter_burst(holds, b->hash, b->sortable, ns,
				      b->maybe_held);
	for (i = 0; i < ns; i++) {
		unsigned k = b->sortable[i];
		if (i + DEDUP_AHEAD < ns)
			ps_dedup_prefetch(dd, b->hash[b->sortable[i + DEDUP_AHEAD]]);
		if (i + ENTRY_AHEAD < ns)
			ps_dedup_prefetch_entry(dd,
						b->hash[b->sortable[i + ENTRY_AHEAD]]);
		if (!held_or_remembered(pl, p, holds, &b->scan[k], b->hash[k],
					holds && b->maybe_held[k], &b->dec[k],
					now))
			b->fresh[nf++] = (uint16_t)k;
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
	/* the slots the first inserts take: on their way during the plan */
	for (i = 0; i < nf && i < INSERT_AHEAD; i++)
		ps_dedup_prefetch_insert(dd, b->hash[b->fresh[i]], now);
	resolve_regions(b, nf);
	uint64_t td = tsc();
	c->cyc_dedup += td - t_start;
	ps_plan_decide_burst(p, pl->chutes, sp, dp, nf);
	uint64_t te = tsc();
	c->cyc_decide += te - td;
	for (i = 0; i < nf; i++) {
		unsigned k = b->fresh[i];
		if (i + INSERT_AHEAD < nf)
			ps_dedup_prefetch_insert(dd, b->hash[b->fresh[i + INSERT_AHEAD]],
						 now);
		if (!remembered(b->dec[k].reason))
			continue;
		struct ps_decision first;
		int evicted;
		enum ps_dedup_result r = ps_dedup_insert_exempt(
			dd, b->hash[k], b->scan[k].waybill, now, &b->dec[k],
			pl->chutes, p->reject, p->intercept, &first, &evicted);
		if (r == PS_DEDUP_HIT) {
			/* an earlier record (this burst, another core) won */
			as_duplicate(&b->dec[k], &first);
			region_unused(b, k);
			c->dedup_hits++;
		} else if (r == PS_DEDUP_BUSY) {
			c->dedup_busy++;
		} else {
			c->dedup_inserts++;
			c->dedup_evictions += (unsigned)evicted;
		}
	}
	count_manifest(pl, b, nf);
	c->cyc_dedup += tsc() - te;
}

/* Per device: records, NOREAD, BAD_BARCODE, malformed, duplicates, and
 * when it was last heard. */
static void count_devices(struct ps_loop_counters *l, const struct burst *b,
			  uint32_t now)
{
	for (unsigned i = 0; i < b->n_rec; i++) {
		struct ps_device_counters *v = &l->device[b->scan[i].device];
		uint8_t r = b->dec[i].reason;
		v->records++;
		v->noread += r == PS_R_NOREAD;
		v->bad_barcode += r == PS_R_BAD_BARCODE;
		v->malformed += r == PS_R_MALFORMED_RECORD;
		v->duplicates += r == PS_R_DUPLICATE;
		v->manifest_resolved += b->src[i] == PS_REGION_MANIFEST;
		v->manifest_missed += b->src[i] == PS_REGION_MISSED;
		v->last_heard_s = (uint64_t)now + 1;
	}
}

static void count_records(struct ps_pipeline *pl, const struct burst *b,
			  uint32_t now)
{
	struct ps_counters *c = pl->cnt;
	c->records += b->n_rec;
	for (unsigned i = 0; i < b->n_rec; i++) {
		const struct ps_decision *d = &b->dec[i];
		c->records_by_reason[d->reason]++;
		c->records_by_tier[d->tier < PS_TIER_COUNT ? d->tier : 0]++;
		c->chute[d->chute]++;
		c->malformed_by_cause[b->scan[i].malformed]++;
	}
	if (pl->loop)
		count_devices(pl->loop, b, now);
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
			uint8_t src = b->src[i];
			e->region = src == PS_REGION_MANIFEST ? 0 : s->region;
			e->region_used = s->region;
			e->region_src = src == PS_REGION_MISSED ? PS_REGION_NONE
								: src;
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
			e->weight_g = s->weight_g;
			e->length_mm = s->length_mm;
			e->width_mm = s->width_mm;
			e->height_mm = s->height_mm;
			e->carrier = s->carrier;
			e->service = s->service;
			e->type = PS_EVENT_SCAN;
			e->status = 0;
			e->missort = 0;
			e->known = 0;
			if (n == 64) {
				pl->export_fn(pl->export_ctx, ev, n);
				n = 0;
			}
		}
	}
	if (n)
		pl->export_fn(pl->export_ctx, ev, n);
}

/* Phase 4: replies in place, the payloads of the whole burst first, then
 * each frame's headers and checksums (ps_pkt_reply_request reads the
 * payload back for the UDP checksum: by then its stores are done). */
static void reply(struct ps_pipeline *pl, const struct ps_plan *p,
		  struct ps_pkt_buf *pkts, struct burst *b)
{
	uint32_t site = p ? p->site : pl->site;
	uint16_t plen[PS_BURST];
	for (unsigned r = 0; r < b->n_req; r++) {
		struct request *q = &b->req[r];
		plen[r] = (uint16_t)ps_reply_build_inplace(
			pkts[q->pkt].data + q->f.payload_off, &q->h, site,
			&b->scan[q->first], &b->dec[q->first]);
	}
	for (unsigned r = 0; r < b->n_req; r++) {
		struct request *q = &b->req[r];
		struct ps_pkt_buf *pk = &pkts[q->pkt];
		pk->out_len = ps_pkt_reply_request(pl->net, pk->data, &q->f,
						   plen[r], pk->rx_csum,
						   &pk->tx);
		pk->send = 1;
	}
	pl->cnt->answered[PS_ANS_DECISION] += b->n_req;
}

uint64_t ps_pipeline_run_tsc(struct ps_pipeline *pl, struct ps_pkt_buf *pkts,
			     unsigned n, uint32_t now_s, uint64_t t_in)
{
	static __thread struct burst b;
	struct ps_counters *c = pl->cnt;
	uint64_t t0 = t_in, t1, t2;
	b.n_req = 0;
	b.n_rec = 0;
	if (now_s != pl->lapse_s || (pl->manifest && !pl->manifest_now_ms)) {
		/* once a second: sorter reports whose time has passed, and
		 * the wall clock manifest entries lapse by (vDSO, no
		 * syscall) */
		pl->lapse_s = now_s;
		ps_chutes_lapse(pl->chutes, now_s);
		if (pl->manifest)
			pl->manifest_now_ms = ps_now_ms();
	}
	const struct ps_plan *p = rcu_dereference(*pl->plan_slot);
	const struct ps_holds *holds = pl->holds_slot
		? rcu_dereference(*pl->holds_slot) : NULL;
	/* an empty list costs the scans nothing */
	const struct ps_holds *scan_holds = ps_holds_count(holds) ? holds
								  : NULL;
	unsigned from = 0;
	while (from < n) {
		b.n_req = 0;
		b.n_rec = 0;
		classify(pl, p, holds, pkts, &from, n, &b, now_s);
		if (!b.n_req) {
			t1 = tsc();
			c->cyc_parse += t1 - t0;
			return t1;
		}
		unsigned ns = pre_decide(p, scan_holds, &b);
		t1 = tsc();
		c->cyc_parse += t1 - t0;
		t2 = t1;
		if (ns) {
			decide(pl, p, scan_holds, &b, ns, now_s);
			t2 = tsc();
		}
		count_records(pl, &b, now_s);
		if (pl->export_fn)
			export_events(pl, &b);
		reply(pl, p, pkts, &b);
		t0 = tsc();
		c->cyc_reply += t0 - t2;
		if (b.has_held) {
			struct request *q = &b.held;
			b.has_held = 0;
			sorter_request(pl, p, holds, &pkts[q->pkt], &q->h,
				       &q->f, now_s);
			t1 = tsc();
			c->cyc_parse += t1 - t0;
			t0 = t1;
		}
	}
	return t0;
}

void ps_pipeline_run(struct ps_pipeline *pl, struct ps_pkt_buf *pkts,
		     unsigned n, uint32_t now_s)
{
	ps_pipeline_run_tsc(pl, pkts, n, now_s, tsc());
}
