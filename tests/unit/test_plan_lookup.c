/* test_plan_lookup.c: compiled plan decisions: the spec example, longest
 * prefix match and rules against brute-force references on thousands of
 * random plans, chute state, and a national-size plan. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "plan_src.h"
#include "ps_wire.h"
#include "regions.h"
#include "rng.h"

static struct ps_chute_state cs;

static struct ps_plan *compile_text(const char *text, struct ps_plan_src *src)
{
	struct ps_errors e;
	ps_errors_init(&e);
	ps_plan_src_init(src);
	int rc = ps_plan_parse(src, text, strlen(text), "t", &e);
	cr_assert_eq(rc, 0, "%s", e.n ? e.msg[0] : "");
	struct ps_plan *p = ps_plan_compile(src, 7, &e);
	cr_assert_not_null(p, "%s", e.n ? e.msg[0] : "");
	ps_errors_free(&e);
	return p;
}

static struct ps_plan *example(struct ps_plan_src *src)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/../config/example.plan", PS_DATA_DIR);
	FILE *f = fopen(path, "r");
	static char text[8192];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	return compile_text(text, src);
}

struct rec {
	uint8_t wb[24];
	struct ps_scan s;
};

static void mk(struct rec *r, const char *wb, uint64_t region)
{
	memset(r, 0, sizeof(*r));
	strncpy((char *)r->wb, wb, 24);
	r->s.waybill = r->wb;
	r->s.region = region;
	r->s.scan_type = PS_SCAN_INDUCT;
	r->s.event_seq = 77;
}

static struct ps_decision decide(const struct ps_plan *p, struct rec *r)
{
	struct ps_decision d;
	memset(&d, 0xAA, sizeof(d));
	ps_plan_decide_one(p, &cs, &r->s, &d);
	return d;
}

/* The chute the documented hash picks among an entry's enabled chutes. */
static uint16_t hashed(const char *wb, const uint16_t *c, unsigned n)
{
	uint8_t b[24] = { 0 };
	strncpy((char *)b, wb, 24);
	return c[((uint64_t)ps_waybill_hash(b) * n) >> 32];
}

static void init_cs(void)
{
	ps_chutes_init(&cs);
}

TestSuite(lookup, .init = init_cs);

Test(lookup, spec_example_routes)
{
	struct ps_plan_src src;
	struct ps_plan *p = example(&src);
	struct rec r;
	struct ps_decision d;
	static const struct {
		uint64_t region;
		uint32_t hub;
		uint8_t tier;
		uint16_t chute;
		uint64_t matched;
	} cases[] = {
		{ 330782100201ull, 410, PS_TIER_VILLAGE, 41, 330782100201ull },
		{ 330782100202ull, 310, PS_TIER_TOWNSHIP, 31, 330782100000ull },
		{ 330782101005ull, 311, PS_TIER_TOWNSHIP, 32, 330782101000ull },
		{ 330782102001ull, 200, PS_TIER_COUNTY, 20, 330782000000ull },
		{ 330782000000ull, 200, PS_TIER_COUNTY, 20, 330782000000ull },
		{ 310101001001ull, 110, PS_TIER_TRUNK, 12, 310000000000ull },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mk(&r, "SF1234567890123", cases[i].region);
		d = decide(p, &r);
		cr_assert_eq(d.reason, PS_R_ROUTED, "case %zu", i);
		cr_assert_eq(d.hub, cases[i].hub, "case %zu", i);
		cr_assert_eq(d.tier, cases[i].tier, "case %zu", i);
		cr_assert_eq(d.chute, cases[i].chute, "case %zu", i);
		cr_assert_eq(d.matched_prefix, cases[i].matched, "case %zu", i);
		cr_assert_eq(d.plan_version, 7);
		cr_assert_eq(d.event_seq, 77);
	}
	/* route 33 has two chutes: the waybill hash chooses */
	static const uint16_t c33[] = { 10, 11 };
	int seen10 = 0, seen11 = 0;
	for (int i = 0; i < 200; i++) {
		char wb[32];
		snprintf(wb, sizeof(wb), "YT%013d", i * 7919);
		mk(&r, wb, 330100000000ull);
		d = decide(p, &r);
		cr_assert_eq(d.hub, 100);
		cr_assert_eq(d.matched_prefix, 330000000000ull);
		cr_assert_eq(d.chute, hashed(wb, c33, 2));
		seen10 += d.chute == 10;
		seen11 += d.chute == 11;
	}
	cr_assert(seen10 > 50 && seen11 > 50, "both chutes used");
	ps_plan_free(p);
	ps_plan_src_free(&src);
}

Test(lookup, spec_example_rules_and_default)
{
	struct ps_plan_src src;
	struct ps_plan *p = example(&src);
	struct rec r;
	struct ps_decision d;
	mk(&r, "SF1234567890123", 330782100201ull);
	r.s.service = PS_SVC_COLD_CHAIN | PS_SVC_FRAGILE;
	d = decide(p, &r);
	cr_assert_eq(d.reason, PS_R_OVERRIDE);
	cr_assert_eq(d.chute, 90);
	cr_assert_eq(d.hub, 900);
	cr_assert_eq(d.tier, PS_TIER_SPECIAL);
	cr_assert_eq(d.matched_prefix, 0);
	r.s.weight_g = 30000;                 /* both rules: priority 10 wins */
	cr_assert_eq(decide(p, &r).chute, 90);
	r.s.service = 0;
	cr_assert_eq(decide(p, &r).chute, 91);
	r.s.weight_g = 29999;
	cr_assert_eq(decide(p, &r).reason, PS_R_ROUTED);
	/* no route: the default */
	mk(&r, "SF1234567890123", 110101001001ull);
	d = decide(p, &r);
	cr_assert_eq(d.reason, PS_R_DEFAULT);
	cr_assert_eq(d.hub, 100);
	cr_assert_eq(d.chute, 10);
	cr_assert_eq(d.tier, PS_TIER_TRUNK);
	cr_assert_eq(d.matched_prefix, 0);
	mk(&r, "SF1234567890123", 0);          /* region 0 matches no route */
	cr_assert_eq(decide(p, &r).reason, PS_R_DEFAULT);
	ps_plan_free(p);
	ps_plan_src_free(&src);
}

Test(lookup, no_route_without_default)
{
	struct ps_plan_src src;
	struct ps_plan *p = compile_text("plan p\nsite 1 33\nreject 999\n"
					 "hub 1 county A\nroute 3307 1 5\n", &src);
	struct rec r;
	mk(&r, "SF1234567890123", 110101001001ull);
	struct ps_decision d = decide(p, &r);
	cr_assert_eq(d.reason, PS_R_NO_ROUTE);
	cr_assert_eq(d.chute, 999);
	cr_assert_eq(d.hub, 0);
	cr_assert_eq(d.tier, 0);
	cr_assert_eq(d.matched_prefix, 0);
	cr_assert_eq(d.plan_version, 7);
	ps_plan_free(p);
	ps_plan_src_free(&src);
}

Test(lookup, chute_state)
{
	struct ps_plan_src src;
	struct ps_plan *p = example(&src);
	struct rec r;
	struct ps_decision d;
	mk(&r, "SF1234567890123", 330782100201ull);
	cr_assert_eq(ps_chute_disable(&cs, 41), 1);
	cr_assert_eq(ps_chute_disable(&cs, 41), 0);
	d = decide(p, &r);
	cr_assert_eq(d.reason, PS_R_CHUTE_UNAVAILABLE);
	cr_assert_eq(d.chute, 999);
	cr_assert_eq(d.hub, 0);
	cr_assert_eq(d.tier, 0);
	cr_assert_eq(d.matched_prefix, 0);
	cr_assert_eq(ps_chute_enable(&cs, 41), 1);
	cr_assert_eq(decide(p, &r).chute, 41);
	/* one of two chutes closed: every parcel takes the other */
	ps_chute_disable(&cs, 10);
	for (int i = 0; i < 100; i++) {
		char wb[32];
		snprintf(wb, sizeof(wb), "JT%013d", i * 104729);
		mk(&r, wb, 330100000000ull);
		d = decide(p, &r);
		cr_assert_eq(d.chute, 11);
		cr_assert_eq(d.reason, PS_R_ROUTED);
	}
	ps_chute_disable(&cs, 11);
	cr_assert_eq(decide(p, &r).reason, PS_R_CHUTE_UNAVAILABLE);
	ps_chute_enable(&cs, 10);
	ps_chute_enable(&cs, 11);
	cr_assert_eq(cs.n_disabled, 0);
	ps_plan_free(p);
	ps_plan_src_free(&src);
}

Test(lookup, hash_choice_among_enabled_chutes)
{
	struct ps_plan_src src;
	struct ps_plan *p = compile_text("plan p\nsite 1 33\nreject 9\n"
					 "hub 1 county A\n"
					 "route 33 1 21,22,23,24,25\n", &src);
	ps_chute_disable(&cs, 23);
	static const uint16_t on[] = { 21, 22, 24, 25 };
	for (int i = 0; i < 300; i++) {
		char wb[32];
		snprintf(wb, sizeof(wb), "75%010d", i * 31337);
		struct rec r;
		mk(&r, wb, 330000000000ull);
		cr_assert_eq(decide(p, &r).chute, hashed(wb, on, 4));
	}
	ps_plan_free(p);
	ps_plan_src_free(&src);
}

/* ---------------------------------------------- brute-force references */

static int starts_with(uint64_t region, uint64_t prefix, unsigned digits)
{
	uint64_t lo = ps_region_pad(prefix, digits);
	return region >= lo && region < lo + ps_region_pad(1, digits);
}

static long ref_route(const struct ps_plan_src *p, uint64_t region)
{
	long best = -1;
	if (region == 0)
		return -1;
	for (size_t i = 0; i < p->n_routes; i++)
		if (starts_with(region, p->routes[i].prefix, p->routes[i].digits) &&
		    (best < 0 || p->routes[i].digits > p->routes[best].digits))
			best = (long)i;
	return best;
}

static int cond_holds(const struct ps_cond *c, const struct ps_scan *s)
{
	unsigned size = s->length_mm;
	if (s->width_mm > size)
		size = s->width_mm;
	if (s->height_mm > size)
		size = s->height_mm;
	switch (c->kind) {
	case PS_COND_SERVICE: return (s->service & c->value) != 0;
	case PS_COND_CARRIER: return s->carrier == c->value;
	case PS_COND_WEIGHT_GE: return s->weight_g >= c->value;
	case PS_COND_WEIGHT_LT: return s->weight_g < c->value;
	case PS_COND_SIZE_GE: return size >= c->value;
	case PS_COND_PREFIX:
		return s->region && starts_with(s->region, c->value, c->digits);
	case PS_COND_DEVICE: return s->device == c->value;
	}
	return 0;
}

static long ref_rule(const struct ps_plan_src *p, const struct ps_scan *s)
{
	long best = -1;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ps_rule_src *r = &p->rules[i];
		int all = 1;
		for (uint16_t k = 0; k < r->n_conds && all; k++)
			all = cond_holds(&p->conds[r->cond_off + k], s);
		if (all && (best < 0 || r->priority < p->rules[best].priority))
			best = (long)i;
	}
	return best;
}

/* Region codes from a small alphabet so that prefixes overlap a lot. */
static uint64_t rand_region(struct ps_rng *g)
{
	static const unsigned prov[] = { 11, 33, 44 }, city[] = { 1, 7 },
			      county[] = { 1, 82 }, town[] = { 1, 100, 101 },
			      vill[] = { 1, 201, 202 };
	uint64_t r = prov[ps_rng_below(g, 3)];
	r = r * 100 + city[ps_rng_below(g, 2)];
	r = r * 100 + county[ps_rng_below(g, 2)];
	r = r * 1000 + town[ps_rng_below(g, 3)];
	r = r * 1000 + vill[ps_rng_below(g, 3)];
	return r;
}

static const unsigned lens[] = { 2, 4, 6, 9, 12 };
static int multi_chutes;   /* routes with 1 to 3 chutes (burst test) */

static void rand_plan(struct ps_rng *g, struct ps_plan_src *p, int rules)
{
	ps_plan_src_init(p);
	strcpy(p->name, "rand");
	p->site = 1;
	p->site_prefix = 33;
	p->site_digits = 2;
	p->reject = 999;
	p->line_plan = p->line_site = p->line_reject = 1;
	for (uint32_t h = 1; h <= 5; h++)
		ps_plan_add_hub(p, h, (uint8_t)h, "h", 1, 1);
	unsigned n = (unsigned)ps_rng_below(g, 40);
	for (unsigned i = 0; i < n; i++) {
		unsigned d = lens[ps_rng_below(g, 5)];
		uint64_t pre = rand_region(g) / ps_region_pad(1, d);
		if (ps_plan_find_route(p, pre, (uint8_t)d) >= 0)
			continue;
		struct ps_route_src r = { .prefix = pre, .digits = (uint8_t)d,
					  .hub = 1 + (uint32_t)ps_rng_below(g, 5) };
		uint16_t c[3] = { (uint16_t)(1 + i), (uint16_t)(101 + i),
				  (uint16_t)(201 + i) };
		ps_plan_add_chutes(p, c, multi_chutes
				   ? 1 + (uint32_t)ps_rng_below(g, 3) : 1,
				   &r.chutes);
		ps_plan_add_route(p, &r);
	}
	if (ps_rng_below(g, 2)) {
		uint16_t c = 500;
		p->has_default = 1;
		p->default_hub = 2;
		ps_plan_add_chutes(p, &c, 1, &p->default_chutes);
	}
	unsigned nr = rules ? (unsigned)ps_rng_below(g, (uint64_t)rules) : 0;
	for (unsigned i = 0; i < nr; i++) {
		struct ps_cond conds[4];
		unsigned nc = 1 + (unsigned)ps_rng_below(g, 3);
		for (unsigned k = 0; k < nc; k++) {
			struct ps_cond *c = &conds[k];
			memset(c, 0, sizeof(*c));
			c->kind = (uint8_t)(1 + ps_rng_below(g, 7));
			switch (c->kind) {
			case PS_COND_SERVICE:
				c->value = 1u << ps_rng_below(g, 7);
				break;
			case PS_COND_CARRIER:
				c->value = ps_rng_below(g, 2) ? ('S' << 8 | 'F')
							      : ('Z' << 8 | 'T');
				break;
			case PS_COND_WEIGHT_GE:
			case PS_COND_WEIGHT_LT:
				c->value = ps_rng_below(g, 4) * 1000;
				break;
			case PS_COND_SIZE_GE:
				c->value = ps_rng_below(g, 4) * 100;
				break;
			case PS_COND_PREFIX:
				c->digits = (uint8_t)lens[ps_rng_below(g, 5)];
				c->value = rand_region(g) /
					   ps_region_pad(1, c->digits);
				break;
			case PS_COND_DEVICE:
				c->value = ps_rng_below(g, 3);
				break;
			}
		}
		uint16_t prio = (uint16_t)ps_rng_below(g, 65536);
		if (ps_plan_find_rule(p, prio) >= 0)
			continue;
		struct ps_rule_src r = { .priority = prio, .hub = 5,
					 .n_conds = (uint16_t)nc };
		uint16_t c = (uint16_t)(1000 + i);
		ps_plan_add_chutes(p, &c, 1, &r.chutes);
		ps_plan_add_rule(p, &r, conds);
	}
}

static void rand_scan(struct ps_rng *g, struct rec *r)
{
	mk(r, "SF1234567890123", ps_rng_below(g, 10) == 0 ? 0 : rand_region(g));
	r->s.service = (uint8_t)ps_rng_below(g, 128);
	r->s.carrier = ps_rng_below(g, 3) == 0 ? ('S' << 8 | 'F')
		       : ps_rng_below(g, 2) ? ('Z' << 8 | 'T') : 0;
	r->s.weight_g = (uint32_t)ps_rng_below(g, 5000);
	r->s.length_mm = (uint16_t)ps_rng_below(g, 500);
	r->s.width_mm = (uint16_t)ps_rng_below(g, 500);
	r->s.height_mm = (uint16_t)ps_rng_below(g, 500);
	r->s.device = (uint16_t)ps_rng_below(g, 4);
}

static void check_against_reference(const struct ps_plan_src *src,
				    const struct ps_plan *p,
				    const struct rec *r)
{
	struct ps_decision d;
	ps_plan_decide_one(p, &cs, &r->s, &d);
	long rule = ref_rule(src, &r->s);
	if (rule >= 0) {
		cr_assert_eq(d.reason, PS_R_OVERRIDE);
		cr_assert_eq(d.chute, ps_plan_chutes(src, src->rules[rule].chutes)[0]);
		return;
	}
	long rt = ref_route(src, r->s.region);
	if (rt >= 0) {
		cr_assert_eq(d.reason, PS_R_ROUTED, "region %llu",
			     (unsigned long long)r->s.region);
		cr_assert_eq(d.chute, ps_plan_chutes(src, src->routes[rt].chutes)[0]);
		cr_assert_eq(d.matched_prefix,
			     ps_region_pad(src->routes[rt].prefix,
					   src->routes[rt].digits));
		cr_assert_eq(d.hub, src->routes[rt].hub);
		cr_assert_eq(d.tier, src->hubs[src->routes[rt].hub - 1].tier);
		return;
	}
	cr_assert_eq(d.reason, src->has_default ? PS_R_DEFAULT : PS_R_NO_ROUTE);
	cr_assert_eq(d.chute, src->has_default ? 500 : 999);
}

Test(lookup, lpm_matches_brute_force_on_random_plans)
{
	struct ps_rng g;
	ps_rng_seed(&g, 42);
	for (int plan = 0; plan < 2000; plan++) {
		struct ps_plan_src src;
		struct ps_errors e;
		ps_errors_init(&e);
		rand_plan(&g, &src, 0);
		cr_assert_eq(ps_plan_validate(&src, "rand", &e), 0);
		struct ps_plan *p = ps_plan_compile(&src, 1, &e);
		cr_assert_not_null(p);
		for (int k = 0; k < 100; k++) {
			struct rec r;
			rand_scan(&g, &r);
			check_against_reference(&src, p, &r);
		}
		ps_plan_free(p);
		ps_plan_src_free(&src);
		ps_errors_free(&e);
	}
}

Test(lookup, rules_match_brute_force_on_random_plans)
{
	struct ps_rng g;
	ps_rng_seed(&g, 43);
	for (int plan = 0; plan < 1000; plan++) {
		struct ps_plan_src src;
		struct ps_errors e;
		ps_errors_init(&e);
		rand_plan(&g, &src, plan % 10 == 0 ? 300 : 20);
		struct ps_plan *p = ps_plan_compile(&src, 1, &e);
		cr_assert_not_null(p);
		for (int k = 0; k < 100; k++) {
			struct rec r;
			rand_scan(&g, &r);
			check_against_reference(&src, p, &r);
		}
		ps_plan_free(p);
		ps_plan_src_free(&src);
		ps_errors_free(&e);
	}
}

/* The burst path (village hash first, decisions from its slots) and the
 * one-by-one path agree on every record: random plans with one to three
 * chutes per route, some chutes disabled, rules and no rules. */
Test(lookup, burst_equals_one_by_one)
{
	struct ps_rng g;
	ps_rng_seed(&g, 44);
	multi_chutes = 1;
	for (int plan = 0; plan < 300; plan++) {
		struct ps_plan_src src;
		rand_plan(&g, &src, plan % 3 ? 30 : 0);
		struct ps_errors e;
		ps_errors_init(&e);
		struct ps_plan *p = ps_plan_compile(&src, 3, &e);
		cr_assert_not_null(p);
		ps_chutes_init(&cs);
		if (plan % 2)
			for (int k = 0; k < 8; k++)
				ps_chute_disable(&cs, (uint16_t)(1 + ps_rng_below(&g, 240)));
		struct rec r[64];
		const struct ps_scan *sp[64];
		struct ps_decision d[64], one, *dp[64];
		for (int i = 0; i < 64; i++) {
			rand_scan(&g, &r[i]);
			memcpy(r[i].wb, i & 1 ? "JT0000000000123" : "SF1234567890123", 16);
			r[i].wb[5] = (uint8_t)('0' + i % 10);
			sp[i] = &r[i].s;
			dp[i] = &d[i];
		}
		ps_plan_decide_burst(p, &cs, sp, dp, 64);
		for (int i = 0; i < 64; i++) {
			ps_plan_decide_one(p, &cs, &r[i].s, &one);
			cr_assert_eq(memcmp(&one, &d[i], sizeof(one)), 0,
				     "plan %d record %d: chute %u/%u reason "
				     "%u/%u", plan, i, one.chute, d[i].chute,
				     one.reason, d[i].reason);
		}
		ps_plan_free(p);
		ps_plan_src_free(&src);
		ps_errors_free(&e);
	}
	multi_chutes = 0;
	ps_chutes_init(&cs);
}

Test(lookup, national_plan_every_village_its_own_route, .timeout = 120)
{
	struct ps_regions reg;
	char err[256];
	cr_assert_eq(ps_regions_load(&reg, ps_regions_default_path(), err,
				     sizeof(err)), 0);
	struct ps_plan_src src;
	ps_plan_src_init(&src);
	strcpy(src.name, "national");
	src.site = 1;
	src.site_prefix = 33;
	src.site_digits = 2;
	src.reject = 9;
	src.line_plan = src.line_site = src.line_reject = 1;
	ps_plan_add_hub(&src, 1, PS_TIER_VILLAGE, "v", 1, 1);
	for (size_t i = 0; i < reg.n; i++) {
		struct ps_route_src r = { .prefix = reg.code[i], .digits = 12,
					  .hub = 1 };
		uint16_t c = (uint16_t)(1 + i % 60000);
		ps_plan_add_chutes(&src, &c, 1, &r.chutes);
		ps_plan_add_route(&src, &r);
	}
	struct ps_errors e;
	ps_errors_init(&e);
	cr_assert_eq(ps_plan_validate(&src, "n", &e), 0);
	struct ps_plan *p = ps_plan_compile(&src, 1, &e);
	cr_assert_not_null(p);
	cr_assert_lt(p->bytes, 64u << 20, "structure %zu bytes", p->bytes);
	uint32_t burst[64];
	for (size_t i = 0; i + 64 <= reg.n; i += 64) {
		ps_plan_lpm_burst(p, reg.code + i, burst, 64);
		for (int k = 0; k < 64; k++)
			cr_assert_eq(burst[k], ps_plan_lpm(p, reg.code[i + k]));
	}
	for (size_t i = 0; i < reg.n; i++) {
		uint32_t nh = ps_plan_lpm(p, reg.code[i]);
		cr_assert_neq(nh, 0);
		cr_assert_eq(ps_nh_prefix(&p->nh[nh]), reg.code[i]);
		uint16_t one;
		const uint16_t *c;
		cr_assert_eq(ps_nh_chutes(p, &p->nh[nh], &one, &c), 1);
		cr_assert_eq(c[0], 1 + i % 60000);
	}
	/* a code next to a village but not in the table matches nothing */
	cr_assert_eq(ps_plan_lpm(p, 330782100999ull), 0);
	ps_plan_free(p);
	ps_plan_src_free(&src);
	ps_regions_free(&reg);
	ps_errors_free(&e);
}
