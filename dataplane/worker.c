/* worker.c: the dataplane worker loop (see worker.h). */
#include "worker.h"

#include "offload.h"

#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <urcu-qsbr.h>

#define PREFETCH_OFFSET 3
#define DRAIN_US 100

volatile int ps_quit;

static void tx_dropped(struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	struct ps_counters *c = arg;
	c->drops[PS_DROP_TX_FULL] += n;
	for (uint16_t i = 0; i < n; i++) {
		c->tx_frames--;
		c->tx_bytes -= pkts[i]->pkt_len;
	}
	rte_pktmbuf_free_bulk(pkts, n);
}

int ps_worker_setup(struct ps_worker *w, unsigned id, unsigned lcore,
		    const struct ps_ports *pp, const struct ps_pipeline *tmpl,
		    struct ps_counters *cnt, char *err, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->lcore = lcore;
	w->cnt = cnt;
	for (unsigned i = 0; i < pp->n && i < PS_MAX_PORTS; i++) {
		w->pl[i] = *tmpl;
		w->pl[i].net = &pp->net[i];
		w->pl[i].cnt = cnt;
		if (id >= pp->queues[i])
			continue;      /* fewer queues than workers on this port */
		w->rx[w->n_rx].port_idx = (uint16_t)i;
		w->rx[w->n_rx].port = pp->id[i];
		w->rx[w->n_rx].queue = (uint16_t)id;
		w->n_rx++;
		w->tx[i] = rte_zmalloc_socket("ps_txbuf",
					      RTE_ETH_TX_BUFFER_SIZE(PS_BURST), 0,
					      rte_lcore_to_socket_id(lcore));
		if (!w->tx[i]) {
			snprintf(err, n, "out of memory for TX buffers");
			return -1;
		}
		rte_eth_tx_buffer_init(w->tx[i], PS_BURST);
		rte_eth_tx_buffer_set_err_callback(w->tx[i], tx_dropped, cnt);
	}
	return 0;
}

/* One burst received at TSC t_rx: through the pipeline, then the replies
 * to the TX buffer and the rest freed (in bulk). Returns the TSC when the
 * replies were handed to TX. */
static inline uint64_t handle_burst(struct ps_worker *w, unsigned r,
				    struct rte_mbuf **m, uint16_t nb,
				    uint32_t now_s, uint64_t t_rx)
{
	struct ps_pkt_buf buf[PS_BURST];
	struct rte_mbuf *drop[PS_BURST];
	uint16_t pi = w->rx[r].port_idx, port = w->rx[r].port;
	uint16_t q = w->rx[r].queue, n_drop = 0;
	struct ps_counters *c = w->cnt;
	uint64_t tx_bytes = 0;
	unsigned tx_frames = 0;
	for (uint16_t i = 0; i < nb && i < PREFETCH_OFFSET; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	for (uint16_t i = 0; i < nb; i++) {
		if (i + PREFETCH_OFFSET < nb)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + PREFETCH_OFFSET],
						       void *));
		buf[i].data = rte_pktmbuf_mtod(m[i], uint8_t *);
		/* a frame split over segments is not ours: cut it to its
		 * first segment, which fails the length checks */
		buf[i].len = m[i]->data_len;
		buf[i].rx_csum = ps_rx_csum_of(m[i]);
	}
	uint64_t t_tx = ps_pipeline_run_tsc(&w->pl[pi], buf, nb, now_s, t_rx);
	for (uint16_t i = 0; i < nb; i++) {
		if (!buf[i].send) {
			drop[n_drop++] = m[i];
			continue;
		}
		if (unlikely(m[i]->nb_segs > 1)) {
			struct rte_mbuf *rest = m[i]->next;
			m[i]->next = NULL;
			m[i]->nb_segs = 1;
			rte_pktmbuf_free(rest);
		}
		m[i]->data_len = buf[i].out_len;
		m[i]->pkt_len = buf[i].out_len;
		ps_tx_csum_set(m[i], &buf[i].tx);
		tx_frames++;
		tx_bytes += buf[i].out_len;
	}
	/* counted before they are buffered: a full TX ring takes them back
	 * (tx_dropped) */
	c->tx_frames += tx_frames;
	c->tx_bytes += tx_bytes;
	for (uint16_t i = 0; i < nb; i++)
		if (buf[i].send)
			rte_eth_tx_buffer(port, q, w->tx[pi], m[i]);
	if (n_drop)
		rte_pktmbuf_free_bulk(drop, n_drop);
	uint64_t t_end = rte_rdtsc();
	c->cyc_tx += t_end - t_tx;
	return t_end;
}

static void flush_tx(struct ps_worker *w)
{
	for (unsigned r = 0; r < w->n_rx; r++)
		rte_eth_tx_buffer_flush(w->rx[r].port, w->rx[r].queue,
					w->tx[w->rx[r].port_idx]);
}

/* A worker with nothing to poll for a while may nap (--idle-sleep-us):
 * replies go out first, and it is offline for the grace periods while it
 * sleeps. */
#define IDLE_LOOPS_BEFORE_SLEEP 64

static void nap(struct ps_worker *w)
{
	flush_tx(w);
	rcu_thread_offline();
	rte_delay_us_sleep(w->idle_sleep_us);
	rcu_thread_online();
}

/* A capture started or stopped (capture.h): between two bursts, so each
 * request frame is offered whole or not at all. */
static void __attribute__((noinline, cold)) capture_switch(struct ps_worker *w)
{
	struct ps_capture_ring *ring = ps_capture_switch_over(w->cap)
		? w->cap : NULL;
	for (unsigned i = 0; i < PS_MAX_PORTS; i++)
		w->pl[i].capture = ring;
}

int ps_worker_main(void *arg)
{
	struct ps_worker *w = arg;
	struct rte_mbuf *m[PS_BURST];
	const uint64_t hz = rte_get_tsc_hz();
	const uint64_t drain = (hz + 1000000 - 1) / 1000000 * DRAIN_US;
	/* ns = cycles * ns_per_cycle, in 32.32 fixed point (bursts < 4 s) */
	const uint64_t ns_per_cycle = (1000000000ull << 32) / hz;
	uint64_t prev = rte_rdtsc(), start = w->start_tsc;
	/* one clock for every core: the duplicate window's (see dedup.h) */
	struct ps_dedup *dd = w->pl[0].dedup;
	struct ps_counters *c = w->cnt;
	unsigned idle_loops = 0;

	rcu_register_thread();
	if (w->n_rx == 0) {
		/* nothing to poll: stay out of the grace periods */
		rcu_thread_offline();
		while (!ps_quit) {
			if (ps_capture_poll(w->cap, rte_rdtsc()))
				capture_switch(w);
			rte_delay_us_sleep(10000);
		}
		ps_capture_worker_exit(w->cap);
		rcu_unregister_thread();
		return 0;
	}
	ps_dedup_tick(dd, ps_dedup_seconds(prev, start, hz));
	/* t0: where this loop's cycles start, the last loop's end, so busy
	 * and idle together count every cycle (one clock read a loop) */
	uint64_t t0 = rte_rdtsc();
	while (!ps_quit) {
		uint64_t t = t0;
		if (unlikely(ps_capture_poll(w->cap, t0)))
			capture_switch(w);
		if (t0 - prev > drain) {
			flush_tx(w);
			ps_dedup_tick(dd, ps_dedup_seconds(t0, start, hz));
			prev = t0;
			t = rte_rdtsc();
		}
		/* the clock read once at each boundary: t is where the next
		 * poll's RX cycles start (the end of the last burst's TX) */
		unsigned got = 0;
		for (unsigned r = 0; r < w->n_rx; r++) {
			uint16_t nb = rte_eth_rx_burst(w->rx[r].port,
						       w->rx[r].queue, m,
						       PS_BURST);
			if (!nb)
				continue;
			uint64_t tb = rte_rdtsc();
			c->cyc_rx += tb - t;
			got += nb;
			t = handle_burst(w, r, m, nb, ps_dedup_now(dd), tb);
			/* scan-to-decision inside the box: from the burst's
			 * arrival to its replies handed to TX */
			uint64_t ns = ((t - tb) * ns_per_cycle) >> 32;
			c->lat_hist[ps_lat_bucket(ns)]++;
			c->lat_sum_ns += ns;
		}
		rcu_quiescent_state();
		uint64_t t1 = rte_rdtsc();
		if (got) {
			c->busy_cycles += t1 - t0;
			idle_loops = 0;
		} else {
			c->idle_cycles += t1 - t0;
			if (w->idle_sleep_us &&
			    ++idle_loops >= IDLE_LOOPS_BEFORE_SLEEP) {
				nap(w);
				idle_loops = 0;
				/* the nap is idle time too */
				uint64_t t2 = rte_rdtsc();
				c->idle_cycles += t2 - t1;
				t1 = t2;
			}
		}
		c->loops++;
		t0 = t1;
	}
	flush_tx(w);
	ps_capture_worker_exit(w->cap);
	rcu_unregister_thread();
	return 0;
}
