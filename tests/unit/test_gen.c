/* test_gen.c: the traffic generator: determinism, the pcap parses back into
 * the records meant, and the traffic mix matches its configuration; the
 * sorter controller model: its results, reports and re-scans per spec. */
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

/* ---- the sorter controller model (gen/sorter.c) against a fake dataplane
 * that answers at once: what it sends, byte by byte, per the spec ---- */

#include "sorter.h"

#define FAKE_MAX_WB 8192

struct fake_dp {
	unsigned mode;          /* FAKE_* below */
	uint64_t now;
	/* per waybill seen (by index in order of first scan) */
	uint8_t wb[FAKE_MAX_WB][24];
	uint16_t chute[FAKE_MAX_WB];    /* last decision's chute */
	uint32_t event_seq[FAKE_MAX_WB];/* last scan's event_seq */
	unsigned scans[FAKE_MAX_WB];
	unsigned not_discharged[FAKE_MAX_WB];
	unsigned ended[FAKE_MAX_WB];    /* SORTED or LOST result seen */
	unsigned scan_after_end;
	unsigned n_wb;
	uint64_t full_at[65536];        /* last FULL report per chute, +1 */
	uint64_t by_status[PS_SORT_STATUS_MAX + 1], missorts, results;
	uint64_t reports, acks, datagrams, hash;
	unsigned full_unreported;
};

enum { FAKE_ROUTED = 0, FAKE_REASONS = 1, FAKE_NO_ACKS = 2, FAKE_SHORT = 4 };

static unsigned fake_find(struct fake_dp *f, const uint8_t *wb)
{
	for (unsigned i = 0; i < f->n_wb; i++)
		if (!memcmp(f->wb[i], wb, 24))
			return i;
	cr_assert_lt(f->n_wb, FAKE_MAX_WB);
	memcpy(f->wb[f->n_wb], wb, 24);
	return f->n_wb++;
}

static void fake_decide(struct fake_dp *f, unsigned i, struct ps_decision *d)
{
	uint32_t h = ps_waybill_hash(f->wb[i]);
	memset(d, 0, sizeof(*d));
	d->reason = PS_R_ROUTED;
	d->chute = (uint16_t)(101 + h % 8);
	d->plan_version = 7;
	if (f->mode & FAKE_REASONS) {
		if (h % 10 == 0) {
			d->reason = PS_R_INTERCEPTED;
			d->chute = 998;
		} else if (h % 10 == 1) {
			d->reason = PS_R_NO_PLAN;
			d->chute = 0;
		} else if (f->not_discharged[i] >= 2) {
			d->reason = PS_R_RECIRC_LIMIT;
			d->chute = 999;
		}
	}
	f->chute[i] = d->chute;
}

/* Answer one datagram of the model (checked per spec); returns the reply's
 * length, 0 for none. */
static size_t fake_answer(struct fake_dp *f, uint8_t *buf, size_t len)
{
	struct ps_header h;
	cr_assert_eq(ps_header_check_kind(buf, len, &h), PS_HDR_OK);
	cr_assert_eq(ps_header_check_body(&h, len), PS_HDR_OK);
	f->datagrams++;
	for (size_t k = 0; k < len; k++)
		f->hash = f->hash * 131 + buf[k];
	if (h.kind == PS_KIND_SCAN) {
		struct ps_scan sc[PS_MAX_RECORDS];
		struct ps_decision d[PS_MAX_RECORDS];
		ps_scan_decode_burst(buf, &h, sc);
		for (unsigned k = 0; k < h.count; k++) {
			cr_assert_eq(sc[k].klass, PS_CLASS_SORTABLE);
			cr_assert_eq(sc[k].scan_type, PS_SCAN_INDUCT);
			unsigned i = fake_find(f, sc[k].waybill);
			f->scan_after_end += f->ended[i];
			f->scans[i]++;
			f->event_seq[i] = sc[k].event_seq;
			fake_decide(f, i, &d[k]);
			d[k].event_seq = sc[k].event_seq;
		}
		return ps_reply_build_inplace(buf, &h, 3307820, sc, d);
	}
	if (h.kind == PS_KIND_CHUTE_STATE) {
		struct ps_chute_report r[PS_MAX_CHUTE_STATES];
		cr_assert_eq(ps_chute_report_decode_burst(buf, &h, r), h.count);
		for (unsigned k = 0; k < h.count; k++) {
			cr_assert_eq(r[k].state, PS_CHUTE_FULL);
			cr_assert_eq(r[k].hold_s, 1);
			f->full_at[r[k].chute] = f->now + 1;
			f->reports++;
		}
	} else {
		struct ps_sort_result r[PS_MAX_SORT_RESULTS];
		cr_assert_eq(h.kind, PS_KIND_SORT_RESULT);
		cr_assert_eq(ps_sort_result_decode_burst(buf, &h, r), h.count,
			     "every entry valid");
		for (unsigned k = 0; k < h.count; k++) {
			unsigned i = fake_find(f, r[k].waybill);
			cr_assert_eq(r[k].event_seq, f->event_seq[i]);
			cr_assert_eq(r[k].plan_version, 7);
			f->results++;
			f->by_status[r[k].status]++;
			if (r[k].status == PS_SORT_SORTED &&
			    r[k].chute != f->chute[i])
				f->missorts++;
			if (r[k].status == PS_SORT_SORTED ||
			    r[k].status == PS_SORT_LOST)
				f->ended[i] = 1;
			else
				f->not_discharged[i]++;
			if (r[k].status == PS_SORT_CHUTE_FULL &&
			    (!f->full_at[r[k].chute] ||
			     f->full_at[r[k].chute] - 1 + 1000 < f->now))
				f->full_unreported++;
		}
	}
	if (f->mode & FAKE_NO_ACKS)
		return 0;
	return ps_ack_encode(buf, &h, 3307820,
			     (uint16_t)(h.count - !!(f->mode & FAKE_SHORT)));
}

static uint64_t run_sorter(struct ps_sorter *s, struct fake_dp *f)
{
	uint8_t buf[PS_MAX_REQUEST];
	uint64_t t;
	for (t = 0; t < 600000 && !ps_sorter_done(s, t); t++) {
		f->now = t;
		ps_sorter_tick(s, t);
		enum ps_sorter_channel ch;
		size_t len;
		while ((len = ps_sorter_next(s, t, buf, &ch)) > 0) {
			cr_assert_eq(ch, buf[3] == PS_KIND_SCAN ? PS_CH_SCANNER
								: PS_CH_SORTER);
			size_t rl = fake_answer(f, buf, len);
			if (rl)
				ps_sorter_receive(s, t, buf, rl);
		}
	}
	cr_assert(ps_sorter_done(s, t), "the run ends by itself");
	return t;
}

static struct ps_sorter *make_sorter(struct ps_gen **g, uint64_t seed,
				     uint64_t parcels, double full,
				     double failed, double lost, double missort)
{
	struct ps_sorter_cfg c;
	char err[256];
	struct ps_sorter *s = calloc(1, sizeof(*s));
	*g = make(seed, 0);
	ps_sorter_cfg_defaults(&c);
	c.seed = seed;
	c.parcels = parcels;
	c.rate = 0;
	c.window = 256;
	c.full_p = full;
	c.failed_p = failed;
	c.lost_p = lost;
	c.missort_p = missort;
	c.hold_s = 1;
	c.transit_ms = 5;
	c.round_ms = 20;
	c.max_rounds = 255;
	c.rec_max = 8;
	cr_assert_eq(ps_sorter_init(s, &c, *g, err, sizeof(err)), 0, "%s", err);
	return s;
}

static uint64_t fate_sum(const struct ps_sorter *s)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < PS_FATE_COUNT; k++)
		n += s->st.fate[k];
	return n;
}

static void drop_sorter(struct ps_sorter *s, struct ps_gen *g)
{
	ps_sorter_free(s);
	free(s);
	destroy(g);
}

Test(gen, sorter_sends_the_configured_mix_of_results)
{
	static struct fake_dp f;
	struct ps_gen *g;
	memset(&f, 0, sizeof(f));
	struct ps_sorter *s = make_sorter(&g, 21, 5000, 0.10, 0.10, 0.05, 0.02);
	run_sorter(s, &f);
	uint64_t n = f.results; /* one result per discharge */
	cr_assert_eq(s->st.inducted, 5000);
	cr_assert_eq(fate_sum(s), 5000, "every parcel has one fate");
	cr_assert_eq(f.n_wb, 5000, "fresh waybills");
	cr_assert_eq(s->st.results, n);
	cr_assert(f.by_status[PS_SORT_CHUTE_FULL] > n * 0.08 &&
		  f.by_status[PS_SORT_CHUTE_FULL] < n * 0.12);
	cr_assert(f.by_status[PS_SORT_DISCHARGE_FAILED] > n * 0.08 &&
		  f.by_status[PS_SORT_DISCHARGE_FAILED] < n * 0.12);
	cr_assert(f.by_status[PS_SORT_LOST] > n * 0.04 &&
		  f.by_status[PS_SORT_LOST] < n * 0.06);
	cr_assert(f.missorts > n * 0.01 && f.missorts < n * 0.03);
	cr_assert_eq(f.missorts, s->st.missorts);
	cr_assert_eq(f.by_status[PS_SORT_LOST], s->st.fate[PS_FATE_LOST]);
	cr_assert_eq(f.by_status[PS_SORT_SORTED],
		     s->st.fate[PS_FATE_SORTED] + s->st.fate[PS_FATE_MISSORTED]);
	cr_assert_eq(s->st.rounds, f.by_status[PS_SORT_CHUTE_FULL] +
					   f.by_status[PS_SORT_DISCHARGE_FAILED]);
	/* every kind 3 and 5 datagram acknowledged and checked */
	cr_assert_eq(s->st.acks_ok,
		     s->st.result_datagrams + s->st.report_datagrams);
	cr_assert_eq(s->st.acks_missing + s->st.acks_short + s->st.unexpected +
			     s->st.bad_replies, 0);
	cr_assert_eq(f.reports, s->st.chute_reports);
	cr_assert_gt(f.reports, 0);
	cr_assert_eq(f.full_unreported, 0,
		     "a CHUTE_FULL result follows a FULL report in force");
	uint64_t per_chute = 0;
	for (unsigned c = 1; c < 65536; c++)
		per_chute += ps_sorter_chute_sorted(s, c);
	cr_assert_eq(per_chute, f.by_status[PS_SORT_SORTED]);
	drop_sorter(s, g);
}

Test(gen, sorter_rescans_only_what_went_round)
{
	static struct fake_dp f;
	struct ps_gen *g;
	memset(&f, 0, sizeof(f));
	struct ps_sorter *s = make_sorter(&g, 22, 2000, 0.15, 0.15, 0.01, 0);
	run_sorter(s, &f);
	unsigned rescans = 0;
	for (unsigned i = 0; i < f.n_wb; i++) {
		cr_assert_eq(f.scans[i], 1 + f.not_discharged[i],
			     "one re-scan per not-discharged result");
		cr_assert_eq(f.ended[i], 1, "each parcel ends SORTED or LOST");
		rescans += f.scans[i] - 1;
	}
	cr_assert_eq(f.scan_after_end, 0, "nothing sorted or lost is re-scanned");
	cr_assert_eq(rescans, s->st.rescans);
	cr_assert_gt(s->st.went_round, 2000 * 0.2);
	cr_assert_eq(fate_sum(s), 2000);
	drop_sorter(s, g);
}

Test(gen, sorter_same_seed_same_bytes)
{
	static struct fake_dp a, b, c;
	struct ps_gen *ga, *gb, *gc;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	struct ps_sorter *sa = make_sorter(&ga, 5, 500, 0.1, 0.1, 0.01, 0.01);
	struct ps_sorter *sb = make_sorter(&gb, 5, 500, 0.1, 0.1, 0.01, 0.01);
	struct ps_sorter *sc = make_sorter(&gc, 6, 500, 0.1, 0.1, 0.01, 0.01);
	run_sorter(sa, &a);
	run_sorter(sb, &b);
	run_sorter(sc, &c);
	cr_assert_eq(a.datagrams, b.datagrams);
	cr_assert_eq(a.hash, b.hash);
	cr_assert_neq(a.hash, c.hash);
	drop_sorter(sa, ga);
	drop_sorter(sb, gb);
	drop_sorter(sc, gc);
}

Test(gen, sorter_settles_intercepts_limits_and_no_plan)
{
	static struct fake_dp f;
	struct ps_gen *g;
	memset(&f, 0, sizeof(f));
	f.mode = FAKE_REASONS;
	struct ps_sorter *s = make_sorter(&g, 23, 3000, 0.3, 0.2, 0, 0);
	run_sorter(s, &f);
	cr_assert_eq(fate_sum(s), 3000);
	cr_assert_gt(s->st.fate[PS_FATE_INTERCEPTED], 200);
	cr_assert_gt(s->st.fate[PS_FATE_NO_CHUTE], 200);
	cr_assert_gt(s->st.fate[PS_FATE_RECIRC_LIMIT], 100);
	cr_assert_eq(s->st.by_reason[PS_R_INTERCEPTED],
		     s->st.fate[PS_FATE_INTERCEPTED]);
	/* intercepted and limited parcels go down the chute they were given */
	cr_assert_eq(ps_sorter_chute_sorted(s, 998),
		     s->st.fate[PS_FATE_INTERCEPTED]);
	cr_assert_eq(ps_sorter_chute_sorted(s, 999),
		     s->st.fate[PS_FATE_RECIRC_LIMIT]);
	/* NO_PLAN (chute 0) sends no result */
	cr_assert_eq(f.results, s->st.results);
	cr_assert_eq(f.by_status[PS_SORT_SORTED],
		     s->st.fate[PS_FATE_SORTED] + s->st.fate[PS_FATE_INTERCEPTED] +
			     s->st.fate[PS_FATE_RECIRC_LIMIT]);
	drop_sorter(s, g);
}

Test(gen, sorter_counts_missing_and_short_acks)
{
	static struct fake_dp f;
	struct ps_gen *g;
	memset(&f, 0, sizeof(f));
	f.mode = FAKE_NO_ACKS;
	struct ps_sorter *s = make_sorter(&g, 24, 300, 0.2, 0, 0, 0);
	run_sorter(s, &f);
	cr_assert_eq(s->st.acks_ok, 0);
	cr_assert_eq(s->st.acks_missing,
		     s->st.result_datagrams + s->st.report_datagrams);
	cr_assert_gt(s->st.rescans, 0, "went-round parcels re-scanned after "
				       "the ack timed out");
	cr_assert_eq(fate_sum(s), 300);
	drop_sorter(s, g);

	memset(&f, 0, sizeof(f));
	f.mode = FAKE_SHORT;
	s = make_sorter(&g, 24, 300, 0.2, 0, 0, 0);
	run_sorter(s, &f);
	cr_assert_eq(s->st.acks_ok, 0);
	cr_assert_eq(s->st.acks_short,
		     s->st.result_datagrams + s->st.report_datagrams);
	drop_sorter(s, g);
}

Test(gen, sorter_refuses_a_bad_configuration)
{
	struct ps_sorter_cfg c;
	struct ps_sorter s;
	struct ps_gen *g = make(1, 0);
	char err[256];
	ps_sorter_cfg_defaults(&c);
	c.full_p = 0.6;
	c.failed_p = 0.6;
	cr_assert_eq(ps_sorter_init(&s, &c, g, err, sizeof(err)), -1);
	cr_assert(strstr(err, "add up"), "%s", err);
	ps_sorter_cfg_defaults(&c);
	c.hold_s = 3601;
	cr_assert_eq(ps_sorter_init(&s, &c, g, err, sizeof(err)), -1);
	destroy(g);
}

/* --hold-out: the waybills written are those of every K-th parcel the same
 * run inducts, whatever the replies make of the parcels. */
Test(gen, hold_out_names_the_parcels_the_run_inducts)
{
	static struct fake_dp f;
	struct ps_gen *g;
	char *text = NULL;
	size_t len = 0;
	memset(&f, 0, sizeof(f));
	struct ps_sorter *s = make_sorter(&g, 31, 700, 0.2, 0.2, 0.01, 0);
	FILE *m = open_memstream(&text, &len);
	cr_assert_eq(ps_sorter_write_holds(s, 700, 7, m), 100);
	fclose(m);
	drop_sorter(s, g);
	s = make_sorter(&g, 31, 700, 0.2, 0.2, 0.01, 0);
	run_sorter(s, &f);
	cr_assert_eq(f.n_wb, 700);
	cr_assert_gt(s->st.rescans, 0, "replies made parcels go round");
	const char *line = text;
	for (unsigned k = 7; k <= 700; k += 7) {
		char want[64];
		snprintf(want, sizeof(want), "%.24s,parcelsort-gen parcel %u\n",
			 (const char *)f.wb[k - 1], k);
		cr_assert_eq(strncmp(line, want, strlen(want)), 0,
			     "line for parcel %u: %.40s", k, line);
		line += strlen(want);
	}
	cr_assert_eq(*line, '\0', "nothing else written");
	free(text);
	drop_sorter(s, g);
}
