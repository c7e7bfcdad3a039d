/* telemetry.h: /parcelsort/... commands in DPDK's telemetry, so that DPDK's
 * own dpdk-telemetry.py reads parcelsortd's status and counters. */
#ifndef PS_TELEMETRY_H
#define PS_TELEMETRY_H

#include "ctl_server.h"

struct rte_tel_data;

/* Register the commands; they answer from this server's daemon. */
int ps_telemetry_register(struct ps_ctl_server *ctl);
/* Answer one of them as the telemetry socket does: 0, or -1 for an unknown
 * command or once unregistered. */
int ps_telemetry_answer(const char *cmd, const char *params,
			struct rte_tel_data *d);
/* From now on every command answers -1 (DPDK cannot unregister them):
 * call before the server and its store are freed. When it returns, no
 * command is running. */
void ps_telemetry_unregister(void);

#endif
