/* service.c: parcelsortd as a service (see service.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <rte_log.h>

#include "allow_swap.h"
#include "metrics.h"
#include "plan.h"
#include "plan_src.h"
#include "ps_clock.h"
#include "ps_errors.h"
#include "ps_log.h"
#include "service.h"

static volatile sig_atomic_t hup;
static uint64_t watchdog_us;          /* 0: no watchdog asked for */
static uint64_t last_watchdog_ms, last_status_ms;
static uint64_t last_records;
static uint64_t status_plan_ns;       /* the plan the last STATUS= named */
static int status_plan_have;
static int service_argc;
static char **service_argv;
/* the allow-lists' buffers for reloads (allow_swap.h): two a list, each
 * with room for the old and the new list side by side */
static struct ps_prefix allow_buf[2][2 * PS_MAX_ALLOW];
static struct ps_prefix sorter_buf[2][2 * PS_MAX_ALLOW];

/* ------------------------------------------------------- modes */

/* The application's arguments: after "--" when there is one, else all;
 * without the mode's own flag. */
static int mode_args(int argc, char **argv, const char *drop, char **out)
{
	int from = 1, n = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			from = i + 1;
			break;
		}
	out[n++] = argv[0];
	for (int i = from; i < argc; i++)
		if (strcmp(argv[i], drop))
			out[n++] = argv[i];
	out[n] = NULL;
	return n;
}

static void check_plan(const char *path, struct ps_errors *errs)
{
	struct ps_plan_src src;
	ps_plan_src_init(&src);
	if (!ps_plan_parse_file(&src, path, errs)) {
		struct ps_plan *p = ps_plan_compile(&src, 1, errs);
		ps_plan_free(p);
	}
	ps_plan_src_free(&src);
}

/* A directory the daemon writes into: there and writable, or its parent
 * is (it will be created). */
static void check_dir(const char *key, const char *dir,
		      struct ps_errors *errs)
{
	char parent[PATH_MAX];
	struct stat st;
	if (!stat(dir, &st)) {
		if (!S_ISDIR(st.st_mode) || access(dir, W_OK))
			ps_errors_add(errs, "parcelsortd", 0, "%s = '%s': not a writable "
				      "directory", key, dir);
		return;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = 0;
	else
		snprintf(parent, sizeof(parent), slash ? "/" : ".");
	if (access(parent, W_OK))
		ps_errors_add(errs, "parcelsortd", 0, "%s = '%s': cannot be created "
			      "(%s is not writable)", key, dir, parent);
}

/* A file the daemon opens for writing (log.file): writable if it is
 * there, else its directory is (nothing creates that directory). */
static void check_file(const char *key, const char *path,
		       struct ps_errors *errs)
{
	char dir[PATH_MAX];
	struct stat st;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode) || access(path, W_OK))
			ps_errors_add(errs, "parcelsortd", 0, "%s = '%s': not a "
				      "writable file", key, path);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), slash ? "/" : ".");
	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK))
		ps_errors_add(errs, "parcelsortd", 0, "%s = '%s': cannot be "
			      "created (%s is not a writable directory)", key,
			      path, dir);
}

/* The control socket: its directory is there and writable, or can be
 * made (the daemon creates that one directory, /run/parcelsort). */
static void check_socket(const char *key, const char *path,
			 struct ps_errors *errs)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		check_dir("control.socket's directory", dir, errs);
	} else if (access(slash ? "/" : ".", W_OK)) {
		ps_errors_add(errs, "parcelsortd", 0, "%s = '%s': its directory "
			      "is not writable", key, path);
	}
}

static int check_config(int argc, char **argv)
{
	static struct ps_dp_config c;
	struct ps_errors errs;
	char *args[argc + 1];
	int n = mode_args(argc, argv, "--check-config", args);
	ps_errors_init(&errs);
	ps_config_check_args(&c, n, args, &errs);
	if (c.plan[0] && !access(c.plan, R_OK))
		check_plan(c.plan, &errs);
	check_dir("plan.state_dir", c.state_dir, &errs);
	if (c.log_file[0])
		check_file("log.file", c.log_file, &errs);
	check_socket("control.socket", c.ctl, &errs);
	int rc = errs.n || errs.dropped ? 2 : 0;
	if (rc) {
		ps_errors_print(&errs, stderr);
		fprintf(stderr, "parcelsortd: configuration refused: %zu "
			"error%s\n", errs.n + errs.dropped,
			errs.n + errs.dropped == 1 ? "" : "s");
	} else {
		printf("parcelsortd: configuration %s is good%s%s\n",
		       c.config_path[0] ? c.config_path : "(flags only)",
		       c.plan[0] ? ", plan " : "", c.plan);
	}
	ps_errors_free(&errs);
	ps_config_free(&c);
	return rc;
}

int ps_service_mode(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check-config"))
			return check_config(argc, argv);
		if (!strcmp(argv[i], "--print-config")) {
			ps_config_print(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--keys")) {
			ps_config_print_keys(stdout);
			return 0;
		}
	}
	return -1;
}

/* --------------------------------------------------------- log */

/* DPDK writes its lines to this stream: each goes to ps_log at the
 * level of the message being written. With log.level given, DPDK's level
 * follows it; without, the EAL's own --log-level filtered the line and
 * ps_log's level must not drop it again (--log-level=lib.eal:debug). */
static int dpdk_level_follows;

static ssize_t dpdk_log_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	int lvl = rte_log_cur_msg_loglevel();     /* RTE_LOG_EMERG is 1 */
	int prio = lvl >= 1 && lvl <= 8 ? lvl - 1 : PS_LOG_INFO;
	if (prio < PS_LOG_ERR)
		prio = PS_LOG_ERR;
	if (dpdk_level_follows)
		ps_log_text(prio, buf, len);
	else
		ps_log_text_any(prio, buf, len);
	return (ssize_t)len;
}

int ps_service_log_setup(const struct ps_dp_config *cfg, char *err, size_t n)
{
	ps_log_set_ident("parcelsortd");
	ps_log_set_level(cfg->log_level);
	if (ps_log_open(cfg->log_file, strcmp(cfg->export_path, "-") != 0,
			err, n))
		return -1;
	static cookie_io_functions_t io = { .write = dpdk_log_write };
	FILE *f = fopencookie(NULL, "w", io);
	if (f) {
		setvbuf(f, NULL, _IOLBF, 0);
		rte_openlog_stream(f);
	}
	/* DPDK's level follows log.level when it is given (else the EAL's
	 * own --log-level decides) */
	dpdk_level_follows = cfg->log_level_set;
	if (cfg->log_level_set)
		rte_log_set_global_level((uint32_t)cfg->log_level + 1);
	return 0;
}

/* ----------------------------------------------------- systemd */

static void on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

void ps_service_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

static void send_status(struct ps_daemon *d, uint64_t now_ms)
{
	struct ps_plan_info pi;
	struct ps_counters sum;
	char plan[96];
	ps_store_info(d->store, &pi);
	ps_daemon_sum_counters(d, &sum);
	double secs = last_status_ms ? (now_ms - last_status_ms) / 1000.0 : 0;
	double rate = secs > 0 ? (sum.records - last_records) / secs : 0;
	last_records = sum.records;
	last_status_ms = now_ms;
	status_plan_have = pi.have;
	status_plan_ns = pi.published_ns;
	if (pi.have)
		snprintf(plan, sizeof(plan), "plan %s v%u", pi.name, pi.version);
	else
		snprintf(plan, sizeof(plan), "no plan");
	sd_notifyf(0, "STATUS=%s, %.0f records/s, %u worker%s", plan, rate,
		   d->n_workers, d->n_workers == 1 ? "" : "s");
}

void ps_service_ready(struct ps_daemon *d, int argc, char **argv)
{
	service_argc = argc;
	service_argv = argv;
	if (sd_watchdog_enabled(0, &watchdog_us) <= 0)
		watchdog_us = 0;
	last_watchdog_ms = ps_now_ms();
	sd_notify(0, "READY=1");
	send_status(d, ps_now_ms());
	ps_log(PS_LOG_INFO, "ready%s", watchdog_us ? ", watchdog on" : "");
}

void ps_service_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

/* -------------------------------------------------------- reload */

/* A new allow-list for every port, through the buffers no worker is
 * reading, each reused only after a grace period (allow_swap.h). */
static void publish_allow(struct ps_daemon *d, int sorter,
			  const struct ps_prefix *src, unsigned n)
{
	if (sorter)
		ps_allow_publish(d->ports.net, d->ports.n, 1, sorter_buf[0],
				 sorter_buf[1], src, n);
	else
		ps_allow_publish(d->ports.net, d->ports.n, 0, allow_buf[0],
				 allow_buf[1], src, n);
}

static void apply_live(struct ps_daemon *d, const struct ps_config_key *k,
		       const struct ps_dp_config *nc)
{
	if (!strcmp(k->key, "dataplane.allow")) {
		publish_allow(d, 0, nc->allow, nc->net.n_allow);
	} else if (!strcmp(k->key, "dataplane.sorter_allow")) {
		publish_allow(d, 1, nc->sorter_allow, nc->net.n_sorter_allow);
	} else if (!strcmp(k->key, "dataplane.idle_sleep_us")) {
		for (unsigned i = 0; i < d->n_workers; i++)
			__atomic_store_n(&d->workers[i].idle_sleep_us,
					 nc->idle_sleep_us, __ATOMIC_RELAXED);
		d->cfg.idle_sleep_us = nc->idle_sleep_us;
	} else if (!strcmp(k->key, "dedup.window")) {
		__atomic_store_n(&d->dedup.window_s, nc->dedup_window,
				 __ATOMIC_RELAXED);
		d->cfg.dedup_window = nc->dedup_window;
	} else if (!strcmp(k->key, "log.level")) {
		ps_log_set_level(nc->log_level);
		rte_log_set_global_level((uint32_t)nc->log_level + 1);
		dpdk_level_follows = 1;
		d->cfg.log_level = nc->log_level;
	} else if (!strcmp(k->key, "run.stats")) {
		d->cfg.stats_interval = nc->stats_interval;
	} else if (!strcmp(k->key, "metrics.listen")) {
		char err[256];
		ps_metrics_stop(d->metrics);
		d->metrics = NULL;
		snprintf(d->cfg.metrics, sizeof(d->cfg.metrics), "%s",
			 nc->metrics);
		if (strcmp(nc->metrics, "off") &&
		    !(d->metrics = ps_metrics_start(nc->metrics, d->ctl, err,
						    sizeof(err))))
			ps_log(PS_LOG_ERR, "reload: metrics.listen: %s", err);
	}
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void reload(struct ps_daemon *d)
{
	static struct ps_dp_config nc;
	char err[1024];
	if (ps_log_reopen(err, sizeof(err)))
		ps_log(PS_LOG_ERR, "reload: %s", err);
	char *args[service_argc + 1];
	int n = 0;
	args[n++] = service_argv[0];
	for (int i = 1; i < service_argc; i++)
		args[n++] = service_argv[i];
	args[n] = NULL;
	int rc = ps_config_parse(&nc, n, args, err, sizeof(err));
	if (rc) {
		ps_log(PS_LOG_ERR, "reload refused, nothing changed: %s", err);
		ps_config_free(&nc);
		return;
	}
	unsigned changed = 0;
	for (unsigned i = 0; i < ps_config_n_keys; i++) {
		const struct ps_config_key *k = &ps_config_keys[i];
		if (same(d->cfg.given[i], nc.given[i]))
			continue;
		changed++;
		if (k->live) {
			apply_live(d, k, &nc);
			ps_log(PS_LOG_NOTICE, "reload: %s = '%s' applied", k->key,
			       nc.given[i] ? nc.given[i] : k->def ? k->def : "");
		} else {
			ps_log(PS_LOG_WARNING, "reload: %s changed: it needs a "
			       "restart (systemctl restart parcelsortd)", k->key);
			continue;       /* the running value stays */
		}
		free(d->cfg.given[i]);
		d->cfg.given[i] = nc.given[i] ? strdup(nc.given[i]) : NULL;
	}
	ps_log(PS_LOG_NOTICE, "reloaded %s: %u key%s changed",
	       d->cfg.config_path[0] ? d->cfg.config_path : "the flags",
	       changed, changed == 1 ? "" : "s");
	ps_config_free(&nc);
}

void ps_service_tick(struct ps_daemon *d)
{
	uint64_t now = ps_now_ms();
	if (hup) {
		hup = 0;
		sd_notify(0, "RELOADING=1");
		reload(d);
		sd_notify(0, "READY=1");
	}
	if (watchdog_us && (now - last_watchdog_ms) * 1000 >= watchdog_us / 2) {
		sd_notify(0, "WATCHDOG=1");
		last_watchdog_ms = now;
	}
	/* every 5 s for the rate, and at once when another plan is active */
	struct ps_plan_info pi;
	ps_store_info(d->store, &pi);
	if (now - last_status_ms >= 5000 || pi.have != status_plan_have ||
	    pi.published_ns != status_plan_ns)
		send_status(d, now);
}
