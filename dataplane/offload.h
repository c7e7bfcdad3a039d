/* offload.h: checksum offloads between an mbuf and the pipeline's frame
 * buffer (worker.c; the unit tests drive it on mbufs they build): what the
 * port said of a received frame's checksums, as PS_RX_CSUM, and the mbuf
 * fields a port needs to finish a reply's checksums (PS_TX_*). */
#ifndef PS_OFFLOAD_H
#define PS_OFFLOAD_H

#include <rte_mbuf_core.h>

#include "pkt.h"

_Static_assert(PS_TX_L3_LEN_MAX < 1u << RTE_MBUF_L3_LEN_BITS,
	       "a reply's l3_len left to the port fits the mbuf's field");

/* RTE_MBUF_F_RX_{IP,L4}_CKSUM_{UNKNOWN,GOOD,BAD,NONE} -> PS_CSUM_*. */
static inline uint8_t ps_rx_csum_state(uint64_t f, uint64_t good,
				       uint64_t bad, uint64_t mask)
{
	uint64_t s = f & mask;
	if (s == good)
		return PS_CSUM_GOOD;
	if (s == bad)
		return PS_CSUM_BAD;
	if (s == mask)               /* both bits: NONE */
		return PS_CSUM_NONE;
	return PS_CSUM_UNKNOWN;
}

static inline uint8_t ps_rx_csum_of(const struct rte_mbuf *m)
{
	uint64_t f = m->ol_flags;
	return PS_RX_CSUM(
		ps_rx_csum_state(f, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
				 RTE_MBUF_F_RX_IP_CKSUM_BAD,
				 RTE_MBUF_F_RX_IP_CKSUM_MASK),
		ps_rx_csum_state(f, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
				 RTE_MBUF_F_RX_L4_CKSUM_BAD,
				 RTE_MBUF_F_RX_L4_CKSUM_MASK));
}

/* A reply leaving on the mbuf it came in: its TX offload flags are
 * exactly what tx asks (none for tx->flags 0); every other flag is kept
 * (an attached external or indirect buffer's among them: freeing the mbuf
 * needs them; the RX flags are ignored on transmit). */
static inline void ps_tx_csum_set(struct rte_mbuf *m,
				  const struct ps_tx_csum *tx)
{
	uint64_t f = 0;
	if (tx->flags) {
		f = tx->flags & PS_TX_IPV6 ? RTE_MBUF_F_TX_IPV6
					   : RTE_MBUF_F_TX_IPV4;
		if (tx->flags & PS_TX_UDP_CSUM)
			f |= RTE_MBUF_F_TX_UDP_CKSUM;
		if (tx->flags & PS_TX_IP_CSUM)
			f |= RTE_MBUF_F_TX_IP_CKSUM;
		m->l2_len = tx->l2_len;
		m->l3_len = tx->l3_len;
	}
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_TX_OFFLOAD_MASK) | f;
}

#endif
