/* whatif.c: a capture read, cut into a dataplane's bursts and replayed
 * under two plans, record pairs tallied (see whatif.h). */
#include "whatif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "ps_frame.h"
#include "wi_capture.h"
#include "wi_engine.h"

/* The window's clock stops here: room above it for an entry's stamp
 * (second + 1) and a sorter report's last second (second + hold_s) in 32
 * bits. A capture that long (136 years) has corrupt stamps anyway. */
#define WI_CLOCK_MAX (UINT32_MAX - 65536u)

struct replay {
	struct wi_fast *fast;    /* one of the two engines (wi_engine.h) */
	struct wi_pipes *pipes;
	struct ps_net_cfg net;
	struct ps_prefix any[2]; /* 0.0.0.0/0 and ::/0: every sorter */
	const uint8_t *frame[PS_BURST];
	uint16_t len[PS_BURST];
	unsigned n;
	uint32_t burst_s;
	struct wi_result *r;
	int mismatch;
};

/* Decide the pending frames (one dataplane burst) under both plans. */
static void flush(struct replay *x)
{
	if (!x->n)
		return;
	if (x->fast)
		wi_fast_run(x->fast, x->frame, x->len, x->n, x->burst_s, x->r);
	else if (wi_pipes_run(x->pipes, x->frame, x->len, x->n, x->burst_s,
			      x->r))
		x->mismatch = 1;
	x->n = 0;
}

/* The destination of an untagged or tagged IPv4/IPv6 UDP frame, read
 * without any check (those are the pipeline's): 4 or 6, 0 when it is none. */
static int peek_dst(const uint8_t *f, uint16_t len, const uint8_t **ip,
		    uint16_t *port)
{
	unsigned off = 12;
	if (len < 18)
		return 0;
	unsigned et = (unsigned)f[off] << 8 | f[off + 1];
	if (et == PS_ETH_P_VLAN) {
		off += 4;
		et = (unsigned)f[off] << 8 | f[off + 1];
	}
	off += 2;
	if (et == PS_ETH_P_IPV4 && len >= off + 28 && f[off + 9] == 17) {
		*ip = f + off + 16;
		off += (f[off] & 15u) * 4;
	} else if (et == PS_ETH_P_IPV6 && len >= off + 48 && f[off + 6] == 17) {
		*ip = f + off + 24;
		off += 40;
	} else {
		return 0;
	}
	if (len < off + 4)
		return 0;
	*port = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
	return et == PS_ETH_P_IPV4 ? 4 : 6;
}

/* Is the frame a protocol datagram (UDP, "PS" magic) to an address or
 * port the configuration does not have? Then the configuration takes it
 * (after the frames before it ran under the old one). A quick look first:
 * the frames of a capture are nearly all to the same addresses. */
static void learn(struct replay *x, const uint8_t *frame, uint16_t len)
{
	struct ps_frame f;
	struct ps_net_cfg *c = &x->net;
	const uint8_t *ip;
	uint16_t port;
	int v = peek_dst(frame, len, &ip, &port);
	if (!v || (port == c->port && !memcmp(c->mac, frame, 6) &&
		   (v == 4 ? c->has_ip4 && !memcmp(c->ip4, ip, 4)
			   : c->has_ip6 && !memcmp(c->ip6, ip, 16))))
		return;
	if (ps_frame_parse(frame, len, &f) != PS_FRAME_UDP ||
	    f.payload_len < 2 || frame[f.payload_off] != 0x50 ||
	    frame[f.payload_off + 1] != 0x53)
		return;
	flush(x);
	if (f.ip_ver == 4) {
		c->has_ip4 = 1;
		memcpy(c->ip4, f.dst, 4);
	} else {
		c->has_ip6 = 1;
		memcpy(c->ip6, f.dst, 16);
	}
	c->port = f.dport;
	if (!(frame[0] & 1))             /* not a multicast address */
		memcpy(c->mac, frame, 6);
	ps_net_cfg_finish(c);
}

static void replay_frames(struct replay *x, struct wi_capture *cap)
{
	const uint8_t *frame;
	uint32_t len;
	uint64_t ts, first = 0;
	uint32_t clock_s = 0;
	int started = 0;
	while (wi_capture_next(cap, &frame, &len, &ts)) {
		if (!started) {
			first = ts;
			started = 1;
		}
		/* the window's clock: capture seconds, never going back, and
		 * never past WI_CLOCK_MAX (a pcap's stamps span up to 2^32 s:
		 * wrapped, the clock would go back, and at 2^32 - 1 an entry's
		 * stamp, second + 1, would read as empty) */
		uint64_t s = ts > first ? (ts - first) / 1000000u : 0;
		if (s > WI_CLOCK_MAX)
			s = WI_CLOCK_MAX;
		if (s > clock_s)
			clock_s = (uint32_t)s;
		if (clock_s != x->burst_s || x->n == PS_BURST)
			flush(x);
		x->burst_s = clock_s;
		learn(x, frame, (uint16_t)len);
		x->frame[x->n] = frame;
		x->len[x->n] = (uint16_t)len;
		x->n++;
	}
	flush(x);
}

/* The duplicate window the options ask for, checked before anything is
 * read: the limits of the dataplane's (ps_dedup_init), said as such
 * rather than as a window the memory could not hold. */
static int check_window(const struct wi_opts *o, char *err, size_t errlen)
{
	uint64_t cap = o->capacity ? o->capacity : WI_DEFAULT_CAPACITY;
	uint32_t win = o->window_s ? o->window_s : WI_DEFAULT_WINDOW_S;
	if (cap > PS_DEDUP_MAX_CAPACITY) {
		snprintf(err, errlen, "duplicate window capacity %llu: at "
			 "most %llu waybills", (unsigned long long)cap,
			 (unsigned long long)PS_DEDUP_MAX_CAPACITY);
		return -1;
	}
	if (win > PS_DEDUP_MAX_WINDOW_S) {
		snprintf(err, errlen, "duplicate window %u s: at most %u s",
			 win, PS_DEDUP_MAX_WINDOW_S);
		return -1;
	}
	return 0;
}

int wi_run(const struct wi_opts *o, const char *path, struct wi_result *r,
	   char *err, size_t errlen)
{
	struct wi_capture cap;
	memset(r, 0, sizeof(*r));
	r->capture = path;
	r->name[0] = o->name[0];
	r->name[1] = o->name[1];
	if (check_window(o, err, errlen) ||
	    wi_capture_open(&cap, path, err, errlen))
		return -1;
	struct replay *x = calloc(1, sizeof(*x));
	int rc = -1;
	if (!x || wi_tally_init(&r->tally)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	x->r = r;
	x->net.port = 0;
	ps_prefix_parse("0.0.0.0/0", &x->any[0]);
	ps_prefix_parse("::/0", &x->any[1]);
	x->net.sorter_allow = x->any;
	x->net.n_sorter_allow = 2;
	if (o->reference)
		x->pipes = wi_pipes_open(o, &x->net);
	else
		x->fast = wi_fast_open(o, &x->net);
	if (!x->pipes && !x->fast) {
		snprintf(err, errlen, "out of memory (a duplicate window of "
			 "%llu entries)",
			 (unsigned long long)(o->capacity ? o->capacity
					      : WI_DEFAULT_CAPACITY));
		goto out;
	}
	replay_frames(x, &cap);
	r->frames = cap.records;
	r->truncated = cap.truncated;
	r->corrupt = cap.corrupt;
	r->cut = cap.cut;
	if (x->fast)
		wi_fast_count(x->fast, r);
	else
		wi_pipes_count(x->pipes, r);
	if (x->mismatch) {
		snprintf(err, errlen, "internal error: the two replays "
			 "exported different records");
		goto out;
	}
	if (!r->scan_datagrams) {
		char cut[96] = "";
		if (r->cut)
			snprintf(cut, sizeof(cut), ", %llu of them cut by the "
				 "capture's snap length",
				 (unsigned long long)r->cut);
		snprintf(err, errlen, "%s: no scan datagrams in the capture "
			 "(%llu frames read%s%s): nothing to decide", path,
			 (unsigned long long)r->frames, cut,
			 r->truncated ? ", the file is truncated"
			 : r->corrupt ? ", then a record longer than any "
					"frame: the file is corrupt" : "");
		goto out;
	}
	if (wi_tally_finish(&r->tally, &r->sum)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (x) {
		if (x->fast)
			wi_fast_close(x->fast);
		if (x->pipes)
			wi_pipes_close(x->pipes);
		free(x);
	}
	wi_capture_close(&cap);
	if (rc)
		wi_result_free(r);
	return rc;
}

void wi_result_free(struct wi_result *r)
{
	wi_summary_free(&r->sum);
	wi_tally_free(&r->tally);
}
