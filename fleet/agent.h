/* agent.h: parcelsort-agent, the fleet's site agent: a small process
 * beside one parcelsortd. One thread watches the site's key in the plan
 * bucket and commits each new revision through the daemon's control socket
 * (the same path as `parcelsortctl plan load`), reporting the outcome to
 * the status bucket; another publishes the daemon's event spool to the
 * JetStream stream. The two share this state. */
#ifndef PS_AGENT_H
#define PS_AGENT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "fleet.h"
#include "fleet_sign.h"

struct agent {
	/* configuration */
	char site[PS_FLEET_SITE_MAX + 1];
	const char *ctl;                /* the daemon's control socket */
	char state_dir[PATH_MAX];
	const char *spool_dir;          /* NULL: no event export */
	unsigned window;                /* blocks in flight */
	struct ps_trust trust;          /* --trust: signed plans only */
	int no_watch;                   /* --no-watch: read the key often */
	struct ps_fleet fleet;
	volatile int stop;
	uint64_t started_ms;

	/* plans (the plan thread's) */
	uint64_t applied_rev;           /* last revision handled */
	char last_outcome[32];
	uint32_t plan_version;
	struct ps_out status_extra;     /* file, times, errors: JSON members
					 * of the status record */

	/* events (written by the event thread, relaxed atomics) */
	volatile int pub_failed;        /* set by the ack error handler */
	uint64_t ev_published, ev_blocks, ev_retries, ev_skipped;
	uint64_t ev_backlog, ev_torn;
	int ev_connected;

	/* holds (agent_holds.c's thread): its status member, a JSON
	 * "holds":{...}, under holds_lock; holds_dirty asks the plan thread
	 * to report it soon */
	pthread_mutex_t holds_lock;
	struct ps_out holds_status;
	int holds_dirty;

	/* manifests (agent_manifest.c's thread): its status member, a
	 * JSON "manifest":{...}, under holds_lock too; holds_dirty asks
	 * for a report as well */
	struct ps_out manifest_status;
};

/* agent_consumer.c: a durable pull consumer agent-SITE on stream,
 * filtered on subject */
struct agent_consumer {
	char stream[PS_FLEET_SITE_MAX + 32];
	char subject[PS_FLEET_SITE_MAX + 32];
	char durable[PS_FLEET_SITE_MAX + 16];
	natsSubscription *sub;
};
void agent_consumer_init(struct agent_consumer *c, const char *stream,
			 const char *subject, const char *site);
/* Made anew to deliver from *applied + 1 (raised to the consumer's
 * acknowledged floor when that is higher), and subscribed. */
natsStatus agent_consumer_open(struct agent *a, struct agent_consumer *c,
			       uint64_t *applied);
void agent_consumer_close(struct agent_consumer *c);
/* Messages not yet delivered or not yet acknowledged: 0, or -1. */
int agent_consumer_pending(struct agent *a, struct agent_consumer *c,
			   uint64_t *pending);
/* What one stream supplies to agent_consumer_run: its consumer, the
 * revision it last handled, and its own parts. */
struct agent_stream {
	struct agent_consumer *c;
	uint64_t *applied;              /* the last revision handled */
	const char *noun;               /* "hold", "manifest": log lines */
	const char *what;               /* "hold operations": log lines */
	const char *missing;            /* "no hold stream yet" */
	const char *meanwhile;          /* said before "retrying" */
	int fetch_batch;                /* messages a fetch at most */
	void *self;
	/* the consumer was made anew, delivering after *applied */
	void (*opened)(void *self);
	/* the messages of one fetch, in stream order: 0, or -1 stopping */
	int (*take)(void *self, natsMsg **msgs, int n);
	/* every 2 s, and once the stream went quiet after deliveries */
	void (*refresh)(void *self);
};
/* The loop of one stream's thread until the agent stops: (re)make the
 * consumer while it is unavailable, fetch, hand the messages over,
 * refresh. Closes the consumer when done. */
void agent_consumer_run(struct agent *a, const struct agent_stream *s);
/* One control call, retried every 0.5 s while the daemon is unreachable
 * (said once, as "WHAT waits"). 0, or -1 when the agent stops meanwhile. */
struct ps_ctl_reply;
int agent_call_daemon(struct agent *a, uint16_t cmd, const struct ps_out *body,
		      struct ps_ctl_reply *rep, const char *what);

/* agent_plans.c */
int agent_plans_init(struct agent *a, char *err, size_t errlen);
void agent_plans_run(struct agent *a);
void agent_put_status(struct agent *a);
/* TEXT's non-empty lines as a JSON array of strings (NULL: []). */
void agent_json_lines(struct ps_out *o, const char *text);
/* Replace a part of the status record (holds, manifest) with O, taken
 * over, and have the next heartbeat publish it. */
void agent_set_status_part(struct agent *a, struct ps_out *part,
			   struct ps_out *o);

/* agent_events.c */
void *agent_events_run(void *arg);
void agent_on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure);

/* agent_holds.c */
void *agent_holds_run(void *arg);

/* agent_manifest.c */
void *agent_manifest_run(void *arg);

/* agent_state.c: small files in the state directory, replaced atomically */
int agent_state_read(const struct agent *a, const char *name, char *buf,
		     size_t n);
int agent_state_write(const struct agent *a, const char *name,
		      const char *text);

#endif
