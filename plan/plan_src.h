/* plan_src.h: a sort plan as ops wrote it (docs/sort-plan.md): the source
 * model shared by the parser, the validator, the writer, staged edits and
 * the compiler. Arrays grow with the plan; nothing has a fixed capacity. */
#ifndef PS_PLAN_SRC_H
#define PS_PLAN_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ps_errors.h"      /* struct ps_errors, shared (common/) */

/* A list of chutes: a slice of the plan's chute pool. */
struct ps_chute_list {
	uint32_t off;
	uint16_t n;
};

struct ps_hub_src {
	uint32_t id;
	uint8_t tier;            /* enum ps_tier, 1..5 */
	uint32_t name_off;       /* into names */
	uint32_t line;
};

struct ps_route_src {
	uint64_t prefix;         /* the digits as a number */
	uint8_t digits;          /* 2, 4, 6, 9 or 12 */
	uint32_t hub;
	struct ps_chute_list chutes;
	uint32_t line;
};

enum ps_cond_kind {
	PS_COND_SERVICE = 1,     /* value: one flag bit */
	PS_COND_CARRIER,         /* value: two letters, first in the high byte */
	PS_COND_WEIGHT_GE,
	PS_COND_WEIGHT_LT,
	PS_COND_SIZE_GE,
	PS_COND_PREFIX,          /* value: digits as a number; digits */
	PS_COND_DEVICE,
};

struct ps_cond {
	uint8_t kind;
	uint8_t digits;
	uint64_t value;
};

struct ps_rule_src {
	uint16_t priority;
	uint32_t hub;
	struct ps_chute_list chutes;
	uint32_t cond_off;       /* into conds */
	uint16_t n_conds;
	uint32_t line;
};

struct ps_plan_src {
	char name[64];
	uint32_t site;
	uint64_t site_prefix;
	uint8_t site_digits;
	uint16_t reject;
	uint8_t has_default;
	uint32_t default_hub;
	struct ps_chute_list default_chutes;
	uint16_t intercept;      /* chute of INTERCEPTED, 0: the reject chute */
	uint8_t recirculate;     /* rounds before RECIRC_LIMIT, 0: no limit */

	struct ps_hub_src *hubs;
	size_t n_hubs, cap_hubs;
	struct ps_route_src *routes;
	size_t n_routes, cap_routes;
	struct ps_rule_src *rules;
	size_t n_rules, cap_rules;
	struct ps_cond *conds;
	size_t n_conds, cap_conds;
	uint16_t *chutes;        /* chute pool */
	size_t n_chutes, cap_chutes;
	char *names;             /* hub-name pool, NUL-separated */
	size_t n_names, cap_names;

	/* lines of the singleton directives, 0 when absent */
	uint32_t line_plan, line_site, line_reject, line_default;
	uint32_t line_intercept, line_recirculate;
};

void ps_plan_src_init(struct ps_plan_src *p);
void ps_plan_src_free(struct ps_plan_src *p);
/* Deep copy (the copy's pools are compacted). Returns 0 or -1 (memory). */
int ps_plan_src_copy(struct ps_plan_src *dst, const struct ps_plan_src *src);

/* Parse plan text. Every error is added to errs as FILE:LINE: message; the
 * semantic checks (ps_plan_validate) run too. Returns 0 when the plan is
 * valid, -1 otherwise (the model then holds what could be read). */
int ps_plan_parse(struct ps_plan_src *p, const char *text, size_t len,
		  const char *file, struct ps_errors *errs);
/* Parse without the semantic checks (staged edits parse single lines). */
int ps_plan_parse_lines(struct ps_plan_src *p, const char *text, size_t len,
			const char *file, struct ps_errors *errs);
int ps_plan_parse_file(struct ps_plan_src *p, const char *path,
		       struct ps_errors *errs);
/* Semantic checks: required directives, defined hubs, unique hub ids,
 * prefixes and priorities, limits. Returns 0 or -1. */
int ps_plan_validate(const struct ps_plan_src *p, const char *file,
		     struct ps_errors *errs);

/* Write the plan in canonical form (plan text any parser reads back to the
 * same model). Returns 0 or -1 on an I/O error. */
int ps_plan_write(const struct ps_plan_src *p, FILE *f);

/* Remove elements (order is not kept). */
void ps_plan_del_hub(struct ps_plan_src *p, size_t i);
void ps_plan_del_route(struct ps_plan_src *p, size_t i);
void ps_plan_del_rule(struct ps_plan_src *p, size_t i);
/* Find by key; -1 when absent. */
long ps_plan_find_hub(const struct ps_plan_src *p, uint32_t id);
long ps_plan_find_route(const struct ps_plan_src *p, uint64_t prefix,
			uint8_t digits);
long ps_plan_find_rule(const struct ps_plan_src *p, uint16_t priority);

/* Model-building helpers (parser, edits). Return 0 or -1 (memory). */
int ps_plan_add_chutes(struct ps_plan_src *p, const uint16_t *c, uint16_t n,
		       struct ps_chute_list *out);
int ps_plan_add_hub(struct ps_plan_src *p, uint32_t id, uint8_t tier,
		    const char *name, size_t name_len, uint32_t line);
int ps_plan_add_route(struct ps_plan_src *p, const struct ps_route_src *r);
int ps_plan_add_rule(struct ps_plan_src *p, const struct ps_rule_src *r,
		     const struct ps_cond *conds);
const char *ps_plan_hub_name(const struct ps_plan_src *p,
			     const struct ps_hub_src *h);
static inline const uint16_t *ps_plan_chutes(const struct ps_plan_src *p,
					     struct ps_chute_list l)
{
	static const uint16_t none[1];
	return l.n ? p->chutes + l.off : none;   /* an empty model has no pool */
}

/* Field parsers shared with the CLI's staged edits. Return 0 or -1. */
int ps_parse_prefix(const char *s, size_t n, uint64_t *v, uint8_t *digits);
int ps_parse_chutes(const char *s, size_t n, uint16_t *out, uint16_t *count,
		    size_t cap, const char **why);
int ps_parse_cond(const char *s, size_t n, struct ps_cond *c,
		  const char **why);
int ps_parse_tier(const char *s, size_t n, uint8_t *tier);
/* Format helpers for the writer and for messages. */
void ps_format_prefix(char *buf, size_t len, uint64_t v, uint8_t digits);
int ps_format_cond(char *buf, size_t len, const struct ps_cond *c);

#endif
