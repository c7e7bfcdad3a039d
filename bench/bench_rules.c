/* bench_rules.c: the first matching override rule for 1 to 1000 rules:
 * the plan's bitset index against rte_acl (bench_rival_acl.c) and the
 * obvious linear scan in priority order; all three must agree. */
#include <stdio.h>
#include <stdlib.h>

#include "plan_bench.h"
#include "plan_rules.h"
#include "rng.h"

#define CHECKED 10000            /* keys on which the matchers must agree */

/* A plan with n random rules and one route, for the rule comparison. */
static struct ps_plan *rules_plan(unsigned n, struct ps_plan_src *src)
{
	struct bench_text t = { 0 };
	struct ps_rng g;
	ps_rng_seed(&g, n);
	bench_tprintf(&t, "plan r\nsite 1 33\nreject 9\nhub 1 trunk T\n"
			  "route 33 1 5\n");
	static const char *carriers[] = { "SF", "ZT", "YT", "ST", "YD", "JD" };
	for (unsigned i = 0; i < n; i++) {
		/* realistic overrides: a carrier lane, a device, heavy or
		 * bulky parcels, a cold-chain area; never matching much */
		switch (ps_rng_below(&g, 4)) {
		case 0:
			bench_tprintf(&t, "rule %u 1 %u carrier=%s prefix=%llu\n",
				      i, 10 + i, carriers[ps_rng_below(&g, 6)],
				      (unsigned long long)(1100 +
							   ps_rng_below(&g, 8800)));
			break;
		case 1:
			bench_tprintf(&t, "rule %u 1 %u device=%llu weight>=%llu\n",
				      i, 10 + i, (unsigned long long)(100 + i),
				      (unsigned long long)(1000 *
							   ps_rng_below(&g, 50)));
			break;
		case 2:
			bench_tprintf(&t, "rule %u 1 %u size>=%llu service=bulky\n",
				      i, 10 + i,
				      (unsigned long long)(800 +
							   ps_rng_below(&g, 400)));
			break;
		default:
			bench_tprintf(&t, "rule %u 1 %u service=cold_chain "
				      "prefix=%llu\n", i, 10 + i,
				      (unsigned long long)(110000 +
							   ps_rng_below(&g, 880000)));
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

static int cond_holds(const struct ps_cond *c, const struct ps_scan *s)
{
	unsigned sz = s->length_mm > s->width_mm ? s->length_mm : s->width_mm;
	uint64_t lo, span;
	switch (c->kind) {
	case PS_COND_SERVICE: return (s->service & c->value) != 0;
	case PS_COND_CARRIER: return s->carrier == c->value;
	case PS_COND_WEIGHT_GE: return s->weight_g >= c->value;
	case PS_COND_WEIGHT_LT: return s->weight_g < c->value;
	case PS_COND_SIZE_GE:
		return (s->height_mm > sz ? s->height_mm : sz) >= c->value;
	case PS_COND_PREFIX:
		lo = ps_region_pad(c->value, c->digits);
		span = ps_region_pad(1, c->digits);
		return s->region - lo < span;
	case PS_COND_DEVICE: return s->device == c->value;
	}
	return 1;
}

/* The obvious alternative: test each rule's conditions in priority order. */
static int linear_first(const struct ps_plan_src *src, const uint32_t *order,
			const struct ps_scan *s)
{
	for (size_t i = 0; i < src->n_rules; i++) {
		const struct ps_rule_src *r = &src->rules[order[i]];
		int all = 1;
		for (uint16_t k = 0; k < r->n_conds && all; k++)
			all = cond_holds(&src->conds[r->cond_off + k], s);
		if (all)
			return (int)i;
	}
	return -1;
}

static const struct ps_plan_src *sort_src;
static int by_prio(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return sort_src->rules[*x].priority - sort_src->rules[*y].priority;
}

/* Zipf keys with devices, sizes, services and carriers the rules test. */
static void rule_keys(struct keys *k, const struct ps_regions *reg)
{
	struct ps_rng g;
	make_keys(k, reg, 1.0, 7);
	ps_rng_seed(&g, 5);
	for (uint32_t i = 0; i < NKEYS; i++) {
		k->s[i].device = (uint16_t)ps_rng_below(&g, 1200);
		k->s[i].length_mm = (uint16_t)ps_rng_below(&g, 1300);
		k->s[i].service = (uint8_t)ps_rng_below(&g, 128);
		k->s[i].carrier = ps_rng_below(&g, 2) ? ('S' << 8 | 'F')
						      : ('Y' << 8 | 'D');
	}
}

/* The bitset index, the linear scan and rte_acl must agree. */
static void check_agree(const struct ps_plan *p, const struct ps_plan_src *src,
			const uint32_t *order, const struct keys *k,
			int have_acl, const int *acl_first)
{
	for (uint32_t i = 0; i < CHECKED; i++) {
		int bi = ps_rules_first(&p->rules, &k->s[i]);
		int li = linear_first(src, order, &k->s[i]);
		if (bi != li || (have_acl && bi != acl_first[i])) {
			fprintf(stderr, "rule matchers disagree on key %u: "
				"bitset %d linear %d acl %d\n", i, bi, li,
				acl_first[i]);
			exit(1);
		}
	}
}

static void rules_row(unsigned count, const struct keys *k)
{
	struct ps_plan_src src;
	struct ps_plan *p = rules_plan(count, &src);
	uint32_t *order = malloc((src.n_rules ? src.n_rules : 1) *
				 sizeof(*order));
	if (!p || !order) {
		fprintf(stderr, "bench: could not make the %u-rule plan\n",
			count);
		exit(1);
	}
	for (uint32_t i = 0; i < src.n_rules; i++)
		order[i] = i;
	sort_src = &src;
	qsort(order, src.n_rules, sizeof(*order), by_prio);
	double vb[BENCH_MAX_RUNS], vl[BENCH_MAX_RUNS], va[BENCH_MAX_RUNS];
	uint32_t lim = count >= 1000 ? NKEYS / 8 : NKEYS;
	struct rte_acl_ctx *acl = acl_rival_build(&src, order);
	static int acl_first[CHECKED];
	for (unsigned r = 0; r < bench_runs; r++) {
		uint64_t c0 = bench_tsc(), acc = 0;
		for (uint32_t i = 0; i < lim; i++)
			acc += (uint64_t)ps_rules_first(&p->rules, &k->s[i]);
		vb[r] = bench_ns_per(c0, lim);
		c0 = bench_tsc();
		for (uint32_t i = 0; i < lim; i++)
			acc += (uint64_t)linear_first(&src, order, &k->s[i]);
		vl[r] = bench_ns_per(c0, lim);
		bench_sink = acc;
		va[r] = acl ? acl_rival_run(acl, k->s, lim, acl_first, CHECKED)
			    : 0;
	}
	check_agree(p, &src, order, k, acl != NULL, acl_first);
	struct bench_stat b = bench_stats(vb, bench_runs),
			  l = bench_stats(vl, bench_runs),
			  ac = bench_stats(va, bench_runs);
	printf("| %u | %.1f | %.1f | %.1f | %.1fx | %.1fx | %.0f |\n", count,
	       b.med, ac.med, l.med, ac.med / b.med, l.med / b.med,
	       p->rules.bytes / 1024.0);
	bench_json_row("rules", "\"rules\":%u,\"bitset_ns\":%.2f,\"acl_ns\":%.2f,"
		       "\"linear_ns\":%.2f,\"index_bytes\":%zu", count, b.med,
		       ac.med, l.med, p->rules.bytes);
	acl_rival_free(acl);
	free(order);
	ps_plan_free(p);
	ps_plan_src_free(&src);
}

void section_rules(const struct ps_regions *reg)
{
	static const unsigned counts[] = { 1, 10, 100, 1000 };
	struct keys k;
	rule_keys(&k, reg);
	printf("\n## Override rules: first match (median of %u runs)\n\n",
	       bench_runs);
	printf("| rules | bitset index ns | rte_acl ns | linear scan ns | "
	       "rte_acl / bitset | linear / bitset | index KB |\n"
	       "|---:|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned ci = 0; ci < 4; ci++)
		rules_row(counts[ci], &k);
	free_keys(&k);
}
