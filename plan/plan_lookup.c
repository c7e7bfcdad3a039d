/* plan_lookup.c: the decision path over a compiled plan: rules, longest
 * prefix match, default, and the hash choice among enabled chutes. Runs on
 * dataplane cores: no allocation, no locks, no syscalls, no divisions by
 * variables. */
#include "plan.h"
#include "plan_rules.h"

static inline uint32_t village_lookup(const struct ps_plan *p, uint32_t b,
				      uint16_t suffix)
{
	const struct ps_village_block *bl = &p->blk[b];
	const uint16_t *k = p->vkey + bl->start;
	uint32_t lo = 0, len = bl->count;
	while (len > 1) {
		uint32_t half = len / 2;
		lo = k[lo + half] <= suffix ? lo + half : lo;
		len -= half;
	}
	return k[lo] == suffix ? p->vval[bl->start + lo] : bl->base;
}

uint32_t ps_plan_lpm(const struct ps_plan *p, uint64_t region)
{
	/* region <= 999999999999, so the county index is below 10^6 */
	uint32_t county = (uint32_t)(region / 1000000u);
	uint32_t e = p->l1[county];
	if (__builtin_expect((e >> PS_E_TYPE_SHIFT) == PS_E_LEAF, 1))
		return e;
	uint32_t rest = (uint32_t)(region - (uint64_t)county * 1000000u);
	uint32_t town = rest / 1000u;
	e = p->l2[(size_t)(e & PS_E_INDEX_MAX) * 1000u + town];
	if ((e >> PS_E_TYPE_SHIFT) == PS_E_LEAF)
		return e;
	return village_lookup(p, e & PS_E_INDEX_MAX,
			      (uint16_t)(rest - town * 1000u));
}

uint32_t ps_plan_rule_match(const struct ps_plan *p, const struct ps_scan *s)
{
	if (p->rules.n == 0)
		return 0;
	int r = ps_rules_first(&p->rules, s);
	return r < 0 ? 0 : p->rules.nh[r];
}

uint16_t ps_plan_pick_chute(const struct ps_plan *p,
			    const struct ps_chute_state *cs,
			    const struct ps_nh *nh, uint32_t hash)
{
	const uint16_t *c = p->chutes + nh->chute_off;
	uint32_t n = nh->n_chutes;
	if (__builtin_expect(!ps_chutes_any_disabled(cs), 1))
		return c[((uint64_t)hash * n) >> 32];
	/* Snapshot the enabled set once, then pick from the snapshot. */
	uint64_t mask[1024];
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!(i & 63))
			mask[i >> 6] = 0;
		if (ps_chute_enabled(cs, c[i])) {
			mask[i >> 6] |= 1ull << (i & 63);
			k++;
		}
	}
	if (k == 0)
		return 0;
	uint32_t want = (uint32_t)(((uint64_t)hash * k) >> 32);
	for (uint32_t i = 0; i < n; i++)
		if ((mask[i >> 6] >> (i & 63)) & 1) {
			if (want == 0)
				return c[i];
			want--;
		}
	return 0;
}

static inline void set_reject(const struct ps_plan *p, struct ps_decision *d,
			      uint8_t reason)
{
	d->chute = p->reject;
	d->tier = 0;
	d->reason = reason;
	d->hub = 0;
	d->matched_prefix = 0;
}

static inline void decide(const struct ps_plan *p,
			  const struct ps_chute_state *cs,
			  const struct ps_scan *s, struct ps_decision *d,
			  uint32_t nhi)
{
	d->event_seq = s->event_seq;
	d->plan_version = p->version;
	if (!nhi) {
		set_reject(p, d, PS_R_NO_ROUTE);
		return;
	}
	const struct ps_nh *nh = &p->nh[nhi];
	uint16_t chute = ps_plan_pick_chute(p, cs, nh,
					    ps_waybill_hash(s->waybill));
	if (!chute) {
		set_reject(p, d, PS_R_CHUTE_UNAVAILABLE);
		return;
	}
	d->chute = chute;
	d->tier = nh->tier;
	d->reason = nh->reason;
	d->hub = nh->hub;
	d->matched_prefix = nh->matched_prefix;
}

static inline uint32_t resolve(const struct ps_plan *p,
			       const struct ps_scan *s)
{
	uint32_t nhi = ps_plan_rule_match(p, s);
	if (!nhi)
		nhi = ps_plan_lpm(p, s->region);
	if (!nhi)
		nhi = p->default_nh;
	return nhi;
}

void ps_plan_decide_one(const struct ps_plan *p,
			const struct ps_chute_state *cs,
			const struct ps_scan *s, struct ps_decision *d)
{
	decide(p, cs, s, d, resolve(p, s));
}

#define PREFETCH_AHEAD 4

void ps_plan_decide_burst(const struct ps_plan *p,
			  const struct ps_chute_state *cs,
			  const struct ps_scan *const *scans,
			  struct ps_decision *const *dec, unsigned n)
{
	unsigned i;
	/* prefetch the level-1 entries a few records ahead */
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		__builtin_prefetch(&p->l1[scans[i]->region / 1000000u]);
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			__builtin_prefetch(
				&p->l1[scans[i + PREFETCH_AHEAD]->region /
				       1000000u]);
		decide(p, cs, scans[i], dec[i], resolve(p, scans[i]));
	}
}

uint32_t ps_plan_explain(const struct ps_plan *p, const struct ps_scan *s,
			 int *rule_prio)
{
	*rule_prio = -1;
	if (p->rules.n) {
		int r = ps_rules_first(&p->rules, s);
		if (r >= 0) {
			*rule_prio = p->rules.priority[r];
			return p->rules.nh[r];
		}
	}
	uint32_t nhi = ps_plan_lpm(p, s->region);
	return nhi ? nhi : p->default_nh;
}
