/* bench_build.c: parse and compile time, text size and structure memory of
 * sort plans of 100, 10,000 routes and national size. */
#include <stdio.h>
#include <stdlib.h>

#include "plan_bench.h"

void build_plan(struct built *b, const struct ps_regions *reg, size_t routes)
{
	struct bench_text t = bench_plan_text(reg, routes);
	double pm[BENCH_MAX_RUNS], cm[BENCH_MAX_RUNS];
	b->lines = t.lines;
	b->bytes = t.len;
	for (unsigned r = 0; r < bench_runs; r++) {
		struct ps_errors e;
		ps_errors_init(&e);
		if (r)
			ps_plan_src_free(&b->src);
		ps_plan_src_init(&b->src);
		double t0 = bench_now_s();
		if (ps_plan_parse(&b->src, t.buf, t.len, b->name, &e)) {
			ps_errors_print(&e, stderr);
			exit(1);
		}
		double t1 = bench_now_s();
		if (b->plan)
			ps_plan_free(b->plan);
		b->plan = ps_plan_compile(&b->src, 1, &e);
		double t2 = bench_now_s();
		if (!b->plan) {
			ps_errors_print(&e, stderr);
			exit(1);
		}
		pm[r] = (t1 - t0) * 1e3;
		cm[r] = (t2 - t1) * 1e3;
		ps_errors_free(&e);
	}
	b->parse_ms = bench_stats(pm, bench_runs).med;
	b->compile_ms = bench_stats(cm, bench_runs).med;
	free(t.buf);
}

void section_build(struct built *plans, unsigned n)
{
	printf("\n## Parse and compile (median of %u)\n\n", bench_runs);
	printf("| plan | lines | text MB | parse ms | compile ms | total ms | "
	       "structure MB |\n|---|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < n; i++) {
		struct built *b = &plans[i];
		printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
		       b->name, b->lines, b->bytes / 1e6, b->parse_ms,
		       b->compile_ms, b->parse_ms + b->compile_ms,
		       b->plan->bytes / 1048576.0);
		bench_json_row("build", "\"plan\":\"%s\",\"lines\":%zu,"
			       "\"parse_ms\":%.2f,\"compile_ms\":%.2f,"
			       "\"structure_bytes\":%zu", b->name, b->lines,
			       b->parse_ms, b->compile_ms, b->plan->bytes);
	}
	printf("\nPeak resident memory of the benchmark so far: %.0f MB\n",
	       bench_peak_rss_kb() / 1024.0);
}
