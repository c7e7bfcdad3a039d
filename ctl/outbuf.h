/* outbuf.h: a growable text buffer with printf, and JSON string escaping,
 * for building control responses. */
#ifndef PS_OUTBUF_H
#define PS_OUTBUF_H

#include <stddef.h>

struct ps_out {
	char *buf;
	size_t len, cap;
	int oom;
};

void ps_out_init(struct ps_out *o);
void ps_out_free(struct ps_out *o);
void ps_out_printf(struct ps_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ps_out_write(struct ps_out *o, const char *s, size_t n);
/* A JSON string literal (with quotes) of s. */
void ps_out_json_str(struct ps_out *o, const char *s);

#endif
