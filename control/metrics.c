/* metrics.c: Prometheus exposition of the dataplane counters (see
 * metrics.h), looping over counters.h's lists. Counters are the raw sums
 * (monotonic); `stats reset` does not touch them, as Prometheus expects.
 * The HTTP server that serves it is metrics_http.c. */
#include "metrics.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void ps_metrics_render(struct ps_ctl_server *ctl, struct ps_out *o)
{
	struct ps_counters *c = malloc(sizeof(*c));
	const struct ps_ctl_daemon *d = ps_ctl_daemon(ctl);
	if (!c)
		return;
	d->sum_counters(d->arg, c);
	scalars(o, c);
	families(o, c);
	if (d->export_totals)
		export_totals(o, d);
	gauges(o, d);
	free(c);
}
