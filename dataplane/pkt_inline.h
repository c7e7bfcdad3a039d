/* pkt_inline.h: the inline part of pkt.c's one-record path, for pkt.c
 * and the pipeline (which takes the common request frame without a call):
 * the Internet checksum sums and the one-pass check of an untagged IPv4
 * request (docs/dataplane.md, "Packet handling"). */
#ifndef PS_PKT_INLINE_H
#define PS_PKT_INLINE_H

#include <stdint.h>
#include <string.h>

#include "pkt.h"

/* inlined wherever used, the way the hot path needs it */
#define PS_PKT_INLINE static inline __attribute__((always_inline))

static inline uint16_t ps_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void ps_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum on the request path, inline: a one's complement
 * sum of native 64-bit words with end-around carries (byte-order free
 * until the fold; the same arithmetic as ps_csum_partial, without its
 * call and set-up for the short headers and datagrams a request is). */
static inline uint64_t ps_csum_add(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

/* Whole 8-byte words, n of them (n >= 1), onto acc. On x86-64 one
 * add-with-carry chain, the carry of each word into the next and the last
 * one added back at the end (what ps_csum_add does word by word, in one
 * instruction a word instead of three). */
PS_PKT_INLINE uint64_t ps_csum_words(const uint8_t *p, size_t n, uint64_t acc)
{
#if defined(__x86_64__)
	for (; n >= 4; p += 32, n -= 4)
		__asm__("addq (%[p]), %[a]\n\t"
			"adcq 8(%[p]), %[a]\n\t"
			"adcq 16(%[p]), %[a]\n\t"
			"adcq 24(%[p]), %[a]\n\t"
			"adcq $0, %[a]"
			: [a] "+r"(acc)
			: [p] "r"(p), "m"(*(const uint8_t (*)[32])p)
			: "cc");
	switch (n) {
	case 3:
		__asm__("addq (%[p]), %[a]\n\t"
			"adcq 8(%[p]), %[a]\n\t"
			"adcq 16(%[p]), %[a]\n\t"
			"adcq $0, %[a]"
			: [a] "+r"(acc)
			: [p] "r"(p), "m"(*(const uint8_t (*)[24])p)
			: "cc");
		break;
	case 2:
		__asm__("addq (%[p]), %[a]\n\t"
			"adcq 8(%[p]), %[a]\n\t"
			"adcq $0, %[a]"
			: [a] "+r"(acc)
			: [p] "r"(p), "m"(*(const uint8_t (*)[16])p)
			: "cc");
		break;
	case 1:
		__asm__("addq (%[p]), %[a]\n\t"
			"adcq $0, %[a]"
			: [a] "+r"(acc)
			: [p] "r"(p), "m"(*(const uint8_t (*)[8])p)
			: "cc");
		break;
	}
#else
	for (; n; p += 8, n--) {
		uint64_t w;
		memcpy(&w, p, 8);
		acc = ps_csum_add(acc, w);
	}
#endif
	return acc;
}

PS_PKT_INLINE uint64_t ps_csum_bytes(const uint8_t *p, size_t len, uint64_t acc)
{
	if (len >= 8) {
		acc = ps_csum_words(p, len / 8, acc);
		p += len & ~(size_t)7;
		len &= 7;
	}
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		acc = ps_csum_add(acc, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		acc = ps_csum_add(acc, w);
		p += 2;
		len -= 2;
	}
	if (len)
		acc = ps_csum_add(acc, p[0]);      /* little-endian: see
						  * ps_csum_partial */
	return acc;
}

/* 64 bits down to 16, still in native order (store with memcpy). */
static inline uint16_t ps_csum_fold_native(uint64_t acc)
{
	uint32_t hi = (uint32_t)(acc >> 32), s = (uint32_t)acc + hi;
	s += s < hi;                     /* the end-around carry */
	/* the high half of s + s rotated by 16 is the two halves' one's
	 * complement sum, their carry included (Linux's csum_fold) */
	return (uint16_t)((s + (s >> 16 | s << 16)) >> 16);
}

/* A 16-bit quantity in network order, as a native word would hold it. */
static inline uint64_t ps_net16(uint16_t v)
{
	return (uint64_t)(uint16_t)(v << 8 | v >> 8);
}

/* The UDP pseudo-header of the IP header at ip (addresses as they are
 * there, protocol, ulen), native. */
static inline uint64_t ps_phdr_sum(uint8_t ip_ver, const uint8_t *ip,
				uint16_t ulen)
{
	uint64_t acc = ps_net16(PS_IPPROTO_UDP) + ps_net16(ulen);
	return ip_ver == 4 ? ps_csum_bytes(ip + 12, 8, acc)
			   : ps_csum_bytes(ip + 8, 32, acc);
}

/* An IPv4 header's sum (its options too), native. */
static inline uint64_t ps_ipv4_header_sum(const uint8_t *ip)
{
	unsigned ihl = (ip[0] & 0x0fu) * 4u;
	return ihl == 20 ? ps_csum_bytes(ip, 20, 0) : ps_csum_bytes(ip, ihl, 0);
}

static inline int ps_ipv4_csum_ok(const uint8_t *ip)
{
	return ps_csum_fold_native(ps_ipv4_header_sum(ip)) == 0xffff;
}

/* The common case in one pass: an untagged IPv4 frame to our MAC, a
 * 20-byte header without fragmentation, UDP to our address and port, the
 * lengths consistent and the checksums right (or vouched for by the port).
 * Fills f exactly as ps_frame_parse_known does and returns 1; anything
 * else returns 0 and the frame takes the general path, which says why (a
 * request this path accepts is one the general path accepts, with the same
 * f: test_dataplane.c compares the two). */
PS_PKT_INLINE int ps_pkt_fast_request4(const struct ps_net_cfg *c,
				       const uint8_t *frame, uint16_t len,
				       uint8_t rx_csum, struct ps_frame *f)
{
	const uint8_t *ip = frame + PS_ETH_HLEN, *u = ip + 20;
	if (len < PS_ETH_HLEN + 28 || !c->has_ip4 || memcmp(frame, c->mac, 6) ||
	    ps_ld16(frame + 12) != PS_ETH_P_IPV4 || ip[0] != 0x45 ||
	    ip[9] != PS_IPPROTO_UDP || (ps_ld16(ip + 6) & 0x3fffu) ||
	    memcmp(ip + 16, c->ip4, 4) || ps_ld16(u + 2) != c->port)
		return 0;
	unsigned tot = ps_ld16(ip + 2), ulen = ps_ld16(u + 4);
	if (tot > len - PS_ETH_HLEN || ulen < 8 || ulen + 20 != tot)
		return 0;
	unsigned ip_state = rx_csum & 3u, udp_state = (rx_csum >> 2) & 3u;
	if (ip_state == PS_CSUM_BAD ||
	    (ip_state == PS_CSUM_UNKNOWN && !ps_ipv4_csum_ok(ip)))
		return 0;
	if (u[6] | u[7]) {
		if (udp_state == PS_CSUM_BAD)
			return 0;
		if (udp_state == PS_CSUM_UNKNOWN) {
			uint64_t acc = ps_phdr_sum(4, ip, (uint16_t)ulen);
			if (ps_csum_fold_native(ps_csum_bytes(u, ulen, acc)) !=
			    0xffff)
				return 0;
		}
	}
	/* every byte of f stored once (no memset first) */
	f->ethertype = PS_ETH_P_IPV4;
	f->vlan_tci = 0;
	f->has_vlan = 0;
	f->ip_ver = 4;
	f->proto = PS_IPPROTO_UDP;
	f->hop_limit = ip[8];
	f->l3_off = PS_ETH_HLEN;
	f->l4_off = PS_ETH_HLEN + 20;
	f->payload_off = PS_ETH_HLEN + 28;
	f->l4_len = (uint16_t)ulen;
	f->payload_len = (uint16_t)(ulen - 8);
	f->sport = ps_ld16(u);
	f->dport = ps_ld16(u + 2);
	memcpy(f->src, ip + 12, 4);
	memset(f->src + 4, 0, 12);
	memcpy(f->dst, ip + 16, 4);
	memset(f->dst + 4, 0, 12);
	return 1;
}

#endif
