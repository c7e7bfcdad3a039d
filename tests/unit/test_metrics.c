/* test_metrics.c: the Prometheus exposition (every counter of counters.h's
 * lists, under the names dashboards use) and the /metrics HTTP server's
 * bounds: a client trickling its request holds no one else up and is cut
 * off at the per-request deadline; a full house evicts the oldest idle. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include "metrics.h"
#include "telemetry.h"

/* Every scalar field its own value (1, 2, ...), arrays from 100, 200, ... */
static void sum(void *arg, struct ps_counters *c)
{
	(void)arg;
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < PS_CNT_COUNT; i++)
		*(uint64_t *)((char *)c + ps_counter_descs[i].offset) = i + 1;
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		c->drops[i] = 100 + i;
	for (unsigned i = 0; i < PS_ANS_COUNT; i++)
		c->answered[i] = 200 + i;
	for (unsigned i = 0; i < PS_REASON_COUNT; i++)
		c->records_by_reason[i] = 300 + i;
	c->chute[7] = 5;
}

struct fixture {
	char dir[64];
	struct ps_store *st;
	struct ps_ctl_daemon d;
	struct ps_ctl_server *ctl;
};

static void fixture_open(struct fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-metrics-test-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	struct ps_store_cfg cfg = { .state_dir = f->dir, .no_fsync = 1 };
	struct ps_errors e;
	ps_errors_init(&e);
	f->st = ps_store_open(&cfg, &e, NULL, 0);
	ps_errors_free(&e);
	cr_assert_not_null(f->st);
	f->d = (struct ps_ctl_daemon){ .store = f->st, .sum_counters = sum,
				       .n_workers = 1,
				       .start_ms = ps_now_ms() };
	f->ctl = ps_ctl_new(&f->d);
	cr_assert_not_null(f->ctl);
}

static void fixture_close(struct fixture *f)
{
	ps_ctl_free(f->ctl);
	ps_store_close(f->st);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	cr_assert_eq(system(cmd), 0);
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

Test(exposition, every_counter_of_the_lists_under_its_name)
{
	struct fixture f;
	fixture_open(&f);
	struct ps_out o;
	ps_out_init(&o);
	ps_metrics_render(f.ctl, &o);
	ps_out_write(&o, "", 1);
	char line[256];
	for (unsigned i = 0; i < PS_DROP_COUNT; i++) {
		snprintf(line, sizeof(line), "parcelsort_frames_dropped_total"
			 "{cause=\"%s\"} %u", ps_drop_name(i), 100 + i);
		cr_assert(has_line(o.buf, line), "missing: %s", line);
	}
	for (unsigned i = 0; i < PS_ANS_COUNT; i++) {
		snprintf(line, sizeof(line), "parcelsort_frames_answered_total"
			 "{kind=\"%s\"} %u", ps_answer_name(i), 200 + i);
		cr_assert(has_line(o.buf, line), "missing: %s", line);
	}
	for (unsigned i = 0; i < PS_CNT_COUNT; i++) {
		const struct ps_counter_desc *k = &ps_counter_descs[i];
		if (k->type != PS_PROM_COUNTER)
			continue;
		snprintf(line, sizeof(line), "%s %u", k->metric, i + 1);
		cr_assert(has_line(o.buf, line), "missing: %s", line);
		snprintf(line, sizeof(line), "# TYPE %s counter", k->metric);
		cr_assert(has_line(o.buf, line), "missing: %s", line);
	}
	/* the names dashboards and docs/control.md use */
	static const char *const names[] = {
		"parcelsort_frames_received_total",
		"parcelsort_bytes_received_total",
		"parcelsort_frames_sent_total", "parcelsort_bytes_sent_total",
		"parcelsort_dedup_inserts_total", "parcelsort_dedup_hits_total",
		"parcelsort_dedup_evictions_total",
		"parcelsort_export_events_total",
		"parcelsort_export_dropped_total",
		"parcelsort_worker_busy_cycles_total",
		"parcelsort_worker_idle_cycles_total",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s counter", names[i]);
		cr_assert(has_line(o.buf, line), "missing: %s", line);
	}
	cr_assert(has_line(o.buf, "parcelsort_frames_dropped_total"
			   "{cause=\"not_for_us\"} 100"));
	cr_assert(has_line(o.buf, "parcelsort_frames_dropped_total"
			   "{cause=\"tx_full\"} 121"));
	cr_assert(has_line(o.buf, "parcelsort_records_total{reason=\"routed\"} "
			   "300"));
	cr_assert(has_line(o.buf, "parcelsort_chute_records_total{chute=\"7\"} 5"));
	cr_assert(has_line(o.buf, "parcelsort_plan_version 0"));
	cr_assert(has_line(o.buf, "parcelsort_build_info{version=\""
			   PARCELSORT_VERSION "\"} 1"));
	/* records stands only by reason: one family, one TYPE line */
	cr_assert_null(strstr(o.buf, "\nparcelsort_records_total "));
	const char *type = "# TYPE parcelsort_records_total counter";
	const char *first = strstr(o.buf, type);
	cr_assert_not_null(first);
	cr_assert_null(strstr(first + 1, type));
	ps_out_free(&o);
	fixture_close(&f);
}

/* ------------------------------------ the sorter loop's families (#13.3) */

static struct ps_loop_counters loop;

static void sum_loop(void *arg, struct ps_loop_counters *out)
{
	(void)arg;
	memcpy(out, &loop, sizeof(*out));
}

static uint32_t clock_110(void *arg)
{
	(void)arg;
	return 110;
}

Test(exposition, sorter_loop_families_per_chute_and_device)
{
	struct fixture f;
	struct ps_errors e;
	uint32_t v;
	const char plan[] = "plan a\nsite 1 33\nreject 9\nhub 1 trunk T\n"
			    "route 33 1 5\n";
	fixture_open(&f);
	ps_errors_init(&e);
	cr_assert_eq(ps_store_load_text(f.st, plan, strlen(plan), "t", 0, &e,
					&v), 0);
	ps_errors_free(&e);
	ps_ctl_free(f.ctl);
	memset(&loop, 0, sizeof(loop));
	loop.chute[5] = (struct ps_chute_sort_counters){ 40, 2, 3 };
	loop.device[12] = (struct ps_device_counters){ .records = 200,
		.noread = 10, .bad_barcode = 4, .malformed = 1,
		.duplicates = 5, .last_heard_s = 101 };
	ps_chute_report(ps_store_chutes(f.st), 7, PS_CHUTE_BLOCKED, 30, 100);
	f.d.sum_loop = sum_loop;
	f.d.dataplane_now_s = clock_110;
	f.ctl = ps_ctl_new(&f.d);
	struct ps_out o;
	ps_out_init(&o);
	ps_metrics_render(f.ctl, &o);
	ps_out_write(&o, "", 1);
	static const char *const want[] = {
		"# TYPE parcelsort_chute_sorted_total counter",
		"parcelsort_chute_sorted_total{chute=\"5\"} 40",
		"# TYPE parcelsort_chute_missorted_total counter",
		"parcelsort_chute_missorted_total{chute=\"5\"} 2",
		"# TYPE parcelsort_chute_sorter_state gauge",
		"parcelsort_chute_sorter_state{chute=\"5\"} 0",
		"parcelsort_chute_sorter_state{chute=\"9\"} 0",
		"parcelsort_chute_sorter_state{chute=\"7\"} 2",
		"# TYPE parcelsort_device_records_total counter",
		"parcelsort_device_records_total{device=\"12\",reason=\"noread\"} 10",
		"parcelsort_device_records_total{device=\"12\",reason=\"bad_barcode\"} 4",
		"parcelsort_device_records_total{device=\"12\",reason=\"malformed_record\"} 1",
		"parcelsort_device_records_total{device=\"12\",reason=\"duplicate\"} 5",
		"parcelsort_device_records_total{device=\"12\",reason=\"other\"} 180",
		"parcelsort_sort_results_sorted_total 15",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(has_line(o.buf, want[i]), "missing: %s", want[i]);
	/* only chutes and devices in use carry a series */
	cr_assert_null(strstr(o.buf, "sorter_state{chute=\"6\"}"));
	cr_assert_null(strstr(o.buf, "sorted_total{chute=\"7\"}"));
	cr_assert_null(strstr(o.buf, "{device=\"0\""));
	ps_out_free(&o);
	/* a reading taken while a NOREAD record was counted but not yet its
	 * reason, then the next: "other" does not fall (Prometheus would
	 * read a fall as a restart) */
	loop.device[12].records = 201;
	ps_out_init(&o);
	ps_metrics_render(f.ctl, &o);
	ps_out_write(&o, "", 1);
	cr_assert(has_line(o.buf, "parcelsort_device_records_total{device=\"12\",reason=\"other\"} 181"));
	ps_out_free(&o);
	loop.device[12].noread = 11;
	ps_out_init(&o);
	ps_metrics_render(f.ctl, &o);
	ps_out_write(&o, "", 1);
	cr_assert(has_line(o.buf, "parcelsort_device_records_total{device=\"12\",reason=\"other\"} 181"),
		  "other fell back to 180");
	cr_assert(has_line(o.buf, "parcelsort_device_records_total{device=\"12\",reason=\"noread\"} 11"));
	ps_out_free(&o);
	fixture_close(&f);
}

/* ---------------------------------------------------------- the server */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* GET /metrics; the answer (up to n bytes) within `wait` seconds. */
static size_t scrape(int port, char *buf, size_t n, int wait)
{
	int fd = connect_to(port);
	struct timeval tv = { wait, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	cr_assert_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL),
		     (ssize_t)sizeof(req) - 1);
	size_t got = 0;
	ssize_t r;
	while (got + 1 < n && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fd);
	return got;
}

struct trickler {
	int port;
	double cut_after;       /* seconds until the server closed it, or -1 */
};

/* A byte of a request every 1.5 s for up to 12 s, never finishing it. */
static void *trickle(void *arg)
{
	struct trickler *t = arg;
	int fd = connect_to(t->port);
	double t0 = now_s();
	t->cut_after = -1;
	send(fd, "G", 1, MSG_NOSIGNAL);
	while (now_s() - t0 < 12) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 1500) > 0) {
			char b[64];
			if (recv(fd, b, sizeof(b), 0) <= 0) {
				t->cut_after = now_s() - t0;
				break;
			}
			continue;
		}
		if (send(fd, "E", 1, MSG_NOSIGNAL) < 0) {
			t->cut_after = now_s() - t0;
			break;
		}
	}
	close(fd);
	return NULL;
}

Test(http, a_trickling_client_holds_no_one_and_is_cut_at_the_deadline,
     .timeout = 40)
{
	struct fixture f;
	fixture_open(&f);
	char err[256];
	struct ps_metrics *m = ps_metrics_start("127.0.0.1:0", f.ctl, err,
						sizeof(err));
	cr_assert_not_null(m, "%s", err);
	struct trickler t = { .port = ps_metrics_port(m) };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, trickle, &t), 0);
	usleep(300 * 1000);             /* the trickler is in first */
	static char buf[1 << 20];
	double t0 = now_s();
	size_t got = scrape(t.port, buf, sizeof(buf), 4);
	double took = now_s() - t0;
	cr_assert(took < 3, "a scrape waited %.1f s behind a trickling client",
		  took);
	cr_assert(!strncmp(buf, "HTTP/1.0 200 OK\r\n", 17), "got %zu bytes: "
		  "%.60s", got, buf);
	cr_assert(has_line(buf, "parcelsort_frames_received_total 1"));
	pthread_join(th, NULL);
	/* one deadline per request (5 s from accept), whatever trickles in */
	cr_assert(t.cut_after > 4 && t.cut_after < 7.5,
		  "the trickler was cut after %.1f s", t.cut_after);
	ps_metrics_stop(m);
	fixture_close(&f);
}

Test(http, a_full_house_evicts_the_oldest_idle_client, .timeout = 40)
{
	struct fixture f;
	fixture_open(&f);
	char err[256];
	struct ps_metrics *m = ps_metrics_start("127.0.0.1:0", f.ctl, err,
						sizeof(err));
	cr_assert_not_null(m, "%s", err);
	int port = ps_metrics_port(m);
	int idle[PS_METRICS_MAX_CLIENTS + 4];
	for (unsigned i = 0; i < PS_METRICS_MAX_CLIENTS + 4; i++) {
		idle[i] = connect_to(port);
		usleep(20 * 1000);
	}
	static char buf[1 << 20];
	double t0 = now_s();
	scrape(port, buf, sizeof(buf), 4);
	cr_assert(now_s() - t0 < 3, "a scrape waited %.1f s behind idle "
		  "clients", now_s() - t0);
	cr_assert(!strncmp(buf, "HTTP/1.0 200 OK\r\n", 17), "%.60s", buf);
	/* the first idle client was evicted: it reads the end of its stream */
	struct timeval tv = { 1, 0 };
	setsockopt(idle[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char b[8];
	cr_assert_leq(recv(idle[0], b, sizeof(b), 0), 0);
	for (unsigned i = 0; i < PS_METRICS_MAX_CLIENTS + 4; i++)
		close(idle[i]);
	ps_metrics_stop(m);
	fixture_close(&f);
}

/* --------------------------------------------------------- telemetry */

/* DPDK's telemetry thread outlives the control server (it runs until
 * rte_eal_cleanup, and commands cannot be unregistered): once
 * unregistered, the commands answer -1 and touch neither the freed server
 * nor the closed store. Under ASan, answering after the free was a
 * heap-use-after-free. */
Test(telemetry, commands_answer_nothing_once_unregistered)
{
	struct fixture f;
	fixture_open(&f);
	cr_assert_eq(ps_telemetry_register(f.ctl), 0);
	struct rte_tel_data *d = rte_tel_data_alloc();
	cr_assert_not_null(d);
	cr_assert_eq(ps_telemetry_answer("/parcelsort/status", NULL, d), 0);
	cr_assert_eq(ps_telemetry_answer("/parcelsort/stats", NULL, d), 0);
	cr_assert_eq(ps_telemetry_answer("/parcelsort/nothing", NULL, d), -1);
	ps_telemetry_unregister();
	fixture_close(&f);
	cr_assert_eq(ps_telemetry_answer("/parcelsort/status", NULL, d), -1);
	cr_assert_eq(ps_telemetry_answer("/parcelsort/stats", NULL, d), -1);
	rte_tel_data_free(d);
}
