/* counters.h: per-worker dataplane counters. Each worker owns one struct
 * and increments plain fields (no atomics); readers (control plane, final
 * report) sum the workers' structs at any time, tolerating a torn 64-bit
 * read of a counter mid-update as OVS and VPP do. */
#ifndef PS_COUNTERS_H
#define PS_COUNTERS_H

#include <stdint.h>

#include "ps_wire.h"

/* Why a received frame was not answered; with the answered kinds these add
 * up to every frame received. */
enum ps_drop {
	PS_DROP_NOT_FOR_US,     /* destination MAC not ours/broadcast/needed mcast */
	PS_DROP_L2,             /* truncated Ethernet or VLAN header */
	PS_DROP_ETHERTYPE,      /* neither ARP, IPv4 nor IPv6 */
	PS_DROP_ARP,            /* ARP that is not a request for our address */
	PS_DROP_IP_HEADER,      /* bad IP version, lengths, truncated */
	PS_DROP_IP_CHECKSUM,
	PS_DROP_FRAGMENT,
	PS_DROP_NOT_OUR_IP,     /* destination address not ours */
	PS_DROP_PROTOCOL,       /* not UDP, ICMP echo or neighbour solicitation */
	PS_DROP_ICMP,           /* ICMP/ICMPv6 we do not answer, bad checksum */
	PS_DROP_UDP_LENGTH,
	PS_DROP_UDP_CHECKSUM,
	PS_DROP_PORT,           /* UDP to another port */
	PS_DROP_NOT_ALLOWED,    /* source outside the allow-list */
	PS_DROP_HDR_SHORT,      /* the protocol header checks, one per cause */
	PS_DROP_HDR_MAGIC,
	PS_DROP_HDR_VERSION,
	PS_DROP_HDR_KIND,
	PS_DROP_HDR_COUNT,
	PS_DROP_HDR_FLAGS,
	PS_DROP_HDR_LENGTH,
	PS_DROP_TX_FULL,        /* an answer the port could not take */
	PS_DROP_COUNT
};

/* What an answered frame was. */
enum ps_answer {
	PS_ANS_DECISION,        /* a decision batch */
	PS_ANS_ARP,
	PS_ANS_ND,
	PS_ANS_ICMP_ECHO,
	PS_ANS_ICMP6_ECHO,
	PS_ANS_COUNT
};

#define PS_MAX_CHUTE_COUNTERS 65536
#define PS_LAT_BUCKETS 128

/* Upper bound (ns) of a latency bucket. */
static inline uint64_t ps_lat_upper(unsigned b)
{
	unsigned e = b / 4, q = b % 4;
	return e < 2 ? (uint64_t)b + 1 : ((4ull + q + 1) << e) >> 2;
}

/* Bucket of a latency in ns. */
static inline unsigned ps_lat_bucket(uint64_t ns)
{
	if (ns < 8)
		return (unsigned)ns;
	unsigned e = 63u - (unsigned)__builtin_clzll(ns);
	unsigned b = e * 4 + (unsigned)((ns >> (e - 2)) & 3);
	return b < PS_LAT_BUCKETS ? b : PS_LAT_BUCKETS - 1;
}

struct ps_counters {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t drops[PS_DROP_COUNT];
	uint64_t answered[PS_ANS_COUNT];
	uint64_t records, records_by_reason[PS_REASON_COUNT];
	uint64_t records_by_tier[PS_TIER_COUNT];
	uint64_t malformed_by_cause[5];
	uint64_t dedup_inserts, dedup_hits, dedup_evictions;
	uint64_t dedup_busy;    /* a slot another core was writing: decided afresh */
	uint64_t export_events, export_dropped;
	uint64_t busy_cycles, idle_cycles, loops;
	/* where the busy cycles go (TSC cycles, summed over bursts) */
	uint64_t cyc_rx;        /* rte_eth_rx_burst */
	uint64_t cyc_parse;     /* frame, header and record checks, decode */
	uint64_t cyc_dedup;     /* duplicate window look-ups and inserts */
	uint64_t cyc_decide;    /* the plan decision burst */
	uint64_t cyc_reply;     /* replies in place, counters, export */
	uint64_t cyc_tx;        /* TX buffering and flushes, freeing drops */
	/* burst latency: RX return to replies handed to TX, in ns; bucket
	 * 4*log2(ns) + the next two bits (four buckets per power of two) */
	uint64_t lat_hist[PS_LAT_BUCKETS];
	uint64_t chute[PS_MAX_CHUTE_COUNTERS];
} __attribute__((aligned(64)));

const char *ps_drop_name(unsigned d);
const char *ps_answer_name(unsigned a);

/* acc += c, field by field. */
void ps_counters_add(struct ps_counters *acc, const struct ps_counters *c);

/* The exporter's own totals, written by its thread alone and read by the
 * control thread (relaxed atomics). */
struct ps_export_totals {
	uint64_t written;         /* events stored: in the spool when there is
				   * one, else in the file */
	uint64_t blocks;          /* blocks of events */
	uint64_t spool_overflow;  /* events refused by a full spool */
	uint64_t spool_errors;    /* events lost to spool write errors */
	uint64_t spool_bytes;     /* spool segments on disk */
};

#endif
