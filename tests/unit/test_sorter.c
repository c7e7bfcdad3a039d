/* test_sorter.c: the sorter loop through the pipeline, on built frames: a
 * chute reported FULL is avoided until its report lapses (the reject and
 * intercept chutes are not), CHUTE_FULL results make the next scan decided
 * afresh and RECIRC_LIMIT after the plan's rounds, SORTED into a wrong
 * chute is a missort, LOST forgets, held waybills are INTERCEPTED and never
 * remembered, kinds 3 and 5 from outside the sorter allow-list are dropped
 * with no effect, a result applied on one core changes the next decision
 * on another, and every acknowledgement's count, site and seq; barcode-only
 * scans decided by their manifest region (counted, and said in the events),
 * a scan's own region winning, a duplicate found only at its insert not
 * counted a manifest hit, a manifest replaced mid-burst; a kind 5 batch
 * of every sort of entry counted once per entry, with events exported or
 * not; kind 5 frames between the scans of one burst taking effect in
 * their place, events on and off. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "dedup.h"
#include "holds.h"
#include "pipeline.h"
#include "pkt.h"
#include "plan.h"
#include "ps_frame.h"

#define PLAN_TEXT							\
	"plan t\nsite 77 33\nreject 999\nintercept 998\nrecirculate 2\n"	\
	"hub 1 trunk T\nroute 33 1 10,11\nroute 31 1 20\n"		\
	"route 32 1 20,21\nroute 34 1 998\n"

static const uint8_t SCANNER[4] = { 198, 18, 0, 1 };
static const uint8_t SORTER[4] = { 198, 18, 0, 50 };

static struct ps_chute_state cs;
static struct ps_dedup dd;
static struct ps_counters cnt, cnt2;
static struct ps_loop_counters loop;
static struct ps_net_cfg net;
static struct ps_prefix sorter_list[1];
static struct ps_plan *plan;
static struct ps_plan_src src;
static struct ps_holds *holds;
static struct ps_pipeline pl, pl2;
static struct ps_event events[256];
static unsigned n_events;
static void (*on_export)(const struct ps_event *ev, unsigned n);

static void capture(void *ctx, const struct ps_event *ev, unsigned n)
{
	(void)ctx;
	for (unsigned i = 0; i < n && n_events < 256; i++)
		events[n_events++] = ev[i];
	if (on_export)
		on_export(ev, n);
}

static void setup(void)
{
	struct ps_errors e;
	ps_errors_init(&e);
	ps_plan_src_init(&src);
	cr_assert_eq(ps_plan_parse(&src, PLAN_TEXT, strlen(PLAN_TEXT), "t",
				   &e), 0);
	plan = ps_plan_compile(&src, 5, &e);
	cr_assert_not_null(plan);
	ps_errors_free(&e);
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&dd, 4096, 600), 0);
	memset(&cnt, 0, sizeof(cnt));
	memset(&cnt2, 0, sizeof(cnt2));
	memset(&loop, 0, sizeof(loop));
	memset(&net, 0, sizeof(net));
	net = (struct ps_net_cfg){ .mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1,
				   .ip4 = { 198, 18, 0, 2 }, .port = 7100 };
	cr_assert_eq(ps_prefix_parse("198.18.0.50/32", &sorter_list[0]), 0);
	net.sorter_allow = sorter_list;
	net.n_sorter_allow = 1;
	ps_net_cfg_finish(&net);
	holds = NULL;
	n_events = 0;
	on_export = NULL;
	pl = (struct ps_pipeline){ .net = &net, .plan_slot = &plan,
				   .holds_slot = &holds, .chutes = &cs,
				   .dedup = &dd, .site = 1, .cnt = &cnt,
				   .loop = &loop, .export_fn = capture };
	pl2 = pl;
	pl2.cnt = &cnt2;
}

static void teardown(void)
{
	ps_plan_free(plan);
	ps_plan_src_free(&src);
	ps_dedup_free(&dd);
	ps_holds_free(holds);
}

TestSuite(sorter, .init = setup, .fini = teardown);

static uint8_t frame[1600];
static uint32_t seq;

static size_t build(const uint8_t *from, const uint8_t *payload, size_t n)
{
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .sport = 5000, .dport = 7100 };
	memcpy(e.src_ip, from, 4);
	memcpy(e.dst_ip, net.ip4, 4);
	return ps_frame_build_udp(frame, sizeof(frame), &e, payload, n);
}

static void header(uint8_t *p, uint8_t kind, uint16_t count)
{
	struct ps_header h = { .magic = PS_MAGIC, .version = PS_VERSION,
			       .kind = kind, .count = count, .site = 4242,
			       .seq = ++seq };
	ps_header_encode(p, &h);
}

/* Run one frame through pipeline p at time now; the UDP payload of the
 * reply (NULL when none) and its length. */
static const uint8_t *run(struct ps_pipeline *p, size_t len, uint32_t now,
			  size_t *out_len)
{
	struct ps_pkt_buf b = { .data = frame, .len = (uint16_t)len };
	ps_pipeline_run(p, &b, 1, now);
	if (!b.send)
		return NULL;
	cr_assert_leq(b.out_len, b.len, "never more bytes than received");
	struct ps_frame f;
	cr_assert_eq(ps_frame_parse(frame, b.out_len, &f), PS_FRAME_UDP);
	*out_len = f.payload_len;
	return frame + f.payload_off;
}

static void waybill(uint8_t *wb, const char *s)
{
	memset(wb, 0, 24);
	memcpy(wb, s, strlen(s));
}

/* One INDUCT scan of wb to region on pipeline p: its decision. */
static struct ps_decision scan_on(struct ps_pipeline *p, const char *wbs,
				  uint64_t region, uint32_t now)
{
	uint8_t pay[16 + 64], wb[24];
	waybill(wb, wbs);
	header(pay, PS_KIND_SCAN, 1);
	struct ps_scan s = { .waybill = wb, .region = region, .scan_type = 1,
			     .device = 7, .weight_g = 1234, .length_mm = 300,
			     .carrier = ('Z' << 8) | 'T', .event_seq = seq };
	ps_scan_encode(pay + 16, &s);
	size_t n;
	const uint8_t *r = run(p, build(SCANNER, pay, sizeof(pay)), now, &n);
	cr_assert_not_null(r, "a scan batch is answered");
	cr_assert_eq(n, 16 + 48);
	struct ps_decision d;
	ps_decision_decode(r + 16, &d, NULL);
	return d;
}

static struct ps_decision scan(const char *wbs, uint64_t region,
			       uint32_t now)
{
	return scan_on(&pl, wbs, region, now);
}

/* A kind 4 reply: checked; returns its count. */
static unsigned ack_count(const uint8_t *r, size_t n)
{
	struct ps_header h;
	cr_assert_not_null(r, "acknowledged");
	cr_assert_eq(ps_ack_check(r, n, &h), PS_HDR_OK);
	cr_assert_eq(h.kind, PS_KIND_ACK);
	cr_assert_eq(h.site, 77, "the plan's site");
	cr_assert_eq(h.seq, seq, "the request's seq echoed");
	return h.count;
}

/* Kind 3 of one entry from `from` on p; the reply (NULL: none). */
static const uint8_t *state_from(struct ps_pipeline *p, const uint8_t *from,
				 uint16_t chute, uint8_t state, uint16_t hold,
				 uint32_t now, size_t *n)
{
	uint8_t pay[16 + 8];
	header(pay, PS_KIND_CHUTE_STATE, 1);
	struct ps_chute_report e = { .chute = chute, .state = state,
				     .hold_s = hold };
	ps_chute_report_encode(pay + 16, &e);
	return run(p, build(from, pay, sizeof(pay)), now, n);
}

static void state(uint16_t chute, uint8_t st, uint16_t hold, uint32_t now)
{
	size_t n;
	const uint8_t *r = state_from(&pl, SORTER, chute, st, hold, now, &n);
	cr_assert_eq(ack_count(r, n), 1);
}

/* A kind 5 payload of one result for wbs. */
static void result_payload(uint8_t pay[16 + 48], const char *wbs,
			   uint16_t chute, uint8_t status)
{
	uint8_t wb[24];
	waybill(wb, wbs);
	header(pay, PS_KIND_SORT_RESULT, 1);
	struct ps_sort_result e = { .waybill = wb, .chute = chute,
				    .status = status, .plan_version = 5 };
	ps_sort_result_encode(pay + 16, &e);
}

static const uint8_t *result_from(struct ps_pipeline *p, const uint8_t *from,
				  const char *wbs, uint16_t chute,
				  uint8_t status, uint32_t now, size_t *n)
{
	uint8_t pay[16 + 48];
	result_payload(pay, wbs, chute, status);
	return run(p, build(from, pay, sizeof(pay)), now, n);
}

static void result_on(struct ps_pipeline *p, const char *wbs, uint16_t chute,
		      uint8_t status, uint32_t now)
{
	size_t n;
	const uint8_t *r = result_from(p, SORTER, wbs, chute, status, now, &n);
	cr_assert_eq(ack_count(r, n), 1);
}

static void result(const char *wbs, uint16_t chute, uint8_t status,
		   uint32_t now)
{
	result_on(&pl, wbs, chute, status, now);
}

Test(sorter, full_chute_avoided_until_its_report_lapses)
{
	struct ps_decision d = scan("JT0000000001", 310000000000ull, 10);
	cr_assert_eq(d.reason, PS_R_ROUTED);
	cr_assert_eq(d.chute, 20);
	cr_assert_eq(scan("JT0000000004", 320000000000ull, 10).chute, 20,
		     "this waybill's hash picks chute 20 of 20,21");
	state(20, PS_CHUTE_FULL, 5, 10);
	cr_assert_eq(cnt.chute_states, 1);
	uint32_t left;
	cr_assert_eq(ps_chute_sorter_state(&cs, 20, 10, &left), PS_CHUTE_FULL);
	cr_assert_eq(left, 6);
	/* the only chute of the route: unavailable; of two: the other */
	d = scan("JT0000000003", 310000000000ull, 11);
	cr_assert_eq(d.reason, PS_R_CHUTE_UNAVAILABLE);
	cr_assert_eq(d.chute, 999);
	d = scan("JT0000000004", 320000000000ull, 11);
	cr_assert_eq(d.reason, PS_R_ROUTED, "decided afresh, not a duplicate");
	cr_assert_eq(d.chute, 21);
	/* a remembered decision for the full chute is decided afresh; the
	 * CHUTE_UNAVAILABLE answer leaves the remembered one as it was */
	d = scan("JT0000000001", 310000000000ull, 12);
	cr_assert_eq(d.reason, PS_R_CHUTE_UNAVAILABLE);
	/* still in force through second 15, lapsed at 16 */
	cr_assert_eq(scan("JT0000000009", 310000000000ull, 15).reason,
		     PS_R_CHUTE_UNAVAILABLE);
	d = scan("JT0000000001", 310000000000ull, 16);
	cr_assert_eq(d.reason, PS_R_DUPLICATE, "the first decision again");
	cr_assert_eq(d.chute, 20);
	cr_assert_eq(ps_chute_sorter_state(&cs, 20, 16, &left), PS_CHUTE_OPEN);
	cr_assert(ps_chute_available(&cs, 20));
	/* OPEN ends a report at once */
	state(20, PS_CHUTE_BLOCKED, 3600, 16);
	cr_assert_eq(scan("JT0000000005", 310000000000ull, 16).reason,
		     PS_R_CHUTE_UNAVAILABLE);
	state(20, PS_CHUTE_OPEN, 0, 16);
	cr_assert_eq(scan("JT0000000005", 310000000000ull, 16).chute, 20);
}

Test(sorter, reject_and_intercept_chutes_used_whatever_the_sorter_says)
{
	state(998, PS_CHUTE_FAULT, 60, 1);
	state(999, PS_CHUTE_FULL, 60, 1);
	struct ps_decision d = scan("JT0000000011", 340000000000ull, 2);
	cr_assert_eq(d.reason, PS_R_ROUTED);
	cr_assert_eq(d.chute, 998);
	d = scan("JT0000000011", 340000000000ull, 2);
	cr_assert_eq(d.reason, PS_R_DUPLICATE);
	d = scan("JT0000000012", 110000000000ull, 2);
	cr_assert_eq(d.reason, PS_R_NO_ROUTE);
	cr_assert_eq(d.chute, 999);
	/* the operator still can take them out */
	ps_chute_disable(&cs, 998);
	d = scan("JT0000000013", 340000000000ull, 2);
	cr_assert_eq(d.reason, PS_R_CHUTE_UNAVAILABLE);
}

Test(sorter, chute_full_results_decided_afresh_then_recirc_limit)
{
	struct ps_decision first = scan("JT0000000021", 330000000000ull, 1);
	cr_assert_eq(first.reason, PS_R_ROUTED);
	cr_assert_eq(scan("JT0000000021", 330000000000ull, 1).reason,
		     PS_R_DUPLICATE);
	result("JT0000000021", first.chute, PS_SORT_CHUTE_FULL, 2);
	struct ps_decision d = scan("JT0000000021", 330000000000ull, 3);
	cr_assert_eq(d.reason, PS_R_ROUTED, "decided afresh after a round");
	cr_assert_eq(scan("JT0000000021", 330000000000ull, 3).reason,
		     PS_R_DUPLICATE, "the new decision is remembered");
	result("JT0000000021", d.chute, PS_SORT_DISCHARGE_FAILED, 4);
	/* two rounds: the plan's recirculate 2 */
	d = scan("JT0000000021", 330000000000ull, 5);
	cr_assert_eq(d.reason, PS_R_RECIRC_LIMIT);
	cr_assert_eq(d.chute, 999);
	cr_assert_eq(d.hub, 0);
	cr_assert_eq(d.plan_version, 5);
	cr_assert_eq(scan("JT0000000021", 330000000000ull, 6).reason,
		     PS_R_RECIRC_LIMIT, "the decision stays remembered");
	cr_assert_eq(cnt.rounds, 2);
	cr_assert_eq(cnt.sort_chute_full, 1);
	cr_assert_eq(cnt.sort_discharge_failed, 1);
	cr_assert_eq(cnt.records_by_reason[PS_R_RECIRC_LIMIT], 2);
	cr_assert_eq(loop.chute[first.chute].not_discharged +
			     loop.chute[d.chute == first.chute ? 0 : d.chute]
				     .not_discharged, 2);
}

Test(sorter, two_results_without_a_scan_are_two_rounds)
{
	scan("JT0000000022", 330000000000ull, 1);
	result("JT0000000022", 0, PS_SORT_CHUTE_BLOCKED, 1);
	result("JT0000000022", 0, PS_SORT_NO_DESTINATION, 1);
	cr_assert_eq(scan("JT0000000022", 330000000000ull, 2).reason,
		     PS_R_RECIRC_LIMIT);
}

Test(sorter, sorted_into_a_wrong_chute_is_a_missort)
{
	struct ps_decision d = scan("JT0000000031", 330000000000ull, 1);
	n_events = 0;
	result("JT0000000031", d.chute, PS_SORT_SORTED, 2);
	cr_assert_eq(cnt.sort_missorts, 0);
	result("JT0000000031", 999, PS_SORT_SORTED, 2);
	result("JT0000000031", 998, PS_SORT_SORTED, 2);
	cr_assert_eq(cnt.sort_missorts, 0, "reject and intercept are no missort");
	result("JT0000000031", 55, PS_SORT_SORTED, 2);
	cr_assert_eq(cnt.sort_missorts, 1);
	cr_assert_eq(cnt.sort_sorted, 4);
	cr_assert_eq(loop.chute[55].missorted, 1);
	cr_assert_eq(loop.chute[55].sorted, 1);
	cr_assert_eq(loop.chute[d.chute].sorted, 1);
	/* exported: status, chute, missort */
	cr_assert_eq(n_events, 4);
	cr_assert_eq(events[3].type, PS_EVENT_SORT_RESULT);
	cr_assert_eq(events[3].status, PS_SORT_SORTED);
	cr_assert_eq(events[3].chute, 55);
	cr_assert_eq(events[3].missort, 1);
	cr_assert_eq(events[0].missort, 0);
	/* SORTED clears nothing else: still a duplicate */
	cr_assert_eq(scan("JT0000000031", 330000000000ull, 3).reason,
		     PS_R_DUPLICATE);
	/* a waybill never decided: unknown, still applied */
	result("JT0000000039", 10, PS_SORT_SORTED, 3);
	cr_assert_eq(cnt.sort_unknown, 1);
	cr_assert_eq(cnt.sort_missorts, 1);
	/* scan events carry the whole record */
	scan("JT0000000032", 330000000000ull, 3);
	struct ps_event *e = &events[n_events - 1];
	cr_assert_eq(e->type, PS_EVENT_SCAN);
	cr_assert_eq(e->weight_g, 1234);
	cr_assert_eq(e->length_mm, 300);
	cr_assert_eq(e->carrier, ('Z' << 8) | 'T');
	cr_assert_eq(e->device, 7);
	cr_assert_eq(loop.device[7].records, 3);
	cr_assert_eq(loop.device[7].duplicates, 1);
	cr_assert_eq(loop.device[7].last_heard_s, 4);
}

Test(sorter, lost_forgets_the_decision)
{
	scan("JT0000000041", 330000000000ull, 1);
	result("JT0000000041", 0, PS_SORT_LOST, 2);
	cr_assert_eq(cnt.sort_lost, 1);
	cr_assert_eq(scan("JT0000000041", 330000000000ull, 3).reason,
		     PS_R_ROUTED, "forgotten: decided afresh");
	cr_assert_eq(cnt.dedup_inserts, 2);
	cr_assert_eq(cnt.rounds, 0);
}

/* The pipeline takes a record's hash once, for the window, and hands it
 * to the hold set: the two must be the same function. */
Test(sorter, hold_set_hashes_as_the_window)
{
	for (unsigned i = 0; i < 100000; i++) {
		uint8_t wb[24];
		memset(wb, 0, sizeof(wb));
		snprintf((char *)wb, sizeof(wb), "%s%013u",
			 i & 1 ? "SF" : "JT", i * 2654435761u);
		if (i % 7 == 0)
			memset(wb, (int)i, sizeof(wb));    /* any bytes */
		cr_assert_eq(ps_holds_hash(wb), ps_dedup_hash(wb), "%u", i);
	}
}

Test(sorter, held_waybill_intercepted_and_never_remembered)
{
	uint8_t w[2][24];
	waybill(w[0], "JT0000000051");
	waybill(w[1], "JT0000000052");
	scan("JT0000000052", 330000000000ull, 1);    /* remembered first */
	holds = ps_holds_build((const uint8_t (*)[24])w, 2);
	cr_assert_eq(ps_holds_count(holds), 2);
	for (int i = 0; i < 2; i++) {
		struct ps_decision d = scan("JT0000000051", 330000000000ull, 2);
		cr_assert_eq(d.reason, PS_R_INTERCEPTED);
		cr_assert_eq(d.chute, 998);
		cr_assert_eq(d.hub, 0);
		cr_assert_eq(d.matched_prefix, 0);
		cr_assert_eq(d.plan_version, 5);
	}
	cr_assert_eq(scan("JT0000000052", 330000000000ull, 2).reason,
		     PS_R_INTERCEPTED, "held: not a duplicate");
	result("JT0000000052", 0, PS_SORT_CHUTE_FULL, 2);
	cr_assert_eq(cnt.sort_held, 1);
	cr_assert_eq(cnt.rounds, 0, "a held waybill's result changes nothing");
	cr_assert_eq(cnt.records_by_reason[PS_R_INTERCEPTED], 3);
	ps_holds_free(holds);
	holds = NULL;
	cr_assert_eq(scan("JT0000000051", 330000000000ull, 3).reason,
		     PS_R_ROUTED, "never remembered while held");
	cr_assert_eq(scan("JT0000000052", 330000000000ull, 3).reason,
		     PS_R_DUPLICATE, "its first decision again");
}

/* One kind 5 batch of every sort of entry: known, held, unknown, a NUL
 * waybill, a known waybill with a byte after its text, an invalid waybill
 * with a bad status too (the waybill's cause first), a bad status alone,
 * and an invalid waybill that is on the list (a list not made by
 * ps_hold_waybill). Each is counted once under its one cause, the same
 * with events exported and without, and the per-chute figures agree. */
static void mixed_batch(struct ps_pipeline *p, uint32_t now, size_t *n,
			const uint8_t **r)
{
	enum { N = 8 };
	static const char *wbs[N] = {
		"JT0000000081", "JT0000000082", "JT0000000083", "",
		"JT0000000081", "JT000000008?", "JT0000000081", "JT000000008!",
	};
	static const uint8_t status[N] = { PS_SORT_CHUTE_FULL, PS_SORT_SORTED,
		PS_SORT_LOST, PS_SORT_SORTED, PS_SORT_SORTED, 0, 9,
		PS_SORT_CHUTE_FULL };
	static uint8_t pay[16 + 48 * N], wb[N][24];
	header(pay, PS_KIND_SORT_RESULT, N);
	for (int i = 0; i < N; i++) {
		waybill(wb[i], wbs[i]);
		struct ps_sort_result e = { .waybill = wb[i], .chute = 20,
					    .status = status[i],
					    .plan_version = 5 };
		ps_sort_result_encode(pay + 16 + 48 * i, &e);
	}
	pay[16 + 48 * 4 + 20] = 'X';         /* after the text: invalid */
	*r = run(p, build(SORTER, pay, sizeof(pay)), now, n);
}

Test(sorter, a_mixed_batch_counts_each_entry_once_with_events_on_or_off)
{
	uint8_t w[2][24];
	waybill(w[0], "JT0000000082");
	waybill(w[1], "JT000000008!");
	scan("JT0000000081", 330000000000ull, 1);
	scan("JT0000000082", 330000000000ull, 1);
	holds = ps_holds_build((const uint8_t (*)[24])w, 2);
	cr_assert_eq(ps_holds_count(holds), 2);
	struct ps_counters *c[2] = { &cnt, &cnt2 };
	unsigned first = n_events;          /* after the scans' events */
	pl2.export_fn = NULL;
	for (int k = 0; k < 2; k++) {
		struct ps_chute_sort_counters before = loop.chute[20];
		unsigned ev_before = n_events;
		size_t n;
		const uint8_t *r;
		mixed_batch(k ? &pl2 : &pl, 2, &n, &r);
		cr_assert_eq(ack_count(r, n), 3, "pass %d", k);
		cr_assert_eq(c[k]->sort_invalid_waybill, 4, "pass %d", k);
		cr_assert_eq(c[k]->sort_invalid_status, 1, "pass %d", k);
		cr_assert_eq(c[k]->sort_invalid_chute, 0);
		cr_assert_eq(c[k]->sort_invalid_reserved, 0);
		cr_assert_eq(c[k]->sort_held, 1, "pass %d", k);
		cr_assert_eq(c[k]->sort_unknown, 1, "pass %d", k);
		cr_assert_eq(c[k]->sort_chute_full, 1, "pass %d", k);
		cr_assert_eq(c[k]->sort_sorted, 1, "pass %d", k);
		cr_assert_eq(c[k]->sort_lost, 1, "pass %d", k);
		cr_assert_eq(c[k]->rounds, 1, "pass %d", k);
		cr_assert_eq(c[k]->sort_missorts, 0, "pass %d", k);
		cr_assert_eq(loop.chute[20].sorted - before.sorted, 1);
		cr_assert_eq(loop.chute[20].not_discharged -
			     before.not_discharged, 1, "pass %d", k);
		cr_assert_eq(n_events - ev_before, k ? 0u : 3u, "pass %d", k);
	}
	for (unsigned i = first; i < first + 3; i++)
		cr_assert_eq(events[i].type, PS_EVENT_SORT_RESULT);
	cr_assert_eq(events[first].known, 1);
	cr_assert_eq(events[first].status, PS_SORT_CHUTE_FULL);
	cr_assert_eq(events[first + 1].known, 0, "held");
	cr_assert_eq(events[first + 1].status, PS_SORT_SORTED);
	cr_assert_eq(events[first + 2].known, 0, "unknown");
	cr_assert_eq(events[first + 2].status, PS_SORT_LOST);
}

Test(sorter, kinds_3_and_5_from_outside_the_sorter_list_dropped)
{
	struct ps_decision d = scan("JT0000000061", 310000000000ull, 1);
	cr_assert_eq(d.chute, 20);
	size_t n;
	cr_assert_null(state_from(&pl, SCANNER, 20, PS_CHUTE_FULL, 60, 1, &n));
	cr_assert_null(result_from(&pl, SCANNER, "JT0000000061", 20,
				   PS_SORT_CHUTE_FULL, 1, &n));
	cr_assert_eq(cnt.drops[PS_DROP_NOT_SORTER], 2);
	cr_assert_eq(cnt.chute_states, 0);
	cr_assert_eq(cnt.sort_chute_full, 0);
	cr_assert(ps_chute_available(&cs, 20));
	cr_assert_eq(scan("JT0000000061", 310000000000ull, 1).reason,
		     PS_R_DUPLICATE, "nothing changed");
	/* an empty sorter list admits nobody */
	net.n_sorter_allow = 0;
	cr_assert_null(state_from(&pl, SORTER, 20, PS_CHUTE_FULL, 60, 1, &n));
	cr_assert_eq(cnt.drops[PS_DROP_NOT_SORTER], 3);
	/* magic, version and kind are checked before the list; count,
	 * flags and length after it */
	uint8_t pay[16 + 8] = { 0 };
	header(pay, PS_KIND_CHUTE_STATE, 1);
	pay[0] = 0;
	cr_assert_null(run(&pl, build(SCANNER, pay, sizeof(pay)), 1, &n));
	cr_assert_eq(cnt.drops[PS_DROP_HDR_MAGIC], 1);
	header(pay, PS_KIND_CHUTE_STATE, 2);
	cr_assert_null(run(&pl, build(SCANNER, pay, sizeof(pay)), 1, &n));
	cr_assert_eq(cnt.drops[PS_DROP_NOT_SORTER], 4);
	net.n_sorter_allow = 1;
	cr_assert_null(run(&pl, build(SORTER, pay, sizeof(pay)), 1, &n));
	cr_assert_eq(cnt.drops[PS_DROP_HDR_LENGTH], 1);
	/* a scan batch from the sorter's address needs the scanner list */
	net.allow = sorter_list;
	net.n_allow = 1;
	uint8_t sp[16 + 64] = { 0 };
	header(sp, PS_KIND_SCAN, 1);
	cr_assert_null(run(&pl, build(SCANNER, sp, sizeof(sp)), 1, &n));
	cr_assert_eq(cnt.drops[PS_DROP_NOT_ALLOWED], 1);
}

Test(sorter, invalid_entries_skipped_and_not_counted_as_applied)
{
	uint8_t pay[16 + 3 * 8];
	header(pay, PS_KIND_CHUTE_STATE, 3);
	struct ps_chute_report e[3] = {
		{ .chute = 20, .state = PS_CHUTE_FULL, .hold_s = 60 },
		{ .chute = 21, .state = PS_CHUTE_OPEN, .hold_s = 5 },
		{ .chute = 20, .state = PS_CHUTE_OPEN, .hold_s = 0 },
	};
	for (int i = 0; i < 3; i++)
		ps_chute_report_encode(pay + 16 + 8 * i, &e[i]);
	size_t n;
	const uint8_t *r = run(&pl, build(SORTER, pay, sizeof(pay)), 1, &n);
	cr_assert_eq(n, 16);
	cr_assert_eq(ack_count(r, n), 2);
	cr_assert_eq(cnt.chute_states_invalid_hold, 1);
	cr_assert(ps_chute_available(&cs, 20), "the later entry stands");
	cr_assert_eq(cnt.answered[PS_ANS_ACK], 1);
	/* kind 5 with a bad waybill: 0 applied, still acknowledged */
	r = result_from(&pl, SORTER, "bad waybill", 10, PS_SORT_SORTED, 1, &n);
	cr_assert_eq(ack_count(r, n), 0);
	cr_assert_eq(cnt.sort_invalid_waybill, 1);
	/* the waybill's rule comes first, though the dataplane checks a
	 * waybill only when its window does not know it */
	r = result_from(&pl, SORTER, "bad waybill", 10, 0, 1, &n);
	cr_assert_eq(ack_count(r, n), 0);
	cr_assert_eq(cnt.sort_invalid_waybill, 2);
	cr_assert_eq(cnt.sort_invalid_status, 0);
	r = result_from(&pl, SORTER, "JT0000000072", 10, 0, 1, &n);
	cr_assert_eq(ack_count(r, n), 0);
	cr_assert_eq(cnt.sort_invalid_status, 1);
	/* bytes after the text: invalid, known or not */
	scan("JT0000000073", 330000000000ull, 1);
	uint8_t pay5[16 + 48], wb[24];
	waybill(wb, "JT0000000073");
	wb[20] = 'X';
	header(pay5, PS_KIND_SORT_RESULT, 1);
	struct ps_sort_result bad = { .waybill = wb, .chute = 10,
				      .status = PS_SORT_CHUTE_FULL };
	ps_sort_result_encode(pay5 + 16, &bad);
	r = run(&pl, build(SORTER, pay5, sizeof(pay5)), 1, &n);
	cr_assert_eq(ack_count(r, n), 0);
	cr_assert_eq(cnt.sort_invalid_waybill, 3);
	cr_assert_eq(cnt.sort_unknown, 0);
	cr_assert_eq(cnt.rounds, 0);
	cr_assert_eq(cnt.sort_chute_full, 0);
	/* with no plan the configured site answers */
	struct ps_plan *keep = plan;
	plan = NULL;
	r = result_from(&pl, SORTER, "JT0000000071", 10, PS_SORT_SORTED, 1, &n);
	struct ps_header h;
	cr_assert_eq(ps_ack_check(r, n, &h), PS_HDR_OK);
	cr_assert_eq(h.site, 1);
	cr_assert_eq(h.count, 1);
	plan = keep;
}

/* Two cores: each step on its own thread with its own pipeline. */
struct step {
	int what;               /* 0 scan, 1 CHUTE_FULL result, 2 FULL state */
	struct ps_pipeline *p;
	const char *wb;
	struct ps_decision d;
};

static void *core(void *arg)
{
	struct step *s = arg;
	if (s->what == 0)
		s->d = scan_on(s->p, s->wb, 330000000000ull, 1);
	else if (s->what == 1)
		result_on(s->p, s->wb, 0, PS_SORT_CHUTE_FULL, 1);
	else
		state_from(s->p, SORTER, s->d.chute, PS_CHUTE_FULL, 60, 1,
			   &(size_t){ 0 });
	return NULL;
}

static struct ps_decision on_core(int what, struct ps_pipeline *p,
				  const char *wb, uint16_t chute)
{
	struct step s = { .what = what, .p = p, .wb = wb,
			  .d = { .chute = chute } };
	pthread_t t;
	pthread_create(&t, NULL, core, &s);
	pthread_join(t, NULL);
	return s.d;
}

Test(sorter, a_result_on_one_core_changes_the_next_decision_on_another)
{
	struct ps_decision d = on_core(0, &pl, "JT0000000081", 0);
	cr_assert_eq(d.reason, PS_R_ROUTED);
	cr_assert_eq(on_core(0, &pl2, "JT0000000081", 0).reason,
		     PS_R_DUPLICATE);
	on_core(1, &pl2, "JT0000000081", 0);
	cr_assert_eq(cnt2.rounds, 1);
	cr_assert_eq(on_core(0, &pl, "JT0000000081", 0).reason, PS_R_ROUTED,
		     "core 1 sees core 2's result");
	/* a chute state from core 2 is in force on core 1 */
	on_core(2, &pl2, NULL, d.chute);
	struct ps_decision e = on_core(0, &pl, "JT0000000081", 0);
	cr_assert_neq(e.chute, d.chute, "the full chute is avoided");
	cr_assert_eq(e.reason, PS_R_ROUTED);
}

/* ---------------------------------------------------------- review13 */

/* A batch of n INDUCT scans of the same waybill in one frame on p. */
static void scan_batch(struct ps_pipeline *p, const char *wbs,
		       uint64_t region, unsigned n, uint32_t now,
		       struct ps_decision *out)
{
	uint8_t pay[16 + 4 * 64], wb[24];
	waybill(wb, wbs);
	header(pay, PS_KIND_SCAN, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		struct ps_scan s = { .waybill = wb, .region = region,
				     .scan_type = 1, .device = 7,
				     .event_seq = i };
		ps_scan_encode(pay + 16 + 64 * i, &s);
	}
	size_t len;
	const uint8_t *r = run(p, build(SCANNER, pay, 16 + 64 * n), now, &len);
	cr_assert_not_null(r);
	cr_assert_eq(len, 16 + 48 * n);
	for (unsigned i = 0; i < n; i++)
		ps_decision_decode(r + 16 + 48 * i, &out[i], NULL);
}

/* A route to the intercept chute (998), which a sorter report takes out
 * of nothing: two scans of a waybill decided afresh in one burst are the
 * first decision and its DUPLICATE, as they are when the chute is not
 * reported (the insert's race check saw the report and replaced the
 * entry it had just written: ROUTED twice). */
Test(sorter, exempt_chute_reported_full_still_makes_duplicates_in_a_burst)
{
	struct ps_decision d[2];
	cr_assert_eq(scan("JT0000000091", 340000000000ull, 1).chute, 998);
	result("JT0000000091", 998, PS_SORT_CHUTE_FULL, 1);
	state(998, PS_CHUTE_FULL, 60, 1);
	scan_batch(&pl, "JT0000000091", 340000000000ull, 2, 2, d);
	cr_assert_eq(d[0].reason, PS_R_ROUTED, "decided afresh");
	cr_assert_eq(d[0].chute, 998);
	cr_assert_eq(d[1].reason, PS_R_DUPLICATE, "the first decision again");
	cr_assert_eq(d[1].chute, 998);
}

/* A fresh decision ending CHUTE_UNAVAILABLE leaves the remembered entry
 * as it was, mark and rounds included. */
Test(sorter, chute_unavailable_leaves_mark_and_rounds)
{
	struct ps_decision d = scan("JT0000000092", 310000000000ull, 1);
	cr_assert_eq(d.chute, 20);
	result("JT0000000092", 20, PS_SORT_CHUTE_FULL, 1);
	state(20, PS_CHUTE_FULL, 5, 1);
	cr_assert_eq(scan("JT0000000092", 310000000000ull, 2).reason,
		     PS_R_CHUTE_UNAVAILABLE);
	state(20, PS_CHUTE_OPEN, 0, 2);
	/* still marked: decided afresh, not a duplicate */
	cr_assert_eq(scan("JT0000000092", 310000000000ull, 3).reason,
		     PS_R_ROUTED);
	/* rounds kept at 1: one more makes the limit of 2 */
	result("JT0000000092", 20, PS_SORT_CHUTE_FULL, 3);
	cr_assert_eq(scan("JT0000000092", 310000000000ull, 4).reason,
		     PS_R_RECIRC_LIMIT);
}

/* Rounds stop at 255; without a recirculate limit a marked entry is
 * decided afresh, and the new decision's DUPLICATE carries the plan
 * version of the decision that is remembered. */
Test(sorter, rounds_stop_at_255)
{
	struct ps_dedup_entry e;
	uint8_t wb[24];
	scan("JT0000000093", 330000000000ull, 1);
	for (int i = 0; i < 300; i++)
		result("JT0000000093", 0, PS_SORT_DISCHARGE_FAILED, 1);
	waybill(wb, "JT0000000093");
	cr_assert_eq(ps_dedup_lookup_entry(&dd, ps_dedup_hash(wb), wb, 1, &e),
		     PS_DEDUP_HIT);
	cr_assert_eq(e.rounds, 255);
	cr_assert_eq(e.not_discharged, 1);
}

/* The slot holding wb in its own bucket (the test's waybills do not spill). */
static const struct ps_dedup_slot *slot_of(const uint8_t wb[24])
{
	const struct ps_dedup_slot *s =
		dd.slot + ps_dedup_bucket(&dd, ps_dedup_hash(wb)) * PS_DEDUP_WAYS;
	for (int i = 0; i < PS_DEDUP_WAYS; i++)
		if (s[i].t && !memcmp(s[i].key, wb, 24))
			return &s[i];
	return NULL;
}

/* A SORTED result on an entry without the not-discharged mark changes
 * nothing and so writes nothing (its sequence number stays); one on a
 * marked entry clears the mark, and the rounds stay. */
Test(sorter, a_sorted_result_without_the_mark_writes_nothing)
{
	uint8_t wb[24];
	struct ps_decision d = scan("JT0000000094", 330000000000ull, 1);
	waybill(wb, "JT0000000094");
	const struct ps_dedup_slot *s = slot_of(wb);
	cr_assert_not_null(s);
	uint32_t q = s->seq;
	result("JT0000000094", d.chute, PS_SORT_SORTED, 1);
	cr_assert_eq(s->seq, q, "nothing written");
	cr_assert_eq(s->not_discharged, 0);
	cr_assert_eq(cnt.sort_sorted, 1);
	result("JT0000000094", 0, PS_SORT_CHUTE_FULL, 1);
	cr_assert_eq(s->seq, q + 2);
	cr_assert_eq(s->not_discharged, 1);
	cr_assert_eq(s->rounds, 1);
	result("JT0000000094", d.chute, PS_SORT_SORTED, 1);
	cr_assert_eq(s->seq, q + 4);
	cr_assert_eq(s->not_discharged, 0, "the mark cleared");
	cr_assert_eq(s->rounds, 1);
	cr_assert_eq(cnt.sort_sorted, 2);
	cr_assert_eq(cnt.sort_missorts, 0);
}

/* Frames of one burst take effect in the order they came: a scan before a
 * sort result of its waybill in the same burst is decided before the
 * result applies, a result after it applies to what the scan left. */
Test(sorter, one_burst_in_arrival_order)
{
	static uint8_t fr[3][1600];
	struct ps_pkt_buf b[3];
	uint8_t sp[16 + 64], rp[16 + 48], wb[24];
	size_t n;
	waybill(wb, "JT0000000094");
	struct ps_decision first = scan("JT0000000094", 330000000000ull, 1);
	cr_assert_eq(first.reason, PS_R_ROUTED);
	/* CHUTE_FULL, then the parcel's scan, then CHUTE_FULL again */
	header(rp, PS_KIND_SORT_RESULT, 1);
	struct ps_sort_result e = { .waybill = wb, .chute = first.chute,
				    .status = PS_SORT_CHUTE_FULL };
	ps_sort_result_encode(rp + 16, &e);
	n = build(SORTER, rp, sizeof(rp));
	memcpy(fr[0], frame, n);
	b[0] = (struct ps_pkt_buf){ .data = fr[0], .len = (uint16_t)n };
	header(sp, PS_KIND_SCAN, 1);
	struct ps_scan s = { .waybill = wb, .region = 330000000000ull,
			     .scan_type = 1 };
	ps_scan_encode(sp + 16, &s);
	n = build(SCANNER, sp, sizeof(sp));
	memcpy(fr[1], frame, n);
	b[1] = (struct ps_pkt_buf){ .data = fr[1], .len = (uint16_t)n };
	header(rp, PS_KIND_SORT_RESULT, 1);
	n = build(SORTER, rp, sizeof(rp));
	memcpy(fr[2], frame, n);
	b[2] = (struct ps_pkt_buf){ .data = fr[2], .len = (uint16_t)n };
	ps_pipeline_run(&pl, b, 3, 2);
	for (int i = 0; i < 3; i++)
		cr_assert(b[i].send, "frame %d answered", i);
	struct ps_frame f;
	cr_assert_eq(ps_frame_parse(fr[1], b[1].out_len, &f), PS_FRAME_UDP);
	struct ps_decision d;
	ps_decision_decode(fr[1] + f.payload_off + 16, &d, NULL);
	cr_assert_eq(d.reason, PS_R_ROUTED, "decided afresh after round 1");
	/* the second result came after that scan: marked again, round 2 */
	cr_assert_eq(cnt.rounds, 2);
	struct ps_dedup_entry x;
	cr_assert_eq(ps_dedup_lookup_entry(&dd, ps_dedup_hash(wb), wb, 2, &x),
		     PS_DEDUP_HIT);
	cr_assert_eq(x.rounds, 2);
	cr_assert_eq(x.not_discharged, 1, "the last result's mark stands");
	/* a first scan and its SORTED result in one burst: known */
	uint8_t wb2[24];
	waybill(wb2, "JT0000000095");
	s.waybill = wb2;
	header(sp, PS_KIND_SCAN, 1);
	ps_scan_encode(sp + 16, &s);
	n = build(SCANNER, sp, sizeof(sp));
	memcpy(fr[0], frame, n);
	b[0] = (struct ps_pkt_buf){ .data = fr[0], .len = (uint16_t)n };
	e.waybill = wb2;
	e.status = PS_SORT_SORTED;
	e.chute = 10;
	header(rp, PS_KIND_SORT_RESULT, 1);
	ps_sort_result_encode(rp + 16, &e);
	n = build(SORTER, rp, sizeof(rp));
	memcpy(fr[1], frame, n);
	b[1] = (struct ps_pkt_buf){ .data = fr[1], .len = (uint16_t)n };
	ps_pipeline_run(&pl, b, 2, 3);
	cr_assert_eq(cnt.sort_unknown, 0, "the scan before it was remembered");
}

/* Two cores applying not-discharged results to the same waybills at the
 * same time lose no round (the slot is claimed by compare-and-swap). */
#define RACE_WB 512
#define RACE_EACH 127

static uint8_t race_wb[RACE_WB][24];
static unsigned race_turn[RACE_WB];

/* Both threads start on a waybill together (a spin meeting per waybill),
 * so their results meet on the same slot. */
static void *race_results(void *arg)
{
	(void)arg;
	struct ps_dedup_entry was;
	for (int i = 0; i < RACE_WB; i++) {
		__atomic_add_fetch(&race_turn[i], 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&race_turn[i], __ATOMIC_SEQ_CST) < 2)
			sched_yield();
		for (int k = 0; k < RACE_EACH; k++)
			cr_assert_eq(ps_dedup_sort_result(
				&dd, ps_dedup_hash(race_wb[i]), race_wb[i], 1,
				PS_SORT_CHUTE_FULL, &was), PS_DEDUP_HIT);
	}
	return NULL;
}

Test(sorter, concurrent_results_lose_no_round)
{
	struct ps_decision dec = { .chute = 10, .reason = PS_R_ROUTED,
				   .plan_version = 5 }, out;
	int ev;
	for (int i = 0; i < RACE_WB; i++) {
		char s[16];
		snprintf(s, sizeof(s), "RC%08d", i);
		waybill(race_wb[i], s);
		cr_assert_eq(ps_dedup_insert(&dd, ps_dedup_hash(race_wb[i]),
					     race_wb[i], 1, &dec, &cs, &out,
					     &ev), PS_DEDUP_MISS);
	}
	pthread_t t[2];
	memset(race_turn, 0, sizeof(race_turn));
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race_results, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < RACE_WB; i++) {
		struct ps_dedup_entry e;
		cr_assert_eq(ps_dedup_lookup_entry(&dd,
						   ps_dedup_hash(race_wb[i]),
						   race_wb[i], 1, &e),
			     PS_DEDUP_HIT);
		cr_assert_eq(e.rounds, 2 * RACE_EACH, "waybill %d", i);
		cr_assert_eq(e.not_discharged, 1);
		cr_assert_eq(e.dec.chute, 10);
	}
}

/* Sort results on one core while another core keeps re-using the same
 * slots for other waybills (a one-bucket window, full, each insert
 * evicting the oldest): a result never lands on the waybill that took its
 * slot (the claim is from the sequence number the entry was read under),
 * a hit answers the entry of its own waybill, and a result that finds
 * nothing leaves in *before nothing half-read or of another waybill (the
 * one-pass path read straight into it, and a slot re-used meanwhile left
 * another waybill's fields there). */
#define ABA_ROUNDS 2000000
#define ABA_WB 8

static struct ps_dedup aba_d;
static uint8_t aba_x[ABA_WB][24], aba_y[ABA_WB][24];
static int aba_stop;
static unsigned aba_bad_y, aba_bad_hit, aba_bad_miss, aba_misses;

static void *aba_evictor(void *arg)
{
	(void)arg;
	struct ps_decision dec = { .chute = 20, .reason = PS_R_ROUTED,
				   .plan_version = 7 }, out;
	struct ps_dedup_entry e;
	int ev;
	for (unsigned k = 0; !__atomic_load_n(&aba_stop, __ATOMIC_RELAXED);
	     k++) {
		const uint8_t *wb = aba_y[k % ABA_WB];
		uint64_t h = ps_dedup_hash(wb);
		ps_dedup_insert(&aba_d, h, wb, 1, &dec, &cs, &out, &ev);
		if (ps_dedup_lookup_entry(&aba_d, h, wb, 1, &e) ==
			    PS_DEDUP_HIT &&
		    (e.rounds || e.not_discharged || e.dec.chute != 20))
			__atomic_add_fetch(&aba_bad_y, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(sorter, results_never_land_on_a_slot_another_waybill_took)
{
	static const uint8_t status[3] = { PS_SORT_CHUTE_FULL, PS_SORT_SORTED,
					   PS_SORT_LOST };
	struct ps_decision dec = { .chute = 10, .reason = PS_R_ROUTED,
				   .plan_version = 5 }, out;
	int ev;
	cr_assert_eq(ps_dedup_init(&aba_d, PS_DEDUP_WAYS, 600), 0);
	cr_assert_eq(aba_d.mask, 0, "one bucket: every waybill shares it");
	for (int i = 0; i < ABA_WB; i++) {
		char s[16];
		snprintf(s, sizeof(s), "AX%08d", i);
		waybill(aba_x[i], s);
		snprintf(s, sizeof(s), "AY%08d", i);
		waybill(aba_y[i], s);
	}
	pthread_t t;
	pthread_create(&t, NULL, aba_evictor, NULL);
	for (unsigned k = 0; k < ABA_ROUNDS; k++) {
		const uint8_t *wb = aba_x[k % ABA_WB];
		uint64_t h = ps_dedup_hash(wb);
		struct ps_dedup_entry was;
		if (k % 3 == 0)
			ps_dedup_insert(&aba_d, h, wb, 1, &dec, &cs, &out,
					&ev);
		memset(&was, 0xa5, sizeof(was));
		enum ps_dedup_result r = ps_dedup_sort_result(
			&aba_d, h, wb, 1, status[k % 3], &was);
		if (r == PS_DEDUP_HIT) {
			if (was.dec.chute != 10 || was.dec.plan_version != 5)
				aba_bad_hit++;
			continue;
		}
		/* as it was, or (the general path's first try failing its
		 * claim) a whole earlier read of wb's own entry */
		aba_misses++;
		struct ps_dedup_entry sentinel;
		memset(&sentinel, 0xa5, sizeof(sentinel));
		if (memcmp(&was, &sentinel, sizeof(was)) &&
		    (was.dec.chute != 10 || was.dec.plan_version != 5 ||
		     was.dec.reason != PS_R_ROUTED))
			aba_bad_miss++;
	}
	__atomic_store_n(&aba_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ps_dedup_free(&aba_d);
	cr_log_info("misses %u", aba_misses);
	cr_assert_eq(aba_bad_y, 0, "a result landed on another waybill");
	cr_assert_eq(aba_bad_hit, 0, "a hit answered another entry");
	cr_assert_eq(aba_bad_miss, 0, "a miss left a half-read entry (%u)",
		     aba_bad_miss);
}

/* ---- the manifest at the end of step 8 ---- */

static struct ps_manifest *manifest_with(const char *wbs, uint64_t region)
{
	struct ps_manifest_cfg cfg = { .capacity = 64 };
	char err[256];
	uint8_t wb[24];
	struct ps_manifest *m = ps_manifest_open(&cfg, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	waybill(wb, wbs);
	cr_assert_eq(ps_manifest_add(m, wb, region, err, sizeof(err)), 0);
	return m;
}

Test(sorter, a_barcode_only_scan_takes_its_manifest_region)
{
	pl.manifest = manifest_with("MF0000000001", 310000000000ull);
	struct ps_decision d = scan("MF0000000001", 0, 100);
	cr_assert_eq(d.reason, PS_R_ROUTED);
	cr_assert_eq(d.chute, 20, "route 31 by the manifest's region");
	cr_assert_eq(d.matched_prefix, 310000000000ull);
	cr_assert_eq(cnt.manifest_resolved, 1);
	cr_assert_eq(cnt.manifest_missed, 0);
	cr_assert_eq(loop.device[7].manifest_resolved, 1);
	cr_assert_eq(n_events, 1);
	cr_assert_eq(events[0].region, 0, "the record's region, as scanned");
	cr_assert_eq(events[0].region_used, 310000000000ull);
	cr_assert_eq(events[0].region_src, PS_REGION_MANIFEST);
	ps_manifest_close(pl.manifest);
}

Test(sorter, a_scan_with_its_own_region_ignores_the_manifest)
{
	pl.manifest = manifest_with("MF0000000002", 310000000000ull);
	struct ps_decision d = scan("MF0000000002", 330000000000ull, 100);
	cr_assert_eq(d.reason, PS_R_ROUTED);
	cr_assert(d.chute == 10 || d.chute == 11, "route 33, the scanner's");
	cr_assert_eq(cnt.manifest_resolved + cnt.manifest_missed, 0);
	cr_assert_eq(events[0].region_used, 330000000000ull);
	cr_assert_eq(events[0].region_src, PS_REGION_SCANNER);
	ps_manifest_close(pl.manifest);
}

Test(sorter, no_entry_is_a_miss_decided_again_once_the_entry_comes)
{
	char err[256];
	uint8_t wb[24];
	pl.manifest = manifest_with("MF0000000003", 310000000000ull);
	struct ps_decision d = scan("MF0000000004", 0, 100);
	cr_assert_eq(d.reason, PS_R_NO_ROUTE, "region 0 matches no route");
	cr_assert_eq(cnt.manifest_missed, 1);
	cr_assert_eq(loop.device[7].manifest_missed, 1);
	cr_assert_eq(events[0].region_src, PS_REGION_NONE);
	/* not remembered: the next scan is decided with the manifest */
	waybill(wb, "MF0000000004");
	cr_assert_eq(ps_manifest_add(pl.manifest, wb, 330000000000ull, err,
				     sizeof(err)), 0);
	d = scan("MF0000000004", 0, 101);
	cr_assert_eq(d.reason, PS_R_ROUTED);
	/* remembered: a later change of the entry does not change it */
	cr_assert_eq(ps_manifest_add(pl.manifest, wb, 310000000000ull, err,
				     sizeof(err)), 0);
	struct ps_decision again = scan("MF0000000004", 0, 102);
	cr_assert_eq(again.reason, PS_R_DUPLICATE);
	cr_assert_eq(again.chute, d.chute);
	cr_assert_eq(cnt.manifest_resolved, 1, "a duplicate is not looked up");
	ps_manifest_close(pl.manifest);
}

Test(sorter, without_a_manifest_barcode_only_scans_are_misses)
{
	struct ps_decision d = scan("MF0000000005", 0, 100);
	cr_assert_eq(d.reason, PS_R_NO_ROUTE);
	cr_assert_eq(cnt.manifest_missed, 1);
	cr_assert_eq(cnt.manifest_resolved, 0);
}

/* Two scans of one barcode-only waybill in one frame: both looked up in
 * the manifest and found fresh, the second a DUPLICATE only at its insert
 * (the first was inserted before it). It answers the first decision, as
 * a duplicate found at the look-up does: no manifest resolution counted,
 * none said in its event. */
Test(sorter, a_duplicate_within_a_burst_is_not_counted_a_manifest_hit)
{
	struct ps_decision d[2];
	pl.manifest = manifest_with("MF0000000006", 310000000000ull);
	scan_batch(&pl, "MF0000000006", 0, 2, 100, d);
	cr_assert_eq(d[0].reason, PS_R_ROUTED);
	cr_assert_eq(d[0].chute, 20, "route 31 by the manifest's region");
	cr_assert_eq(d[1].reason, PS_R_DUPLICATE);
	cr_assert_eq(d[1].chute, 20);
	cr_assert_eq(cnt.manifest_resolved, 1, "the duplicate counted a hit");
	cr_assert_eq(cnt.manifest_missed, 0);
	cr_assert_eq(loop.device[7].manifest_resolved, 1);
	cr_assert_eq(loop.device[7].manifest_missed, 0);
	cr_assert_eq(n_events, 2);
	cr_assert_eq(events[0].region_src, PS_REGION_MANIFEST);
	cr_assert_eq(events[0].region_used, 310000000000ull);
	cr_assert_eq(events[1].reason, PS_R_DUPLICATE);
	cr_assert_eq(events[1].region_src, PS_REGION_NONE);
	cr_assert_eq(events[1].region_used, 0, "as a duplicate at the look-up");
	/* the same as a duplicate found at the look-up, a burst later */
	cr_assert_eq(scan("MF0000000006", 0, 101).reason, PS_R_DUPLICATE);
	cr_assert_eq(cnt.manifest_resolved, 1);
	cr_assert_eq(events[2].region_src, PS_REGION_NONE);
	cr_assert_eq(events[2].region_used, 0);
	ps_manifest_close(pl.manifest);
}

/* ---- frames of one burst ---- */

static uint8_t burst_fr[PS_BURST][1600];
static struct ps_pkt_buf burst_pk[PS_BURST];
static unsigned burst_n;

/* The frame just built (frame[], len bytes) as the burst's next. */
static void burst_add(size_t len)
{
	cr_assert_lt(burst_n, PS_BURST);
	memcpy(burst_fr[burst_n], frame, len);
	burst_pk[burst_n] = (struct ps_pkt_buf){ .data = burst_fr[burst_n],
						 .len = (uint16_t)len };
	burst_n++;
}

/* A scan batch of one INDUCT scan of wbs to region, the burst's next. */
static void burst_scan(const char *wbs, uint64_t region)
{
	uint8_t pay[16 + 64], wb[24];
	waybill(wb, wbs);
	header(pay, PS_KIND_SCAN, 1);
	struct ps_scan s = { .waybill = wb, .region = region, .scan_type = 1,
			     .device = 7, .event_seq = seq };
	ps_scan_encode(pay + 16, &s);
	burst_add(build(SCANNER, pay, sizeof(pay)));
}

/* A kind 5 batch of one result for wbs, the burst's next. */
static void burst_result(const char *wbs, uint16_t chute, uint8_t status)
{
	uint8_t pay[16 + 48];
	result_payload(pay, wbs, chute, status);
	burst_add(build(SORTER, pay, sizeof(pay)));
}

/* The decision of the burst's frame i, a one-scan batch. */
static struct ps_decision burst_decision(unsigned i)
{
	struct ps_frame f;
	struct ps_decision d;
	cr_assert(burst_pk[i].send, "frame %u answered", i);
	cr_assert_eq(ps_frame_parse(burst_fr[i], burst_pk[i].out_len, &f),
		     PS_FRAME_UDP);
	cr_assert_eq(f.payload_len, 16 + 48, "frame %u: a decision", i);
	ps_decision_decode(burst_fr[i] + f.payload_off + 16, &d, NULL);
	return d;
}

/* The count of the burst's frame i, an acknowledgement. */
static unsigned burst_ack(unsigned i)
{
	struct ps_frame f;
	struct ps_header h;
	cr_assert(burst_pk[i].send, "frame %u answered", i);
	cr_assert_eq(ps_frame_parse(burst_fr[i], burst_pk[i].out_len, &f),
		     PS_FRAME_UDP);
	cr_assert_eq(ps_ack_check(burst_fr[i] + f.payload_off, f.payload_len,
				  &h), PS_HDR_OK, "frame %u: an ack", i);
	return h.count;
}

static const char *replacement;

/* The export of a sort result replaces the manifest (a replace arriving
 * on the control thread at that moment, made deterministic). */
static void replace_manifest(const struct ps_event *ev, unsigned n)
{
	struct ps_errors e;
	struct ps_manifest_load_result r;
	if (!n || ev[0].type != PS_EVENT_SORT_RESULT || !replacement)
		return;
	FILE *f = fmemopen((void *)replacement, strlen(replacement), "r");
	cr_assert_not_null(f);
	ps_errors_init(&e);
	cr_assert_eq(ps_manifest_load(pl.manifest, f, "m.csv", 1, &e, &r), 0);
	ps_errors_free(&e);
	fclose(f);
	replacement = NULL;
}

/* A manifest replaced between two scan batches of one burst (events on:
 * the kind 5 between them splits it): each batch is decided by the
 * look-up made for it, the first by the old manifest, the second by the
 * new one, where its waybill is absent (not the answer the first
 * look-up left in the burst for the same record slot). */
Test(sorter, a_manifest_replaced_mid_burst_decides_by_the_look_up)
{
	char err[256];
	uint8_t wb[24];
	pl.manifest = manifest_with("MF0000000007", 310000000000ull);
	waybill(wb, "MF0000000008");
	cr_assert_eq(ps_manifest_add(pl.manifest, wb, 310000000000ull, err,
				     sizeof(err)), 0);
	replacement = "MF0000000007,330000000000\n";
	on_export = replace_manifest;
	burst_n = 0;
	burst_scan("MF0000000007", 0);
	burst_result("JT0000000099", 10, PS_SORT_SORTED);
	burst_scan("MF0000000008", 0);
	ps_pipeline_run(&pl, burst_pk, burst_n, 100);
	cr_assert_null(replacement, "replaced mid-burst");
	struct ps_decision d = burst_decision(0);
	cr_assert_eq(d.reason, PS_R_ROUTED);
	cr_assert_eq(d.chute, 20, "route 31: the old manifest's region");
	cr_assert_eq(burst_ack(1), 1);
	d = burst_decision(2);
	cr_assert_eq(d.reason, PS_R_NO_ROUTE, "absent from the new manifest");
	cr_assert_eq(cnt.manifest_resolved, 1);
	cr_assert_eq(cnt.manifest_missed, 1);
	cr_assert_eq(n_events, 3);
	cr_assert_eq(events[0].region_src, PS_REGION_MANIFEST);
	cr_assert_eq(events[2].region_src, PS_REGION_NONE);
	cr_assert_eq(events[2].region_used, 0);
	waybill(wb, "MF0000000007");
	cr_assert_eq(ps_manifest_get(pl.manifest, wb, pl.manifest_now_ms),
		     330000000000ull, "the new manifest in force");
	ps_manifest_close(pl.manifest);
}

/* One burst of scans with kind 5 frames between them on p, waybills
 * JT0000000<n>0..4 (A remembered before the burst, the others new):
 * each result takes effect in its place, after the scans before it and
 * before the scans after it. */
static void interleaved(struct ps_pipeline *p, struct ps_counters *c,
			unsigned n)
{
	char a[16], b[16], cc[16], d[16], e[16];
	const uint64_t R33 = 330000000000ull;
	snprintf(a, sizeof(a), "JT0000000%u0", n);
	snprintf(b, sizeof(b), "JT0000000%u1", n);
	snprintf(cc, sizeof(cc), "JT0000000%u2", n);
	snprintf(d, sizeof(d), "JT0000000%u3", n);
	snprintf(e, sizeof(e), "JT0000000%u4", n);
	cr_assert_eq(scan_on(p, a, R33, 1).reason, PS_R_ROUTED);
	uint64_t rounds = c->rounds, unknown = c->sort_unknown;
	burst_n = 0;
	burst_scan(a, R33);                             /* 0 */
	burst_result(a, 0, PS_SORT_CHUTE_FULL);         /* 1 */
	burst_scan(b, R33);                             /* 2 */
	burst_scan(a, R33);                             /* 3 */
	burst_result(b, 10, PS_SORT_SORTED);            /* 4 */
	burst_scan(cc, R33);                            /* 5 */
	burst_result(a, 0, PS_SORT_DISCHARGE_FAILED);   /* 6 */
	burst_scan(a, R33);                             /* 7 */
	burst_result(d, 0, PS_SORT_LOST);               /* 8 */
	burst_scan(d, R33);                             /* 9 */
	burst_scan(e, R33);                             /* 10 */
	burst_result(e, 0, PS_SORT_LOST);               /* 11 */
	burst_scan(e, R33);                             /* 12 */
	ps_pipeline_run(p, burst_pk, burst_n, 2);
	cr_assert_eq(burst_decision(0).reason, PS_R_DUPLICATE,
		     "decided without the result after it");
	cr_assert_eq(burst_ack(1), 1);
	cr_assert_eq(burst_decision(2).reason, PS_R_ROUTED);
	cr_assert_eq(burst_decision(3).reason, PS_R_ROUTED,
		     "decided afresh: the CHUTE_FULL before it applied");
	cr_assert_eq(burst_ack(4), 1);
	cr_assert_eq(burst_decision(5).reason, PS_R_ROUTED);
	cr_assert_eq(burst_ack(6), 1);
	cr_assert_eq(burst_decision(7).reason, PS_R_RECIRC_LIMIT,
		     "the second round before it applied");
	cr_assert_eq(burst_ack(8), 1);
	cr_assert_eq(burst_decision(9).reason, PS_R_ROUTED);
	cr_assert_eq(burst_decision(10).reason, PS_R_ROUTED);
	cr_assert_eq(burst_ack(11), 1);
	cr_assert_eq(burst_decision(12).reason, PS_R_ROUTED,
		     "forgotten by the LOST before it: not a duplicate");
	cr_assert_eq(c->rounds - rounds, 2);
	cr_assert_eq(c->sort_unknown - unknown, 1,
		     "only the result before its waybill's first scan");
}

/* Kind 5 frames between the scans of one burst, with events off (the
 * burst is not split) and on (it is, so that the events keep the frames'
 * order): the same decisions, the same counts. */
Test(sorter, results_between_scans_take_effect_in_their_place)
{
	pl2.export_fn = NULL;
	interleaved(&pl2, &cnt2, 1);
	cr_assert_eq(cnt2.answered[PS_ANS_ACK], 5);
	cr_assert_eq(cnt2.sort_lost, 2);
	interleaved(&pl, &cnt, 2);
	cr_assert_eq(cnt.answered[PS_ANS_ACK], 5);
	cr_assert_eq(cnt.sort_lost, 2);
	cr_assert_eq(cnt.records, cnt2.records);
	cr_assert_eq(cnt.dedup_inserts, cnt2.dedup_inserts);
	cr_assert_eq(cnt.dedup_hits, cnt2.dedup_hits);
}

/* A kind 5 frame after a scan batch with no sortable record (events off):
 * applied all the same, and a kind 3 after it takes effect after it. */
Test(sorter, results_after_scans_with_nothing_to_decide_still_apply)
{
	pl.export_fn = NULL;
	struct ps_decision d = scan("JT0000000096", 310000000000ull, 1);
	cr_assert_eq(d.chute, 20);
	burst_n = 0;
	burst_scan("", 310000000000ull);
	burst_result("JT0000000096", 0, PS_SORT_LOST);
	uint8_t pay[16 + 8];
	header(pay, PS_KIND_CHUTE_STATE, 1);
	struct ps_chute_report e = { .chute = 20, .state = PS_CHUTE_FULL,
				     .hold_s = 60 };
	ps_chute_report_encode(pay + 16, &e);
	burst_add(build(SORTER, pay, sizeof(pay)));
	burst_scan("JT0000000096", 310000000000ull);
	ps_pipeline_run(&pl, burst_pk, burst_n, 1);
	cr_assert_eq(burst_decision(0).reason, PS_R_NOREAD);
	cr_assert_eq(burst_ack(1), 1);
	cr_assert_eq(burst_ack(2), 1);
	d = burst_decision(3);
	cr_assert_eq(d.reason, PS_R_CHUTE_UNAVAILABLE,
		     "forgotten, then chute 20 reported FULL before it");
	cr_assert_eq(cnt.sort_lost, 1);
	cr_assert_eq(cnt.sort_unknown, 0);
	cr_assert_eq(cnt.chute_states, 1);
}
