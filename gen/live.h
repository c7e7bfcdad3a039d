/* live.h: parcelsort-gen's live mode: send generated requests over an
 * ordinary UDP socket, flat out or at a rate, and count the replies by
 * reason. */
#ifndef PS_LIVE_H
#define PS_LIVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "traffic.h"

struct ps_live_opts {
	const char *target;     /* HOST:PORT or [IPV6]:PORT */
	double rate;            /* datagrams per second, 0 = flat out */
	uint64_t datagrams;     /* stop after this many (0 = by duration) */
	double duration_s;      /* stop after this long (0 = by count) */
	double wait_s;          /* how long to wait for late replies */
	int json;
};

struct ps_live_result {
	uint64_t sent, records_sent, replies, records_replied;
	uint64_t bad_replies;   /* replies that fail to decode or match */
	uint64_t by_reason[PS_REASON_COUNT];
};

/* Resolve "HOST:PORT" or "[IPV6]:PORT". Returns 0 or -1. */
int ps_live_resolve(const char *target, struct sockaddr_storage *ss,
		    socklen_t *sl);
/* Returns 0, or -1 with a message on stderr. */
int ps_live_run(struct ps_gen *g, const struct ps_live_opts *o,
		struct ps_live_result *res);
void ps_live_print(const struct ps_live_result *res, int json);

#endif
