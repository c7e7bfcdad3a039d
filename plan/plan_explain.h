/* plan_explain.h: why a record would be decided as it would (`route get`,
 * plan_explain.c): the active plan, the matching rule, route or default,
 * and the chute the waybill gets under the current chute state. Filled in
 * under the store's lock: a copy, safe for any thread. */
#ifndef PS_PLAN_EXPLAIN_H
#define PS_PLAN_EXPLAIN_H

#include <stdint.h>

#include "plan.h"

struct ps_store;

struct ps_explain {
	int have_plan;
	uint32_t version;
	char plan_name[64];
	int rule_priority;        /* -1: no rule matched */
	char rule[512];           /* the rule's conditions */
	int route_digits;         /* 0: no route matched */
	uint64_t route_prefix;
	int is_default;
	uint32_t hub;
	uint8_t tier;
	char hub_name[256];
	uint16_t n_chutes;
	uint16_t chutes[64];
	uint8_t enabled[64];
	int held;                 /* the waybill is on the intercept list */
	struct ps_decision d;     /* what a fresh decision would be */
};
int ps_store_explain(struct ps_store *s, const struct ps_scan *sc,
		     struct ps_explain *e);

#endif
