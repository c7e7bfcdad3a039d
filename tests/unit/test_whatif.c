/* test_whatif.c: the what-if's pcap reader (whole records, a cut file, a
 * foreign file, either byte order, nanosecond stamps), its tally
 * (grouping of changed decisions, chutes gaining and losing, peak records
 * per 5 minutes, records becoming NO_ROUTE / CHUTE_UNAVAILABLE), and its
 * replay: random captures (duplicates, chute states, sort results, holds,
 * a manifest, a window small enough to evict, plans whose routes use
 * their reject and intercept chutes) give exactly the counts two
 * dataplane pipelines give (the reference path, wi_engine.h); and the
 * window's clock on hostile stamps (a frame stamped earlier, one 2^32 - 1
 * seconds after the first); a window capacity too large to round up
 * refused with the reason, not looped on. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "plan_src.h"
#include "ps_frame.h"
#include "rng.h"
#include "wi_capture.h"
#include "wi_tally.h"
#include "wi_window.h"
#include "whatif.h"

/* ------------------------------------------------------------- capture */

static size_t put32(uint8_t *p, uint32_t v, int swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
	return 4;
}

/* A pcap of n frames of len bytes (frame i filled with i) at 1.5 s apart. */
static size_t make_pcap(uint8_t *b, unsigned n, uint32_t len, uint32_t magic,
			uint32_t link, int swap)
{
	size_t o = 0;
	o += put32(b + o, magic, swap);
	uint16_t v[2] = { 2, 4 };
	if (swap) {
		v[0] = __builtin_bswap16(v[0]);
		v[1] = __builtin_bswap16(v[1]);
	}
	memcpy(b + o, v, 4);
	o += 4;
	o += put32(b + o, 0, swap);
	o += put32(b + o, 0, swap);
	o += put32(b + o, 65535, swap);
	o += put32(b + o, link, swap);
	for (unsigned i = 0; i < n; i++) {
		o += put32(b + o, 100 + i + i / 2, swap);
		o += put32(b + o, (i & 1) ? (magic == 0xa1b23c4du ? 500000000u
						   : 500000u) : 0, swap);
		o += put32(b + o, len, swap);
		o += put32(b + o, len, swap);
		memset(b + o, (int)i, len);
		o += len;
	}
	return o;
}

static uint8_t buf[1 << 16];

Test(capture, reads_every_whole_record)
{
	struct wi_capture c;
	char err[200];
	size_t n = make_pcap(buf, 5, 60, 0xa1b2c3d4u, 1, 0);
	cr_assert_eq(wi_capture_open_mem(&c, buf, n, err, sizeof(err)), 0);
	const uint8_t *f;
	uint32_t len;
	uint64_t ts;
	for (unsigned i = 0; i < 5; i++) {
		cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 1);
		cr_assert_eq(len, 60);
		cr_assert_eq(f[0], i);
		cr_assert_eq(f[59], i);
		cr_assert_eq(ts, (uint64_t)(100 + i + i / 2) * 1000000u +
				 ((i & 1) ? 500000u : 0));
	}
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 0);
	cr_assert_eq(c.records, 5);
	cr_assert_not(c.truncated);
	cr_assert_not(c.corrupt);
}

Test(capture, other_byte_order_and_nanoseconds)
{
	struct wi_capture c;
	char err[200];
	size_t n = make_pcap(buf, 2, 40, 0xa1b23c4du, 1, 1);
	cr_assert_eq(wi_capture_open_mem(&c, buf, n, err, sizeof(err)), 0);
	cr_assert(c.swapped);
	cr_assert(c.nanos);
	const uint8_t *f;
	uint32_t len;
	uint64_t ts;
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 1);
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 1);
	cr_assert_eq(len, 40);
	cr_assert_eq(ts, 101500000u);
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 0);
}

Test(capture, a_cut_file_ends_at_the_last_whole_record)
{
	size_t n = make_pcap(buf, 4, 100, 0xa1b2c3d4u, 1, 0);
	/* cut inside the last frame, then inside the last record header */
	size_t cuts[2] = { n - 10, n - 100 - 8 };
	for (int k = 0; k < 2; k++) {
		struct wi_capture c;
		char err[200];
		cr_assert_eq(wi_capture_open_mem(&c, buf, cuts[k], err,
						 sizeof(err)), 0);
		const uint8_t *f;
		uint32_t len;
		uint64_t ts;
		unsigned got = 0;
		while (wi_capture_next(&c, &f, &len, &ts))
			got++;
		cr_assert_eq(got, 3);
		cr_assert_eq(c.records, 3);
		cr_assert(c.truncated);
	}
}

Test(capture, a_foreign_file_is_refused_with_the_reason)
{
	struct wi_capture c;
	char err[200];
	const char *text = "plan yiwu\nsite 1 33\nreject 9\nhub 1 trunk T\n";
	cr_assert_eq(wi_capture_open_mem(&c, (const uint8_t *)text,
					 strlen(text), err, sizeof(err)), -1);
	cr_assert(strstr(err, "not a pcap file"), "%s", err);
	cr_assert_eq(wi_capture_open_mem(&c, buf, 10, err, sizeof(err)), -1);
	cr_assert(strstr(err, "shorter than a pcap header"), "%s", err);
	size_t n = make_pcap(buf, 1, 40, 0xa1b2c3d4u, 113, 0);
	cr_assert_eq(wi_capture_open_mem(&c, buf, n, err, sizeof(err)), -1);
	cr_assert(strstr(err, "link type 113, not Ethernet"), "%s", err);
}

Test(capture, a_record_longer_than_any_frame_is_corrupt)
{
	struct wi_capture c;
	char err[200];
	size_t n = make_pcap(buf, 2, 40, 0xa1b2c3d4u, 1, 0);
	uint32_t huge = 1u << 20;
	memcpy(buf + 24 + 16 + 40 + 8, &huge, 4);  /* the second record */
	cr_assert_eq(wi_capture_open_mem(&c, buf, n, err, sizeof(err)), 0);
	const uint8_t *f;
	uint32_t len;
	uint64_t ts;
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 1);
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 0);
	cr_assert(c.corrupt);
	cr_assert_eq(c.records, 1);
}

/* --------------------------------------------------------------- tally */

static struct wi_dec dec(uint32_t hub, uint16_t chute, uint8_t reason,
			 uint64_t ts_ms)
{
	struct wi_dec d = { .ts_ms = ts_ms, .hub = hub, .chute = chute,
			    .reason = reason };
	return d;
}

Test(tally, map_counts_and_grows)
{
	struct wi_map m;
	cr_assert_eq(wi_map_init(&m, 4), 0);
	for (uint64_t i = 0; i < 10000; i++)
		cr_assert_eq(wi_map_add(&m, i % 997, i % 3, 1), 0);
	uint64_t sum = 0;
	for (uint64_t a = 0; a < 997; a++)
		for (uint64_t b = 0; b < 3; b++)
			sum += wi_map_get(&m, a, b);
	cr_assert_eq(sum, 10000);
	cr_assert_eq(m.used, 2991);
	cr_assert_eq(wi_map_get(&m, 5000, 0), 0);
	wi_map_free(&m);
}

Test(tally, groups_chutes_and_becoming)
{
	struct wi_tally t;
	struct wi_summary s;
	cr_assert_eq(wi_tally_init(&t), 0);
	struct wi_dec a, b;
	/* 5 unchanged on hub 1 chute 10 */
	for (int i = 0; i < 5; i++) {
		a = dec(1, 10, PS_R_ROUTED, 1000);
		wi_tally_add(&t, &a, &a);
	}
	/* 7: hub 1 chute 11 -> hub 2 chute 20 */
	for (int i = 0; i < 7; i++) {
		a = dec(1, 11, PS_R_ROUTED, 1000);
		b = dec(2, 20, PS_R_OVERRIDE, 1000);
		wi_tally_add(&t, &a, &b);
	}
	/* 3: hub 1 chute 11 -> NO_ROUTE (reject 999) */
	for (int i = 0; i < 3; i++) {
		a = dec(1, 11, PS_R_ROUTED, 1000);
		b = dec(0, 999, PS_R_NO_ROUTE, 1000);
		wi_tally_add(&t, &a, &b);
	}
	/* 2: same chute, another hub: a change */
	for (int i = 0; i < 2; i++) {
		a = dec(1, 12, PS_R_ROUTED, 1000);
		b = dec(3, 12, PS_R_ROUTED, 1000);
		wi_tally_add(&t, &a, &b);
	}
	/* 1: unavailable on both sides: no change, nothing becomes */
	a = dec(0, 999, PS_R_CHUTE_UNAVAILABLE, 1000);
	wi_tally_add(&t, &a, &a);
	/* 1: becomes CHUTE_UNAVAILABLE */
	a = dec(1, 10, PS_R_ROUTED, 1000);
	b = dec(0, 999, PS_R_CHUTE_UNAVAILABLE, 1000);
	wi_tally_add(&t, &a, &b);
	cr_assert_eq(wi_tally_finish(&t, &s), 0);
	cr_assert_eq(t.records, 19);
	cr_assert_eq(t.changed, 13);
	cr_assert_eq(t.become_no_route, 3);
	cr_assert_eq(t.become_unavailable, 1);
	cr_assert_eq(t.by_reason[0][PS_R_ROUTED], 18);
	cr_assert_eq(t.by_reason[1][PS_R_OVERRIDE], 7);
	cr_assert_eq(s.n_groups, 4);
	cr_assert_eq(s.groups[0].records, 7);
	cr_assert_eq(s.groups[0].hub[0], 1);
	cr_assert_eq(s.groups[0].chute[0], 11);
	cr_assert_eq(s.groups[0].hub[1], 2);
	cr_assert_eq(s.groups[0].chute[1], 20);
	cr_assert_eq(s.groups[1].records, 3);
	cr_assert_eq(s.groups[1].chute[1], 999);
	cr_assert_eq(s.groups[2].records, 2);
	cr_assert_eq(s.groups[3].records, 1);
	/* chutes: 11 loses 10, 20 gains 7, 999 gains 4, 10 loses 1; 12
	 * keeps its 2 (another hub, the same chute) */
	cr_assert_eq(s.n_chutes, 4);
	cr_assert_eq(s.chutes[0].chute, 11);
	cr_assert_eq(s.chutes[0].records[0], 10);
	cr_assert_eq(s.chutes[0].records[1], 0);
	cr_assert_eq(s.chutes[1].chute, 20);
	cr_assert_eq(s.chutes[2].chute, 999);
	cr_assert_eq(s.chutes[2].records[0], 1);
	cr_assert_eq(s.chutes[2].records[1], 5);
	cr_assert_eq(s.chutes[3].chute, 10);
	wi_summary_free(&s);
	wi_tally_free(&t);
}

Test(tally, peak_records_per_five_minutes)
{
	struct wi_tally t;
	struct wi_summary s;
	cr_assert_eq(wi_tally_init(&t), 0);
	struct wi_dec a, b;
	/* chute 5 current: 4 records in window 0, 6 in window 1, 3 in
	 * window 0 again (out of order: the window has 7, more than window
	 * 1), 1 in window 3; candidate: all to chute 6 except those of
	 * window 1 */
	uint64_t ts[] = { 0, 1, 2, 299999, 300000, 300001, 300002, 400000,
			  500000, 599999, 3, 4, 5, 900000 };
	for (unsigned i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		a = dec(1, 5, PS_R_ROUTED, ts[i]);
		int w1 = ts[i] >= 300000 && ts[i] < 600000;
		b = dec(1, w1 ? 5 : 6, PS_R_ROUTED, ts[i]);
		wi_tally_add(&t, &a, &b);
	}
	cr_assert_eq(wi_tally_finish(&t, &s), 0);
	cr_assert_eq(s.n_chutes, 2);
	const struct wi_chute *c5 = s.chutes[0].chute == 5 ? &s.chutes[0]
							    : &s.chutes[1];
	const struct wi_chute *c6 = s.chutes[0].chute == 6 ? &s.chutes[0]
							    : &s.chutes[1];
	cr_assert_eq(c5->records[0], 14);
	cr_assert_eq(c5->records[1], 6);
	cr_assert_eq(c5->peak[0], 7);
	cr_assert_eq(c5->peak[1], 6);
	cr_assert_eq(c6->records[1], 8);
	cr_assert_eq(c6->peak[1], 7);
	cr_assert_eq(c6->peak[0], 0);
	wi_summary_free(&s);
	wi_tally_free(&t);
}

/* ------------------------------------------------ review: hostile input */

/* A pcap whose record i has incl[i] bytes captured of orig[i] (filled with
 * i). */
static size_t make_pcap_lens(uint8_t *b, unsigned n, const uint32_t *incl,
			     const uint32_t *orig)
{
	size_t o = make_pcap(b, 0, 0, 0xa1b2c3d4u, 1, 0);
	for (unsigned i = 0; i < n; i++) {
		o += put32(b + o, 100 + i, 0);
		o += put32(b + o, 0, 0);
		o += put32(b + o, incl[i], 0);
		o += put32(b + o, orig[i], 0);
		memset(b + o, (int)i, incl[i]);
		o += incl[i];
	}
	return o;
}

/* A frame cut by the capture's snap length (tcpdump -s) is not what the
 * dataplane received: replayed, it would be dropped as a broken frame and
 * its records lost from the report without a word. */
Test(capture, a_frame_cut_by_the_snap_length_is_counted_not_replayed)
{
	uint32_t incl[3] = { 60, 40, 60 }, orig[3] = { 60, 100, 60 };
	size_t n = make_pcap_lens(buf, 3, incl, orig);
	struct wi_capture c;
	char err[200];
	cr_assert_eq(wi_capture_open_mem(&c, buf, n, err, sizeof(err)), 0);
	const uint8_t *f;
	uint32_t len;
	uint64_t ts;
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 1);
	cr_assert_eq(f[0], 0);
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 1);
	cr_assert_eq(f[0], 2, "the cut frame was replayed");
	cr_assert_eq(len, 60);
	cr_assert_eq(wi_capture_next(&c, &f, &len, &ts), 0);
	cr_assert_not(c.truncated);
	cr_assert_not(c.corrupt);
	cr_assert_eq(c.records, 3);
	cr_assert_eq(c.cut, 1);
}

/* A record that is CHUTE_UNAVAILABLE under the current plan and NO_ROUTE
 * under the candidate goes to the same reject chute with no hub: it does
 * not change chute, but it does become NO_ROUTE (docs/whatif.md: "records
 * with that reason under the candidate and another under the current
 * plan"); and the other way round. */
Test(tally, a_reason_that_changes_at_the_same_reject_chute_becomes)
{
	struct wi_tally t;
	struct wi_summary s;
	cr_assert_eq(wi_tally_init(&t), 0);
	struct wi_dec a = dec(0, 999, PS_R_CHUTE_UNAVAILABLE, 1000);
	struct wi_dec b = dec(0, 999, PS_R_NO_ROUTE, 1000);
	wi_tally_add(&t, &a, &b);
	wi_tally_add(&t, &a, &b);
	wi_tally_add(&t, &b, &a);
	cr_assert_eq(wi_tally_finish(&t, &s), 0);
	cr_assert_eq(t.changed, 0);
	cr_assert_eq(s.n_groups, 0);
	cr_assert_eq(t.become_no_route, 2);
	cr_assert_eq(t.become_unavailable, 1);
	wi_summary_free(&s);
	wi_tally_free(&t);
}

/* The records' ts_ms is the scanners' word (a malformed record's is
 * anything): a capture whose records spread over more 5-minute windows
 * than any day has must not grow the tally without bound. */
Test(tally, the_five_minute_windows_are_bounded)
{
	struct wi_tally t;
	struct wi_summary s;
	cr_assert_eq(wi_tally_init(&t), 0);
	const uint64_t bound = 1u << 20, n = bound + 4096;
	for (uint64_t i = 0; i < n; i++) {
		struct wi_dec a = dec(1, 7, PS_R_ROUTED, i * WI_WINDOW_MS);
		struct wi_dec b = dec(1, 8, PS_R_ROUTED, i * WI_WINDOW_MS);
		wi_tally_add(&t, &a, &b);
	}
	cr_assert_leq(t.windows.used, bound);
	cr_assert_eq(wi_tally_finish(&t, &s), 0, "the tally gave up");
	cr_assert_leq(t.windows.used, bound);
	cr_assert_eq(t.windows.used, WI_WINDOWS_MAX);
	cr_assert_eq(t.windows_left_out, 2 * n - WI_WINDOWS_MAX);
	cr_assert_eq(s.n_chutes, 2);
	cr_assert_eq(s.chutes[0].records[0] + s.chutes[1].records[0], n);
	cr_assert_eq(s.chutes[0].peak[0] + s.chutes[1].peak[0], 1);
	wi_summary_free(&s);
	wi_tally_free(&t);
}

/* -------------------------------------------------------------- replay */

/* Two plans that disagree: a moved prefix, a removed chute, other rules,
 * another reject chute and recirculation limit, no default. */
static const char *plan_a =
	"plan a\nsite 1 33\nreject 999\nintercept 998\nrecirculate 2\n"
	"hub 1 county A\nhub 2 county B\nhub 3 county C\n"
	"route 11 1 11,12\nroute 33 2 21,22,23\nroute 3307 3 31\n"
	"rule 10 1 41 carrier=SF\ndefault 2 50\n";
static const char *plan_b =
	"plan b\nsite 1 33\nreject 997\nintercept 998\nrecirculate 3\n"
	"hub 1 county A\nhub 2 county B\nhub 3 county C\n"
	"route 11 2 21\nroute 33 2 22,23\nroute 3307 3 31,32\n"
	"rule 5 3 45 carrier=YT\n";

/* And one that differs from the first in one route's chute: most records
 * are remembered under both plans alike, so a bucket keeps the same
 * history under both for long, and the histories part when a chute state
 * makes one plan's chute unavailable. */
static const char *plan_c =
	"plan c\nsite 1 33\nreject 999\nintercept 998\nrecirculate 2\n"
	"hub 1 county A\nhub 2 county B\nhub 3 county C\n"
	"route 11 1 11,12\nroute 33 2 21,22,23\nroute 3307 3 32\n"
	"rule 10 1 41 carrier=SF\ndefault 2 50\n";

/* And one whose routes use its own reject and intercept chutes: a sorter
 * report takes those out of nothing, so a remembered decision for one of
 * them stays a duplicate under a FULL report (the exempt chutes of the
 * look-up and of the insert's check). */
static const char *plan_d =
	"plan d\nsite 1 33\nreject 999\nintercept 998\nrecirculate 2\n"
	"hub 1 county A\nhub 2 county B\nhub 3 county C\n"
	"route 11 1 999,12\nroute 33 2 998\nroute 3307 3 31,999\n"
	"rule 10 1 41 carrier=SF\ndefault 2 50\n";

static struct ps_plan *compile(const char *text)
{
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	cr_assert_eq(ps_plan_parse(&src, text, strlen(text), "t.plan", &e), 0);
	struct ps_plan *p = ps_plan_compile(&src, 1, &e);
	cr_assert_not_null(p);
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	return p;
}

#define POOL 150
static const uint16_t chutes_used[] = { 11, 12, 21, 22, 23, 31, 32, 41, 45,
					50, 997, 998, 999 };
static const uint64_t regions_used[] = { 110101001001ull, 330782100201ull,
					 330101001001ull, 440101001001ull, 0,
					 0 };

static void pool_waybill(unsigned i, uint8_t wb[24])
{
	memset(wb, 0, 24);
	snprintf((char *)wb, 24, "%s%010u", i % 3 ? "SF" : "YT", 1000 + i);
}

struct cap {
	FILE *f;
	uint64_t ts_us;
	uint32_t seq;
};

static void put_frame(struct cap *c, const uint8_t *payload, size_t plen,
		      int corrupt)
{
	static const struct ps_endpoints ep = {
		.src_mac = { 2, 0, 0, 0, 0, 1 }, .dst_mac = { 2, 0, 0, 0, 0, 2 },
		.ip_ver = 4, .src_ip = { 198, 18, 0, 1 },
		.dst_ip = { 198, 18, 0, 2 }, .sport = 5, .dport = 7100 };
	uint8_t frame[2048];
	size_t n = ps_frame_build_udp(frame, sizeof(frame), &ep, payload, plen);
	cr_assert(n > 0);
	if (corrupt)
		frame[n - 1] ^= 0x5a;            /* the UDP checksum fails */
	uint32_t h[4] = { (uint32_t)(c->ts_us / 1000000u),
			  (uint32_t)(c->ts_us % 1000000u), (uint32_t)n,
			  (uint32_t)n };
	fwrite(h, 4, 4, c->f);
	fwrite(frame, 1, n, c->f);
}

static void header(uint8_t *pay, struct cap *c, unsigned kind, unsigned n)
{
	struct ps_header h = { .magic = PS_MAGIC, .version = PS_VERSION,
			       .kind = (uint8_t)kind, .count = (uint16_t)n,
			       .site = 7, .seq = c->seq++ };
	ps_header_encode(pay, &h);
}

static void scan_datagram(struct cap *c, struct ps_rng *r, int corrupt)
{
	uint8_t pay[PS_MAX_REQUEST], wb[PS_MAX_RECORDS][24];
	unsigned n = 1 + (unsigned)ps_rng_below(r, PS_MAX_RECORDS);
	header(pay, c, PS_KIND_SCAN, n);
	for (unsigned i = 0; i < n; i++) {
		struct ps_scan s;
		memset(&s, 0, sizeof(s));
		unsigned w = (unsigned)ps_rng_below(r, 100);
		pool_waybill((unsigned)ps_rng_below(r, POOL), wb[i]);
		if (w < 3)
			memset(wb[i], 0, 24);            /* NOREAD */
		else if (w < 6)
			memcpy(wb[i], "bad", 4);         /* BAD_BARCODE */
		s.waybill = wb[i];
		s.region = regions_used[ps_rng_below(r, 6)];
		if (w == 6)
			s.region = 5;                    /* malformed */
		s.ts_ms = c->ts_us / 1000u;
		unsigned t = (unsigned)ps_rng_below(r, 10);
		s.scan_type = t < 6 ? PS_SCAN_INDUCT : t < 9 ? PS_SCAN_DWS
							   : PS_SCAN_LOAD;
		s.carrier = wb[i][0] == 'Y' ? ('Y' << 8 | 'T') : ('S' << 8 | 'F');
		s.device = 1;
		s.event_seq = c->seq * 32 + i;
		ps_scan_encode(pay + PS_HDR_LEN + PS_SCAN_LEN * i, &s);
	}
	put_frame(c, pay, PS_HDR_LEN + PS_SCAN_LEN * n, corrupt);
}

static void chute_datagram(struct cap *c, struct ps_rng *r)
{
	uint8_t pay[PS_HDR_LEN + 8 * 4];
	unsigned n = 1 + (unsigned)ps_rng_below(r, 4);
	header(pay, c, PS_KIND_CHUTE_STATE, n);
	for (unsigned i = 0; i < n; i++) {
		struct ps_chute_report e;
		memset(&e, 0, sizeof(e));
		e.chute = chutes_used[ps_rng_below(r, sizeof(chutes_used) /
						    sizeof(chutes_used[0]))];
		e.state = (uint8_t)ps_rng_below(r, PS_CHUTE_STATE_COUNT);
		e.hold_s = e.state == PS_CHUTE_OPEN
			? 0 : (uint16_t)(1 + ps_rng_below(r, 8));
		ps_chute_report_encode(pay + PS_HDR_LEN + 8 * i, &e);
	}
	put_frame(c, pay, PS_HDR_LEN + 8 * n, 0);
}

static void sort_datagram(struct cap *c, struct ps_rng *r)
{
	uint8_t pay[PS_HDR_LEN + PS_SORT_RESULT_LEN * 6], wb[6][24];
	unsigned n = 1 + (unsigned)ps_rng_below(r, 6);
	header(pay, c, PS_KIND_SORT_RESULT, n);
	for (unsigned i = 0; i < n; i++) {
		struct ps_sort_result e;
		memset(&e, 0, sizeof(e));
		pool_waybill((unsigned)ps_rng_below(r, POOL), wb[i]);
		e.waybill = wb[i];
		unsigned st = (unsigned)ps_rng_below(r, 10);
		/* mostly not discharged: rounds pile up to the limits */
		e.status = (uint8_t)(st < 2 ? PS_SORT_SORTED : st < 3
				     ? PS_SORT_LOST : 2 + st % 4);
		e.chute = chutes_used[ps_rng_below(r, sizeof(chutes_used) /
						    sizeof(chutes_used[0]))];
		e.ts_ms = c->ts_us / 1000u;
		e.event_seq = c->seq;
		ps_sort_result_encode(pay + PS_HDR_LEN + PS_SORT_RESULT_LEN * i,
				      &e);
	}
	put_frame(c, pay, PS_HDR_LEN + PS_SORT_RESULT_LEN * n, 0);
}

/* A random capture of about frames frames into path. */
static void random_capture(const char *path, uint64_t seed, unsigned frames)
{
	struct ps_rng r;
	ps_rng_seed(&r, seed);
	struct cap c = { fopen(path, "wb"), 1700000000ull * 1000000u, 1 };
	cr_assert_not_null(c.f);
	uint32_t gh[6] = { 0xa1b2c3d4u, 2u | 4u << 16, 0, 0, 65535, 1 };
	fwrite(gh, 4, 6, c.f);
	for (unsigned i = 0; i < frames; i++) {
		unsigned k = (unsigned)ps_rng_below(&r, 100);
		if (k < 70)
			scan_datagram(&c, &r, k == 0);
		else if (k < 80)
			chute_datagram(&c, &r);
		else
			sort_datagram(&c, &r);
		/* mostly within a second or two, sometimes past the window
		 * (10 s) or the sorter reports' hold time */
		c.ts_us += ps_rng_below(&r, 100) < 3
			? 5000000u + ps_rng_below(&r, 20000000u)
			: ps_rng_below(&r, 400000u);
	}
	fclose(c.f);
}

static void same_results(const struct wi_result *a, const struct wi_result *b)
{
	cr_assert_eq(a->frames, b->frames);
	cr_assert_eq(a->scan_datagrams, b->scan_datagrams);
	cr_assert_eq(a->sorter_datagrams, b->sorter_datagrams);
	cr_assert_eq(a->dropped, b->dropped);
	cr_assert_eq(a->first_ms, b->first_ms);
	cr_assert_eq(a->last_ms, b->last_ms);
	const struct wi_tally *x = &a->tally, *y = &b->tally;
	cr_assert_eq(x->records, y->records);
	for (int k = 0; k < 2; k++) {
		for (unsigned i = 0; i < PS_REASON_COUNT; i++)
			cr_assert_eq(x->by_reason[k][i], y->by_reason[k][i],
				     "plan %d, reason %u: %llu, reference %llu",
				     k, i, (unsigned long long)x->by_reason[k][i],
				     (unsigned long long)y->by_reason[k][i]);
		cr_assert_eq(memcmp(x->per_chute[k], y->per_chute[k],
				    WI_CHUTES * sizeof(uint64_t)), 0);
	}
	cr_assert_eq(x->changed, y->changed);
	cr_assert_eq(x->become_no_route, y->become_no_route);
	cr_assert_eq(x->become_unavailable, y->become_unavailable);
	cr_assert_eq(x->windows_left_out, y->windows_left_out);
	cr_assert_eq(a->sum.n_groups, b->sum.n_groups);
	for (size_t i = 0; i < a->sum.n_groups; i++) {
		const struct wi_group *g = &a->sum.groups[i],
				      *h = &b->sum.groups[i];
		cr_assert(g->hub[0] == h->hub[0] && g->hub[1] == h->hub[1] &&
			  g->chute[0] == h->chute[0] &&
			  g->chute[1] == h->chute[1] &&
			  g->records == h->records, "group %zu differs", i);
	}
	cr_assert_eq(a->sum.n_chutes, b->sum.n_chutes);
	for (size_t i = 0; i < a->sum.n_chutes; i++) {
		const struct wi_chute *g = &a->sum.chutes[i],
				      *h = &b->sum.chutes[i];
		cr_assert(g->chute == h->chute &&
			  g->records[0] == h->records[0] &&
			  g->records[1] == h->records[1] &&
			  g->peak[0] == h->peak[0] && g->peak[1] == h->peak[1],
			  "chute %zu differs", i);
	}
}

static void run(struct wi_opts *o, const char *path, int reference,
		struct wi_result *r)
{
	char err[256];
	o->reference = reference;
	cr_assert_eq(wi_run(o, path, r, err, sizeof(err)), 0, "%s", err);
}

Test(replay, equals_two_dataplane_pipelines)
{
	struct ps_plan *a = compile(plan_a), *b = compile(plan_b),
		       *c2 = compile(plan_c), *d = compile(plan_d);
	uint8_t held[POOL / 10][24];
	for (unsigned i = 0; i < POOL / 10; i++)
		pool_waybill(i * 10 + 3, held[i]);
	struct ps_holds *holds = ps_holds_build(held, POOL / 10);
	struct ps_manifest_cfg mcfg = { .capacity = 1024 };
	char err[256];
	struct ps_manifest *mf = ps_manifest_open(&mcfg, err, sizeof(err));
	cr_assert_not_null(mf, "%s", err);
	for (unsigned i = 0; i < POOL; i += 2) {
		uint8_t wb[24];
		pool_waybill(i, wb);
		cr_assert_eq(ps_manifest_add(mf, wb, regions_used[i % 4], err,
					     sizeof(err)), 0, "%s", err);
	}
	struct ps_chute_state *cs = malloc(sizeof(*cs));
	ps_chutes_init(cs);
	ps_chute_disable(cs, 22);
	char path[] = "/tmp/test_whatif_XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	/* 8 ways: one bucket; then 2, 4, 8, 16 and 512 buckets for 150
	 * waybills */
	static const uint64_t capacity[] = { 8, 16, 32, 64, 128, 4096 };
	uint64_t seen[PS_REASON_COUNT] = { 0 }, changed = 0, evicting = 0,
		 exempt_dups = 0;
	for (uint64_t seed = 1; seed <= 24; seed++) {
		random_capture(path, seed, 600);
		struct wi_result big;
		struct wi_opts o = { .plan = { a, seed & 1 ? b : c2 },
				     .name = { "a", "b" }, .window_s = 10 };
		o.holds = seed % 3 ? holds : NULL;
		o.manifest = seed % 4 < 2 ? mf : NULL;
		o.chutes = seed % 5 ? cs : NULL;
		o.capacity = 4096;
		run(&o, path, 1, &big);
		for (unsigned c = 0; c < 6; c++) {
			struct wi_result x, y;
			o.capacity = capacity[c];
			run(&o, path, 0, &x);
			run(&o, path, 1, &y);
			same_results(&x, &y);
			for (int k = 0; k < 2; k++)
				for (unsigned i = 0; i < PS_REASON_COUNT; i++)
					seen[i] += x.tally.by_reason[k][i];
			changed += x.tally.changed;
			/* a small window forgets waybills a large one keeps */
			evicting += c < 5 &&
				x.tally.by_reason[0][PS_R_DUPLICATE] !=
				big.tally.by_reason[0][PS_R_DUPLICATE];
			wi_result_free(&x);
			wi_result_free(&y);
		}
		wi_result_free(&big);
		/* the exempt chutes, under the candidate and the current plan */
		for (unsigned c = 1; c < 6; c += 4) {
			struct wi_result x, y;
			struct wi_opts od = o;
			od.plan[0] = seed & 1 ? a : d;
			od.plan[1] = seed & 1 ? d : b;
			od.capacity = capacity[c];
			run(&od, path, 0, &x);
			run(&od, path, 1, &y);
			same_results(&x, &y);
			exempt_dups += x.tally.by_reason[seed & 1 ? 1 : 0]
							[PS_R_DUPLICATE];
			wi_result_free(&x);
			wi_result_free(&y);
		}
	}
	unlink(path);
	/* the captures went through every step the comparison is about */
	static const uint8_t reasons[] = {
		PS_R_ROUTED, PS_R_OVERRIDE, PS_R_DEFAULT, PS_R_DUPLICATE,
		PS_R_TRACK_ONLY, PS_R_NO_ROUTE, PS_R_NOREAD, PS_R_BAD_BARCODE,
		PS_R_MALFORMED_RECORD, PS_R_CHUTE_UNAVAILABLE,
		PS_R_INTERCEPTED, PS_R_RECIRC_LIMIT };
	for (unsigned i = 0; i < sizeof(reasons); i++)
		cr_assert(seen[reasons[i]] > 0, "no record with reason %u",
			  reasons[i]);
	cr_assert(changed > 0);
	cr_assert(evicting > 0);
	cr_assert(exempt_dups > 0);
	free(cs);
	ps_manifest_close(mf);
	ps_holds_free(holds);
	ps_plan_free(a);
	ps_plan_free(b);
	ps_plan_free(c2);
	ps_plan_free(d);
}

/* -------------------------------------------------- hostile timestamps */

/* One scan datagram of one INDUCT record of waybill pool[i], region
 * 330101001001 (route 33 under both plans), at c->ts_us. */
static void scan_one(struct cap *c, unsigned i)
{
	uint8_t pay[PS_HDR_LEN + PS_SCAN_LEN], wb[24];
	struct ps_scan s;
	memset(&s, 0, sizeof(s));
	pool_waybill(i, wb);
	header(pay, c, PS_KIND_SCAN, 1);
	s.waybill = wb;
	s.region = 330101001001ull;
	s.ts_ms = c->ts_us / 1000u;
	s.scan_type = PS_SCAN_INDUCT;
	s.device = 1;
	s.event_seq = c->seq;
	ps_scan_encode(pay + PS_HDR_LEN, &s);
	put_frame(c, pay, PS_HDR_LEN + PS_SCAN_LEN, 0);
}

static FILE *open_capture(char *path)
{
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	uint32_t gh[6] = { 0xa1b2c3d4u, 2u | 4u << 16, 0, 0, 65535, 1 };
	fwrite(gh, 4, 6, f);
	return f;
}

/* A pcap's seconds are 32 bits: a frame 2^32 - 1 seconds after the first
 * (a corrupt stamp, or a hostile file) must not wrap the window's clock
 * (an entry stamped at second 2^32 - 1 would read as empty: nothing
 * remembered from then on). */
Test(replay, a_far_future_frame_does_not_wrap_the_window)
{
	struct ps_plan *a = compile(plan_a), *b = compile(plan_b);
	char path[] = "/tmp/test_whatif_XXXXXX";
	struct cap c = { open_capture(path), 0, 1 };
	scan_one(&c, 1);
	c.ts_us = 0xffffffffull * 1000000u;
	scan_one(&c, 2);
	scan_one(&c, 2);                 /* its duplicate */
	c.ts_us += 999999u;
	scan_one(&c, 2);                 /* and again, the same second */
	fclose(c.f);
	for (int ref = 0; ref < 2; ref++) {
		struct wi_opts o = { .plan = { a, b }, .name = { "a", "b" },
				     .capacity = 4096 };
		struct wi_result r;
		run(&o, path, ref, &r);
		cr_assert_eq(r.tally.records, 4);
		for (int k = 0; k < 2; k++)
			cr_assert_eq(r.tally.by_reason[k][PS_R_DUPLICATE], 2,
				     "%s, plan %d: %llu duplicates",
				     ref ? "reference" : "replay", k,
				     (unsigned long long)
				     r.tally.by_reason[k][PS_R_DUPLICATE]);
		wi_result_free(&r);
	}
	unlink(path);
	ps_plan_free(a);
	ps_plan_free(b);
}

/* A frame stamped before the clock plays at the clock's second: the
 * window's clock never goes back (no entry comes back to life, none
 * expires twice). */
Test(replay, a_frame_stamped_earlier_plays_at_the_clock)
{
	struct ps_plan *a = compile(plan_a), *b = compile(plan_b);
	char path[] = "/tmp/test_whatif_XXXXXX";
	struct cap c = { open_capture(path), 1700000000ull * 1000000u, 1 };
	scan_one(&c, 1);                 /* second 0: fresh */
	c.ts_us += 100000000u;
	scan_one(&c, 1);                 /* second 100, past the window: fresh */
	c.ts_us -= 95000000u;
	scan_one(&c, 1);                 /* stamped second 5 (further back than
					  * the window's skew), played at 100:
					  * the duplicate of the second */
	fclose(c.f);
	for (int ref = 0; ref < 2; ref++) {
		struct wi_opts o = { .plan = { a, b }, .name = { "a", "b" },
				     .capacity = 4096, .window_s = 10 };
		struct wi_result r;
		run(&o, path, ref, &r);
		cr_assert_eq(r.tally.records, 3);
		for (int k = 0; k < 2; k++)
			cr_assert_eq(r.tally.by_reason[k][PS_R_DUPLICATE], 1,
				     "%s, plan %d: %llu duplicates",
				     ref ? "reference" : "replay", k,
				     (unsigned long long)
				     r.tally.by_reason[k][PS_R_DUPLICATE]);
		wi_result_free(&r);
	}
	unlink(path);
	ps_plan_free(a);
	ps_plan_free(b);
}

/* ---------------------------------------------------- window capacity */

/* A capacity is rounded up to whole buckets, a power of two of them: one
 * past what that rounding can reach (above 2^63 it overflows and never
 * ends) is refused at once, by the what-if's window and by the
 * dataplane's it follows, and never as "out of memory". */
Test(window, a_capacity_too_large_is_refused, .timeout = 20)
{
	static const uint64_t too_large[] = {
		PS_DEDUP_MAX_CAPACITY + 1, 1ull << 59, (1ull << 63) + 1,
		UINT64_MAX };
	for (unsigned i = 0; i < sizeof(too_large) / sizeof(too_large[0]);
	     i++) {
		struct wi_window w;
		struct ps_dedup d;
		errno = 0;
		int rc = wi_window_init(&w, too_large[i], 600), e = errno;
		cr_assert_eq(rc, -1, "capacity %llu",
			     (unsigned long long)too_large[i]);
		cr_assert_eq(e, EINVAL, "capacity %llu: not memory",
			     (unsigned long long)too_large[i]);
		errno = 0;
		rc = ps_dedup_init(&d, too_large[i], 600);
		e = errno;
		cr_assert_eq(rc, -1, "capacity %llu",
			     (unsigned long long)too_large[i]);
		cr_assert_eq(e, EINVAL, "capacity %llu: not memory",
			     (unsigned long long)too_large[i]);
	}
	/* up to the limit, the same number of buckets as always */
	struct wi_window w;
	cr_assert_eq(wi_window_init(&w, 4097, 600), 0);
	cr_assert_eq(w.capacity, 8192);
	wi_window_free(&w);
	cr_assert_eq(ps_dedup_buckets(PS_DEDUP_MAX_CAPACITY),
		     PS_DEDUP_MAX_CAPACITY / PS_DEDUP_WAYS);
	cr_assert_eq(ps_dedup_buckets(1), 1);
	cr_assert_eq(ps_dedup_buckets(PS_DEDUP_MAX_CAPACITY + 1), 0);
}

/* And a replay asked for one says so, before reading the capture. */
Test(window, a_replay_with_too_large_a_capacity_says_why, .timeout = 20)
{
	struct ps_plan *a = compile(plan_a), *b = compile(plan_b);
	char path[] = "/tmp/test_whatif_XXXXXX";
	struct cap c = { open_capture(path), 1700000000ull * 1000000u, 1 };
	scan_one(&c, 1);
	fclose(c.f);
	for (int ref = 0; ref < 2; ref++) {
		struct wi_opts o = { .plan = { a, b }, .name = { "a", "b" },
				     .capacity = (1ull << 63) + 1,
				     .reference = ref };
		struct wi_result r;
		char err[256] = "";
		cr_assert_eq(wi_run(&o, path, &r, err, sizeof(err)), -1);
		cr_assert(strstr(err, "capacity 9223372036854775809"), "%s",
			  err);
		cr_assert(strstr(err, "at most 1099511627776"), "%s", err);
		cr_assert_null(strstr(err, "memory"), "%s", err);
		o.capacity = 0;
		o.window_s = 1u << 23;
		cr_assert_eq(wi_run(&o, path, &r, err, sizeof(err)), -1);
		cr_assert(strstr(err, "window 8388608 s"), "%s", err);
		cr_assert_null(strstr(err, "memory"), "%s", err);
	}
	unlink(path);
	ps_plan_free(a);
	ps_plan_free(b);
}
