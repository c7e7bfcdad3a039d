/* agent_plans.c: the site agent's plan side. It watches site.ID in the
 * plan bucket (and reads the key every few seconds as well, in case a
 * watcher stalls across a failover), commits every revision newer than
 * the last one it handled through the daemon's control socket, exactly as
 * `parcelsortctl plan load` does, and reports the outcome to the status
 * bucket. The last handled revision is kept in the state directory and in
 * the daemon's own plan history ("fleet revision N"), so a restarted agent
 * never applies an older revision again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ctl_client.h"
#include "ctl_proto.h"

#define ORIGIN_PREFIX "fleet revision "
#define RECHECK_MS 2000
#define POLL_MS 250                     /* --no-watch */
#define HEARTBEAT_MS 2000

/* The highest fleet revision in the daemon's plan history, 0 if none. */
static uint64_t history_revision(const struct agent *a)
{
	struct ps_out body;
	struct ps_ctl_reply rep;
	char err[256];
	uint64_t best = 0;
	ps_out_init(&body);
	if (ps_ctl_call(a->ctl, PS_CTL_PLAN_HISTORY, PS_CTL_F_JSON, &body,
			&rep, err, sizeof(err)) == 0) {
		const char *p = rep.body;
		while ((p = strstr(p, "\"origin\":\"" ORIGIN_PREFIX))) {
			p += strlen("\"origin\":\"" ORIGIN_PREFIX);
			uint64_t r = strtoull(p, NULL, 10);
			best = r > best ? r : best;
		}
		ps_ctl_reply_free(&rep);
	} else {
		fprintf(stderr, "parcelsort-agent: %s\n", err);
	}
	ps_out_free(&body);
	return best;
}

int agent_plans_init(struct agent *a, char *err, size_t errlen)
{
	char buf[64];
	(void)err;
	(void)errlen;
	a->applied_rev = 0;
	if (agent_state_read(a, "applied", buf, sizeof(buf)) == 0)
		a->applied_rev = strtoull(buf, NULL, 10);
	uint64_t h = history_revision(a);
	if (h > a->applied_rev)
		a->applied_rev = h;
	snprintf(a->last_outcome, sizeof(a->last_outcome), "%s",
		 a->applied_rev ? "resumed" : "waiting");
	printf("parcelsort-agent: site %s, last revision handled %" PRIu64 "\n",
	       a->site, a->applied_rev);
	fflush(stdout);
	return 0;
}

static uint64_t ld(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

void agent_put_status(struct agent *a)
{
	struct ps_out o;
	ps_out_init(&o);
	ps_out_printf(&o, "{\"site\":\"%s\",\"revision\":%" PRIu64 ","
		      "\"outcome\":\"%s\",\"plan_version\":%u%s%s,"
		      "\"heartbeat_ms\":%" PRIu64 ",\"agent_started_ms\":%"
		      PRIu64, a->site, a->applied_rev, a->last_outcome,
		      a->plan_version, a->status_extra.len ? "," : "",
		      a->status_extra.len ? a->status_extra.buf : "",
		      ps_fleet_now_ms(), a->started_ms);
	if (a->spool_dir)
		ps_out_printf(&o, ",\"events\":{\"published\":%" PRIu64
			      ",\"blocks\":%" PRIu64 ",\"retries\":%" PRIu64
			      ",\"skipped_blocks\":%" PRIu64
			      ",\"backlog_bytes\":%" PRIu64 ",\"torn_blocks\":%"
			      PRIu64 "}", ld(&a->ev_published),
			      ld(&a->ev_blocks), ld(&a->ev_retries),
			      ld(&a->ev_skipped), ld(&a->ev_backlog),
			      ld(&a->ev_torn));
	pthread_mutex_lock(&a->holds_lock);
	if (a->holds_status.len) {
		ps_out_write(&o, ",", 1);
		ps_out_write(&o, a->holds_status.buf, a->holds_status.len);
	}
	if (a->manifest_status.len) {
		ps_out_write(&o, ",", 1);
		ps_out_write(&o, a->manifest_status.buf,
			     a->manifest_status.len);
	}
	pthread_mutex_unlock(&a->holds_lock);
	ps_out_write(&o, "}", 1);
	ps_out_write(&o, "", 1);
	char key[PS_FLEET_SITE_MAX + 8];
	ps_fleet_key(key, sizeof(key), a->site);
	if (!o.oom) {
		natsStatus s = kvStore_PutString(NULL, a->fleet.status, key,
						 o.buf);
		if (s != NATS_OK)
			fprintf(stderr, "parcelsort-agent: status not "
				"reported: %s\n", ps_fleet_error(s));
	}
	ps_out_free(&o);
}

void agent_json_lines(struct ps_out *o, const char *text)
{
	ps_out_write(o, "[", 1);
	int first = 1;
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		if (n) {
			char line[512];
			snprintf(line, sizeof(line), "%.*s", (int)n, text);
			if (!first)
				ps_out_write(o, ",", 1);
			ps_out_json_str(o, line);
			first = 0;
		}
		text += n + (nl != NULL);
	}
	ps_out_write(o, "]", 1);
}

void agent_set_status_part(struct agent *a, struct ps_out *part,
			   struct ps_out *o)
{
	pthread_mutex_lock(&a->holds_lock);
	ps_out_free(part);
	*part = *o;
	pthread_mutex_unlock(&a->holds_lock);
	__atomic_store_n(&a->holds_dirty, 1, __ATOMIC_RELEASE);
}

/* Send the plan to the daemon until it answers (or the agent stops). */
static int load_plan(struct agent *a, const char *file, const char *text,
		     size_t len, uint64_t rev, struct ps_ctl_reply *rep)
{
	struct ps_out body;
	char origin[64], err[256];
	ps_out_init(&body);
	ps_ctl_args(&body, file);
	ps_ctl_arg(&body, text, len);
	ps_ctl_args(&body, "0");
	snprintf(origin, sizeof(origin), ORIGIN_PREFIX "%" PRIu64, rev);
	ps_ctl_args(&body, origin);
	int reported = 0, rc;
	while ((rc = ps_ctl_call(a->ctl, PS_CTL_PLAN_LOAD, 0, &body, rep, err,
				 sizeof(err))) != 0 && !a->stop) {
		if (!reported) {
			fprintf(stderr, "parcelsort-agent: revision %" PRIu64
				" waits: %s\n", rev, err);
			snprintf(a->last_outcome, sizeof(a->last_outcome),
				 "daemon unreachable");
			agent_put_status(a);
			reported = 1;
		}
		nats_Sleep(500);
	}
	ps_out_free(&body);
	return rc;
}

/* With --trust: is the entry a plan signed for this site by a trusted
 * key, following a revision not older than the last handled? If not, the
 * refusal goes into x and the daemon never sees it. */
static int untrusted(struct agent *a, const char *text, size_t *len,
		     uint64_t rev, struct ps_out *x)
{
	char why[256], file[128];
	uint64_t pushed;
	if (!a->trust.n)
		return 0;
	if (ps_sign_verify(text, *len, "plan", a->site, a->applied_rev,
			   &a->trust, len, why, sizeof(why)) == 0)
		return 0;
	ps_fleet_trailer_parse(text, *len, file, sizeof(file), &pushed);
	snprintf(a->last_outcome, sizeof(a->last_outcome), "refused");
	ps_out_printf(x, "\"file\":");
	ps_out_json_str(x, file);
	ps_out_printf(x, ",\"refused_by\":\"agent\",\"errors\":[");
	char line[300];
	snprintf(line, sizeof(line), "signature: %s", why);
	ps_out_json_str(x, line);
	ps_out_write(x, "]", 1);
	printf("parcelsort-agent: revision %" PRIu64 " (%s): refused, the "
	       "daemon keeps its plan: %s\n", rev, file, why);
	return 1;
}

static void apply(struct agent *a, kvEntry *e)
{
	uint64_t rev = kvEntry_Revision(e);
	if (rev <= a->applied_rev)
		return;
	struct ps_out x;
	ps_out_init(&x);
	if (kvEntry_Operation(e) != kvOp_Put) {
		snprintf(a->last_outcome, sizeof(a->last_outcome), "deleted");
		printf("parcelsort-agent: revision %" PRIu64 ": the site's plan "
		       "was deleted from the bucket; the active plan stays\n",
		       rev);
	} else {
		const char *text = kvEntry_Value(e);
		size_t len = (size_t)kvEntry_ValueLen(e);
		if (untrusted(a, text, &len, rev, &x))
			goto handled;
		char file[128];
		uint64_t pushed;
		ps_fleet_trailer_parse(text, len, file, sizeof(file), &pushed);
		struct ps_ctl_reply rep;
		if (load_plan(a, file, text, len, rev, &rep)) {
			ps_out_free(&x);
			return;               /* stopping */
		}
		uint64_t now = ps_fleet_now_ms();
		ps_out_printf(&x, "\"file\":");
		ps_out_json_str(&x, file);
		ps_out_printf(&x, ",\"pushed_ms\":%" PRIu64 ",\"applied_ms\":%"
			      PRIu64 ",\"latency_ms\":%" PRId64, pushed, now,
			      pushed ? (int64_t)(now - pushed) : -1);
		unsigned v = 0;
		if (rep.status == PS_CTL_OK &&
		    sscanf(rep.body, "committed version %u", &v) == 1) {
			a->plan_version = v;
			snprintf(a->last_outcome, sizeof(a->last_outcome),
				 "active");
		} else {
			snprintf(a->last_outcome, sizeof(a->last_outcome),
				 "%s", rep.status == PS_CTL_ERR_REFUSED
				 ? "refused" : "error");
			ps_out_printf(&x, ",\"errors\":");
			agent_json_lines(&x, rep.body);
		}
		printf("parcelsort-agent: revision %" PRIu64 " (%s): %s",
		       rev, file, a->last_outcome);
		if (v)
			printf(" as plan version %u, %" PRId64 " ms after the "
			       "push", v, pushed ? (int64_t)(now - pushed) : -1);
		printf("\n");
		ps_ctl_reply_free(&rep);
	}
handled:
	ps_out_free(&a->status_extra);
	a->status_extra = x;            /* the record's members, whole */
	a->applied_rev = rev;
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", rev);
	if (agent_state_write(a, "applied", buf))
		fprintf(stderr, "parcelsort-agent: cannot save the applied "
			"revision in %s\n", a->state_dir);
	agent_put_status(a);
	fflush(stdout);
}

/* Read the key directly: the watcher's safety net. */
static void recheck(struct agent *a, const char *key)
{
	kvEntry *e = NULL;
	if (kvStore_Get(&e, a->fleet.plans, key) == NATS_OK && e) {
		apply(a, e);
		kvEntry_Destroy(e);
	}
}

void agent_plans_run(struct agent *a)
{
	char key[PS_FLEET_SITE_MAX + 8];
	ps_fleet_key(key, sizeof(key), a->site);
	kvWatcher *w = NULL;
	uint64_t last_check = 0, last_beat = 0;
	agent_put_status(a);
	while (!a->stop) {
		if (!w && !a->no_watch &&
		    kvStore_Watch(&w, a->fleet.plans, key, NULL) != NATS_OK)
			w = NULL;
		kvEntry *e = NULL;
		natsStatus s = w ? kvWatcher_Next(&e, w, 250) : NATS_TIMEOUT;
		if (!w)
			nats_Sleep(250);
		if (s == NATS_OK && e) {
			apply(a, e);
			kvEntry_Destroy(e);
		} else if (s != NATS_OK && s != NATS_TIMEOUT) {
			kvWatcher_Destroy(w);     /* made anew next round */
			w = NULL;
		}
		uint64_t now = ps_fleet_now_ms();
		if (now - last_check >= (a->no_watch ? POLL_MS : RECHECK_MS)) {
			recheck(a, key);
			last_check = now;
		}
		if (now - last_beat >= HEARTBEAT_MS ||
		    __atomic_exchange_n(&a->holds_dirty, 0, __ATOMIC_ACQ_REL)) {
			agent_put_status(a);
			last_beat = now;
		}
	}
	if (w)
		kvWatcher_Destroy(w);
	agent_put_status(a);
}
