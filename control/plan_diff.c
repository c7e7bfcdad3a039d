/* plan_diff.c: the difference between two sort plan models. Every entry is
 * rendered as its canonical plan line and compared by key. */
#include "plan_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_wire.h"
#include "u64map.h"

struct entry {
	uint64_t key;
	char *line;
};

struct side {
	struct entry *e;
	size_t n;
	struct ps_u64map map;
};

static void chutes_str(char *buf, size_t cap, const struct ps_plan_src *p,
		       struct ps_chute_list l)
{
	size_t k = 0;
	const uint16_t *c = ps_plan_chutes(p, l);
	buf[0] = 0;
	for (uint16_t i = 0; i < l.n && k + 8 < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, i ? ",%u" : "%u", c[i]);
}

/* kind: 0 hubs, 1 routes, 2 rules */
static int render(const struct ps_plan_src *p, int kind, struct side *s)
{
	size_t n = kind == 0 ? p->n_hubs : kind == 1 ? p->n_routes : p->n_rules;
	s->e = calloc(n ? n : 1, sizeof(*s->e));
	s->n = n;
	if (!s->e || ps_u64map_init(&s->map, n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char line[8192], ch[4096], pf[16];
		if (kind == 0) {
			const struct ps_hub_src *h = &p->hubs[i];
			s->e[i].key = h->id;
			snprintf(line, sizeof(line), "hub %u %s %s", h->id,
				 ps_tier_name(h->tier), ps_plan_hub_name(p, h));
		} else if (kind == 1) {
			const struct ps_route_src *r = &p->routes[i];
			s->e[i].key = r->prefix << 4 | r->digits;
			ps_format_prefix(pf, sizeof(pf), r->prefix, r->digits);
			chutes_str(ch, sizeof(ch), p, r->chutes);
			snprintf(line, sizeof(line), "route %s %u %s", pf, r->hub,
				 ch);
		} else {
			const struct ps_rule_src *r = &p->rules[i];
			s->e[i].key = r->priority;
			chutes_str(ch, sizeof(ch), p, r->chutes);
			size_t k = (size_t)snprintf(line, sizeof(line),
						    "rule %u %u %s", r->priority,
						    r->hub, ch);
			for (uint16_t c = 0; c < r->n_conds && k < 7000; c++) {
				char cond[64];
				ps_format_cond(cond, sizeof(cond),
					       &p->conds[r->cond_off + c]);
				k += (size_t)snprintf(line + k, sizeof(line) - k,
						      " %s", cond);
			}
		}
		s->e[i].line = strdup(line);
		if (!s->e[i].line)
			return -1;
		ps_u64map_put(&s->map, s->e[i].key, (uint32_t)i);
	}
	return 0;
}

static void side_free(struct side *s)
{
	for (size_t i = 0; i < s->n && s->e; i++)
		free(s->e[i].line);
	free(s->e);
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

static void push(struct lists *l, int which, char *s)
{
	l->v[which][l->n[which]++] = s;
}

static long diff_kind(const struct ps_plan_src *a, const struct ps_plan_src *b,
		      int kind, const char *name, struct ps_out *o, int json,
		      int *first_kind)
{
	struct side sa = { 0 }, sb = { 0 };
	struct lists l = { 0 };
	long count = -1;
	if (render(a, kind, &sa) || render(b, kind, &sb))
		goto out;
	for (int w = 0; w < 3; w++) {
		l.v[w] = calloc(sa.n + sb.n + 1, sizeof(char *));
		if (!l.v[w])
			goto out;
	}
	for (size_t i = 0; i < sb.n; i++) {
		uint32_t j = ps_u64map_get(&sa.map, sb.e[i].key);
		if (j == PS_U64MAP_EMPTY) {
			push(&l, 0, sb.e[i].line);
		} else if (strcmp(sa.e[j].line, sb.e[i].line)) {
			char *c = malloc(strlen(sa.e[j].line) +
					 strlen(sb.e[i].line) + 8);
			if (!c)
				goto out;
			sprintf(c, "%s -> %s", sa.e[j].line, sb.e[i].line);
			push(&l, 2, c);
		}
	}
	for (size_t i = 0; i < sa.n; i++)
		if (ps_u64map_get(&sb.map, sa.e[i].key) == PS_U64MAP_EMPTY)
			push(&l, 1, sa.e[i].line);
	static const char *const label[3] = { "added", "removed", "changed" };
	static const char mark[3] = { '+', '-', '~' };
	if (json) {
		ps_out_printf(o, "%s\"%s\":{", *first_kind ? "" : ",", name);
		*first_kind = 0;
	}
	count = 0;
	for (int w = 0; w < 3; w++) {
		qsort(l.v[w], l.n[w], sizeof(char *), cmp_line);
		if (json)
			ps_out_printf(o, "%s\"%s\":[", w ? "," : "", label[w]);
		for (size_t i = 0; i < l.n[w]; i++) {
			if (json) {
				if (i)
					ps_out_write(o, ",", 1);
				ps_out_json_str(o, l.v[w][i]);
			} else {
				ps_out_printf(o, "%c %s\n", mark[w], l.v[w][i]);
			}
		}
		if (json)
			ps_out_write(o, "]", 1);
		count += (long)l.n[w];
	}
	if (json)
		ps_out_write(o, "}", 1);
	for (size_t i = 0; i < l.n[2]; i++)
		free(l.v[2][i]);
out:
	for (int w = 0; w < 3; w++)
		free(l.v[w]);
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

static long diff_singletons(const struct ps_plan_src *a,
			    const struct ps_plan_src *b, struct ps_out *o,
			    int json)
{
	char sa[128], sb[128], pa[16], pb[16];
	long n = 0;
	if (json)
		ps_out_write(o, ",\"settings\":[", 13);
	struct { const char *what; char a[128], b[128]; } s[6];
	snprintf(s[0].a, 128, "plan %s", a->name);
	snprintf(s[0].b, 128, "plan %s", b->name);
	ps_format_prefix(pa, sizeof(pa), a->site_prefix, a->site_digits);
	ps_format_prefix(pb, sizeof(pb), b->site_prefix, b->site_digits);
	snprintf(s[1].a, 128, "site %u %s", a->site, pa);
	snprintf(s[1].b, 128, "site %u %s", b->site, pb);
	snprintf(s[2].a, 128, "reject %u", a->reject);
	snprintf(s[2].b, 128, "reject %u", b->reject);
	chutes_str(sa, sizeof(sa), a, a->default_chutes);
	chutes_str(sb, sizeof(sb), b, b->default_chutes);
	if (a->has_default)
		snprintf(s[3].a, 128, "default %u %s", a->default_hub, sa);
	else
		snprintf(s[3].a, 128, "no default");
	if (b->has_default)
		snprintf(s[3].b, 128, "default %u %s", b->default_hub, sb);
	else
		snprintf(s[3].b, 128, "no default");
	if (a->intercept)
		snprintf(s[4].a, 128, "intercept %u", a->intercept);
	else
		snprintf(s[4].a, 128, "no intercept");
	if (b->intercept)
		snprintf(s[4].b, 128, "intercept %u", b->intercept);
	else
		snprintf(s[4].b, 128, "no intercept");
	if (a->recirculate)
		snprintf(s[5].a, 128, "recirculate %u", a->recirculate);
	else
		snprintf(s[5].a, 128, "no recirculate");
	if (b->recirculate)
		snprintf(s[5].b, 128, "recirculate %u", b->recirculate);
	else
		snprintf(s[5].b, 128, "no recirculate");
	for (int i = 0; i < 6; i++) {
		if (!strcmp(s[i].a, s[i].b))
			continue;
		if (json) {
			char line[300];
			snprintf(line, sizeof(line), "%s -> %s", s[i].a, s[i].b);
			if (n)
				ps_out_write(o, ",", 1);
			ps_out_json_str(o, line);
		} else {
			ps_out_printf(o, "~ %s -> %s\n", s[i].a, s[i].b);
		}
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
	return total;
}
