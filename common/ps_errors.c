/* ps_errors.c: the bounded error list (ps_errors.h). */
#include "ps_errors.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void ps_errors_init(struct ps_errors *e)
{
	memset(e, 0, sizeof(*e));
}

void ps_errors_free(struct ps_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

void ps_errors_add(struct ps_errors *e, const char *file, uint32_t line,
		   const char *fmt, ...)
{
	char body[512], *s;
	va_list ap;
	if (e->n >= PS_ERRORS_MAX) {
		e->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	size_t len = strlen(file) + strlen(body) + 24;
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 16;
		char **m = realloc(e->msg, nc * sizeof(*m));
		if (!m) {
			e->dropped++;
			return;
		}
		e->msg = m;
		e->cap = nc;
	}
	s = malloc(len);
	if (!s) {
		e->dropped++;
		return;
	}
	if (line)
		snprintf(s, len, "%s:%u: %s", file, line, body);
	else
		snprintf(s, len, "%s: %s", file, body);
	e->msg[e->n++] = s;
}

void ps_errors_print(const struct ps_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
	if (e->dropped)
		fprintf(f, "... and %zu more errors\n", e->dropped);
}
