/* counters.h: per-worker dataplane counters. Each worker owns one struct
 * and increments plain fields (no atomics); readers (control plane, final
 * report) sum the workers' structs at any time, tolerating a torn 64-bit
 * read of a counter mid-update as OVS and VPP do. */
#ifndef PS_COUNTERS_H
#define PS_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "ps_wire.h"

/* Every counter is spelled once, in the lists below, in the style of VPP's
 * foreach_ip4_error: the enums, the struct fields and the name and help
 * tables are generated from them, and the summary, /metrics and DPDK
 * telemetry loop over the tables. Names are part of the interface
 * (Prometheus labels, telemetry keys, `stats`): never rename one. */

/* Why a received frame was not answered; with the answered kinds these add
 * up to every frame received. _(ENUM, name, help) */
#define foreach_ps_drop(_)						\
	_(NOT_FOR_US, not_for_us, "destination MAC not ours, broadcast "	\
	  "or our solicited-node multicast")				\
	_(L2, l2, "truncated Ethernet or VLAN header")			\
	_(ETHERTYPE, ethertype, "neither ARP, IPv4 nor IPv6")		\
	_(ARP, arp, "ARP that is not a request for our address")		\
	_(IP_HEADER, ip_header, "bad IP version or lengths, truncated, "	\
	  "or an IPv6 extension header it may not skip")		\
	_(IP_CHECKSUM, ip_checksum, "bad IPv4 header checksum")		\
	_(FRAGMENT, fragment, "IP fragment")				\
	_(NOT_OUR_IP, not_our_ip, "destination address not ours")	\
	_(PROTOCOL, protocol, "not UDP, ICMP echo or neighbour "		\
	  "solicitation")						\
	_(ICMP, icmp, "ICMP or ICMPv6 we do not answer, bad checksum")	\
	_(UDP_LENGTH, udp_length, "bad UDP length")			\
	_(UDP_CHECKSUM, udp_checksum, "bad UDP checksum")		\
	_(PORT, port, "UDP to another port")				\
	_(NOT_ALLOWED, not_allowed, "scan batch from a source outside the "\
	  "allow-list")							\
	_(HDR_SHORT, hdr_short, "protocol header: datagram too short")	\
	_(HDR_MAGIC, hdr_magic, "protocol header: bad magic")		\
	_(HDR_VERSION, hdr_version, "protocol header: unknown version")	\
	_(HDR_KIND, hdr_kind, "protocol header: not a request kind "	\
	  "(1, 3, 5)")							\
	_(HDR_COUNT, hdr_count, "protocol header: bad record count")	\
	_(HDR_FLAGS, hdr_flags, "protocol header: unknown flags")	\
	_(HDR_LENGTH, hdr_length, "protocol header: length does not match "\
	  "the records")							\
	_(TX_FULL, tx_full, "an answer the port could not take")	\
	_(NOT_SORTER, not_sorter, "chute states or sort results from a "	\
	  "source outside the sorter allow-list")

/* What an answered frame was. _(ENUM, name, help) */
#define foreach_ps_answer(_)						\
	_(DECISION, decision, "a decision batch")			\
	_(ARP, arp, "an ARP reply")					\
	_(ND, nd, "a neighbour advertisement")				\
	_(ICMP_ECHO, icmp_echo, "an ICMP echo reply")			\
	_(ICMP6_ECHO, icmp6_echo, "an ICMPv6 echo reply")		\
	_(ACK, ack, "an acknowledgement of chute states or sort results")

/* The scalar counters of struct ps_counters: _(field, Prometheus name,
 * Prometheus type, help). COUNTER: exposed as such; FAMILY: exposed only
 * by label, as the family of that name (records: by reason; the cycles:
 * by worker). */
#define foreach_ps_counter(_)						\
	_(rx_frames, "parcelsort_frames_received_total", COUNTER,	\
	  "Frames received by the dataplane.")				\
	_(rx_bytes, "parcelsort_bytes_received_total", COUNTER,		\
	  "Bytes received.")						\
	_(tx_frames, "parcelsort_frames_sent_total", COUNTER,		\
	  "Frames sent (answers).")					\
	_(tx_bytes, "parcelsort_bytes_sent_total", COUNTER, "Bytes sent.")	\
	_(records, "parcelsort_records_total", FAMILY,			\
	  "Scan records decided, by reason.")				\
	_(dedup_inserts, "parcelsort_dedup_inserts_total", COUNTER,	\
	  "Decisions remembered in the duplicate window.")		\
	_(dedup_hits, "parcelsort_dedup_hits_total", COUNTER,		\
	  "Records answered as duplicates.")				\
	_(dedup_evictions, "parcelsort_dedup_evictions_total", COUNTER,	\
	  "Live entries evicted from a full duplicate window.")		\
	_(dedup_busy, "parcelsort_dedup_busy_total", COUNTER,		\
	  "Duplicate window slots another core was writing (decided "	\
	  "afresh).")							\
	_(chute_states, "parcelsort_chute_states_total", COUNTER,	\
	  "Chute state entries (kind 3) applied.")			\
	_(chute_states_invalid_chute, "parcelsort_chute_states_invalid_chute_total",\
	  COUNTER, "Chute state entries skipped: chute 0.")		\
	_(chute_states_invalid_state, "parcelsort_chute_states_invalid_state_total",\
	  COUNTER, "Chute state entries skipped: state above 3.")	\
	_(chute_states_invalid_hold, "parcelsort_chute_states_invalid_hold_total",\
	  COUNTER, "Chute state entries skipped: hold_s not 0 for OPEN or "\
	  "not 1..3600.")						\
	_(chute_states_invalid_reserved,				\
	  "parcelsort_chute_states_invalid_reserved_total", COUNTER,	\
	  "Chute state entries skipped: a reserved field not 0.")	\
	_(sort_sorted, "parcelsort_sort_results_sorted_total", COUNTER,	\
	  "Sort results SORTED.")					\
	_(sort_chute_full, "parcelsort_sort_results_chute_full_total",	\
	  COUNTER, "Sort results CHUTE_FULL.")				\
	_(sort_chute_blocked, "parcelsort_sort_results_chute_blocked_total",\
	  COUNTER, "Sort results CHUTE_BLOCKED.")			\
	_(sort_discharge_failed,					\
	  "parcelsort_sort_results_discharge_failed_total", COUNTER,	\
	  "Sort results DISCHARGE_FAILED.")				\
	_(sort_no_destination,						\
	  "parcelsort_sort_results_no_destination_total", COUNTER,	\
	  "Sort results NO_DESTINATION.")				\
	_(sort_lost, "parcelsort_sort_results_lost_total", COUNTER,	\
	  "Sort results LOST.")						\
	_(sort_missorts, "parcelsort_missorts_total", COUNTER,		\
	  "SORTED results into a chute that is neither the remembered "	\
	  "decision's, the reject nor the intercept chute.")		\
	_(sort_unknown, "parcelsort_sort_results_unknown_total", COUNTER,\
	  "Sort results for waybills not in the duplicate window.")	\
	_(sort_held, "parcelsort_sort_results_held_total", COUNTER,	\
	  "Sort results for waybills on the intercept list (no effect).")\
	_(sort_invalid_waybill, "parcelsort_sort_results_invalid_waybill_total",\
	  COUNTER, "Sort result entries skipped: waybill not valid.")	\
	_(sort_invalid_chute, "parcelsort_sort_results_invalid_chute_total",\
	  COUNTER, "Sort result entries skipped: SORTED with chute 0.")	\
	_(sort_invalid_status, "parcelsort_sort_results_invalid_status_total",\
	  COUNTER, "Sort result entries skipped: status not 1..6.")	\
	_(sort_invalid_reserved,					\
	  "parcelsort_sort_results_invalid_reserved_total", COUNTER,	\
	  "Sort result entries skipped: a reserved field not 0.")	\
	_(rounds, "parcelsort_rounds_total", COUNTER,			\
	  "Rounds: not-discharged results for remembered waybills.")	\
	_(export_events, "parcelsort_export_events_total", COUNTER,	\
	  "Events exported.")						\
	_(export_dropped, "parcelsort_export_dropped_total", COUNTER,	\
	  "Events dropped because the export ring was full.")		\
	_(busy_cycles, "parcelsort_worker_busy_cycles_total", FAMILY,	\
	  "TSC cycles of worker loop iterations that received frames.")	\
	_(idle_cycles, "parcelsort_worker_idle_cycles_total", FAMILY,	\
	  "TSC cycles of empty worker loop iterations.")		\
	_(loops, "parcelsort_worker_loops_total", COUNTER,		\
	  "Worker loop iterations.")					\
	_(cyc_rx, "parcelsort_worker_rx_cycles_total", COUNTER,		\
	  "Busy TSC cycles in rte_eth_rx_burst.")			\
	_(cyc_parse, "parcelsort_worker_parse_cycles_total", COUNTER,	\
	  "Busy TSC cycles in frame, header and record checks and "	\
	  "decoding.")							\
	_(cyc_dedup, "parcelsort_worker_dedup_cycles_total", COUNTER,	\
	  "Busy TSC cycles in duplicate window look-ups and inserts.")	\
	_(cyc_decide, "parcelsort_worker_decide_cycles_total", COUNTER,	\
	  "Busy TSC cycles in the plan decision bursts.")		\
	_(cyc_reply, "parcelsort_worker_reply_cycles_total", COUNTER,	\
	  "Busy TSC cycles in replies, counters and export.")		\
	_(cyc_tx, "parcelsort_worker_tx_cycles_total", COUNTER,		\
	  "Busy TSC cycles in TX buffering, flushes and freeing drops.")	\
	_(manifest_resolved, "parcelsort_manifest_resolved_total", COUNTER,\
	  "Barcode-only records (region 0) decided with their waybill's "	\
	  "region from the manifest.")					\
	_(manifest_missed, "parcelsort_manifest_missed_total", COUNTER,	\
	  "Barcode-only records (region 0) decided afresh whose waybill "	\
	  "has no manifest entry.")

enum ps_drop {
#define _(sym, name, help) PS_DROP_##sym,
	foreach_ps_drop(_)
#undef _
	PS_DROP_COUNT
};

enum ps_answer {
#define _(sym, name, help) PS_ANS_##sym,
	foreach_ps_answer(_)
#undef _
	PS_ANS_COUNT
};

enum ps_counter_scalar {
#define _(field, metric, type, help) PS_CNT_##field,
	foreach_ps_counter(_)
#undef _
	PS_CNT_COUNT
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
	/* rx/tx frames and bytes, records, the duplicate window, export, and
	 * where the workers' TSC cycles go (summed over bursts) */
#define _(field, metric, type, help) uint64_t field;
	foreach_ps_counter(_)
#undef _
	uint64_t drops[PS_DROP_COUNT];
	uint64_t answered[PS_ANS_COUNT];
	uint64_t records_by_reason[PS_REASON_COUNT];
	uint64_t records_by_tier[PS_TIER_COUNT];
	uint64_t malformed_by_cause[5];
	/* burst latency: RX return to replies handed to TX, in ns; bucket
	 * 4*log2(ns) + the next two bits (four buckets per power of two) */
	uint64_t lat_hist[PS_LAT_BUCKETS];
	uint64_t lat_sum_ns;      /* the bursts' latencies summed, in ns */
	uint64_t chute[PS_MAX_CHUTE_COUNTERS];
} __attribute__((aligned(64)));

/* Per device (the scan record's device field) and per chute figures of the
 * sorter loop: 64 K of each, too many for struct ps_counters (which
 * control readers copy whole), so each worker has one of these of its own,
 * allocated at start; readers sum them (ps_loop_counters_add). */
struct ps_device_counters {
	uint64_t records;
	uint64_t noread;
	uint64_t bad_barcode;
	uint64_t malformed;
	uint64_t duplicates;
	uint64_t manifest_resolved; /* region 0, region from the manifest */
	uint64_t manifest_missed;   /* region 0, no manifest entry */
	uint64_t last_heard_s;    /* dataplane clock second + 1 of its last
				   * record; 0: never heard */
};

struct ps_chute_sort_counters {
	uint64_t sorted;          /* SORTED results naming this chute */
	uint64_t missorted;       /* of those, missorts */
	uint64_t not_discharged;  /* not-discharged results meant for it */
};

struct ps_loop_counters {
	struct ps_device_counters device[65536];
	struct ps_chute_sort_counters chute[65536];
};

/* acc += c: counts summed, last_heard_s the latest. */
void ps_loop_counters_add(struct ps_loop_counters *acc,
			  const struct ps_loop_counters *c);

const char *ps_drop_name(unsigned d);
const char *ps_drop_help(unsigned d);
const char *ps_answer_name(unsigned a);
const char *ps_answer_help(unsigned a);

/* How /metrics exposes a scalar counter. */
enum ps_prom_type {
	PS_PROM_COUNTER,        /* a counter of its own */
	PS_PROM_FAMILY,         /* only by label, as the family of its name */
};

/* One scalar counter of struct ps_counters, for looping over them all. */
struct ps_counter_desc {
	const char *name;       /* the field's name: telemetry key */
	const char *metric;     /* the Prometheus name */
	enum ps_prom_type type;
	const char *help;
	size_t offset;          /* offsetof(struct ps_counters, field) */
};

extern const struct ps_counter_desc ps_counter_descs[PS_CNT_COUNT];

static inline uint64_t ps_counter_value(const struct ps_counters *c,
					const struct ps_counter_desc *d)
{
	return *(const uint64_t *)((const char *)c + d->offset);
}

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
