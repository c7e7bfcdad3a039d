/* plan_bench.c: micro-benchmarks of the sort plan library, side by side in
 * one run (the parts are in plan_bench.h): parse and compile time and
 * memory for plans of 100, 10,000 and national size; decision cost per
 * record (single and burst, uniform and Zipf keys); the route table against
 * DPDK's rte_lpm6 and rte_fib6 on the same prefixes; the rule index
 * against rte_acl and a linear scan for 1 to 1000 rules; publish-to-visible
 * latency of RCU swaps; the cost of 1,000,000 holds (bench_holds.c; alone
 * with --holds). Prints a markdown report and writes JSON
 * (--json FILE).
 *   plan_bench EAL_ARGS -- [--quick | --holds] [--runs N] [--json FILE] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>

#include "plan_bench.h"

/* Options after the EAL's; returns 0, or the exit code. */
static int options(int argc, char **argv, int *quick)
{
	static const struct option lo[] = {
		{ "runs", 1, 0, 'r' }, { "json", 1, 0, 'j' },
		{ "quick", 0, 0, 'q' }, { "holds", 0, 0, 'H' },
		{ 0, 0, 0, 0 } };
	const char *json_path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'r')
			bench_runs = (unsigned)atoi(optarg);
		else if (c == 'j')
			json_path = optarg;
		else if (c == 'q')
			*quick = 1;
		else if (c == 'H')
			*quick = 2;     /* the holds section alone */
		else
			return 2;
	}
	if (bench_runs < 1 || bench_runs > BENCH_MAX_RUNS)
		bench_runs = 5;
	if (json_path && bench_json_open(json_path))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	int quick = 0;
	if ((ret = options(argc - ret, argv + ret, &quick)))
		return ret;
	bench_calibrate();
	struct ps_regions reg;
	char err[256];
	if (ps_regions_load(&reg, ps_regions_default_path(), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("# parcelsort sort plan micro-benchmarks\n\nTSC %.3f GHz; "
	       "%u runs each.\n", bench_tsc_per_ns, bench_runs);
	static struct built plans[3] = { { .name = "100 routes" },
					 { .name = "10,000 routes" },
					 { .name = "national" } };
	unsigned np = quick ? 2 : 3;
	if (quick == 2) {
		build_plan(&plans[1], &reg, 10000);
		section_holds(&plans[1], &reg);
		bench_json_close();
		ps_plan_free(plans[1].plan);
		ps_plan_src_free(&plans[1].src);
		ps_regions_free(&reg);
		rte_eal_cleanup();
		return 0;
	}
	build_plan(&plans[0], &reg, 100);
	build_plan(&plans[1], &reg, 10000);
	if (!quick)
		build_plan(&plans[2], &reg, 0);
	section_build(plans, np);
	section_decide(plans, np, &reg);
	section_holds(&plans[1], &reg);
	section_rules(&reg);
	section_publish();
	bench_json_close();
	for (unsigned i = 0; i < np; i++) {
		ps_plan_free(plans[i].plan);
		ps_plan_src_free(&plans[i].src);
	}
	ps_regions_free(&reg);
	rte_eal_cleanup();
	return 0;
}
