/* test_offload.c: checksum offloads (docs/dataplane.md). The virtual ports
 * here offer none, so every receive flag is driven on mbufs and buffers
 * built here: GOOD and NONE are trusted (a wrong checksum in the bytes is
 * not looked at), BAD is dropped and counted, UNKNOWN is checked in
 * software; and a reply left to a port that makes checksums carries the
 * pseudo-header sum DPDK's helpers give, the right mbuf fields, and, once
 * finished in software, the same bytes as a reply made in software. */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "offload.h"
#include "pipeline.h"

#define PORT 7100

static struct ps_chute_state cs;

static struct ps_net_cfg net(int tx_udp, int tx_ip)
{
	struct ps_net_cfg c = { .mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1,
				.ip4 = { 198, 18, 0, 2 }, .has_ip6 = 1,
				.ip6 = { 0x20, 1, 0xd, 0xb8, [15] = 2 },
				.port = PORT, .tx_udp_csum = (uint8_t)tx_udp,
				.tx_ip_csum = (uint8_t)tx_ip };
	ps_net_cfg_finish(&c);
	return c;
}

/* A one-record scan request (no plan: answered NO_PLAN) over IPv4 or IPv6,
 * tagged or not. */
static size_t request(uint8_t *buf, int ip_ver, uint16_t vlan)
{
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 },
				  .ip_ver = (uint8_t)ip_ver, .sport = 5,
				  .dport = PORT, .vlan = vlan };
	if (ip_ver == 4) {
		uint8_t s[4] = { 198, 18, 0, 1 }, d[4] = { 198, 18, 0, 2 };
		memcpy(e.src_ip, s, 4);
		memcpy(e.dst_ip, d, 4);
	} else {
		uint8_t s[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
		uint8_t d[16] = { 0x20, 1, 0xd, 0xb8, [15] = 2 };
		memcpy(e.src_ip, s, 16);
		memcpy(e.dst_ip, d, 16);
	}
	uint8_t payload[16 + 64] = { 0x50, 0x53, 1, 1, 0, 1 };
	memcpy(payload + 16, "SF1234567890123", 15);
	return ps_frame_build_udp(buf, 256, &e, payload, sizeof(payload));
}

struct rig {
	struct ps_net_cfg c;
	struct ps_dedup d;
	struct ps_counters cnt;
	struct ps_plan *none;
	struct ps_pipeline pl;
};

static void rig_init(struct rig *r, int tx_udp, int tx_ip)
{
	memset(r, 0, sizeof(*r));
	ps_chutes_init(&cs);
	r->c = net(tx_udp, tx_ip);
	cr_assert_eq(ps_dedup_init(&r->d, 1024, 600), 0);
	r->pl = (struct ps_pipeline){ .net = &r->c, .plan_slot = &r->none,
				      .chutes = &cs, .dedup = &r->d,
				      .cnt = &r->cnt };
}

/* One frame through the pipeline with what the port said of it. */
static struct ps_pkt_buf run(struct rig *r, uint8_t *frame, size_t len,
			     uint8_t rx_csum)
{
	struct ps_pkt_buf b = { .data = frame, .len = (uint16_t)len,
				.rx_csum = rx_csum };
	ps_pipeline_run(&r->pl, &b, 1, 1);
	return b;
}

static size_t udp_csum_off(int ip_ver, uint16_t vlan)
{
	return 14u + (vlan ? 4u : 0u) + (ip_ver == 4 ? 20u : 40u) + 6u;
}

/* The rx flags of an mbuf, as the worker reads them. */
static uint8_t rx_of(uint64_t ol_flags)
{
	struct rte_mbuf m;
	memset(&m, 0, sizeof(m));
	m.ol_flags = ol_flags;
	return ps_rx_csum_of(&m);
}

Test(offload, mbuf_flags_map_to_the_pipeline)
{
	cr_assert_eq(rx_of(0), PS_RX_CSUM(PS_CSUM_UNKNOWN, PS_CSUM_UNKNOWN));
	cr_assert_eq(rx_of(RTE_MBUF_F_RX_L4_CKSUM_GOOD),
		     PS_RX_CSUM(PS_CSUM_UNKNOWN, PS_CSUM_GOOD));
	cr_assert_eq(rx_of(RTE_MBUF_F_RX_L4_CKSUM_BAD),
		     PS_RX_CSUM(PS_CSUM_UNKNOWN, PS_CSUM_BAD));
	cr_assert_eq(rx_of(RTE_MBUF_F_RX_L4_CKSUM_NONE),
		     PS_RX_CSUM(PS_CSUM_UNKNOWN, PS_CSUM_NONE));
	cr_assert_eq(rx_of(RTE_MBUF_F_RX_IP_CKSUM_GOOD |
			   RTE_MBUF_F_RX_L4_CKSUM_GOOD),
		     PS_RX_CSUM(PS_CSUM_GOOD, PS_CSUM_GOOD));
	cr_assert_eq(rx_of(RTE_MBUF_F_RX_IP_CKSUM_BAD |
			   RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN),
		     PS_RX_CSUM(PS_CSUM_BAD, PS_CSUM_UNKNOWN));
	cr_assert_eq(rx_of(RTE_MBUF_F_RX_IP_CKSUM_NONE |
			   RTE_MBUF_F_RX_L4_CKSUM_BAD),
		     PS_RX_CSUM(PS_CSUM_NONE, PS_CSUM_BAD));
	/* flags that are not about checksums change nothing */
	cr_assert_eq(rx_of(RTE_MBUF_F_RX_RSS_HASH | RTE_MBUF_F_RX_VLAN),
		     PS_RX_CSUM(PS_CSUM_UNKNOWN, PS_CSUM_UNKNOWN));
}

/* GOOD and NONE: trusted, so a wrong checksum in the bytes is accepted. */
static void trusted(uint64_t l4, uint64_t ip, int ip_ver)
{
	struct rig r;
	rig_init(&r, 0, 0);
	uint8_t f[256];
	size_t n = request(f, ip_ver, 0);
	f[udp_csum_off(ip_ver, 0)] ^= 0x5a;          /* wrong UDP sum */
	if (ip_ver == 4)
		f[14 + 10] ^= 0x33;                   /* wrong IPv4 sum */
	struct ps_pkt_buf b = run(&r, f, n, rx_of(l4 | ip));
	cr_assert(b.send, "trusted: answered");
	cr_assert_eq(r.cnt.answered[PS_ANS_DECISION], 1);
	cr_assert_eq(r.cnt.drops[PS_DROP_UDP_CHECKSUM], 0);
	cr_assert_eq(r.cnt.drops[PS_DROP_IP_CHECKSUM], 0);
	ps_dedup_free(&r.d);
}

Test(offload, good_is_trusted_without_a_software_check)
{
	trusted(RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_GOOD, 4);
	trusted(RTE_MBUF_F_RX_L4_CKSUM_GOOD, 0, 6);
}

Test(offload, none_is_trusted_without_a_software_check)
{
	trusted(RTE_MBUF_F_RX_L4_CKSUM_NONE, RTE_MBUF_F_RX_IP_CKSUM_NONE, 4);
	trusted(RTE_MBUF_F_RX_L4_CKSUM_NONE, 0, 6);
}

Test(offload, bad_is_dropped_and_counted_even_with_right_bytes)
{
	struct rig r;
	rig_init(&r, 0, 0);
	uint8_t f[256];
	size_t n = request(f, 4, 0);
	struct ps_pkt_buf b = run(&r, f, n, rx_of(RTE_MBUF_F_RX_L4_CKSUM_BAD));
	cr_assert_not(b.send);
	cr_assert_eq(r.cnt.drops[PS_DROP_UDP_CHECKSUM], 1);
	n = request(f, 6, 0);
	b = run(&r, f, n, rx_of(RTE_MBUF_F_RX_L4_CKSUM_BAD |
				RTE_MBUF_F_RX_IP_CKSUM_GOOD));
	cr_assert_not(b.send);
	cr_assert_eq(r.cnt.drops[PS_DROP_UDP_CHECKSUM], 2);
	n = request(f, 4, 0);
	b = run(&r, f, n, rx_of(RTE_MBUF_F_RX_IP_CKSUM_BAD |
				RTE_MBUF_F_RX_L4_CKSUM_GOOD));
	cr_assert_not(b.send);
	cr_assert_eq(r.cnt.drops[PS_DROP_IP_CHECKSUM], 1);
	cr_assert_eq(r.cnt.answered[PS_ANS_DECISION], 0);
	cr_assert_eq(r.cnt.rx_frames, 3);
	ps_dedup_free(&r.d);
}

Test(offload, unknown_is_checked_in_software)
{
	for (int v = 4; v <= 6; v += 2) {
		struct rig r;
		rig_init(&r, 0, 0);
		uint8_t f[256];
		size_t n = request(f, v, 0);
		struct ps_pkt_buf b = run(&r, f, n, rx_of(0));
		cr_assert(b.send, "a right checksum: answered");
		n = request(f, v, 0);
		f[udp_csum_off(v, 0)] ^= 0x5a;
		b = run(&r, f, n, rx_of(0));
		cr_assert_not(b.send, "a wrong one: dropped");
		cr_assert_eq(r.cnt.drops[PS_DROP_UDP_CHECKSUM], 1);
		if (v == 4) {
			n = request(f, v, 0);
			f[14 + 10] ^= 0x33;
			b = run(&r, f, n, rx_of(RTE_MBUF_F_RX_L4_CKSUM_GOOD));
			cr_assert_not(b.send, "IPv4 header unknown: checked");
			cr_assert_eq(r.cnt.drops[PS_DROP_IP_CHECKSUM], 1);
		}
		ps_dedup_free(&r.d);
	}
}

static uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What a port does with a reply left to it: the IPv4 header's checksum
 * (when asked) and the UDP checksum over the datagram, starting from the
 * pseudo-header sum in the field. */
static void finish_like_a_port(uint8_t *f, const struct ps_tx_csum *tx,
			       size_t len)
{
	uint8_t *ip = f + tx->l2_len, *u = ip + tx->l3_len;
	if (tx->flags & PS_TX_IP_CSUM) {
		cr_assert_eq(ip[10] | ip[11], 0, "left to the port: zero");
		uint16_t ck = ps_csum_fold(ps_csum_partial(ip, tx->l3_len, 0));
		ip[10] = (uint8_t)(ck >> 8);
		ip[11] = (uint8_t)ck;
	}
	if (tx->flags & PS_TX_UDP_CSUM) {
		uint16_t ck = ps_csum_fold(ps_csum_partial(
			u, len - (size_t)(u - f), 0));
		if (!ck)
			ck = 0xffff;
		u[6] = (uint8_t)(ck >> 8);
		u[7] = (uint8_t)ck;
	}
}

/* The same request answered by a port that makes nothing and by one that
 * makes what tx_udp/tx_ip say: the same bytes once finished. */
static void same_answer(int ip_ver, uint16_t vlan, int tx_udp, int tx_ip)
{
	struct rig sw, hw;
	rig_init(&sw, 0, 0);
	rig_init(&hw, tx_udp, tx_ip);
	uint8_t a[256], h[256];
	size_t n = request(a, ip_ver, vlan);
	memcpy(h, a, n);
	struct ps_pkt_buf ba = run(&sw, a, n, 0), bh = run(&hw, h, n, 0);
	cr_assert(ba.send && bh.send);
	cr_assert_eq(ba.tx.flags, 0, "software: nothing left to the port");
	cr_assert_eq(ba.out_len, bh.out_len);
	unsigned want = (tx_udp ? PS_TX_UDP_CSUM : 0u) |
			(tx_ip && ip_ver == 4 ? PS_TX_IP_CSUM : 0u);
	if (want)
		want |= ip_ver == 6 ? PS_TX_IPV6 : 0u;
	cr_assert_eq(bh.tx.flags, want, "flags %#x, want %#x", bh.tx.flags,
		     want);
	unsigned l2 = 14u + (vlan ? 4u : 0u);
	if (want) {
		cr_assert_eq(bh.tx.l2_len, l2);
		cr_assert_eq(bh.tx.l3_len, ip_ver == 4 ? 20 : 40);
	}
	/* the mbuf fields the port reads */
	struct rte_mbuf m;
	memset(&m, 0, sizeof(m));
	/* a TX flag left from before goes; the others stay (an external
	 * buffer's: the mbuf's free needs it) */
	m.ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_EXTERNAL |
		     RTE_MBUF_F_TX_TCP_CKSUM;
	ps_tx_csum_set(&m, &bh.tx);
	cr_assert_eq(m.ol_flags & ~RTE_MBUF_F_TX_OFFLOAD_MASK,
		     RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_EXTERNAL);
	m.ol_flags &= RTE_MBUF_F_TX_OFFLOAD_MASK;
	uint64_t ol = !want ? 0 : (ip_ver == 4 ? RTE_MBUF_F_TX_IPV4
					       : RTE_MBUF_F_TX_IPV6) |
		(tx_udp ? RTE_MBUF_F_TX_UDP_CKSUM : 0) |
		(want & PS_TX_IP_CSUM ? RTE_MBUF_F_TX_IP_CKSUM : 0);
	cr_assert_eq(m.ol_flags, ol, "ol_flags %#llx, want %#llx",
		     (unsigned long long)m.ol_flags, (unsigned long long)ol);
	if (want) {
		cr_assert_eq(m.l2_len, l2);
		cr_assert_eq(m.l3_len, ip_ver == 4 ? 20u : 40u);
	}
	if (tx_udp) {
		/* the pseudo-header sum, as DPDK's helper makes it (native
		 * order in the field, as a driver's caller stores it) */
		uint16_t field, want_ph;
		memcpy(&field, h + l2 + (ip_ver == 4 ? 20 : 40) + 6, 2);
		want_ph = ip_ver == 4
			? rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)(h + l2), 0)
			: rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)(h + l2), 0);
		cr_assert_eq(field, want_ph, "pseudo-header %#x, DPDK %#x",
			     field, want_ph);
		cr_assert_neq(memcmp(a, h, ba.out_len), 0,
			      "unfinished, the answers differ");
	}
	finish_like_a_port(h, &bh.tx, bh.out_len);
	cr_assert_arr_eq(a, h, ba.out_len, "the same answer either way");
	/* and the finished answer checks */
	struct ps_frame fr;
	cr_assert_eq(ps_frame_parse(h, bh.out_len, &fr), PS_FRAME_UDP);
	cr_assert_eq(ld16(h + l2 + (ip_ver == 4 ? 20 : 40)), PORT,
		     "from our port");
	ps_dedup_free(&sw.d);
	ps_dedup_free(&hw.d);
}

Test(offload, tx_ipv4_udp_and_header_left_to_the_port)
{
	same_answer(4, 0, 1, 1);
	same_answer(4, 7, 1, 1);
}

Test(offload, tx_ipv4_udp_only)
{
	same_answer(4, 0, 1, 0);
}

Test(offload, tx_ipv4_header_only)
{
	same_answer(4, 0, 0, 1);
}

Test(offload, tx_ipv6_udp_left_to_the_port)
{
	same_answer(6, 0, 1, 1);
	same_answer(6, 9, 1, 0);
}

Test(offload, tx_none_made_in_software)
{
	same_answer(4, 0, 0, 0);
	same_answer(6, 0, 0, 0);
}

/* Answers that are not UDP replies (ping) are made in software even on a
 * port that makes checksums: nothing is left to it. */
Test(offload, other_answers_made_in_software)
{
	struct rig r;
	rig_init(&r, 1, 1);
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .src_ip = { 198, 18, 0, 1 },
				  .dst_ip = { 198, 18, 0, 2 }, .sport = 5,
				  .dport = PORT };
	uint8_t f[256], echo[16] = { 8, 0, 0, 0, 0, 1, 0, 1 };
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, echo, 8);
	/* make it ICMP: protocol 1, the echo where the UDP header was */
	uint8_t *ip = f + 14;
	ip[9] = 1;
	ip[10] = ip[11] = 0;
	uint16_t ck = ps_csum_fold(ps_csum_partial(ip, 20, 0));
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	memcpy(ip + 20, echo, 16);
	ck = ps_csum_fold(ps_csum_partial(ip + 20, 16, 0));
	ip[22] = (uint8_t)(ck >> 8);
	ip[23] = (uint8_t)ck;
	struct ps_pkt_buf b = run(&r, f, n, 0);
	cr_assert(b.send);
	cr_assert_eq(r.cnt.answered[PS_ANS_ICMP_ECHO], 1);
	cr_assert_eq(b.tx.flags, 0);
	cr_assert_eq(ps_csum_fold(ps_csum_partial(ip, 20, 0)), 0,
		     "the header's checksum made here");
	ps_dedup_free(&r.d);
}

/* The dataplane's inline sums (received UDP checksums checked, replies'
 * made) against the frame parser's own: every payload length, odd ones
 * too, over IPv4 and IPv6, right and damaged. */
Test(offload, inline_sums_agree_with_the_frame_parser)
{
	struct ps_net_cfg c = net(0, 0);
	uint32_t seed = 12345;
	for (int v = 4; v <= 6; v += 2) {
		for (unsigned plen = 0; plen < 300; plen++) {
			uint8_t pay[300], f[512];
			for (unsigned i = 0; i < plen; i++) {
				seed = seed * 1103515245u + 12345u;
				pay[i] = (uint8_t)(seed >> 16);
			}
			struct ps_endpoints e = {
				.src_mac = { 2, 0, 0, 0, 0, 1 },
				.dst_mac = { 2, 0, 0, 0, 0, 2 },
				.ip_ver = (uint8_t)v, .sport = 5, .dport = PORT };
			if (v == 4) {
				uint8_t s[4] = { 198, 18, 0, 1 };
				memcpy(e.src_ip, s, 4);
				memcpy(e.dst_ip, c.ip4, 4);
			} else {
				uint8_t s[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
				memcpy(e.src_ip, s, 16);
				memcpy(e.dst_ip, c.ip6, 16);
			}
			size_t n = ps_frame_build_udp(f, sizeof(f), &e, pay, plen);
			unsigned l3 = v == 4 ? 20 : 40;
			if (plen & 1)       /* damage a payload or header byte */
				f[14 + l3 + (plen * 7) % (8 + plen)] ^=
					(uint8_t)(1u << (plen % 8));
			struct ps_frame pf, fr;
			enum ps_frame_status want = ps_frame_parse(f, n, &pf);
			uint8_t why;
			uint16_t nl;
			enum ps_pkt_verdict got = ps_pkt_input(&c, f, (uint16_t)n,
							       &fr, &why, &nl);
			if (want == PS_FRAME_UDP_CSUM) {
				cr_assert_eq(got, PS_PKT_DROP);
				cr_assert_eq(why, PS_DROP_UDP_CHECKSUM,
					     "v%d plen %u", v, plen);
				continue;
			}
			if (want != PS_FRAME_UDP)
				continue;   /* a damaged port or length */
			cr_assert(got == PS_PKT_REQUEST ||
				  why != PS_DROP_UDP_CHECKSUM,
				  "v%d plen %u: refused a right checksum", v,
				  plen);
			if (got != PS_PKT_REQUEST)
				continue;
			/* a reply of any length up to the request's */
			uint16_t out = ps_pkt_reply_udp(&c, f, &fr,
							(uint16_t)(plen / 2 + 1 <= plen ? plen / 2 + 1 : plen));
			cr_assert_eq(ps_frame_parse(f, out, &pf), PS_FRAME_UDP,
				     "v%d plen %u: the reply checks", v, plen);
		}
	}
}

/* The port vouching for one checksum keeps the other's check in its
 * place: an IPv4 header with a wrong checksum is dropped as such even when
 * the port said the UDP checksum was BAD (the header's check comes first,
 * as it does in software: docs/protocol.md's order). */
Test(offload, ipv4_header_checked_before_a_bad_udp_flag)
{
	struct rig r;
	rig_init(&r, 0, 0);
	uint8_t f[256];
	size_t n = request(f, 4, 0);
	f[14 + 10] ^= 0x33;                   /* wrong IPv4 header sum */
	struct ps_pkt_buf b = run(&r, f, n, rx_of(RTE_MBUF_F_RX_L4_CKSUM_BAD));
	cr_assert_not(b.send);
	cr_assert_eq(r.cnt.drops[PS_DROP_IP_CHECKSUM], 1,
		     "the header's checksum, as software finds it");
	cr_assert_eq(r.cnt.drops[PS_DROP_UDP_CHECKSUM], 0);
	/* the same frame with nothing said by the port: the same cause */
	n = request(f, 4, 0);
	f[14 + 10] ^= 0x33;
	f[udp_csum_off(4, 0)] ^= 0x5a;        /* and a wrong UDP sum */
	b = run(&r, f, n, rx_of(0));
	cr_assert_eq(r.cnt.drops[PS_DROP_IP_CHECKSUM], 2);
	cr_assert_eq(r.cnt.drops[PS_DROP_UDP_CHECKSUM], 0);
	ps_dedup_free(&r.d);
}

/* A zero UDP checksum over IPv4 is no checksum (RFC 768): answered
 * whatever the port says of it, BAD included (some NICs flag it so), as
 * the software check answers it; over IPv6 it is refused whatever the port
 * says, GOOD and NONE included (RFC 8200 8.1). */
Test(offload, zero_udp_checksum_whatever_the_port_says)
{
	static const uint64_t l4[] = { 0, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
				       RTE_MBUF_F_RX_L4_CKSUM_NONE,
				       RTE_MBUF_F_RX_L4_CKSUM_BAD };
	for (unsigned i = 0; i < sizeof(l4) / sizeof(l4[0]); i++) {
		for (int v = 4; v <= 6; v += 2) {
			struct rig r;
			rig_init(&r, 0, 0);
			uint8_t f[256];
			size_t n = request(f, v, 0);
			f[udp_csum_off(v, 0)] = 0;
			f[udp_csum_off(v, 0) + 1] = 0;
			struct ps_pkt_buf b = run(&r, f, n, rx_of(l4[i]));
			if (v == 4) {
				cr_assert(b.send, "IPv4, no checksum, flags "
					  "%#llx: answered",
					  (unsigned long long)l4[i]);
				cr_assert_eq(r.cnt.answered[PS_ANS_DECISION], 1);
			} else {
				cr_assert_not(b.send, "IPv6, zero checksum, "
					      "flags %#llx: dropped",
					      (unsigned long long)l4[i]);
				cr_assert_eq(r.cnt.drops[PS_DROP_UDP_CHECKSUM], 1);
			}
			ps_dedup_free(&r.d);
		}
	}
}

/* An IPv6 request with extension headers longer than an mbuf's l3_len
 * holds (9 bits: 511 bytes): a reply left to the port would have it make
 * the UDP checksum at the wrong place. What leaves checks, on the bytes a
 * port would finish from the mbuf's own fields. */
Test(offload, long_ipv6_extension_headers_reply_checks)
{
	static const unsigned ext_lens[] = { 8, 496, 504, 600 };
	for (unsigned e = 0; e < sizeof(ext_lens) / sizeof(ext_lens[0]); e++) {
		unsigned ext = ext_lens[e];
		struct rig r;
		rig_init(&r, 1, 1);
		uint8_t base[256], f[1024];
		size_t n = request(base, 6, 0);
		/* Ethernet + IPv6, a destination options header (Pad1
		 * bytes), then the UDP datagram as it was */
		memcpy(f, base, 54);
		memset(f + 54, 0, ext);
		f[54] = 17;                        /* then UDP */
		f[55] = (uint8_t)(ext / 8 - 1);
		memcpy(f + 54 + ext, base + 54, n - 54);
		f[14 + 6] = 60;                    /* destination options */
		unsigned plen = (unsigned)(n - 54) + ext;
		f[14 + 4] = (uint8_t)(plen >> 8);
		f[14 + 5] = (uint8_t)plen;
		n += ext;
		struct ps_frame pf;
		cr_assert_eq(ps_frame_parse(f, n, &pf), PS_FRAME_UDP);
		struct ps_pkt_buf b = run(&r, f, n, 0);
		cr_assert(b.send, "ext %u: answered", ext);
		/* left to the port while the header fits its field */
		cr_assert_eq(!!b.tx.flags, 40 + ext <= PS_TX_L3_LEN_MAX,
			     "ext %u: flags %#x", ext, b.tx.flags);
		struct rte_mbuf m;
		memset(&m, 0, sizeof(m));
		ps_tx_csum_set(&m, &b.tx);
		struct ps_tx_csum as_port = { .flags = b.tx.flags,
					      .l2_len = (uint8_t)m.l2_len,
					      .l3_len = (uint16_t)m.l3_len };
		if (as_port.flags)
			finish_like_a_port(f, &as_port, b.out_len);
		cr_assert_eq(ps_frame_parse(f, b.out_len, &pf), PS_FRAME_UDP,
			     "ext %u: the reply's checksum is right (flags "
			     "%#x, l3_len %u)", ext, b.tx.flags,
			     (unsigned)m.l3_len);
		ps_dedup_free(&r.d);
	}
}
