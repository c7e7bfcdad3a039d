/* test_whatif.c: the what-if's pcap reader (whole records, a cut file, a
 * foreign file, either byte order, nanosecond stamps) and its tally
 * (grouping of changed decisions, chutes gaining and losing, peak records
 * per 5 minutes, records becoming NO_ROUTE / CHUTE_UNAVAILABLE). */
#include <criterion/criterion.h>
#include <string.h>

#include "wi_capture.h"
#include "wi_tally.h"

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
