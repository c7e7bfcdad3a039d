/* worker.h: a dataplane worker lcore, in the style of DPDK's l3fwd: a
 * per-lcore conf with its RX queues and TX buffers; the loop receives a
 * burst, runs it through the pipeline (parse all, one bulk decision,
 * replies in place), buffers the replies on the queue pair the requests
 * came in on, and drains the TX buffers on a timer. On that timer it also
 * moves the duplicate window's clock (one for all workers) on to its
 * reading of the shared TSC base; every burst reads that one clock. */
#ifndef PS_WORKER_H
#define PS_WORKER_H

#include <stdint.h>

#include <rte_ethdev.h>

#include "capture.h"
#include "counters.h"
#include "pipeline.h"
#include "port.h"

#define PS_MAX_PORTS 16

struct ps_worker {
	unsigned id;
	unsigned lcore;
	unsigned n_rx;
	struct {
		uint16_t port_idx;
		uint16_t port;
		uint16_t queue;
	} rx[PS_MAX_PORTS];
	struct rte_eth_dev_tx_buffer *tx[PS_MAX_PORTS];
	struct ps_pipeline pl[PS_MAX_PORTS];
	struct ps_counters *cnt;
	uint64_t start_tsc;             /* the same for every worker: the
					 * base of the window's clock */
	uint32_t idle_sleep_us;         /* 0: never sleep */
	struct ps_capture_ring *cap;    /* its capture ring (never NULL
					 * once launched; capture.h) */
} __attribute__((aligned(64)));

extern volatile int ps_quit;

/* Set up the worker's queues and TX buffers (main lcore, before launch). */
int ps_worker_setup(struct ps_worker *w, unsigned id, unsigned lcore,
		    const struct ps_ports *pp, const struct ps_pipeline *tmpl,
		    struct ps_counters *cnt, char *err, size_t errlen);
int ps_worker_main(void *arg);

#endif
