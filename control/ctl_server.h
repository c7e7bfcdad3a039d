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
/* The same, waiting at most wait_ms (negative: as long as it takes) for
 * the command running on another thread; PS_CTL_BUSY, o untouched, when
 * it is still running then (the HTTP listener: a board request must not
 * hold /metrics up behind a long command). */
#define PS_CTL_BUSY (-1)
int ps_ctl_execute_within(struct ps_ctl_server *s, int wait_ms, uint16_t cmd,
			  uint32_t flags, const uint8_t *body, size_t len,
			  struct ps_out *o);

const struct ps_ctl_daemon *ps_ctl_daemon(struct ps_ctl_server *s);

/* Requests that make a plan active (plan load, commit, plan rollback),
 * from any client (the fleet agent too), by outcome: committed, scheduled
 * (a plan load for later), refused (any error); and a scheduled plan's
 * activation (ps_ctl_count_commit from the daemon's control loop). */
enum ps_ctl_commit_outcome {
	PS_CTL_COMMIT_COMMITTED,
	PS_CTL_COMMIT_SCHEDULED,
	PS_CTL_COMMIT_REFUSED,
	PS_CTL_COMMIT_OUTCOMES
};
const char *ps_ctl_commit_outcome_name(unsigned k);
/* Lock-free (relaxed atomics): a scrape never waits for the command lock. */
void ps_ctl_commit_counts(struct ps_ctl_server *s,
			  uint64_t out[PS_CTL_COMMIT_OUTCOMES]);
/* Count one outcome from outside the commands: the daemon's control loop
 * counts a scheduled plan's activation (committed) or each failed
 * attempt at it (refused). */
void ps_ctl_count_commit(struct ps_ctl_server *s, unsigned outcome);

/* The rates over the last second, as `stats` shows them (thread-safe:
 * the view's own lock, never the command lock). */
struct ps_rates;
void ps_ctl_rates(struct ps_ctl_server *s, struct ps_rates *r);

/* A server without a socket, for running commands in tests and fuzzers. */
struct ps_ctl_server *ps_ctl_new(const struct ps_ctl_daemon *d);
void ps_ctl_free(struct ps_ctl_server *s);

#endif
