/* whatif_bench.c: how fast `plan whatif` replays a capture: the capture
 * decided under two plans and tallied (whatif.h), on one core, timed from
 * opening the capture to the finished summary; the plans are compiled
 * before the clock starts. Prints the median, fastest and slowest of
 * --runs runs in records per second, and a digest of the tally (records by
 * reason under each plan, changes, groups, chutes) so that two builds or
 * the two paths can be compared. --reference times the tests' reference
 * path instead (two dataplane pipelines, wi_engine.h).
 *   whatif_bench CURRENT CANDIDATE CAPTURE [--runs N] [--reference] */
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

/* Every count of the report, folded into one number. */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xbf58476d1ce4e5b9ull;
}

static uint64_t tally_digest(const struct wi_result *r)
{
	const struct wi_tally *t = &r->tally;
	uint64_t h = mix(0, t->records);
	h = mix(h, t->changed);
	h = mix(h, t->become_no_route);
	h = mix(h, t->become_unavailable);
	h = mix(h, r->scan_datagrams);
	h = mix(h, r->sorter_datagrams);
	h = mix(h, r->dropped);
	h = mix(h, r->frames);
	h = mix(h, r->cut);
	h = mix(h, r->first_ms);
	h = mix(h, r->last_ms);
	h = mix(h, t->windows_left_out);
	for (int k = 0; k < 2; k++)
		for (unsigned i = 0; i < PS_REASON_COUNT; i++)
			h = mix(h, t->by_reason[k][i]);
	for (size_t i = 0; i < r->sum.n_groups; i++) {
		const struct wi_group *g = &r->sum.groups[i];
		h = mix(h, (uint64_t)g->hub[0] << 16 | g->chute[0]);
		h = mix(h, (uint64_t)g->hub[1] << 16 | g->chute[1]);
		h = mix(h, g->records);
	}
	for (size_t i = 0; i < r->sum.n_chutes; i++) {
		const struct wi_chute *c = &r->sum.chutes[i];
		h = mix(h, c->chute);
		for (int k = 0; k < 2; k++) {
			h = mix(h, c->records[k]);
			h = mix(h, c->peak[k]);
		}
	}
	return h;
}

int main(int argc, char **argv)
{
	unsigned runs = 5;
	int reference = 0, bad = argc < 4;
	for (int a = 4; a < argc && !bad; a++) {
		if (!strcmp(argv[a], "--runs") && a + 1 < argc)
			runs = (unsigned)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--reference"))
			reference = 1;
		else
			bad = 1;
	}
	if (bad || runs < 1 || runs > 50) {
		fprintf(stderr, "usage: whatif_bench CURRENT CANDIDATE CAPTURE "
			"[--runs N] [--reference]\n");
		return 2;
	}
	struct ps_plan *cur = load(argv[1]), *cand = load(argv[2]);
	if (!cur || !cand)
		return 1;
	struct wi_opts o = { .plan = { cur, cand },
			     .name = { argv[1], argv[2] },
			     .reference = reference };
	double rate[50], wall[50];
	uint64_t records = 0, changed = 0, digest = 0;
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
		digest = tally_digest(&r);
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
	printf("tally digest %016llx (%s)\n", (unsigned long long)digest,
	       reference ? "two pipelines" : "one pass");
	ps_plan_free(cur);
	ps_plan_free(cand);
	return 0;
}
