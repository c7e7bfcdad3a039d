/* plan_explain.c: `route get` (plan_explain.h): how the active plan would
 * decide a record and why, read under the store's lock so no commit frees
 * the plan meanwhile. */
#include "plan_explain.h"

#include <stdio.h>
#include <string.h>

#include "plan_store_int.h"

int ps_store_explain(struct ps_store *s, const struct ps_scan *sc,
		     struct ps_explain *e)
{
	memset(e, 0, sizeof(*e));
	e->rule_priority = -1;
	pthread_mutex_lock(&s->lock);    /* no commit frees the plan meanwhile */
	const struct ps_plan *p = s->active;
	if (!p) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	e->have_plan = 1;
	e->version = p->version;
	snprintf(e->plan_name, sizeof(e->plan_name), "%s", p->name);
	int prio;
	uint32_t nhi = ps_plan_explain(p, sc, &prio);
	ps_plan_decide_one(p, &s->chutes, sc, &e->d);
	/* step 6: a held waybill (valid: steps 4 and 5 came first) */
	if (e->d.reason != PS_R_NOREAD && e->d.reason != PS_R_BAD_BARCODE &&
	    e->d.reason != PS_R_TRACK_ONLY &&
	    ps_hold_list_find(&s->hold_list, sc->waybill) >= 0) {
		e->held = 1;
		uint32_t pv = e->d.plan_version;
		memset(&e->d, 0, sizeof(e->d));
		e->d.reason = PS_R_INTERCEPTED;
		e->d.chute = p->intercept;
		e->d.plan_version = pv;
	}
	if (nhi) {
		const struct ps_nh *nh = &p->nh[nhi];
		e->hub = nh->hub;
		e->tier = ps_nh_tier(nh);
		e->rule_priority = prio;
		e->is_default = nhi == p->default_nh && prio < 0;
		if (prio < 0 && !e->is_default) {
			e->route_digits = ps_nh_digits(nh);
			e->route_prefix = ps_nh_prefix(nh) /
					  ps_region_pad(1, ps_nh_digits(nh));
		}
		uint16_t one;
		const uint16_t *c;
		uint16_t n = ps_nh_chutes(p, nh, &one, &c);
		e->n_chutes = n > 64 ? 64 : n;
		for (uint16_t i = 0; i < e->n_chutes; i++) {
			e->chutes[i] = c[i];
			e->enabled[i] = (uint8_t)ps_chute_enabled(&s->chutes, c[i]);
		}
	}
	if (s->have_src) {
		long h = ps_plan_find_hub(&s->active_src, e->hub);
		if (h >= 0)
			snprintf(e->hub_name, sizeof(e->hub_name), "%s",
				 ps_plan_hub_name(&s->active_src,
						  &s->active_src.hubs[h]));
		long r = prio >= 0 ? ps_plan_find_rule(&s->active_src,
						       (uint16_t)prio) : -1;
		if (r >= 0) {
			const struct ps_rule_src *rs = &s->active_src.rules[r];
			size_t k = 0;
			for (uint16_t i = 0; i < rs->n_conds && k < 400; i++) {
				char cond[64];
				ps_format_cond(cond, sizeof(cond),
					       &s->active_src.conds[rs->cond_off + i]);
				k += (size_t)snprintf(e->rule + k, sizeof(e->rule) - k,
						      "%s%s", i ? " " : "", cond);
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}
