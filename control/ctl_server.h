/* ctl_server.h: parcelsortd's control server: a Unix socket (mode 0660) on
 * its own thread, never on a worker core, serving several clients at once
 * with bounded requests and deadlines, so a slow, silent or malformed client
 * stalls neither the dataplane nor other clients. The commands it runs are
 * in ctl_cmds.c. */
#ifndef PS_CTL_SERVER_H
#define PS_CTL_SERVER_H

#include <pthread.h>
#include <stdint.h>

#include "counters.h"
#include "ctl_proto.h"
#include "outbuf.h"
#include "plan_store.h"

/* What the daemon lends the control plane: never an mbuf, only the store,
 * the counters (summed on demand) and descriptions. */
struct ps_ctl_daemon {
	struct ps_store *store;
	void (*sum_counters)(void *arg, struct ps_counters *out);
	void *arg;
	void (*describe_ports)(void *arg, struct ps_out *o, int json);
	unsigned n_workers;
	uint64_t start_ms;
	uint64_t dedup_bytes, dedup_capacity;
	uint32_t dedup_window;
	/* the event exporter's totals; NULL when export is off */
	void (*export_totals)(void *arg, struct ps_export_totals *t);
};

/* Rates over the last second, sampled by the control thread. */
struct ps_rates {
	double rx_pps, tx_pps, records_ps, drops_ps;
};

struct ps_ctl_server;

struct ps_ctl_server *ps_ctl_start(const char *path,
				   const struct ps_ctl_daemon *d, char *err,
				   size_t errlen);
void ps_ctl_stop(struct ps_ctl_server *s);

/* Run one request (used by the server and by the fuzzer). The response
 * body goes to o; returns its status. */
int ps_ctl_execute(struct ps_ctl_server *s, uint16_t cmd, uint32_t flags,
		   const uint8_t *body, size_t len, struct ps_out *o);

/* The counters as they are now, less the baseline of the last reset. */
void ps_ctl_counters(struct ps_ctl_server *s, struct ps_counters *out);
void ps_ctl_rates(struct ps_ctl_server *s, struct ps_rates *r);
/* `stats reset`: keep the counters as they are now as the baseline. */
void ps_ctl_reset_baseline(struct ps_ctl_server *s);
const struct ps_ctl_daemon *ps_ctl_daemon(struct ps_ctl_server *s);

/* A server without a socket, for running commands in tests and fuzzers. */
struct ps_ctl_server *ps_ctl_new(const struct ps_ctl_daemon *d);
void ps_ctl_free(struct ps_ctl_server *s);

#endif
