/* plan_lookup.c: the decision path over a compiled plan: rules, longest
 * prefix match, default, and the hash choice among available chutes
 * (neither disabled by the operator nor reported out by the sorter: both
 * bitmaps of chutes.h, looked at only when some chute is out). Runs on
 * dataplane cores: no allocation, no locks, no syscalls, no divisions by
 * variables. The burst path walks the route table level by level across
 * the whole burst, prefetching the next level, so that the cache misses of
 * a national plan overlap instead of adding up. */
#include "plan.h"
#include "plan_rules.h"

#define L2_SIZE 1000u
#define PS_PLAN_CHUNK 64u

/* The next hop of a region under a township with village routes: its own
 * route, else the township's entry. */
static inline uint32_t village_lookup(const struct ps_plan *p, uint32_t blk,
				      uint64_t region)
{
	const struct ps_vh_slot *v = ps_vh_find(p, ps_vh_bucket(p, region),
						region);
	return v ? (uint32_t)(v->key_nh >> 40) : p->vbase[blk];
}

static inline uint32_t etype(uint32_t e)
{
	return e >> PS_E_TYPE_SHIFT;
}

uint32_t ps_plan_lpm(const struct ps_plan *p, uint64_t region)
{
	/* region <= 999999999999, so the county index is below 10^6 */
	uint32_t county = (uint32_t)(region / 1000000u);
	uint32_t e = p->l1[county];
	if (__builtin_expect(etype(e) == PS_E_LEAF, 1))
		return e;
	uint32_t rest = (uint32_t)(region - (uint64_t)county * 1000000u);
	uint32_t town = rest / 1000u;
	e = p->l2[(size_t)(e & PS_E_INDEX_MAX) * L2_SIZE + town];
	if (etype(e) == PS_E_LEAF)
		return e;
	return village_lookup(p, e & PS_E_INDEX_MAX, region);
}

static void lpm_chunk(const struct ps_plan *p, const uint64_t *region,
		      uint32_t *out, unsigned n)
{
	uint32_t rest[PS_PLAN_CHUNK];
	unsigned i;
	for (i = 0; i < n; i++) {
		uint32_t county = (uint32_t)(region[i] / 1000000u);
		rest[i] = (uint32_t)(region[i] - (uint64_t)county * 1000000u);
		out[i] = county;
		__builtin_prefetch(&p->l1[county]);
	}
	unsigned deep = 0;
	for (i = 0; i < n; i++) {
		uint32_t e = p->l1[out[i]];
		out[i] = e;
		if (etype(e) == PS_E_NODE) {
			deep++;
			__builtin_prefetch(&p->l2[(size_t)(e & PS_E_INDEX_MAX) *
						  L2_SIZE + rest[i] / 1000u]);
		}
	}
	if (!deep)
		return;
	unsigned blocks = 0;
	for (i = 0; i < n; i++) {
		if (etype(out[i]) != PS_E_NODE)
			continue;
		uint32_t e = p->l2[(size_t)(out[i] & PS_E_INDEX_MAX) * L2_SIZE +
				   rest[i] / 1000u];
		out[i] = e;
		if (etype(e) == PS_E_BLOCK) {
			blocks++;
			__builtin_prefetch(ps_vh_bucket(p, region[i]));
		}
	}
	if (!blocks)
		return;
	for (i = 0; i < n; i++)
		if (etype(out[i]) == PS_E_BLOCK)
			out[i] = village_lookup(p, out[i] & PS_E_INDEX_MAX,
						region[i]);
}

void ps_plan_lpm_burst(const struct ps_plan *p, const uint64_t *region,
		       uint32_t *out, unsigned n)
{
	for (unsigned i = 0; i < n; i += PS_PLAN_CHUNK)
		lpm_chunk(p, region + i, out + i,
			  n - i < PS_PLAN_CHUNK ? n - i : PS_PLAN_CHUNK);
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
	uint16_t one;
	const uint16_t *c;
	uint32_t n = ps_nh_chutes(p, nh, &one, &c);
	if (__builtin_expect(!ps_chutes_any_out(cs), 1))
		return c[((uint64_t)hash * n) >> 32];
	/* Snapshot the enabled set once, then pick from the snapshot. */
	uint64_t mask[1024];
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!(i & 63))
			mask[i >> 6] = 0;
		if (ps_plan_chute_available(p, cs, c[i])) {
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
	uint16_t chute;
	if ((nh->chute_ref & PS_NH_INLINE) && !ps_chutes_any_out(cs))
		chute = (uint16_t)nh->chute_ref;     /* one chute: no hash */
	else
		chute = ps_plan_pick_chute(p, cs, nh,
					   ps_waybill_hash(s->waybill));
	if (!chute) {
		set_reject(p, d, PS_R_CHUTE_UNAVAILABLE);
		return;
	}
	d->chute = chute;
	d->tier = ps_nh_tier(nh);
	d->reason = ps_nh_reason(nh);
	d->hub = nh->hub;
	d->matched_prefix = ps_nh_prefix(nh);
}

/* A village route's decision straight from its hash slot; through the
 * next hop when it has several chutes or some chute is disabled. */
static inline void decide_village(const struct ps_plan *p,
				  const struct ps_chute_state *cs,
				  const struct ps_scan *s, struct ps_decision *d,
				  const struct ps_vh_slot *v)
{
	uint64_t dec = v->dec;
	uint16_t chute = (uint16_t)(dec >> 32);
	if (!chute || ps_chutes_any_out(cs)) {
		decide(p, cs, s, d, (uint32_t)(v->key_nh >> 40));
		return;
	}
	d->event_seq = s->event_seq;
	d->plan_version = p->version;
	d->chute = chute;
	d->tier = (uint8_t)(dec >> 48);
	d->reason = (uint8_t)(dec >> 56);
	d->hub = (uint32_t)dec;
	d->matched_prefix = v->key_nh & PS_VH_KEY_MASK;
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

/* The rules' next hop for each record (0: no rule matched). */
static inline void match_rules(const struct ps_plan *p,
			       const struct ps_scan *const *scans,
			       uint32_t *rule, unsigned n)
{
	const struct ps_rule_index *ri = &p->rules;
	unsigned i;
	if (!ri->n) {
		for (i = 0; i < n; i++)
			rule[i] = 0;
	} else if (ri->words == 1) {
		for (i = 0; i < n; i++) {
			int r = ps_rules_first_word(ri, scans[i]);
			rule[i] = r < 0 ? 0 : ri->nh[r];
		}
	} else {
		for (i = 0; i < n; i++)
			rule[i] = ps_plan_rule_match(p, scans[i]);
	}
}

/* Plans with village routes: every record not taken by a rule first
 * probes the village hash (one prefetched cache line, holding the
 * decision); only the others walk the route table. */
static void decide_chunk_villages(const struct ps_plan *p,
				  const struct ps_chute_state *cs,
				  const struct ps_scan *const *scans,
				  struct ps_decision *const *dec, unsigned n)
{
	const struct ps_vh_slot *bk[PS_PLAN_CHUNK], *v[PS_PLAN_CHUNK];
	uint64_t region[PS_PLAN_CHUNK];
	uint32_t nhi[PS_PLAN_CHUNK], rule[PS_PLAN_CHUNK];
	unsigned i, m = 0;
	/* the buckets' cache misses first, the rules while they are on */
	for (i = 0; i < n; i++) {
		bk[i] = ps_vh_bucket(p, scans[i]->region);
		__builtin_prefetch(bk[i]);
	}
	match_rules(p, scans, rule, n);
	for (i = 0; i < n; i++) {
		v[i] = rule[i] ? NULL : ps_vh_find(p, bk[i], scans[i]->region);
		if (!v[i] && !rule[i])
			region[m++] = scans[i]->region;
	}
	if (m)
		ps_plan_lpm_burst(p, region, nhi, m);
	for (i = 0; i < m; i++)
		__builtin_prefetch(&p->nh[nhi[i] ? nhi[i] : p->default_nh]);
	unsigned w = 0;
	for (i = 0; i < n; i++) {
		if (v[i]) {
			decide_village(p, cs, scans[i], dec[i], v[i]);
		} else if (rule[i]) {
			decide(p, cs, scans[i], dec[i], rule[i]);
		} else {
			uint32_t x = nhi[w++];
			decide(p, cs, scans[i], dec[i], x ? x : p->default_nh);
		}
	}
}

static void decide_chunk(const struct ps_plan *p,
			 const struct ps_chute_state *cs,
			 const struct ps_scan *const *scans,
			 struct ps_decision *const *dec, unsigned n)
{
	uint64_t region[PS_PLAN_CHUNK];
	uint32_t nhi[PS_PLAN_CHUNK], rule[PS_PLAN_CHUNK];
	unsigned i;
	if (p->n_vh) {
		decide_chunk_villages(p, cs, scans, dec, n);
		return;
	}
	match_rules(p, scans, rule, n);
	for (i = 0; i < n; i++)
		region[i] = scans[i]->region;
	ps_plan_lpm_burst(p, region, nhi, n);
	for (i = 0; i < n; i++) {
		if (rule[i])
			nhi[i] = rule[i];
		else if (!nhi[i])
			nhi[i] = p->default_nh;
		__builtin_prefetch(&p->nh[nhi[i]]);
	}
	for (i = 0; i < n; i++)
		decide(p, cs, scans[i], dec[i], nhi[i]);
}

void ps_plan_decide_burst(const struct ps_plan *p,
			  const struct ps_chute_state *cs,
			  const struct ps_scan *const *scans,
			  struct ps_decision *const *dec, unsigned n)
{
	for (unsigned i = 0; i < n; i += PS_PLAN_CHUNK)
		decide_chunk(p, cs, scans + i, dec + i,
			     n - i < PS_PLAN_CHUNK ? n - i : PS_PLAN_CHUNK);
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
