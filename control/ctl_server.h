/* ctl_server.h: parcelsortd's control server: a Unix socket (mode 0660) on
 * its own thread, never on a worker core, serving several clients at once
 * with bounded requests, bounded answers and deadlines, so that a slow,
 * silent or malformed client stalls neither the dataplane nor other
 * clients. The commands it runs are in ctl_cmds.c; the counter baseline
 * and rates in rates.c. */
#ifndef PS_CTL_SERVER_H
#define PS_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_daemon.h"
#include "ctl_proto.h"
#include "outbuf.h"

#define PS_CTL_MAX_CLIENTS     64
#define PS_CTL_IDLE_MS         10000   /* defaults of struct ps_ctl_limits */
#define PS_CTL_REQUEST_MS      10000

struct ps_ctl_server;

struct ps_ctl_server *ps_ctl_start(const char *path,
				   const struct ps_ctl_daemon *d, char *err,
				   size_t errlen);
void ps_ctl_stop(struct ps_ctl_server *s);

/* Run one request as the server does (used by it, the tests and the
 * fuzzer): the answer goes to o, JSON when flags has PS_CTL_F_JSON, else
 * the text rendered from it; an answer longer than the limit is replaced
 * by an error saying so. Returns its status. */
int ps_ctl_execute(struct ps_ctl_server *s, uint16_t cmd, uint32_t flags,
		   const uint8_t *body, size_t len, struct ps_out *o);

const struct ps_ctl_daemon *ps_ctl_daemon(struct ps_ctl_server *s);

/* A server without a socket, for running commands in tests and fuzzers. */
struct ps_ctl_server *ps_ctl_new(const struct ps_ctl_daemon *d);
void ps_ctl_free(struct ps_ctl_server *s);

#endif
