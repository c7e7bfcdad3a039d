/* test_gen.c: the traffic generator: determinism, the pcap parses back into
 * the records meant, and the traffic mix matches its configuration. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ps_frame.h"
#include "ps_pcap.h"
#include "ps_wire.h"
#include "regions.h"
#include "traffic.h"
#include "waybill.h"

static struct ps_regions reg;

static void load_regions(void)
{
	char err[256];
	cr_assert_eq(ps_regions_load(&reg, ps_regions_default_path(), err,
				     sizeof(err)), 0, "%s", err);
}

static void free_regions(void)
{
	ps_regions_free(&reg);
}

TestSuite(gen, .init = load_regions, .fini = free_regions);

Test(gen, region_table_is_the_real_one)
{
	/* 619,336 villages plus the townships without village rows */
	cr_assert_geq(reg.n, 619336u);
	cr_assert_lt(reg.n, 630000u);
	for (size_t i = 1; i < reg.n; i++)
		cr_assert_lt(reg.code[i - 1], reg.code[i]);
	/* a real Yiwu village: Fotang town */
	int found = 0;
	for (size_t i = 0; i < reg.n; i++)
		if (reg.code[i] / 1000 == 330782100ull)
			found++;
	cr_assert_gt(found, 10);
}

static struct ps_gen *make(uint64_t seed, double ipv6)
{
	struct ps_gen *g = calloc(1, sizeof(*g));
	struct ps_gen_cfg c;
	char err[256];
	ps_gen_cfg_defaults(&c);
	c.seed = seed;
	c.ipv6_share = ipv6;
	cr_assert_eq(ps_gen_init(g, &c, &reg, err, sizeof(err)), 0, "%s", err);
	return g;
}

static void destroy(struct ps_gen *g)
{
	ps_gen_free(g);
	free(g);
}

Test(gen, same_seed_same_bytes)
{
	struct ps_gen *a = make(7, 0.3), *b = make(7, 0.3), *c = make(8, 0.3);
	uint8_t fa[2048], fb[2048], fc[2048];
	struct ps_gen_rec r[PS_MAX_RECORDS];
	unsigned n;
	int differs = 0;
	for (int i = 0; i < 500; i++) {
		size_t la = ps_gen_frame(a, fa, sizeof(fa), r, &n);
		size_t lb = ps_gen_frame(b, fb, sizeof(fb), r, &n);
		size_t lc = ps_gen_frame(c, fc, sizeof(fc), r, &n);
		cr_assert_eq(la, lb);
		cr_assert_arr_eq(fa, fb, la);
		differs |= la != lc || memcmp(fa, fc, la);
	}
	cr_assert(differs, "another seed must give other traffic");
	destroy(a);
	destroy(b);
	destroy(c);
}

Test(gen, pcap_parses_back_into_the_records)
{
	char path[] = "/tmp/ps-gen-test-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	struct ps_gen *g = make(11, 0.5);
	struct ps_pcap pc;
	static struct ps_gen_rec want[300][PS_MAX_RECORDS];
	unsigned want_n[300];
	uint8_t f[2048];
	cr_assert_eq(ps_pcap_create(&pc, path), 0);
	for (int i = 0; i < 300; i++) {
		size_t len = ps_gen_frame(g, f, sizeof(f), want[i], &want_n[i]);
		cr_assert_gt(len, 0);
		cr_assert_eq(ps_pcap_write(&pc, 1000 * i, f, len), 0);
	}
	cr_assert_eq(ps_pcap_close(&pc), 0);

	cr_assert_eq(ps_pcap_open(&pc, path), 0);
	int len, i = 0, v6 = 0;
	while ((len = ps_pcap_next(&pc, f, sizeof(f), NULL)) > 0) {
		struct ps_frame fr;
		struct ps_header h;
		struct ps_scan s[PS_MAX_RECORDS];
		cr_assert_lt(i, 300);
		cr_assert_eq(ps_frame_parse(f, (size_t)len, &fr), PS_FRAME_UDP);
		v6 += fr.ip_ver == 6;
		cr_assert_eq(fr.dport, PS_DEFAULT_PORT);
		cr_assert_eq(ps_header_check(f + fr.payload_off, fr.payload_len,
					     &h), PS_HDR_OK);
		cr_assert_eq(h.count, want_n[i]);
		ps_scan_decode_burst(f + fr.payload_off, &h, s);
		for (unsigned k = 0; k < h.count; k++) {
			const struct ps_scan *w = &want[i][k].scan;
			cr_assert_arr_eq(s[k].waybill, want[i][k].wb, 24);
			cr_assert_eq(s[k].region, w->region);
			cr_assert_eq(s[k].ts_ms, w->ts_ms);
			cr_assert_eq(s[k].weight_g, w->weight_g);
			cr_assert_eq(s[k].scan_type, w->scan_type);
			cr_assert_eq(s[k].service, w->service);
			cr_assert_eq(s[k].carrier, w->carrier);
			cr_assert_eq(s[k].device, w->device);
			cr_assert_eq(s[k].event_seq, w->event_seq);
			cr_assert_neq(s[k].klass, PS_CLASS_MALFORMED);
		}
		i++;
	}
	cr_assert_eq(len, 0);
	cr_assert_eq(i, 300);
	cr_assert_gt(v6, 100);
	cr_assert_lt(v6, 200);
	ps_pcap_close(&pc);
	unlink(path);
	destroy(g);
}

Test(gen, valid_waybills_for_every_carrier)
{
	struct ps_rng r;
	ps_rng_seed(&r, 3);
	for (int c = 0; c < PS_CAR_COUNT; c++)
		for (int i = 0; i < 1000; i++) {
			uint8_t wb[24], len;
			ps_waybill_make(&r, (enum ps_carrier_id)c, wb);
			cr_assert_eq(ps_waybill_check(wb, &len), PS_WB_VALID,
				     "%s %.24s", ps_carriers[c].name, wb);
		}
	for (int i = 0; i < 3000; i++) {
		uint8_t wb[24], len;
		ps_waybill_make_invalid(&r, wb);
		enum ps_waybill_status st = ps_waybill_check(wb, &len);
		cr_assert(st != PS_WB_VALID && st != PS_WB_EMPTY, "%.24s", wb);
	}
}

Test(gen, traffic_mix_follows_the_configuration)
{
	struct ps_gen *g = make(5, 0);
	uint64_t cls[5] = { 0 }, n = 0, rescans = 0, zero = 0;
	uint64_t top = 0, first = 0;
	for (int i = 0; i < 100000; i++) {
		struct ps_gen_rec r;
		ps_gen_record(g, &r);
		uint8_t enc[64];
		struct ps_scan s;
		ps_scan_encode(enc, &r.scan);
		cls[ps_scan_decode(enc, &s)]++;
		n++;
		zero += s.region == 0;
		if (i == 0)
			first = s.region;
		top += s.region == g->all.code[0];
		(void)rescans;
	}
	(void)first;
	/* defaults: 2% noread, 1% invalid, ~82% sortable types */
	cr_assert_eq(cls[PS_CLASS_MALFORMED], 0);
	cr_assert(cls[PS_CLASS_NOREAD] > n * 0.01 && cls[PS_CLASS_NOREAD] < n * 0.03);
	cr_assert(cls[PS_CLASS_BAD_BARCODE] > n * 0.005 &&
		  cls[PS_CLASS_BAD_BARCODE] < n * 0.015);
	cr_assert(cls[PS_CLASS_SORTABLE] > n * 0.70);
	cr_assert(cls[PS_CLASS_TRACK_ONLY] > n * 0.10);
	cr_assert(zero > n * 0.002 && zero < n * 0.01);
	/* Zipf s=1 over ~620k regions: the top region takes about 7% */
	cr_assert(top > n * 0.04 && top < n * 0.12, "top %lu", (unsigned long)top);
	destroy(g);
}

Test(gen, rescans_repeat_recent_waybills)
{
	struct ps_gen *g = calloc(1, sizeof(*g));
	struct ps_gen_cfg c;
	char err[256];
	ps_gen_cfg_defaults(&c);
	c.rescan_share = 0.3;
	cr_assert_eq(ps_gen_init(g, &c, &reg, err, sizeof(err)), 0);
	static uint8_t seen[5000][24];
	int repeats = 0;
	for (int i = 0; i < 5000; i++) {
		struct ps_gen_rec r;
		ps_gen_record(g, &r);
		memcpy(seen[i], r.wb, 24);
		if (r.wb[0] == 0)
			continue;
		for (int k = 0; k < i; k++)
			if (!memcmp(seen[k], r.wb, 24)) {
				repeats++;
				break;
			}
	}
	cr_assert(repeats > 5000 * 0.25 && repeats < 5000 * 0.35,
		  "repeats %d", repeats);
	destroy(g);
}

Test(gen, home_prefix_concentrates_destinations)
{
	struct ps_gen *g = calloc(1, sizeof(*g));
	struct ps_gen_cfg c;
	char err[256];
	ps_gen_cfg_defaults(&c);
	c.home_prefix = 330782;
	c.home_digits = 6;
	c.home_share = 0.5;
	c.unknown_share = 0;
	cr_assert_eq(ps_gen_init(g, &c, &reg, err, sizeof(err)), 0, "%s", err);
	int home = 0;
	for (int i = 0; i < 10000; i++) {
		struct ps_gen_rec r;
		ps_gen_record(g, &r);
		home += r.scan.region / 1000000 == 330782;
	}
	cr_assert(home > 4500 && home < 6000, "home %d", home);
	destroy(g);
}
