/* metrics.c: Prometheus exposition of the dataplane counters (see
 * metrics.h). Counters are the raw sums (monotonic); `stats reset` does
 * not touch them, as Prometheus expects. */
#include "metrics.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ps_metrics {
	int fd;
	pthread_t thread;
	volatile int stop;
	struct ps_ctl_server *ctl;
};

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

static void serve_one(struct ps_metrics *m, int fd)
{
	char req[2048];
	size_t got = 0;
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		ssize_t n = read(fd, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = 0;
	struct ps_out body, out;
	ps_out_init(&body);
	ps_out_init(&out);
	const char *status = "200 OK", *type = "text/plain; version=0.0.4";
	if (!strncmp(req, "GET /metrics ", 13) || !strncmp(req, "GET /metrics?", 13)) {
		ps_metrics_render(m->ctl, &body);
	} else if (!strncmp(req, "GET ", 4)) {
		status = "404 Not Found";
		type = "text/plain";
		ps_out_printf(&body, "only /metrics is here\n");
	} else {
		status = "400 Bad Request";
		type = "text/plain";
		ps_out_printf(&body, "bad request\n");
	}
	ps_out_printf(&out, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: "
		      "%zu\r\nConnection: close\r\n\r\n", status, type, body.len);
	ps_out_write(&out, body.buf ? body.buf : "", body.len);
	size_t sent = 0;
	while (sent < out.len) {
		ssize_t n = send(fd, out.buf + sent, out.len - sent, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	ps_out_free(&body);
	ps_out_free(&out);
}

static void *run(void *arg)
{
	struct ps_metrics *m = arg;
	while (!m->stop) {
		struct pollfd p = { .fd = m->fd, .events = POLLIN };
		if (poll(&p, 1, 200) <= 0)
			continue;
		int fd = accept(m->fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(m, fd);
		close(fd);
	}
	return NULL;
}

struct ps_metrics *ps_metrics_start(const char *listen_at,
				    struct ps_ctl_server *ctl, char *err,
				    size_t n)
{
	char host[128];
	const char *port;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (listen_at[0] == '[') {
		const char *e = strchr(listen_at, ']');
		if (!e || e[1] != ':' || (size_t)(e - listen_at) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(e - listen_at - 1),
			 listen_at + 1);
		port = e + 2;
	} else {
		const char *c = strrchr(listen_at, ':');
		if (!c || (size_t)(c - listen_at) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(c - listen_at),
			 listen_at);
		port = c + 1;
	}
	char *end;
	unsigned long pn = strtoul(port, &end, 10);
	if (!*port || *end || pn > 65535)
		goto bad;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)pn);
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)pn);
		sl = sizeof(*a6);
	} else {
		goto bad;
	}
	struct ps_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->ctl = ctl;
	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&ss, sl) ||
	    listen(m->fd, 8)) {
		snprintf(err, n, "metrics.listen = '%s': %s", listen_at,
			 strerror(errno));
		if (m->fd >= 0)
			close(m->fd);
		free(m);
		return NULL;
	}
	if (pthread_create(&m->thread, NULL, run, m)) {
		close(m->fd);
		free(m);
		snprintf(err, n, "cannot start the metrics thread");
		return NULL;
	}
	pthread_setname_np(m->thread, "ps-metrics");
	return m;
bad:
	snprintf(err, n, "metrics.listen = '%s': want ADDR:PORT or [ADDR6]:PORT",
		 listen_at);
	return NULL;
}

void ps_metrics_stop(struct ps_metrics *m)
{
	if (!m)
		return;
	m->stop = 1;
	pthread_join(m->thread, NULL);
	close(m->fd);
	free(m);
}
