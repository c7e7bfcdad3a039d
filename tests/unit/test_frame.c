/* test_frame.c: Ethernet/VLAN/IPv4/IPv6/UDP parse and build: round trips,
 * checksums, fragments, truncation at every length. */
#include <criterion/criterion.h>
#include <string.h>

#include "ps_frame.h"
#include "ps_wire.h"

static struct ps_endpoints ep(int v6, uint16_t vlan)
{
	struct ps_endpoints e = {
		.src_mac = { 2, 0, 0, 0, 0, 1 }, .dst_mac = { 2, 0, 0, 0, 0, 2 },
		.ip_ver = v6 ? 6 : 4, .sport = 40000, .dport = 7100,
		.vlan = vlan,
	};
	if (v6) {
		uint8_t s[16] = { 0x20, 1, 0x0d, 0xb8, [15] = 1 };
		uint8_t d[16] = { 0x20, 1, 0x0d, 0xb8, [15] = 2 };
		memcpy(e.src_ip, s, 16);
		memcpy(e.dst_ip, d, 16);
	} else {
		uint8_t s[4] = { 198, 18, 0, 1 }, d[4] = { 198, 18, 0, 2 };
		memcpy(e.src_ip, s, 4);
		memcpy(e.dst_ip, d, 4);
	}
	return e;
}

static const uint8_t payload[80] = { 0x50, 0x53, 1, 1, 0, 1 };

Test(frame, ipv4_round_trip)
{
	uint8_t f[256];
	struct ps_endpoints e = ep(0, 0);
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	cr_assert_eq(n, 14 + 20 + 8 + 80u);
	struct ps_frame p;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP);
	cr_assert_eq(p.ip_ver, 4);
	cr_assert_eq(p.sport, 40000);
	cr_assert_eq(p.dport, 7100);
	cr_assert_eq(p.payload_off, 42);
	cr_assert_eq(p.payload_len, 80);
	cr_assert_arr_eq(p.src, e.src_ip, 4);
	cr_assert_arr_eq(f + p.payload_off, payload, 80);
	/* ethernet padding after the IP packet is ignored */
	cr_assert_eq(ps_frame_parse(f, n + 4, &p), PS_FRAME_UDP);
	cr_assert_eq(p.payload_len, 80);
}

Test(frame, ipv6_and_vlan_round_trip)
{
	uint8_t f[256];
	struct ps_endpoints e = ep(1, 42);
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	cr_assert_eq(n, 18 + 40 + 8 + 80u);
	struct ps_frame p;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP);
	cr_assert_eq(p.ip_ver, 6);
	cr_assert(p.has_vlan);
	cr_assert_eq(p.vlan_tci & 0xfff, 42);
	cr_assert_eq(p.payload_len, 80);
	cr_assert_arr_eq(p.dst, e.dst_ip, 16);
}

Test(frame, checksums_are_checked)
{
	uint8_t f[256];
	struct ps_endpoints e = ep(0, 0);
	struct ps_frame p;
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[14 + 10] ^= 1;                         /* IPv4 header checksum */
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_IP_CSUM);
	n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[n - 1] ^= 1;                           /* payload byte */
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP_CSUM);
	/* UDP checksum 0 means "none" over IPv4 ... */
	n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[14 + 20 + 6] = f[14 + 20 + 7] = 0;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP);
	/* ... and is invalid over IPv6 */
	e = ep(1, 0);
	n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[14 + 40 + 6] = f[14 + 40 + 7] = 0;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP_CSUM);
	n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[n - 3] ^= 0x40;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP_CSUM);
}

Test(frame, fragments_are_refused)
{
	uint8_t f[256];
	struct ps_endpoints e = ep(0, 0);
	struct ps_frame p;
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	uint8_t *ip = f + 14;
	ip[6] = 0x20;                            /* MF */
	ip[10] = ip[11] = 0;
	uint16_t ck = ps_csum_fold(ps_csum_partial(ip, 20, 0));
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_FRAGMENT);
	/* IPv6 fragment header */
	e = ep(1, 0);
	n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[14 + 6] = 44;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_FRAGMENT);
}

Test(frame, other_protocols_and_ethertypes)
{
	uint8_t f[256];
	struct ps_endpoints e = ep(0, 0);
	struct ps_frame p;
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[12] = 0x08;
	f[13] = 0x06;                            /* ARP */
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_ETHERTYPE);
	cr_assert_eq(p.ethertype, PS_ETH_P_ARP);
	n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	uint8_t *ip = f + 14;
	ip[9] = 6;                               /* TCP */
	ip[10] = ip[11] = 0;
	uint16_t ck = ps_csum_fold(ps_csum_partial(ip, 20, 0));
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_PROTO);
	cr_assert_eq(p.proto, 6);
}

Test(frame, udp_length_must_match)
{
	uint8_t f[256];
	struct ps_endpoints e = ep(0, 0);
	struct ps_frame p;
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
	f[14 + 20 + 5] -= 1;                     /* UDP length one short */
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP_LEN);
	f[14 + 20 + 5] += 2;                     /* one long */
	cr_assert_eq(ps_frame_parse(f, n, &p), PS_FRAME_UDP_LEN);
}

Test(frame, truncated_at_every_length)
{
	uint8_t f[256];
	for (int v6 = 0; v6 < 2; v6++) {
		struct ps_endpoints e = ep(v6, v6 ? 7 : 0);
		size_t n = ps_frame_build_udp(f, sizeof(f), &e, payload, 80);
		for (size_t len = 0; len < n; len++) {
			struct ps_frame p;
			enum ps_frame_status st = ps_frame_parse(f, len, &p);
			cr_assert_neq(st, PS_FRAME_UDP, "len %zu v6 %d", len, v6);
		}
	}
}

Test(frame, build_refuses_small_buffer)
{
	uint8_t f[64];
	struct ps_endpoints e = ep(0, 0);
	cr_assert_eq(ps_frame_build_udp(f, sizeof(f), &e, payload, 80), 0);
}

/* The Internet checksum, sixteen bits at a time as RFC 1071 writes it. */
static uint16_t csum_reference(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)(p[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The fast sum (32-bit words, AVX2 blocks where the CPU has them) agrees
 * with the reference for every length up to a jumbo frame, at every
 * alignment. */
Test(frame, checksum_matches_rfc1071_reference)
{
	static uint8_t buf[9100];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t len = 0; len <= 2100; len++)
		for (size_t off = 0; off < 8; off += 3)
			cr_assert_eq(ps_csum_fold(ps_csum_partial(buf + off, len,
								  0)),
				     csum_reference(buf + off, len),
				     "length %zu offset %zu", len, off);
	cr_assert_eq(ps_csum_fold(ps_csum_partial(buf, 9000, 0)),
		     csum_reference(buf, 9000));
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(ps_csum_fold(ps_csum_partial(buf, 9000, 0)),
		     csum_reference(buf, 9000), "all ones: no lost carry");
}
