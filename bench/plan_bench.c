/* plan_bench.c: micro-benchmarks of the sort plan library, side by side in
 * one run: parse and compile time and memory for plans of 100, 10,000 and
 * national size; decision cost per record (single and burst, uniform and
 * Zipf keys); the route table against DPDK's rte_lpm6 and rte_fib6 on the
 * same prefixes (regions as BCD nibbles); the rule index against a linear
 * scan for 1 to 1000 rules; publish-to-visible latency of RCU swaps.
 * Prints a markdown report and writes JSON (--json FILE). */
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_memory.h>
#include <rte_fib6.h>
#include <rte_lpm6.h>

#include "plan.h"
#include "plan_rules.h"
#include "plan_reader.h"
#include "plan_store.h"
#include "regions.h"
#include "rng.h"

#define NKEYS (1u << 20)
#define BURST 32

static unsigned runs = 5;
static FILE *json;
static int json_first = 1;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t tsc(void)
{
	return __builtin_ia32_rdtsc();
}

static double tsc_per_ns;

static void calibrate(void)
{
	double t0 = now_s();
	uint64_t c0 = tsc();
	while (now_s() - t0 < 0.2)
		;
	tsc_per_ns = (double)(tsc() - c0) / ((now_s() - t0) * 1e9);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct stat3 {
	double med, min, max;
};

static struct stat3 stats(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return (struct stat3){ v[n / 2], v[0], v[n - 1] };
}

static void json_row(const char *section, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void json_row(const char *section, const char *fmt, ...)
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

/* ------------------------------------------------------------ plans */

struct text {
	char *buf;
	size_t len, cap;
	size_t lines;
};

static void tprintf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->cap - t->len < 256) {
		t->cap = t->cap ? t->cap * 2 : 1 << 20;
		t->buf = realloc(t->buf, t->cap);
	}
	va_start(ap, fmt);
	t->len += (size_t)vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->lines++;
}

/* Plans made from the real region table: province trunk routes, then
 * counties, townships and villages until the route count is reached
 * (0 = national: every village its own route). */
static struct text make_plan(const struct ps_regions *reg, size_t routes)
{
	struct text t = { 0 };
	tprintf(&t, "plan bench\nsite 3307820 330782\nreject 999\n");
	tprintf(&t, "hub 1 trunk Trunk\nhub 2 county County\n"
		    "hub 3 township Township\nhub 4 village Village\n");
	size_t n = 0;
	uint64_t last = 0;
	for (size_t i = 0; i < reg->n; i++) {       /* provinces */
		uint64_t p = reg->code[i] / 10000000000ull;
		if (p != last)
			tprintf(&t, "route %02llu 1 %llu\n",
				(unsigned long long)p,
				(unsigned long long)(1 + p % 50)), n++;
		last = p;
	}
	int national = routes == 0;
	last = 0;
	for (size_t i = 0; i < reg->n && (national || n < routes); i++) {
		uint64_t c = reg->code[i] / 1000000u;       /* counties */
		if (c != last)
			tprintf(&t, "route %06llu 2 %llu,%llu\n",
				(unsigned long long)c,
				(unsigned long long)(100 + c % 400),
				(unsigned long long)(500 + c % 400)), n++;
		last = c;
	}
	last = 0;
	for (size_t i = 0; i < reg->n && (national || n < routes); i++) {
		uint64_t w = reg->code[i] / 1000u;          /* townships */
		if (w != last)
			tprintf(&t, "route %09llu 3 %llu\n",
				(unsigned long long)w,
				(unsigned long long)(1000 + w % 4000)), n++;
		last = w;
	}
	for (size_t i = 0; i < reg->n && (national || n < routes); i++) {
		if (reg->code[i] % 1000 == 0)
			continue;
		tprintf(&t, "route %012llu 4 %llu\n",
			(unsigned long long)reg->code[i],
			(unsigned long long)(5000 + reg->code[i] % 60000)), n++;
	}
	tprintf(&t, "rule 10 1 900 service=cold_chain\n"
		    "rule 20 1 901 weight>=30000\ndefault 1 998\n");
	return t;
}

static long peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

struct built {
	const char *name;
	struct ps_plan_src src;
	struct ps_plan *plan;
	size_t lines, bytes;
	double parse_ms, compile_ms;
};

static void build(struct built *b, const struct ps_regions *reg,
		  size_t routes)
{
	struct text t = make_plan(reg, routes);
	double pm[16], cm[16];
	b->lines = t.lines;
	b->bytes = t.len;
	for (unsigned r = 0; r < runs; r++) {
		struct ps_errors e;
		ps_errors_init(&e);
		if (r)
			ps_plan_src_free(&b->src);
		ps_plan_src_init(&b->src);
		double t0 = now_s();
		if (ps_plan_parse(&b->src, t.buf, t.len, b->name, &e)) {
			ps_errors_print(&e, stderr);
			exit(1);
		}
		double t1 = now_s();
		if (b->plan)
			ps_plan_free(b->plan);
		b->plan = ps_plan_compile(&b->src, 1, &e);
		double t2 = now_s();
		if (!b->plan) {
			ps_errors_print(&e, stderr);
			exit(1);
		}
		pm[r] = (t1 - t0) * 1e3;
		cm[r] = (t2 - t1) * 1e3;
		ps_errors_free(&e);
	}
	b->parse_ms = stats(pm, runs).med;
	b->compile_ms = stats(cm, runs).med;
	free(t.buf);
}

/* ------------------------------------------------------------- keys */

struct keys {
	struct ps_scan *s;
	uint8_t (*wb)[24];
	const struct ps_scan **sp;
};

static void make_keys(struct keys *k, const struct ps_regions *reg,
		      double zipf_s, uint64_t seed)
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
		memcpy(order, reg->code, reg->n * sizeof(*order));
		for (size_t i = reg->n; i > 1; i--) {
			size_t j = ps_rng_below(&g, i);
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
	for (uint32_t i = 0; i < NKEYS; i++) {
		uint64_t region;
		if (cdf) {
			double u = ps_rng_unit(&g);
			size_t lo = 0, hi = reg->n - 1;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (cdf[mid] > u)
					hi = mid;
				else
					lo = mid + 1;
			}
			region = order[lo];
		} else {
			region = reg->code[ps_rng_below(&g, reg->n)];
		}
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

static void free_keys(struct keys *k)
{
	free(k->s);
	free(k->wb);
	free(k->sp);
}

static volatile uint64_t sink;

/* ns per record deciding all keys one by one or in bursts. */
static double run_decide(const struct ps_plan *p,
			 const struct ps_chute_state *cs,
			 const struct keys *k, int burst)
{
	static struct ps_decision d[BURST], *dp[BURST];
	for (int i = 0; i < BURST; i++)
		dp[i] = &d[i];
	uint64_t c0 = tsc(), acc = 0;
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
	sink = acc;
	return (double)(tsc() - c0) / tsc_per_ns / NKEYS;
}

static double run_lpm(const struct ps_plan *p, const struct keys *k)
{
	uint64_t c0 = tsc(), acc = 0;
	for (uint32_t i = 0; i < NKEYS; i++)
		acc += ps_plan_lpm(p, k->s[i].region);
	sink = acc;
	return (double)(tsc() - c0) / tsc_per_ns / NKEYS;
}

/* ------------------------------------------------------- DPDK LPM6/FIB6 */

static void region_to_ip6(uint64_t v, unsigned digits, uint8_t ip[16])
{
	memset(ip, 0, 16);
	uint64_t pad = ps_region_pad(v, digits);
	for (int d = 11; d >= 0; d--) {
		unsigned nib = (unsigned)(pad % 10);
		pad /= 10;
		ip[d / 2] |= (uint8_t)(d & 1 ? nib : nib << 4);
	}
}

struct dpdk_tables {
	struct rte_lpm6 *lpm6;
	struct rte_fib6 *fib6;
	uint8_t (*ip)[16];
	size_t bytes_note;
};

static int build_dpdk(struct dpdk_tables *t, const struct built *b,
		      const struct keys *k)
{
	const struct ps_plan_src *s = &b->src;
	struct rte_lpm6_config lc = { .max_rules = (uint32_t)s->n_routes + 16,
				      .number_tbl8s = 1u << 17 };
	struct rte_fib6_conf fc = { .type = RTE_FIB6_TRIE, .default_nh = 0,
				    .max_routes = (int)s->n_routes + 16,
				    .trie = { .nh_sz = RTE_FIB6_TRIE_4B,
					      .num_tbl8 = 1u << 17 } };
	char name[64];
	static int seq;
	snprintf(name, sizeof(name), "lpm6_%d", seq);
	t->lpm6 = rte_lpm6_create(name, SOCKET_ID_ANY, &lc);
	snprintf(name, sizeof(name), "fib6_%d", seq++);
	t->fib6 = rte_fib6_create(name, SOCKET_ID_ANY, &fc);
	for (size_t i = 0; i < s->n_routes; i++) {
		uint8_t ip[16];
		const struct ps_route_src *r = &s->routes[i];
		region_to_ip6(r->prefix, r->digits, ip);
		if (t->lpm6 && rte_lpm6_add(t->lpm6, ip, (uint8_t)(4 * r->digits),
					    (uint32_t)(i + 1) & 0x1fffff)) {
			rte_lpm6_free(t->lpm6);
			t->lpm6 = NULL;
		}
		if (t->fib6 && rte_fib6_add(t->fib6, ip, (uint8_t)(4 * r->digits),
					    i + 1)) {
			rte_fib6_free(t->fib6);
			t->fib6 = NULL;
		}
	}
	t->ip = malloc((size_t)NKEYS * 16);
	for (uint32_t i = 0; i < NKEYS; i++)
		region_to_ip6(k->s[i].region, 12, t->ip[i]);
	return 0;
}

static double run_lpm6(struct dpdk_tables *t)
{
	int32_t nh[BURST];
	uint64_t c0 = tsc(), acc = 0;
	for (uint32_t i = 0; i < NKEYS; i += BURST) {
		rte_lpm6_lookup_bulk_func(t->lpm6, t->ip + i, nh, BURST);
		acc += (uint64_t)nh[0];
	}
	sink = acc;
	return (double)(tsc() - c0) / tsc_per_ns / NKEYS;
}

static double run_fib6(struct dpdk_tables *t)
{
	uint64_t nh[BURST];
	uint64_t c0 = tsc(), acc = 0;
	for (uint32_t i = 0; i < NKEYS; i += BURST) {
		rte_fib6_lookup_bulk(t->fib6, t->ip + i, nh, BURST);
		acc += nh[0];
	}
	sink = acc;
	return (double)(tsc() - c0) / tsc_per_ns / NKEYS;
}

static void free_dpdk(struct dpdk_tables *t)
{
	rte_lpm6_free(t->lpm6);
	rte_fib6_free(t->fib6);
	free(t->ip);
}

/* ------------------------------------------------------------ sections */

static void section_build(struct built *plans, unsigned n)
{
	printf("\n## Parse and compile (median of %u)\n\n", runs);
	printf("| plan | lines | text MB | parse ms | compile ms | total ms | "
	       "structure MB |\n|---|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < n; i++) {
		struct built *b = &plans[i];
		printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
		       b->name, b->lines, b->bytes / 1e6, b->parse_ms,
		       b->compile_ms, b->parse_ms + b->compile_ms,
		       b->plan->bytes / 1048576.0);
		json_row("build", "\"plan\":\"%s\",\"lines\":%zu,\"parse_ms\":%.2f,"
			 "\"compile_ms\":%.2f,\"structure_bytes\":%zu", b->name,
			 b->lines, b->parse_ms, b->compile_ms, b->plan->bytes);
	}
	printf("\nPeak resident memory of the benchmark so far: %.0f MB\n",
	       peak_rss_kb() / 1024.0);
}

static void row(const char *plan, const char *keys, const char *what,
		double *v)
{
	struct stat3 s = stats(v, runs);
	printf("| %s | %s | %s | %.1f | %.1f | %.1f | %.0f | %.1f |\n", plan,
	       keys, what, s.med, s.min, s.max, s.med * tsc_per_ns,
	       1e3 / s.med);
	json_row("decide", "\"plan\":\"%s\",\"keys\":\"%s\",\"what\":\"%s\","
		 "\"ns_median\":%.2f,\"ns_min\":%.2f,\"ns_max\":%.2f,"
		 "\"cycles\":%.1f,\"mrec_s\":%.2f", plan, keys, what, s.med,
		 s.min, s.max, s.med * tsc_per_ns, 1e3 / s.med);
}

static void section_decide(struct built *plans, unsigned n,
			   const struct ps_regions *reg)
{
	struct ps_chute_state cs;
	ps_chutes_init(&cs);
	printf("\n## Decisions per record (%u keys, median of %u runs)\n\n",
	       NKEYS, runs);
	printf("| plan | keys | what | ns median | min | max | cycles | "
	       "M rec/s |\n|---|---|---|---:|---:|---:|---:|---:|\n");
	static const struct { const char *name; double s; } kk[] = {
		{ "uniform", 0 }, { "zipf-1.0", 1.0 } };
	for (unsigned ki = 0; ki < 2; ki++) {
		struct keys k;
		make_keys(&k, reg, kk[ki].s, 99 + ki);
		for (unsigned i = 0; i < n; i++) {
			const struct ps_plan *p = plans[i].plan;
			double v[16];
			for (unsigned r = 0; r < runs; r++)
				v[r] = run_decide(p, &cs, &k, 0);
			row(plans[i].name, kk[ki].name, "decide single", v);
			for (unsigned r = 0; r < runs; r++)
				v[r] = run_decide(p, &cs, &k, 1);
			row(plans[i].name, kk[ki].name, "decide burst 32", v);
			for (unsigned r = 0; r < runs; r++)
				v[r] = run_lpm(p, &k);
			row(plans[i].name, kk[ki].name, "LPM only: parcelsort DIR 6-3-3", v);
			struct dpdk_tables t = { 0 };
			build_dpdk(&t, &plans[i], &k);
			if (t.lpm6) {
				for (unsigned r = 0; r < runs; r++)
					v[r] = run_lpm6(&t);
				row(plans[i].name, kk[ki].name,
				    "LPM only: rte_lpm6 bulk 32", v);
			} else {
				printf("| %s | %s | rte_lpm6 | could not be built "
				       "| | | | |\n", plans[i].name, kk[ki].name);
			}
			if (t.fib6) {
				for (unsigned r = 0; r < runs; r++)
					v[r] = run_fib6(&t);
				row(plans[i].name, kk[ki].name,
				    "LPM only: rte_fib6 trie bulk 32", v);
			} else {
				printf("| %s | %s | rte_fib6 | could not be built "
				       "| | | | |\n", plans[i].name, kk[ki].name);
			}
			free_dpdk(&t);
		}
		free_keys(&k);
	}
}

/* A plan with n random rules and one route, for the rule comparison. */
static struct ps_plan *rules_plan(unsigned n, struct ps_plan_src *src)
{
	struct text t = { 0 };
	struct ps_rng g;
	ps_rng_seed(&g, n);
	tprintf(&t, "plan r\nsite 1 33\nreject 9\nhub 1 trunk T\nroute 33 1 5\n");
	static const char *carriers[] = { "SF", "ZT", "YT", "ST", "YD", "JD" };
	for (unsigned i = 0; i < n; i++) {
		/* realistic overrides: a carrier lane, a device, heavy or
		 * bulky parcels, a cold-chain area; never matching much */
		switch (ps_rng_below(&g, 4)) {
		case 0:
			tprintf(&t, "rule %u 1 %u carrier=%s prefix=%llu\n", i,
				10 + i, carriers[ps_rng_below(&g, 6)],
				(unsigned long long)(1100 + ps_rng_below(&g, 8800)));
			break;
		case 1:
			tprintf(&t, "rule %u 1 %u device=%llu weight>=%llu\n", i,
				10 + i, (unsigned long long)(100 + i),
				(unsigned long long)(1000 * ps_rng_below(&g, 50)));
			break;
		case 2:
			tprintf(&t, "rule %u 1 %u size>=%llu service=bulky\n", i,
				10 + i,
				(unsigned long long)(800 + ps_rng_below(&g, 400)));
			break;
		default:
			tprintf(&t, "rule %u 1 %u service=cold_chain prefix=%llu\n",
				i, 10 + i,
				(unsigned long long)(110000 + ps_rng_below(&g, 880000)));
		}
	}
	struct ps_errors e;
	ps_errors_init(&e);
	ps_plan_src_init(src);
	if (ps_plan_parse(src, t.buf, t.len, "rules", &e)) {
		ps_errors_print(&e, stderr);
		exit(1);
	}
	free(t.buf);
	struct ps_plan *p = ps_plan_compile(src, 1, &e);
	ps_errors_free(&e);
	return p;
}

/* The obvious alternative: test each rule's conditions in priority order. */
static int linear_first(const struct ps_plan_src *src, const uint32_t *order,
			const struct ps_scan *s)
{
	for (size_t i = 0; i < src->n_rules; i++) {
		const struct ps_rule_src *r = &src->rules[order[i]];
		int all = 1;
		for (uint16_t k = 0; k < r->n_conds && all; k++) {
			const struct ps_cond *c = &src->conds[r->cond_off + k];
			unsigned sz = s->length_mm > s->width_mm ? s->length_mm
								 : s->width_mm;
			uint64_t lo, span;
			switch (c->kind) {
			case PS_COND_SERVICE: all = (s->service & c->value) != 0; break;
			case PS_COND_CARRIER: all = s->carrier == c->value; break;
			case PS_COND_WEIGHT_GE: all = s->weight_g >= c->value; break;
			case PS_COND_WEIGHT_LT: all = s->weight_g < c->value; break;
			case PS_COND_SIZE_GE:
				all = (s->height_mm > sz ? s->height_mm : sz) >= c->value;
				break;
			case PS_COND_PREFIX:
				lo = ps_region_pad(c->value, c->digits);
				span = ps_region_pad(1, c->digits);
				all = s->region - lo < span;
				break;
			case PS_COND_DEVICE: all = s->device == c->value; break;
			}
		}
		if (all)
			return (int)i;
	}
	return -1;
}

/* ------------------------------------------- the same rules in rte_acl */

struct acl_key {
	uint8_t svc;
	uint8_t pad[3];
	uint16_t carrier;        /* network order, as rte_acl reads input */
	uint16_t device;
	uint32_t weight;
	uint32_t town;           /* region / 1000 */
	uint16_t size;
	uint16_t village;        /* region % 1000 */
};

enum { F_SVC, F_CAR, F_DEV, F_W, F_TOWN, F_SIZE, F_VILL, F_N };

static const struct rte_acl_field_def acl_fields[F_N] = {
	{ RTE_ACL_FIELD_TYPE_BITMASK, 1, F_SVC, 0, offsetof(struct acl_key, svc) },
	{ RTE_ACL_FIELD_TYPE_MASK, 2, F_CAR, 1, offsetof(struct acl_key, carrier) },
	{ RTE_ACL_FIELD_TYPE_MASK, 2, F_DEV, 1, offsetof(struct acl_key, device) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 4, F_W, 2, offsetof(struct acl_key, weight) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 4, F_TOWN, 3, offsetof(struct acl_key, town) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 2, F_SIZE, 4, offsetof(struct acl_key, size) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 2, F_VILL, 4, offsetof(struct acl_key, village) },
};

RTE_ACL_RULE_DEF(acl_rule, F_N);

/* One ACL rule per plan rule (contradictory rules are left out). */
static struct rte_acl_ctx *acl_build(const struct ps_plan_src *src,
				     const uint32_t *order)
{
	static int seq;
	char name[32];
	snprintf(name, sizeof(name), "rules%d", seq++);
	struct rte_acl_param prm = { name, SOCKET_ID_ANY,
				     RTE_ACL_RULE_SZ(F_N),
				     (uint32_t)src->n_rules + 1 };
	struct rte_acl_ctx *ctx = rte_acl_create(&prm);
	if (!ctx)
		return NULL;
	for (uint32_t i = 0; i < src->n_rules; i++) {
		const struct ps_rule_src *r = &src->rules[order[i]];
		struct acl_rule a;
		memset(&a, 0, sizeof(a));
		uint64_t wlo = 0, whi = 0xffffffffull, slo = 0, rlo = 0,
			 rhi = PS_REGION_MAX + 1;
		int car = -1, dev = -1, impossible = 0;
		uint8_t svc = 0;
		for (uint16_t k = 0; k < r->n_conds; k++) {
			const struct ps_cond *c = &src->conds[r->cond_off + k];
			uint64_t lo, hi;
			switch (c->kind) {
			case PS_COND_SERVICE: svc |= (uint8_t)c->value; break;
			case PS_COND_CARRIER:
				impossible |= car >= 0 && car != (int)c->value;
				car = (int)c->value;
				break;
			case PS_COND_DEVICE:
				impossible |= dev >= 0 && dev != (int)c->value;
				dev = (int)c->value;
				break;
			case PS_COND_WEIGHT_GE: wlo = c->value > wlo ? c->value : wlo; break;
			case PS_COND_WEIGHT_LT:
				whi = c->value ? (c->value - 1 < whi ? c->value - 1 : whi) : 0;
				impossible |= c->value == 0;
				break;
			case PS_COND_SIZE_GE: slo = c->value > slo ? c->value : slo; break;
			case PS_COND_PREFIX:
				lo = ps_region_pad(c->value, c->digits);
				hi = lo + ps_region_pad(1, c->digits);
				rlo = lo > rlo ? lo : rlo;
				rhi = hi < rhi ? hi : rhi;
				break;
			}
		}
		if (impossible || wlo > whi || rlo >= rhi)
			continue;
		a.data.category_mask = 1;
		a.data.priority = (int32_t)(65536 - r->priority);
		a.data.userdata = i + 1;
		a.field[F_SVC].value.u8 = svc;
		a.field[F_SVC].mask_range.u8 = svc;
		a.field[F_CAR].value.u16 = car >= 0 ? (uint16_t)car : 0;
		a.field[F_CAR].mask_range.u16 = car >= 0 ? 16 : 0;
		a.field[F_DEV].value.u16 = dev >= 0 ? (uint16_t)dev : 0;
		a.field[F_DEV].mask_range.u16 = dev >= 0 ? 16 : 0;
		a.field[F_W].value.u32 = (uint32_t)wlo;
		a.field[F_W].mask_range.u32 = (uint32_t)whi;
		a.field[F_SIZE].value.u16 = (uint16_t)slo;
		a.field[F_SIZE].mask_range.u16 = 65535;
		/* a decimal prefix of 2-9 digits is a range of townships; of
		 * 12 digits one township and one village */
		uint64_t last = rhi - 1;
		a.field[F_TOWN].value.u32 = (uint32_t)(rlo / 1000);
		a.field[F_TOWN].mask_range.u32 = (uint32_t)(last / 1000);
		a.field[F_VILL].value.u16 = (uint16_t)(rlo / 1000 == last / 1000
						       ? rlo % 1000 : 0);
		a.field[F_VILL].mask_range.u16 = (uint16_t)(rlo / 1000 == last / 1000
							    ? last % 1000 : 999);
		if (rte_acl_add_rules(ctx, (struct rte_acl_rule *)&a, 1)) {
			rte_acl_free(ctx);
			return NULL;
		}
	}
	struct rte_acl_config cfg = { .num_categories = 1,
				      .num_fields = F_N };
	memcpy(cfg.defs, acl_fields, sizeof(acl_fields));
	if (rte_acl_build(ctx, &cfg)) {
		rte_acl_free(ctx);
		return NULL;
	}
	return ctx;
}

static inline void acl_key_of(const struct ps_scan *s, struct acl_key *k)
{
	uint16_t size = s->length_mm > s->width_mm ? s->length_mm : s->width_mm;
	if (s->height_mm > size)
		size = s->height_mm;
	k->svc = s->service;
	k->carrier = htons(s->carrier);
	k->device = htons(s->device);
	k->weight = htonl(s->weight_g);
	uint64_t town = s->region / 1000;
	k->town = htonl((uint32_t)town);
	k->village = htons((uint16_t)(s->region - town * 1000));
	k->size = htons(size);
}

/* First matching rule per record through rte_acl (its index in priority
 * order, or -1), keys built per burst as a real caller must. */
static double run_acl(struct rte_acl_ctx *ctx, const struct ps_scan *s,
		      uint32_t n, int *out_first, uint32_t n_out)
{
	struct acl_key keys[BURST];
	const uint8_t *ptr[BURST];
	uint32_t res[BURST];
	uint64_t c0 = tsc(), acc = 0;
	for (uint32_t i = 0; i < n; i += BURST) {
		for (int k = 0; k < BURST; k++) {
			acl_key_of(&s[i + k], &keys[k]);
			ptr[k] = (const uint8_t *)&keys[k];
		}
		rte_acl_classify(ctx, ptr, res, BURST, 1);
		for (int k = 0; k < BURST; k++) {
			acc += res[k];
			if (i + k < n_out)
				out_first[i + k] = (int)res[k] - 1;
		}
	}
	sink = acc;
	return (double)(tsc() - c0) / tsc_per_ns / n;
}

static const struct ps_plan_src *sort_src;
static int by_prio(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return sort_src->rules[*x].priority - sort_src->rules[*y].priority;
}

static void section_rules(const struct ps_regions *reg)
{
	static const unsigned counts[] = { 1, 10, 100, 1000 };
	struct keys k;
	make_keys(&k, reg, 1.0, 7);
	struct ps_rng g;
	ps_rng_seed(&g, 5);
	for (uint32_t i = 0; i < NKEYS; i++) {
		k.s[i].device = (uint16_t)ps_rng_below(&g, 1200);
		k.s[i].length_mm = (uint16_t)ps_rng_below(&g, 1300);
		k.s[i].service = (uint8_t)ps_rng_below(&g, 128);
		k.s[i].carrier = ps_rng_below(&g, 2) ? ('S' << 8 | 'F')
						     : ('Y' << 8 | 'D');
	}
	printf("\n## Override rules: first match (median of %u runs)\n\n", runs);
	printf("| rules | bitset index ns | rte_acl ns | linear scan ns | "
	       "rte_acl / bitset | linear / bitset | index KB |\n"
	       "|---:|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned ci = 0; ci < 4; ci++) {
		struct ps_plan_src src;
		struct ps_plan *p = rules_plan(counts[ci], &src);
		uint32_t *order = malloc(src.n_rules * sizeof(*order));
		for (uint32_t i = 0; i < src.n_rules; i++)
			order[i] = i;
		sort_src = &src;
		qsort(order, src.n_rules, sizeof(*order), by_prio);
		double vb[16], vl[16], va[16];
		uint32_t lim = counts[ci] >= 1000 ? NKEYS / 8 : NKEYS;
		struct rte_acl_ctx *acl = acl_build(&src, order);
		static int acl_first[10000];
		for (unsigned r = 0; r < runs; r++) {
			uint64_t c0 = tsc(), acc = 0;
			for (uint32_t i = 0; i < lim; i++)
				acc += (uint64_t)ps_rules_first(&p->rules, &k.s[i]);
			vb[r] = (double)(tsc() - c0) / tsc_per_ns / lim;
			c0 = tsc();
			for (uint32_t i = 0; i < lim; i++)
				acc += (uint64_t)linear_first(&src, order, &k.s[i]);
			vl[r] = (double)(tsc() - c0) / tsc_per_ns / lim;
			sink = acc;
			va[r] = acl ? run_acl(acl, k.s, lim, acl_first, 10000) : 0;
		}
		/* all three must agree */
		for (uint32_t i = 0; i < 10000; i++) {
			int bi = ps_rules_first(&p->rules, &k.s[i]);
			if (bi != linear_first(&src, order, &k.s[i]) ||
			    (acl && bi != acl_first[i])) {
				fprintf(stderr, "rule matchers disagree on key %u: "
					"bitset %d linear %d acl %d\n", i, bi,
					linear_first(&src, order, &k.s[i]),
					acl_first[i]);
				exit(1);
			}
		}
		struct stat3 b = stats(vb, runs), l = stats(vl, runs),
			     ac = stats(va, runs);
		printf("| %u | %.1f | %.1f | %.1f | %.1fx | %.1fx | %.0f |\n",
		       counts[ci], b.med, ac.med, l.med, ac.med / b.med,
		       l.med / b.med, p->rules.bytes / 1024.0);
		json_row("rules", "\"rules\":%u,\"bitset_ns\":%.2f,\"acl_ns\":%.2f,"
			 "\"linear_ns\":%.2f,\"index_bytes\":%zu", counts[ci],
			 b.med, ac.med, l.med, p->rules.bytes);
		rte_acl_free(acl);
		free(order);
		ps_plan_free(p);
		ps_plan_src_free(&src);
	}
	free_keys(&k);
}

/* ------------------------------------------------ publish to visible */

struct watcher {
	struct ps_store *s;
	volatile int stop;
	double lat_us[4096];
	unsigned n;
};

static void *watch(void *arg)
{
	struct watcher *w = arg;
	uint32_t last = 0;
	rcu_register_thread();
	while (!w->stop) {
		struct ps_plan *p = ps_store_plan_rcu(ps_store_dataplane_slot(w->s));
		if (p && p->version != last) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u +
				      (uint64_t)ts.tv_nsec;
			if (last && w->n < 4096)
				w->lat_us[w->n++] = (double)(ns - p->published_ns) / 1e3;
			last = p->version;
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static void section_publish(void)
{
	char dir[] = "/tmp/ps-bench-XXXXXX";
	if (!mkdtemp(dir))
		return;
	struct ps_store_cfg cfg = { .state_dir = dir, .no_fsync = 1 };
	struct ps_errors e;
	ps_errors_init(&e);
	struct ps_store *s = ps_store_open(&cfg, &e, NULL, 0);
	static struct watcher w;
	w.s = s;
	pthread_t t;
	pthread_create(&t, NULL, watch, &w);
	const char *plan = "plan p\nsite 1 33\nreject 9\nhub 1 trunk T\n"
			   "route 33 1 5\n";
	for (int i = 0; i < 501; i++) {
		uint32_t v;
		ps_store_load_text(s, plan, strlen(plan), "p", 0, &e, &v);
		usleep(1000);
	}
	w.stop = 1;
	pthread_join(t, NULL);
	ps_store_close(s);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	qsort(w.lat_us, w.n, sizeof(double), cmp_d);
	if (!w.n)
		return;
	double p50 = w.lat_us[w.n / 2], p99 = w.lat_us[w.n * 99 / 100],
	       mx = w.lat_us[w.n - 1];
	printf("\n## Publish to visible (RCU pointer exchange to a polling "
	       "reader on the other core)\n\n");
	printf("| publishes | p50 us | p99 us | max us |\n|---:|---:|---:|---:|\n");
	printf("| %u | %.1f | %.1f | %.1f |\n", w.n, p50, p99, mx);
	json_row("publish", "\"n\":%u,\"p50_us\":%.2f,\"p99_us\":%.2f,"
		 "\"max_us\":%.2f", w.n, p50, p99, mx);
	ps_errors_free(&e);
}

int main(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	const char *json_path = NULL;
	int quick = 0, c;
	static const struct option lo[] = {
		{ "runs", 1, 0, 'r' }, { "json", 1, 0, 'j' },
		{ "quick", 0, 0, 'q' }, { 0, 0, 0, 0 } };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'r')
			runs = (unsigned)atoi(optarg);
		else if (c == 'j')
			json_path = optarg;
		else if (c == 'q')
			quick = 1;
		else
			return 2;
	}
	if (runs < 1 || runs > 15)
		runs = 5;
	if (json_path && !(json = fopen(json_path, "w"))) {
		perror(json_path);
		return 1;
	}
	if (json)
		fprintf(json, "[");
	calibrate();
	struct ps_regions reg;
	char err[256];
	if (ps_regions_load(&reg, ps_regions_default_path(), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("# parcelsort sort plan micro-benchmarks\n\nTSC %.3f GHz; "
	       "%u runs each.\n", tsc_per_ns, runs);
	static struct built plans[3] = { { .name = "100 routes" },
					 { .name = "10,000 routes" },
					 { .name = "national" } };
	unsigned np = quick ? 2 : 3;
	build(&plans[0], &reg, 100);
	build(&plans[1], &reg, 10000);
	if (!quick)
		build(&plans[2], &reg, 0);
	section_build(plans, np);
	section_decide(plans, np, &reg);
	section_rules(&reg);
	section_publish();
	if (json) {
		fprintf(json, "\n]\n");
		fclose(json);
	}
	for (unsigned i = 0; i < np; i++) {
		ps_plan_free(plans[i].plan);
		ps_plan_src_free(&plans[i].src);
	}
	ps_regions_free(&reg);
	rte_eal_cleanup();
	return 0;
}
