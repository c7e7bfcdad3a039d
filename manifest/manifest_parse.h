/* manifest_parse.h: the manifest file form (docs/manifest.md), read as a
 * stream: `WAYBILL,REGION` lines, an optional `waybill,region` header,
 * `#` comments and blank lines. Every bad line is an error FILE:LINE (the
 * first PS_MANIFEST_MAX_SHOWN kept, the rest only counted). */
#ifndef PS_MANIFEST_PARSE_H
#define PS_MANIFEST_PARSE_H

#include <stdint.h>
#include <stdio.h>

#include "ps_errors.h"

#define PS_MANIFEST_MAX_SHOWN 100
#define PS_MANIFEST_MAX_LINE 256
#define PS_REGION_MIN 110000000000ull
#define PS_REGION_MAX 999999999999ull

/* Called for every good line in file order; wb is the 24-byte field
 * (NUL-padded). Return nonzero to stop reading (the parse then fails with
 * that value, no error added). */
typedef int (*ps_manifest_line_fn)(void *arg, const uint8_t *wb,
				   uint64_t region, uint32_t line);

/* A parse over several texts (the parts of one file): a line's number is
 * given by the caller, the header is looked for in the first line with
 * content of them all, and the callback is called only while no line was
 * bad (the bad ones are all reported). */
struct ps_mparse {
	const char *name;
	ps_manifest_line_fn fn;
	void *arg;
	struct ps_errors *errs;
	int seen_content;
	uint32_t next_line;         /* after the last text parsed */
	uint64_t entries;           /* good entry lines */
	uint64_t bad;               /* bad lines */
};
void ps_mparse_init(struct ps_mparse *p, const char *name,
		    ps_manifest_line_fn fn, void *arg, struct ps_errors *errs);
/* Parse text (whole lines; the last may lack its newline), its first line
 * numbered first_line. 0, or the callback's nonzero value (then stopped). */
int ps_mparse_text(struct ps_mparse *p, const char *text, size_t len,
		   uint32_t first_line);

/* Read f to its end. Returns 0 when every line was good, -1 when there were
 * errors (in errs), or the callback's nonzero value. *lines_out (if not
 * NULL) gets the count of entry lines. */
int ps_manifest_parse(FILE *f, const char *name, ps_manifest_line_fn fn,
		      void *arg, struct ps_errors *errs, uint64_t *lines_out);

/* One waybill as typed (NUL-terminated) into its 24-byte field; 0, or -1
 * with why (a short phrase). */
int ps_manifest_waybill(const char *text, uint8_t *wb, const char **why);
/* A 12-digit region code; 0, or -1 with why. */
int ps_manifest_region(const char *text, uint64_t *region, const char **why);

#endif
