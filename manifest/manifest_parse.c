/* manifest_parse.c: the streaming reader of manifest files
 * (manifest_parse.h). One line at a time through a fixed buffer: a file of
 * any size costs no more memory than its longest allowed line. */
#include "manifest_parse.h"

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

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

/* Read one line into buf (without its newline). Returns 0 at the end of
 * the file, 1 for a line, 2 for a line too long, 3 for a NUL byte in it
 * (the rest of a bad line is skipped). */
static int read_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0;
	int c, bad = 0, any = 0;
	while ((c = getc_unlocked(f)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (c == 0)
			bad = bad ? bad : 3;
		else if (n + 1 >= cap)
			bad = bad ? bad : 2;
		else
			buf[n++] = (char)c;
	}
	buf[n] = 0;
	if (!any)
		return 0;
	return bad ? bad : 1;
}

/* One entry line (already trimmed, comment removed): 0 or -1 with why. */
static int parse_entry(char *s, uint8_t *wb, uint64_t *region,
		       const char **why)
{
	char *comma = strchr(s, ',');
	if (!comma) {
		*why = "expected WAYBILL,REGION";
		return -1;
	}
	*comma = 0;
	char *w = trim(s), *r = trim(comma + 1);
	if (strchr(r, ',')) {
		*why = "expected WAYBILL,REGION (more than one comma)";
		return -1;
	}
	if (ps_manifest_waybill(w, wb, why))
		return -1;
	return ps_manifest_region(r, region, why);
}

int ps_manifest_parse(FILE *f, const char *name, ps_manifest_line_fn fn,
		      void *arg, struct ps_errors *errs, uint64_t *lines_out)
{
	char buf[PS_MANIFEST_MAX_LINE + 1];
	uint64_t entries = 0, bad = 0;
	uint32_t line = 0;
	int seen_content = 0, rc;
	while ((rc = read_line(f, buf, sizeof(buf))) != 0) {
		line++;
		if (rc == 2 || rc == 3) {
			add_error(errs, name, line, rc == 2 ?
				  "line longer than 256 bytes" :
				  "NUL byte in line", NULL);
			bad++;
			continue;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *s = trim(buf);
		if (!*s)
			continue;
		if (!seen_content) {
			seen_content = 1;
			char h[PS_MANIFEST_MAX_LINE + 1], *c;
			strcpy(h, s);
			if ((c = strchr(h, ',')) != NULL) {
				*c = 0;
				if (!strcasecmp(trim(h), "waybill") &&
				    !strcasecmp(trim(c + 1), "region"))
					continue;
			}
		}
		char text[PS_MANIFEST_MAX_LINE + 1];
		strcpy(text, s);
		uint8_t wb[PS_WB_BYTES];
		uint64_t region;
		const char *why;
		if (parse_entry(s, wb, &region, &why)) {
			add_error(errs, name, line, why, text);
			bad++;
			continue;
		}
		entries++;
		if (!bad && fn) {
			int r = fn(arg, wb, region, line);
			if (r)
				return r;
		}
	}
	if (ferror(f)) {
		add_error(errs, name, 0, "read error", NULL);
		bad++;
	}
	if (lines_out)
		*lines_out = entries;
	return bad ? -1 : 0;
}
