/* whatif_bench.c: how fast `plan whatif` replays a capture: the capture
 * decided under two plans with the dataplane's pipeline and tallied
 * (whatif.h), on one core, timed from opening the capture to the finished
 * summary; the plans are compiled before the clock starts. Prints the
 * median, fastest and slowest of --runs runs in records per second.
 *   whatif_bench CURRENT CANDIDATE CAPTURE [--runs N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"
#include "plan_src.h"
#include "whatif.h"

/* The thread's CPU time: the rate on one core, whatever else the
 * machine runs (the wall-clock rate is printed too). */
static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct ps_plan *load(const char *path)
{
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	struct ps_plan *p = ps_plan_parse_file(&src, path, &e) ? NULL
			    : ps_plan_compile(&src, 1, &e);
	if (!p)
		ps_errors_print(&e, stderr);
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	return p;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned runs = 5;
	if (argc == 6 && !strcmp(argv[4], "--runs"))
		runs = (unsigned)atoi(argv[5]);
	if ((argc != 4 && argc != 6) || runs < 1 || runs > 50) {
		fprintf(stderr, "usage: whatif_bench CURRENT CANDIDATE CAPTURE "
			"[--runs N]\n");
		return 2;
	}
	struct ps_plan *cur = load(argv[1]), *cand = load(argv[2]);
	if (!cur || !cand)
		return 1;
	struct wi_opts o = { .plan = { cur, cand },
			     .name = { argv[1], argv[2] } };
	double rate[50], wall[50];
	uint64_t records = 0, changed = 0;
	for (unsigned i = 0; i < runs; i++) {
		struct wi_result r;
		char err[512];
		double t0 = now_s(), c0 = cpu_s();
		if (wi_run(&o, argv[3], &r, err, sizeof(err))) {
			fprintf(stderr, "whatif_bench: %s\n", err);
			return 1;
		}
		double c = cpu_s() - c0, t = now_s() - t0;
		records = r.tally.records;
		changed = r.tally.changed;
		rate[i] = (double)records / c;
		wall[i] = (double)records / t;
		wi_result_free(&r);
	}
	qsort(rate, runs, sizeof(rate[0]), by_value);
	qsort(wall, runs, sizeof(wall[0]), by_value);
	printf("| what-if replay | %llu records, %llu change | %.2f M records "
	       "per CPU second (min %.2f, max %.2f) | %.2f M records/s wall "
	       "clock | %u runs |\n",
	       (unsigned long long)records, (unsigned long long)changed,
	       rate[runs / 2] / 1e6, rate[0] / 1e6, rate[runs - 1] / 1e6,
	       wall[runs / 2] / 1e6, runs);
	ps_plan_free(cur);
	ps_plan_free(cand);
	return 0;
}
