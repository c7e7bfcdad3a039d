/* metrics_http.c: the daemon's HTTP listener (see metrics.h): /metrics,
 * and the sorter board at / with its JSON API (board.c). One thread,
 * non-blocking sockets and poll(), up to PS_METRICS_MAX_CLIENTS clients at
 * once. Each request has one deadline, PS_METRICS_DEADLINE_MS from accept
 * to the last byte of the answer, however slowly its bytes come or go; a
 * new client when every slot is taken evicts the one idle the longest. So
 * a slow or silent client holds no other request up. Read-only: GET only
 * (any other method on a known path gets 405), unknown paths 404. */
#include "metrics.h"
#include "board.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
	int fd;                 /* -1: a free slot */
	uint64_t deadline_ms;   /* accept + PS_METRICS_DEADLINE_MS */
	uint64_t last_ms;       /* last byte in or out */
	size_t got;
	char req[PS_METRICS_MAX_REQUEST];
	int answering;          /* the request is in: sending out */
	struct ps_out out;
	size_t sent;
};

struct ps_metrics {
	int fd;
	pthread_t thread;
	volatile int stop;
	struct ps_ctl_server *ctl;
	struct ps_board board;
	struct client c[PS_METRICS_MAX_CLIENTS];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void drop_client(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	ps_out_free(&c->out);
}

/* The request line's method and path (the query cut off); -1 when it is
 * not "METHOD PATH HTTP/x". */
static int request_line(const char *req, char *method, size_t mlen,
			char *path, size_t plen)
{
	const char *sp = strchr(req, ' ');
	if (!sp || sp == req || (size_t)(sp - req) >= mlen)
		return -1;
	snprintf(method, mlen, "%.*s", (int)(sp - req), req);
	const char *p = sp + 1, *e = p;
	while (*e && *e != ' ' && *e != '?' && *e != '\r' && *e != '\n')
		e++;
	if (*p != '/' || (size_t)(e - p) >= plen)
		return -1;
	snprintf(path, plen, "%.*s", (int)(e - p), p);
	return 0;
}

/* The body and Content-Type of GET path; the status line. */
static const char *get(struct ps_metrics *m, const char *path,
		       struct ps_out *body, const char **type)
{
	if (!strcmp(path, "/metrics")) {
		*type = "text/plain; version=0.0.4";
		ps_metrics_render(m->ctl, body);
		return "200 OK";
	}
	int rc = ps_board_get(&m->board, path, body, type);
	if (!rc)
		return "200 OK";
	ps_out_free(body);
	ps_out_init(body);
	*type = "text/plain";
	if (rc > 0) {
		ps_out_printf(body, "busy: a control command is running; "
			      "try again\n");
		return "503 Service Unavailable";
	}
	ps_out_printf(body, "not found: / (the board), /api/v1/summary, "
		      "/api/v1/chutes, /api/v1/scanners, /api/v1/rate and "
		      "/metrics are here\n");
	return "404 Not Found";
}

/* The answer to the request in c->req, into c->out. */
static void answer(struct ps_metrics *m, struct client *c)
{
	struct ps_out body;
	const char *status, *type = "text/plain";
	char method[16], path[256];
	c->req[c->got] = 0;
	ps_out_init(&body);
	if (request_line(c->req, method, sizeof(method), path, sizeof(path))) {
		status = "400 Bad Request";
		ps_out_printf(&body, "bad request\n");
	} else if (!strcmp(method, "GET")) {
		status = get(m, path, &body, &type);
	} else {
		/* nothing here changes the daemon: a known path is GET only */
		if (!strcmp(path, "/metrics") || ps_board_knows(path)) {
			status = "405 Method Not Allowed";
			ps_out_printf(&body, "only GET is allowed\n");
		} else {
			status = "404 Not Found";
			ps_out_printf(&body, "not found\n");
		}
	}
	ps_out_printf(&c->out, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n"
		      "Cache-Control: no-store\r\n"
		      "X-Content-Type-Options: nosniff\r\n"
		      "Content-Security-Policy: default-src 'self'; "
		      "frame-ancestors 'none'\r\n%s\r\n",
		      status, type, body.len,
		      !strncmp(status, "405", 3) ? "Allow: GET\r\n"
		      : !strncmp(status, "503", 3) ? "Retry-After: 1\r\n" : "");
	ps_out_write(&c->out, body.buf ? body.buf : "", body.len);
	ps_out_free(&body);
	c->answering = 1;
	c->sent = 0;
}

/* Send what the socket takes now; the client goes when all is sent. */
static void send_some(struct client *c, uint64_t now)
{
	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->sent,
				 c->out.len - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		c->sent += (size_t)n;
		c->last_ms = now;
	}
	drop_client(c);
}

static int request_complete(const struct client *c)
{
	return strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") ||
	       c->got == sizeof(c->req) - 1;
}

/* Read what has come; answer once the head is in (or the buffer is full,
 * or the client has shut its side). */
static void read_some(struct ps_metrics *m, struct client *c, uint64_t now)
{
	ssize_t n = read(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0 || (n == 0 && c->got == 0)) {
		drop_client(c);
		return;
	}
	c->got += (size_t)n;
	c->req[c->got] = 0;
	c->last_ms = now;
	if (n == 0 || request_complete(c)) {
		answer(m, c);
		send_some(c, now);
	}
}

/* A free slot, else the slot of the client idle the longest, evicted. */
static struct client *slot_for_new(struct ps_metrics *m)
{
	struct client *oldest = &m->c[0];
	for (unsigned i = 0; i < PS_METRICS_MAX_CLIENTS; i++) {
		if (m->c[i].fd < 0)
			return &m->c[i];
		if (m->c[i].last_ms < oldest->last_ms)
			oldest = &m->c[i];
	}
	drop_client(oldest);
	return oldest;
}

static void accept_client(struct ps_metrics *m, uint64_t now)
{
	int fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct client *c = slot_for_new(m);
	c->fd = fd;
	c->deadline_ms = now + PS_METRICS_DEADLINE_MS;
	c->last_ms = now;
	c->got = 0;
	c->req[0] = 0;
	c->answering = 0;
	c->sent = 0;
	ps_out_init(&c->out);
}

/* Drop the clients past their deadline; the poll timeout until the next. */
static int expire(struct ps_metrics *m, uint64_t now)
{
	uint64_t wait = 200;
	for (unsigned i = 0; i < PS_METRICS_MAX_CLIENTS; i++) {
		struct client *c = &m->c[i];
		if (c->fd < 0)
			continue;
		if (now >= c->deadline_ms)
			drop_client(c);
		else if (c->deadline_ms - now < wait)
			wait = c->deadline_ms - now;
	}
	return (int)wait;
}

static void *run(void *arg)
{
	struct ps_metrics *m = arg;
	struct pollfd p[1 + PS_METRICS_MAX_CLIENTS];
	struct client *who[1 + PS_METRICS_MAX_CLIENTS];
	while (!m->stop) {
		int timeout = expire(m, mono_ms());
		ps_board_tick(&m->board, mono_ms());
		unsigned n = 1;
		p[0] = (struct pollfd){ .fd = m->fd, .events = POLLIN };
		for (unsigned i = 0; i < PS_METRICS_MAX_CLIENTS; i++) {
			struct client *c = &m->c[i];
			if (c->fd < 0)
				continue;
			p[n] = (struct pollfd){ .fd = c->fd,
				.events = c->answering ? POLLOUT : POLLIN };
			who[n++] = c;
		}
		if (poll(p, n, timeout) <= 0)
			continue;
		uint64_t now = mono_ms();
		for (unsigned i = 1; i < n; i++) {
			struct client *c = who[i];
			if (!p[i].revents || c->fd != p[i].fd)
				continue;
			if (c->answering)
				send_some(c, now);
			else
				read_some(m, c, now);
		}
		if (p[0].revents & POLLIN)
			accept_client(m, now);
	}
	for (unsigned i = 0; i < PS_METRICS_MAX_CLIENTS; i++)
		if (m->c[i].fd >= 0)
			drop_client(&m->c[i]);
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
	ps_board_init(&m->board, ctl);
	for (unsigned i = 0; i < PS_METRICS_MAX_CLIENTS; i++)
		m->c[i].fd = -1;
	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&ss, sl) ||
	    listen(m->fd, 16)) {
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

int ps_metrics_port(const struct ps_metrics *m)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(m->fd, (struct sockaddr *)&ss, &sl))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
