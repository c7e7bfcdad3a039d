/* bench_harness.h: what every micro-benchmark in plan_bench shares: the
 * clock (TSC calibrated against CLOCK_MONOTONIC), the run count and
 * median/min/max over runs, the JSON rows next to the markdown report, a
 * growable text buffer for generated plans, and a sink that keeps the
 * compiler from dropping measured work. */
#ifndef PS_BENCH_HARNESS_H
#define PS_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_RUNS 15

extern unsigned bench_runs;              /* 1..BENCH_MAX_RUNS */
extern double bench_tsc_per_ns;          /* set by bench_calibrate */
extern volatile uint64_t bench_sink;

double bench_now_s(void);
static inline uint64_t bench_tsc(void)
{
	return __builtin_ia32_rdtsc();
}
/* Measure the TSC rate against the monotonic clock (0.2 s). */
void bench_calibrate(void);
/* Nanoseconds per item of n items since TSC value c0. */
double bench_ns_per(uint64_t c0, uint64_t n);

struct bench_stat {
	double med, min, max;
};
/* Sorts v; the median, minimum and maximum of its n values. */
struct bench_stat bench_stats(double *v, unsigned n);
int bench_cmp_double(const void *a, const void *b);

long bench_peak_rss_kb(void);

/* JSON results: an array of rows {"section":S, ...}. Without a file every
 * row is skipped. */
int bench_json_open(const char *path);
void bench_json_close(void);
void bench_json_row(const char *section, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A growable text (plans made for the benchmarks); counts its lines. */
struct bench_text {
	char *buf;
	size_t len, cap;
	size_t lines;
};
void bench_tprintf(struct bench_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
