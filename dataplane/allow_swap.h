/* allow_swap.h: a new allow-list for running workers without a lock
 * (SIGHUP's reload, daemon/service.c). Each list has two buffers; the
 * ports read one, a publish writes the other and moves the ports to it,
 * waiting for liburcu QSBR grace periods (the workers call
 * rcu_quiescent_state between bursts) so that no worker ever reads a
 * buffer being written nor a count that is not its list's. */
#ifndef PS_ALLOW_SWAP_H
#define PS_ALLOW_SWAP_H

#include "pkt.h"

/* Publish src[0..n) as the scanner list (sorter 0) or the sorter list
 * (sorter 1) of nets[0..n_nets), written into whichever of buf_a and
 * buf_b the ports do not read. Returns once no worker can still read the
 * buffer left behind, so the next publish may rewrite it. One caller at a
 * time, not a QSBR reader in a read-side section (the control loop). */
void ps_allow_publish(struct ps_net_cfg *nets, unsigned n_nets, int sorter,
		      struct ps_prefix *buf_a, struct ps_prefix *buf_b,
		      const struct ps_prefix *src, unsigned n);

#endif
