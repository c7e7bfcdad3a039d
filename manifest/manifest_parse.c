/* manifest_parse.c: the reader of manifest files (manifest_parse.h): whole
 * lines of a text (a control request's part) or of a stream read in 1 MB
 * blocks, each line split in one pass over its bytes (no per-byte stdio
 * call, no copy unless it is bad): a file of any size costs no more memory
 * than a block. */
#include "manifest_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "manifest_table.h"
#include "ps_wire.h"

int ps_manifest_waybill(const char *text, uint8_t *wb, const char **why)
{
	size_t n = strlen(text);
	if (n == 0) {
		*why = "empty waybill";
		return -1;
	}
	if (n > PS_WB_BYTES) {
		*why = "waybill longer than 24 characters";
		return -1;
	}
	memset(wb, 0, PS_WB_BYTES);
	memcpy(wb, text, n);
	uint8_t len;
	switch (ps_waybill_check(wb, &len)) {
	case PS_WB_VALID:
		return 0;
	case PS_WB_LENGTH:
		*why = "waybill shorter than 8 characters";
		break;
	case PS_WB_S10:
		*why = "waybill has a wrong S10 check digit";
		break;
	default:
		*why = "waybill has a character outside 0-9 A-Z -";
		break;
	}
	return -1;
}

int ps_manifest_region(const char *text, uint64_t *region, const char **why)
{
	uint64_t v = 0;
	size_t n = strlen(text);
	if (n != 12) {
		*why = "region must be 12 digits";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9') {
			*why = "region must be 12 digits";
			return -1;
		}
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	if (v < PS_REGION_MIN || v > PS_REGION_MAX) {
		*why = "region out of range 110000000000..999999999999";
		return -1;
	}
	*region = v;
	return 0;
}

static void add_error(struct ps_errors *errs, const char *name,
		      uint32_t line, const char *why, const char *text)
{
	if (errs->n >= PS_MANIFEST_MAX_SHOWN) {
		errs->dropped++;
		return;
	}
	if (text)
		ps_errors_add(errs, name, line, "%s: '%.40s'", why, text);
	else
		ps_errors_add(errs, name, line, "%s", why);
}

static inline int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* [*b, *e) without the spaces and tabs around it (and a CR at its end). */
static void trim_span(const char **b, const char **e)
{
	while (*b < *e && blank(**b))
		(*b)++;
	while (*e > *b && (blank((*e)[-1]) || (*e)[-1] == '\r'))
		(*e)--;
}

static int span_is(const char *b, const char *e, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(e - b) == n && !strncasecmp(b, word, n);
}

/* A span as a C string (at most PS_MANIFEST_MAX_LINE bytes). */
static void span_copy(char *out, const char *b, const char *e)
{
	size_t n = (size_t)(e - b);
	if (n > PS_MANIFEST_MAX_LINE)
		n = PS_MANIFEST_MAX_LINE;
	memcpy(out, b, n);
	out[n] = 0;
}

/* The waybill span into its 24-byte field; 0 or -1 with why. */
static int waybill_span(const char *b, const char *e, uint8_t *wb,
			const char **why)
{
	char t[PS_MANIFEST_MAX_LINE + 1];
	size_t n = (size_t)(e - b);
	if (n == 0 || n > PS_WB_BYTES) {
		span_copy(t, b, e);
		return ps_manifest_waybill(t, wb, why);
	}
	memset(wb, 0, PS_WB_BYTES);
	memcpy(wb, b, n);
	uint8_t len;
	if (ps_waybill_check(wb, &len) == PS_WB_VALID)
		return 0;
	span_copy(t, b, e);
	return ps_manifest_waybill(t, wb, why);
}

/* The region span: 12 digits in range, the fast way; else the checked
 * way for its message. */
static int region_span(const char *b, const char *e, uint64_t *region,
		       const char **why)
{
	if (e - b == 12) {
		uint64_t v = 0;
		unsigned bad = 0;
		for (int i = 0; i < 12; i++) {
			unsigned d = (unsigned)(unsigned char)b[i] - '0';
			bad |= d > 9;
			v = v * 10 + d;
		}
		if (!bad && v >= PS_REGION_MIN && v <= PS_REGION_MAX) {
			*region = v;
			return 0;
		}
	}
	char t[PS_MANIFEST_MAX_LINE + 1];
	span_copy(t, b, e);
	return ps_manifest_region(t, region, why);
}

void ps_mparse_init(struct ps_mparse *p, const char *name,
		    ps_manifest_line_fn fn, void *arg, struct ps_errors *errs)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->fn = fn;
	p->arg = arg;
	p->errs = errs;
}

static void bad_line(struct ps_mparse *p, uint32_t line, const char *why,
		     const char *b, const char *e)
{
	char t[PS_MANIFEST_MAX_LINE + 1];
	if (b)
		span_copy(t, b, e);
	add_error(p->errs, p->name, line, why, b ? t : NULL);
	p->bad++;
}

/* One line [b, e) without its newline. 0, or the callback's value. */
static int one_line(struct ps_mparse *p, const char *b, const char *e,
		    uint32_t line)
{
	/* a UTF-8 byte order mark at the start of the file is not text */
	if (line == 1 && e - b >= 3 && !memcmp(b, "\xef\xbb\xbf", 3))
		b += 3;
	if (e - b > PS_MANIFEST_MAX_LINE) {
		bad_line(p, line, "line longer than 256 bytes", NULL, NULL);
		return 0;
	}
	const char *comma = NULL, *comma2 = NULL, *end = e;
	for (const char *c = b; c < e; c++) {
		if (*c == '#') {
			end = c;
			break;
		}
		if (*c == ',') {
			if (comma)
				comma2 = comma2 ? comma2 : c;
			else
				comma = c;
		} else if (*c == 0) {
			bad_line(p, line, "NUL byte in line", NULL, NULL);
			return 0;
		}
	}
	/* a NUL after a comment still makes the line bad */
	if (end < e && memchr(end, 0, (size_t)(e - end))) {
		bad_line(p, line, "NUL byte in line", NULL, NULL);
		return 0;
	}
	const char *sb = b, *se = end;
	trim_span(&sb, &se);
	if (sb == se)
		return 0;
	const char *why;
	if (!p->seen_content) {
		p->seen_content = 1;
		if (comma && !comma2) {
			const char *hb = sb, *he = comma, *rb = comma + 1,
				   *re = se;
			trim_span(&hb, &he);
			trim_span(&rb, &re);
			if (span_is(hb, he, "waybill") && span_is(rb, re, "region"))
				return 0;
		}
	}
	if (!comma) {
		bad_line(p, line, "expected WAYBILL,REGION", sb, se);
		return 0;
	}
	if (comma2) {
		bad_line(p, line, "expected WAYBILL,REGION (more than one "
			 "comma)", sb, se);
		return 0;
	}
	const char *wb_b = sb, *wb_e = comma, *rb = comma + 1, *re = se;
	trim_span(&wb_b, &wb_e);
	trim_span(&rb, &re);
	uint8_t wb[PS_WB_BYTES];
	uint64_t region;
	if (waybill_span(wb_b, wb_e, wb, &why) ||
	    region_span(rb, re, &region, &why)) {
		bad_line(p, line, why, sb, se);
		return 0;
	}
	p->entries++;
	if (!p->bad && p->fn)
		return p->fn(p->arg, wb, region, line);
	return 0;
}

int ps_mparse_text(struct ps_mparse *p, const char *text, size_t len,
		   uint32_t first_line)
{
	const char *s = text, *end = text + len;
	uint32_t line = first_line;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		int r = one_line(p, s, e, line);
		if (r)
			return r;
		line++;
		s = nl ? nl + 1 : end;
	}
	p->next_line = line;
	return 0;
}

/* The stream is read in blocks of this many bytes; whole lines are parsed
 * from each, the tail carried to the next. */
#define BLOCK (1u << 20)

int ps_manifest_parse(FILE *f, const char *name, ps_manifest_line_fn fn,
		      void *arg, struct ps_errors *errs, uint64_t *lines_out)
{
	struct ps_mparse p;
	char *buf = malloc(BLOCK);
	size_t have = 0;
	uint32_t line = 1;
	int rc = 0, skipping = 0;
	ps_mparse_init(&p, name, fn, arg, errs);
	if (!buf) {
		add_error(errs, name, 0, "out of memory", NULL);
		return -1;
	}
	for (;;) {
		size_t got = fread(buf + have, 1, BLOCK - have, f);
		have += got;
		int eof = got == 0;
		if (!have)
			break;
		char *nl = memrchr(buf, '\n', have);
		size_t take = nl ? (size_t)(nl - buf) + 1 : eof ? have : 0;
		if (!take && have == BLOCK) {
			/* a line longer than a block: reported, skipped */
			if (!skipping)
				bad_line(&p, line, "line longer than 256 bytes",
					 NULL, NULL);
			skipping = 1;
			have = 0;
			continue;
		}
		size_t from = 0;
		if (skipping && take) {
			/* the end of the overlong line: already reported */
			const char *n = memchr(buf, '\n', take);
			from = n ? (size_t)(n - buf) + 1 : take;
			line++;
			skipping = 0;
		}
		if (from < take) {
			rc = ps_mparse_text(&p, buf + from, take - from, line);
			if (rc)
				break;
			line = p.next_line;
		}
		memmove(buf, buf + take, have - take);
		have -= take;
		if (eof && !have)
			break;
	}
	free(buf);
	if (!rc && ferror(f)) {
		add_error(errs, name, 0, "read error", NULL);
		p.bad++;
	}
	if (lines_out)
		*lines_out = p.entries;
	return rc ? rc : p.bad ? -1 : 0;
}
