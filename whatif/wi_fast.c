/* wi_fast.c: the what-if's replay of a burst under both plans in one pass
 * (see wi_engine.h). It does what two dataplane pipelines (pipeline.c)
 * would, in their order, and no more: each frame classified and checked
 * once (the checks and the sender allow-lists do not depend on the plan);
 * chute states and sort results applied where the pipeline applies them
 * (a sorter request after scan batches of the burst ends the batches'
 * segment: the scans before it are decided first); the scan batches of a
 * segment decoded once, then steps 1-5 for both plans, the intercept list
 * (step 6) once, the duplicate window (steps 7-8) for both plans from one
 * look at a bucket that keeps both plans' entries (wi_window.h), the
 * manifest once for the records fresh under either plan, each plan's
 * fresh records decided in one burst call into it (steps 9-12), and each
 * plan's new decisions remembered, in record order, as the pipeline's
 * inserts do. The chute states are the same under both plans (the same
 * start, the same reports, the same clock): one copy. Nothing is written
 * into the capture: the frames are read where they are mapped. */
#include <stdlib.h>
#include <string.h>

#include "ps_clock.h"
#include "ps_wire.h"
#include "wi_engine.h"
#include "wi_window.h"

#define MAX_RECS (PS_BURST * PS_MAX_RECORDS)
#define HEAD_AHEAD 32     /* a bucket's heads prefetched this many ahead */
#define ALT_AHEAD 12      /* then, its heads in, its second bucket's */
#define INSERT_AHEAD 24   /* an insert's head and way, from the second-level
			   * cache, this many ahead */

struct wi_fast {
	const struct ps_plan *plan[2];
	const struct ps_holds *holds;      /* NULL: none */
	const struct ps_holds *scan_holds; /* NULL also when empty */
	const struct ps_manifest *manifest;
	uint64_t manifest_now_ms;
	const struct ps_net_cfg *net;
	struct ps_chute_state *chutes;
	struct wi_window win;
	uint32_t lapse_s;
	uint64_t scan_datagrams, sorter_datagrams, dropped;
	/* the segment: the scan batches since the last sorter request */
	unsigned n_rec;
	struct ps_scan scan[MAX_RECS];
	uint64_t hash[MAX_RECS];
	uint64_t hold_hash[MAX_RECS];
	uint16_t sortable[MAX_RECS];
	uint8_t fresh_any[MAX_RECS];      /* bit k: fresh under plan k */
	uint8_t way[2][MAX_RECS];         /* the way its insert will likely
					   * write, under each plan, with
					   * WI_SURE (wi_window.h) */
	struct wi_dec dec[2][MAX_RECS];
	struct ps_decision pd[2][MAX_RECS]; /* the plans' fresh decisions */
	uint8_t scratch[65536];           /* a frame the classifier may
					   * answer in place (ARP, ping) */
};

struct wi_fast *wi_fast_open(const struct wi_opts *o,
			     const struct ps_net_cfg *net)
{
	struct wi_fast *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->chutes = malloc(sizeof(*e->chutes));
	if (!e->chutes ||
	    wi_window_init(&e->win, o->capacity ? o->capacity
						: WI_DEFAULT_CAPACITY,
			   o->window_s ? o->window_s : WI_DEFAULT_WINDOW_S)) {
		wi_fast_close(e);
		return NULL;
	}
	if (o->chutes)
		memcpy(e->chutes, o->chutes, sizeof(*e->chutes));
	else
		ps_chutes_init(e->chutes);
	e->plan[0] = o->plan[0];
	e->plan[1] = o->plan[1];
	e->holds = o->holds;
	e->scan_holds = ps_holds_count(o->holds) ? o->holds : NULL;
	/* offline: just loaded, nothing in it has lapsed at the start */
	e->manifest = o->manifest;
	e->manifest_now_ms = ps_now_ms();
	e->net = net;
	return e;
}

void wi_fast_close(struct wi_fast *e)
{
	if (!e)
		return;
	wi_window_free(&e->win);
	free(e->chutes);
	free(e);
}

void wi_fast_count(const struct wi_fast *e, struct wi_result *r)
{
	r->scan_datagrams = e->scan_datagrams;
	r->sorter_datagrams = e->sorter_datagrams;
	r->dropped = e->dropped;
}

/* ---------------------------------------------------------- decisions */

static inline void set(struct wi_dec *d, uint8_t reason, uint32_t hub,
		       uint16_t chute)
{
	d->reason = reason;
	d->hub = hub;
	d->chute = chute;
}

/* Steps 1-5 under both plans; the sortable records listed. */
static unsigned pre_decide(struct wi_fast *e)
{
	unsigned ns = 0;
	for (unsigned i = 0; i < e->n_rec; i++) {
		const struct ps_scan *s = &e->scan[i];
		e->dec[0][i].ts_ms = e->dec[1][i].ts_ms = s->ts_ms;
		e->fresh_any[i] = 0;
		uint8_t reason;
		switch (s->klass) {
		case PS_CLASS_TRACK_ONLY:
			set(&e->dec[0][i], PS_R_TRACK_ONLY, 0, 0);
			set(&e->dec[1][i], PS_R_TRACK_ONLY, 0, 0);
			continue;
		case PS_CLASS_MALFORMED:
			reason = PS_R_MALFORMED_RECORD;
			break;
		case PS_CLASS_NOREAD:
			reason = PS_R_NOREAD;
			break;
		case PS_CLASS_BAD_BARCODE:
			reason = PS_R_BAD_BARCODE;
			break;
		default:         /* as the pipeline: everything else */
			e->sortable[ns++] = (uint16_t)i;
			continue;
		}
		for (int k = 0; k < 2; k++)
			set(&e->dec[k][i], reason, 0, e->plan[k]->reject);
	}
	return ns;
}

/* Steps 7-8 for one record and plan whose waybill the look-up found
 * remembered (m): 1 decided (the recirculation limit, or a duplicate), 0
 * fresh (and the way its insert will write in way[k][i], prefetched: its
 * head is at hand). */
static inline int remembered_under(struct wi_fast *e, int k, unsigned i,
				   uint32_t now, const struct wi_entry *mp)
{
	const struct ps_plan *p = e->plan[k];
	struct wi_entry m = *mp;
	if (p->recirculate && m.rounds >= p->recirculate) {
		set(&e->dec[k][i], PS_R_RECIRC_LIMIT, 0, p->reject);
		return 1;
	}
	if (m.not_discharged ||
	    !ps_plan_chute_available(p, e->chutes, m.chute)) {
		/* decided afresh, its entry replaced (not WI_SURE) */
		e->way[k][i] = (uint8_t)wi_window_prefetch_insert(&e->win, k,
								  e->hash[i],
								  now);
		return 0;
	}
	set(&e->dec[k][i], PS_R_DUPLICATE, m.hub, m.chute);
	return 1;
}

/* Steps 6-8 for every sortable record, both plans; fresh_any says which
 * plans decide it afresh. */
static void look_up(struct wi_fast *e, unsigned ns, uint32_t now)
{
	const struct ps_holds *holds = e->scan_holds;
	unsigned i;
	for (i = 0; i < ns; i++) {
		unsigned r = e->sortable[i];
		e->hash[r] = ps_dedup_hash(e->scan[r].waybill);
		if (i < HEAD_AHEAD)
			wi_window_prefetch(&e->win, e->hash[r]);
		if (holds) {
			e->hold_hash[r] = ps_holds_hash(e->scan[r].waybill);
			ps_holds_prefetch_hash(holds, e->hold_hash[r]);
		}
	}
	for (i = 0; i < ns; i++) {
		unsigned r = e->sortable[i];
		if (i + HEAD_AHEAD < ns)
			wi_window_prefetch(&e->win,
					   e->hash[e->sortable[i + HEAD_AHEAD]]);
		if (i + ALT_AHEAD < ns)
			wi_window_prefetch_alt(&e->win,
					       e->hash[e->sortable[i + ALT_AHEAD]]);
		if (holds && ps_holds_has_hash(holds, e->scan[r].waybill,
					       e->hold_hash[r])) {
			/* never remembered, never a duplicate */
			for (int k = 0; k < 2; k++)
				set(&e->dec[k][r], PS_R_INTERCEPTED, 0,
				    e->plan[k]->intercept);
			continue;
		}
		struct wi_entry m[2];
		uint8_t hint[2] = { 0, 0 };
		unsigned found = wi_window_look_both(&e->win, e->hash[r],
						     e->scan[r].waybill, now,
						     m, hint);
		for (int k = 0; k < 2; k++) {
			e->way[k][r] = hint[k];
			if (!(found >> k & 1) ||
			    !remembered_under(e, k, r, now, &m[k]))
				e->fresh_any[r] |= (uint8_t)(1u << k);
		}
	}
}

/* The end of step 8: the region-0 records fresh under either plan take
 * their waybill's region from the manifest (the same under both). */
static void resolve_regions(struct wi_fast *e, unsigned ns)
{
	const uint8_t *wbs[MAX_RECS];
	uint16_t at[MAX_RECS];
	uint64_t region[MAX_RECS];
	unsigned m = 0;
	if (!e->manifest)
		return;          /* region 0 stays 0 */
	for (unsigned i = 0; i < ns; i++) {
		unsigned r = e->sortable[i];
		if (!e->fresh_any[r] || e->scan[r].region)
			continue;
		wbs[m] = e->scan[r].waybill;
		at[m++] = (uint16_t)r;
	}
	if (!m)
		return;
	ps_manifest_get_burst(e->manifest, wbs, m, e->manifest_now_ms, region);
	for (unsigned j = 0; j < m; j++)
		e->scan[at[j]].region = region[j];
}

static inline int remembered(uint8_t reason)
{
	return reason == PS_R_ROUTED || reason == PS_R_OVERRIDE ||
	       reason == PS_R_DEFAULT;
}

/* Steps 9-12 for plan k's fresh records in one burst call. */
static void decide_plan(struct wi_fast *e, int k, unsigned ns)
{
	const struct ps_scan *sp[MAX_RECS];
	struct ps_decision *dp[MAX_RECS];
	unsigned nf = 0;
	for (unsigned i = 0; i < ns; i++) {
		unsigned r = e->sortable[i];
		if (!(e->fresh_any[r] >> k & 1))
			continue;
		sp[nf] = &e->scan[r];
		dp[nf++] = &e->pd[k][r];
	}
	if (nf)
		ps_plan_decide_burst(e->plan[k], e->chutes, sp, dp, nf);
}

static inline void prefetch_inserts(struct wi_fast *e, unsigned r)
{
	for (int k = 0; k < 2; k++)
		if (e->fresh_any[r] >> k & 1)
			wi_window_prefetch_again(&e->win, k, e->hash[r],
						 e->way[k][r]);
}

/* The fresh decisions remembered, in record order under each plan (a
 * record whose waybill an earlier one of the segment just remembered is
 * its duplicate); a record's two inserts one after the other, as they
 * read the same bucket. */
static void remember(struct wi_fast *e, unsigned ns, uint32_t now)
{
	unsigned i;
	for (i = 0; i < ns && i < INSERT_AHEAD; i++)
		prefetch_inserts(e, e->sortable[i]);
	for (i = 0; i < ns; i++) {
		unsigned r = e->sortable[i];
		if (i + INSERT_AHEAD < ns)
			prefetch_inserts(e, e->sortable[i + INSERT_AHEAD]);
		for (int k = 0; k < 2; k++) {
			if (!(e->fresh_any[r] >> k & 1))
				continue;
			const struct ps_plan *p = e->plan[k];
			const struct ps_decision *d = &e->pd[k][r];
			struct wi_entry first;
			set(&e->dec[k][r], d->reason, d->hub, d->chute);
			if (remembered(d->reason) &&
			    wi_window_insert_hinted(&e->win, k, e->hash[r],
						    e->scan[r].waybill, now,
						    d->hub, d->chute,
						    e->chutes, p->reject,
						    p->intercept, &first,
						    e->way[k][r]))
				set(&e->dec[k][r], PS_R_DUPLICATE, first.hub,
				    first.chute);
		}
	}
}

/* The segment's scan batches decided under both plans and tallied. */
static void decide_segment(struct wi_fast *e, uint32_t now,
			   struct wi_result *r)
{
	if (!e->n_rec)
		return;
	unsigned ns = pre_decide(e);
	if (ns) {
		wi_window_begin(&e->win);
		look_up(e, ns, now);
		resolve_regions(e, ns);
		decide_plan(e, 0, ns);
		decide_plan(e, 1, ns);
		remember(e, ns, now);
	}
	for (unsigned i = 0; i < e->n_rec; i++)
		wi_result_add(r, &e->dec[0][i], &e->dec[1][i]);
	e->n_rec = 0;
}

/* ------------------------------------------------------ sorter requests */

static void chute_states(struct wi_fast *e, const uint8_t *pay,
			 const struct ps_header *h, uint32_t now)
{
	struct ps_chute_report c[PS_MAX_CHUTE_STATES];
	ps_chute_report_decode_burst(pay, h, c);
	for (unsigned i = 0; i < h->count; i++)
		if (!c[i].invalid)
			ps_chute_report(e->chutes, c[i].chute, c[i].state,
					c[i].hold_s, now);
}

/* A held waybill's result changes nothing remembered (pipeline.c). */
static void sort_results(struct wi_fast *e, const uint8_t *pay,
			 const struct ps_header *h, uint32_t now)
{
	struct ps_sort_result s[PS_MAX_SORT_RESULTS];
	ps_sort_result_decode_burst(pay, h, s);
	for (unsigned i = 0; i < h->count; i++) {
		if (s[i].invalid || ps_holds_has(e->holds, s[i].waybill))
			continue;
		uint64_t hash = ps_dedup_hash(s[i].waybill);
		for (int k = 0; k < 2; k++)
			wi_window_sort_result(&e->win, k, hash, s[i].waybill,
					      now, s[i].status);
	}
}

/* ------------------------------------------------------------- frames */

/* Is the frame IPv4 or IPv6 with UDP next? Then the classifier answers
 * nothing in it (only ARP, ICMP and ND are answered) and it is read where
 * it is. */
static int is_udp(const uint8_t *f, uint16_t len)
{
	unsigned off = 12;
	if (len < 18)
		return 0;
	unsigned et = (unsigned)f[off] << 8 | f[off + 1];
	if (et == PS_ETH_P_VLAN) {
		off += 4;
		et = (unsigned)f[off] << 8 | f[off + 1];
	}
	off += 2;
	if (et == PS_ETH_P_IPV4)
		return len >= off + 20 && f[off + 9] == 17;
	return et == PS_ETH_P_IPV6 && len >= off + 40 && f[off + 6] == 17;
}

/* The pipeline's classify(): 1 with *h and *f for a request that passed
 * every check, 0 for anything else (dropped frames counted). */
static int request(struct wi_fast *e, const uint8_t *frame, uint16_t len,
		   struct ps_header *h, struct ps_frame *f)
{
	uint8_t why;
	uint16_t nl;
	uint8_t *at = (uint8_t *)(uintptr_t)frame;
	if (!is_udp(frame, len)) {
		memcpy(e->scratch, frame, len);
		at = e->scratch;
	}
	enum ps_pkt_verdict v = ps_pkt_input_csum(e->net, at, len, 0, f,
						  &why, &nl);
	if (v != PS_PKT_REQUEST) {
		e->dropped += v == PS_PKT_DROP;
		return 0;
	}
	const uint8_t *pay = frame + f->payload_off;
	if (ps_header_check_kind(pay, f->payload_len, h) != PS_HDR_OK) {
		e->dropped++;
		return 0;
	}
	const struct ps_net_cfg *net = e->net;
	int allowed = h->kind == PS_KIND_SCAN
		? ps_prefix_allowed(net->allow, net->n_allow, f->ip_ver,
				    f->src)
		: net->n_sorter_allow &&
		  ps_prefix_allowed(net->sorter_allow, net->n_sorter_allow,
				    f->ip_ver, f->src);
	if (!allowed || ps_header_check_body(h, f->payload_len) != PS_HDR_OK) {
		e->dropped++;
		return 0;
	}
	return 1;
}

void wi_fast_run(struct wi_fast *e, const uint8_t *const *frame,
		 const uint16_t *len, unsigned n, uint32_t now_s,
		 struct wi_result *r)
{
	if (now_s != e->lapse_s) {
		/* once a second, as the pipeline: lapsed sorter reports */
		e->lapse_s = now_s;
		ps_chutes_lapse(e->chutes, now_s);
	}
	e->n_rec = 0;
	for (unsigned i = 0; i < n; i++) {
		struct ps_header h;
		struct ps_frame f;
		if (!request(e, frame[i], len[i], &h, &f))
			continue;
		const uint8_t *pay = frame[i] + f.payload_off;
		if (h.kind == PS_KIND_SCAN) {
			e->n_rec += ps_scan_decode_burst(pay, &h,
							 &e->scan[e->n_rec]);
			e->scan_datagrams++;
			continue;
		}
		decide_segment(e, now_s, r);
		if (h.kind == PS_KIND_CHUTE_STATE)
			chute_states(e, pay, &h, now_s);
		else
			sort_results(e, pay, &h, now_s);
		e->sorter_datagrams++;
	}
	decide_segment(e, now_s, r);
}
