/* ctl_proto.h: the control protocol between parcelsortd and parcelsortctl,
 * one header for both sides, in the control library (ctl/). docs/control.md describes it.
 *
 * Over a Unix stream socket, each message is a 16-byte header followed by
 * a body of `len` bytes:
 *   request:  magic "PSC1", version, command, flags, len; the body is the
 *             command's arguments as NUL-terminated strings, one after the
 *             other (a plan's text is one argument);
 *   response: magic "PSR1", version, status, len; the body is the answer,
 *             or on error why. JSON is the answer's form
 *             (PS_CTL_F_JSON); a request without that flag (a version 1
 *             client of old) gets the text the library renders from it
 *             (ctl_render.h), as parcelsortctl itself prints.
 * One request, one response, in order; a client may send several requests
 * on one connection. Requests are bounded (PS_CTL_MAX_REQUEST); anything
 * else (bad magic, unknown version or command, too long, malformed
 * arguments) gets an error response and the connection is closed. */
#ifndef PS_CTL_PROTO_H
#define PS_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_commands.h"

#define PS_CTL_REQ_MAGIC   0x50534331u   /* "PSC1" */
#define PS_CTL_RESP_MAGIC  0x50535231u   /* "PSR1" */
#define PS_CTL_VERSION     1u
#define PS_CTL_MAX_REQUEST (64u << 20)   /* a national plan is ~18 MB */
#define PS_CTL_MAX_ARGS    64u
/* An answer is never longer than a client accepts (PS_CTL_MAX_REQUEST). */
#define PS_CTL_MAX_ANSWER  PS_CTL_MAX_REQUEST
/* A plan's name argument labels every error of the plan: bounded. */
#define PS_CTL_MAX_NAME    255u
#define PS_CTL_F_JSON      0x1u
/* manifest get: waybills asked in one request, at most (an argument may
 * hold several, separated by spaces or newlines) */
#define PS_CTL_MANIFEST_GET_MAX 4096u

/* The commands, numbered from 1 in the order of ctl_commands.h. */
enum ps_ctl_cmd {
	PS_CTL_NONE = 0,
#define PS_CTL_ENUM_ROW(id, fn, access, name, forms, help) PS_CTL_##id,
	PS_CTL_COMMANDS(PS_CTL_ENUM_ROW)
#undef PS_CTL_ENUM_ROW
	PS_CTL_CMD_MAX
};

/* Response status: 0 done; the others say why it was not. */
enum ps_ctl_status {
	PS_CTL_OK = 0,
	PS_CTL_ERR_REFUSED = 1,   /* a valid request the daemon refused */
	PS_CTL_ERR_USAGE = 2,     /* malformed request or arguments */
	PS_CTL_ERR_INTERNAL = 3,
};

struct ps_ctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t code;           /* request: command; response: status */
	uint32_t flags;          /* request: PS_CTL_F_*; response: 0 */
	uint32_t len;            /* body bytes */
};

/* Parsed request arguments (pointers into the body). */
struct ps_ctl_args {
	unsigned n;
	const char *v[PS_CTL_MAX_ARGS];
	size_t len[PS_CTL_MAX_ARGS];
};

/* Host-order header to wire (network order) and back. */
void ps_ctl_hdr_encode(uint8_t *out, const struct ps_ctl_hdr *h);
void ps_ctl_hdr_decode(const uint8_t *in, struct ps_ctl_hdr *h);
/* Check a request header; 0 or -1 with the reason. */
int ps_ctl_req_check(const struct ps_ctl_hdr *h, const char **why);
/* Split a request body into arguments; 0 or -1 with the reason. */
int ps_ctl_args_parse(const uint8_t *body, size_t len, struct ps_ctl_args *a,
		      const char **why);
/* An argument of 1..max bytes with no control character (names, notes,
 * paths in requests): 1, else 0. */
int ps_ctl_printable(const char *s, size_t len, size_t max);

#endif
