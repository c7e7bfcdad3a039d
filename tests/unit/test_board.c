/* test_board.c: the /metrics families of issue #16 (the burst latency
 * histogram, cycles by worker, the NICs' counters, plan commits by outcome,
 * counted for every client of ps_ctl_execute) and the HTTP listener's
 * board: its page and API answered, other methods 405, other paths 404. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "board.h"
#include "ctl_client.h"
#include "metrics.h"

/* A command that runs long: the thread that sets `held` blocks in its
 * counters' sum (so inside its command, the command lock held) until the
 * test lets it go. */
static _Thread_local int held;
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int hold_in, hold_go;

static void sum(void *arg, struct ps_counters *c)
{
	(void)arg;
	if (held) {
		pthread_mutex_lock(&hold_mu);
		hold_in = 1;
		pthread_cond_broadcast(&hold_cv);
		while (!hold_go)
			pthread_cond_wait(&hold_cv, &hold_mu);
		pthread_mutex_unlock(&hold_mu);
	}
	memset(c, 0, sizeof(*c));
	c->lat_hist[ps_lat_bucket(100)] = 3;      /* < 256 ns */
	c->lat_hist[ps_lat_bucket(300)] = 4;      /* < 512 ns */
	c->lat_hist[ps_lat_bucket(5000)] = 5;     /* < 8192 ns */
	c->lat_hist[ps_lat_bucket(3000000000ull)] = 1; /* past 2^31 ns */
	c->lat_sum_ns = 4000000000ull;
	c->records = 12;
	c->records_by_reason[PS_R_ROUTED] = 12;
}

static void cycles(void *arg, unsigned w, uint64_t *busy, uint64_t *idle)
{
	(void)arg;
	*busy = 1000 + w;
	*idle = 2000 + w;
}

static const char *nic_name = "net_test0";

static unsigned nics(void *arg, struct ps_nic_stats *out, unsigned max)
{
	(void)arg;
	cr_assert_geq(max, 1);
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", nic_name);
	out->ipackets = 70;
	out->imissed = 7;
	out->rx_nombuf = 8;
	out->ierrors = 9;
	out->oerrors = 10;
	out->queues = 2;
	out->q_ipackets[0] = 30;
	out->q_ipackets[1] = 40;
	out->q_opackets[1] = 11;
	return 1;
}

static void ports(void *arg, struct ps_out *o, int json)
{
	(void)arg;
	(void)json;
	ps_out_write(o, "[]", 2);
}

struct fixture {
	char dir[64];
	struct ps_store *st;
	struct ps_ctl_daemon d;
	struct ps_ctl_server *ctl;
};

static void fixture_open(struct fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-board-test-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	struct ps_store_cfg cfg = { .state_dir = f->dir, .no_fsync = 1 };
	struct ps_errors e;
	ps_errors_init(&e);
	f->st = ps_store_open(&cfg, &e, NULL, 0);
	ps_errors_free(&e);
	cr_assert_not_null(f->st);
	f->d = (struct ps_ctl_daemon){ .store = f->st, .sum_counters = sum,
				       .n_workers = 2, .worker_cycles = cycles,
				       .nic_stats = nics,
				       .describe_ports = ports,
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

static void render(struct fixture *f, struct ps_out *o)
{
	ps_out_init(o);
	ps_metrics_render(f->ctl, o);
	ps_out_write(o, "", 1);
}

Test(families, burst_latency_is_a_cumulative_histogram_in_seconds)
{
	struct fixture f;
	struct ps_out o;
	fixture_open(&f);
	render(&f, &o);
	static const char *const want[] = {
		"# TYPE parcelsort_burst_latency_seconds histogram",
		"parcelsort_burst_latency_seconds_bucket{le=\"2.56e-07\"} 3",
		"parcelsort_burst_latency_seconds_bucket{le=\"5.12e-07\"} 7",
		"parcelsort_burst_latency_seconds_bucket{le=\"4.096e-06\"} 7",
		"parcelsort_burst_latency_seconds_bucket{le=\"8.192e-06\"} 12",
		"parcelsort_burst_latency_seconds_bucket{le=\"2.147483648\"} 12",
		"parcelsort_burst_latency_seconds_bucket{le=\"+Inf\"} 13",
		"parcelsort_burst_latency_seconds_sum 4.000000000",
		"parcelsort_burst_latency_seconds_count 13",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(has_line(o.buf, want[i]), "missing: %s", want[i]);
	ps_out_free(&o);
	fixture_close(&f);
}

Test(families, cycles_by_worker_and_the_nic_counters)
{
	struct fixture f;
	struct ps_out o;
	fixture_open(&f);
	render(&f, &o);
	static const char *const want[] = {
		"# TYPE parcelsort_worker_busy_cycles_total counter",
		"parcelsort_worker_busy_cycles_total{worker=\"0\"} 1000",
		"parcelsort_worker_busy_cycles_total{worker=\"1\"} 1001",
		"parcelsort_worker_idle_cycles_total{worker=\"1\"} 2001",
		"parcelsort_nic_rx_packets_total{port=\"0\",name=\"net_test0\"} 70",
		"parcelsort_nic_rx_missed_total{port=\"0\",name=\"net_test0\"} 7",
		"parcelsort_nic_rx_nombuf_total{port=\"0\",name=\"net_test0\"} 8",
		"parcelsort_nic_rx_errors_total{port=\"0\",name=\"net_test0\"} 9",
		"parcelsort_nic_tx_errors_total{port=\"0\",name=\"net_test0\"} 10",
		"parcelsort_nic_queue_rx_packets_total{port=\"0\",queue=\"0\"} 30",
		"parcelsort_nic_queue_rx_packets_total{port=\"0\",queue=\"1\"} 40",
		"parcelsort_nic_queue_tx_packets_total{port=\"0\",queue=\"1\"} 11",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(has_line(o.buf, want[i]), "missing: %s", want[i]);
	/* by worker only: no unlabelled sum under the same name */
	cr_assert_null(strstr(o.buf, "\nparcelsort_worker_busy_cycles_total "));
	ps_out_free(&o);
	fixture_close(&f);
}

static int run(struct fixture *f, uint16_t cmd, const char *a0,
	       const char *a1)
{
	struct ps_out body, o;
	ps_out_init(&body);
	ps_out_init(&o);
	if (a0)
		ps_ctl_args(&body, a0);
	if (a1)
		ps_ctl_args(&body, a1);
	int st = ps_ctl_execute(f->ctl, cmd, PS_CTL_F_JSON,
				(const uint8_t *)body.buf, body.len, &o);
	ps_out_free(&body);
	ps_out_free(&o);
	return st;
}

Test(families, plan_commits_by_outcome_and_chutes_enabled)
{
	struct fixture f;
	struct ps_out o;
	const char good[] = "plan a\nsite 1 33\nreject 9\nhub 1 trunk T\n"
			    "route 33 1 5\n";
	const char bad[] = "plan b\nsite 1 33\nreject 9\nroute 33 7 1\n";
	fixture_open(&f);
	cr_assert_eq(run(&f, PS_CTL_PLAN_LOAD, "a", good), PS_CTL_OK);
	cr_assert_eq(run(&f, PS_CTL_PLAN_LOAD, "b", bad), PS_CTL_ERR_REFUSED);
	cr_assert_eq(run(&f, PS_CTL_COMMIT, NULL, NULL), PS_CTL_ERR_REFUSED);
	cr_assert_eq(run(&f, PS_CTL_BEGIN, NULL, NULL), PS_CTL_OK);
	cr_assert_eq(run(&f, PS_CTL_EDIT, "route 34 1 6", NULL), PS_CTL_OK);
	cr_assert_eq(run(&f, PS_CTL_COMMIT, NULL, NULL), PS_CTL_OK);
	/* not commits: reads, and a diff */
	cr_assert_eq(run(&f, PS_CTL_STATUS, NULL, NULL), PS_CTL_OK);
	run(&f, PS_CTL_PLAN_DIFF, "b", bad);
	cr_assert_eq(run(&f, PS_CTL_CHUTE_SET, "disable", "5"), PS_CTL_OK);
	render(&f, &o);
	/* a chute disabled, for the "disabled for 10 min" alert */
	cr_assert(has_line(o.buf, "parcelsort_chute_enabled{chute=\"5\"} 0"));
	cr_assert(has_line(o.buf, "parcelsort_chute_enabled{chute=\"6\"} 1"));
	cr_assert(has_line(o.buf, "parcelsort_plan_commits_total"
			   "{outcome=\"committed\"} 2"));
	cr_assert(has_line(o.buf, "parcelsort_plan_commits_total"
			   "{outcome=\"refused\"} 2"));
	cr_assert(has_line(o.buf, "parcelsort_plan_commits_total"
			   "{outcome=\"scheduled\"} 0"));
	ps_out_free(&o);
	fixture_close(&f);
}

/* ------------------------------------------------------- the listener */

/* One request; the whole answer into buf (NUL-terminated). */
static void request(int port, const char *req, char *buf, size_t n)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL),
		     (ssize_t)strlen(req));
	size_t got = 0;
	ssize_t r;
	while (got + 1 < n && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fd);
}

Test(listener, board_and_api_read_only, .timeout = 30)
{
	struct fixture f;
	char err[256];
	static char buf[1 << 20];
	fixture_open(&f);
	struct ps_metrics *m = ps_metrics_start("127.0.0.1:0", f.ctl, err,
						sizeof(err));
	cr_assert_not_null(m, "%s", err);
	int port = ps_metrics_port(m);
	static const char *const ok[] = { "/", "/board.css", "/board.js",
		"/api/v1/summary", "/api/v1/chutes", "/api/v1/scanners",
		"/api/v1/rate", "/metrics", "/api/v1/summary?x=1" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char req[128];
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 ok[i]);
		request(port, req, buf, sizeof(buf));
		cr_assert(!strncmp(buf, "HTTP/1.0 200 OK\r\n", 17), "%s: %.40s",
			  ok[i], buf);
		cr_assert_not_null(strstr(buf, "Content-Security-Policy: "
					  "default-src 'self'"));
	}
	request(port, "GET / HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	cr_assert_not_null(strstr(buf, "text/html"));
	cr_assert_not_null(strstr(buf, "<script src=\"/board.js\""));
	request(port, "GET /api/v1/summary HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	cr_assert_not_null(strstr(buf, "\"records\":12"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"rx_missed\":7"), "%s", buf);
	static const char *const missing[] = { "/x", "/api/v1", "/api/v1/",
		"/metrics/", "/index.htm", "/board.js.map" };
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		char req[128];
		snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", missing[i]);
		request(port, req, buf, sizeof(buf));
		cr_assert(!strncmp(buf, "HTTP/1.0 404 ", 13), "%s: %.40s",
			  missing[i], buf);
	}
	static const char *const methods[] = { "POST", "PUT", "DELETE",
		"PATCH", "HEAD" };
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char req[128];
		snprintf(req, sizeof(req), "%s /api/v1/chutes HTTP/1.0\r\n"
			 "Content-Length: 0\r\n\r\n", methods[i]);
		request(port, req, buf, sizeof(buf));
		cr_assert(!strncmp(buf, "HTTP/1.0 405 ", 13), "%s: %.40s",
			  methods[i], buf);
		cr_assert_not_null(strstr(buf, "\r\nAllow: GET\r\n"));
	}
	request(port, "garbage\r\n\r\n", buf, sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.0 400 ", 13), "%.40s", buf);
	ps_metrics_stop(m);
	fixture_close(&f);
}

/* The chart's ring keeps the last PS_BOARD_RATE_SECONDS samples, one a
 * second however often it is ticked. */
Test(board, rate_ring_one_sample_a_second_the_last_ten_minutes)
{
	struct fixture f;
	static struct ps_board b;
	struct ps_out o;
	const char *type;
	fixture_open(&f);
	ps_board_init(&b, f.ctl);
	for (uint64_t ms = 0; ms < 5000; ms += 250)
		ps_board_tick(&b, 1000000 + ms);
	cr_assert_eq(b.n, 5);
	for (uint64_t s = 5; s < 700; s++)
		ps_board_tick(&b, 1000000 + s * 1000);
	cr_assert_eq(b.n, PS_BOARD_RATE_SECONDS);
	ps_out_init(&o);
	cr_assert_eq(ps_board_get(&b, "/api/v1/rate", &o, &type), 0);
	ps_out_write(&o, "", 1);
	cr_assert_str_eq(type, "application/json");
	unsigned points = 1;
	for (const char *p = strchr(o.buf, '['); *p && *p != ']'; p++)
		points += *p == ',';
	cr_assert_eq(points, PS_BOARD_RATE_SECONDS, "%u", points);
	ps_out_free(&o);
	ps_out_init(&o);
	cr_assert_eq(ps_board_get(&b, "/nothing", &o, &type), -1);
	ps_out_free(&o);
	fixture_close(&f);
}

/* A long command on the control socket's thread (a national plan's load,
 * a manifest part): /metrics is still answered at once, and a board API
 * request gets 503 after a short wait instead of stalling the listener. */
static void *long_command(void *arg)
{
	struct fixture *f = arg;
	struct ps_out o;
	ps_out_init(&o);
	held = 1;
	ps_ctl_execute(f->ctl, PS_CTL_STATS, PS_CTL_F_JSON, NULL, 0, &o);
	ps_out_free(&o);
	return NULL;
}

Test(listener, metrics_answered_while_a_long_command_runs, .timeout = 30)
{
	struct fixture f;
	char err[256];
	static char buf[1 << 20];
	pthread_t t;
	fixture_open(&f);
	struct ps_metrics *m = ps_metrics_start("127.0.0.1:0", f.ctl, err,
						sizeof(err));
	cr_assert_not_null(m, "%s", err);
	int port = ps_metrics_port(m);
	hold_in = hold_go = 0;
	cr_assert_eq(pthread_create(&t, NULL, long_command, &f), 0);
	pthread_mutex_lock(&hold_mu);
	while (!hold_in)
		pthread_cond_wait(&hold_cv, &hold_mu);
	pthread_mutex_unlock(&hold_mu);
	/* the command now holds the command lock until hold_go */
	request(port, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	int metrics_ok = !strncmp(buf, "HTTP/1.0 200 OK\r\n", 17) &&
			 strstr(buf, "\nparcelsort_plan_commits_total"
				"{outcome=\"refused\"} 0\n");
	char metrics_head[64];
	snprintf(metrics_head, sizeof(metrics_head), "%.40s", buf);
	request(port, "GET /api/v1/summary HTTP/1.0\r\n\r\n", buf,
		sizeof(buf));
	int busy_ok = !strncmp(buf, "HTTP/1.0 503 ", 13) &&
		      strstr(buf, "\r\nRetry-After: 1\r\n");
	pthread_mutex_lock(&hold_mu);
	hold_go = 1;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_mu);
	pthread_join(t, NULL);
	cr_assert(metrics_ok, "/metrics waited for the command: '%s'",
		  metrics_head);
	cr_assert(busy_ok, "the board's API: %.60s", buf);
	/* the command done, the API answers again */
	request(port, "GET /api/v1/summary HTTP/1.0\r\n\r\n", buf,
		sizeof(buf));
	cr_assert(!strncmp(buf, "HTTP/1.0 200 OK\r\n", 17), "%.60s", buf);
	ps_metrics_stop(m);
	fixture_close(&f);
}

/* A port's name is the EAL's (a vdev's name is whatever --vdev said): in
 * a label value its backslash, double quote and newline are escaped, as
 * the exposition format wants, so one odd name cannot spoil the scrape. */
Test(families, nic_name_escaped_in_its_label)
{
	struct fixture f;
	struct ps_out o;
	nic_name = "net_\"odd\\one\n";
	fixture_open(&f);
	render(&f, &o);
	nic_name = "net_test0";
	cr_assert(has_line(o.buf, "parcelsort_nic_rx_missed_total{port=\"0\","
			   "name=\"net_\\\"odd\\\\one\\n\"} 7"), "%s",
		  strstr(o.buf, "parcelsort_nic_rx_missed_total{"));
	ps_out_free(&o);
	fixture_close(&f);
}
