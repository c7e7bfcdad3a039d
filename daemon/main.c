/* main.c: parcelsortd: configuration, EAL, ports, the plan store, the
 * duplicate window, workers, and the main lcore's control loop (scheduled
 * plan activation, rates, shutdown and the final counters). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "config.h"
#include "counters.h"
#include "ctl_server.h"
#include "metrics.h"
#include "telemetry.h"
#include "dedup.h"
#include "export.h"
#include "plan_store.h"
#include "port.h"
#include "worker.h"

static void on_signal(int sig)
{
	(void)sig;
	ps_quit = 1;
}

struct daemon {
	struct ps_dp_config cfg;
	struct ps_ports ports;
	struct ps_store *store;
	struct ps_dedup dedup;
	struct ps_exporter *exporter;
	struct ps_export_totals export_final;
	struct ps_worker *workers;
	struct ps_counters *counters;   /* one per worker */
	unsigned n_workers;
	uint64_t start_tsc;
	struct ps_ctl_server *ctl;
	struct ps_metrics *metrics;
};

static void sum_counters(const struct daemon *d, struct ps_counters *acc)
{
	memset(acc, 0, sizeof(*acc));
	for (unsigned i = 0; i < d->n_workers; i++)
		ps_counters_add(acc, &d->counters[i]);
}

static void sum_cb(void *arg, struct ps_counters *out)
{
	sum_counters(arg, out);
}

static void ports_cb(void *arg, struct ps_out *o, int json)
{
	const struct daemon *d = arg;
	if (json)
		ps_out_write(o, "[", 1);
	for (unsigned i = 0; i < d->ports.n; i++) {
		const uint8_t *m = d->ports.net[i].mac;
		char mac[32];
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0],
			 m[1], m[2], m[3], m[4], m[5]);
		if (json) {
			ps_out_printf(o, "%s{\"name\":", i ? "," : "");
			ps_out_json_str(o, d->ports.name[i]);
			ps_out_printf(o, ",\"mac\":\"%s\",\"queues\":%u}", mac,
				      d->ports.queues[i]);
		} else {
			ps_out_printf(o, "port %u:    %s, %s, %u queue%s\n", i,
				      d->ports.name[i], mac, d->ports.queues[i],
				      d->ports.queues[i] == 1 ? "" : "s");
		}
	}
	if (json)
		ps_out_write(o, "]", 1);
}

static void export_cb(void *arg, struct ps_export_totals *t)
{
	const struct daemon *d = arg;
	ps_export_totals(d->exporter, t);
}

static int start_control(struct daemon *d, char *err, size_t n)
{
	struct ps_ctl_daemon cd = {
		.store = d->store,
		.sum_counters = sum_cb,
		.arg = d,
		.describe_ports = ports_cb,
		.n_workers = d->n_workers,
		.start_ms = ps_now_ms(),
		.dedup_bytes = d->dedup.bytes,
		.dedup_capacity = d->dedup.capacity,
		.dedup_window = d->cfg.dedup_window,
		.export_totals = d->exporter ? export_cb : NULL,
	};
	d->ctl = ps_ctl_start(d->cfg.ctl, &cd, err, n);
	if (!d->ctl)
		return -1;
	if (strcmp(d->cfg.metrics, "off")) {
		d->metrics = ps_metrics_start(d->cfg.metrics, d->ctl, err, n);
		if (!d->metrics)
			return -1;
	}
	if (ps_telemetry_register(d->ctl))
		fprintf(stderr, "parcelsortd: warning: telemetry commands not "
			"registered\n");
	return 0;
}

static double elapsed_s(const struct daemon *d)
{
	return (double)(rte_rdtsc() - d->start_tsc) / (double)rte_get_tsc_hz();
}

static void print_rates(const struct daemon *d, struct ps_counters *prev,
			double dt)
{
	static struct ps_counters now;
	sum_counters(d, &now);
	struct ps_plan_info pi;
	ps_store_info(d->store, &pi);
	uint64_t drops = 0;
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		drops += now.drops[i] - prev->drops[i];
	printf("[%6.1fs] rx %7.3f Mpps  tx %7.3f Mpps  %8.3f M records/s  "
	       "dup %5.1f%%  drops %llu  plan %s v%u\n",
	       elapsed_s(d), (now.rx_frames - prev->rx_frames) / dt / 1e6,
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

static void print_summary(const struct daemon *d, double secs)
{
	static struct ps_counters c;
	static uint64_t top[65536][2];
	sum_counters(d, &c);
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

/* Split argv at "--": EAL part and application part. */
static int app_args(int argc, char **argv, char ***app)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			*app = argv + i;
			return argc - i;
		}
	*app = NULL;
	return 0;
}

static int start(struct daemon *d, char *err, size_t n)
{
	char warn[1024];
	struct ps_errors errs;
	struct ps_store_cfg sc = { .state_dir = d->cfg.state_dir,
				   .initial_plan = d->cfg.plan[0] ? d->cfg.plan
								  : NULL };
	ps_errors_init(&errs);
	d->store = ps_store_open(&sc, &errs, warn, sizeof(warn));
	if (!d->store) {
		ps_errors_print(&errs, stderr);
		ps_errors_free(&errs);
		snprintf(err, n, "cannot start with this plan and state");
		return -1;
	}
	ps_errors_free(&errs);
	if (warn[0])
		fprintf(stderr, "parcelsortd: warning: %s\n", warn);
	if (ps_dedup_init(&d->dedup, d->cfg.dedup_capacity,
			  d->cfg.dedup_window)) {
		snprintf(err, n, "dedup.capacity: cannot allocate %llu entries",
			 (unsigned long long)d->cfg.dedup_capacity);
		return -1;
	}
	d->n_workers = rte_lcore_count() - 1;
	if (d->n_workers == 0) {
		snprintf(err, n, "need at least two lcores (e.g. -l 0-1): the "
			 "main lcore runs the control loop, the others decide");
		return -1;
	}
	if (ps_ports_init(&d->ports, d->n_workers, &d->cfg, err, n))
		return -1;
	d->counters = rte_zmalloc("ps_counters",
				  d->n_workers * sizeof(*d->counters), 64);
	d->workers = rte_zmalloc("ps_workers",
				 d->n_workers * sizeof(*d->workers), 64);
	if (!d->counters || !d->workers) {
		snprintf(err, n, "out of memory for the workers");
		return -1;
	}
	if (d->cfg.export_path[0] || d->cfg.spool_dir[0]) {
		struct ps_export_cfg ec = {
			.path = d->cfg.export_path[0] ? d->cfg.export_path
						      : NULL,
			.spool_dir = d->cfg.spool_dir[0] ? d->cfg.spool_dir
							 : NULL,
			.spool_max_bytes = (uint64_t)d->cfg.spool_max_mb << 20,
			.n_workers = d->n_workers,
			.ring_size = d->cfg.export_ring,
		};
		d->exporter = ps_export_start(&ec, err, n);
		if (!d->exporter)
			return -1;
	}
	struct ps_pipeline tmpl = {
		.plan_slot = ps_store_plan_slot(d->store),
		.chutes = ps_store_chutes(d->store),
		.dedup = &d->dedup,
		.site = d->cfg.site,
	};
	d->start_tsc = rte_rdtsc();
	unsigned lcore, i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct ps_worker *w = &d->workers[i];
		if (d->exporter) {
			tmpl.export_fn = ps_export_push;
			tmpl.export_ctx = ps_export_ctx(d->exporter, i,
							&d->counters[i]);
		}
		if (ps_worker_setup(w, i, lcore, &d->ports, &tmpl,
				    &d->counters[i], err, n))
			return -1;
		w->start_tsc = d->start_tsc;
		w->idle_sleep_us = d->cfg.idle_sleep_us;
		i++;
	}
	return 0;
}

static void describe(const struct daemon *d)
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

static void control_loop(struct daemon *d)
{
	static struct ps_counters prev;
	double last_stats = 0;
	while (!ps_quit) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		struct ps_errors errs;
		ps_errors_init(&errs);
		int r = ps_store_tick(d->store, ps_now_ms(), &errs);
		if (r > 0)
			printf("parcelsortd: scheduled plan activated\n");
		else if (r < 0)
			ps_errors_print(&errs, stderr);
		ps_errors_free(&errs);
		double t = elapsed_s(d);
		if (d->cfg.stats_interval > 0 &&
		    t - last_stats >= d->cfg.stats_interval) {
			print_rates(d, &prev, t - last_stats);
			last_stats = t;
		}
		if (d->cfg.duration > 0 && t >= d->cfg.duration)
			ps_quit = 1;
	}
}

int main(int argc, char **argv)
{
	static struct daemon d;
	char err[1024];
	char **app;
	int napp = app_args(argc, argv, &app);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		ps_config_usage(stdout);
		return 0;
	}
	/* configuration first: a bad value starts nothing */
	char *none[] = { argv[0], NULL };
	int rc = ps_config_parse(&d.cfg, napp ? napp : 1, napp ? app : none,
				 err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "parcelsortd: %s\n", err);
		return 2;
	}
	int eal_argc = napp ? argc - napp : argc;
	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr, "parcelsortd: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (start(&d, err, sizeof(err)) || start_control(&d, err, sizeof(err))) {
		fprintf(stderr, "parcelsortd: %s\n", err);
		rte_eal_cleanup();
		return 2;
	}
	describe(&d);
	unsigned lcore, i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(ps_worker_main, &d.workers[i++], lcore);
	control_loop(&d);
	rte_eal_mp_wait_lcore();
	double secs = elapsed_s(&d);
	ps_metrics_stop(d.metrics);
	ps_ctl_stop(d.ctl);
	ps_export_stop(d.exporter, &d.export_final);
	if (d.cfg.summary)
		print_summary(&d, secs);
	ps_ports_stop(&d.ports);
	ps_store_close(d.store);
	ps_dedup_free(&d.dedup);
	rte_eal_cleanup();
	return 0;
}
