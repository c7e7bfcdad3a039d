/* outbuf.c: growable text buffer (see outbuf.h). */
#include "outbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ps_out_init(struct ps_out *o)
{
	memset(o, 0, sizeof(*o));
}

void ps_out_free(struct ps_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

static int reserve(struct ps_out *o, size_t more)
{
	if (o->oom)
		return -1;
	if (o->len + more + 1 <= o->cap)
		return 0;
	size_t nc = o->cap ? o->cap : 4096;
	while (nc < o->len + more + 1)
		nc *= 2;
	char *b = realloc(o->buf, nc);
	if (!b) {
		o->oom = 1;
		return -1;
	}
	o->buf = b;
	o->cap = nc;
	return 0;
}

void ps_out_write(struct ps_out *o, const char *s, size_t n)
{
	if (reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = 0;
}

void ps_out_printf(struct ps_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(o, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

void ps_out_json_str(struct ps_out *o, const char *s)
{
	ps_out_write(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			ps_out_printf(o, "\\%c", c);
		else if (c < 0x20)
			ps_out_printf(o, "\\u%04x", c);
		else
			ps_out_write(o, (const char *)&c, 1);
	}
	ps_out_write(o, "\"", 1);
}
