/* sorter_live.c: parcelsort-gen --sorter: runs the sorter controller model
 * (sorter.c) against a live dataplane over two UDP sockets, the scanner's
 * and the sorter controller's, and prints the loop's closing summary. */
#include "sorter_live.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A UDP socket connected to the dataplane, bound to from if given. */
static int open_socket(const struct sockaddr_storage *to, socklen_t tl,
		       const char *from, const char *target)
{
	int fd = socket(to->ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "parcelsort-gen: socket: %s\n", strerror(errno));
		return -1;
	}
	if (from) {
		struct addrinfo hints = {
			.ai_family = to->ss_family, .ai_socktype = SOCK_DGRAM,
			.ai_flags = AI_PASSIVE | AI_NUMERICHOST,
		}, *ai;
		if (getaddrinfo(from, "0", &hints, &ai) != 0) {
			fprintf(stderr, "parcelsort-gen: --sorter-from '%s': not "
				"an address of the target's family\n", from);
			close(fd);
			return -1;
		}
		int rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(ai);
		if (rc < 0) {
			fprintf(stderr, "parcelsort-gen: --sorter-from '%s': %s\n",
				from, strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (const struct sockaddr *)to, tl) < 0) {
		fprintf(stderr, "parcelsort-gen: %s: %s\n", target,
			strerror(errno));
		close(fd);
		return -1;
	}
	int rcvbuf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

static void receive_all(struct ps_sorter *s, struct pollfd *p, uint64_t t0,
			int timeout_ms)
{
	uint8_t buf[2048];
	if (poll(p, 2, timeout_ms) <= 0)
		return;
	for (int k = 0; k < 2; k++) {
		if (!(p[k].revents & (POLLIN | POLLERR)))
			continue;
		ssize_t n;
		while ((n = recv(p[k].fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0 ||
		       errno == ECONNREFUSED)
			if (n >= 0)
				ps_sorter_receive(s, now_ms() - t0, buf,
						  (size_t)n);
	}
}

int ps_sorter_live_run(struct ps_sorter *s, const char *target,
		       const char *sorter_from)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (ps_live_resolve(target, &ss, &sl)) {
		fprintf(stderr, "parcelsort-gen: cannot resolve '%s' (HOST:PORT "
				"or [IPV6]:PORT)\n", target);
		return -1;
	}
	int fd[2];
	fd[PS_CH_SCANNER] = open_socket(&ss, sl, NULL, target);
	if (fd[PS_CH_SCANNER] < 0)
		return -1;
	fd[PS_CH_SORTER] = open_socket(&ss, sl, sorter_from, target);
	if (fd[PS_CH_SORTER] < 0) {
		close(fd[PS_CH_SCANNER]);
		return -1;
	}
	struct pollfd p[2] = {
		{ .fd = fd[0], .events = POLLIN },
		{ .fd = fd[1], .events = POLLIN },
	};
	uint8_t buf[PS_MAX_REQUEST];
	uint64_t t0 = now_ms();
	for (;;) {
		uint64_t t = now_ms() - t0;
		ps_sorter_tick(s, t);
		if (ps_sorter_done(s, t))
			break;
		enum ps_sorter_channel ch;
		size_t len;
		for (int burst = 0; burst < 64 &&
		     (len = ps_sorter_next(s, t, buf, &ch)) > 0; burst++)
			if (send(fd[ch], buf, len, 0) < 0)
				s->st.send_errors++; /* its reply times out */
		receive_all(s, p, t0, 1);
	}
	close(fd[0]);
	close(fd[1]);
	return 0;
}

static void print_json(const struct ps_sorter *s)
{
	const struct ps_sorter_stats *st = &s->st;
	printf("{\"inducted\":%llu,\"scans\":%llu,\"rescans\":%llu,"
	       "\"decisions\":%llu,\"by_reason\":{",
	       (unsigned long long)st->inducted, (unsigned long long)st->scans,
	       (unsigned long long)st->rescans,
	       (unsigned long long)st->decisions);
	for (unsigned i = 0; i < PS_REASON_COUNT; i++)
		printf("%s\"%s\":%llu", i ? "," : "", ps_reason_name(i),
		       (unsigned long long)st->by_reason[i]);
	printf("},\"fates\":{");
	for (unsigned f = 0; f < PS_FATE_COUNT; f++)
		printf("%s\"%s\":%llu", f ? "," : "", ps_fate_name(f),
		       (unsigned long long)st->fate[f]);
	printf("},\"went_round\":%llu,\"rounds\":%llu,\"results\":%llu,"
	       "\"by_status\":{",
	       (unsigned long long)st->went_round,
	       (unsigned long long)st->rounds, (unsigned long long)st->results);
	for (unsigned i = 1; i <= PS_SORT_STATUS_MAX; i++)
		printf("%s\"%s\":%llu", i > 1 ? "," : "", ps_sort_status_name(i),
		       (unsigned long long)st->by_status[i]);
	printf("},\"missorts_sent\":%llu,\"chute_reports\":%llu,"
	       "\"datagrams\":{\"scans\":%llu,\"results\":%llu,\"reports\":%llu},"
	       "\"acks\":{\"received\":%llu,\"short\":%llu,\"missing\":%llu},"
	       "\"unexpected_replies\":%llu,\"bad_replies\":%llu,"
	       "\"send_errors\":%llu,\"chutes\":{",
	       (unsigned long long)st->missorts,
	       (unsigned long long)st->chute_reports,
	       (unsigned long long)st->scan_datagrams,
	       (unsigned long long)st->result_datagrams,
	       (unsigned long long)st->report_datagrams,
	       (unsigned long long)st->acks_ok,
	       (unsigned long long)st->acks_short,
	       (unsigned long long)st->acks_missing,
	       (unsigned long long)st->unexpected,
	       (unsigned long long)st->bad_replies,
	       (unsigned long long)st->send_errors);
	int first = 1;
	for (unsigned c = 1; c < 65536; c++)
		if (ps_sorter_chute_sorted(s, c)) {
			printf("%s\"%u\":%llu", first ? "" : ",", c,
			       (unsigned long long)ps_sorter_chute_sorted(s, c));
			first = 0;
		}
	printf("}}\n");
}

/* The busiest chutes, at most 20 (--json lists every chute). */
static void print_top_chutes(const struct ps_sorter *s)
{
	enum { TOP = 20 };
	unsigned top[TOP], n = 0, chutes = 0;
	for (unsigned c = 1; c < 65536; c++) {
		uint64_t v = ps_sorter_chute_sorted(s, c);
		if (!v)
			continue;
		chutes++;
		unsigned k = n < TOP ? n++ : TOP;
		while (k > 0 && ps_sorter_chute_sorted(s, top[k - 1]) < v) {
			if (k < TOP)
				top[k] = top[k - 1];
			k--;
		}
		if (k < TOP)
			top[k] = c;
	}
	printf("sorted by chute (%u chutes%s):", chutes,
	       chutes > TOP ? ", the 20 busiest" : "");
	for (unsigned k = 0; k < n; k++)
		printf("%s%u:%llu", k % 10 ? " " : "\n  ", top[k],
		       (unsigned long long)ps_sorter_chute_sorted(s, top[k]));
	printf("\n");
}

static void print_text(const struct ps_sorter *s)
{
	const struct ps_sorter_stats *st = &s->st;
	printf("sorter loop: %llu parcels inducted, %llu scans (%llu re-scans) "
	       "in %llu datagrams\n",
	       (unsigned long long)st->inducted, (unsigned long long)st->scans,
	       (unsigned long long)st->rescans,
	       (unsigned long long)st->scan_datagrams);
	printf("decisions %llu:", (unsigned long long)st->decisions);
	for (unsigned i = 0; i < PS_REASON_COUNT; i++)
		if (st->by_reason[i])
			printf(" %s %llu", ps_reason_name(i),
			       (unsigned long long)st->by_reason[i]);
	printf("\n");
	printf("  sorted          %llu\n", (unsigned long long)st->fate[PS_FATE_SORTED]);
	printf("  went round      %llu parcels, %llu rounds\n",
	       (unsigned long long)st->went_round, (unsigned long long)st->rounds);
	static const unsigned rest[] = {
		PS_FATE_MISSORTED, PS_FATE_LOST, PS_FATE_RECIRC_LIMIT,
		PS_FATE_INTERCEPTED, PS_FATE_REJECTED, PS_FATE_NO_CHUTE,
		PS_FATE_GAVE_UP, PS_FATE_UNANSWERED,
	};
	for (unsigned k = 0; k < sizeof(rest) / sizeof(rest[0]); k++)
		printf("  %-15s %llu\n", ps_fate_name(rest[k]),
		       (unsigned long long)st->fate[rest[k]]);
	printf("results %llu in %llu datagrams:", (unsigned long long)st->results,
	       (unsigned long long)st->result_datagrams);
	for (unsigned i = 1; i <= PS_SORT_STATUS_MAX; i++)
		if (st->by_status[i])
			printf(" %s %llu", ps_sort_status_name(i),
			       (unsigned long long)st->by_status[i]);
	printf("; missorts sent %llu; FULL reports %llu in %llu datagrams\n",
	       (unsigned long long)st->missorts,
	       (unsigned long long)st->chute_reports,
	       (unsigned long long)st->report_datagrams);
	printf("acks      %llu received, %llu short, %llu missing; "
	       "%llu unexpected and %llu unusable replies\n",
	       (unsigned long long)st->acks_ok,
	       (unsigned long long)st->acks_short,
	       (unsigned long long)st->acks_missing,
	       (unsigned long long)st->unexpected,
	       (unsigned long long)st->bad_replies);
	print_top_chutes(s);
}

void ps_sorter_print(const struct ps_sorter *s, int json)
{
	if (json)
		print_json(s);
	else
		print_text(s);
}
