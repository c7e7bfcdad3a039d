/* sorter.c: the sorter controller model of parcelsort-gen (see sorter.h):
 * parcels in a fixed window of slots, each moving scan -> decision ->
 * transit -> discharge -> (round -> re-scan ...) -> fate; the datagrams
 * that carry it; the replies that drive it. */
#include "sorter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum parcel_state {
	P_FREE = 0,
	P_SCAN_DUE,     /* in scan_q */
	P_SCANNED,      /* its scan is out, waiting for the decision */
	P_TRANSIT,      /* decided, riding to its chute */
	P_ROUND,        /* went round: re-scan at due_ms, once acked */
	P_RESULT_FINAL, /* has its fate; freed once its result is sent */
};

struct ps_parcel {
	struct ps_gen_rec rec;
	uint64_t due_ms;
	uint32_t plan_version;
	uint16_t chute;
	uint8_t state;
	uint8_t rounds;
	uint8_t awaiting_ack;   /* its not-discharged result is not acked yet */
};

struct ps_outstanding {
	uint64_t sent_ms;
	uint32_t seq;
	uint8_t kind;
	uint8_t in_use;
	uint16_t count;
	uint32_t parcel[PS_MAX_SORT_RESULTS]; /* UINT32_MAX: none waiting */
};

#define NO_PARCEL UINT32_MAX

void ps_sorter_cfg_defaults(struct ps_sorter_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->full_p = 0.03;
	c->failed_p = 0.02;
	c->lost_p = 0.002;
	c->missort_p = 0;
	c->transit_ms = 50;
	c->round_ms = 300;
	c->hold_s = 3;
	c->max_rounds = 20;
	c->batch_ms = 10;
	c->reply_ms = 1000;
	c->rate = 500;
	c->parcels = 1000;
	c->window = 4096;
	c->rec_max = PS_MAX_RECORDS;
	c->seed = 1;
}

/* ---- queues of parcel slots ---- */

static int q_init(struct ps_sorter_queue *q, uint32_t cap)
{
	q->v = calloc(cap, sizeof(*q->v));
	q->head = q->n = 0;
	q->cap = cap;
	return q->v ? 0 : -1;
}

static uint32_t q_push(struct ps_sorter_queue *q, uint32_t v)
{
	uint32_t pos = (q->head + q->n++) % q->cap;
	q->v[pos] = v;
	return pos;
}

static uint32_t q_pop(struct ps_sorter_queue *q, uint32_t *pos)
{
	*pos = q->head;
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return q->v[*pos];
}

/* ---- set-up ---- */

static int cfg_check(const struct ps_sorter_cfg *c, char *err, size_t n)
{
	const char *why = NULL;
	if (c->full_p < 0 || c->failed_p < 0 || c->lost_p < 0 ||
	    c->missort_p < 0 ||
	    c->full_p + c->failed_p + c->lost_p + c->missort_p > 1)
		why = "the shares of full, failed, lost and missort must be "
		      "0..1 and add up to at most 1";
	else if (c->hold_s < 1 || c->hold_s > PS_HOLD_MAX_S)
		why = "the hold of a FULL report must be 1..3600 s";
	else if (c->max_rounds < 1 || c->max_rounds > 255)
		why = "max rounds must be 1..255";
	else if (c->window < 1 || c->window > 65536)
		why = "the window must be 1..65536 parcels";
	else if (c->rec_max < 1 || c->rec_max > PS_MAX_RECORDS)
		why = "records per scan datagram must be 1..22";
	else if (c->reply_ms < 1)
		why = "the reply timeout must be at least 1 ms";
	if (why)
		snprintf(err, n, "%s", why);
	return why ? -1 : 0;
}

int ps_sorter_init(struct ps_sorter *s, const struct ps_sorter_cfg *cfg,
		   struct ps_gen *gen, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (cfg_check(cfg, err, errlen))
		return -1;
	s->cfg = *cfg;
	s->gen = gen;
	gen->cfg.noread_share = 0;
	gen->cfg.invalid_share = 0;
	gen->cfg.rescan_share = 0;
	ps_rng_seed(&s->rng, cfg->seed ^ 0x5053534f52544552ull);
	uint32_t w = cfg->window;
	s->parcel = calloc(w, sizeof(*s->parcel));
	s->free_list = calloc(w, sizeof(*s->free_list));
	s->result = calloc(w, sizeof(*s->result));
	s->out = calloc(PS_SORTER_OUT_SLOTS, sizeof(*s->out));
	s->hold_until_ms = calloc(65536, sizeof(*s->hold_until_ms));
	s->chute_sorted = calloc(65536, sizeof(*s->chute_sorted));
	if (!s->parcel || !s->free_list || !s->result || !s->out ||
	    !s->hold_until_ms || !s->chute_sorted || q_init(&s->scan_q, w) ||
	    q_init(&s->result_q, w)) {
		snprintf(err, errlen, "out of memory for a window of %u", w);
		ps_sorter_free(s);
		return -1;
	}
	for (uint32_t i = 0; i < w; i++)
		s->free_list[i] = w - 1 - i;
	s->n_free = w;
	return 0;
}

void ps_sorter_free(struct ps_sorter *s)
{
	free(s->parcel);
	free(s->free_list);
	free(s->result);
	free(s->out);
	free(s->hold_until_ms);
	free(s->chute_sorted);
	free(s->scan_q.v);
	free(s->result_q.v);
	s->parcel = NULL;
	s->free_list = NULL;
	s->result = NULL;
	s->out = NULL;
	s->hold_until_ms = s->chute_sorted = NULL;
	s->scan_q.v = s->result_q.v = NULL;
}

/* ---- parcels ---- */

static void parcel_free(struct ps_sorter *s, uint32_t i)
{
	s->parcel[i].state = P_FREE;
	s->free_list[s->n_free++] = i;
	s->active--;
}

static void scan_due(struct ps_sorter *s, uint32_t i)
{
	s->parcel[i].state = P_SCAN_DUE;
	q_push(&s->scan_q, i);
}

static int induction_over(const struct ps_sorter *s, uint64_t now)
{
	const struct ps_sorter_cfg *c = &s->cfg;
	if (!c->parcels && !c->duration_ms)
		return 1;
	return (c->parcels && s->st.inducted >= c->parcels) ||
	       (c->duration_ms && now >= c->duration_ms);
}

static void induct(struct ps_sorter *s)
{
	uint32_t i = s->free_list[--s->n_free];
	struct ps_parcel *p = &s->parcel[i];
	memset(p, 0, sizeof(*p));
	ps_gen_record(s->gen, &p->rec);
	p->rec.scan.waybill = p->rec.wb;
	p->rec.scan.scan_type = PS_SCAN_INDUCT;
	s->active++;
	s->st.inducted++;
	scan_due(s, i);
}

static void rescan(struct ps_sorter *s, uint32_t i)
{
	struct ps_parcel *p = &s->parcel[i];
	p->rec.scan.event_seq = ++s->gen->event_seq;
	s->st.rescans++;
	scan_due(s, i);
}

/* Queue the parcel's sort result. A parcel whose fate is settled stays in
 * its slot until the result has left. */
static void queue_result(struct ps_sorter *s, uint32_t i, uint8_t status,
			 uint16_t chute, uint64_t now)
{
	struct ps_parcel *p = &s->parcel[i];
	struct ps_sort_result r = {
		.waybill = p->rec.wb, .event_seq = p->rec.scan.event_seq,
		.chute = chute, .status = status,
		.ts_ms = s->gen->cfg.start_ms + now,
		.plan_version = p->plan_version,
	};
	if (!s->result_q.n)
		s->oldest_result_ms = now;
	ps_sort_result_encode(s->result[q_push(&s->result_q, i)], &r);
}

static void settle(struct ps_sorter *s, uint32_t i, enum ps_fate f,
		   uint8_t status, uint16_t chute, uint64_t now)
{
	s->st.fate[f]++;
	if (status) {
		s->parcel[i].state = P_RESULT_FINAL;
		queue_result(s, i, status, chute, now);
	} else {
		parcel_free(s, i);
	}
}

static void report_full(struct ps_sorter *s, uint16_t chute, uint64_t now)
{
	if (s->hold_until_ms[chute] > now || s->n_report >= PS_MAX_CHUTE_STATES)
		return;
	struct ps_chute_report r = {
		.chute = chute, .state = PS_CHUTE_FULL,
		.hold_s = (uint16_t)s->cfg.hold_s,
	};
	ps_chute_report_encode(s->report[s->n_report++], &r);
	s->hold_until_ms[chute] = now + 1000ull * s->cfg.hold_s;
	s->st.chute_reports++;
}

static void went_round(struct ps_sorter *s, uint32_t i, uint8_t status,
		       uint64_t now)
{
	struct ps_parcel *p = &s->parcel[i];
	if (!p->rounds++)
		s->st.went_round++;
	s->st.rounds++;
	if (p->rounds >= s->cfg.max_rounds) {
		settle(s, i, PS_FATE_GAVE_UP, status, p->chute, now);
		return;
	}
	p->state = P_ROUND;
	p->due_ms = now + s->cfg.round_ms;
	p->awaiting_ack = 1;
	queue_result(s, i, status, p->chute, now);
}

/* A chute other than c and other than the reject and intercept chutes. */
static uint16_t other_chute(const struct ps_sorter *s, uint16_t c)
{
	uint16_t o = c;
	do
		o = (uint16_t)(o % 65535 + 1);
	while (o == s->reject_chute || o == s->intercept_chute);
	return o;
}

static void discharge(struct ps_sorter *s, uint32_t i, uint64_t now)
{
	const struct ps_sorter_cfg *c = &s->cfg;
	struct ps_parcel *p = &s->parcel[i];
	double u = ps_rng_unit(&s->rng);
	if (u < c->full_p) {
		report_full(s, p->chute, now);
		went_round(s, i, PS_SORT_CHUTE_FULL, now);
	} else if ((u -= c->full_p) < c->failed_p) {
		went_round(s, i, PS_SORT_DISCHARGE_FAILED, now);
	} else if ((u -= c->failed_p) < c->lost_p) {
		settle(s, i, PS_FATE_LOST, PS_SORT_LOST, p->chute, now);
	} else if ((u -= c->lost_p) < c->missort_p) {
		s->st.missorts++;
		settle(s, i, PS_FATE_MISSORTED, PS_SORT_SORTED,
		       other_chute(s, p->chute), now);
	} else {
		settle(s, i, PS_FATE_SORTED, PS_SORT_SORTED, p->chute, now);
	}
}

/* What the sorter does with a parcel given its decision. */
static void decided(struct ps_sorter *s, uint32_t i,
		    const struct ps_decision *d, uint64_t now)
{
	struct ps_parcel *p = &s->parcel[i];
	s->st.decisions++;
	s->st.by_reason[d->reason]++;
	p->chute = d->chute;
	p->plan_version = d->plan_version;
	uint8_t to_chute = d->chute ? PS_SORT_SORTED : 0;
	switch (d->reason) {
	case PS_R_ROUTED:
	case PS_R_OVERRIDE:
	case PS_R_DEFAULT:
	case PS_R_DUPLICATE:
		if (!d->chute) {
			settle(s, i, PS_FATE_NO_CHUTE, 0, 0, now);
			return;
		}
		p->state = P_TRANSIT;
		p->due_ms = now + s->cfg.transit_ms;
		return;
	case PS_R_INTERCEPTED:
		s->intercept_chute = d->chute;
		settle(s, i, PS_FATE_INTERCEPTED, to_chute, d->chute, now);
		return;
	case PS_R_RECIRC_LIMIT:
		s->reject_chute = d->chute;
		settle(s, i, PS_FATE_RECIRC_LIMIT, to_chute, d->chute, now);
		return;
	case PS_R_NO_ROUTE:
	case PS_R_NOREAD:
	case PS_R_BAD_BARCODE:
	case PS_R_MALFORMED_RECORD:
	case PS_R_CHUTE_UNAVAILABLE:
		s->reject_chute = d->chute;
		settle(s, i, PS_FATE_REJECTED, to_chute, d->chute, now);
		return;
	default: /* TRACK_ONLY, NO_PLAN */
		settle(s, i, PS_FATE_NO_CHUTE, 0, 0, now);
	}
}

/* ---- outstanding datagrams ---- */

static struct ps_outstanding *out_next(struct ps_sorter *s)
{
	struct ps_outstanding *o = &s->out[(s->seq + 1) & PS_SORTER_OUT_MASK];
	return o->in_use ? NULL : o;
}

static void out_take(struct ps_sorter *s, struct ps_outstanding *o,
		     uint8_t kind, uint16_t count, uint64_t now, uint8_t *buf)
{
	struct ps_header h = {
		.magic = PS_MAGIC, .version = PS_VERSION, .kind = kind,
		.count = count, .flags = 0, .site = s->gen->cfg.site,
		.seq = ++s->seq,
	};
	ps_header_encode(buf, &h);
	o->seq = h.seq;
	o->kind = kind;
	o->count = count;
	o->sent_ms = now;
	o->in_use = 1;
	s->n_out++;
}

static void out_release(struct ps_sorter *s, struct ps_outstanding *o)
{
	if (o->kind == PS_KIND_SORT_RESULT)
		for (unsigned k = 0; k < o->count; k++)
			if (o->parcel[k] != NO_PARCEL)
				s->parcel[o->parcel[k]].awaiting_ack = 0;
	o->in_use = 0;
	s->n_out--;
}

static void out_expire(struct ps_sorter *s, struct ps_outstanding *o)
{
	if (o->kind == PS_KIND_SCAN) {
		for (unsigned k = 0; k < o->count; k++) {
			s->st.fate[PS_FATE_UNANSWERED]++;
			parcel_free(s, o->parcel[k]);
		}
		o->count = 0;
	} else {
		s->st.acks_missing++;
	}
	out_release(s, o);
}

/* ---- time ---- */

void ps_sorter_tick(struct ps_sorter *s, uint64_t now)
{
	if (s->n_out)
		for (unsigned k = 0; k < PS_SORTER_OUT_SLOTS; k++) {
			struct ps_outstanding *o = &s->out[k];
			if (o->in_use && now >= o->sent_ms + s->cfg.reply_ms)
				out_expire(s, o);
		}
	for (uint32_t i = 0; i < s->cfg.window; i++) {
		struct ps_parcel *p = &s->parcel[i];
		if (p->state == P_TRANSIT && now >= p->due_ms)
			discharge(s, i, now);
		else if (p->state == P_ROUND && !p->awaiting_ack &&
			 now >= p->due_ms)
			rescan(s, i);
	}
	while (!induction_over(s, now) && s->n_free &&
	       (s->cfg.rate <= 0 ||
		(double)s->st.inducted < s->cfg.rate * (double)now / 1000.0 + 1))
		induct(s);
}

/* ---- datagrams out ---- */

static size_t send_reports(struct ps_sorter *s, struct ps_outstanding *o,
			   uint64_t now, uint8_t *buf)
{
	unsigned n = s->n_report;
	out_take(s, o, PS_KIND_CHUTE_STATE, (uint16_t)n, now, buf);
	memcpy(buf + PS_HDR_LEN, s->report, (size_t)n * PS_CHUTE_STATE_LEN);
	s->n_report = 0;
	s->st.report_datagrams++;
	return PS_HDR_LEN + (size_t)n * PS_CHUTE_STATE_LEN;
}

static size_t send_results(struct ps_sorter *s, struct ps_outstanding *o,
			   uint64_t now, uint8_t *buf)
{
	unsigned n = s->result_q.n < PS_MAX_SORT_RESULTS ? s->result_q.n
							 : PS_MAX_SORT_RESULTS;
	out_take(s, o, PS_KIND_SORT_RESULT, (uint16_t)n, now, buf);
	for (unsigned k = 0; k < n; k++) {
		uint32_t pos, i = q_pop(&s->result_q, &pos);
		uint8_t *e = buf + PS_HDR_LEN + k * PS_SORT_RESULT_LEN;
		struct ps_sort_result r;
		memcpy(e, s->result[pos], PS_SORT_RESULT_LEN);
		ps_sort_result_decode(e, &r);
		s->st.results++;
		s->st.by_status[r.status]++;
		if (r.status == PS_SORT_SORTED)
			s->chute_sorted[r.chute]++;
		if (s->parcel[i].state == P_RESULT_FINAL) {
			parcel_free(s, i);
			i = NO_PARCEL;
		}
		o->parcel[k] = i;
	}
	s->oldest_result_ms = now;
	s->st.result_datagrams++;
	return PS_HDR_LEN + (size_t)n * PS_SORT_RESULT_LEN;
}

static size_t send_scans(struct ps_sorter *s, struct ps_outstanding *o,
			 uint64_t now, uint8_t *buf)
{
	unsigned n = s->scan_q.n < s->cfg.rec_max ? s->scan_q.n
						  : s->cfg.rec_max;
	out_take(s, o, PS_KIND_SCAN, (uint16_t)n, now, buf);
	for (unsigned k = 0; k < n; k++) {
		uint32_t pos, i = q_pop(&s->scan_q, &pos);
		struct ps_parcel *p = &s->parcel[i];
		p->rec.scan.waybill = p->rec.wb;
		p->rec.scan.ts_ms = s->gen->cfg.start_ms + now;
		ps_scan_encode(buf + PS_HDR_LEN + k * PS_SCAN_LEN, &p->rec.scan);
		p->state = P_SCANNED;
		o->parcel[k] = i;
	}
	s->st.scans += n;
	s->st.scan_datagrams++;
	return PS_HDR_LEN + (size_t)n * PS_SCAN_LEN;
}

size_t ps_sorter_next(struct ps_sorter *s, uint64_t now, uint8_t *buf,
		      enum ps_sorter_channel *ch)
{
	struct ps_outstanding *o = out_next(s);
	if (!o)
		return 0;
	*ch = PS_CH_SORTER;
	if (s->n_report)
		return send_reports(s, o, now, buf);
	if (s->result_q.n &&
	    (s->result_q.n >= PS_MAX_SORT_RESULTS ||
	     now >= s->oldest_result_ms + s->cfg.batch_ms ||
	     (induction_over(s, now) && !s->scan_q.n)))
		return send_results(s, o, now, buf);
	*ch = PS_CH_SCANNER;
	if (s->scan_q.n)
		return send_scans(s, o, now, buf);
	return 0;
}

/* ---- replies in ---- */

static struct ps_outstanding *out_match(struct ps_sorter *s,
					const struct ps_header *h, int kind_ok)
{
	struct ps_outstanding *o = &s->out[h->seq & PS_SORTER_OUT_MASK];
	if (!o->in_use || o->seq != h->seq || !kind_ok) {
		s->st.unexpected++;
		return NULL;
	}
	return o;
}

static void receive_ack(struct ps_sorter *s, const uint8_t *buf, size_t len)
{
	struct ps_header h;
	if (ps_ack_check(buf, len, &h) != PS_HDR_OK) {
		s->st.bad_replies++;
		return;
	}
	struct ps_outstanding *o = &s->out[h.seq & PS_SORTER_OUT_MASK];
	o = out_match(s, &h, o->kind == PS_KIND_CHUTE_STATE ||
				     o->kind == PS_KIND_SORT_RESULT);
	if (!o)
		return;
	if (h.count == o->count)
		s->st.acks_ok++;
	else
		s->st.acks_short++;
	out_release(s, o);
}

/* The checks of a decision batch: the reply's own rules. */
static int decision_header(const uint8_t *buf, size_t len,
			   struct ps_header *h)
{
	if (len < PS_HDR_LEN)
		return -1;
	h->magic = (uint16_t)(buf[0] << 8 | buf[1]);
	h->count = (uint16_t)(buf[4] << 8 | buf[5]);
	h->flags = (uint16_t)(buf[6] << 8 | buf[7]);
	h->seq = (uint32_t)buf[12] << 24 | (uint32_t)buf[13] << 16 |
		 (uint32_t)buf[14] << 8 | buf[15];
	if (h->magic != PS_MAGIC || buf[2] != PS_VERSION ||
	    buf[3] != PS_KIND_DECISION || h->flags || h->count < 1 ||
	    h->count > PS_MAX_RECORDS ||
	    len != PS_HDR_LEN + (size_t)PS_DECISION_LEN * h->count)
		return -1;
	return 0;
}

static void receive_decisions(struct ps_sorter *s, uint64_t now,
			      const uint8_t *buf, size_t len)
{
	struct ps_header h;
	if (decision_header(buf, len, &h)) {
		s->st.bad_replies++;
		return;
	}
	struct ps_outstanding *o = &s->out[h.seq & PS_SORTER_OUT_MASK];
	o = out_match(s, &h, o->kind == PS_KIND_SCAN);
	if (!o)
		return;
	if (h.count != o->count) {
		s->st.bad_replies++;
		out_expire(s, o);
		return;
	}
	for (unsigned k = 0; k < h.count; k++) {
		struct ps_decision d;
		uint8_t wb[PS_WAYBILL_LEN];
		uint32_t i = o->parcel[k];
		struct ps_parcel *p = &s->parcel[i];
		ps_decision_decode(buf + PS_HDR_LEN + k * PS_DECISION_LEN, &d,
				   wb);
		if (memcmp(wb, p->rec.wb, PS_WAYBILL_LEN) ||
		    d.event_seq != p->rec.scan.event_seq ||
		    d.reason >= PS_REASON_COUNT) {
			s->st.bad_replies++;
			s->st.fate[PS_FATE_UNANSWERED]++;
			parcel_free(s, i);
			continue;
		}
		decided(s, i, &d, now);
	}
	o->count = 0;
	out_release(s, o);
}

void ps_sorter_receive(struct ps_sorter *s, uint64_t now, const uint8_t *buf,
		       size_t len)
{
	if (len >= 4 && buf[3] == PS_KIND_ACK)
		receive_ack(s, buf, len);
	else
		receive_decisions(s, now, buf, len);
}

int ps_sorter_done(const struct ps_sorter *s, uint64_t now)
{
	return induction_over(s, now) && !s->active && !s->n_out &&
	       !s->n_report && !s->result_q.n;
}

long ps_sorter_write_holds(struct ps_sorter *s, uint64_t n, unsigned every,
			   FILE *f)
{
	struct ps_gen_rec rec;
	long written = 0;
	for (uint64_t k = 1; k <= n; k++) {
		ps_gen_record(s->gen, &rec);
		if (k % every)
			continue;
		int len = (int)strnlen((const char *)rec.wb, sizeof(rec.wb));
		if (fprintf(f, "%.*s,parcelsort-gen parcel %llu\n", len,
			    (const char *)rec.wb, (unsigned long long)k) < 0)
			return -1;
		written++;
	}
	return fflush(f) ? -1 : written;
}

uint64_t ps_sorter_chute_sorted(const struct ps_sorter *s, unsigned chute)
{
	return chute < 65536 ? s->chute_sorted[chute] : 0;
}

const char *ps_fate_name(unsigned f)
{
	static const char *const n[PS_FATE_COUNT] = {
		"sorted", "missorted", "lost", "recirc_limit", "intercepted",
		"rejected", "no_chute", "gave_up", "unanswered",
	};
	return f < PS_FATE_COUNT ? n[f] : "?";
}
