/* ps_frame.h: Ethernet (optional 802.1Q) / IPv4 / IPv6 / UDP framing on raw
 * bytes: parse a received frame down to its UDP payload with every check the
 * protocol asks for, and build a frame around a payload. No EAL, no mbufs:
 * the dataplane, the generator, the fuzzers and the tests share it. */
#ifndef PS_FRAME_H
#define PS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PS_ETH_HLEN       14u
#define PS_VLAN_HLEN      4u
#define PS_ETH_P_IPV4     0x0800u
#define PS_ETH_P_ARP      0x0806u
#define PS_ETH_P_VLAN     0x8100u
#define PS_ETH_P_IPV6     0x86DDu
#define PS_IPPROTO_ICMP   1u
#define PS_IPPROTO_UDP    17u
#define PS_IPPROTO_ICMPV6 58u

/* Outcome of parsing a frame as a UDP datagram. */
enum ps_frame_status {
	PS_FRAME_UDP = 0,      /* a well-formed UDP datagram */
	PS_FRAME_SHORT,        /* truncated Ethernet, VLAN or IP header */
	PS_FRAME_ETHERTYPE,    /* not IPv4/IPv6 (see ethertype: ARP etc.) */
	PS_FRAME_IP_HEADER,    /* bad IP version, IHL or total length */
	PS_FRAME_IP_CSUM,      /* IPv4 header checksum wrong */
	PS_FRAME_FRAGMENT,     /* IPv4 MF/offset or IPv6 fragment header */
	PS_FRAME_PROTO,        /* neither UDP nor a handled ICMP (see proto) */
	PS_FRAME_UDP_LEN,      /* UDP length inconsistent with IP length */
	PS_FRAME_UDP_CSUM,     /* UDP checksum wrong (or zero over IPv6) */
};
#define PS_FRAME_STATUS_COUNT 9

struct ps_frame {
	uint16_t ethertype;    /* after any VLAN tag */
	uint16_t vlan_tci;
	uint8_t has_vlan;
	uint8_t ip_ver;        /* 4 or 6 */
	uint8_t proto;         /* IP protocol / IPv6 next header */
	uint8_t hop_limit;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t l4_len;       /* bytes from l4_off to the end of the IP payload */
	uint16_t payload_off;  /* UDP payload */
	uint16_t payload_len;
	uint16_t sport;
	uint16_t dport;
	uint8_t src[16];       /* IPv4 addresses use the first 4 bytes */
	uint8_t dst[16];
};

/* Endpoints for building a frame. */
struct ps_endpoints {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint8_t ip_ver;        /* 4 or 6 */
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	uint16_t sport;
	uint16_t dport;
	uint16_t vlan;         /* 0 = untagged, else the VLAN id (1..4094) */
};

enum ps_frame_status ps_frame_parse(const uint8_t *f, size_t len,
				    struct ps_frame *out);
/* The same, for a caller that already knows some checksums (a NIC checked
 * them): each _OK skips that checksum's software check, each _BAD fails it
 * without one (but a zero UDP checksum over IPv4 is none, RFC 768: there
 * is nothing to be bad, it passes); 0 checks both in software, as
 * ps_frame_parse does. The other checks (lengths, a zero UDP checksum over
 * IPv6) always run. */
#define PS_FRAME_IP_CSUM_OK   0x1u
#define PS_FRAME_IP_CSUM_BAD  0x2u
#define PS_FRAME_UDP_CSUM_OK  0x4u
#define PS_FRAME_UDP_CSUM_BAD 0x8u
enum ps_frame_status ps_frame_parse_known(const uint8_t *f, size_t len,
					  struct ps_frame *out,
					  unsigned known);
/* Build Ethernet + IP + UDP around payload into buf; returns the frame
 * length, or 0 when cap is too small. Checksums are filled in. */
size_t ps_frame_build_udp(uint8_t *buf, size_t cap,
			  const struct ps_endpoints *ep,
			  const uint8_t *payload, size_t plen);

/* Internet checksum helpers. */
uint32_t ps_csum_partial(const void *data, size_t len, uint32_t sum);
uint16_t ps_csum_fold(uint32_t sum);
/* Checksum of an L4 segment with its IPv4/IPv6 pseudo-header; returns the
 * folded sum (0xFFFF-complement form ready to store, 0 means verified when
 * run over a segment whose checksum field is filled in). */
uint16_t ps_l4_csum(uint8_t ip_ver, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, const uint8_t *l4, size_t l4_len);

const char *ps_frame_status_name(unsigned s);

#endif
