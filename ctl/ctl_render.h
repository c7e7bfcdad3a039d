/* ctl_render.h: the text of a control answer, rendered from its JSON (the
 * answer's wire form), as parcelsortctl prints it and as the daemon sends
 * it to a client that asks for text. One renderer per command, in the
 * rows of ctl_commands.h; errors ({"error":...} or {"errors":[...],
 * "more":N}) render the same for every command. */
#ifndef PS_CTL_RENDER_H
#define PS_CTL_RENDER_H

#include <stddef.h>

#include "outbuf.h"

/* Append the text of an answer to cmd with status to o. A body that is
 * not JSON (a daemon of old answering in text) is copied as it is;
 * returns 0, or -1 in that case. */
int ps_ctl_render(unsigned cmd, int status, const char *body, size_t len,
		  struct ps_out *o);

#endif
