/* ctl_server.c: the control socket: accept clients, read bounded requests,
 * run them, write responses, enforce deadlines (see ctl_server.h). */
#include "ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS   64
#define DEADLINE_MS   10000    /* to finish sending a request or reading a reply */

struct client {
	int fd;
	uint8_t hdr[16];
	size_t hdr_got;
	struct ps_ctl_hdr h;
	uint8_t *body;
	size_t body_got;
	struct ps_out out;       /* pending response bytes */
	size_t out_sent;
	uint64_t deadline;       /* 0: idle between requests */
	int closing;             /* close once the response is out */
};

struct ps_ctl_server {
	struct ps_ctl_daemon d;
	char path[108];
	int lfd;
	int wake[2];
	pthread_t thread;
	int running;
	pthread_mutex_t lock;    /* baseline and rates */
	struct ps_counters base, last;
	uint64_t last_ms;
	struct ps_rates rates;
	struct client cl[MAX_CLIENTS];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const struct ps_ctl_daemon *ps_ctl_daemon(struct ps_ctl_server *s)
{
	return &s->d;
}

static void sub(struct ps_counters *a, const struct ps_counters *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;
	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		x[i] -= y[i];
}

void ps_ctl_counters(struct ps_ctl_server *s, struct ps_counters *out)
{
	s->d.sum_counters(s->d.arg, out);
	pthread_mutex_lock(&s->lock);
	sub(out, &s->base);
	pthread_mutex_unlock(&s->lock);
}

void ps_ctl_reset_baseline(struct ps_ctl_server *s)
{
	static struct ps_counters now;
	s->d.sum_counters(s->d.arg, &now);
	pthread_mutex_lock(&s->lock);
	s->base = now;
	pthread_mutex_unlock(&s->lock);
}

void ps_ctl_rates(struct ps_ctl_server *s, struct ps_rates *r)
{
	pthread_mutex_lock(&s->lock);
	*r = s->rates;
	pthread_mutex_unlock(&s->lock);
}

static void sample_rates(struct ps_ctl_server *s)
{
	static struct ps_counters now;
	uint64_t t = mono_ms();
	if (s->last_ms && t - s->last_ms < 1000)
		return;
	s->d.sum_counters(s->d.arg, &now);
	pthread_mutex_lock(&s->lock);
	if (s->last_ms) {
		double dt = (double)(t - s->last_ms) / 1e3;
		uint64_t d0 = 0, d1 = 0;
		for (int i = 0; i < PS_DROP_COUNT; i++) {
			d0 += s->last.drops[i];
			d1 += now.drops[i];
		}
		s->rates.rx_pps = (double)(now.rx_frames - s->last.rx_frames) / dt;
		s->rates.tx_pps = (double)(now.tx_frames - s->last.tx_frames) / dt;
		s->rates.records_ps = (double)(now.records - s->last.records) / dt;
		s->rates.drops_ps = (double)(d1 - d0) / dt;
	}
	s->last = now;
	s->last_ms = t;
	pthread_mutex_unlock(&s->lock);
}

struct ps_ctl_server *ps_ctl_new(const struct ps_ctl_daemon *d)
{
	struct ps_ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->d = *d;
	s->lfd = -1;
	s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	for (int i = 0; i < MAX_CLIENTS; i++)
		s->cl[i].fd = -1;
	return s;
}

void ps_ctl_free(struct ps_ctl_server *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ------------------------------------------------------------- clients */

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->body);
	ps_out_free(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void respond(struct client *c, int status, const struct ps_out *body)
{
	struct ps_ctl_hdr h = { PS_CTL_RESP_MAGIC, PS_CTL_VERSION,
				(uint16_t)status, 0,
				(uint32_t)(body ? body->len : 0) };
	uint8_t hb[16];
	ps_ctl_hdr_encode(hb, &h);
	ps_out_write(&c->out, (const char *)hb, 16);
	if (body && body->len)
		ps_out_write(&c->out, body->buf, body->len);
	c->out_sent = 0;
}

static void refuse(struct client *c, const char *why)
{
	struct ps_out o;
	ps_out_init(&o);
	ps_out_printf(&o, "%s\n", why);
	respond(c, PS_CTL_ERR_USAGE, &o);
	ps_out_free(&o);
	c->closing = 1;
}

static void run_request(struct ps_ctl_server *s, struct client *c)
{
	struct ps_out o;
	ps_out_init(&o);
	int st = ps_ctl_execute(s, c->h.code, c->h.flags, c->body, c->h.len, &o);
	if (o.oom) {
		ps_out_free(&o);
		ps_out_init(&o);
		ps_out_printf(&o, "out of memory building the answer\n");
		st = PS_CTL_ERR_INTERNAL;
	}
	respond(c, st, &o);
	ps_out_free(&o);
	free(c->body);
	c->body = NULL;
	c->hdr_got = 0;
	c->body_got = 0;
}

/* Read what is there; run a request once it is whole. */
static void client_read(struct ps_ctl_server *s, struct client *c)
{
	for (;;) {
		ssize_t n;
		if (c->hdr_got < 16) {
			n = read(c->fd, c->hdr + c->hdr_got, 16 - c->hdr_got);
		} else {
			if (c->body_got == c->h.len)
				break;
			n = read(c->fd, c->body + c->body_got,
				 c->h.len - c->body_got);
		}
		if (n == 0) {
			c->closing = 1;
			if (!c->out.len)
				client_close(c);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				client_close(c);
			return;
		}
		if (!c->deadline)
			c->deadline = mono_ms() + DEADLINE_MS;
		if (c->hdr_got < 16) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got < 16)
				continue;
			const char *why;
			ps_ctl_hdr_decode(c->hdr, &c->h);
			if (ps_ctl_req_check(&c->h, &why)) {
				refuse(c, why);
				return;
			}
			c->body = malloc(c->h.len ? c->h.len : 1);
			if (!c->body) {
				refuse(c, "out of memory for the request");
				return;
			}
		} else {
			c->body_got += (size_t)n;
		}
		if (c->hdr_got == 16 && c->body_got == c->h.len)
			break;
	}
	run_request(s, c);
}

static void client_write(struct client *c)
{
	while (c->out_sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->out_sent,
				 c->out.len - c->out_sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_close(c);
			return;
		}
		c->out_sent += (size_t)n;
	}
	ps_out_free(&c->out);
	ps_out_init(&c->out);
	c->out_sent = 0;
	c->deadline = 0;
	if (c->closing)
		client_close(c);
}

static void accept_clients(struct ps_ctl_server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int i;
		for (i = 0; i < MAX_CLIENTS && s->cl[i].fd >= 0; i++)
			;
		if (i == MAX_CLIENTS) {
			close(fd);      /* full: the client sees the close */
			continue;
		}
		memset(&s->cl[i], 0, sizeof(s->cl[i]));
		s->cl[i].fd = fd;
	}
}

static void *serve(void *arg)
{
	struct ps_ctl_server *s = arg;
	struct pollfd pf[MAX_CLIENTS + 2];
	int map[MAX_CLIENTS + 2];
	while (__atomic_load_n(&s->running, __ATOMIC_ACQUIRE)) {
		int n = 0;
		pf[n].fd = s->lfd;
		pf[n++].events = POLLIN;
		pf[n].fd = s->wake[0];
		pf[n++].events = POLLIN;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &s->cl[i];
			if (c->fd < 0)
				continue;
			pf[n].fd = c->fd;
			pf[n].events = (short)(c->out.len ? POLLOUT : POLLIN);
			map[n++] = i;
		}
		poll(pf, (nfds_t)n, 200);
		sample_rates(s);
		if (pf[0].revents & POLLIN)
			accept_clients(s);
		uint64_t now = mono_ms();
		for (int k = 2; k < n; k++) {
			struct client *c = &s->cl[map[k]];
			if (c->fd < 0)
				continue;
			if (pf[k].revents & (POLLERR | POLLNVAL)) {
				client_close(c);
				continue;
			}
			if (c->out.len && (pf[k].revents & (POLLOUT | POLLHUP)))
				client_write(c);
			else if (!c->out.len && (pf[k].revents & (POLLIN | POLLHUP)))
				client_read(s, c);
			if (c->fd >= 0 && c->out.len && !(pf[k].revents & POLLOUT))
				client_write(c);
			/* a client that sends half a request or never reads
			 * its answer is dropped at its deadline */
			if (c->fd >= 0 && c->deadline && now > c->deadline)
				client_close(c);
		}
	}
	return NULL;
}

/* --------------------------------------------------------- start, stop */

static int prepare_path(const char *path, char *err, size_t n)
{
	char dir[108];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0750);      /* /run/parcelsort on a first start */
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, n, "control.socket = '%s': exists and is "
				 "not a socket", path);
			return -1;
		}
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(fd);
			snprintf(err, n, "control.socket = '%s': another "
				 "parcelsortd is listening there", path);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);            /* a stale socket of a dead daemon */
	}
	return 0;
}

struct ps_ctl_server *ps_ctl_start(const char *path,
				   const struct ps_ctl_daemon *d, char *err,
				   size_t n)
{
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, n, "control.socket = '%s': path too long", path);
		return NULL;
	}
	if (prepare_path(path, err, n))
		return NULL;
	struct ps_ctl_server *s = ps_ctl_new(d);
	if (!s) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	mode_t old = umask(0117);            /* the socket is rw-rw---- */
	int rc = s->lfd < 0 ? -1 : bind(s->lfd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (rc || chmod(path, 0660) || listen(s->lfd, 16) || pipe(s->wake)) {
		snprintf(err, n, "control.socket = '%s': %s", path,
			 strerror(errno));
		if (s->lfd >= 0)
			close(s->lfd);
		ps_ctl_free(s);
		return NULL;
	}
	s->running = 1;
	if (pthread_create(&s->thread, NULL, serve, s)) {
		snprintf(err, n, "cannot start the control thread");
		close(s->lfd);
		ps_ctl_free(s);
		return NULL;
	}
	pthread_setname_np(s->thread, "ps-control");
	return s;
}

void ps_ctl_stop(struct ps_ctl_server *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
	if (write(s->wake[1], "x", 1) < 0)
		(void)0;
	pthread_join(s->thread, NULL);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->cl[i].fd >= 0)
			client_close(&s->cl[i]);
	close(s->lfd);
	close(s->wake[0]);
	close(s->wake[1]);
	unlink(s->path);
	ps_ctl_free(s);
}
