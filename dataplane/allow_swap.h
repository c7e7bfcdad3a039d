/* allow_swap.h: a new allow-list for running workers without a lock
 * (SIGHUP's reload, daemon/service.c). Each list has two buffers; a
 * publish writes the one the ports do not read and moves the ports
 * through them, waiting for liburcu QSBR grace periods (the workers call
 * rcu_quiescent_state between bursts), so that no worker ever reads a
 * buffer being written, and an address both the old and the new list
 * admit is admitted all through (one only the old or the new admits may
 * be, while the publish runs). */
#ifndef PS_ALLOW_SWAP_H
#define PS_ALLOW_SWAP_H

#include "pkt.h"

/* Publish src[0..n) as the scanner list (sorter 0) or the sorter list
 * (sorter 1) of nets[0..n_nets), through buf_a and buf_b, each with room
 * for two lists (2 x PS_MAX_ALLOW: the old and the new one side by side
 * while the publish runs). Returns once no worker can still read the
 * buffer left behind, so the next publish may rewrite it. One caller at a
 * time, not a QSBR reader in a read-side section (the control loop). */
void ps_allow_publish(struct ps_net_cfg *nets, unsigned n_nets, int sorter,
		      struct ps_prefix *buf_a, struct ps_prefix *buf_b,
		      const struct ps_prefix *src, unsigned n);

#endif
