/* pkt.h: what the dataplane does with one received Ethernet frame, on raw
 * bytes (no mbufs, no EAL, so the fuzzers and tests call exactly this):
 * answer ARP, IPv6 neighbour solicitations and pings in place, hand a UDP
 * datagram for our address and port on to the protocol (whose header
 * checks come before the sender's allow-list: docs/protocol.md), or drop
 * the frame under one counted cause;
 * and turn a request frame into its reply frame once the payload holds the
 * decisions. Checksums: what the port already checked on receive is
 * trusted, and a port that makes UDP checksums on transmit is left to make
 * the reply's (docs/dataplane.md, "Checksum offloads"). */
#ifndef PS_PKT_H
#define PS_PKT_H

#include <stdint.h>

#include "counters.h"
#include "ps_frame.h"

struct ps_prefix {
	uint8_t ver;             /* 4 or 6 */
	uint8_t len;             /* prefix length in bits */
	uint8_t addr[16];
};

/* The dataplane's own addresses and policy. */
struct ps_net_cfg {
	uint8_t mac[6];
	uint8_t has_ip4, has_ip6;
	uint8_t ip4[4];
	uint8_t ip6[16];
	uint8_t sn_mac[6];       /* 33:33:ff + low 24 bits of ip6 */
	uint8_t sn_ip6[16];      /* ff02::1:ffXX:XXXX */
	uint16_t port;
	const struct ps_prefix *allow;  /* scanners (kind 1); none: every
					 * sender is allowed */
	unsigned n_allow;
	const struct ps_prefix *sorter_allow;   /* sorter controllers (kinds
						 * 3 and 5); none: nobody */
	unsigned n_sorter_allow;
	uint8_t tx_udp_csum;     /* the port makes UDP checksums on transmit */
	uint8_t tx_ip_csum;      /* ... and IPv4 header checksums */
};

/* What the port says about a received frame's checksums, one for the IPv4
 * header and one for UDP (worker.c maps an mbuf's ol_flags onto them;
 * dataplane/offload.h). UNKNOWN, 0, is what a port without checksum offload
 * says: verified in software. GOOD and NONE (the data is intact, the bytes
 * may not hold the sum) are trusted with no software check; BAD is dropped
 * under the checksum's drop cause. */
enum ps_rx_csum {
	PS_CSUM_UNKNOWN = 0,
	PS_CSUM_GOOD,
	PS_CSUM_BAD,
	PS_CSUM_NONE,
};
/* Both in one byte: the IPv4 header's in bits 0-1, UDP's in bits 2-3. */
#define PS_RX_CSUM(ip, udp) ((uint8_t)((ip) | (udp) << 2))

/* How a reply frame leaves: with its checksums made (flags 0) or with the
 * port to finish them. PS_TX_UDP_CSUM: the UDP checksum field holds the
 * pseudo-header's sum (as rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum give
 * it), the port adds the datagram; PS_TX_IP_CSUM: the IPv4 header's
 * checksum is 0, the port makes it. l2_len and l3_len are the Ethernet
 * (with any VLAN tag) and IP header lengths the port needs. */
#define PS_TX_UDP_CSUM 0x1u
#define PS_TX_IP_CSUM  0x2u
#define PS_TX_IPV6     0x4u      /* else IPv4 */
/* The longest IP header (IPv6 extension headers included) left to a port:
 * what an mbuf's l3_len holds (9 bits). A reply behind a longer one has
 * its checksums made here. */
#define PS_TX_L3_LEN_MAX 511u
struct ps_tx_csum {
	uint8_t flags;
	uint8_t l2_len;
	uint16_t l3_len;
};

/* Fill the derived fields (solicited-node addresses). */
void ps_net_cfg_finish(struct ps_net_cfg *c);

enum ps_pkt_verdict {
	PS_PKT_DROP,             /* *why: enum ps_drop */
	PS_PKT_ANSWER,           /* rewritten in place; *why: enum ps_answer */
	PS_PKT_REQUEST,          /* a UDP datagram for us, f describes it */
};

/* Classify a received frame of len bytes. An ANSWER has been written over
 * the frame, within its len bytes (no answer is longer than what it answers,
 * so nobody can use the dataplane to amplify a flood); *new_len <= len is
 * its length. */
enum ps_pkt_verdict ps_pkt_input(const struct ps_net_cfg *cfg, uint8_t *frame,
				 uint16_t len, struct ps_frame *f, uint8_t *why,
				 uint16_t *new_len);
/* The same with what the port said of the checksums (PS_RX_CSUM; 0: the
 * software checks everything, as ps_pkt_input does). */
enum ps_pkt_verdict ps_pkt_input_csum(const struct ps_net_cfg *cfg,
				      uint8_t *frame, uint16_t len,
				      uint8_t rx_csum, struct ps_frame *f,
				      uint8_t *why, uint16_t *new_len);

/* The same without the fast path for well-formed IPv4 requests: every
 * frame through the frame parser (the tests compare the two). */
enum ps_pkt_verdict ps_pkt_input_general(const struct ps_net_cfg *cfg,
					 uint8_t *frame, uint16_t len,
					 uint8_t rx_csum, struct ps_frame *f,
					 uint8_t *why, uint16_t *new_len);

/* Make the request frame described by f, whose UDP payload now holds plen
 * bytes of reply, into the reply frame: addresses and ports swapped,
 * lengths and checksums set. Returns the new frame length. */
uint16_t ps_pkt_reply_udp(const struct ps_net_cfg *cfg, uint8_t *frame,
			  const struct ps_frame *f, uint16_t plen);
/* The same, leaving the checksums the port makes (cfg->tx_udp_csum,
 * tx_ip_csum) to the port: *tx says which and how (flags 0: all made
 * here). ps_pkt_reply_udp always makes them here. */
uint16_t ps_pkt_reply_udp_tx(const struct ps_net_cfg *cfg, uint8_t *frame,
			     const struct ps_frame *f, uint16_t plen,
			     struct ps_tx_csum *tx);
/* The same for a request ps_pkt_input_csum accepted with rx_csum: an IPv4
 * header whose checksum was checked (here, or by the port: GOOD) has it
 * updated for the words the reply changes rather than summed again; the
 * bytes are those ps_pkt_reply_udp_tx writes. */
uint16_t ps_pkt_reply_request(const struct ps_net_cfg *cfg, uint8_t *frame,
			      const struct ps_frame *f, uint16_t plen,
			      uint8_t rx_csum, struct ps_tx_csum *tx);
/* The UDP pseudo-header's sum (folded, not complemented) for an IP header
 * whose addresses and length are final: what the checksum field holds for
 * a port that finishes the checksum. */
uint16_t ps_udp_phdr_csum(uint8_t ip_ver, const uint8_t *ip, uint16_t ulen);

/* Is addr (4 or 16 bytes) inside one of the prefixes (or is the list
 * empty)? The pipeline asks it once a request's kind is known (the scanner
 * list for kind 1; the sorter list, where empty admits nobody, for 3 and 5). */
int ps_prefix_allowed(const struct ps_prefix *list, unsigned n, uint8_t ver,
		      const uint8_t *addr);
/* Parse "198.18.0.0/15" or "2001:db8::/32". Returns 0 or -1. */
int ps_prefix_parse(const char *s, struct ps_prefix *p);

#endif
