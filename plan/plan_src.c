/* plan_src.c: the sort plan source model: growing arrays, deep copy, field
 * parsers and formatters shared by parser, writer and edits. */
#include "plan_src.h"

#include <stdlib.h>
#include <string.h>

#include "ps_wire.h"

/* -------------------------------------------------------------- model */

void ps_plan_src_init(struct ps_plan_src *p)
{
	memset(p, 0, sizeof(*p));
}

void ps_plan_src_free(struct ps_plan_src *p)
{
	free(p->hubs);
	free(p->routes);
	free(p->rules);
	free(p->conds);
	free(p->chutes);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

/* Make room for one more element in a growing array. */
static int grow(void **arr, size_t *cap, size_t n, size_t more, size_t elem)
{
	if (n + more <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < n + more)
		nc *= 2;
	void *a = realloc(*arr, nc * elem);
	if (!a)
		return -1;
	*arr = a;
	*cap = nc;
	return 0;
}
#define GROW(p, field, more)                                               \
	grow((void **)&(p)->field, &(p)->cap_##field, (p)->n_##field, (more), \
	     sizeof(*(p)->field))

int ps_plan_add_chutes(struct ps_plan_src *p, const uint16_t *c, uint16_t n,
		       struct ps_chute_list *out)
{
	if (p->n_chutes + n > UINT32_MAX || GROW(p, chutes, n))
		return -1;
	memcpy(p->chutes + p->n_chutes, c, n * sizeof(*c));
	out->off = (uint32_t)p->n_chutes;
	out->n = n;
	p->n_chutes += n;
	return 0;
}

int ps_plan_add_hub(struct ps_plan_src *p, uint32_t id, uint8_t tier,
		    const char *name, size_t name_len, uint32_t line)
{
	if (GROW(p, hubs, 1) || GROW(p, names, name_len + 1) ||
	    p->n_names + name_len + 1 > UINT32_MAX)
		return -1;
	struct ps_hub_src *h = &p->hubs[p->n_hubs++];
	h->id = id;
	h->tier = tier;
	h->line = line;
	h->name_off = (uint32_t)p->n_names;
	memcpy(p->names + p->n_names, name, name_len);
	p->names[p->n_names + name_len] = 0;
	p->n_names += name_len + 1;
	return 0;
}

int ps_plan_add_route(struct ps_plan_src *p, const struct ps_route_src *r)
{
	if (GROW(p, routes, 1))
		return -1;
	p->routes[p->n_routes++] = *r;
	return 0;
}

int ps_plan_add_rule(struct ps_plan_src *p, const struct ps_rule_src *r,
		     const struct ps_cond *conds)
{
	if (GROW(p, rules, 1) || GROW(p, conds, r->n_conds))
		return -1;
	struct ps_rule_src *d = &p->rules[p->n_rules++];
	*d = *r;
	d->cond_off = (uint32_t)p->n_conds;
	memcpy(p->conds + p->n_conds, conds, r->n_conds * sizeof(*conds));
	p->n_conds += r->n_conds;
	return 0;
}

void ps_plan_del_hub(struct ps_plan_src *p, size_t i)
{
	p->hubs[i] = p->hubs[--p->n_hubs];
}

void ps_plan_del_route(struct ps_plan_src *p, size_t i)
{
	p->routes[i] = p->routes[--p->n_routes];
}

void ps_plan_del_rule(struct ps_plan_src *p, size_t i)
{
	p->rules[i] = p->rules[--p->n_rules];
}

long ps_plan_find_hub(const struct ps_plan_src *p, uint32_t id)
{
	for (size_t i = 0; i < p->n_hubs; i++)
		if (p->hubs[i].id == id)
			return (long)i;
	return -1;
}

long ps_plan_find_route(const struct ps_plan_src *p, uint64_t prefix,
			uint8_t digits)
{
	for (size_t i = 0; i < p->n_routes; i++)
		if (p->routes[i].prefix == prefix &&
		    p->routes[i].digits == digits)
			return (long)i;
	return -1;
}

long ps_plan_find_rule(const struct ps_plan_src *p, uint16_t priority)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].priority == priority)
			return (long)i;
	return -1;
}

const char *ps_plan_hub_name(const struct ps_plan_src *p,
			     const struct ps_hub_src *h)
{
	return p->names ? p->names + h->name_off : "";
}

int ps_plan_src_copy(struct ps_plan_src *d, const struct ps_plan_src *s)
{
	ps_plan_src_init(d);
	memcpy(d->name, s->name, sizeof(d->name));
	d->site = s->site;
	d->site_prefix = s->site_prefix;
	d->site_digits = s->site_digits;
	d->reject = s->reject;
	d->has_default = s->has_default;
	d->default_hub = s->default_hub;
	d->line_plan = s->line_plan;
	d->line_site = s->line_site;
	d->line_reject = s->line_reject;
	d->line_default = s->line_default;
	d->intercept = s->intercept;
	d->recirculate = s->recirculate;
	d->line_intercept = s->line_intercept;
	d->line_recirculate = s->line_recirculate;
	if (s->has_default &&
	    ps_plan_add_chutes(d, ps_plan_chutes(s, s->default_chutes),
			       s->default_chutes.n, &d->default_chutes))
		goto oom;
	for (size_t i = 0; i < s->n_hubs; i++) {
		const struct ps_hub_src *h = &s->hubs[i];
		const char *n = ps_plan_hub_name(s, h);
		if (ps_plan_add_hub(d, h->id, h->tier, n, strlen(n), h->line))
			goto oom;
	}
	if (GROW(d, routes, s->n_routes))
		goto oom;
	for (size_t i = 0; i < s->n_routes; i++) {
		struct ps_route_src r = s->routes[i];
		if (ps_plan_add_chutes(d, ps_plan_chutes(s, r.chutes),
				       r.chutes.n, &r.chutes) ||
		    ps_plan_add_route(d, &r))
			goto oom;
	}
	for (size_t i = 0; i < s->n_rules; i++) {
		struct ps_rule_src r = s->rules[i];
		if (ps_plan_add_chutes(d, ps_plan_chutes(s, r.chutes),
				       r.chutes.n, &r.chutes) ||
		    ps_plan_add_rule(d, &r, s->conds + r.cond_off))
			goto oom;
	}
	return 0;
oom:
	ps_plan_src_free(d);
	return -1;
}

/* ------------------------------------------------------ field parsers */

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Decimal number of at most 19 digits. */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	if (!all_digits(s, n) || n > 19)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	*v = x;
	return 0;
}

int ps_parse_prefix(const char *s, size_t n, uint64_t *v, uint8_t *digits)
{
	if (n != 2 && n != 4 && n != 6 && n != 9 && n != 12)
		return -1;
	if (parse_u64(s, n, v))
		return -1;
	/* a region code starts at province 11 */
	if (ps_region_pad(*v, (unsigned)n) < PS_REGION_MIN)
		return -1;
	*digits = (uint8_t)n;
	return 0;
}

int ps_parse_chutes(const char *s, size_t n, uint16_t *out, uint16_t *count,
		    size_t cap, const char **why)
{
	size_t k = 0, i = 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		uint64_t v;
		if (parse_u64(s + i, j - i, &v) || v < 1 || v > 65535) {
			*why = "a chute is a number 1..65535; a list is "
			       "comma-separated without spaces";
			return -1;
		}
		for (size_t m = 0; m < k; m++)
			if (out[m] == v) {
				*why = "a chute is repeated in the list";
				return -1;
			}
		if (k == cap) {
			*why = "too many chutes in one list";
			return -1;
		}
		out[k++] = (uint16_t)v;
		i = j + 1;
		if (j == n)
			break;
	}
	*count = (uint16_t)k;
	return 0;
}

int ps_parse_tier(const char *s, size_t n, uint8_t *tier)
{
	static const char *const names[] = { "trunk", "county", "township",
					     "village", "special" };
	for (unsigned i = 0; i < 5; i++)
		if (strlen(names[i]) == n && !memcmp(s, names[i], n)) {
			*tier = (uint8_t)(i + 1);
			return 0;
		}
	return -1;
}

static const struct {
	const char *name;
	uint8_t flag;
} service_names[] = {
	{ "cold_chain", PS_SVC_COLD_CHAIN },
	{ "bulky", PS_SVC_BULKY },
	{ "fragile", PS_SVC_FRAGILE },
	{ "international", PS_SVC_INTERNATIONAL },
	{ "time_definite", PS_SVC_TIME_DEFINITE },
	{ "cod", PS_SVC_COD },
	{ "return", PS_SVC_RETURN },
};

static int starts(const char *s, size_t n, const char *key)
{
	size_t k = strlen(key);
	return n >= k && !memcmp(s, key, k);
}

int ps_parse_cond(const char *s, size_t n, struct ps_cond *c,
		  const char **why)
{
	memset(c, 0, sizeof(*c));
	uint64_t v;
	if (starts(s, n, "service=")) {
		const char *f = s + 8;
		size_t fl = n - 8;
		for (size_t i = 0; i < 7; i++)
			if (strlen(service_names[i].name) == fl &&
			    !memcmp(f, service_names[i].name, fl)) {
				c->kind = PS_COND_SERVICE;
				c->value = service_names[i].flag;
				return 0;
			}
		*why = "unknown service flag (cold_chain, bulky, fragile, "
		       "international, time_definite, cod, return)";
		return -1;
	}
	if (starts(s, n, "carrier=")) {
		const char *l = s + 8;
		if (n != 10 || !((l[0] >= 'A' && l[0] <= 'Z') ||
				 (l[0] >= 'a' && l[0] <= 'z')) ||
		    !((l[1] >= 'A' && l[1] <= 'Z') ||
		      (l[1] >= 'a' && l[1] <= 'z'))) {
			*why = "carrier= takes two ASCII letters";
			return -1;
		}
		c->kind = PS_COND_CARRIER;
		c->value = (uint64_t)((uint8_t)l[0] << 8 | (uint8_t)l[1]);
		return 0;
	}
	if (starts(s, n, "weight>=") || starts(s, n, "weight<")) {
		int ge = s[6] == '>';
		size_t off = ge ? 8 : 7;
		if (parse_u64(s + off, n - off, &v) || v > UINT32_MAX) {
			*why = "weight takes grams 0..4294967295";
			return -1;
		}
		c->kind = ge ? PS_COND_WEIGHT_GE : PS_COND_WEIGHT_LT;
		c->value = v;
		return 0;
	}
	if (starts(s, n, "size>=")) {
		if (parse_u64(s + 6, n - 6, &v) || v > 65535) {
			*why = "size>= takes millimetres 0..65535";
			return -1;
		}
		c->kind = PS_COND_SIZE_GE;
		c->value = v;
		return 0;
	}
	if (starts(s, n, "prefix=")) {
		if (ps_parse_prefix(s + 7, n - 7, &v, &c->digits)) {
			*why = "prefix= takes 2, 4, 6, 9 or 12 digits of a "
			       "region code";
			return -1;
		}
		c->kind = PS_COND_PREFIX;
		c->value = v;
		return 0;
	}
	if (starts(s, n, "device=")) {
		if (parse_u64(s + 7, n - 7, &v) || v > 65535) {
			*why = "device= takes a scanner id 0..65535";
			return -1;
		}
		c->kind = PS_COND_DEVICE;
		c->value = v;
		return 0;
	}
	*why = "unknown condition (service=, carrier=, weight>=, weight<, "
	       "size>=, prefix=, device=)";
	return -1;
}

void ps_format_prefix(char *buf, size_t len, uint64_t v, uint8_t digits)
{
	snprintf(buf, len, "%0*llu", (int)digits, (unsigned long long)v);
}

int ps_format_cond(char *buf, size_t len, const struct ps_cond *c)
{
	char p[16];
	switch (c->kind) {
	case PS_COND_SERVICE:
		for (size_t i = 0; i < 7; i++)
			if (service_names[i].flag == c->value)
				return snprintf(buf, len, "service=%s",
						service_names[i].name);
		break;
	case PS_COND_CARRIER:
		return snprintf(buf, len, "carrier=%c%c",
				(char)(c->value >> 8), (char)c->value);
	case PS_COND_WEIGHT_GE:
		return snprintf(buf, len, "weight>=%llu",
				(unsigned long long)c->value);
	case PS_COND_WEIGHT_LT:
		return snprintf(buf, len, "weight<%llu",
				(unsigned long long)c->value);
	case PS_COND_SIZE_GE:
		return snprintf(buf, len, "size>=%llu",
				(unsigned long long)c->value);
	case PS_COND_PREFIX:
		ps_format_prefix(p, sizeof(p), c->value, c->digits);
		return snprintf(buf, len, "prefix=%s", p);
	case PS_COND_DEVICE:
		return snprintf(buf, len, "device=%llu",
				(unsigned long long)c->value);
	}
	return snprintf(buf, len, "?");
}
