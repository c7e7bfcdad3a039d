/* metrics.h: every counter in the Prometheus text exposition format, served
 * over HTTP at /metrics by a small thread (loopback by default). */
#ifndef PS_METRICS_H
#define PS_METRICS_H

#include <stddef.h>

#include "ctl_server.h"
#include "outbuf.h"

struct ps_metrics;

/* The server's bounds: clients served at once (a new one past them evicts
 * the one idle the longest), a request's size, and one deadline per
 * request, from accept to the last byte of the answer. */
#define PS_METRICS_MAX_CLIENTS 8
#define PS_METRICS_MAX_REQUEST 2048
#define PS_METRICS_DEADLINE_MS 5000
/* Ports whose NIC counters /metrics shows. */
#define PS_MAX_NIC_PORTS 16

/* listen: "127.0.0.1:9110", "[::1]:9110"; returns NULL with err. */
struct ps_metrics *ps_metrics_start(const char *listen,
				    struct ps_ctl_server *ctl, char *err,
				    size_t errlen);
void ps_metrics_stop(struct ps_metrics *m);
/* The TCP port it listens on (useful after ADDR:0). */
int ps_metrics_port(const struct ps_metrics *m);
/* The exposition text (also used by tests). */
void ps_metrics_render(struct ps_ctl_server *ctl, struct ps_out *o);

#endif
