/* bench_holds.c: what the intercept list (protocol step 6) costs a record:
 * bursts of 32 decided as the pipeline does it (every record's hold hash
 * taken once and its filter block prefetched, then looked up before the
 * decision), with no holds (the
 * dataplane's empty list: NULL, never looked at) and with 1,000,000 holds
 * of which the keys hit 1 in 1,000, side by side in one run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holds.h"
#include "plan_bench.h"

#define HOLDS 1000000u

/* ns per record: bursts of decisions behind the holds check. */
static double run_held(const struct ps_plan *p, const struct ps_chute_state *cs,
		       const struct ps_holds *h, const struct keys *k)
{
	static struct ps_decision d[BURST], *dp[BURST];
	for (int i = 0; i < BURST; i++)
		dp[i] = &d[i];
	uint64_t hh[BURST];
	uint64_t c0 = bench_tsc(), acc = 0;
	for (uint32_t i = 0; i < NKEYS; i += BURST) {
		if (h)
			for (uint32_t j = 0; j < BURST; j++) {
				hh[j] = ps_holds_hash(k->wb[i + j]);
				ps_holds_prefetch_hash(h, hh[j]);
			}
		if (h)
			for (uint32_t j = 0; j < BURST; j++)
				acc += (uint64_t)ps_holds_has_hash(
					h, k->wb[i + j], hh[j]);
		ps_plan_decide_burst(p, cs, k->sp + i, dp, BURST);
		acc += d[0].chute;
	}
	bench_sink = acc;
	return bench_ns_per(c0, NKEYS);
}

/* 1,000,000 waybills: every 1,000th key, the rest SF waybills no key has. */
static struct ps_holds *million_holds(const struct keys *k)
{
	uint8_t (*wb)[24] = calloc(HOLDS, 24);
	if (!wb)
		return NULL;
	uint32_t n = 0;
	for (uint32_t i = 0; i < NKEYS && n < HOLDS / 1000; i += 1000)
		memcpy(wb[n++], k->wb[i], 24);
	for (uint32_t i = 0; n < HOLDS; i++)
		snprintf((char *)wb[n++], 24, "SF%013u", i * 2246822519u + 7);
	struct ps_holds *h = ps_holds_build((const uint8_t(*)[24])wb, HOLDS);
	free(wb);
	return h;
}

void section_holds(const struct built *b, const struct ps_regions *reg)
{
	printf("\n## Intercept list: 1,000,000 holds against none (%s plan, "
	       "Zipf keys, bursts of 32, median of %u runs)\n\n", b->name,
	       bench_runs);
	struct keys k;
	make_keys(&k, reg, 1.0, 77);
	struct ps_holds *h = million_holds(&k);
	if (!h) {
		printf("out of memory for the holds\n");
		free_keys(&k);
		return;
	}
	struct ps_chute_state cs;
	ps_chutes_init(&cs);
	double none[BENCH_MAX_RUNS], full[BENCH_MAX_RUNS], diff[BENCH_MAX_RUNS];
	for (unsigned r = 0; r < bench_runs; r++) {   /* interleaved */
		none[r] = run_held(b->plan, &cs, NULL, &k);
		full[r] = run_held(b->plan, &cs, h, &k);
		diff[r] = full[r] - none[r];
	}
	size_t pass = 0, held = 0;
	for (uint32_t i = 0; i < NKEYS; i++) {
		pass += (size_t)ps_holds_filter_may_have(h, k.wb[i]);
		held += (size_t)ps_holds_has(h, k.wb[i]);
	}
	struct bench_stat sn = bench_stats(none, bench_runs);
	struct bench_stat sf = bench_stats(full, bench_runs);
	struct bench_stat sd = bench_stats(diff, bench_runs);
	printf("| holds | ns per record median | min | max |\n"
	       "|---|---:|---:|---:|\n"
	       "| none (empty list) | %.2f | %.2f | %.2f |\n"
	       "| 1,000,000 (%zu in the set) | %.2f | %.2f | %.2f |\n"
	       "| cost of the holds (pairwise) | %.2f | %.2f | %.2f |\n",
	       sn.med, sn.min, sn.max, ps_holds_count(h), sf.med, sf.min,
	       sf.max, sd.med, sd.min, sd.max);
	printf("\nfilter: %zu KB; of %u keys, %zu held, %zu more passed it "
	       "(read the table for nothing)\n", ps_holds_filter_bytes(h) >> 10,
	       (unsigned)NKEYS, held, pass - held);
	bench_json_row("holds", "\"plan\":\"%s\",\"none_ns\":%.2f,"
		       "\"million_ns\":%.2f,\"cost_ns_median\":%.2f,"
		       "\"cost_ns_min\":%.2f,\"cost_ns_max\":%.2f", b->name,
		       sn.med, sf.med, sd.med, sd.min, sd.max);
	ps_holds_free(h);
	free_keys(&k);
}
