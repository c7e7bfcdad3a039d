/* plan_rules.c: build the bitset index of override rules. Each rule is first
 * reduced to one constraint per field (service mask, carrier, device, weight
 * interval, size interval, region interval); a rule whose conditions
 * contradict each other (two carriers, an empty interval) can never match
 * and is left out of every bitset. */
#include <stdlib.h>
#include <string.h>

#include "plan_rules.h"

struct constraint {
	uint8_t svc;
	uint8_t impossible;
	int32_t carrier;          /* -1: any */
	int32_t device;           /* -1: any */
	uint64_t w_lo, w_hi;      /* [lo, hi) */
	uint64_t s_lo, s_hi;
	uint64_t r_lo, r_hi;
};

#define UNBOUNDED (1ull << 62)

static void reduce(const struct ps_plan_src *src, const struct ps_rule_src *r,
		   struct constraint *c)
{
	memset(c, 0, sizeof(*c));
	c->carrier = c->device = -1;
	c->w_hi = c->s_hi = c->r_hi = UNBOUNDED;
	for (uint16_t k = 0; k < r->n_conds; k++) {
		const struct ps_cond *d = &src->conds[r->cond_off + k];
		uint64_t lo, hi;
		switch (d->kind) {
		case PS_COND_SERVICE:
			c->svc |= (uint8_t)d->value;
			break;
		case PS_COND_CARRIER:
			if (c->carrier >= 0 && c->carrier != (int32_t)d->value)
				c->impossible = 1;
			c->carrier = (int32_t)d->value;
			break;
		case PS_COND_DEVICE:
			if (c->device >= 0 && c->device != (int32_t)d->value)
				c->impossible = 1;
			c->device = (int32_t)d->value;
			break;
		case PS_COND_WEIGHT_GE:
			if (d->value > c->w_lo)
				c->w_lo = d->value;
			break;
		case PS_COND_WEIGHT_LT:
			if (d->value < c->w_hi)
				c->w_hi = d->value;
			break;
		case PS_COND_SIZE_GE:
			if (d->value > c->s_lo)
				c->s_lo = d->value;
			break;
		case PS_COND_PREFIX:
			lo = ps_region_pad(d->value, d->digits);
			hi = lo + ps_region_pad(1, d->digits);
			if (lo > c->r_lo)
				c->r_lo = lo;
			if (hi < c->r_hi)
				c->r_hi = hi;
			break;
		}
	}
	if (c->w_lo >= c->w_hi || c->s_lo >= c->s_hi || c->r_lo >= c->r_hi)
		c->impossible = 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Sorted distinct values of arr[0..n), with 0 first; returns the count. */
static uint32_t distinct_u64(uint64_t *arr, uint32_t n)
{
	qsort(arr, n, sizeof(*arr), cmp_u64);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		if (k == 0 || arr[k - 1] != arr[i])
			arr[k++] = arr[i];
	return k;
}

static uint32_t distinct_u16(uint16_t *arr, uint32_t n)
{
	qsort(arr, n, sizeof(*arr), cmp_u16);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		if (k == 0 || arr[k - 1] != arr[i])
			arr[k++] = arr[i];
	return k;
}

static inline void set_bit(uint64_t *bs, uint32_t r)
{
	bs[r >> 6] |= 1ull << (r & 63);
}

/* Interval field: bounds from every lo and hi, bitset per interval. */
static int build_intervals(struct ps_rule_index *ri, const struct constraint *c,
			   uint32_t n, size_t lo_off, size_t hi_off,
			   uint64_t **bound_out, uint64_t **bits_out,
			   uint32_t *nb_out)
{
	uint64_t *b = malloc((2 * (size_t)n + 1) * sizeof(*b));
	if (!b)
		return -1;
	uint32_t k = 0;
	b[k++] = 0;
	for (uint32_t i = 0; i < n; i++) {
		const char *base = (const char *)&c[i];
		uint64_t lo = *(const uint64_t *)(base + lo_off);
		uint64_t hi = *(const uint64_t *)(base + hi_off);
		b[k++] = lo;
		if (hi != UNBOUNDED)
			b[k++] = hi;
	}
	uint32_t nb = distinct_u64(b, k);
	uint64_t *bits = calloc((size_t)nb * ri->words, sizeof(*bits));
	if (!bits) {
		free(b);
		return -1;
	}
	for (uint32_t r = 0; r < n; r++) {
		if (c[r].impossible)
			continue;
		const char *base = (const char *)&c[r];
		uint64_t lo = *(const uint64_t *)(base + lo_off);
		uint64_t hi = *(const uint64_t *)(base + hi_off);
		for (uint32_t i = 0; i < nb; i++)
			if (lo <= b[i] && b[i] < hi)
				set_bit(bits + (size_t)i * ri->words, r);
	}
	*bound_out = b;
	*bits_out = bits;
	*nb_out = nb;
	ri->bytes += nb * sizeof(*b) + (size_t)nb * ri->words * sizeof(*bits);
	return 0;
}

/* Exact-match field (carrier, device): keys named by some rule, plus an
 * "other" bitset at index n_keys for rules that do not constrain it. */
static int build_keys(struct ps_rule_index *ri, const struct constraint *c,
		      uint32_t n, int carrier, uint16_t **key_out,
		      uint64_t **bits_out, uint32_t *nk_out)
{
	uint16_t *key = malloc(((size_t)n + 1) * sizeof(*key));
	if (!key)
		return -1;
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		int32_t v = carrier ? c[i].carrier : c[i].device;
		if (v >= 0)
			key[k++] = (uint16_t)v;
	}
	uint32_t nk = distinct_u16(key, k);
	uint64_t *bits = calloc(((size_t)nk + 1) * ri->words, sizeof(*bits));
	if (!bits) {
		free(key);
		return -1;
	}
	for (uint32_t r = 0; r < n; r++) {
		if (c[r].impossible)
			continue;
		int32_t v = carrier ? c[r].carrier : c[r].device;
		for (uint32_t i = 0; i <= nk; i++)
			if (v < 0 || (i < nk && key[i] == v))
				set_bit(bits + (size_t)i * ri->words, r);
	}
	*key_out = key;
	*bits_out = bits;
	*nk_out = nk;
	ri->bytes += (nk + 1) * sizeof(*key) +
		     ((size_t)nk + 1) * ri->words * sizeof(*bits);
	return 0;
}

/* Does every one of the count bitsets hold all n rules? */
static int holds_all(const uint64_t *sets, uint32_t count, uint32_t words,
		     uint32_t n)
{
	for (uint32_t k = 0; k < count; k++)
		for (uint32_t r = 0; r < n; r++)
			if (!((sets[(size_t)k * words + r / 64] >> (r % 64)) & 1))
				return 0;
	return 1;
}

static void find_active(struct ps_rule_index *ri)
{
	uint32_t w = ri->words, n = ri->n;
	ri->all = n >= 64 ? ~0ull : (1ull << n) - 1;
	ri->active = 0;
	if (!holds_all(ri->svc, 128, w, n))
		ri->active |= PS_RF_SVC;
	if (!holds_all(ri->car, ri->n_car + 1, w, n))
		ri->active |= PS_RF_CAR;
	if (!holds_all(ri->dev, ri->n_dev + 1, w, n))
		ri->active |= PS_RF_DEV;
	if (!holds_all(ri->w, ri->n_w, w, n))
		ri->active |= PS_RF_W;
	if (!holds_all(ri->s, ri->n_s, w, n))
		ri->active |= PS_RF_S;
	if (!holds_all(ri->r, ri->n_r, w, n))
		ri->active |= PS_RF_R;
}

int ps_rules_build(struct ps_rule_index *ri, const struct ps_plan_src *src,
		   const struct ps_rule_src *const *rules, const uint32_t *nh,
		   uint32_t n, struct ps_errors *errs)
{
	memset(ri, 0, sizeof(*ri));
	ri->n = n;
	ri->words = n ? (n + 63) / 64 : 1;
	struct constraint *c = calloc(n ? n : 1, sizeof(*c));
	ri->nh = malloc((n ? n : 1) * sizeof(*ri->nh));
	ri->priority = malloc((n ? n : 1) * sizeof(*ri->priority));
	ri->svc = calloc(128 * (size_t)ri->words, sizeof(*ri->svc));
	if (!c || !ri->nh || !ri->priority || !ri->svc)
		goto oom;
	ri->bytes = n * (sizeof(*ri->nh) + sizeof(*ri->priority)) +
		    128 * (size_t)ri->words * sizeof(*ri->svc);
	for (uint32_t r = 0; r < n; r++) {
		reduce(src, rules[r], &c[r]);
		ri->nh[r] = nh[r];
		ri->priority[r] = rules[r]->priority;
		for (uint32_t v = 0; v < 128 && !c[r].impossible; v++)
			if ((v & c[r].svc) == c[r].svc)
				set_bit(ri->svc + (size_t)v * ri->words, r);
	}
	if (build_keys(ri, c, n, 1, &ri->car_key, &ri->car, &ri->n_car) ||
	    build_keys(ri, c, n, 0, &ri->dev_key, &ri->dev, &ri->n_dev) ||
	    build_intervals(ri, c, n, offsetof(struct constraint, w_lo),
			    offsetof(struct constraint, w_hi), &ri->w_bound,
			    &ri->w, &ri->n_w) ||
	    build_intervals(ri, c, n, offsetof(struct constraint, s_lo),
			    offsetof(struct constraint, s_hi), &ri->s_bound,
			    &ri->s, &ri->n_s) ||
	    build_intervals(ri, c, n, offsetof(struct constraint, r_lo),
			    offsetof(struct constraint, r_hi), &ri->r_bound,
			    &ri->r, &ri->n_r))
		goto oom;
	find_active(ri);
	free(c);
	return 0;
oom:
	free(c);
	ps_rules_free(ri);
	ps_errors_add(errs, "plan", 0, "out of memory building the rule index "
		      "(%u rules)", n);
	return -1;
}

void ps_rules_free(struct ps_rule_index *ri)
{
	free(ri->nh);
	free(ri->priority);
	free(ri->svc);
	free(ri->car_key);
	free(ri->car);
	free(ri->dev_key);
	free(ri->dev);
	free(ri->w_bound);
	free(ri->w);
	free(ri->s_bound);
	free(ri->s);
	free(ri->r_bound);
	free(ri->r);
	memset(ri, 0, sizeof(*ri));
}
