/* ctl_daemon.h: what parcelsortd lends its control plane: never an mbuf,
 * only the plan store, the counters (summed on demand), descriptions, and
 * the control socket's limits. */
#ifndef PS_CTL_DAEMON_H
#define PS_CTL_DAEMON_H

#include <stdint.h>

#include "capture_writer.h"
#include "counters.h"
#include "outbuf.h"
#include "plan_store.h"

/* The control socket's limits; 0 takes the default (ctl_server.c). */
struct ps_ctl_limits {
	uint32_t idle_ms;        /* a connection with no request under way */
	uint32_t request_ms;     /* to finish a request, or to read an answer */
	uint32_t max_answer;     /* bytes of one answer */
};

/* What a port's NIC counts (rte_eth_stats), read by the control plane's
 * threads, never by a worker; per queue for the first PS_NIC_QUEUES. */
#define PS_NIC_QUEUES 16
struct ps_nic_stats {
	char name[64];
	unsigned queues;            /* queues counted in q_* */
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed, ierrors, oerrors, rx_nombuf;
	uint64_t q_ipackets[PS_NIC_QUEUES], q_opackets[PS_NIC_QUEUES];
};
struct ps_manifest;

struct ps_ctl_daemon {
	struct ps_store *store;
	struct ps_manifest *manifest;   /* pre-advice (manifest.h); NULL: none */
	void (*sum_counters)(void *arg, struct ps_counters *out);
	void *arg;
	/* the ports as a JSON array (json is always 1: the daemon's answers
	 * are JSON; the flag stays for the callback's other users) */
	void (*describe_ports)(void *arg, struct ps_out *o, int json);
	unsigned n_workers;
	uint64_t start_ms;
	uint64_t dedup_bytes, dedup_capacity;
	uint32_t dedup_window;
	/* the sorter loop's per device and per chute figures, summed over
	 * the workers (ps_daemon_sum_loop); NULL: none */
	void (*sum_loop)(void *arg, struct ps_loop_counters *out);
	/* the dataplane clock in seconds (the duplicate window's,
	 * ps_dedup_now): what sorter reports lapse by and devices' last
	 * heard is kept in; NULL: 0 */
	uint32_t (*dataplane_now_s)(void *arg);
	/* the event exporter's totals; NULL when export is off */
	void (*export_totals)(void *arg, struct ps_export_totals *t);
	struct ps_ctl_limits limits;
	/* `capture` (capture_writer.h); NULL: this daemon cannot capture */
	struct ps_capture_writer *capture;
	/* the ports' NIC counters into out[0..max); returns how many ports;
	 * NULL: none (/metrics) */
	unsigned (*nic_stats)(void *arg, struct ps_nic_stats *out, unsigned max);
	/* worker w's busy and idle TSC cycles (its own counters, not summed);
	 * NULL: none (/metrics) */
	void (*worker_cycles)(void *arg, unsigned w, uint64_t *busy,
			      uint64_t *idle);
	/* the TSC's frequency: cycles divided by it are seconds; 0: unknown */
	uint64_t tsc_hz;
};

#endif
