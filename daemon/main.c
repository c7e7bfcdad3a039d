/* main.c: parcelsortd: configuration, EAL, ports, the plan store, the
 * duplicate window, the manifest of pre-advice, workers, the control
 * plane it embeds (control socket, /metrics, DPDK telemetry), and the main
 * lcore's control loop (scheduled plan activation, manifest expiry, rates,
 * shutdown). What it prints is in report.c. */
#include <errno.h>
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

#include "capture_writer.h"
#include "ctl_server.h"
#include "daemon.h"
#include "manifest.h"
#include "metrics.h"
#include "pdump.h"
#include "ps_hugemem.h"
#include "report.h"
#include "service.h"
#include "telemetry.h"
#include "plan_reader.h"        /* the workers' slot, QSBR readers only */

static void on_signal(int sig)
{
	(void)sig;
	ps_quit = 1;
}

void ps_daemon_sum_counters(const struct ps_daemon *d, struct ps_counters *acc)
{
	memset(acc, 0, sizeof(*acc));
	for (unsigned i = 0; i < d->n_workers; i++)
		ps_counters_add(acc, &d->counters[i]);
}

void ps_daemon_sum_loop(const struct ps_daemon *d, struct ps_loop_counters *acc)
{
	memset(acc, 0, sizeof(*acc));
	for (unsigned i = 0; i < d->n_workers; i++)
		ps_loop_counters_add(acc, &d->loop[i]);
}

static void sum_cb(void *arg, struct ps_counters *out)
{
	ps_daemon_sum_counters(arg, out);
}

static void sum_loop_cb(void *arg, struct ps_loop_counters *out)
{
	ps_daemon_sum_loop(arg, out);
}

static uint32_t now_s_cb(void *arg)
{
	const struct ps_daemon *d = arg;
	return ps_dedup_now(&d->dedup);
}

static void ports_cb(void *arg, struct ps_out *o, int json)
{
	const struct ps_daemon *d = arg;
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
	const struct ps_daemon *d = arg;
	ps_export_totals(d->exporter, t);
}

/* The NIC's counters of each port (rte_eth_stats_get, on the caller's
 * thread: the control plane's, never a worker's). */
static unsigned nic_cb(void *arg, struct ps_nic_stats *out, unsigned max)
{
	const struct ps_daemon *d = arg;
	unsigned n = 0;
	for (unsigned i = 0; i < d->ports.n && n < max; i++) {
		struct rte_eth_stats s;
		struct ps_nic_stats *o = &out[n];
		if (rte_eth_stats_get(d->ports.id[i], &s))
			continue;
		memset(o, 0, sizeof(*o));
		snprintf(o->name, sizeof(o->name), "%s", d->ports.name[i]);
		o->ipackets = s.ipackets;
		o->opackets = s.opackets;
		o->ibytes = s.ibytes;
		o->obytes = s.obytes;
		o->imissed = s.imissed;
		o->ierrors = s.ierrors;
		o->oerrors = s.oerrors;
		o->rx_nombuf = s.rx_nombuf;
		o->queues = d->ports.queues[i];
		if (o->queues > PS_NIC_QUEUES)
			o->queues = PS_NIC_QUEUES;
		if (o->queues > RTE_ETHDEV_QUEUE_STAT_CNTRS)
			o->queues = RTE_ETHDEV_QUEUE_STAT_CNTRS;
		for (unsigned q = 0; q < o->queues; q++) {
			o->q_ipackets[q] = s.q_ipackets[q];
			o->q_opackets[q] = s.q_opackets[q];
		}
		n++;
	}
	return n;
}

static void worker_cycles_cb(void *arg, unsigned w, uint64_t *busy,
			     uint64_t *idle)
{
	const struct ps_daemon *d = arg;
	*busy = *idle = 0;
	if (w >= d->n_workers)
		return;
	*busy = __atomic_load_n(&d->counters[w].busy_cycles, __ATOMIC_RELAXED);
	*idle = __atomic_load_n(&d->counters[w].idle_cycles, __ATOMIC_RELAXED);
}

static int start_control(struct ps_daemon *d, char *err, size_t n)
{
	struct ps_ctl_daemon cd = {
		.store = d->store,
		.manifest = d->manifest,
		.sum_counters = sum_cb,
		.sum_loop = sum_loop_cb,
		.dataplane_now_s = now_s_cb,
		.arg = d,
		.describe_ports = ports_cb,
		.n_workers = d->n_workers,
		.start_ms = ps_now_ms(),
		.dedup_bytes = d->dedup.bytes,
		.dedup_capacity = d->dedup.capacity,
		.dedup_window = d->cfg.dedup_window,
		.export_totals = d->exporter ? export_cb : NULL,
		.capture = d->capture_writer,
		.nic_stats = nic_cb,
		.worker_cycles = worker_cycles_cb,
		.tsc_hz = rte_get_tsc_hz(),
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

double ps_daemon_elapsed_s(const struct ps_daemon *d)
{
	return (double)(rte_rdtsc() - d->start_tsc) / (double)rte_get_tsc_hz();
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

/* The workers' capture rings and their writer (`parcelsortctl capture`),
 * and rte_pdump for dpdk-dumpcap where DPDK's multi-process support is
 * on (docs/dataplane.md, "Capture"). */
static int start_capture(struct ps_daemon *d, char *err, size_t n)
{
	d->capture = ps_capture_new(d->n_workers, PS_CAPTURE_RING_SLOTS,
				    d->counters, rte_get_tsc_hz());
	if (d->capture)
		for (unsigned i = 0; i < d->n_workers; i++)
			d->workers[i].cap = &d->capture->rings[i];
	ps_pdump_register(d->pdump, sizeof(d->pdump));
	d->capture_writer = d->capture
		? ps_capture_writer_new(d->capture, d->pdump) : NULL;
	if (!d->capture_writer) {
		snprintf(err, n, "out of memory for the capture rings");
		return -1;
	}
	return 0;
}

/* A replaced manifest's old table is freed once every worker has been
 * through a quiescent state (the workers are QSBR readers). */
static void manifest_wait_readers(void)
{
	synchronize_rcu();
}

/* The manifest of pre-advice, restored from the state directory. */
static int open_manifest(struct ps_daemon *d, char *err, size_t n)
{
	char why[512];
	struct ps_manifest_cfg mc = {
		.capacity = d->cfg.manifest_capacity,
		.ttl_ms = d->cfg.manifest_ttl_ms,
		.state_dir = d->cfg.state_dir,
		.wait_readers = manifest_wait_readers,
	};
	d->manifest = ps_manifest_open(&mc, why, sizeof(why));
	if (!d->manifest) {
		snprintf(err, n, "manifest: %s", why);
		return -1;
	}
	return 0;
}

static int start(struct ps_daemon *d, char *err, size_t n)
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
	/* the window resident before the workers start: the first few
	 * thousand records touch every 2 MB page of it anyway, and a fault
	 * in a worker is a stall of a burst (a 2 MB page zeroed; on a
	 * virtual machine whose host backs memory lazily, milliseconds) */
	if (ps_huge_populate(d->dedup.head, d->dedup.bytes)) {
		snprintf(err, n, "dedup.capacity: %llu entries: cannot make "
			 "the window's %.0f MB resident: %s",
			 (unsigned long long)d->cfg.dedup_capacity,
			 d->dedup.bytes / 1e6, strerror(errno));
		return -1;
	}
	if (open_manifest(d, err, n))
		return -1;
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
	/* per device and per chute figures: plain memory, one set a worker */
	d->loop = calloc(d->n_workers, sizeof(*d->loop));
	if (!d->counters || !d->workers || !d->loop) {
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
		.plan_slot = ps_store_dataplane_slot(d->store),
		.holds_slot = ps_store_holds_slot(d->store),
		.chutes = ps_store_chutes(d->store),
		.dedup = &d->dedup,
		.manifest = d->manifest,
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
		tmpl.loop = &d->loop[i];
		if (ps_worker_setup(w, i, lcore, &d->ports, &tmpl,
				    &d->counters[i], err, n))
			return -1;
		w->start_tsc = d->start_tsc;
		w->idle_sleep_us = d->cfg.idle_sleep_us;
		i++;
	}
	return start_capture(d, err, n);
}

static void control_loop(struct ps_daemon *d)
{
	static struct ps_counters prev;
	double last_stats = 0, last_expire = 0;
	while (!ps_quit) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		ps_service_tick(d);
		struct ps_errors errs;
		ps_errors_init(&errs);
		int r = ps_store_tick(d->store, ps_now_ms(), &errs);
		if (r) {
			/* a scheduled plan's activation is a commit too (the
			 * alert on refused commits sees a failed attempt) */
			if (d->ctl)
				ps_ctl_count_commit(d->ctl, r > 0
					? PS_CTL_COMMIT_COMMITTED
					: PS_CTL_COMMIT_REFUSED);
			ps_report_schedule(d, r, &errs);
		}
		ps_errors_free(&errs);
		double t = ps_daemon_elapsed_s(d);
		if (t - last_expire >= 600) {
			/* lapsed entries already read as absent; this frees
			 * their room. Never waiting on a load under way (this
			 * loop feeds the watchdog): tried again 5 s later */
			uint64_t gone;
			last_expire = ps_manifest_try_expire(d->manifest, &gone)
				? t - 595 : t;
		}
		if (d->cfg.stats_interval > 0 &&
		    t - last_stats >= d->cfg.stats_interval) {
			ps_report_rates(d, &prev, t - last_stats);
			last_stats = t;
		}
		if (d->cfg.duration > 0 && t >= d->cfg.duration)
			ps_quit = 1;
	}
}

int main(int argc, char **argv)
{
	static struct ps_daemon d;
	char err[1024];
	char **app;
	int mode = ps_service_mode(argc, argv);    /* --check-config ... */
	if (mode >= 0)
		return mode;
	int napp = app_args(argc, argv, &app);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		ps_config_usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("parcelsortd %s\n", PARCELSORT_VERSION);
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
	if (ps_service_log_setup(&d.cfg, err, sizeof(err))) {
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
	ps_service_signals();
	if (start(&d, err, sizeof(err)) || start_control(&d, err, sizeof(err))) {
		fprintf(stderr, "parcelsortd: %s\n", err);
		rte_eal_cleanup();
		return 2;
	}
	ps_report_start(&d);
	unsigned lcore, i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(ps_worker_main, &d.workers[i++], lcore);
	ps_service_ready(&d, napp ? napp : 1, napp ? app : none);
	control_loop(&d);
	ps_service_stopping();
	rte_eal_mp_wait_lcore();
	double secs = ps_daemon_elapsed_s(&d);
	ps_telemetry_unregister();
	ps_metrics_stop(d.metrics);
	ps_ctl_stop(d.ctl);
	ps_capture_writer_free(d.capture_writer);   /* "daemon exit" */
	ps_pdump_unregister();
	ps_export_stop(d.exporter, &d.export_final);
	if (d.cfg.summary)
		ps_report_summary(&d, secs);
	ps_ports_stop(&d.ports);
	ps_store_close(d.store);
	ps_dedup_free(&d.dedup);
	ps_manifest_close(d.manifest);
	free(d.loop);
	ps_capture_free(d.capture);
	rte_eal_cleanup();
	return 0;
}
