/* plan_write.c: write a sort plan model back as plan text in canonical form
 * (singletons first, then hubs by id, routes by prefix, rules by priority),
 * for persistence, `plan show` and diffs. */
#include <stdlib.h>
#include <string.h>

#include "plan_src.h"
#include "ps_wire.h"

static void put_chutes(FILE *f, const struct ps_plan_src *p,
		       struct ps_chute_list l)
{
	const uint16_t *c = ps_plan_chutes(p, l);
	for (uint16_t i = 0; i < l.n; i++)
		fprintf(f, i ? ",%u" : "%u", c[i]);
}

static int by_hub_id(const void *a, const void *b)
{
	const struct ps_hub_src *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static int by_prefix(const void *a, const void *b)
{
	const struct ps_route_src *x = a, *y = b;
	uint64_t kx = ps_region_pad(x->prefix, x->digits) * 16 + x->digits;
	uint64_t ky = ps_region_pad(y->prefix, y->digits) * 16 + y->digits;
	return (kx > ky) - (kx < ky);
}

static int by_priority(const void *a, const void *b)
{
	const struct ps_rule_src *x = a, *y = b;
	return (x->priority > y->priority) - (x->priority < y->priority);
}

int ps_plan_write(const struct ps_plan_src *src, FILE *f)
{
	struct ps_plan_src p;
	char pf[16], cond[64];
	if (ps_plan_src_copy(&p, src))
		return -1;
	if (p.n_hubs)
		qsort(p.hubs, p.n_hubs, sizeof(*p.hubs), by_hub_id);
	if (p.n_routes)
		qsort(p.routes, p.n_routes, sizeof(*p.routes), by_prefix);
	if (p.n_rules)
		qsort(p.rules, p.n_rules, sizeof(*p.rules), by_priority);
	fprintf(f, "plan %s\n", p.name);
	ps_format_prefix(pf, sizeof(pf), p.site_prefix, p.site_digits);
	fprintf(f, "site %u %s\n", p.site, pf);
	fprintf(f, "reject %u\n", p.reject);
	if (p.intercept)
		fprintf(f, "intercept %u\n", p.intercept);
	if (p.recirculate)
		fprintf(f, "recirculate %u\n", p.recirculate);
	for (size_t i = 0; i < p.n_hubs; i++)
		fprintf(f, "hub %u %s %s\n", p.hubs[i].id,
			ps_tier_name(p.hubs[i].tier),
			ps_plan_hub_name(&p, &p.hubs[i]));
	for (size_t i = 0; i < p.n_routes; i++) {
		ps_format_prefix(pf, sizeof(pf), p.routes[i].prefix,
				 p.routes[i].digits);
		fprintf(f, "route %s %u ", pf, p.routes[i].hub);
		put_chutes(f, &p, p.routes[i].chutes);
		fputc('\n', f);
	}
	for (size_t i = 0; i < p.n_rules; i++) {
		const struct ps_rule_src *r = &p.rules[i];
		fprintf(f, "rule %u %u ", r->priority, r->hub);
		put_chutes(f, &p, r->chutes);
		for (uint16_t k = 0; k < r->n_conds; k++) {
			ps_format_cond(cond, sizeof(cond),
				       &p.conds[r->cond_off + k]);
			fprintf(f, " %s", cond);
		}
		fputc('\n', f);
	}
	if (p.has_default) {
		fprintf(f, "default %u ", p.default_hub);
		put_chutes(f, &p, p.default_chutes);
		fputc('\n', f);
	}
	ps_plan_src_free(&p);
	return ferror(f) ? -1 : 0;
}
