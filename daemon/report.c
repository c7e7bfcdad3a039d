/* report.c: parcelsortd's printing on stdout: the start description, the
 * rates line every --stats seconds, and the final summary (frames, records
 * by reason, tier and chute, the duplicate window, answers, drops, export).
 * Scripts parse these lines (bench/, tests/integration/): keep them. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ps_report_start(const struct ps_daemon *d)
{
	struct ps_plan_info pi;
	ps_store_info(d->store, &pi);
	printf("parcelsortd: %u worker%s, %u port%s:", d->n_workers,
	       d->n_workers == 1 ? "" : "s", d->ports.n,
	       d->ports.n == 1 ? "" : "s");
	for (unsigned i = 0; i < d->ports.n; i++) {
		const uint8_t *m = d->ports.net[i].mac;
		printf(" %s (%02x:%02x:%02x:%02x:%02x:%02x, %u queue%s)",
		       d->ports.name[i], m[0], m[1], m[2], m[3], m[4], m[5],
		       d->ports.queues[i], d->ports.queues[i] == 1 ? "" : "s");
	}
	printf("\nparcelsortd: control socket %s, metrics %s",
	       d->cfg.ctl, d->cfg.metrics);
	printf("\nparcelsortd: UDP port %u, duplicate window %u s x %llu "
	       "waybills (%.0f MB), plan %s",
	       d->cfg.net.port, d->cfg.dedup_window,
	       (unsigned long long)d->dedup.capacity, d->dedup.bytes / 1048576.0,
	       pi.have ? pi.name : "none (NO_PLAN)");
	if (pi.have)
		printf(" v%u", pi.version);
	printf("\n");
	fflush(stdout);
}

void ps_report_schedule(const struct ps_daemon *d, int r,
			const struct ps_errors *errs)
{
	struct ps_schedule_info si;
	if (r > 0) {
		printf("parcelsortd: scheduled plan activated\n");
		fflush(stdout);
		return;
	}
	ps_store_schedule_info(d->store, &si);
	if (!si.pending) {             /* cannot be: a failure stays pending */
		ps_errors_print(errs, stderr);
		return;
	}
	uint64_t now = ps_now_ms();
	fprintf(stderr, "parcelsortd: scheduled plan %s: activation attempt "
		"%u failed, the plan in force stays; next try in %llu s: %s\n",
		si.name, si.attempts, (unsigned long long)
		(si.next_try_ms > now ? (si.next_try_ms - now + 999) / 1000 : 0),
		si.last_error);
}

void ps_report_rates(const struct ps_daemon *d, struct ps_counters *prev,
		     double dt)
{
	static struct ps_counters now;
	ps_daemon_sum_counters(d, &now);
	struct ps_plan_info pi;
	ps_store_info(d->store, &pi);
	uint64_t drops = 0;
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		drops += now.drops[i] - prev->drops[i];
	printf("[%6.1fs] rx %7.3f Mpps  tx %7.3f Mpps  %8.3f M records/s  "
	       "dup %5.1f%%  drops %llu  plan %s v%u\n",
	       ps_daemon_elapsed_s(d), (now.rx_frames - prev->rx_frames) / dt / 1e6,
	       (now.tx_frames - prev->tx_frames) / dt / 1e6,
	       (now.records - prev->records) / dt / 1e6,
	       now.records > prev->records
		       ? 100.0 * (now.records_by_reason[PS_R_DUPLICATE] -
				  prev->records_by_reason[PS_R_DUPLICATE]) /
				 (now.records - prev->records)
		       : 0.0,
	       (unsigned long long)drops, pi.have ? pi.name : "-",
	       pi.version);
	fflush(stdout);
	*prev = now;
}

static int by_count_desc(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return (x[1] < y[1]) - (x[1] > y[1]);
}

void ps_report_summary(const struct ps_daemon *d, double secs)
{
	static struct ps_counters c;
	static uint64_t top[65536][2];
	ps_daemon_sum_counters(d, &c);
	uint64_t drops = 0, answered = 0;
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		drops += i == PS_DROP_TX_FULL ? 0 : c.drops[i];
	for (unsigned i = 0; i < PS_ANS_COUNT; i++)
		answered += c.answered[i];
	printf("\n== parcelsortd summary: %.1f s, %u worker%s\n", secs,
	       d->n_workers, d->n_workers == 1 ? "" : "s");
	printf("frames  rx %llu (%.3f Mpps)  tx %llu  answered %llu  dropped "
	       "%llu  (answered + dropped = rx: %s)\n",
	       (unsigned long long)c.rx_frames, c.rx_frames / secs / 1e6,
	       (unsigned long long)c.tx_frames, (unsigned long long)answered,
	       (unsigned long long)drops,
	       answered + drops == c.rx_frames ? "yes" : "NO");
	printf("records %llu (%.3f M/s)", (unsigned long long)c.records,
	       c.records / secs / 1e6);
	if (c.records)
		printf(", %.1f busy cycles per record",
		       (double)c.busy_cycles / (double)c.records);
	printf("\n\nby reason:\n");
	for (unsigned i = 0; i < PS_REASON_COUNT; i++)
		if (c.records_by_reason[i])
			printf("  %-18s %12llu  %5.1f%%\n", ps_reason_name(i),
			       (unsigned long long)c.records_by_reason[i],
			       100.0 * c.records_by_reason[i] / c.records);
	printf("by tier:\n");
	for (unsigned i = 0; i < PS_TIER_COUNT; i++)
		if (c.records_by_tier[i])
			printf("  %-18s %12llu\n", ps_tier_name(i),
			       (unsigned long long)c.records_by_tier[i]);
	unsigned nt = 0;
	for (unsigned i = 1; i < 65536; i++)
		if (c.chute[i]) {
			top[nt][0] = i;
			top[nt++][1] = c.chute[i];
		}
	qsort(top, nt, sizeof(top[0]), by_count_desc);
	printf("by chute (%u chutes used, busiest 12):\n", nt);
	for (unsigned i = 0; i < nt && i < 12; i++)
		printf("  chute %-5llu %12llu\n", (unsigned long long)top[i][0],
		       (unsigned long long)top[i][1]);
	printf("duplicate window: %llu remembered, %llu hits, %llu evicted\n",
	       (unsigned long long)c.dedup_inserts,
	       (unsigned long long)c.dedup_hits,
	       (unsigned long long)c.dedup_evictions);
	printf("sorter loop: %llu chute states, results sorted %llu "
	       "chute_full %llu chute_blocked %llu discharge_failed %llu "
	       "no_destination %llu lost %llu, missorts %llu, unknown %llu, "
	       "held %llu, rounds %llu\n",
	       (unsigned long long)c.chute_states,
	       (unsigned long long)c.sort_sorted,
	       (unsigned long long)c.sort_chute_full,
	       (unsigned long long)c.sort_chute_blocked,
	       (unsigned long long)c.sort_discharge_failed,
	       (unsigned long long)c.sort_no_destination,
	       (unsigned long long)c.sort_lost,
	       (unsigned long long)c.sort_missorts,
	       (unsigned long long)c.sort_unknown,
	       (unsigned long long)c.sort_held,
	       (unsigned long long)c.rounds);
	printf("answered:");
	for (unsigned i = 0; i < PS_ANS_COUNT; i++)
		if (c.answered[i])
			printf(" %s %llu", ps_answer_name(i),
			       (unsigned long long)c.answered[i]);
	printf("\ndropped:");
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		if (c.drops[i])
			printf(" %s %llu", ps_drop_name(i),
			       (unsigned long long)c.drops[i]);
	if (d->exporter) {
		const struct ps_export_totals t = d->export_final;
		printf("\nexported: %llu events, %llu dropped",
		       (unsigned long long)c.export_events,
		       (unsigned long long)c.export_dropped);
		if (d->cfg.spool_dir[0])
			printf("\nspooled: %llu events in %llu blocks, %llu "
			       "refused by a full spool, %llu lost to write "
			       "errors", (unsigned long long)t.written,
			       (unsigned long long)t.blocks,
			       (unsigned long long)t.spool_overflow,
			       (unsigned long long)t.spool_errors);
	}
	printf("\n");
	fflush(stdout);
}
