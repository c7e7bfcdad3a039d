/* ps_errors.h: a bounded list of error messages, each "FILE:LINE: message"
 * (or "FILE: message"), so a command can report every reason it refused
 * something, not just the first. */
#ifndef PS_ERRORS_H
#define PS_ERRORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ps_errors {
	char **msg;
	size_t n, cap;
	size_t dropped;          /* beyond PS_ERRORS_MAX, counted only */
};
#define PS_ERRORS_MAX 1000

void ps_errors_init(struct ps_errors *e);
void ps_errors_free(struct ps_errors *e);
void ps_errors_add(struct ps_errors *e, const char *file, uint32_t line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ps_errors_print(const struct ps_errors *e, FILE *f);

#endif
