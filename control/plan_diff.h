/* plan_diff.h: what changes between two sort plans: hubs, routes and rules
 * added, removed or changed (by key: hub id, route prefix, rule priority),
 * the singletons (name, site, reject, default), and the chutes used.
 * Chute lists and conditions are compared element by element over their
 * full length, and every line is shown whole (no length limit). */
#ifndef PS_PLAN_DIFF_H
#define PS_PLAN_DIFF_H

#include "outbuf.h"
#include "plan_src.h"

/* Write the difference from a to b, as text lines ("+ route ...",
 * "- rule ...", "~ OLD_LINE -> NEW_LINE") or as JSON. Returns the number of
 * differences, -1 when out of memory (o included). */
long ps_plan_diff(const struct ps_plan_src *a, const struct ps_plan_src *b,
		  struct ps_out *o, int json);

#endif
