/* agent_events.c: the site agent's event side. It reads the daemon's
 * spool block by block and publishes each block as one message to
 * parcelsort.events.SITE, a window of blocks at a time, asynchronously.
 * Each message carries the block's (boot, number) as its de-duplication id
 * (Nats-Msg-Id), so the stream stores a block once however often it is
 * sent. The cursor (the spool position after the last block whose whole
 * window was acknowledged) is saved in the state directory, and segments
 * before it are deleted; after any failure (no ack, an error, a lost
 * connection) the window is sent again from the cursor. At start the agent
 * also asks the stream for its last message on the subject and skips the
 * blocks before that block's window (ps_fleet_block_stored: a block of the
 * last window may be missing), which covers an agent stopped between an
 * ack and saving its cursor for longer than the de-duplication window. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "ps_spool.h"

#define CURSOR_SAVE_MS 200
#define ACK_WAIT_MS 5000
#define RETRY_PAUSE_MS 200
#define IDLE_PAUSE_MS 2

struct pub {
	struct agent *a;
	struct ps_spool_reader *r;
	struct ps_spool_pos cursor;
	int cursor_dirty;
	uint64_t skip_boot, skip_seq;    /* blocks the stream already has */
	int first_read;                  /* the first block read is logged */
	char subject[PS_FLEET_SITE_MAX + 32];
	uint64_t last_save;
	/* the current catch-up streak: from the first block sent after an
	 * idle spell to the spool read dry */
	uint64_t streak_ns, streak_events, streak_blocks;
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* A streak of more than a few blocks is worth a line in the log: how fast
 * the agent caught up (the benchmark reads it too). */
static void streak(struct pub *p, int busy, uint64_t events, uint64_t blocks,
		   uint64_t t0)
{
	if (busy && events) {
		if (!p->streak_ns)
			p->streak_ns = t0;
		p->streak_events += events;
		p->streak_blocks += blocks;
		return;
	}
	if (busy || !p->streak_ns)
		return;
	double s = (double)(now_ns() - p->streak_ns) / 1e9;
	if (p->streak_blocks >= 16)
		printf("parcelsort-agent: published %" PRIu64 " events in %"
		       PRIu64 " blocks in %.3f s: %.0f events/s\n",
		       p->streak_events, p->streak_blocks, s,
		       (double)p->streak_events / s);
	fflush(stdout);
	p->streak_ns = p->streak_events = p->streak_blocks = 0;
}

static void add(uint64_t *v, uint64_t n)
{
	__atomic_store_n(v, *v + n, __ATOMIC_RELAXED);
}

void agent_on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	struct agent *a = closure;
	(void)js;
	(void)pae;                     /* the library frees the message */
	a->pub_failed = 1;
}

static void load_cursor(struct pub *p)
{
	char buf[128];
	if (agent_state_read(p->a, "cursor", buf, sizeof(buf)) == 0 &&
	    ps_spool_pos_parse(buf, &p->cursor) == 0)
		ps_spool_seek(p->r, &p->cursor);
}

static void save_cursor(struct pub *p)
{
	char buf[128];
	if (!p->cursor_dirty || !p->cursor.segment[0])
		return;
	snprintf(buf, sizeof(buf), "%s %" PRIu64 "\n", p->cursor.segment,
		 p->cursor.offset);
	if (agent_state_write(p->a, "cursor", buf) == 0) {
		p->cursor_dirty = 0;
		ps_spool_release(p->r, &p->cursor);
	}
}

static uint64_t header_u64(natsMsg *m, const char *key, int base)
{
	const char *v = NULL;
	return natsMsgHeader_Get(m, key, &v) == NATS_OK && v
	       ? strtoull(v, NULL, base) : 0;
}

/* What the stream already holds from this site: its last block. */
static void find_stored(struct pub *p)
{
	while (!p->a->stop) {
		natsMsg *m = NULL;
		jsDirectGetMsgOptions dgo;
		/* a direct get names the subject in its own subject, so the
		 * site's permissions can allow its own and nothing else */
		jsDirectGetMsgOptions_Init(&dgo);
		dgo.LastBySubject = p->subject;
		natsStatus s = js_DirectGetMsg(&m, p->a->fleet.js,
					       PS_FLEET_EVENTS, NULL, &dgo);
		if (s == NATS_NO_RESPONDERS) {  /* a stream without direct
						 * gets (made by hand) */
			jsErrCode jerr = 0;
			s = js_GetLastMsg(&m, p->a->fleet.js, PS_FLEET_EVENTS,
					  p->subject, NULL, &jerr);
		}
		if (s == NATS_OK) {
			p->skip_boot = header_u64(m, "Parcelsort-Boot", 16);
			p->skip_seq = header_u64(m, "Parcelsort-Block", 10);
			natsMsg_Destroy(m);
			/* ps_fleet_block_stored: seq + WINDOW_MAX <= last */
			uint64_t upto = p->skip_seq > PS_FLEET_WINDOW_MAX
					? p->skip_seq - PS_FLEET_WINDOW_MAX : 0;
			printf("parcelsort-agent: site %s: the stream's last "
			       "event block is boot %016" PRIx64 " block %"
			       PRIu64 "; skipping the spool's blocks of "
			       "earlier boots and of that boot up to block %"
			       PRIu64 "\n", p->a->site, p->skip_boot,
			       p->skip_seq, upto);
			fflush(stdout);
			return;
		}
		if (s == NATS_NOT_FOUND) {
			printf("parcelsort-agent: site %s: the stream holds no "
			       "event block of this site yet; skipping none\n",
			       p->a->site);
			fflush(stdout);
			return;
		}
		nats_Sleep(500);
	}
}

static int already_stored(const struct pub *p, const struct ps_spool_block *b)
{
	return ps_fleet_block_stored(p->skip_boot, p->skip_seq, b->boot,
				     b->seq);
}

static natsStatus publish(struct pub *p, const struct ps_spool_block *b)
{
	natsMsg *m = NULL;
	char id[PS_FLEET_SITE_MAX + 48], boot[24], n[24], first[24], cnt[16];
	snprintf(id, sizeof(id), "%s.%016" PRIx64 ".%" PRIu64, p->a->site,
		 b->boot, b->seq);
	snprintf(boot, sizeof(boot), "%016" PRIx64, b->boot);
	snprintf(n, sizeof(n), "%" PRIu64, b->seq);
	snprintf(first, sizeof(first), "%" PRIu64, b->first_event);
	snprintf(cnt, sizeof(cnt), "%u", b->count);
	natsStatus s = natsMsg_Create(&m, p->subject, NULL, b->payload,
				      (int)b->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Parcelsort-Boot", boot);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Parcelsort-Block", n);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Parcelsort-First", first);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Parcelsort-Count", cnt);
	if (s == NATS_OK)
		s = js_PublishMsgAsync(p->a->fleet.js, &m, NULL);
	if (m)
		natsMsg_Destroy(m);       /* not taken by the library */
	return s;
}

/* Forget the window: nothing of it counts until it is sent again. */
static void drop_window(struct pub *p)
{
	natsMsgList pending = { 0 };
	if (js_PublishAsyncGetPendingList(&pending, p->a->fleet.js) == NATS_OK)
		natsMsgList_Destroy(&pending);
	p->a->pub_failed = 0;
	add(&p->a->ev_retries, 1);
	ps_spool_seek(p->r, &p->cursor);
	nats_Sleep(RETRY_PAUSE_MS);
}

/* Send up to a window of blocks and wait for their acks. 1 when something
 * was done, 0 when the spool had nothing new. */
static int one_window(struct pub *p)
{
	struct ps_spool_block b;
	struct ps_spool_pos end = p->cursor;
	uint64_t t0 = now_ns();
	uint64_t events = 0, skipped = 0;
	unsigned sent = 0;
	natsStatus s = NATS_OK;
	while (sent < p->a->window && ps_spool_read(p->r, &b) == 1) {
		end = b.end;
		if (!p->first_read) {
			/* with the stream's last block (find_stored), this
			 * gives the number of blocks skipped */
			p->first_read = 1;
			printf("parcelsort-agent: site %s: first spool block "
			       "read is boot %016" PRIx64 " block %" PRIu64
			       "\n", p->a->site, b.boot, b.seq);
			fflush(stdout);
		}
		if (already_stored(p, &b)) {
			skipped++;
			continue;
		}
		if ((s = publish(p, &b)) != NATS_OK)
			break;
		sent++;
		events += b.count;
	}
	if (!sent && !skipped && s == NATS_OK)
		return 0;
	if (s == NATS_OK && sent) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MaxWait = ACK_WAIT_MS;
		s = js_PublishAsyncComplete(p->a->fleet.js, &po);
	}
	if (s != NATS_OK || p->a->pub_failed) {
		drop_window(p);
		return 1;
	}
	p->cursor = end;
	p->cursor_dirty = 1;
	streak(p, 1, events, sent, t0);
	add(&p->a->ev_published, events);
	add(&p->a->ev_blocks, sent);
	add(&p->a->ev_skipped, skipped);
	return 1;
}

void *agent_events_run(void *arg)
{
	struct agent *a = arg;
	char err[256];
	struct pub p = { .a = a };
	p.r = ps_spool_reader_open(a->spool_dir, err, sizeof(err));
	if (!p.r) {
		fprintf(stderr, "parcelsort-agent: spool: %s\n", err);
		return NULL;
	}
	snprintf(p.subject, sizeof(p.subject), PS_FLEET_SUBJECT "%s", a->site);
	load_cursor(&p);
	find_stored(&p);
	while (!a->stop) {
		int busy = one_window(&p);
		uint64_t now = ps_fleet_now_ms();
		if (now - p.last_save >= CURSOR_SAVE_MS) {
			p.last_save = now;
			save_cursor(&p);
			__atomic_store_n(&a->ev_backlog,
					 ps_spool_backlog(p.r, &p.cursor),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&a->ev_torn, ps_spool_torn(p.r),
					 __ATOMIC_RELAXED);
		}
		if (!busy) {
			streak(&p, 0, 0, 0, 0);
			nats_Sleep(IDLE_PAUSE_MS);
		}
	}
	save_cursor(&p);
	ps_spool_reader_close(p.r);
	return NULL;
}
