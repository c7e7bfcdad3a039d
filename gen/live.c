/* live.c: send generated scan batches to a parcelsort dataplane over a UDP
 * socket and tally the decisions that come back. */
#include "live.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int ps_live_resolve(const char *target, struct sockaddr_storage *ss,
		    socklen_t *sl)
{
	char host[256];
	const char *port;
	if (target[0] == '[') {
		const char *e = strchr(target, ']');
		if (!e || e[1] != ':' || (size_t)(e - target - 1) >= sizeof(host))
			return -1;
		memcpy(host, target + 1, (size_t)(e - target - 1));
		host[e - target - 1] = 0;
		port = e + 2;
	} else {
		const char *c = strrchr(target, ':');
		if (!c || (size_t)(c - target) >= sizeof(host))
			return -1;
		memcpy(host, target, (size_t)(c - target));
		host[c - target] = 0;
		port = c + 1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void tally(struct ps_live_result *res, const uint8_t *buf, ssize_t n)
{
	struct ps_header h;
	if (n < (ssize_t)PS_HDR_LEN) {
		res->bad_replies++;
		return;
	}
	/* a reply carries kind 2: check it with the reply's own rules */
	h.magic = (uint16_t)(buf[0] << 8 | buf[1]);
	h.count = (uint16_t)(buf[4] << 8 | buf[5]);
	if (h.magic != PS_MAGIC || buf[2] != PS_VERSION ||
	    buf[3] != PS_KIND_DECISION || h.count < 1 ||
	    h.count > PS_MAX_RECORDS ||
	    (size_t)n != PS_HDR_LEN + (size_t)PS_DECISION_LEN * h.count) {
		res->bad_replies++;
		return;
	}
	res->replies++;
	for (unsigned i = 0; i < h.count; i++) {
		struct ps_decision d;
		ps_decision_decode(buf + PS_HDR_LEN + i * PS_DECISION_LEN, &d,
				   NULL);
		res->records_replied++;
		if (d.reason < PS_REASON_COUNT)
			res->by_reason[d.reason]++;
		else
			res->bad_replies++;
	}
}

static void drain(int fd, struct ps_live_result *res, int timeout_ms)
{
	uint8_t buf[2048];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, timeout_ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		tally(res, buf, n);
		timeout_ms = 0;
	}
}

int ps_live_run(struct ps_gen *g, const struct ps_live_opts *o,
		struct ps_live_result *res)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(res, 0, sizeof(*res));
	if (ps_live_resolve(o->target, &ss, &sl)) {
		fprintf(stderr, "parcelsort-gen: cannot resolve '%s' (HOST:PORT "
				"or [IPV6]:PORT)\n", o->target);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		fprintf(stderr, "parcelsort-gen: %s: %s\n", o->target,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rcvbuf = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	double t0 = now_s();
	uint8_t payload[PS_MAX_REQUEST];
	struct ps_gen_rec recs[PS_MAX_RECORDS];
	for (;;) {
		double t = now_s() - t0;
		if (o->datagrams && res->sent >= o->datagrams)
			break;
		if (o->duration_s > 0 && t >= o->duration_s)
			break;
		if (o->rate > 0 && res->sent >= t * o->rate) {
			drain(fd, res, 1);
			continue;
		}
		unsigned n;
		size_t len = ps_gen_datagram(g, payload, recs, &n);
		if (send(fd, payload, len, 0) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN ||
			    errno == ECONNREFUSED) {
				drain(fd, res, 0);
				continue;
			}
			fprintf(stderr, "parcelsort-gen: send: %s\n",
				strerror(errno));
			close(fd);
			return -1;
		}
		res->sent++;
		res->records_sent += n;
		drain(fd, res, 0);
	}
	double deadline = now_s() + o->wait_s;
	while (res->replies < res->sent && now_s() < deadline)
		drain(fd, res, 10);
	close(fd);
	return 0;
}

void ps_live_print(const struct ps_live_result *r, int json)
{
	if (json) {
		printf("{\"sent\":%llu,\"records_sent\":%llu,\"replies\":%llu,"
		       "\"records_replied\":%llu,\"bad_replies\":%llu,"
		       "\"by_reason\":{",
		       (unsigned long long)r->sent,
		       (unsigned long long)r->records_sent,
		       (unsigned long long)r->replies,
		       (unsigned long long)r->records_replied,
		       (unsigned long long)r->bad_replies);
		for (unsigned i = 0; i < PS_REASON_COUNT; i++)
			printf("%s\"%s\":%llu", i ? "," : "", ps_reason_name(i),
			       (unsigned long long)r->by_reason[i]);
		printf("}}\n");
		return;
	}
	printf("sent      %llu datagrams, %llu records\n",
	       (unsigned long long)r->sent, (unsigned long long)r->records_sent);
	printf("replies   %llu datagrams, %llu records, %llu unusable\n",
	       (unsigned long long)r->replies,
	       (unsigned long long)r->records_replied,
	       (unsigned long long)r->bad_replies);
	for (unsigned i = 0; i < PS_REASON_COUNT; i++)
		if (r->by_reason[i])
			printf("  %-18s %llu\n", ps_reason_name(i),
			       (unsigned long long)r->by_reason[i]);
}
