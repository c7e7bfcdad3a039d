/* daemon.h: what parcelsortd holds while it runs: the configuration, the
 * ports, the plan store, the duplicate window, the exporter, the workers
 * and their counters, and the control plane it embeds. main.c builds it;
 * report.c prints from it. */
#ifndef PS_DAEMON_H
#define PS_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "counters.h"
#include "dedup.h"
#include "export.h"
#include "plan_store.h"
#include "port.h"
#include "worker.h"

struct ps_ctl_server;
struct ps_manifest;
struct ps_metrics;

struct ps_daemon {
	struct ps_dp_config cfg;
	struct ps_ports ports;
	struct ps_store *store;
	struct ps_dedup dedup;
	struct ps_manifest *manifest;   /* pre-advice, in the state directory */
	struct ps_exporter *exporter;
	struct ps_export_totals export_final;
	struct ps_worker *workers;
	struct ps_counters *counters;   /* one per worker */
	struct ps_loop_counters *loop;  /* one per worker: per device and
					 * per chute figures */
	unsigned n_workers;
	uint64_t start_tsc;
	struct ps_ctl_server *ctl;
	struct ps_metrics *metrics;
};

/* The workers' counters summed into *acc. */
void ps_daemon_sum_counters(const struct ps_daemon *d, struct ps_counters *acc);
/* The workers' per device and per chute figures summed into *acc (which
 * it clears first; 4.5 MB: allocate it). */
void ps_daemon_sum_loop(const struct ps_daemon *d, struct ps_loop_counters *acc);
/* Seconds since the workers were set up. */
double ps_daemon_elapsed_s(const struct ps_daemon *d);

#endif
