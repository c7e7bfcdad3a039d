/* plan_diff.c: the difference between two sort plan models. Entries are
 * matched by key and compared field by field (chute lists and conditions
 * element by element, over their full length); each difference is shown
 * as its canonical plan line, whole. */
#include "plan_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_wire.h"
#include "u64map.h"

struct side {
	uint64_t *key;           /* per entry, in the plan's order */
	size_t n;
	struct ps_u64map map;    /* key -> index */
};

static int same_chutes(const struct ps_plan_src *a, struct ps_chute_list la,
		       const struct ps_plan_src *b, struct ps_chute_list lb)
{
	return la.n == lb.n && !memcmp(ps_plan_chutes(a, la),
				       ps_plan_chutes(b, lb),
				       la.n * sizeof(uint16_t));
}

static int same_cond(const struct ps_cond *x, const struct ps_cond *y)
{
	return x->kind == y->kind && x->value == y->value &&
	       (x->kind != PS_COND_PREFIX || x->digits == y->digits);
}

/* kind: 0 hubs, 1 routes, 2 rules; entry i of a against entry j of b. */
static int same_entry(const struct ps_plan_src *a, size_t i,
		      const struct ps_plan_src *b, size_t j, int kind)
{
	if (kind == 0) {
		const struct ps_hub_src *x = &a->hubs[i], *y = &b->hubs[j];
		return x->tier == y->tier && !strcmp(ps_plan_hub_name(a, x),
						     ps_plan_hub_name(b, y));
	}
	if (kind == 1) {
		const struct ps_route_src *x = &a->routes[i], *y = &b->routes[j];
		return x->hub == y->hub &&
		       same_chutes(a, x->chutes, b, y->chutes);
	}
	const struct ps_rule_src *x = &a->rules[i], *y = &b->rules[j];
	if (x->hub != y->hub || x->n_conds != y->n_conds ||
	    !same_chutes(a, x->chutes, b, y->chutes))
		return 0;
	for (uint16_t k = 0; k < x->n_conds; k++)
		if (!same_cond(&a->conds[x->cond_off + k],
			       &b->conds[y->cond_off + k]))
			return 0;
	return 1;
}

/* The whole list, every chute: output grows with the plan, never cut. */
static void put_chutes(struct ps_out *o, const struct ps_plan_src *p,
		       struct ps_chute_list l)
{
	const uint16_t *c = ps_plan_chutes(p, l);
	for (uint16_t i = 0; i < l.n; i++)
		ps_out_printf(o, i ? ",%u" : "%u", c[i]);
}

/* Entry i as its canonical plan line, in o. */
static void put_entry(struct ps_out *o, const struct ps_plan_src *p,
		      size_t i, int kind)
{
	char pf[16], cond[64];
	if (kind == 0) {
		const struct ps_hub_src *h = &p->hubs[i];
		ps_out_printf(o, "hub %u %s %s", h->id, ps_tier_name(h->tier),
			      ps_plan_hub_name(p, h));
	} else if (kind == 1) {
		const struct ps_route_src *r = &p->routes[i];
		ps_format_prefix(pf, sizeof(pf), r->prefix, r->digits);
		ps_out_printf(o, "route %s %u ", pf, r->hub);
		put_chutes(o, p, r->chutes);
	} else {
		const struct ps_rule_src *r = &p->rules[i];
		ps_out_printf(o, "rule %u %u ", r->priority, r->hub);
		put_chutes(o, p, r->chutes);
		for (uint16_t c = 0; c < r->n_conds; c++) {
			ps_format_cond(cond, sizeof(cond),
				       &p->conds[r->cond_off + c]);
			ps_out_printf(o, " %s", cond);
		}
	}
}

/* A line of its own: entry i of a, or "A -> B" when b is given. NULL when
 * out of memory. */
static char *entry_line(const struct ps_plan_src *a, size_t i,
			const struct ps_plan_src *b, size_t j, int kind)
{
	struct ps_out o;
	ps_out_init(&o);
	put_entry(&o, a, i, kind);
	if (b) {
		ps_out_write(&o, " -> ", 4);
		put_entry(&o, b, j, kind);
	}
	if (o.oom || !o.buf) {
		ps_out_free(&o);
		return NULL;
	}
	return o.buf;
}

static uint64_t entry_key(const struct ps_plan_src *p, size_t i, int kind)
{
	if (kind == 0)
		return p->hubs[i].id;
	if (kind == 1)
		return p->routes[i].prefix << 4 | p->routes[i].digits;
	return p->rules[i].priority;
}

static int index_side(const struct ps_plan_src *p, int kind, struct side *s)
{
	size_t n = kind == 0 ? p->n_hubs : kind == 1 ? p->n_routes : p->n_rules;
	s->key = calloc(n ? n : 1, sizeof(*s->key));
	s->n = n;
	if (!s->key || ps_u64map_init(&s->map, n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		s->key[i] = entry_key(p, i, kind);
		ps_u64map_put(&s->map, s->key[i], (uint32_t)i);
	}
	return 0;
}

static void side_free(struct side *s)
{
	free(s->key);
	ps_u64map_free(&s->map);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct lists {
	char **v[3];             /* added, removed, changed */
	size_t n[3];
};

/* Adds a line to a list; -1 when out of memory (line is NULL). */
static int push(struct lists *l, int which, char *line)
{
	if (!line)
		return -1;
	l->v[which][l->n[which]++] = line;
	return 0;
}

/* Sort the entries of one kind into added, removed and changed lines. */
static int collect(const struct ps_plan_src *a, const struct ps_plan_src *b,
		   int kind, const struct side *sa, const struct side *sb,
		   struct lists *l)
{
	for (size_t i = 0; i < sb->n; i++) {
		uint32_t j = ps_u64map_get(&sa->map, sb->key[i]);
		if (j == PS_U64MAP_EMPTY) {
			if (push(l, 0, entry_line(b, i, NULL, 0, kind)))
				return -1;
		} else if (!same_entry(a, j, b, i, kind)) {
			if (push(l, 2, entry_line(a, j, b, i, kind)))
				return -1;
		}
	}
	for (size_t i = 0; i < sa->n; i++)
		if (ps_u64map_get(&sb->map, sa->key[i]) == PS_U64MAP_EMPTY &&
		    push(l, 1, entry_line(a, i, NULL, 0, kind)))
			return -1;
	return 0;
}

static long print_lists(struct lists *l, const char *name, struct ps_out *o,
			int json, int *first_kind)
{
	static const char *const label[3] = { "added", "removed", "changed" };
	static const char mark[3] = { '+', '-', '~' };
	long count = 0;
	if (json) {
		ps_out_printf(o, "%s\"%s\":{", *first_kind ? "" : ",", name);
		*first_kind = 0;
	}
	for (int w = 0; w < 3; w++) {
		qsort(l->v[w], l->n[w], sizeof(char *), cmp_line);
		if (json)
			ps_out_printf(o, "%s\"%s\":[", w ? "," : "", label[w]);
		for (size_t i = 0; i < l->n[w]; i++) {
			if (json) {
				if (i)
					ps_out_write(o, ",", 1);
				ps_out_json_str(o, l->v[w][i]);
			} else {
				ps_out_printf(o, "%c %s\n", mark[w], l->v[w][i]);
			}
		}
		if (json)
			ps_out_write(o, "]", 1);
		count += (long)l->n[w];
	}
	if (json)
		ps_out_write(o, "}", 1);
	return count;
}

static long diff_kind(const struct ps_plan_src *a, const struct ps_plan_src *b,
		      int kind, const char *name, struct ps_out *o, int json,
		      int *first_kind)
{
	struct side sa = { 0 }, sb = { 0 };
	struct lists l = { 0 };
	long count = -1;
	if (index_side(a, kind, &sa) || index_side(b, kind, &sb))
		goto out;
	for (int w = 0; w < 3; w++) {
		l.v[w] = calloc(sa.n + sb.n + 1, sizeof(char *));
		if (!l.v[w])
			goto out;
	}
	if (collect(a, b, kind, &sa, &sb, &l) == 0)
		count = print_lists(&l, name, o, json, first_kind);
out:
	for (int w = 0; w < 3; w++) {
		for (size_t i = 0; i < l.n[w]; i++)
			free(l.v[w][i]);
		free(l.v[w]);
	}
	side_free(&sa);
	side_free(&sb);
	return count;
}

static void chute_set(const struct ps_plan_src *p, uint8_t *used)
{
	memset(used, 0, 65536);
	for (size_t i = 0; i < p->n_routes; i++)
		for (uint16_t k = 0; k < p->routes[i].chutes.n; k++)
			used[ps_plan_chutes(p, p->routes[i].chutes)[k]] = 1;
	for (size_t i = 0; i < p->n_rules; i++)
		for (uint16_t k = 0; k < p->rules[i].chutes.n; k++)
			used[ps_plan_chutes(p, p->rules[i].chutes)[k]] = 1;
	if (p->has_default)
		for (uint16_t k = 0; k < p->default_chutes.n; k++)
			used[ps_plan_chutes(p, p->default_chutes)[k]] = 1;
	used[p->reject] = 1;
}

static long diff_chutes(const struct ps_plan_src *a,
			const struct ps_plan_src *b, struct ps_out *o,
			int json)
{
	uint8_t *ua = malloc(65536), *ub = malloc(65536);
	long n = 0;
	if (!ua || !ub) {
		free(ua);
		free(ub);
		return -1;
	}
	chute_set(a, ua);
	chute_set(b, ub);
	for (int w = 0; w < 2; w++) {
		int first = 1;
		if (json)
			ps_out_printf(o, "%s\"%s\":[", w ? "," : ",\"chutes\":{",
				      w ? "removed" : "added");
		for (unsigned c = 1; c < 65536; c++) {
			int hit = w ? ua[c] && !ub[c] : ub[c] && !ua[c];
			if (!hit)
				continue;
			n++;
			if (json)
				ps_out_printf(o, "%s%u", first ? "" : ",", c);
			else
				ps_out_printf(o, "%c chute %u\n", w ? '-' : '+', c);
			first = 0;
		}
		if (json)
			ps_out_write(o, "]", 1);
	}
	if (json)
		ps_out_write(o, "}", 1);
	free(ua);
	free(ub);
	return n;
}

/* The settings: 0 plan name, 1 site, 2 reject chute, 3 default,
 * 4 intercept chute, 5 recirculation limit. */
static int same_setting(const struct ps_plan_src *a,
			const struct ps_plan_src *b, int which)
{
	switch (which) {
	case 0: return !strcmp(a->name, b->name);
	case 1: return a->site == b->site && a->site_prefix == b->site_prefix &&
		       a->site_digits == b->site_digits;
	case 2: return a->reject == b->reject;
	case 4: return a->intercept == b->intercept;
	case 5: return a->recirculate == b->recirculate;
	default:
		if (a->has_default != b->has_default)
			return 0;
		return !a->has_default || (a->default_hub == b->default_hub &&
					   same_chutes(a, a->default_chutes,
						       b, b->default_chutes));
	}
}

static void put_setting(struct ps_out *o, const struct ps_plan_src *p,
			int which)
{
	char pf[16];
	switch (which) {
	case 0: ps_out_printf(o, "plan %s", p->name); break;
	case 1:
		ps_format_prefix(pf, sizeof(pf), p->site_prefix, p->site_digits);
		ps_out_printf(o, "site %u %s", p->site, pf);
		break;
	case 2: ps_out_printf(o, "reject %u", p->reject); break;
	case 4:
		if (p->intercept)
			ps_out_printf(o, "intercept %u", p->intercept);
		else
			ps_out_printf(o, "no intercept");
		break;
	case 5:
		if (p->recirculate)
			ps_out_printf(o, "recirculate %u", p->recirculate);
		else
			ps_out_printf(o, "no recirculate");
		break;
	default:
		if (!p->has_default) {
			ps_out_printf(o, "no default");
			break;
		}
		ps_out_printf(o, "default %u ", p->default_hub);
		put_chutes(o, p, p->default_chutes);
	}
}

static long diff_singletons(const struct ps_plan_src *a,
			    const struct ps_plan_src *b, struct ps_out *o,
			    int json)
{
	long n = 0;
	if (json)
		ps_out_write(o, ",\"settings\":[", 13);
	for (int i = 0; i < 6; i++) {
		if (same_setting(a, b, i))
			continue;
		struct ps_out line;
		ps_out_init(&line);
		put_setting(&line, a, i);
		ps_out_write(&line, " -> ", 4);
		put_setting(&line, b, i);
		if (line.oom) {
			ps_out_free(&line);
			return -1;
		}
		if (json) {
			if (n)
				ps_out_write(o, ",", 1);
			ps_out_json_str(o, line.buf);
		} else {
			ps_out_printf(o, "~ %s\n", line.buf);
		}
		ps_out_free(&line);
		n++;
	}
	if (json)
		ps_out_write(o, "]", 1);
	return n;
}

long ps_plan_diff(const struct ps_plan_src *a, const struct ps_plan_src *b,
		  struct ps_out *o, int json)
{
	long total = 0, n;
	int first = 1;
	if (json)
		ps_out_write(o, "{", 1);
	static const char *const names[3] = { "hubs", "routes", "rules" };
	for (int k = 0; k < 3; k++) {
		if ((n = diff_kind(a, b, k, names[k], o, json, &first)) < 0)
			return -1;
		total += n;
	}
	if ((n = diff_singletons(a, b, o, json)) < 0)
		return -1;
	total += n;
	if ((n = diff_chutes(a, b, o, json)) < 0)
		return -1;
	total += n;
	if (json)
		ps_out_printf(o, ",\"differences\":%ld}", total);
	return o->oom ? -1 : total;
}
