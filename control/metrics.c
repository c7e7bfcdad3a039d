/* metrics.c: Prometheus exposition of the dataplane counters (see
 * metrics.h), looping over counters.h's lists, with each worker's cycles,
 * the burst latency histogram, the NICs' own counters and the plan commits
 * by outcome. Counters are the raw sums (monotonic); `stats reset` does
 * not touch them, as Prometheus expects. The HTTP server that serves it
 * is metrics_http.c. */
#include "metrics.h"

#include <ctype.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmds.h"
#include "ctl_server.h"

static void lower(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; src[i] && i + 1 < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = 0;
}

static void head(struct ps_out *o, const char *name, const char *help,
		 const char *type)
{
	ps_out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct ps_out *o, const char *name, const char *help,
		    unsigned long long v)
{
	head(o, name, help, "counter");
	ps_out_printf(o, "%s %llu\n", name, v);
}

/* NAME{LABEL="name(i)"} v[i] for each i, under one HELP and TYPE. */
static void family(struct ps_out *o, const char *name, const char *help,
		   const char *label, const char *(*label_of)(unsigned),
		   const uint64_t *v, unsigned n)
{
	char lab[64];
	head(o, name, help, "counter");
	for (unsigned i = 0; i < n; i++) {
		lower(lab, label_of(i), sizeof(lab));
		ps_out_printf(o, "%s{%s=\"%s\"} %llu\n", name, label, lab,
			      (unsigned long long)v[i]);
	}
}

/* Every scalar counter of counters.h's list that stands alone. */
static void scalars(struct ps_out *o, const struct ps_counters *c)
{
	for (unsigned i = 0; i < PS_CNT_COUNT; i++) {
		const struct ps_counter_desc *k = &ps_counter_descs[i];
		if (k->type == PS_PROM_COUNTER)
			counter(o, k->metric, k->help,
				(unsigned long long)ps_counter_value(c, k));
	}
}

static void families(struct ps_out *o, const struct ps_counters *c)
{
	family(o, "parcelsort_frames_dropped_total", "Frames dropped, by cause.",
	       "cause", ps_drop_name, c->drops, PS_DROP_COUNT);
	family(o, "parcelsort_frames_answered_total",
	       "Frames answered, by kind.", "kind", ps_answer_name,
	       c->answered, PS_ANS_COUNT);
	const struct ps_counter_desc *rec = &ps_counter_descs[PS_CNT_records];
	family(o, rec->metric, rec->help, "reason", ps_reason_name,
	       c->records_by_reason, PS_REASON_COUNT);
	family(o, "parcelsort_records_by_tier_total",
	       "Scan records decided, by tier of the next hop.", "tier",
	       ps_tier_name, c->records_by_tier, PS_TIER_COUNT);
	head(o, "parcelsort_chute_records_total",
	     "Scan records sent to each chute (chutes with any).", "counter");
	for (unsigned i = 1; i < PS_MAX_CHUTE_COUNTERS; i++)
		if (c->chute[i])
			ps_out_printf(o, "parcelsort_chute_records_total{chute="
				      "\"%u\"} %llu\n", i,
				      (unsigned long long)c->chute[i]);
}

/* Per chute: SORTED results and missorts (chutes with any SORTED). */
static void chute_results(struct ps_out *o, const struct ps_loop_counters *l)
{
	head(o, "parcelsort_chute_sorted_total", "SORTED results naming each "
	     "chute (chutes with any).", "counter");
	for (unsigned i = 1; i < 65536; i++)
		if (l->chute[i].sorted)
			ps_out_printf(o, "parcelsort_chute_sorted_total{chute="
				      "\"%u\"} %llu\n", i,
				      (unsigned long long)l->chute[i].sorted);
	head(o, "parcelsort_chute_missorted_total", "Missorts into each chute "
	     "(chutes with any SORTED).", "counter");
	for (unsigned i = 1; i < 65536; i++)
		if (l->chute[i].sorted)
			ps_out_printf(o, "parcelsort_chute_missorted_total{chute="
				      "\"%u\"} %llu\n", i,
				      (unsigned long long)l->chute[i].missorted);
}

/* Per chute: the sorter's state (0 OPEN, 1 FULL, 2 BLOCKED, 3 FAULT), for
 * the chutes of the plan and any other a report takes out. */
static void sorter_states(struct ps_out *o, const struct ps_ctl_daemon *d)
{
	uint8_t *used = malloc(65536);
	const struct ps_chute_state *cs = ps_store_chutes(d->store);
	uint32_t now = d->dataplane_now_s ? d->dataplane_now_s(d->arg) : 0;
	if (!used)
		return;
	ps_ctl_chutes_in_plan(d->store, used);
	head(o, "parcelsort_chute_sorter_state", "The sorter controller's "
	     "state of each chute: 0 open, 1 full, 2 blocked, 3 fault "
	     "(chutes of the plan, and others not open).", "gauge");
	for (unsigned i = 1; i < 65536; i++) {
		uint32_t left;
		uint8_t st = ps_chute_sorter_state(cs, (uint16_t)i, now, &left);
		if (used[i] || st != PS_CHUTE_OPEN)
			ps_out_printf(o, "parcelsort_chute_sorter_state{chute="
				      "\"%u\"} %u\n", i, st);
	}
	head(o, "parcelsort_chute_enabled", "1 if the operator has the chute "
	     "enabled, 0 if disabled (chutes of the plan, and others "
	     "disabled).", "gauge");
	for (unsigned i = 1; i < 65536; i++) {
		int en = ps_chute_enabled(cs, (uint16_t)i);
		if (used[i] || !en)
			ps_out_printf(o, "parcelsort_chute_enabled{chute=\"%u\"} "
				      "%d\n", i, en);
	}
	free(used);
}

/* Per device (devices with records): its records by reason; "other" is
 * the rest, so that the reasons add up to the device's records. */
/* A device's "other" records are derived: its records less the four
 * reasons, read from the workers' counters while they count. A reading
 * taken between a record's count and its reason's shows one more than the
 * next reading would, and Prometheus takes any fall of a counter for a
 * restart (rate() then counts the whole value again). So it is never
 * shown below what was shown before, in this process (the sums only
 * grow). */
static uint64_t other_shown[65536];
static pthread_mutex_t other_lock = PTHREAD_MUTEX_INITIALIZER;

static void device_records(struct ps_out *o, const struct ps_loop_counters *l)
{
	head(o, "parcelsort_device_records_total", "Scan records of each "
	     "device (scanner) by reason: noread, bad_barcode, "
	     "malformed_record, duplicate, other (devices with any).",
	     "counter");
	for (unsigned i = 0; i < 65536; i++) {
		const struct ps_device_counters *v = &l->device[i];
		if (!v->records)
			continue;
		uint64_t part[4] = { v->noread, v->bad_barcode, v->malformed,
				     v->duplicates };
		static const char *const why[4] = { "noread", "bad_barcode",
						    "malformed_record",
						    "duplicate" };
		uint64_t rest = v->records;
		for (unsigned k = 0; k < 4; k++) {
			ps_out_printf(o, "parcelsort_device_records_total{device="
				      "\"%u\",reason=\"%s\"} %llu\n", i, why[k],
				      (unsigned long long)part[k]);
			rest = rest >= part[k] ? rest - part[k] : 0;
		}
		pthread_mutex_lock(&other_lock);
		if (rest < other_shown[i])
			rest = other_shown[i];
		other_shown[i] = rest;
		pthread_mutex_unlock(&other_lock);
		ps_out_printf(o, "parcelsort_device_records_total{device=\"%u\","
			      "reason=\"other\"} %llu\n", i,
			      (unsigned long long)rest);
	}
}

static void export_totals(struct ps_out *o, const struct ps_ctl_daemon *d)
{
	struct ps_export_totals t;
	d->export_totals(d->arg, &t);
	counter(o, "parcelsort_export_stored_total",
		"Events stored in the spool (or the file).",
		(unsigned long long)t.written);
	counter(o, "parcelsort_export_spool_overflow_total",
		"Events refused by a full spool.",
		(unsigned long long)t.spool_overflow);
	counter(o, "parcelsort_export_spool_errors_total",
		"Events lost to spool write errors.",
		(unsigned long long)t.spool_errors);
	head(o, "parcelsort_export_spool_bytes",
	     "Bytes of spool segments on disk.", "gauge");
	ps_out_printf(o, "parcelsort_export_spool_bytes %llu\n",
		      (unsigned long long)t.spool_bytes);
}

static void gauges(struct ps_out *o, const struct ps_ctl_daemon *d)
{
	struct ps_plan_info pi;
	ps_store_info(d->store, &pi);
	head(o, "parcelsort_plan_version", "Version of the active sort plan "
	     "(0: none).", "gauge");
	ps_out_printf(o, "parcelsort_plan_version %u\n", pi.version);
	head(o, "parcelsort_chutes_disabled", "Chutes disabled now.", "gauge");
	ps_out_printf(o, "parcelsort_chutes_disabled %u\n",
		      ps_chutes_any_disabled(ps_store_chutes(d->store)));
	head(o, "parcelsort_build_info", "The running version (always 1).",
	     "gauge");
	ps_out_printf(o, "parcelsort_build_info{version=\"%s\"} 1\n",
		      PARCELSORT_VERSION);
	head(o, "parcelsort_uptime_seconds", "Seconds since the start.",
	     "gauge");
	ps_out_printf(o, "parcelsort_uptime_seconds %llu\n",
		      (unsigned long long)((ps_now_ms() - d->start_ms) / 1000));
}

/* Each worker's busy and idle cycles, read from its own counters. */
static void worker_cycles(struct ps_out *o, const struct ps_ctl_daemon *d)
{
	static const char *const what[2] = { "busy", "idle" };
	static const char *const help[2] = {
		"TSC cycles of worker loop iterations that received frames, "
		"by worker.",
		"TSC cycles of empty worker loop iterations and naps, by "
		"worker." };
	for (unsigned k = 0; k < 2; k++) {
		char name[64];
		snprintf(name, sizeof(name), "parcelsort_worker_%s_cycles_total",
			 what[k]);
		head(o, name, help[k], "counter");
		for (unsigned w = 0; d->worker_cycles && w < d->n_workers; w++) {
			uint64_t c[2];
			d->worker_cycles(d->arg, w, &c[0], &c[1]);
			ps_out_printf(o, "%s{worker=\"%u\"} %llu\n", name, w,
				      (unsigned long long)c[k]);
		}
	}
	if (!d->tsc_hz)
		return;
	head(o, "parcelsort_tsc_hz", "The TSC's frequency: the cycle counters "
	     "divided by it are seconds (busy plus idle grows by it each "
	     "second, per worker with a queue to poll).", "gauge");
	ps_out_printf(o, "parcelsort_tsc_hz %llu\n",
		      (unsigned long long)d->tsc_hz);
}

/* The burst latency as a Prometheus histogram in seconds. The dataplane's
 * buckets are four per power of two of whole ns (counters.h); the
 * exposition's bounds are the powers of two from 256 ns to 2^31 ns: the
 * bucket le="2^k ns" counts the bursts shorter than 2^k ns. */
#define LAT_LE_FIRST 8
#define LAT_LE_LAST 31
static void latency_histogram(struct ps_out *o, const struct ps_counters *c)
{
	const char *name = "parcelsort_burst_latency_seconds";
	uint64_t cum = 0, total = 0;
	unsigned b = 0;
	head(o, name, "Time from a burst's arrival (RX) to its replies handed "
	     "to TX.", "histogram");
	for (unsigned i = 0; i < PS_LAT_BUCKETS; i++)
		total += c->lat_hist[i];
	for (unsigned k = LAT_LE_FIRST; k <= LAT_LE_LAST; k++) {
		uint64_t le_ns = 1ull << k;
		while (b < PS_LAT_BUCKETS && ps_lat_upper(b) <= le_ns)
			cum += c->lat_hist[b++];
		ps_out_printf(o, "%s_bucket{le=\"%.12g\"} %llu\n", name,
			      (double)le_ns / 1e9, (unsigned long long)cum);
	}
	ps_out_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name,
		      (unsigned long long)total);
	ps_out_printf(o, "%s_sum %.9f\n%s_count %llu\n", name,
		      (double)c->lat_sum_ns / 1e9, name,
		      (unsigned long long)total);
}

/* A label value as the exposition format wants it: \\, \" and \n. */
static void label_value(struct ps_out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			ps_out_printf(o, "\\%c", *v);
		else if (*v == '\n')
			ps_out_write(o, "\\n", 2);
		else
			ps_out_write(o, v, 1);
	}
}

/* NAME{port="i",name="..."} v for each port (the name is the EAL's). */
static void nic_family(struct ps_out *o, const char *name, const char *help,
		       const struct ps_nic_stats *s, unsigned n, size_t off)
{
	head(o, name, help, "counter");
	for (unsigned i = 0; i < n; i++) {
		ps_out_printf(o, "%s{port=\"%u\",name=\"", name, i);
		label_value(o, s[i].name);
		ps_out_printf(o, "\"} %llu\n", (unsigned long long)
			      *(const uint64_t *)((const char *)&s[i] + off));
	}
}

/* What each port's NIC counts, as rte_eth_stats has it. */
static void nic_stats(struct ps_out *o, const struct ps_ctl_daemon *d)
{
	struct ps_nic_stats *s = calloc(PS_MAX_NIC_PORTS, sizeof(*s));
	if (!s)
		return;
	unsigned n = d->nic_stats(d->arg, s, PS_MAX_NIC_PORTS);
#define NIC(field, metric, help) nic_family(o, "parcelsort_nic_" metric, \
		help, s, n, offsetof(struct ps_nic_stats, field))
	NIC(ipackets, "rx_packets_total", "Packets the NIC received.");
	NIC(opackets, "tx_packets_total", "Packets the NIC sent.");
	NIC(ibytes, "rx_bytes_total", "Bytes the NIC received.");
	NIC(obytes, "tx_bytes_total", "Bytes the NIC sent.");
	NIC(imissed, "rx_missed_total", "Packets the NIC dropped because "
	    "the RX queues were full (imissed).");
	NIC(ierrors, "rx_errors_total", "Erroneous packets the NIC received.");
	NIC(oerrors, "tx_errors_total", "Packets the NIC failed to send.");
	NIC(rx_nombuf, "rx_nombuf_total", "RX mbuf allocation failures.");
#undef NIC
	head(o, "parcelsort_nic_queue_rx_packets_total", "Packets received "
	     "on each RX queue.", "counter");
	for (unsigned i = 0; i < n; i++)
		for (unsigned q = 0; q < s[i].queues; q++)
			ps_out_printf(o, "parcelsort_nic_queue_rx_packets_total{"
				      "port=\"%u\",queue=\"%u\"} %llu\n", i, q,
				      (unsigned long long)s[i].q_ipackets[q]);
	head(o, "parcelsort_nic_queue_tx_packets_total", "Packets sent on "
	     "each TX queue.", "counter");
	for (unsigned i = 0; i < n; i++)
		for (unsigned q = 0; q < s[i].queues; q++)
			ps_out_printf(o, "parcelsort_nic_queue_tx_packets_total{"
				      "port=\"%u\",queue=\"%u\"} %llu\n", i, q,
				      (unsigned long long)s[i].q_opackets[q]);
	free(s);
}

static void plan_commits(struct ps_out *o, struct ps_ctl_server *ctl)
{
	uint64_t n[PS_CTL_COMMIT_OUTCOMES];
	ps_ctl_commit_counts(ctl, n);
	head(o, "parcelsort_plan_commits_total", "Requests to make a plan "
	     "active (plan load, commit, rollback; the fleet agent's too) and "
	     "scheduled activations, by outcome.", "counter");
	for (unsigned k = 0; k < PS_CTL_COMMIT_OUTCOMES; k++)
		ps_out_printf(o, "parcelsort_plan_commits_total{outcome=\"%s\"} "
			      "%llu\n", ps_ctl_commit_outcome_name(k),
			      (unsigned long long)n[k]);
}

void ps_metrics_render(struct ps_ctl_server *ctl, struct ps_out *o)
{
	struct ps_counters *c = malloc(sizeof(*c));
	const struct ps_ctl_daemon *d = ps_ctl_daemon(ctl);
	if (!c)
		return;
	d->sum_counters(d->arg, c);
	scalars(o, c);
	families(o, c);
	worker_cycles(o, d);
	latency_histogram(o, c);
	if (d->nic_stats)
		nic_stats(o, d);
	plan_commits(o, ctl);
	if (d->sum_loop) {
		struct ps_loop_counters *l = malloc(sizeof(*l));
		if (l) {
			d->sum_loop(d->arg, l);
			chute_results(o, l);
			device_records(o, l);
			free(l);
		}
	}
	sorter_states(o, d);
	if (d->export_totals)
		export_totals(o, d);
	gauges(o, d);
	free(c);
}
