/* bench_holds.c: what the intercept list (protocol step 6) costs a record:
 * bursts of 32 decided as the pipeline does it, with no holds (the
 * dataplane's empty list: NULL, never looked at) and with 1,000,000 holds
 * of which the keys hit 1 in 1,000, side by side in one run. Both sides
 * take every record's waybill hash, as the pipeline does for the
 * duplicate window whatever the list; with holds, the same hash gives the
 * filter block, prefetched a burst ahead, then the burst's filter test
 * (ps_holds_filter_burst) and the table for what it lets through. Timed
 * by the thread's CPU time, which other jobs on the machine do not add
 * to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "holds.h"
#include "plan_bench.h"
#include "ps_hugemem.h"

#define HOLDS 1000000u

static double thread_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* The burst at keys i: its hashes, and with holds its filter blocks
 * prefetched. */
static void hash_burst(const struct ps_holds *h, const struct keys *k,
		       uint32_t i, uint64_t *hh)
{
	for (uint32_t j = 0; j < BURST; j++) {
		hh[j] = ps_holds_hash(k->wb[i + j]);
		if (h)
			ps_holds_prefetch_hash(h, hh[j]);
	}
}

/* ns per record: bursts of decisions behind the holds check, the next
 * burst's hashes taken and blocks prefetched before this one is looked
 * up (in the pipeline a record's block is prefetched in pre_decide, about
 * a burst's records before its look-up in decide). */
static double run_held(const struct ps_plan *p, const struct ps_chute_state *cs,
		       const struct ps_holds *h, const struct keys *k)
{
	static struct ps_decision d[BURST], *dp[BURST];
	for (int i = 0; i < BURST; i++)
		dp[i] = &d[i];
	uint64_t hh[2][BURST];
	uint8_t maybe[BURST];
	uint64_t acc = 0;
	double t0 = thread_ns();
	hash_burst(h, k, 0, hh[0]);
	for (uint32_t i = 0, cur = 0; i < NKEYS; i += BURST, cur ^= 1) {
		if (i + BURST < NKEYS)
			hash_burst(h, k, i + BURST, hh[cur ^ 1]);
		if (h) {
			ps_holds_filter_burst(h, hh[cur], NULL, BURST, maybe);
			uint64_t w[BURST / 8];   /* mostly none passed */
			memcpy(w, maybe, sizeof(w));
			for (uint32_t q = 0; q < BURST / 8; q++)
				for (uint32_t j = q * 8; w[q] && j < q * 8 + 8; j++)
					if (maybe[j])
						acc += (uint64_t)ps_holds_table_has(
							h, k->wb[i + j], hh[cur][j]);
		}
		acc += hh[cur][BURST - 1];
		ps_plan_decide_burst(p, cs, k->sp + i, dp, BURST);
		acc += d[0].chute;
	}
	bench_sink = acc;
	return (thread_ns() - t0) / NKEYS;
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
	       "Zipf keys, bursts of 32, thread CPU time, median of %u runs)\n\n", b->name,
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
	printf("\nfilter: %zu KB (%s test; %ld kB of huge pages under it); "
	       "of %u keys, %zu held, %zu more passed it (read the table for "
	       "nothing)\n", ps_holds_filter_bytes(h) >> 10,
	       h->simd ? "AVX2" : "portable", (long)ps_huge_kb(h->filter, ps_holds_filter_bytes(h)),
	       (unsigned)NKEYS, held, pass - held);
	bench_json_row("holds", "\"plan\":\"%s\",\"none_ns\":%.2f,"
		       "\"million_ns\":%.2f,\"cost_ns_median\":%.2f,"
		       "\"cost_ns_min\":%.2f,\"cost_ns_max\":%.2f", b->name,
		       sn.med, sf.med, sd.med, sd.min, sd.max);
	ps_holds_free(h);
	free_keys(&k);
}
