/* pkt.c: per-frame handling of the dataplane on raw bytes: destination
 * filtering, ARP, IPv6 neighbour discovery, ICMP/ICMPv6 echo, the UDP
 * request checks (address, port; the allow-lists come after the protocol
 * header's kind, in the pipeline), prefix lists and the in-place reply
 * rewrite, with the checksums the port offers left to the port. */
#include "pkt.h"
#include "pkt_inline.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void ps_net_cfg_finish(struct ps_net_cfg *c)
{
	static const uint8_t sn_prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
					       0, 0, 0, 0x01, 0xff };
	c->sn_mac[0] = 0x33;
	c->sn_mac[1] = 0x33;
	c->sn_mac[2] = 0xff;
	memcpy(c->sn_mac + 3, c->ip6 + 13, 3);
	memcpy(c->sn_ip6, sn_prefix, 13);
	memcpy(c->sn_ip6 + 13, c->ip6 + 13, 3);
}

int ps_prefix_allowed(const struct ps_prefix *list, unsigned n, uint8_t ver,
		      const uint8_t *addr)
{
	if (n == 0)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		const struct ps_prefix *p = &list[i];
		if (p->ver != ver)
			continue;
		unsigned full = p->len / 8, rest = p->len % 8;
		if (memcmp(p->addr, addr, full))
			continue;
		if (rest) {
			uint8_t mask = (uint8_t)(0xff << (8 - rest));
			if ((p->addr[full] & mask) != (addr[full] & mask))
				continue;
		}
		return 1;
	}
	return 0;
}

int ps_prefix_parse(const char *s, struct ps_prefix *p)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->ver = 4;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->ver = 6;
	else
		return -1;
	unsigned max = p->ver == 4 ? 32 : 128;
	if (!slash) {
		p->len = (uint8_t)max;
		return 0;
	}
	char *end;
	unsigned long len = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end || len > max)
		return -1;
	p->len = (uint8_t)len;
	/* host bits must be zero: a typo like 198.18.0.1/15 is refused */
	for (unsigned b = (unsigned)len; b < max; b++)
		if (p->addr[b / 8] & (0x80 >> (b % 8)))
			return -1;
	return 0;
}

static void eth_answer(const struct ps_net_cfg *c, uint8_t *frame)
{
	uint8_t src[6];
	memcpy(src, frame + 6, 6);
	memcpy(frame, src, 6);
	memcpy(frame + 6, c->mac, 6);
}

/* ARP request for our IPv4 address -> reply in place. */
static enum ps_pkt_verdict arp(const struct ps_net_cfg *c, uint8_t *frame,
			       uint16_t len, const struct ps_frame *f,
			       uint8_t *why, uint16_t *new_len)
{
	uint8_t *a = frame + f->l3_off;
	if (len < f->l3_off + 28 || ps_ld16(a) != 1 || ps_ld16(a + 2) != 0x0800 ||
	    a[4] != 6 || a[5] != 4 || ps_ld16(a + 6) != 1 || !c->has_ip4 ||
	    memcmp(a + 24, c->ip4, 4)) {
		*why = PS_DROP_ARP;
		return PS_PKT_DROP;
	}
	ps_st16(a + 6, 2);
	memcpy(a + 18, a + 8, 6);        /* tha = sha */
	memcpy(a + 24, a + 14, 4);       /* tpa = spa */
	memcpy(a + 8, c->mac, 6);        /* sha = ours */
	memcpy(a + 14, c->ip4, 4);       /* spa = ours */
	eth_answer(c, frame);
	*why = PS_ANS_ARP;
	*new_len = len;
	return PS_PKT_ANSWER;
}

static inline void ipv4_finish(uint8_t *ip, uint16_t total)
{
	ps_st16(ip + 2, total);
	ip[8] = 64;
	ip[10] = ip[11] = 0;
	uint16_t ck = (uint16_t)~ps_csum_fold_native(ps_ipv4_header_sum(ip));
	memcpy(ip + 10, &ck, 2);
}

static void swap(uint8_t *a, uint8_t *b, unsigned n)
{
	uint8_t t[16];
	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

static enum ps_pkt_verdict icmp4(const struct ps_net_cfg *c, uint8_t *frame,
				 uint16_t len, const struct ps_frame *f,
				 uint8_t *why, uint16_t *new_len)
{
	uint8_t *ip = frame + f->l3_off, *ic = frame + f->l4_off;
	if (f->l4_len < 8 || ic[0] != 8 || ic[1] != 0 ||
	    ps_csum_fold(ps_csum_partial(ic, f->l4_len, 0)) != 0) {
		*why = PS_DROP_ICMP;
		return PS_PKT_DROP;
	}
	ic[0] = 0;                       /* echo reply */
	ic[2] = ic[3] = 0;
	ps_st16(ic + 2, ps_csum_fold(ps_csum_partial(ic, f->l4_len, 0)));
	swap(ip + 12, ip + 16, 4);
	ipv4_finish(ip, ps_ld16(ip + 2));
	eth_answer(c, frame);
	*why = PS_ANS_ICMP_ECHO;
	*new_len = len;
	return PS_PKT_ANSWER;
}

static void icmp6_csum(uint8_t *ip6, uint8_t *ic, uint16_t n)
{
	ic[2] = ic[3] = 0;
	ps_st16(ic + 2, ps_l4_csum(6, ip6 + 8, ip6 + 24, PS_IPPROTO_ICMPV6, ic, n));
}

/* Neighbour solicitation for our address -> advertisement, never longer
 * than the solicitation (no amplification). RFC 4861 7.2.4: the target
 * link-layer address option MUST be in the answer to a multicast
 * solicitation and MAY be left out of the answer to a unicast one (its
 * sender already knows our MAC). So: a solicitation with room for the
 * option (32 bytes or more of ICMPv6, as one carrying its own source
 * link-layer address has) gets a 32-byte advertisement with the option and
 * the override flag; a bare 24-byte unicast one gets a 24-byte
 * advertisement without the option and without the override flag (7.2.4:
 * not set when the option is absent); a bare multicast one (which RFC 4861
 * 4.3 says must carry the sender's own address option) is dropped. */
#define ND_LEN 24u               /* solicitation/advertisement: no options */
#define ND_TLLA_LEN 32u          /* advertisement with the TLLA option */

static enum ps_pkt_verdict nd(const struct ps_net_cfg *c, uint8_t *frame,
			      const struct ps_frame *f, uint8_t *why,
			      uint16_t *new_len)
{
	uint8_t *ip = frame + f->l3_off, *ic = frame + f->l4_off;
	static const uint8_t unspec[16];
	int multicast = f->dst[0] == 0xff;
	int tlla = f->l4_len >= ND_TLLA_LEN;
	if (f->l4_len < ND_LEN || ic[1] != 0 || f->hop_limit != 255 ||
	    memcmp(ic + 8, c->ip6, 16) || !memcmp(ip + 8, unspec, 16) ||
	    f->l4_off != f->l3_off + 40 || (multicast && !tlla)) {
		*why = PS_DROP_ICMP;
		return PS_PKT_DROP;
	}
	uint16_t icmp_len = (uint16_t)(tlla ? ND_TLLA_LEN : ND_LEN);
	memcpy(ip + 24, ip + 8, 16);     /* to the solicitor */
	memcpy(ip + 8, c->ip6, 16);
	ps_st16(ip + 4, icmp_len);
	ip[6] = PS_IPPROTO_ICMPV6;
	ip[7] = 255;
	ic[0] = 136;                     /* neighbour advertisement */
	ic[1] = 0;
	ic[4] = tlla ? 0x60 : 0x40;      /* solicited (, override) */
	ic[5] = ic[6] = ic[7] = 0;
	memcpy(ic + 8, c->ip6, 16);
	if (tlla) {
		ic[24] = 2;              /* target link-layer address */
		ic[25] = 1;
		memcpy(ic + 26, c->mac, 6);
	}
	icmp6_csum(ip, ic, icmp_len);
	eth_answer(c, frame);
	*why = PS_ANS_ND;
	*new_len = (uint16_t)(f->l4_off + icmp_len);
	return PS_PKT_ANSWER;
}

static enum ps_pkt_verdict icmp6(const struct ps_net_cfg *c, uint8_t *frame,
				 uint16_t len, const struct ps_frame *f,
				 int to_us,
				 uint8_t *why, uint16_t *new_len)
{
	uint8_t *ip = frame + f->l3_off, *ic = frame + f->l4_off;
	if (f->l4_len < 8 ||
	    ps_l4_csum(6, f->src, f->dst, PS_IPPROTO_ICMPV6, ic, f->l4_len)) {
		*why = PS_DROP_ICMP;
		return PS_PKT_DROP;
	}
	if (ic[0] == 135)
		return nd(c, frame, f, why, new_len);
	if (ic[0] != 128 || ic[1] != 0 || !to_us) {
		*why = PS_DROP_ICMP;
		return PS_PKT_DROP;
	}
	ic[0] = 129;                     /* echo reply */
	swap(ip + 8, ip + 24, 16);
	ip[7] = 64;
	icmp6_csum(ip, ic, f->l4_len);
	eth_answer(c, frame);
	*why = PS_ANS_ICMP6_ECHO;
	*new_len = len;
	return PS_PKT_ANSWER;
}

static uint8_t drop_cause(enum ps_frame_status st, const uint8_t *frame,
			  uint16_t len)
{
	switch (st) {
	case PS_FRAME_SHORT:
		return ps_ld16(frame + 12) == PS_ETH_P_VLAN &&
				       len < PS_ETH_HLEN + PS_VLAN_HLEN
			       ? PS_DROP_L2 : PS_DROP_IP_HEADER;
	case PS_FRAME_ETHERTYPE: return PS_DROP_ETHERTYPE;
	case PS_FRAME_IP_HEADER: return PS_DROP_IP_HEADER;
	case PS_FRAME_IP_CSUM: return PS_DROP_IP_CHECKSUM;
	case PS_FRAME_FRAGMENT: return PS_DROP_FRAGMENT;
	case PS_FRAME_UDP_LEN: return PS_DROP_UDP_LENGTH;
	case PS_FRAME_UDP_CSUM: return PS_DROP_UDP_CHECKSUM;
	default: return PS_DROP_PROTOCOL;
	}
}

/* A parsed UDP datagram's checksum: absent (0, IPv4 only: the parser
 * refuses it over IPv6) or right. */
static int udp_csum_ok(const uint8_t *frame, const struct ps_frame *f)
{
	const uint8_t *u = frame + f->l4_off;
	if (!(u[6] | u[7]))
		return 1;
	uint64_t acc = ps_phdr_sum(f->ip_ver, frame + f->l3_off, f->l4_len);
	return ps_csum_fold_native(ps_csum_bytes(u, f->l4_len, acc)) == 0xffff;
}

/* Did the parse get past an IPv4 header's checks (to where its checksum
 * is checked)? */
static inline int past_ipv4_checks(enum ps_frame_status st,
				   const struct ps_frame *f)
{
	return f->ethertype == PS_ETH_P_IPV4 &&
	       (st == PS_FRAME_UDP || st == PS_FRAME_FRAGMENT ||
		st == PS_FRAME_PROTO || st == PS_FRAME_UDP_LEN ||
		st == PS_FRAME_UDP_CSUM);  /* the port said BAD */
}


/* What the port said, as the frame parser's known checksums. */
static unsigned known_csums(uint8_t rx_csum)
{
	static const uint8_t ip[4] = {
		[PS_CSUM_GOOD] = PS_FRAME_IP_CSUM_OK,
		[PS_CSUM_NONE] = PS_FRAME_IP_CSUM_OK,
		[PS_CSUM_BAD] = PS_FRAME_IP_CSUM_BAD,
	};
	static const uint8_t udp[4] = {
		[PS_CSUM_GOOD] = PS_FRAME_UDP_CSUM_OK,
		[PS_CSUM_NONE] = PS_FRAME_UDP_CSUM_OK,
		[PS_CSUM_BAD] = PS_FRAME_UDP_CSUM_BAD,
	};
	return (unsigned)ip[rx_csum & 3u] | udp[(rx_csum >> 2) & 3u];
}

enum ps_pkt_verdict ps_pkt_input(const struct ps_net_cfg *c, uint8_t *frame,
				 uint16_t len, struct ps_frame *f, uint8_t *why,
				 uint16_t *new_len)
{
	return ps_pkt_input_csum(c, frame, len, 0, f, why, new_len);
}


enum ps_pkt_verdict ps_pkt_input_csum(const struct ps_net_cfg *c,
				      uint8_t *frame, uint16_t len,
				      uint8_t rx_csum, struct ps_frame *f,
				      uint8_t *why, uint16_t *new_len)
{
	if (ps_pkt_fast_request4(c, frame, len, rx_csum, f))
		return PS_PKT_REQUEST;
	return ps_pkt_input_general(c, frame, len, rx_csum, f, why, new_len);
}

__attribute__((noinline))
enum ps_pkt_verdict ps_pkt_input_general(const struct ps_net_cfg *c,
					 uint8_t *frame, uint16_t len,
					 uint8_t rx_csum, struct ps_frame *f,
					 uint8_t *why, uint16_t *new_len)
{
	if (len < PS_ETH_HLEN) {
		*why = PS_DROP_L2;
		return PS_PKT_DROP;
	}
	if (memcmp(frame, c->mac, 6) && memcmp(frame, bcast, 6) &&
	    !(c->has_ip6 && !memcmp(frame, c->sn_mac, 6))) {
		*why = PS_DROP_NOT_FOR_US;
		return PS_PKT_DROP;
	}
	/* the checksums the port did not vouch for are checked here by the
	 * inline sums, each where the parser's order has it: the IPv4
	 * header's right after the header's own checks (so only for what got
	 * past them), the UDP checksum last */
	unsigned known = known_csums(rx_csum);
	enum ps_frame_status st = ps_frame_parse_known(
		frame, len, f,
		known | PS_FRAME_IP_CSUM_OK | PS_FRAME_UDP_CSUM_OK);
	if (!(known & PS_FRAME_IP_CSUM_OK) && past_ipv4_checks(st, f) &&
	    !ps_ipv4_csum_ok(frame + f->l3_off))
		st = PS_FRAME_IP_CSUM;
	else if (st == PS_FRAME_UDP && !(known & PS_FRAME_UDP_CSUM_OK) &&
		 !udp_csum_ok(frame, f))
		st = PS_FRAME_UDP_CSUM;
	if (st == PS_FRAME_ETHERTYPE && f->ethertype == PS_ETH_P_ARP)
		return arp(c, frame, len, f, why, new_len);
	if (st != PS_FRAME_UDP && st != PS_FRAME_PROTO) {
		*why = drop_cause(st, frame, len);
		return PS_PKT_DROP;
	}
	int to_us = f->ip_ver == 4 ? c->has_ip4 && !memcmp(f->dst, c->ip4, 4)
				   : c->has_ip6 && !memcmp(f->dst, c->ip6, 16);
	if (st == PS_FRAME_PROTO) {
		if (f->ip_ver == 4 && f->proto == PS_IPPROTO_ICMP && to_us)
			return icmp4(c, frame, len, f, why, new_len);
		if (f->ip_ver == 6 && f->proto == PS_IPPROTO_ICMPV6 &&
		    (to_us || (c->has_ip6 && !memcmp(f->dst, c->sn_ip6, 16))))
			return icmp6(c, frame, len, f, to_us, why, new_len);
		*why = to_us ? PS_DROP_PROTOCOL : PS_DROP_NOT_OUR_IP;
		return PS_PKT_DROP;
	}
	if (!to_us) {
		*why = PS_DROP_NOT_OUR_IP;
		return PS_PKT_DROP;
	}
	if (f->dport != c->port) {
		*why = PS_DROP_PORT;
		return PS_PKT_DROP;
	}
	return PS_PKT_REQUEST;
}

uint16_t ps_udp_phdr_csum(uint8_t ip_ver, const uint8_t *ip, uint16_t ulen)
{
	uint16_t n = ps_csum_fold_native(ps_phdr_sum(ip_ver, ip, ulen));
	return (uint16_t)(n << 8 | n >> 8);
}

/* The reply's UDP checksum (or its pseudo-header part, for the port),
 * from what is known of its header rather than from the bytes just
 * written there: the request's addresses and ports (f; swapped, which
 * leaves their sum as it was) and the new length. Only the new payload is
 * read back (pipeline.c writes a whole burst's payloads before their
 * checksums, so those stores are done by then: a load that straddles
 * stores still under way waits for them). */
static ALWAYS_INLINE void udp_csum(const struct ps_frame *f, uint8_t ip_ver,
				   uint8_t *u, uint16_t ulen, int offload)
{
	uint64_t acc = ps_net16(PS_IPPROTO_UDP) + ps_net16(ulen);
	if (ip_ver == 4) {
		uint32_t s, d;
		memcpy(&s, f->src, 4);
		memcpy(&d, f->dst, 4);
		acc += (uint64_t)s + d;     /* no carry out of 64 bits */
	} else {
		acc = ps_csum_bytes(f->dst, 16, ps_csum_bytes(f->src, 16, acc));
	}
	uint16_t ck;
	if (offload) {
		ck = ps_csum_fold_native(acc);
	} else {
		/* the UDP header: the ports, the length, a zero checksum */
		acc = ps_csum_add(acc, ps_net16(f->sport) +
				       ps_net16(f->dport) + ps_net16(ulen));
		acc = ps_csum_bytes(u + 8, ulen - 8u, acc);
		ck = (uint16_t)~ps_csum_fold_native(acc);
		if (!ck)
			ck = 0xffff;
	}
	memcpy(u + 6, &ck, 2);
}

/* An IPv4 header whose checksum is right, after its total length and TTL
 * changed (and its addresses swapped, which leaves the sum as it was):
 * the checksum updated for the two changed words (RFC 1624, eqn. 3)
 * instead of summed again. Never 0xffff, as a sum made afresh never is
 * (its fold is 0 only for a header of zeros): the same bytes. */
static inline void ipv4_update(uint8_t *ip, uint16_t total)
{
	uint32_t acc = (uint16_t)~ps_ld16(ip + 10);
	acc += (uint16_t)~ps_ld16(ip + 2) + (uint32_t)total;
	acc += (uint16_t)~ps_ld16(ip + 8) + (uint32_t)(64u << 8 | ip[9]);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	ps_st16(ip + 2, total);
	ip[8] = 64;
	ps_st16(ip + 10, (uint16_t)~acc);
}

/* The common reply (untagged IPv4 with a 20-byte header whose checksum is
 * known right, no offloads) with a few wide loads and stores: the same
 * bytes as reply_udp's general way (test_dataplane.c compares them). */
static ALWAYS_INLINE uint16_t reply4(const struct ps_net_cfg *c,
				     uint8_t *frame, const struct ps_frame *f,
				     uint16_t plen, struct ps_tx_csum *tx)
{
	uint8_t *ip = frame + PS_ETH_HLEN, *u = ip + 20;
	uint16_t ulen = (uint16_t)(8 + plen);
	uint64_t eth, addrs;
	uint32_t ports, lc;
	memcpy(&eth, frame + 6, 8);      /* their MAC and the EtherType */
	memcpy(frame, &eth, 8);          /* to them (then from us, below) */
	memcpy(frame + 6, c->mac, 6);
	memcpy(&addrs, ip + 12, 8);      /* the addresses swapped */
	addrs = addrs >> 32 | addrs << 32;
	memcpy(ip + 12, &addrs, 8);
	memcpy(&ports, u, 4);            /* the ports swapped */
	ports = ports >> 16 | ports << 16;
	memcpy(u, &ports, 4);
	lc = (uint32_t)(ulen >> 8 | (ulen & 0xffu) << 8);  /* length, csum 0 */
	memcpy(u + 4, &lc, 4);
	ipv4_update(ip, (uint16_t)(20 + ulen));
	udp_csum(f, 4, u, ulen, 0);
	if (tx) {
		tx->flags = 0;
		tx->l2_len = PS_ETH_HLEN;
		tx->l3_len = 20;
	}
	return (uint16_t)(PS_ETH_HLEN + 20 + ulen);
}

static ALWAYS_INLINE uint16_t reply_udp(const struct ps_net_cfg *c,
					 uint8_t *frame,
					 const struct ps_frame *f,
					 uint16_t plen, unsigned offload,
					 int ip_csum_right,
					 struct ps_tx_csum *tx)
{
	if (f->ip_ver == 4 && f->l3_off == PS_ETH_HLEN &&
	    f->l4_off == PS_ETH_HLEN + 20 && !offload && ip_csum_right)
		return reply4(c, frame, f, plen, tx);
	uint8_t *ip = frame + f->l3_off, *u = frame + f->l4_off;
	uint16_t ulen = (uint16_t)(8 + plen);
	if ((unsigned)(f->l4_off - f->l3_off) > PS_TX_L3_LEN_MAX)
		offload = 0;             /* more than the mbuf can say */
	eth_answer(c, frame);
	swap(u, u + 2, 2);
	ps_st16(u + 4, ulen);
	u[6] = u[7] = 0;
	if (f->ip_ver == 4) {
		swap(ip + 12, ip + 16, 4);
		uint16_t total = (uint16_t)(f->l4_off - f->l3_off + ulen);
		if (offload & PS_TX_IP_CSUM) {
			ps_st16(ip + 2, total);
			ip[8] = 64;
			ip[10] = ip[11] = 0;     /* the port makes it */
		} else if (ip_csum_right) {
			ipv4_update(ip, total);
		} else {
			ipv4_finish(ip, total);
		}
	} else {
		offload &= ~PS_TX_IP_CSUM;
		swap(ip + 8, ip + 24, 16);
		ps_st16(ip + 4, (uint16_t)(f->l4_off - f->l3_off - 40 + ulen));
		ip[7] = 64;
	}
	udp_csum(f, f->ip_ver, u, ulen, offload & PS_TX_UDP_CSUM);
	if (tx) {
		tx->flags = (uint8_t)(offload ? offload |
				      (f->ip_ver == 6 ? PS_TX_IPV6 : 0) : 0);
		tx->l2_len = (uint8_t)f->l3_off;
		tx->l3_len = (uint16_t)(f->l4_off - f->l3_off);
	}
	return (uint16_t)(f->l4_off + ulen);
}

uint16_t ps_pkt_reply_udp(const struct ps_net_cfg *c, uint8_t *frame,
			  const struct ps_frame *f, uint16_t plen)
{
	return reply_udp(c, frame, f, plen, 0, 0, NULL);
}

uint16_t ps_pkt_reply_udp_tx(const struct ps_net_cfg *c, uint8_t *frame,
			     const struct ps_frame *f, uint16_t plen,
			     struct ps_tx_csum *tx)
{
	unsigned offload = (c->tx_udp_csum ? PS_TX_UDP_CSUM : 0u) |
			   (c->tx_ip_csum ? PS_TX_IP_CSUM : 0u);
	return reply_udp(c, frame, f, plen, offload, 0, tx);
}

uint16_t ps_pkt_reply_request(const struct ps_net_cfg *c, uint8_t *frame,
			      const struct ps_frame *f, uint16_t plen,
			      uint8_t rx_csum, struct ps_tx_csum *tx)
{
	unsigned offload = (c->tx_udp_csum ? PS_TX_UDP_CSUM : 0u) |
			   (c->tx_ip_csum ? PS_TX_IP_CSUM : 0u);
	/* checked here (UNKNOWN) or by the port (GOOD): the field is right;
	 * NONE says the data is intact, not that the field holds the sum */
	unsigned ip_state = rx_csum & 3u;
	int right = ip_state == PS_CSUM_UNKNOWN || ip_state == PS_CSUM_GOOD;
	return reply_udp(c, frame, f, plen, offload, right, tx);
}
