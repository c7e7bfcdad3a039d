/* ctl_client.h: the client side of the control protocol (ctl_proto.h): one
 * request, one response over parcelsortd's control socket. parcelsortctl
 * and the fleet agent both speak to the daemon through it. */
#ifndef PS_CTL_CLIENT_H
#define PS_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "outbuf.h"

struct ps_ctl_reply {
	uint16_t status;        /* enum ps_ctl_status */
	char *body;             /* NUL-terminated; free with ps_ctl_reply_free */
	size_t len;
};

/* Append one argument to a request body. */
void ps_ctl_arg(struct ps_out *body, const char *s, size_t n);
void ps_ctl_args(struct ps_out *body, const char *s);

/* Send cmd with body to the daemon at path and read its answer. 0, or -1
 * when the daemon cannot be reached or closed the connection (err says
 * which). */
int ps_ctl_call(const char *path, uint16_t cmd, uint32_t flags,
		const struct ps_out *body, struct ps_ctl_reply *rep,
		char *err, size_t errlen);
void ps_ctl_reply_free(struct ps_ctl_reply *rep);

#endif
