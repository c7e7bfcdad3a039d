/* ctl_server.c: the control socket: accept clients, read bounded requests,
 * run them, write responses, enforce deadlines (see ctl_server.h). */
#include "ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_cmds.h"
#include "ctl_render.h"
#include "ctl_table.h"
#include "rates.h"

#define MAX_CLIENTS PS_CTL_MAX_CLIENTS

struct client {
	int fd;
	uint8_t hdr[16];
	size_t hdr_got;
	struct ps_ctl_hdr h;
	uint8_t *body;
	size_t body_got;
	struct ps_out out;       /* pending response bytes */
	size_t out_sent;
	uint64_t since;          /* accepted, or last answer sent */
	uint64_t deadline;       /* to send a request, or to read an answer */
	int closing;             /* close once the response is out */
};

struct ps_ctl_server {
	struct ps_ctl_daemon d;
	struct ps_ctl_ctx ctx;
	char path[108];
	int lfd;
	int wake[2];
	pthread_t thread;
	int running;
	struct client cl[MAX_CLIENTS];
	/* one command at a time, whichever thread asks (this server's, the
	 * HTTP listener's): the handlers are not reentrant. Held only while a
	 * command runs: the view has its own lock and the commit counters
	 * are atomics, so /metrics and the board's rate never wait for a
	 * long command (a manifest part, a device list) */
	pthread_mutex_t lock;
	uint64_t commits[PS_CTL_COMMIT_OUTCOMES];   /* relaxed atomics */
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

struct ps_ctl_server *ps_ctl_new(const struct ps_ctl_daemon *d)
{
	struct ps_ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->d = *d;
	if (!s->d.limits.idle_ms)
		s->d.limits.idle_ms = PS_CTL_IDLE_MS;
	if (!s->d.limits.request_ms)
		s->d.limits.request_ms = PS_CTL_REQUEST_MS;
	if (!s->d.limits.max_answer || s->d.limits.max_answer > PS_CTL_MAX_ANSWER)
		s->d.limits.max_answer = PS_CTL_MAX_ANSWER;
	s->ctx.d = &s->d;
	pthread_mutex_init(&s->lock, NULL);
	s->ctx.view = ps_view_new(s->d.sum_counters, s->d.arg);
	if (!s->ctx.view) {
		free(s);
		return NULL;
	}
	ps_view_set_loop(s->ctx.view, s->d.sum_loop);
	s->lfd = -1;
	s->wake[0] = s->wake[1] = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		s->cl[i].fd = -1;
	return s;
}

void ps_ctl_free(struct ps_ctl_server *s)
{
	if (!s)
		return;
	ps_view_free(s->ctx.view);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* An error answer in the form the client asked for. */
static void error_answer(struct ps_out *o, int json, const char *msg)
{
	if (json) {
		ps_out_write(o, "{\"error\":", 9);
		ps_out_json_str(o, msg);
		ps_out_write(o, "}\n", 2);
	} else {
		ps_out_printf(o, "%s\n", msg);
	}
}

static const char *const commit_outcomes[PS_CTL_COMMIT_OUTCOMES] = {
	"committed", "scheduled", "refused"
};

const char *ps_ctl_commit_outcome_name(unsigned k)
{
	return k < PS_CTL_COMMIT_OUTCOMES ? commit_outcomes[k] : "?";
}

void ps_ctl_count_commit(struct ps_ctl_server *s, unsigned outcome)
{
	if (outcome < PS_CTL_COMMIT_OUTCOMES)
		__atomic_add_fetch(&s->commits[outcome], 1, __ATOMIC_RELAXED);
}

/* A request that makes a plan active (plan load, commit, rollback),
 * whoever sends it (an operator, the fleet agent): counted by outcome. */
static void count_commit(struct ps_ctl_server *s, uint16_t cmd, int st,
			 const struct ps_out *j)
{
	if (cmd != PS_CTL_PLAN_LOAD && cmd != PS_CTL_COMMIT &&
	    cmd != PS_CTL_PLAN_ROLLBACK)
		return;
	if (st != PS_CTL_OK)
		ps_ctl_count_commit(s, PS_CTL_COMMIT_REFUSED);
	else if (j->buf && !strncmp(j->buf, "{\"scheduled_at_ms\"", 18))
		ps_ctl_count_commit(s, PS_CTL_COMMIT_SCHEDULED);
	else
		ps_ctl_count_commit(s, PS_CTL_COMMIT_COMMITTED);
}

void ps_ctl_commit_counts(struct ps_ctl_server *s,
			  uint64_t out[PS_CTL_COMMIT_OUTCOMES])
{
	for (unsigned k = 0; k < PS_CTL_COMMIT_OUTCOMES; k++)
		out[k] = __atomic_load_n(&s->commits[k], __ATOMIC_RELAXED);
}

void ps_ctl_rates(struct ps_ctl_server *s, struct ps_rates *r)
{
	ps_view_rates(s->ctx.view, r);    /* the view's own lock */
}

/* The command lock, waiting at most wait_ms (forever if negative). */
static int take_lock(struct ps_ctl_server *s, int wait_ms)
{
	if (wait_ms < 0)
		return pthread_mutex_lock(&s->lock);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	/* the monotonic clock: a wall clock set back cannot stretch it */
	return pthread_mutex_clocklock(&s->lock, CLOCK_MONOTONIC, &until);
}

int ps_ctl_execute(struct ps_ctl_server *s, uint16_t cmd, uint32_t flags,
		   const uint8_t *body, size_t len, struct ps_out *o)
{
	return ps_ctl_execute_within(s, -1, cmd, flags, body, len, o);
}

int ps_ctl_execute_within(struct ps_ctl_server *s, int wait_ms, uint16_t cmd,
			  uint32_t flags, const uint8_t *body, size_t len,
			  struct ps_out *o)
{
	int json = (flags & PS_CTL_F_JSON) != 0;
	struct ps_out j;
	if (take_lock(s, wait_ms))
		return PS_CTL_BUSY;
	ps_out_init(&j);
	int st = ps_ctl_run(&s->ctx, cmd, body, len, &j);
	count_commit(s, cmd, st, &j);
	pthread_mutex_unlock(&s->lock);
	if (!j.oom && !json)
		ps_ctl_render(cmd, st, j.buf ? j.buf : "", j.len, o);
	else if (!j.oom)
		ps_out_write(o, j.buf ? j.buf : "", j.len);
	ps_out_free(&j);
	if (j.oom || o->oom) {
		ps_out_free(o);
		ps_out_init(o);
		error_answer(o, json, "out of memory building the answer");
		return PS_CTL_ERR_INTERNAL;
	}
	if (o->len > s->d.limits.max_answer) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s: the answer (%zu bytes) is longer "
			 "than the control socket's limit (%u bytes)",
			 ps_ctl_cmd_name(cmd), o->len, s->d.limits.max_answer);
		ps_out_free(o);
		ps_out_init(o);
		error_answer(o, json, msg);
		return PS_CTL_ERR_INTERNAL;
	}
	return st;
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

/* Queue an answer: its length always fits the header's 32-bit field
 * (ps_ctl_execute bounds every answer), so the length is the body's. */
static void respond(struct ps_ctl_server *s, struct client *c, int status,
		    const struct ps_out *body)
{
	size_t len = body ? body->len : 0;
	if (len > PS_CTL_MAX_ANSWER) {
		status = PS_CTL_ERR_INTERNAL;
		body = NULL;
		len = 0;
	}
	struct ps_ctl_hdr h = { PS_CTL_RESP_MAGIC, PS_CTL_VERSION,
				(uint16_t)status, 0, (uint32_t)len };
	uint8_t hb[16];
	ps_ctl_hdr_encode(hb, &h);
	ps_out_write(&c->out, (const char *)hb, 16);
	if (len)
		ps_out_write(&c->out, body->buf, len);
	c->out_sent = 0;
	c->deadline = mono_ms() + s->d.limits.request_ms;
}

static void refuse(struct ps_ctl_server *s, struct client *c, const char *why)
{
	struct ps_out o;
	ps_out_init(&o);
	/* JSON if a whole request header asked for it, else text */
	error_answer(&o, c->hdr_got == 16 && c->h.magic == PS_CTL_REQ_MAGIC &&
			 (c->h.flags & PS_CTL_F_JSON), why);
	respond(s, c, PS_CTL_ERR_USAGE, &o);
	ps_out_free(&o);
	c->closing = 1;
}

static void run_request(struct ps_ctl_server *s, struct client *c)
{
	struct ps_out o;
	ps_out_init(&o);
	int st = ps_ctl_execute(s, c->h.code, c->h.flags, c->body, c->h.len, &o);
	respond(s, c, st, &o);
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
		if (c->hdr_got == 0 && c->body_got == 0 && !c->body)
			c->deadline = mono_ms() + s->d.limits.request_ms;
		if (c->hdr_got < 16) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got < 16)
				continue;
			const char *why;
			ps_ctl_hdr_decode(c->hdr, &c->h);
			if (ps_ctl_req_check(&c->h, &why)) {
				refuse(s, c, why);
				return;
			}
			c->body = malloc(c->h.len ? c->h.len : 1);
			if (!c->body) {
				refuse(s, c, "out of memory for the request");
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

static void client_write(struct ps_ctl_server *s, struct client *c)
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
	c->since = mono_ms();
	c->deadline = c->since + s->d.limits.idle_ms;
	if (c->closing)
		client_close(c);
}

/* A slot for a new client. When all are taken, the client idle the
 * longest (no request under way, no answer pending) gives its slot up, or
 * failing one, the oldest: silent connections cannot lock others out. */
static struct client *free_slot(struct ps_ctl_server *s)
{
	struct client *idle = NULL, *oldest = NULL;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &s->cl[i];
		if (c->fd < 0)
			return c;
		if (!oldest || c->since < oldest->since)
			oldest = c;
		if (!c->hdr_got && !c->out.len && (!idle || c->since < idle->since))
			idle = c;
	}
	struct client *c = idle ? idle : oldest;
	client_close(c);
	return c;
}

static void accept_clients(struct ps_ctl_server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct client *c = free_slot(s);
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->since = mono_ms();
		c->deadline = c->since + s->d.limits.idle_ms;
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
		ps_view_sample(s->ctx.view);      /* the view's own lock */
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
				client_write(s, c);
			else if (!c->out.len && (pf[k].revents & (POLLIN | POLLHUP)))
				client_read(s, c);
			if (c->fd >= 0 && c->out.len && !(pf[k].revents & POLLOUT))
				client_write(s, c);
			/* a client that stays silent, sends half a request or
			 * never reads its answer is dropped at its deadline */
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
