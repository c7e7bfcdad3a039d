/* agent_consumer.c: the site agent's durable pull consumers (hold
 * operations, manifest batches): named agent-SITE on a stream, filtered on
 * the site's subject, acknowledged all-up-to, and made anew at each start
 * to deliver right after the last sequence the agent handled; and the
 * daemon calls they make, retried while the daemon is unreachable; and
 * the loop each stream's thread runs (agent_consumer_run), the stream
 * supplying only how it takes messages and reports. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "ctl_client.h"
#include "ctl_proto.h"

#define ACK_WAIT_S 60
#define FETCH_WAIT_MS 500
#define REFRESH_MS 2000
#define RETRY_MS 500

void agent_consumer_init(struct agent_consumer *c, const char *stream,
			 const char *subject, const char *site)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->stream, sizeof(c->stream), "%s", stream);
	snprintf(c->subject, sizeof(c->subject), "%s", subject);
	snprintf(c->durable, sizeof(c->durable), "agent-%s", site);
}

/* The consumer's acknowledged floor (0 when it has none); -1 when the
 * stream itself is missing. */
static int ack_floor(struct agent *a, struct agent_consumer *c, uint64_t *v)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	*v = 0;
	if (js_GetConsumerInfo(&ci, a->fleet.js, c->stream, c->durable, NULL,
			       &jerr) == NATS_OK) {
		*v = ci->AckFloor.Stream;
		jsConsumerInfo_Destroy(ci);
	}
	return jerr == JSStreamNotFoundErr ? -1 : 0;
}

natsStatus agent_consumer_open(struct agent *a, struct agent_consumer *c,
			       uint64_t *applied)
{
	jsErrCode jerr = 0;
	uint64_t floor;
	if (ack_floor(a, c, &floor))
		return NATS_NOT_FOUND;   /* one request a try until it exists */
	if (floor > *applied)
		*applied = floor;        /* STATE lost: the consumer knows */
	/* a consumer left from before may hold deliveries to the dead
	 * agent unacknowledged until their ack wait ends */
	js_DeleteConsumer(a->fleet.js, c->stream, c->durable, NULL, &jerr);
	jsConsumerConfig cc;
	jsConsumerConfig_Init(&cc);
	cc.Name = c->durable;        /* with Name, the create request's
				      * subject names the filter, which the
				      * site permissions pin to its own */
	cc.Durable = c->durable;
	cc.FilterSubject = c->subject;
	cc.DeliverPolicy = js_DeliverByStartSequence;
	cc.OptStartSeq = *applied + 1;
	cc.AckPolicy = js_AckAll;
	cc.AckWait = (int64_t)ACK_WAIT_S * 1000000000;
	cc.MaxAckPending = 100000;
	jsConsumerInfo *ci = NULL;
	natsStatus s = js_AddConsumer(&ci, a->fleet.js, c->stream, &cc, NULL,
				      &jerr);
	if (s != NATS_OK)
		return s;
	jsConsumerInfo_Destroy(ci);
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = c->stream;
	so.Consumer = c->durable;
	return js_PullSubscribe(&c->sub, a->fleet.js, c->subject, c->durable,
				NULL, &so, &jerr);
}

void agent_consumer_close(struct agent_consumer *c)
{
	if (c->sub)
		natsSubscription_Destroy(c->sub);
	c->sub = NULL;
}

int agent_consumer_pending(struct agent *a, struct agent_consumer *c,
			   uint64_t *pending)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	if (js_GetConsumerInfo(&ci, a->fleet.js, c->stream, c->durable, NULL,
			       &jerr) != NATS_OK)
		return -1;
	*pending = ci->NumPending + (uint64_t)ci->NumAckPending;
	jsConsumerInfo_Destroy(ci);
	return 0;
}

int agent_call_daemon(struct agent *a, uint16_t cmd, const struct ps_out *body,
		      struct ps_ctl_reply *rep, const char *what)
{
	char err[256];
	int said = 0;
	while (ps_ctl_call(a->ctl, cmd, PS_CTL_F_JSON, body, rep, err,
			   sizeof(err))) {
		if (a->stop)
			return -1;
		if (!said++)
			fprintf(stderr, "parcelsort-agent: %s waits: %s\n", what,
				err);
		nats_Sleep(500);
	}
	return 0;
}

/* Made anew and subscribed: 0, or -1 (said once while it stays so). */
static int reopen(struct agent *a, const struct agent_stream *s, int *said)
{
	natsStatus st = agent_consumer_open(a, s->c, s->applied);
	if (st != NATS_OK) {
		if (!*said)
			fprintf(stderr, "parcelsort-agent: %s unavailable (%s: "
				"%s, or the credential may not use it); "
				"%sretrying\n", s->what, ps_fleet_error(st),
				s->missing, s->meanwhile);
		*said = 1;
		agent_consumer_close(s->c);
		nats_Sleep(RETRY_MS);
		return -1;
	}
	*said = 0;
	printf("parcelsort-agent: site %s, last %s revision handled %" PRIu64
	       "\n", a->site, s->noun, *s->applied);
	fflush(stdout);
	s->opened(s->self);
	return 0;
}

void agent_consumer_run(struct agent *a, const struct agent_stream *s)
{
	uint64_t last_refresh = 0;
	int said = 0, fresh = 0;
	while (!a->stop) {
		if (!s->c->sub && reopen(a, s, &said))
			continue;
		natsMsgList list = { 0 };
		jsErrCode jerr = 0;
		natsStatus st = natsSubscription_Fetch(&list, s->c->sub,
						       s->fetch_batch,
						       FETCH_WAIT_MS, &jerr);
		int stopping = list.Count &&
			       s->take(s->self, list.Msgs, list.Count);
		fresh += list.Count;
		natsMsgList_Destroy(&list);
		if (stopping)
			break;           /* what was not handled stays unacked */
		if (st != NATS_OK && st != NATS_TIMEOUT) {
			agent_consumer_close(s->c);   /* anew next round */
			nats_Sleep(250);
		}
		uint64_t now = ps_fleet_now_ms();
		if (now - last_refresh >= REFRESH_MS ||
		    (fresh && st == NATS_TIMEOUT)) {
			s->refresh(s->self);
			last_refresh = now;
			fresh = 0;
		}
	}
	agent_consumer_close(s->c);
}
