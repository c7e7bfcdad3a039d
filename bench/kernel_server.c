/* kernel_server.c: the obvious alternative to parcelsortd for the benchmark:
 * the same decisions (same codec, same plan library, same duplicate window)
 * served by a plain kernel UDP socket with recvmmsg/sendmmsg in batches of
 * 32, one thread. Prints the datagram and record rates measured after a
 * warm-up, as JSON. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dedup.h"
#include "plan.h"
#include "plan_src.h"
#include "ps_hugemem.h"
#include "ps_wire.h"

#define BATCH 32

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void reject(struct ps_decision *d, const struct ps_plan *p, uint8_t r)
{
	d->chute = p->reject;
	d->tier = 0;
	d->reason = r;
	d->hub = 0;
	d->matched_prefix = 0;
	d->plan_version = p->version;
}

/* Decide one request in place; returns the reply length or 0. */
static size_t serve(uint8_t *buf, size_t len, const struct ps_plan *p,
		    const struct ps_chute_state *cs, struct ps_dedup *dd,
		    uint32_t now, uint64_t *records)
{
	struct ps_header h;
	struct ps_scan s[PS_MAX_RECORDS];
	struct ps_decision d[PS_MAX_RECORDS], first;
	const struct ps_scan *sp[PS_MAX_RECORDS];
	struct ps_decision *dp[PS_MAX_RECORDS];
	unsigned nf = 0;
	if (ps_header_check(buf, len, &h) != PS_HDR_OK)
		return 0;
	ps_scan_decode_burst(buf, &h, s);
	for (unsigned i = 0; i < h.count; i++) {
		d[i].event_seq = s[i].event_seq;
		switch (s[i].klass) {
		case PS_CLASS_MALFORMED: reject(&d[i], p, PS_R_MALFORMED_RECORD); continue;
		case PS_CLASS_TRACK_ONLY: reject(&d[i], p, PS_R_TRACK_ONLY); d[i].chute = 0; continue;
		case PS_CLASS_NOREAD: reject(&d[i], p, PS_R_NOREAD); continue;
		case PS_CLASS_BAD_BARCODE: reject(&d[i], p, PS_R_BAD_BARCODE); continue;
		}
		uint64_t hh = ps_dedup_hash(s[i].waybill);
		if (ps_dedup_lookup(dd, hh, s[i].waybill, now, &first) == PS_DEDUP_HIT &&
		    ps_chute_enabled(cs, first.chute)) {
			d[i] = first;
			d[i].event_seq = s[i].event_seq;
			d[i].reason = PS_R_DUPLICATE;
			continue;
		}
		sp[nf] = &s[i];
		dp[nf++] = &d[i];
	}
	ps_plan_decide_burst(p, cs, sp, dp, nf);
	for (unsigned i = 0; i < nf; i++) {
		int ev;
		if (dp[i]->reason <= PS_R_DEFAULT)
			ps_dedup_insert(dd, ps_dedup_hash(sp[i]->waybill),
					sp[i]->waybill, now, dp[i], cs, &first, &ev);
	}
	*records += h.count;
	return ps_reply_build_inplace(buf, &h, p->site, s, d);
}

int main(int argc, char **argv)
{
	const char *plan_path = NULL;
	int port = 7100;
	double duration = 5, warmup = 1;
	unsigned long long cap = 1048576;
	int o;
	while ((o = getopt(argc, argv, "p:P:d:w:c:")) != -1) {
		switch (o) {
		case 'p': plan_path = optarg; break;
		case 'P': port = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'c': cap = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: kernel_server -p PLAN [-P PORT] "
				"[-d SECONDS] [-w WARMUP] [-c DEDUP]\n");
			return 2;
		}
	}
	if (!plan_path)
		return 2;
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	if (ps_plan_parse_file(&src, plan_path, &e)) {
		ps_errors_print(&e, stderr);
		return 1;
	}
	struct ps_plan *p = ps_plan_compile(&src, 1, &e);
	struct ps_chute_state cs;
	struct ps_dedup dd;
	ps_chutes_init(&cs);
	/* resident before traffic, as parcelsortd's (daemon/main.c) */
	if (ps_dedup_init(&dd, cap, 600) || ps_huge_populate(dd.head, dd.bytes)) {
		perror("kernel_server: the duplicate window");
		return 1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 32 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("bind");
		return 1;
	}
	struct timeval tv = { 0, 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	static uint8_t buf[BATCH][2048];
	struct mmsghdr msg[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	struct sockaddr_in from[BATCH];
	double t0 = now_s(), start = t0 + warmup, end = t0 + duration;
	uint64_t dgrams = 0, records = 0, rec_now = 0;
	int counting = 0;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		double t = now_s();
		if (t >= end)
			break;
		if (!counting && t >= start) {
			counting = 1;
			dgrams = 0;
			records = 0;
			start = t;
		}
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
			msg[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
				.msg_namelen = sizeof(from[i]), .msg_iov = &iov[i],
				.msg_iovlen = 1 };
		}
		int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		int k = 0;
		for (int i = 0; i < n; i++) {
			rec_now = 0;
			size_t r = serve(buf[i], msg[i].msg_len, p, &cs, &dd,
					 (uint32_t)(t - t0), &rec_now);
			if (!r)
				continue;
			records += rec_now;
			dgrams++;
			oiov[k] = (struct iovec){ buf[i], r };
			out[k].msg_hdr = (struct msghdr){ .msg_name = &from[i],
				.msg_namelen = msg[i].msg_hdr.msg_namelen,
				.msg_iov = &oiov[k], .msg_iovlen = 1 };
			k++;
		}
		if (k)
			sendmmsg(fd, out, (unsigned)k, 0);
	}
	double secs = now_s() - start;
	printf("{\"datagrams_per_s\":%.1f,\"records_per_s\":%.1f}\n",
	       dgrams / secs, records / secs);
	return 0;
}
