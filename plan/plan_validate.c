/* plan_validate.c: the semantic checks of a sort plan: required directives,
 * unique hub ids, route prefixes and rule priorities, every hub reference
 * defined. Used after parsing and before committing staged edits. */
#include "plan_src.h"
#include "u64map.h"

static void check_hub(const struct ps_u64map *hubs, const char *file,
		      struct ps_errors *errs, uint32_t line, const char *what,
		      uint32_t hub, int *bad)
{
	if (ps_u64map_get(hubs, hub) == PS_U64MAP_EMPTY) {
		ps_errors_add(errs, file, line, "%s names hub %u, which is not "
			      "defined", what, hub);
		*bad = 1;
	}
}

int ps_plan_validate(const struct ps_plan_src *p, const char *file,
		     struct ps_errors *errs)
{
	int bad = 0;
	struct ps_u64map hubs, keys;
	if (!p->line_plan) {
		ps_errors_add(errs, file, 0, "missing the 'plan NAME' directive");
		bad = 1;
	}
	if (!p->line_site) {
		ps_errors_add(errs, file, 0, "missing the 'site SITE_ID "
			      "REGION_PREFIX' directive");
		bad = 1;
	}
	if (!p->line_reject) {
		ps_errors_add(errs, file, 0, "missing the 'reject CHUTE' "
			      "directive");
		bad = 1;
	}
	if (ps_u64map_init(&hubs, p->n_hubs) ||
	    ps_u64map_init(&keys, p->n_routes + p->n_rules)) {
		ps_errors_add(errs, file, 0, "out of memory checking the plan");
		return -1;
	}
	for (size_t i = 0; i < p->n_hubs; i++) {
		uint32_t prev = ps_u64map_put(&hubs, p->hubs[i].id, (uint32_t)i);
		if (prev != PS_U64MAP_EMPTY) {
			ps_errors_add(errs, file, p->hubs[i].line,
				      "hub %u is defined twice (first at line "
				      "%u)", p->hubs[i].id,
				      prev < p->n_hubs ? p->hubs[prev].line : 0);
			bad = 1;
		}
	}
	for (size_t i = 0; i < p->n_routes; i++) {
		const struct ps_route_src *r = &p->routes[i];
		char pf[16];
		ps_format_prefix(pf, sizeof(pf), r->prefix, r->digits);
		check_hub(&hubs, file, errs, r->line, "route", r->hub, &bad);
		uint64_t key = r->prefix << 4 | r->digits;
		uint32_t prev = ps_u64map_put(&keys, key, (uint32_t)i);
		if (prev != PS_U64MAP_EMPTY) {
			ps_errors_add(errs, file, r->line, "route prefix %s is "
				      "given twice (first at line %u)", pf,
				      prev < p->n_routes ? p->routes[prev].line
							 : 0);
			bad = 1;
		}
	}
	ps_u64map_free(&keys);
	if (ps_u64map_init(&keys, p->n_rules)) {
		ps_u64map_free(&hubs);
		ps_errors_add(errs, file, 0, "out of memory checking the plan");
		return -1;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct ps_rule_src *r = &p->rules[i];
		check_hub(&hubs, file, errs, r->line, "rule", r->hub, &bad);
		uint32_t prev = ps_u64map_put(&keys, r->priority, (uint32_t)i);
		if (prev != PS_U64MAP_EMPTY) {
			ps_errors_add(errs, file, r->line, "rule priority %u is "
				      "used twice (first at line %u)",
				      r->priority,
				      prev < p->n_rules ? p->rules[prev].line
							: 0);
			bad = 1;
		}
	}
	if (p->has_default)
		check_hub(&hubs, file, errs, p->line_default, "default",
			  p->default_hub, &bad);
	ps_u64map_free(&hubs);
	ps_u64map_free(&keys);
	return bad ? -1 : 0;
}
