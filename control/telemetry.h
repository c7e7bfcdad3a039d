/* telemetry.h: /parcelsort/... commands in DPDK's telemetry, so that DPDK's
 * own dpdk-telemetry.py reads parcelsortd's status and counters. */
#ifndef PS_TELEMETRY_H
#define PS_TELEMETRY_H

#include "ctl_server.h"

/* Register the commands; they answer from this server's daemon. */
int ps_telemetry_register(struct ps_ctl_server *ctl);

#endif
