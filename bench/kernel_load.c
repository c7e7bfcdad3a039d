/* kernel_load.c: drive a UDP scan server over loopback as fast as one core
 * can: the UDP payloads of a parcelsort-gen pcap, sent with sendmmsg in
 * batches of 32, replies drained with recvmmsg, for a given time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ps_frame.h"
#include "ps_pcap.h"

#define BATCH 32

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: kernel_load PCAP [ADDR:]PORT SECONDS "
			"[DATAGRAMS_PER_S]\n");
		return 2;
	}
	double rate = argc == 5 ? atof(argv[4]) : 0;
	struct ps_pcap pc;
	static uint8_t frame[2048];
	uint8_t **pl = NULL;
	size_t *len = NULL, n = 0, cap = 0;
	if (ps_pcap_open(&pc, argv[1])) {
		perror(argv[1]);
		return 1;
	}
	int l;
	while ((l = ps_pcap_next(&pc, frame, sizeof(frame), NULL)) > 0) {
		struct ps_frame f;
		if (ps_frame_parse(frame, (size_t)l, &f) != PS_FRAME_UDP)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			pl = realloc(pl, cap * sizeof(*pl));
			len = realloc(len, cap * sizeof(*len));
		}
		pl[n] = malloc(f.payload_len);
		memcpy(pl[n], frame + f.payload_off, f.payload_len);
		len[n++] = f.payload_len;
	}
	ps_pcap_close(&pc);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 32 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(argv[2], ':'), *port = argv[2];
	if (colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - argv[2]), argv[2]);
		port = colon + 1;
	}
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(port)) };
	inet_pton(AF_INET, host, &a.sin_addr);
	connect(fd, (struct sockaddr *)&a, sizeof(a));
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double secs = atof(argv[3]);
	struct mmsghdr m[BATCH], r[BATCH];
	struct iovec iov[BATCH], riov[BATCH];
	static uint8_t rbuf[BATCH][2048];
	size_t next = 0;
	unsigned long long sent = 0, got = 0;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		double el = (double)(t.tv_sec - t0.tv_sec) +
			    (double)(t.tv_nsec - t0.tv_nsec) * 1e-9;
		if (el >= secs)
			break;
		int batch = BATCH;
		if (rate > 0) {
			double allowed = rate * el - (double)sent;
			if (allowed < 1)
				continue;
			batch = allowed < BATCH ? (int)allowed : BATCH;
		}
		for (int i = 0; i < batch; i++, next = (next + 1) % n) {
			iov[i] = (struct iovec){ pl[next], len[next] };
			m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i],
							.msg_iovlen = 1 };
		}
		int s = sendmmsg(fd, m, (unsigned)batch, 0);
		if (s > 0)
			sent += (unsigned)s;
		for (int i = 0; i < BATCH; i++) {
			riov[i] = (struct iovec){ rbuf[i], sizeof(rbuf[i]) };
			r[i].msg_hdr = (struct msghdr){ .msg_iov = &riov[i],
							.msg_iovlen = 1 };
		}
		int g = recvmmsg(fd, r, BATCH, MSG_DONTWAIT, NULL);
		if (g > 0)
			got += (unsigned)g;
	}
	printf("{\"sent\":%llu,\"replies\":%llu}\n", sent, got);
	return 0;
}
