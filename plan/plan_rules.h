/* plan_rules.h: the override-rule classifier: build the per-field bitset
 * index of a plan's rules and find the first rule a record matches. */
#ifndef PS_PLAN_RULES_H
#define PS_PLAN_RULES_H

#include "plan.h"

/* Build over rules sorted by priority, each with its next-hop index. */
int ps_rules_build(struct ps_rule_index *ri, const struct ps_plan_src *src,
		   const struct ps_rule_src *const *rules, const uint32_t *nh,
		   uint32_t n, struct ps_errors *errs);
void ps_rules_free(struct ps_rule_index *ri);

static inline uint32_t ps_rules_bound_index(const uint64_t *bound, uint32_t n,
					    uint64_t x)
{
	/* largest i with bound[i] <= x; bound[0] == 0 */
	if (n <= 8) {           /* the usual few intervals: count, no branches */
		uint32_t k = 0;
		for (uint32_t i = 1; i < n; i++)
			k += bound[i] <= x;
		return k;
	}
	uint32_t lo = 0, len = n;
	while (len > 1) {
		uint32_t half = len / 2;
		lo = bound[lo + half] <= x ? lo + half : lo;
		len -= half;
	}
	return lo;
}

static inline uint32_t ps_rules_key_index(const uint16_t *key, uint32_t n,
					  uint16_t x)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (key[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && key[lo] == x ? lo : n;   /* n: "other" */
}

static inline uint16_t ps_rules_size(const struct ps_scan *s)
{
	uint16_t size = s->length_mm;
	if (s->width_mm > size)
		size = s->width_mm;
	if (s->height_mm > size)
		size = s->height_mm;
	return size;
}

/* Up to 64 rules (one word): only the fields some rule narrows. */
static inline int ps_rules_first_word(const struct ps_rule_index *ri,
				      const struct ps_scan *s)
{
	uint64_t m = ri->all;
	uint32_t act = ri->active;
	if (act & PS_RF_SVC)
		m &= ri->svc[s->service & 0x7f];
	if (act & PS_RF_CAR)
		m &= ri->car[ps_rules_key_index(ri->car_key, ri->n_car,
						s->carrier)];
	if (act & PS_RF_DEV)
		m &= ri->dev[ps_rules_key_index(ri->dev_key, ri->n_dev,
						s->device)];
	if (act & PS_RF_W)
		m &= ri->w[ps_rules_bound_index(ri->w_bound, ri->n_w,
						s->weight_g)];
	if (act & PS_RF_S)
		m &= ri->s[ps_rules_bound_index(ri->s_bound, ri->n_s,
						ps_rules_size(s))];
	if (act & PS_RF_R)
		m &= ri->r[ps_rules_bound_index(ri->r_bound, ri->n_r,
						s->region)];
	return m ? (int)__builtin_ctzll(m) : -1;
}

/* Position (in priority order) of the first matching rule, or -1. */
static inline int ps_rules_first(const struct ps_rule_index *ri,
				 const struct ps_scan *s)
{
	uint32_t w = ri->words;
	if (w == 1)
		return ps_rules_first_word(ri, s);
	uint16_t size = ps_rules_size(s);
	const uint64_t *a = ri->svc + (size_t)(s->service & 0x7f) * w;
	const uint64_t *b = ri->car +
		(size_t)ps_rules_key_index(ri->car_key, ri->n_car, s->carrier) * w;
	const uint64_t *c = ri->dev +
		(size_t)ps_rules_key_index(ri->dev_key, ri->n_dev, s->device) * w;
	const uint64_t *d = ri->w +
		(size_t)ps_rules_bound_index(ri->w_bound, ri->n_w, s->weight_g) * w;
	const uint64_t *e = ri->s +
		(size_t)ps_rules_bound_index(ri->s_bound, ri->n_s, size) * w;
	const uint64_t *f = ri->r +
		(size_t)ps_rules_bound_index(ri->r_bound, ri->n_r, s->region) * w;
	for (uint32_t i = 0; i < w; i++) {
		uint64_t m = a[i] & b[i] & c[i] & d[i] & e[i] & f[i];
		if (m)
			return (int)(i * 64 + (uint32_t)__builtin_ctzll(m));
	}
	return -1;
}

#endif
