/* plan_parse.c: the sort plan text parser: one directive a line, every
 * error collected as FILE:LINE: message. Hand-written and allocation-light
 * so that a national plan (620,000 lines) parses in a fraction of a second. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan_src.h"
#include "ps_wire.h"

#define MAX_FIELDS 64
#define MAX_LIST   4096   /* chutes in one list, conditions in one rule */

struct field {
	const char *s;
	size_t n;
};

struct parser {
	struct ps_plan_src *p;
	const char *file;
	struct ps_errors *errs;
	uint32_t line;
	int failed;
	int oom;
	uint16_t chute_buf[MAX_LIST];
};

#define ERR(ps, ...)                                                  \
	do {                                                          \
		ps_errors_add((ps)->errs, (ps)->file, (ps)->line,     \
			      __VA_ARGS__);                           \
		(ps)->failed = 1;                                     \
	} while (0)

static int field_u32(const struct field *f, uint64_t lo, uint64_t hi,
		     uint64_t *out)
{
	if (f->n == 0 || f->n > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(f->s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int want_fields(struct parser *ps, const char *dir, size_t have,
		       size_t want, const char *form)
{
	if (have == want)
		return 0;
	ERR(ps, "'%s' takes %zu field%s (%s), found %zu", dir, want - 1,
	    want == 2 ? "" : "s", form, have - 1);
	return -1;
}

static int chute_list(struct parser *ps, const struct field *f,
		      struct ps_chute_list *out)
{
	uint16_t n;
	const char *why;
	if (ps_parse_chutes(f->s, f->n, ps->chute_buf, &n, MAX_LIST, &why)) {
		ERR(ps, "bad chute list '%.*s': %s", (int)f->n, f->s, why);
		return -1;
	}
	if (ps_plan_add_chutes(ps->p, ps->chute_buf, n, out)) {
		ps->oom = 1;
		return -1;
	}
	return 0;
}

static int hub_ref(struct parser *ps, const struct field *f, uint32_t *hub)
{
	uint64_t v;
	if (field_u32(f, 1, UINT32_MAX, &v)) {
		ERR(ps, "bad hub id '%.*s': want 1..4294967295", (int)f->n,
		    f->s);
		return -1;
	}
	*hub = (uint32_t)v;
	return 0;
}

static int once(struct parser *ps, const char *dir, uint32_t *line_field)
{
	if (*line_field) {
		ERR(ps, "'%s' given twice (first at line %u)", dir,
		    *line_field);
		return -1;
	}
	*line_field = ps->line;
	return 0;
}

static void d_plan(struct parser *ps, struct field *f, size_t nf)
{
	if (want_fields(ps, "plan", nf, 2, "NAME") ||
	    once(ps, "plan", &ps->p->line_plan))
		return;
	if (f[1].n >= sizeof(ps->p->name)) {
		ERR(ps, "plan name is longer than %zu bytes",
		    sizeof(ps->p->name) - 1);
		return;
	}
	memcpy(ps->p->name, f[1].s, f[1].n);
	ps->p->name[f[1].n] = 0;
}

static void d_site(struct parser *ps, struct field *f, size_t nf)
{
	uint64_t id;
	if (want_fields(ps, "site", nf, 3, "SITE_ID REGION_PREFIX") ||
	    once(ps, "site", &ps->p->line_site))
		return;
	if (field_u32(&f[1], 1, UINT32_MAX, &id))
		ERR(ps, "bad site id '%.*s': want 1..4294967295", (int)f[1].n,
		    f[1].s);
	else
		ps->p->site = (uint32_t)id;
	if (ps_parse_prefix(f[2].s, f[2].n, &ps->p->site_prefix,
			    &ps->p->site_digits))
		ERR(ps, "bad site region prefix '%.*s': want 2, 4, 6, 9 or 12 "
			"digits of a region code", (int)f[2].n, f[2].s);
}

static void d_reject(struct parser *ps, struct field *f, size_t nf)
{
	uint64_t c;
	if (want_fields(ps, "reject", nf, 2, "CHUTE") ||
	    once(ps, "reject", &ps->p->line_reject))
		return;
	if (field_u32(&f[1], 1, 65535, &c))
		ERR(ps, "bad reject chute '%.*s': want 1..65535", (int)f[1].n,
		    f[1].s);
	else
		ps->p->reject = (uint16_t)c;
}

static void d_intercept(struct parser *ps, struct field *f, size_t nf)
{
	uint64_t c;
	if (want_fields(ps, "intercept", nf, 2, "CHUTE") ||
	    once(ps, "intercept", &ps->p->line_intercept))
		return;
	if (field_u32(&f[1], 1, 65535, &c))
		ERR(ps, "bad intercept chute '%.*s': want 1..65535",
		    (int)f[1].n, f[1].s);
	else
		ps->p->intercept = (uint16_t)c;
}

static void d_recirculate(struct parser *ps, struct field *f, size_t nf)
{
	uint64_t n;
	if (want_fields(ps, "recirculate", nf, 2, "N") ||
	    once(ps, "recirculate", &ps->p->line_recirculate))
		return;
	if (field_u32(&f[1], 1, 255, &n))
		ERR(ps, "bad recirculate count '%.*s': want 1..255 rounds",
		    (int)f[1].n, f[1].s);
	else
		ps->p->recirculate = (uint8_t)n;
}

static void d_hub(struct parser *ps, struct field *f, size_t nf,
		  const char *name, size_t name_len)
{
	uint64_t id;
	uint8_t tier;
	int bad = 0;
	if (nf < 4) {
		ERR(ps, "'hub' takes HUB_ID TIER NAME...");
		return;
	}
	if (field_u32(&f[1], 1, UINT32_MAX, &id)) {
		ERR(ps, "bad hub id '%.*s': want 1..4294967295", (int)f[1].n,
		    f[1].s);
		bad = 1;
	}
	if (ps_parse_tier(f[2].s, f[2].n, &tier)) {
		ERR(ps, "bad tier '%.*s': want trunk, county, township, "
			"village or special", (int)f[2].n, f[2].s);
		bad = 1;
	}
	if (!bad && ps_plan_add_hub(ps->p, (uint32_t)id, tier, name, name_len,
				    ps->line))
		ps->oom = 1;
}

static void d_route(struct parser *ps, struct field *f, size_t nf)
{
	struct ps_route_src r = { .line = ps->line };
	int bad = 0;
	if (want_fields(ps, "route", nf, 4, "PREFIX HUB_ID CHUTES"))
		return;
	if (ps_parse_prefix(f[1].s, f[1].n, &r.prefix, &r.digits)) {
		ERR(ps, "bad route prefix '%.*s': want 2, 4, 6, 9 or 12 digits "
			"of a region code", (int)f[1].n, f[1].s);
		bad = 1;
	}
	bad |= hub_ref(ps, &f[2], &r.hub);
	bad |= chute_list(ps, &f[3], &r.chutes);
	if (!bad && ps_plan_add_route(ps->p, &r))
		ps->oom = 1;
}

static void d_rule(struct parser *ps, struct field *f, size_t nf)
{
	struct ps_rule_src r = { .line = ps->line };
	struct ps_cond conds[MAX_FIELDS];
	uint64_t prio = 0;
	int bad = 0;
	if (nf < 5) {
		ERR(ps, "'rule' takes PRIORITY HUB_ID CHUTES COND..., with at "
			"least one condition");
		return;
	}
	if (field_u32(&f[1], 0, 65535, &prio)) {
		ERR(ps, "bad rule priority '%.*s': want 0..65535", (int)f[1].n,
		    f[1].s);
		bad = 1;
	}
	r.priority = (uint16_t)prio;
	bad |= hub_ref(ps, &f[2], &r.hub);
	bad |= chute_list(ps, &f[3], &r.chutes);
	for (size_t i = 4; i < nf; i++) {
		const char *why;
		if (ps_parse_cond(f[i].s, f[i].n, &conds[i - 4], &why)) {
			ERR(ps, "bad condition '%.*s': %s", (int)f[i].n, f[i].s,
			    why);
			bad = 1;
		}
	}
	r.n_conds = (uint16_t)(nf - 4);
	if (!bad && ps_plan_add_rule(ps->p, &r, conds))
		ps->oom = 1;
}

static void d_default(struct parser *ps, struct field *f, size_t nf)
{
	if (want_fields(ps, "default", nf, 3, "HUB_ID CHUTES") ||
	    once(ps, "default", &ps->p->line_default))
		return;
	int bad = hub_ref(ps, &f[1], &ps->p->default_hub);
	bad |= chute_list(ps, &f[2], &ps->p->default_chutes);
	ps->p->has_default = !bad;
}

/* Valid UTF-8 (no overlongs, no surrogates), no NUL. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
		if (k == 0 || c > 0xf4 || i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		if ((c == 0xe0 && s[i + 1] < 0xa0) ||
		    (c == 0xed && s[i + 1] >= 0xa0) ||
		    (c == 0xf0 && s[i + 1] < 0x90) ||
		    (c == 0xf4 && s[i + 1] >= 0x90))
			return 0;
		i += k + 1;
	}
	return 1;
}

static inline int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void parse_line(struct parser *ps, const char *s, size_t n)
{
	const char *hash = memchr(s, '#', n);
	if (hash)
		n = (size_t)(hash - s);
	struct field f[MAX_FIELDS];
	size_t nf = 0, i = 0;
	while (i < n) {
		while (i < n && is_space(s[i]))
			i++;
		if (i == n)
			break;
		size_t st = i;
		while (i < n && !is_space(s[i]))
			i++;
		if (nf == MAX_FIELDS) {
			ERR(ps, "more than %d fields on one line", MAX_FIELDS);
			return;
		}
		f[nf].s = s + st;
		f[nf].n = i - st;
		nf++;
	}
	if (nf == 0)
		return;
	if (!utf8_ok((const unsigned char *)s, n)) {
		ERR(ps, "line is not valid UTF-8 text");
		return;
	}
#define IS(word) (f[0].n == sizeof(word) - 1 && !memcmp(f[0].s, word, f[0].n))
	if (IS("route")) {
		d_route(ps, f, nf);
	} else if (IS("hub")) {
		size_t end = (size_t)(f[nf - 1].s + f[nf - 1].n - s);
		d_hub(ps, f, nf, nf >= 4 ? f[3].s : NULL,
		      nf >= 4 ? end - (size_t)(f[3].s - s) : 0);
	} else if (IS("rule")) {
		d_rule(ps, f, nf);
	} else if (IS("plan")) {
		d_plan(ps, f, nf);
	} else if (IS("site")) {
		d_site(ps, f, nf);
	} else if (IS("reject")) {
		d_reject(ps, f, nf);
	} else if (IS("default")) {
		d_default(ps, f, nf);
	} else if (IS("intercept")) {
		d_intercept(ps, f, nf);
	} else if (IS("recirculate")) {
		d_recirculate(ps, f, nf);
	} else {
		ERR(ps, "unknown directive '%.*s' (plan, site, reject, hub, "
			"route, rule, default, intercept, recirculate)",
		    (int)f[0].n, f[0].s);
	}
#undef IS
}

int ps_plan_parse_lines(struct ps_plan_src *p, const char *text, size_t len,
			const char *file, struct ps_errors *errs)
{
	struct parser *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		ps_errors_add(errs, file, 0, "out of memory");
		return -1;
	}
	ps->p = p;
	ps->file = file;
	ps->errs = errs;
	const char *s = text, *end = text + len;
	while (s < end && !ps->oom) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		ps->line++;
		parse_line(ps, s, (size_t)(le - s));
		s = le + 1;
	}
	int failed = ps->failed;
	if (ps->oom) {
		ps_errors_add(errs, file, ps->line,
			      "out of memory reading the plan");
		failed = 1;
	}
	free(ps);
	return failed ? -1 : 0;
}

int ps_plan_parse(struct ps_plan_src *p, const char *text, size_t len,
		  const char *file, struct ps_errors *errs)
{
	int failed = ps_plan_parse_lines(p, text, len, file, errs) != 0;
	if (ps_plan_validate(p, file, errs))
		failed = 1;
	return failed ? -1 : 0;
}

int ps_plan_parse_file(struct ps_plan_src *p, const char *path,
		       struct ps_errors *errs)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		ps_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		ps_errors_add(errs, path, 0, "not a regular file");
		fclose(f);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len ? len : 1);
	if (!buf) {
		ps_errors_add(errs, path, 0, "out of memory (%zu bytes)", len);
		fclose(f);
		return -1;
	}
	size_t got = fread(buf, 1, len, f);
	int rerr = ferror(f);
	fclose(f);
	if (got != len || rerr) {
		ps_errors_add(errs, path, 0, "read error");
		free(buf);
		return -1;
	}
	int rc = ps_plan_parse(p, buf, len, path, errs);
	free(buf);
	return rc;
}
