/* test_wire.c: the wire codec against protocol.md: golden bytes, round trips,
 * every header and record rule, waybill validity and S10 check digits, and
 * revision 2's chute states, sort results and acknowledgements. */
#include <criterion/criterion.h>
#include <string.h>

#include "ps_wire.h"

/* A scan record written out by hand from the spec's table. */
static const uint8_t golden_scan[64] = {
	'E', 'A', '1', '2', '3', '4', '5', '6', '7', '8', '5', 'C', 'N', 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0,                         /* waybill */
	0x00, 0x00, 0x00, 0x4D, 0x04, 0x26, 0x4A, 0xE9,    /* 330782100201 */
	0x00, 0x00, 0x01, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5,    /* ts_ms */
	0x00, 0x00, 0x30, 0x39,                            /* weight 12345 */
	0x01, 0x2C, 0x00, 0xC8, 0x00, 0x64,                /* 300 200 100 */
	0x00, 0x07,                                        /* device 7 */
	0x02, 0x11,                                        /* DWS, cold|tdef */
	'E', 'M',                                          /* carrier */
	0xDE, 0xAD, 0xBE, 0xEF,                            /* event_seq */
	0, 0, 0, 0,
};

static const uint8_t golden_hdr[16] = {
	0x50, 0x53, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x32, 0x79, 0x2C,       /* site 3307820 */
	0x00, 0x00, 0x00, 0x2A,       /* seq 42 */
};

static const uint8_t golden_decision[48] = {
	'E', 'A', '1', '2', '3', '4', '5', '6', '7', '8', '5', 'C', 'N', 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xDE, 0xAD, 0xBE, 0xEF,       /* event_seq */
	0x00, 0x29,                   /* chute 41 */
	0x04, 0x00,                   /* village, ROUTED */
	0x00, 0x00, 0x01, 0x9A,       /* hub 410 */
	0x00, 0x00, 0x00, 0x03,       /* plan 3 */
	0x00, 0x00, 0x00, 0x4D, 0x04, 0x26, 0x4A, 0xE9,
};

Test(wire, golden_header_decode_and_encode)
{
	uint8_t pkt[16 + 64];
	memcpy(pkt, golden_hdr, 16);
	memcpy(pkt + 16, golden_scan, 64);
	struct ps_header h;
	cr_assert_eq(ps_header_check(pkt, sizeof(pkt), &h), PS_HDR_OK);
	cr_assert_eq(h.magic, 0x5053);
	cr_assert_eq(h.count, 1);
	cr_assert_eq(h.site, 3307820u);
	cr_assert_eq(h.seq, 42u);
	uint8_t out[16];
	ps_header_encode(out, &h);
	cr_assert_arr_eq(out, golden_hdr, 16);
}

Test(wire, golden_scan_decode)
{
	struct ps_scan s;
	cr_assert_eq(ps_scan_decode(golden_scan, &s), PS_CLASS_SORTABLE);
	cr_assert_eq(s.waybill, golden_scan, "decode must not copy");
	cr_assert_eq(s.waybill_len, 13);
	cr_assert_eq(s.region, 330782100201ull);
	cr_assert_eq(s.ts_ms, 0x1A1B2C3D4E5ull);
	cr_assert_eq(s.weight_g, 12345u);
	cr_assert_eq(s.length_mm, 300);
	cr_assert_eq(s.width_mm, 200);
	cr_assert_eq(s.height_mm, 100);
	cr_assert_eq(s.device, 7);
	cr_assert_eq(s.scan_type, PS_SCAN_DWS);
	cr_assert_eq(s.service, PS_SVC_COLD_CHAIN | PS_SVC_TIME_DEFINITE);
	cr_assert_eq(s.carrier, ('E' << 8) | 'M');
	cr_assert_eq(s.event_seq, 0xDEADBEEFu);
}

Test(wire, scan_round_trip)
{
	struct ps_scan s;
	uint8_t out[64];
	ps_scan_decode(golden_scan, &s);
	ps_scan_encode(out, &s);
	cr_assert_arr_eq(out, golden_scan, 64);
}

Test(wire, golden_decision_encode_and_decode)
{
	struct ps_decision d = { .event_seq = 0xDEADBEEF, .chute = 41,
				 .tier = PS_TIER_VILLAGE, .reason = PS_R_ROUTED,
				 .hub = 410, .plan_version = 3,
				 .matched_prefix = 330782100201ull };
	uint8_t out[48], wb[24];
	ps_decision_encode(out, golden_scan, &d);
	cr_assert_arr_eq(out, golden_decision, 48);
	struct ps_decision back;
	ps_decision_decode(out, &back, wb);
	cr_assert_arr_eq(wb, golden_scan, 24);
	cr_assert_eq(back.event_seq, d.event_seq);
	cr_assert_eq(back.chute, d.chute);
	cr_assert_eq(back.tier, d.tier);
	cr_assert_eq(back.reason, d.reason);
	cr_assert_eq(back.hub, d.hub);
	cr_assert_eq(back.plan_version, d.plan_version);
	cr_assert_eq(back.matched_prefix, d.matched_prefix);
}

/* A request of n copies of the golden record, seq 42. */
static size_t make_request(uint8_t *buf, unsigned n)
{
	struct ps_header h = { PS_MAGIC, 1, 1, (uint16_t)n, 0, 3307820, 42 };
	ps_header_encode(buf, &h);
	for (unsigned i = 0; i < n; i++) {
		memcpy(buf + 16 + 64 * i, golden_scan, 64);
		buf[16 + 64 * i + 59] = (uint8_t)i;   /* event_seq low byte */
		buf[16 + 64 * i + 9] = (uint8_t)('0' + i % 10);
	}
	return 16 + 64 * (size_t)n;
}

Test(wire, header_rules)
{
	uint8_t buf[PS_MAX_REQUEST + 64];
	struct ps_header h;
	size_t len = make_request(buf, 3);
	cr_assert_eq(ps_header_check(buf, len, &h), PS_HDR_OK);
	cr_assert_eq(ps_header_check(buf, 15, &h), PS_HDR_SHORT);
	cr_assert_eq(ps_header_check(buf, 0, &h), PS_HDR_SHORT);

	struct { size_t off; uint8_t val; enum ps_hdr_status want; } cases[] = {
		{ 0, 0x51, PS_HDR_MAGIC },   { 1, 0x00, PS_HDR_MAGIC },
		{ 2, 0x00, PS_HDR_VERSION }, { 2, 0x02, PS_HDR_VERSION },
		{ 3, 0x02, PS_HDR_KIND },    { 3, 0x00, PS_HDR_KIND },
		{ 3, 0x03, PS_HDR_KIND },    { 6, 0x01, PS_HDR_FLAGS },
		{ 7, 0x80, PS_HDR_FLAGS },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_request(buf, 3);
		buf[cases[i].off] = cases[i].val;
		cr_assert_eq(ps_header_check(buf, len, &h), cases[i].want,
			     "case %zu", i);
	}
	/* count 0 and 23 */
	make_request(buf, 3);
	buf[4] = 0; buf[5] = 0;
	cr_assert_eq(ps_header_check(buf, 16, &h), PS_HDR_COUNT);
	buf[5] = 23;
	cr_assert_eq(ps_header_check(buf, 16 + 64 * 23, &h), PS_HDR_COUNT);
	/* payload length must be exactly 16 + 64 * count */
	make_request(buf, 3);
	cr_assert_eq(ps_header_check(buf, len - 1, &h), PS_HDR_LENGTH);
	cr_assert_eq(ps_header_check(buf, len + 1, &h), PS_HDR_LENGTH);
	cr_assert_eq(ps_header_check(buf, len + 64, &h), PS_HDR_LENGTH);
	/* 22 records is the maximum and fits */
	len = make_request(buf, 22);
	cr_assert_eq(len, 1424u);
	cr_assert_eq(ps_header_check(buf, len, &h), PS_HDR_OK);
}

static enum ps_scan_class classify_with(size_t off, const uint8_t *bytes,
					size_t n, struct ps_scan *s)
{
	static uint8_t rec[64];
	memcpy(rec, golden_scan, 64);
	memcpy(rec + off, bytes, n);
	return ps_scan_decode(rec, s);
}

Test(wire, record_rules)
{
	struct ps_scan s;
	/* region 0 is allowed; 109999999999 and 1000000000000 are not */
	const uint8_t r0[8] = { 0 };
	cr_assert_eq(classify_with(24, r0, 8, &s), PS_CLASS_SORTABLE);
	const uint8_t rlow[8] = { 0, 0, 0, 0x19, 0x9C, 0x82, 0xCB, 0xFF };
	cr_assert_eq(classify_with(24, rlow, 8, &s), PS_CLASS_MALFORMED);
	cr_assert_eq(s.malformed, PS_MAL_REGION);
	const uint8_t rmin[8] = { 0, 0, 0, 0x19, 0x9C, 0x82, 0xCC, 0x00 };
	cr_assert_eq(classify_with(24, rmin, 8, &s), PS_CLASS_SORTABLE);
	cr_assert_eq(s.region, PS_REGION_MIN);
	const uint8_t rmax[8] = { 0, 0, 0, 0xE8, 0xD4, 0xA5, 0x0F, 0xFF };
	cr_assert_eq(classify_with(24, rmax, 8, &s), PS_CLASS_SORTABLE);
	cr_assert_eq(s.region, PS_REGION_MAX);
	const uint8_t rhigh[8] = { 0, 0, 0, 0xE8, 0xD4, 0xA5, 0x10, 0x00 };
	cr_assert_eq(classify_with(24, rhigh, 8, &s), PS_CLASS_MALFORMED);
	/* scan types 0 and 9 */
	uint8_t t = 0;
	cr_assert_eq(classify_with(52, &t, 1, &s), PS_CLASS_MALFORMED);
	cr_assert_eq(s.malformed, PS_MAL_SCAN_TYPE);
	t = 9;
	cr_assert_eq(classify_with(52, &t, 1, &s), PS_CLASS_MALFORMED);
	t = 255;
	cr_assert_eq(classify_with(52, &t, 1, &s), PS_CLASS_MALFORMED);
	/* reserved service bit */
	uint8_t svc = 0x80;
	cr_assert_eq(classify_with(53, &svc, 1, &s), PS_CLASS_MALFORMED);
	cr_assert_eq(s.malformed, PS_MAL_SERVICE);
	svc = 0x7F;
	cr_assert_eq(classify_with(53, &svc, 1, &s), PS_CLASS_SORTABLE);
	/* reserved field, any byte */
	for (int i = 0; i < 4; i++) {
		uint8_t one = 1;
		cr_assert_eq(classify_with(60 + i, &one, 1, &s),
			     PS_CLASS_MALFORMED);
		cr_assert_eq(s.malformed, PS_MAL_RESERVED);
	}
	/* malformed wins over track-only and noread */
	uint8_t bad2[2] = { PS_SCAN_SIGN, 0x80 };
	cr_assert_eq(classify_with(52, bad2, 2, &s), PS_CLASS_MALFORMED);
}

Test(wire, scan_types)
{
	struct ps_scan s;
	for (uint8_t t = 1; t <= 8; t++) {
		enum ps_scan_class want =
			t == 1 || t == 2 ? PS_CLASS_SORTABLE
			: t == 7 ? PS_CLASS_NOREAD : PS_CLASS_TRACK_ONLY;
		cr_assert_eq(classify_with(52, &t, 1, &s), want, "type %u", t);
	}
	/* track-only scans do not have their waybills checked */
	uint8_t rec[64];
	memcpy(rec, golden_scan, 64);
	memcpy(rec, "bad*", 4);
	rec[52] = PS_SCAN_LOAD;
	cr_assert_eq(ps_scan_decode(rec, &s), PS_CLASS_TRACK_ONLY);
	rec[52] = PS_SCAN_INDUCT;
	cr_assert_eq(ps_scan_decode(rec, &s), PS_CLASS_BAD_BARCODE);
	/* an all-NUL waybill on INDUCT is NOREAD */
	memset(rec, 0, 24);
	cr_assert_eq(ps_scan_decode(rec, &s), PS_CLASS_NOREAD);
	/* a NOREAD scan is NOREAD even with a waybill */
	memcpy(rec, golden_scan, 24);
	rec[52] = PS_SCAN_NOREAD;
	cr_assert_eq(ps_scan_decode(rec, &s), PS_CLASS_NOREAD);
}

static enum ps_waybill_status wb(const char *s)
{
	uint8_t b[24] = { 0 };
	uint8_t len;
	memcpy(b, s, strlen(s) > 24 ? 24 : strlen(s));
	return ps_waybill_check(b, &len);
}

Test(wire, waybill_validity)
{
	cr_assert_eq(wb("12345678"), PS_WB_VALID);          /* 8: minimum */
	cr_assert_eq(wb("1234567"), PS_WB_LENGTH);          /* 7 */
	cr_assert_eq(wb("A"), PS_WB_LENGTH);
	cr_assert_eq(wb("ABCDEFGHIJKLMNOPQRSTUVWX"), PS_WB_VALID); /* 24 */
	cr_assert_eq(wb("JDX000123456789-1-1-"), PS_WB_VALID);
	cr_assert_eq(wb("SF1234567890123"), PS_WB_VALID);
	cr_assert_eq(wb("sf1234567890123"), PS_WB_CHARSET);
	cr_assert_eq(wb("SF12345 7890123"), PS_WB_CHARSET);
	cr_assert_eq(wb("SF123456_890123"), PS_WB_CHARSET);
	cr_assert_eq(wb(""), PS_WB_EMPTY);
	uint8_t b[24] = { 0 }, len;
	memcpy(b, "SF1234567890", 12);
	b[20] = 'X';                                        /* after padding */
	cr_assert_eq(ps_waybill_check(b, &len), PS_WB_PADDING);
	memset(b, 0, 24);
	b[3] = 'A';                                         /* leading NULs */
	cr_assert_eq(ps_waybill_check(b, &len), PS_WB_PADDING);
	memset(b, 0, 24);
	b[0] = 0xC3;                                        /* UTF-8 byte */
	memcpy(b + 1, "1234567890", 10);
	cr_assert_eq(ps_waybill_check(b, &len), PS_WB_CHARSET);
}

Test(wire, s10_check_digits)
{
	cr_assert_eq(ps_s10_check_digit("12345678"), 5);
	cr_assert_eq(ps_s10_check_digit("47312482"), 9);
	/* sum mod 11 == 1 -> c = 10 -> 0; sum mod 11 == 0 -> c = 11 -> 5 */
	cr_assert_eq(ps_s10_check_digit("00000000"), 5);
	cr_assert_eq(ps_s10_check_digit("00004000"), 0);  /* 4*3=12, 12%11=1 */
	cr_assert_eq(wb("EA123456785CN"), PS_WB_VALID);
	cr_assert_eq(wb("RR473124829CN"), PS_WB_VALID);
	cr_assert_eq(wb("EA123456784CN"), PS_WB_S10);
	cr_assert_eq(wb("RR473124820CN"), PS_WB_S10);
	/* 13 characters not in S10 form are ordinary waybills */
	cr_assert_eq(wb("7712345678901"), PS_WB_VALID);
	cr_assert_eq(wb("EA12345678XCN"), PS_WB_VALID);
	cr_assert_eq(wb("E1123456784CN"), PS_WB_VALID);
	/* S10 form is exactly 13: a longer code with that start is not */
	cr_assert_eq(wb("EA123456784CN1"), PS_WB_VALID);
}

Test(wire, word_at_a_time_check_equals_the_bytewise_one)
{
	/* random waybills biased towards the interesting cases: text of every
	 * length, NULs, padding garbage, bytes >= 0x80, characters next to
	 * the valid ranges */
	static const uint8_t alphabet[] = "0123456789ABCDEFXYZ-/:@[`az \x7f\x80\xff";
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 2000000; i++) {
		uint8_t b[24] = { 0 }, l1, l2;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		unsigned len = (unsigned)(x % 25);
		for (unsigned k = 0; k < len; k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			b[k] = alphabet[x % (sizeof(alphabet) - 1)];
			if (x % 97 == 0)
				b[k] = 0;
		}
		if (x % 13 == 0)
			b[(x >> 8) % 24] = (uint8_t)(x >> 16);
		enum ps_waybill_status a = ps_waybill_check(b, &l1);
		enum ps_waybill_status r = ps_waybill_check_bytes(b, &l2);
		cr_assert_eq(a, r, "case %d: %d vs %d for %.24s", i, a, r, b);
		cr_assert_eq(l1, l2, "case %d: length", i);
	}
}

Test(wire, waybill_hash_is_stable)
{
	uint8_t a[24] = "SF1234567890123";
	/* the documented function: a fixed value across runs and builds */
	uint32_t h = ps_waybill_hash(a);
	cr_assert_eq(h, ps_waybill_hash(a));
	uint8_t b[24] = "SF1234567890124";
	cr_assert_neq(h, ps_waybill_hash(b));
	uint8_t z[24] = { 0 };
	cr_assert_eq(ps_waybill_hash(z), 0);
	/* "SF1234567890123": words 0x3635343332314653, 0x0033323130393837,
	 * 0, computed by hand from the formula in docs/protocol.md */
	uint64_t w0 = 0x3635343332314653ull, w1 = 0x0033323130393837ull;
	uint64_t x = w0 * 0x9e3779b97f4a7c15ull;
	uint64_t m = w1 * 0xc2b2ae3d27d4eb4full;
	x += (m << 31 | m >> 33);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	cr_assert_eq(h, (uint32_t)(x >> 32));
}

Test(wire, reply_in_place_22_records)
{
	uint8_t buf[PS_MAX_REQUEST], orig[PS_MAX_REQUEST];
	size_t len = make_request(buf, 22);
	memcpy(orig, buf, len);
	struct ps_header h;
	struct ps_scan s[22];
	struct ps_decision d[22];
	cr_assert_eq(ps_header_check(buf, len, &h), PS_HDR_OK);
	cr_assert_eq(ps_scan_decode_burst(buf, &h, s), 22);
	for (unsigned i = 0; i < 22; i++) {
		cr_assert_eq(s[i].waybill, buf + 16 + 64 * i);
		cr_assert_eq(s[i].event_seq, 0xDEADBE00u | i);
		d[i] = (struct ps_decision){ s[i].event_seq, (uint16_t)(100 + i),
					     2, 0, 200, 7, 330782000000ull };
	}
	size_t rlen = ps_reply_build_inplace(buf, &h, 3307820, s, d);
	cr_assert_eq(rlen, 16 + 48 * 22u);
	cr_assert_lt(rlen, len);
	cr_assert_eq(buf[3], PS_KIND_DECISION);
	cr_assert_eq(buf[15], 42);
	for (unsigned i = 0; i < 22; i++) {
		struct ps_decision back;
		uint8_t w[24];
		ps_decision_decode(buf + 16 + 48 * i, &back, w);
		cr_assert_arr_eq(w, orig + 16 + 64 * i, 24, "waybill %u", i);
		cr_assert_eq(back.event_seq, 0xDEADBE00u | i);
		cr_assert_eq(back.chute, 100 + i);
	}
}

Test(wire, region_pad_and_names)
{
	cr_assert_eq(ps_region_pad(3307, 4), 330700000000ull);
	cr_assert_eq(ps_region_pad(330782100, 9), 330782100000ull);
	cr_assert_eq(ps_region_pad(330782100201ull, 12), 330782100201ull);
	cr_assert_str_eq(ps_reason_name(PS_R_CHUTE_UNAVAILABLE),
			 "CHUTE_UNAVAILABLE");
	cr_assert_str_eq(ps_reason_name(10), "NO_PLAN");
	cr_assert_str_eq(ps_tier_name(PS_TIER_VILLAGE), "village");
}

/* ------------------------------------------------ revision 2: sorter loop */

/* A kind 3 request written out by hand from the spec's tables: three chute
 * state entries from the sorter controller of site 3307820, datagram 43. */
static const uint8_t golden_states[16 + 3 * 8] = {
	0x50, 0x53,                   /* magic "PS" */
	0x01,                         /* version 1 */
	0x03,                         /* kind 3: chute states */
	0x00, 0x03,                   /* count 3 */
	0x00, 0x00,                   /* flags */
	0x00, 0x32, 0x79, 0x2C,       /* site 3307820 */
	0x00, 0x00, 0x00, 0x2B,       /* seq 43 */
	/* entry 0 */
	0x00, 0x29,                   /* chute 41 */
	0x01,                         /* state FULL */
	0x00,                         /* reserved */
	0x00, 0x1E,                   /* hold_s 30 */
	0x00, 0x00,                   /* reserved */
	/* entry 1 */
	0x00, 0x2A,                   /* chute 42 */
	0x00,                         /* state OPEN */
	0x00,                         /* reserved */
	0x00, 0x00,                   /* hold_s 0 (OPEN) */
	0x00, 0x00,                   /* reserved */
	/* entry 2 */
	0x03, 0xE7,                   /* chute 999 */
	0x03,                         /* state FAULT */
	0x00,                         /* reserved */
	0x0E, 0x10,                   /* hold_s 3600, the longest */
	0x00, 0x00,                   /* reserved */
};

/* Its acknowledgement: the header alone, kind 4, count = 3 applied, the
 * sorting site's id (here the same site), the request's seq. */
static const uint8_t golden_states_ack[16] = {
	0x50, 0x53, 0x01,
	0x04,                         /* kind 4: acknowledgement */
	0x00, 0x03,                   /* 3 entries applied */
	0x00, 0x00,                   /* flags */
	0x00, 0x32, 0x79, 0x2C,       /* site 3307820 */
	0x00, 0x00, 0x00, 0x2B,       /* seq 43, echoed */
};

/* A kind 5 request: two sort results, datagram 44. */
static const uint8_t golden_results[16 + 2 * 48] = {
	0x50, 0x53, 0x01,
	0x05,                         /* kind 5: sort results */
	0x00, 0x02,                   /* count 2 */
	0x00, 0x00,                   /* flags */
	0x00, 0x32, 0x79, 0x2C,       /* site 3307820 */
	0x00, 0x00, 0x00, 0x2C,       /* seq 44 */
	/* entry 0: the golden scan's parcel went down chute 41 */
	'E', 'A', '1', '2', '3', '4', '5', '6', '7', '8', '5', 'C', 'N', 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0,                         /* waybill */
	0xDE, 0xAD, 0xBE, 0xEF,                            /* event_seq */
	0x00, 0x29,                                        /* chute 41 */
	0x01,                                              /* SORTED */
	0x00,                                              /* reserved */
	0x00, 0x00, 0x01, 0xA1, 0xB2, 0xC3, 0xD8, 0xCD,    /* ts: scan + 1 s */
	0x00, 0x00, 0x00, 0x03,                            /* plan 3 */
	0x00, 0x00, 0x00, 0x00,                            /* reserved */
	/* entry 1: a parcel meant for chute 42 found it full */
	'S', 'F', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '2',
	'3', 0, 0, 0, 0, 0, 0, 0, 0, 0,                    /* waybill */
	0x00, 0x00, 0x01, 0x01,                            /* event_seq 257 */
	0x00, 0x2A,                                        /* chute 42 */
	0x02,                                              /* CHUTE_FULL */
	0x00,                                              /* reserved */
	0x00, 0x00, 0x01, 0xA1, 0xB2, 0xC3, 0xDC, 0xB5,    /* ts: scan + 2 s */
	0x00, 0x00, 0x00, 0x03,                            /* plan 3 */
	0x00, 0x00, 0x00, 0x00,                            /* reserved */
};

static const uint8_t golden_results_ack[16] = {
	0x50, 0x53, 0x01, 0x04,
	0x00, 0x02,                   /* 2 entries applied */
	0x00, 0x00,
	0x00, 0x32, 0x79, 0x2C,
	0x00, 0x00, 0x00, 0x2C,       /* seq 44 */
};

/* Both stages of revision 2's header check. */
static enum ps_hdr_status check_r2(const uint8_t *p, size_t len,
				   struct ps_header *h)
{
	enum ps_hdr_status st = ps_header_check_kind(p, len, h);
	return st != PS_HDR_OK ? st : ps_header_check_body(h, len);
}

Test(wire, golden_chute_states_decode_and_encode)
{
	struct ps_header h;
	cr_assert_eq(check_r2(golden_states, sizeof(golden_states), &h),
		     PS_HDR_OK);
	cr_assert_eq(h.kind, PS_KIND_CHUTE_STATE);
	cr_assert_eq(h.count, 3);
	cr_assert_eq(h.site, 3307820u);
	cr_assert_eq(h.seq, 43u);
	/* the dataplane's scan-batch check still refuses it */
	cr_assert_eq(ps_header_check(golden_states, sizeof(golden_states), &h),
		     PS_HDR_KIND);

	struct ps_chute_report r[3];
	cr_assert_eq(ps_chute_report_decode_burst(golden_states, &h, r), 3);
	cr_assert_eq(r[0].chute, 41);
	cr_assert_eq(r[0].state, PS_CHUTE_FULL);
	cr_assert_eq(r[0].hold_s, 30);
	cr_assert_eq(r[1].chute, 42);
	cr_assert_eq(r[1].state, PS_CHUTE_OPEN);
	cr_assert_eq(r[1].hold_s, 0);
	cr_assert_eq(r[2].chute, 999);
	cr_assert_eq(r[2].state, PS_CHUTE_FAULT);
	cr_assert_eq(r[2].hold_s, 3600);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(r[i].invalid, PS_ENT_VALID, "entry %d", i);

	uint8_t out[sizeof(golden_states)];
	memset(out, 0xAA, sizeof(out));
	ps_header_encode(out, &h);
	for (int i = 0; i < 3; i++)
		ps_chute_report_encode(out + 16 + 8 * i, &r[i]);
	cr_assert_arr_eq(out, golden_states, sizeof(golden_states));
}

Test(wire, golden_sort_results_decode_and_encode)
{
	struct ps_header h;
	cr_assert_eq(check_r2(golden_results, sizeof(golden_results), &h),
		     PS_HDR_OK);
	cr_assert_eq(h.kind, PS_KIND_SORT_RESULT);
	cr_assert_eq(h.count, 2);
	cr_assert_eq(h.seq, 44u);
	cr_assert_eq(ps_header_check(golden_results, sizeof(golden_results),
				     &h), PS_HDR_KIND);

	struct ps_sort_result r[2];
	cr_assert_eq(ps_sort_result_decode_burst(golden_results, &h, r), 2);
	cr_assert_eq(r[0].waybill, golden_results + 16, "decode must not copy");
	cr_assert_eq(r[0].waybill_len, 13);
	cr_assert_eq(r[0].waybill_status, PS_WB_VALID);
	cr_assert_eq(r[0].event_seq, 0xDEADBEEFu);
	cr_assert_eq(r[0].chute, 41);
	cr_assert_eq(r[0].status, PS_SORT_SORTED);
	cr_assert_eq(r[0].ts_ms, 0x1A1B2C3D4E5ull + 1000);
	cr_assert_eq(r[0].plan_version, 3u);
	cr_assert_eq(r[1].waybill, golden_results + 16 + 48);
	cr_assert_eq(r[1].waybill_len, 15);
	cr_assert_eq(r[1].event_seq, 257u);
	cr_assert_eq(r[1].chute, 42);
	cr_assert_eq(r[1].status, PS_SORT_CHUTE_FULL);
	cr_assert_eq(r[1].ts_ms, 0x1A1B2C3D4E5ull + 2000);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(r[i].invalid, PS_ENT_VALID, "entry %d", i);

	uint8_t out[sizeof(golden_results)];
	memset(out, 0xAA, sizeof(out));
	ps_header_encode(out, &h);
	for (int i = 0; i < 2; i++)
		ps_sort_result_encode(out + 16 + 48 * i, &r[i]);
	cr_assert_arr_eq(out, golden_results, sizeof(golden_results));
}

Test(wire, golden_acknowledgements)
{
	struct ps_header req, h;
	uint8_t out[16];
	cr_assert_eq(check_r2(golden_states, sizeof(golden_states), &req),
		     PS_HDR_OK);
	cr_assert_eq(ps_ack_encode(out, &req, 3307820, 3), 16u);
	cr_assert_arr_eq(out, golden_states_ack, 16);
	cr_assert_eq(ps_ack_check(out, 16, &h), PS_HDR_OK);
	cr_assert_eq(h.kind, PS_KIND_ACK);
	cr_assert_eq(h.count, 3);
	cr_assert_eq(h.site, 3307820u);
	cr_assert_eq(h.seq, 43u);
	/* decoded and re-encoded byte for byte */
	uint8_t again[16];
	ps_header_encode(again, &h);
	cr_assert_arr_eq(again, golden_states_ack, 16);

	/* written in place over its request: the reply is its first 16 bytes */
	uint8_t buf[sizeof(golden_results)];
	memcpy(buf, golden_results, sizeof(buf));
	cr_assert_eq(check_r2(buf, sizeof(buf), &req), PS_HDR_OK);
	cr_assert_eq(ps_ack_encode(buf, &req, 3307820, 2), 16u);
	cr_assert_arr_eq(buf, golden_results_ack, 16);
	cr_assert_lt(16u, sizeof(golden_states), "never an amplifier");
}

/* Request buffer of the given kind and count: header plus zero entries. */
static size_t make_r2(uint8_t *buf, unsigned kind, unsigned count)
{
	struct ps_header h = { PS_MAGIC, 1, (uint8_t)kind, (uint16_t)count, 0,
			       3307820, 7 };
	size_t len = 16 + (size_t)ps_kind_entry_len(kind) * count;
	memset(buf, 0, len);
	ps_header_encode(buf, &h);
	return len;
}

Test(wire, revision2_header_rules)
{
	uint8_t buf[PS_MAX_REQUEST + 64];
	struct ps_header h;
	cr_assert_eq(ps_kind_entry_len(PS_KIND_SCAN), 64);
	cr_assert_eq(ps_kind_entry_len(PS_KIND_CHUTE_STATE), 8);
	cr_assert_eq(ps_kind_entry_len(PS_KIND_SORT_RESULT), 48);
	cr_assert_eq(ps_kind_entry_len(PS_KIND_DECISION), 0);
	cr_assert_eq(ps_kind_entry_len(PS_KIND_ACK), 0);
	cr_assert_eq(ps_kind_entry_len(200), 0);
	cr_assert_eq(ps_kind_max_count(PS_KIND_SCAN), 22);
	cr_assert_eq(ps_kind_max_count(PS_KIND_CHUTE_STATE), 176);
	cr_assert_eq(ps_kind_max_count(PS_KIND_SORT_RESULT), 29);

	/* the largest request of every kind fits PS_MAX_REQUEST */
	static const unsigned kinds[3] = { 1, 3, 5 };
	for (int i = 0; i < 3; i++) {
		unsigned k = kinds[i], n = ps_kind_max_count(k);
		size_t len = make_r2(buf, k, n);
		cr_assert_leq(len, PS_MAX_REQUEST);
		cr_assert_eq(check_r2(buf, len, &h), PS_HDR_OK, "kind %u", k);
		cr_assert_eq(check_r2(buf, 16 + ps_kind_entry_len(k), &h),
			     PS_HDR_LENGTH, "kind %u", k);
		/* count 0 and max + 1 */
		make_r2(buf, k, 0);
		cr_assert_eq(check_r2(buf, 16, &h), PS_HDR_COUNT, "kind %u", k);
		len = make_r2(buf, k, n + 1);
		cr_assert_eq(check_r2(buf, len, &h), PS_HDR_COUNT, "kind %u", k);
		/* one byte more or less, and another kind's entry size */
		len = make_r2(buf, k, 2);
		cr_assert_eq(check_r2(buf, len, &h), PS_HDR_OK, "kind %u", k);
		cr_assert_eq(check_r2(buf, len - 1, &h), PS_HDR_LENGTH);
		cr_assert_eq(check_r2(buf, len + 1, &h), PS_HDR_LENGTH);
		size_t other = 16 + 2 * (k == 3 ? 48u : 8u);
		cr_assert_eq(check_r2(buf, other, &h), PS_HDR_LENGTH);
		/* a flag bit */
		buf[7] = 0x01;
		cr_assert_eq(check_r2(buf, len, &h), PS_HDR_FLAGS, "kind %u", k);
		/* fewer than 16 bytes */
		cr_assert_eq(check_r2(buf, 15, &h), PS_HDR_SHORT);
	}
	/* only 1, 3 and 5 are request kinds; 2 and 4 are replies */
	for (unsigned k = 0; k < 256; k++) {
		make_r2(buf, 1, 1);
		buf[3] = (uint8_t)k;
		enum ps_hdr_status want = k == 1 || k == 3 || k == 5
			? PS_HDR_OK : PS_HDR_KIND;
		cr_assert_eq(ps_header_check_kind(buf, 80, &h), want,
			     "kind %u", k);
		cr_assert_eq(h.kind, k);
		if (want == PS_HDR_KIND)
			cr_assert_eq(ps_header_check_body(&h, 80), PS_HDR_KIND);
	}
	/* the first stage checks magic, version and kind only: a header with
	 * a wrong count, flags and length passes it, the second says count */
	make_r2(buf, 3, 0);
	buf[7] = 0x01;
	cr_assert_eq(ps_header_check_kind(buf, 17, &h), PS_HDR_OK);
	cr_assert_eq(ps_header_check_body(&h, 17), PS_HDR_COUNT);
	/* magic and version before kind */
	make_r2(buf, 2, 1);
	buf[0] = 0x51;
	cr_assert_eq(ps_header_check_kind(buf, 16, &h), PS_HDR_MAGIC);
	buf[0] = 0x50;
	buf[2] = 2;
	cr_assert_eq(ps_header_check_kind(buf, 16, &h), PS_HDR_VERSION);
	/* the dataplane's check is unchanged: any kind but 1 is PS_HDR_KIND */
	for (unsigned k = 2; k <= 5; k++) {
		size_t len = make_r2(buf, k == 4 ? 3 : k, 1);
		buf[3] = (uint8_t)k;
		cr_assert_eq(ps_header_check(buf, len, &h), PS_HDR_KIND,
			     "kind %u", k);
	}
}

Test(wire, ack_rules)
{
	uint8_t buf[32];
	struct ps_header h;
	memcpy(buf, golden_states_ack, 16);
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_OK);
	cr_assert_eq(ps_ack_check(buf, 15, &h), PS_HDR_SHORT);
	cr_assert_eq(ps_ack_check(buf, 17, &h), PS_HDR_LENGTH);
	cr_assert_eq(ps_ack_check(buf, 32, &h), PS_HDR_LENGTH);
	/* count 0 (nothing applied) and 176 are fine, 177 is not */
	buf[4] = 0; buf[5] = 0;
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_OK);
	cr_assert_eq(h.count, 0);
	buf[5] = 176;
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_OK);
	buf[5] = 177;
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_COUNT);
	buf[4] = 0xFF;
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_COUNT);
	memcpy(buf, golden_states_ack, 16);
	buf[6] = 0x80;
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_FLAGS);
	memcpy(buf, golden_states_ack, 16);
	for (unsigned k = 0; k < 8; k++) {
		buf[3] = (uint8_t)k;
		cr_assert_eq(ps_ack_check(buf, 16, &h),
			     k == 4 ? PS_HDR_OK : PS_HDR_KIND, "kind %u", k);
	}
	memcpy(buf, golden_states_ack, 16);
	buf[1] = 0x54;
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_MAGIC);
	buf[1] = 0x53;
	buf[2] = 0;
	cr_assert_eq(ps_ack_check(buf, 16, &h), PS_HDR_VERSION);
	/* an acknowledgement is no request */
	memcpy(buf, golden_states_ack, 16);
	cr_assert_eq(ps_header_check_kind(buf, 16, &h), PS_HDR_KIND);
}

/* Decode golden state entry e with bytes off.. replaced by v. */
static enum ps_entry_cause state_with(int e, size_t off, const uint8_t *v,
				      size_t n, struct ps_chute_report *r)
{
	static uint8_t ent[8];
	memcpy(ent, golden_states + 16 + 8 * e, 8);
	memcpy(ent + off, v, n);
	enum ps_entry_cause c = ps_chute_report_decode(ent, r);
	/* every entry, valid or not, re-encodes to its own bytes */
	uint8_t back[8];
	ps_chute_report_encode(back, r);
	cr_assert_arr_eq(back, ent, 8);
	return c;
}

Test(wire, chute_state_entry_rules)
{
	struct ps_chute_report r;
	static const uint8_t zero2[2] = { 0, 0 }, max2[2] = { 0xFF, 0xFF };
	/* chute 1..65535 */
	cr_assert_eq(state_with(0, 0, zero2, 2, &r), PS_ENT_CHUTE);
	cr_assert_eq(state_with(0, 0, max2, 2, &r), PS_ENT_VALID);
	cr_assert_eq(r.chute, 65535);
	/* state 0..3 */
	for (unsigned v = 4; v < 256; v += 7) {
		uint8_t b = (uint8_t)v;
		cr_assert_eq(state_with(0, 2, &b, 1, &r), PS_ENT_STATE,
			     "state %u", v);
	}
	/* FULL, BLOCKED, FAULT: hold_s 1..3600 */
	static const uint8_t h0[2] = { 0, 0 }, h1[2] = { 0, 1 },
		h3600[2] = { 0x0E, 0x10 }, h3601[2] = { 0x0E, 0x11 };
	for (uint8_t st = PS_CHUTE_FULL; st <= PS_CHUTE_FAULT; st++) {
		uint8_t e[4] = { st, 0, 0, 0 };
		memcpy(e + 2, h0, 2);
		cr_assert_eq(state_with(0, 2, e, 4, &r), PS_ENT_HOLD);
		memcpy(e + 2, h1, 2);
		cr_assert_eq(state_with(0, 2, e, 4, &r), PS_ENT_VALID);
		memcpy(e + 2, h3600, 2);
		cr_assert_eq(state_with(0, 2, e, 4, &r), PS_ENT_VALID);
		memcpy(e + 2, h3601, 2);
		cr_assert_eq(state_with(0, 2, e, 4, &r), PS_ENT_HOLD);
		memcpy(e + 2, max2, 2);
		cr_assert_eq(state_with(0, 2, e, 4, &r), PS_ENT_HOLD);
	}
	/* OPEN: hold_s 0 only */
	cr_assert_eq(state_with(1, 4, h1, 2, &r), PS_ENT_HOLD);
	cr_assert_eq(state_with(1, 4, h3600, 2, &r), PS_ENT_HOLD);
	cr_assert_eq(state_with(1, 4, h0, 2, &r), PS_ENT_VALID);
	/* reserved bytes 3, 6 and 7 */
	static const size_t res[3] = { 3, 6, 7 };
	for (int i = 0; i < 3; i++) {
		uint8_t one = 1;
		cr_assert_eq(state_with(2, res[i], &one, 1, &r),
			     PS_ENT_RESERVED, "byte %zu", res[i]);
		cr_assert_eq(r.invalid, PS_ENT_RESERVED);
	}
	/* the first broken rule in field order is the cause */
	static const uint8_t all_bad[8] = { 0, 0, 9, 1, 0xFF, 0xFF, 1, 1 };
	cr_assert_eq(state_with(0, 0, all_bad, 8, &r), PS_ENT_CHUTE);
	cr_assert_eq(state_with(0, 2, all_bad + 2, 6, &r), PS_ENT_STATE);
	cr_assert_eq(state_with(0, 3, all_bad + 3, 5, &r), PS_ENT_RESERVED);
	cr_assert_eq(state_with(0, 4, all_bad + 4, 4, &r), PS_ENT_HOLD);

	/* an invalid entry is skipped, not the datagram: the burst counts
	 * the valid ones and marks the others */
	uint8_t buf[sizeof(golden_states)];
	struct ps_header h;
	struct ps_chute_report rs[3];
	memcpy(buf, golden_states, sizeof(buf));
	buf[16 + 8 + 2] = 7;                     /* entry 1: state 7 */
	cr_assert_eq(check_r2(buf, sizeof(buf), &h), PS_HDR_OK);
	cr_assert_eq(ps_chute_report_decode_burst(buf, &h, rs), 2);
	cr_assert_eq(rs[0].invalid, PS_ENT_VALID);
	cr_assert_eq(rs[1].invalid, PS_ENT_STATE);
	cr_assert_eq(rs[2].invalid, PS_ENT_VALID);
}

/* Decode golden result entry e with bytes off.. replaced by v. */
static enum ps_entry_cause result_with(int e, size_t off, const void *v,
				       size_t n, struct ps_sort_result *r)
{
	static uint8_t ent[48];
	memcpy(ent, golden_results + 16 + 48 * e, 48);
	memcpy(ent + off, v, n);
	enum ps_entry_cause c = ps_sort_result_decode(ent, r);
	cr_assert_eq(r->waybill, ent);
	uint8_t back[48];
	ps_sort_result_encode(back, r);
	cr_assert_arr_eq(back, ent, 48);
	return c;
}

Test(wire, sort_result_entry_rules)
{
	struct ps_sort_result r;
	/* the waybill must be valid, as for BAD_BARCODE */
	static const uint8_t empty[24] = { 0 };
	cr_assert_eq(result_with(0, 0, empty, 24, &r), PS_ENT_WAYBILL);
	cr_assert_eq(r.waybill_status, PS_WB_EMPTY);
	cr_assert_eq(result_with(0, 10, "4", 1, &r), PS_ENT_WAYBILL);
	cr_assert_eq(r.waybill_status, PS_WB_S10);       /* EA123456784CN */
	cr_assert_eq(result_with(1, 0, "sf", 2, &r), PS_ENT_WAYBILL);
	cr_assert_eq(r.waybill_status, PS_WB_CHARSET);
	cr_assert_eq(result_with(1, 7, "\0", 1, &r), PS_ENT_WAYBILL);
	cr_assert_eq(r.waybill_status, PS_WB_PADDING);   /* text after NUL */
	static const uint8_t seven[24] = { '1', '2', '3', '4', '5', '6', '7' };
	cr_assert_eq(result_with(1, 0, seven, 24, &r), PS_ENT_WAYBILL);
	cr_assert_eq(r.waybill_status, PS_WB_LENGTH);
	/* status 1..6 */
	for (unsigned v = 0; v < 256; v++) {
		uint8_t b = (uint8_t)v;
		enum ps_entry_cause want = v >= 1 && v <= 6
			? PS_ENT_VALID : PS_ENT_STATUS;
		cr_assert_eq(result_with(1, 30, &b, 1, &r), want, "status %u",
			     v);
	}
	/* SORTED needs a chute; every other status may carry chute 0 */
	static const uint8_t zero2[2] = { 0, 0 };
	cr_assert_eq(result_with(0, 28, zero2, 2, &r), PS_ENT_CHUTE);
	for (uint8_t st = PS_SORT_CHUTE_FULL; st <= PS_SORT_LOST; st++) {
		uint8_t e[3] = { 0, 0, st };
		cr_assert_eq(result_with(0, 28, e, 3, &r), PS_ENT_VALID,
			     "status %u", st);
		cr_assert_eq(r.chute, 0);
	}
	static const uint8_t max2[3] = { 0xFF, 0xFF, PS_SORT_SORTED };
	cr_assert_eq(result_with(0, 28, max2, 3, &r), PS_ENT_VALID);
	cr_assert_eq(r.chute, 65535);
	/* reserved byte 31 and bytes 44..47 */
	static const size_t res[5] = { 31, 44, 45, 46, 47 };
	for (int i = 0; i < 5; i++) {
		uint8_t one = 0x80;
		cr_assert_eq(result_with(0, res[i], &one, 1, &r),
			     PS_ENT_RESERVED, "byte %zu", res[i]);
	}
	/* informational fields take any value */
	static const uint8_t ff8[8] = { 0xFF, 0xFF, 0xFF, 0xFF,
					0xFF, 0xFF, 0xFF, 0xFF };
	cr_assert_eq(result_with(0, 24, ff8, 4, &r), PS_ENT_VALID);
	cr_assert_eq(result_with(0, 32, ff8, 8, &r), PS_ENT_VALID);
	cr_assert_eq(result_with(0, 40, ff8, 4, &r), PS_ENT_VALID);
	cr_assert_eq(r.plan_version, 0xFFFFFFFFu);
	/* field order: waybill, then status, then chute, then reserved */
	uint8_t bad[48];
	memset(bad, 0, sizeof(bad));
	bad[31] = 1;
	cr_assert_eq(ps_sort_result_decode(bad, &r), PS_ENT_WAYBILL);
	memcpy(bad, golden_results + 16, 24);
	cr_assert_eq(ps_sort_result_decode(bad, &r), PS_ENT_STATUS);
	bad[30] = PS_SORT_SORTED;
	cr_assert_eq(ps_sort_result_decode(bad, &r), PS_ENT_CHUTE);
	bad[29] = 41;
	cr_assert_eq(ps_sort_result_decode(bad, &r), PS_ENT_RESERVED);
	bad[31] = 0;
	cr_assert_eq(ps_sort_result_decode(bad, &r), PS_ENT_VALID);
	/* unchecked: every rule but the waybill's */
	bad[0] = '?';
	cr_assert_eq(ps_sort_result_decode(bad, &r), PS_ENT_WAYBILL);
	cr_assert_eq(ps_sort_result_decode_unchecked(bad, &r), PS_ENT_VALID);
	cr_assert_eq(r.chute, 41);
	cr_assert_eq(r.status, PS_SORT_SORTED);
	bad[31] = 1;
	cr_assert_eq(ps_sort_result_decode_unchecked(bad, &r), PS_ENT_RESERVED);

	/* the burst counts the valid entries only */
	uint8_t buf[sizeof(golden_results)];
	struct ps_header h;
	struct ps_sort_result rs[2];
	memcpy(buf, golden_results, sizeof(buf));
	buf[16 + 30] = 9;                        /* entry 0: status 9 */
	cr_assert_eq(check_r2(buf, sizeof(buf), &h), PS_HDR_OK);
	cr_assert_eq(ps_sort_result_decode_burst(buf, &h, rs), 1);
	cr_assert_eq(rs[0].invalid, PS_ENT_STATUS);
	cr_assert_eq(rs[1].invalid, PS_ENT_VALID);
}

Test(wire, revision2_names)
{
	cr_assert_eq(PS_REASON_COUNT, 13);
	cr_assert_str_eq(ps_reason_name(PS_R_INTERCEPTED), "INTERCEPTED");
	cr_assert_str_eq(ps_reason_name(11), "INTERCEPTED");
	cr_assert_str_eq(ps_reason_name(PS_R_RECIRC_LIMIT), "RECIRC_LIMIT");
	cr_assert_str_eq(ps_reason_name(12), "RECIRC_LIMIT");
	cr_assert_str_eq(ps_reason_name(13), "?");
	/* every table covers every value, with distinct names */
	for (unsigned i = 0; i < PS_REASON_COUNT; i++) {
		cr_assert_str_neq(ps_reason_name(i), "?", "reason %u", i);
		for (unsigned j = 0; j < i; j++)
			cr_assert_str_neq(ps_reason_name(i), ps_reason_name(j));
	}
	static const char *const states[] = { "OPEN", "FULL", "BLOCKED",
					      "FAULT" };
	for (unsigned i = 0; i < PS_CHUTE_STATE_COUNT; i++)
		cr_assert_str_eq(ps_chute_state_name(i), states[i]);
	cr_assert_str_eq(ps_chute_state_name(4), "?");
	static const char *const statuses[] = { "?", "SORTED", "CHUTE_FULL",
		"CHUTE_BLOCKED", "DISCHARGE_FAILED", "NO_DESTINATION", "LOST" };
	for (unsigned i = 0; i <= PS_SORT_STATUS_MAX + 1; i++)
		cr_assert_str_eq(ps_sort_status_name(i),
				 i <= PS_SORT_STATUS_MAX ? statuses[i] : "?");
	for (unsigned i = 0; i < PS_ENT_CAUSE_COUNT; i++)
		cr_assert_str_neq(ps_entry_cause_name(i), "?", "cause %u", i);
	cr_assert_str_eq(ps_entry_cause_name(PS_ENT_HOLD), "hold");
	cr_assert_str_eq(ps_entry_cause_name(PS_ENT_CAUSE_COUNT), "?");
	cr_assert_str_eq(ps_kind_name(PS_KIND_ACK), "acknowledgement");
	cr_assert_str_eq(ps_kind_name(6), "?");
}

/* Count heap allocations made while decoding: none are allowed. (Not in
 * the sanitizer build, whose allocator cannot be interposed this way.) */
#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static volatile int counting, allocations;
void *malloc(size_t n)
{
	if (counting)
		allocations++;
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	if (counting)
		allocations++;
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	if (counting)
		allocations++;
	return __libc_realloc(p, n);
}

Test(wire, decode_22_records_without_allocating)
{
	uint8_t buf[PS_MAX_REQUEST];
	size_t len = make_request(buf, 22);
	struct ps_header h;
	struct ps_scan s[22];
	struct ps_decision d[22] = { 0 };
	allocations = 0;
	counting = 1;
	enum ps_hdr_status st = ps_header_check(buf, len, &h);
	unsigned n = ps_scan_decode_burst(buf, &h, s);
	size_t rlen = ps_reply_build_inplace(buf, &h, 1, s, d);
	counting = 0;
	cr_assert_eq(st, PS_HDR_OK);
	cr_assert_eq(n, 22);
	cr_assert_eq(rlen, 16 + 48 * 22u);
	cr_assert_eq(allocations, 0);
	/* the counter works: an allocation while counting is seen */
	counting = 1;
	void *p = malloc(16);
	counting = 0;
	free(p);
	cr_assert_eq(allocations, 1);
}
#endif

/* The dataplane's one-step check of a scan batch's header agrees with the
 * two stages: it accepts exactly the kind 1 headers both stages pass, and
 * loads the same fields. */
Test(wire, one_step_scan_header_check_agrees_with_the_two_stages)
{
	uint8_t p[16 + 64 * 22];
	uint32_t x = 2463534242u;
	unsigned accepted = 0;
	for (int round = 0; round < 200000; round++) {
		struct ps_header h = { .magic = PS_MAGIC, .version = PS_VERSION,
				       .kind = PS_KIND_SCAN,
				       .count = (uint16_t)(1 + round % 22),
				       .site = 7, .seq = (uint32_t)round };
		ps_header_encode(p, &h);
		size_t len = 16 + 64 * (size_t)h.count;
		/* change a byte of the header, or the length, or neither */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		switch (x % 4) {
		case 1:
			p[(x >> 8) % 16] ^= (uint8_t)(1u << ((x >> 16) % 8));
			break;
		case 2:
			p[(x >> 8) % 16] = (uint8_t)(x >> 16);
			break;
		case 3:
			len = (x >> 8) % sizeof(p);
			break;
		}
		struct ps_header fast, slow;
		memset(&fast, 0xa5, sizeof(fast));
		memset(&slow, 0x5a, sizeof(slow));
		int ok = ps_header_scan_ok(p, len, &fast);
		int both = ps_header_check_kind(p, len, &slow) == PS_HDR_OK &&
			   slow.kind == PS_KIND_SCAN &&
			   ps_header_check_body(&slow, len) == PS_HDR_OK;
		cr_assert_eq(ok, both, "round %d", round);
		if (ok) {
			accepted++;
			cr_assert_eq(fast.magic, slow.magic);
			cr_assert_eq(fast.version, slow.version);
			cr_assert_eq(fast.kind, slow.kind);
			cr_assert_eq(fast.count, slow.count);
			cr_assert_eq(fast.flags, slow.flags);
			cr_assert_eq(fast.site, slow.site);
			cr_assert_eq(fast.seq, slow.seq);
		}
	}
	cr_assert_gt(accepted, 40000);
}
