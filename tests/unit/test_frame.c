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

/* An IPv6 frame with extension headers (8 bytes each: next header, 0,
 * then 6 bytes of body[k]) between its header and UDP; types[k] is each
 * one's type. The UDP checksum stays right (no routing header moves the
 * destination it is taken over). */
static size_t v6_with_ext(uint8_t *f, const uint8_t *types,
			  const uint8_t (*body)[6], int n_ext)
{
	uint8_t base[256];
	struct ps_endpoints e = ep(1, 0);
	size_t n = ps_frame_build_udp(base, sizeof(base), &e, payload, 80);
	memcpy(f, base, 14 + 40);
	uint8_t *ip = f + 14, *x = ip + 40;
	ip[6] = types[0];
	for (int k = 0; k < n_ext; k++, x += 8) {
		x[0] = k + 1 < n_ext ? types[k + 1] : 17;
		x[1] = 0;
		memcpy(x + 2, body[k], 6);
	}
	memcpy(x, base + 14 + 40, n - 14 - 40);
	unsigned plen = (unsigned)(n - 14 - 40) + 8u * (unsigned)n_ext;
	ip[4] = (uint8_t)(plen >> 8);
	ip[5] = (uint8_t)plen;
	return n + 8u * (unsigned)n_ext;
}

/* RFC 8200: a destination skips only what it may. Options whose type
 * says "discard", a routing header with segments left and a hop-by-hop
 * header after another drop the frame (the spec: "IP options it cannot
 * skip"); padding, unknown options marked "skip" and a routing header
 * already at its end do not. */
Test(frame, ipv6_extension_headers_skipped_only_where_allowed)
{
	uint8_t f[512];
	struct ps_frame p;
	static const uint8_t padn[6] = { 1, 4, 0, 0, 0, 0 };
	static const uint8_t pad1[6] = { 0, 0, 1, 2, 0, 0 };
	static const uint8_t skip_unknown[6] = { 0x1e, 4, 9, 9, 9, 9 };
	static const uint8_t discard[6] = { 0x80, 4, 9, 9, 9, 9 };
	static const uint8_t jumbo[6] = { 0xc2, 4, 0, 0, 0, 0 };
	static const uint8_t overrun[6] = { 1, 10, 0, 0, 0, 0 };
	static const uint8_t rt_done[6] = { 0, 0, 0, 0, 0, 0 };
	static const uint8_t rt_left[6] = { 4, 1, 0, 0, 0, 0 };
	struct { uint8_t types[2]; const uint8_t *body[2]; int n;
		 enum ps_frame_status want; const char *what; } c[] = {
		{ { 60 }, { padn }, 1, PS_FRAME_UDP, "dest options, PadN" },
		{ { 60 }, { pad1 }, 1, PS_FRAME_UDP, "dest options, Pad1 and PadN" },
		{ { 60 }, { skip_unknown }, 1, PS_FRAME_UDP, "unknown option, skip" },
		{ { 60 }, { discard }, 1, PS_FRAME_IP_HEADER, "unknown option, discard" },
		{ { 0 }, { jumbo }, 1, PS_FRAME_IP_HEADER, "jumbo payload" },
		{ { 60 }, { overrun }, 1, PS_FRAME_IP_HEADER, "option past its header" },
		{ { 43 }, { rt_done }, 1, PS_FRAME_UDP, "routing, no segment left" },
		{ { 43 }, { rt_left }, 1, PS_FRAME_IP_HEADER, "routing, a segment left" },
		{ { 0, 60 }, { padn, padn }, 2, PS_FRAME_UDP, "hop-by-hop first" },
		{ { 60, 0 }, { padn, padn }, 2, PS_FRAME_IP_HEADER, "hop-by-hop second" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint8_t body[2][6];
		for (int k = 0; k < c[i].n; k++)
			memcpy(body[k], c[i].body[k], 6);
		size_t n = v6_with_ext(f, c[i].types,
				       (const uint8_t (*)[6])body, c[i].n);
		enum ps_frame_status st = ps_frame_parse(f, n, &p);
		cr_assert_eq(st, c[i].want, "%s: %d", c[i].what, st);
		if (st == PS_FRAME_UDP)
			cr_assert_eq(p.payload_len, 80, "%s", c[i].what);
	}
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
