/* bench_decide.c: the cost of a decision per record (single and burst of
 * 32, uniform and Zipf keys) and of the route look-up alone, side by side
 * with DPDK's rte_lpm6 and rte_fib6 on the same prefixes. */
#include <stdio.h>

#include "plan_bench.h"

/* ns per record deciding all keys one by one or in bursts. */
static double run_decide(const struct ps_plan *p,
			 const struct ps_chute_state *cs,
			 const struct keys *k, int burst)
{
	static struct ps_decision d[BURST], *dp[BURST];
	for (int i = 0; i < BURST; i++)
		dp[i] = &d[i];
	uint64_t c0 = bench_tsc(), acc = 0;
	if (burst) {
		for (uint32_t i = 0; i < NKEYS; i += BURST) {
			ps_plan_decide_burst(p, cs, k->sp + i, dp, BURST);
			acc += d[0].chute;
		}
	} else {
		for (uint32_t i = 0; i < NKEYS; i++) {
			ps_plan_decide_one(p, cs, &k->s[i], &d[0]);
			acc += d[0].chute;
		}
	}
	bench_sink = acc;
	return bench_ns_per(c0, NKEYS);
}

static double run_lpm(const struct ps_plan *p, const struct keys *k)
{
	uint64_t c0 = bench_tsc(), acc = 0;
	for (uint32_t i = 0; i < NKEYS; i++)
		acc += ps_plan_lpm(p, k->s[i].region);
	bench_sink = acc;
	return bench_ns_per(c0, NKEYS);
}

static void row(const char *plan, const char *keys, const char *what,
		double *v)
{
	struct bench_stat s = bench_stats(v, bench_runs);
	double cycles = s.med * bench_tsc_per_ns;
	printf("| %s | %s | %s | %.1f | %.1f | %.1f | %.0f | %.1f |\n", plan,
	       keys, what, s.med, s.min, s.max, cycles, 1e3 / s.med);
	bench_json_row("decide", "\"plan\":\"%s\",\"keys\":\"%s\",\"what\":\"%s\","
		       "\"ns_median\":%.2f,\"ns_min\":%.2f,\"ns_max\":%.2f,"
		       "\"cycles\":%.1f,\"mrec_s\":%.2f", plan, keys, what,
		       s.med, s.min, s.max, cycles, 1e3 / s.med);
}

static void not_built(const char *plan, const char *keys, const char *what)
{
	printf("| %s | %s | %s | could not be built | | | | |\n", plan, keys,
	       what);
}

/* The rows of one plan with one key set. */
static void decide_plan(const struct built *b,
			const struct ps_chute_state *cs,
			const struct keys *k, const char *keys)
{
	double v[BENCH_MAX_RUNS];
	for (unsigned r = 0; r < bench_runs; r++)
		v[r] = run_decide(b->plan, cs, k, 0);
	row(b->name, keys, "decide single", v);
	for (unsigned r = 0; r < bench_runs; r++)
		v[r] = run_decide(b->plan, cs, k, 1);
	row(b->name, keys, "decide burst 32", v);
	for (unsigned r = 0; r < bench_runs; r++)
		v[r] = run_lpm(b->plan, k);
	row(b->name, keys, "LPM only: parcelsort DIR 6-3-3", v);
	struct lpm_rivals t = { 0 };
	lpm_rivals_build(&t, &b->src, k);
	if (t.lpm6) {
		for (unsigned r = 0; r < bench_runs; r++)
			v[r] = lpm_rivals_run_lpm6(&t);
		row(b->name, keys, "LPM only: rte_lpm6 bulk 32", v);
	} else {
		not_built(b->name, keys, "rte_lpm6");
	}
	if (t.fib6) {
		for (unsigned r = 0; r < bench_runs; r++)
			v[r] = lpm_rivals_run_fib6(&t);
		row(b->name, keys, "LPM only: rte_fib6 trie bulk 32", v);
	} else {
		not_built(b->name, keys, "rte_fib6");
	}
	lpm_rivals_free(&t);
}

void section_decide(struct built *plans, unsigned n,
		    const struct ps_regions *reg)
{
	printf("\n## Decisions per record (%u keys, median of %u runs)\n\n",
	       NKEYS, bench_runs);
	printf("| plan | keys | what | ns median | min | max | cycles | "
	       "M rec/s |\n|---|---|---|---:|---:|---:|---:|---:|\n");
	struct ps_chute_state cs;
	ps_chutes_init(&cs);
	static const struct { const char *name; double s; } kk[] = {
		{ "uniform", 0 }, { "zipf-1.0", 1.0 } };
	for (unsigned ki = 0; ki < 2; ki++) {
		struct keys k;
		make_keys(&k, reg, kk[ki].s, 99 + ki);
		for (unsigned i = 0; i < n; i++)
			decide_plan(&plans[i], &cs, &k, kk[ki].name);
		free_keys(&k);
	}
}
