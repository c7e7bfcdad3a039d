/* bench_harness.c: timing, statistics and JSON output shared by the
 * plan_bench micro-benchmarks (see bench_harness.h). */
#include "bench_harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

unsigned bench_runs = 5;
double bench_tsc_per_ns;
volatile uint64_t bench_sink;

static FILE *json;
static int json_first = 1;

double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_calibrate(void)
{
	double t0 = bench_now_s();
	uint64_t c0 = bench_tsc();
	while (bench_now_s() - t0 < 0.2)
		;
	bench_tsc_per_ns = (double)(bench_tsc() - c0) /
			   ((bench_now_s() - t0) * 1e9);
}

double bench_ns_per(uint64_t c0, uint64_t n)
{
	return (double)(bench_tsc() - c0) / bench_tsc_per_ns / (double)n;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct bench_stat bench_stats(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return (struct bench_stat){ v[n / 2], v[0], v[n - 1] };
}

long bench_peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int bench_json_open(const char *path)
{
	if (!(json = fopen(path, "w"))) {
		perror(path);
		return -1;
	}
	fprintf(json, "[");
	return 0;
}

void bench_json_close(void)
{
	if (!json)
		return;
	fprintf(json, "\n]\n");
	fclose(json);
	json = NULL;
}

void bench_json_row(const char *section, const char *fmt, ...)
{
	va_list ap;
	if (!json)
		return;
	fprintf(json, "%s\n  {\"section\":\"%s\",", json_first ? "" : ",",
		section);
	json_first = 0;
	va_start(ap, fmt);
	vfprintf(json, fmt, ap);
	va_end(ap);
	fputc('}', json);
}

void bench_tprintf(struct bench_text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->cap - t->len < 256) {
		t->cap = t->cap ? t->cap * 2 : 1 << 20;
		t->buf = realloc(t->buf, t->cap);
		if (!t->buf) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
	}
	va_start(ap, fmt);
	t->len += (size_t)vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->lines++;
}
