/* bench_inputs.c: the inputs the plan micro-benchmarks share: sort plans of
 * a chosen size made from the real region table, and 2^20 pre-decoded
 * scans to real villages with uniform or Zipf destinations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_bench.h"
#include "rng.h"

/* Province trunk routes, then counties, townships and villages until the
 * route count is reached (0 = national: every village its own route). */
struct bench_text bench_plan_text(const struct ps_regions *reg, size_t routes)
{
	struct bench_text t = { 0 };
	bench_tprintf(&t, "plan bench\nsite 3307820 330782\nreject 999\n");
	bench_tprintf(&t, "hub 1 trunk Trunk\nhub 2 county County\n"
			  "hub 3 township Township\nhub 4 village Village\n");
	size_t n = 0;
	uint64_t last = 0;
	for (size_t i = 0; i < reg->n; i++) {       /* provinces */
		uint64_t p = reg->code[i] / 10000000000ull;
		if (p != last)
			bench_tprintf(&t, "route %02llu 1 %llu\n",
				      (unsigned long long)p,
				      (unsigned long long)(1 + p % 50)), n++;
		last = p;
	}
	int national = routes == 0;
	last = 0;
	for (size_t i = 0; i < reg->n && (national || n < routes); i++) {
		uint64_t c = reg->code[i] / 1000000u;       /* counties */
		if (c != last)
			bench_tprintf(&t, "route %06llu 2 %llu,%llu\n",
				      (unsigned long long)c,
				      (unsigned long long)(100 + c % 400),
				      (unsigned long long)(500 + c % 400)), n++;
		last = c;
	}
	last = 0;
	for (size_t i = 0; i < reg->n && (national || n < routes); i++) {
		uint64_t w = reg->code[i] / 1000u;          /* townships */
		if (w != last)
			bench_tprintf(&t, "route %09llu 3 %llu\n",
				      (unsigned long long)w,
				      (unsigned long long)(1000 + w % 4000)), n++;
		last = w;
	}
	for (size_t i = 0; i < reg->n && (national || n < routes); i++) {
		if (reg->code[i] % 1000 == 0)
			continue;
		bench_tprintf(&t, "route %012llu 4 %llu\n",
			      (unsigned long long)reg->code[i],
			      (unsigned long long)(5000 + reg->code[i] % 60000)),
			n++;
	}
	bench_tprintf(&t, "rule 10 1 900 service=cold_chain\n"
			  "rule 20 1 901 weight>=30000\ndefault 1 998\n");
	return t;
}

/* Regions in a random order with Zipf weights: the cumulative weights. */
static void zipf_table(const struct ps_regions *reg, double zipf_s,
		       struct ps_rng *g, double *cdf, uint64_t *order)
{
	memcpy(order, reg->code, reg->n * sizeof(*order));
	for (size_t i = reg->n; i > 1; i--) {
		size_t j = ps_rng_below(g, i);
		uint64_t x = order[i - 1];
		order[i - 1] = order[j];
		order[j] = x;
	}
	double acc = 0;
	for (size_t i = 0; i < reg->n; i++)
		cdf[i] = acc += pow((double)(i + 1), -zipf_s);
	for (size_t i = 0; i < reg->n; i++)
		cdf[i] /= acc;
}

static uint64_t zipf_pick(const struct ps_regions *reg, const double *cdf,
			  const uint64_t *order, struct ps_rng *g)
{
	double u = ps_rng_unit(g);
	size_t lo = 0, hi = reg->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return order[lo];
}

void make_keys(struct keys *k, const struct ps_regions *reg, double zipf_s,
	       uint64_t seed)
{
	struct ps_rng g;
	ps_rng_seed(&g, seed);
	k->s = calloc(NKEYS, sizeof(*k->s));
	k->wb = calloc(NKEYS, 24);
	k->sp = calloc(NKEYS, sizeof(*k->sp));
	double *cdf = NULL;
	uint64_t *order = NULL;
	if (zipf_s > 0) {
		cdf = malloc(reg->n * sizeof(*cdf));
		order = malloc(reg->n * sizeof(*order));
	}
	if (!k->s || !k->wb || !k->sp || (zipf_s > 0 && (!cdf || !order))) {
		fprintf(stderr, "bench: out of memory for the keys\n");
		exit(1);
	}
	if (cdf)
		zipf_table(reg, zipf_s, &g, cdf, order);
	for (uint32_t i = 0; i < NKEYS; i++) {
		uint64_t region = cdf ? zipf_pick(reg, cdf, order, &g)
				      : reg->code[ps_rng_below(&g, reg->n)];
		snprintf((char *)k->wb[i], 24, "JT%013u", i * 2654435761u);
		k->s[i].waybill = k->wb[i];
		k->s[i].region = region;
		k->s[i].scan_type = PS_SCAN_INDUCT;
		k->s[i].weight_g = (uint32_t)ps_rng_below(&g, 40000);
		k->s[i].service = (uint8_t)(ps_rng_below(&g, 50) == 0);
		k->s[i].carrier = 'Z' << 8 | 'T';
		k->sp[i] = &k->s[i];
	}
	free(cdf);
	free(order);
}

void free_keys(struct keys *k)
{
	free(k->s);
	free(k->wb);
	free(k->sp);
}
