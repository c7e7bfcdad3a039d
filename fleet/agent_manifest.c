/* agent_manifest.c: the site agent's manifest side. It consumes the
 * site's pre-advice batches (parcelsortctl fleet manifest push) from its
 * stream PARCELSORT_MANIFEST_SITE through the durable pull consumer
 * agent-SITE, in stream order (agent_consumer_run), and applies the
 * batches of one fetch that pass their checks, consecutive and of one
 * push (one file: the daemon parses the parts of a load as one file, so
 * a second push's `waybill,region` header would be a bad line in it), as
 * ONE `manifest load` through the daemon's control
 * socket (begin NAME 0, a part TOKEN FIRST_LINE TEXT per batch, commit
 * TOKEN; abort when a part is refused): the daemon pays its per-load cost
 * once for up to 64 MB of batches. When such a load is refused, its
 * batches go again one load each, so that a refusal is the bad batch's
 * alone, as if each had been applied on its own. A batch's fleet manifest
 * revision is its stream sequence. After a load (applied or refused: a
 * refusal is reported, never retried) the agent saves the last revision
 * and its counts in STATE/manifest_applied and acknowledges the last
 * message (ack-all: the ones before it too); a load the daemon lost
 * midway, to another load begun meanwhile or to a restart, is begun
 * again, not counted as a refusal, and so is one the daemon refused to
 * begin because another load (an operator's) is under way: nothing is
 * acknowledged until it is applied, and meanwhile the status's outcome
 * is "busy". At start it resumes after the higher
 * of that file and the consumer's acknowledged floor, so a batch is
 * applied once. Before applying, each batch's CRC-32 is checked, and,
 * started with --trust, its signature (fleet_manifest.h, ps_man_verify):
 * signed by a trusted key, as a manifest, for this site, following a
 * revision not older than the last one handled and older than its own.
 * The outcome, the counts, the lag (batches not yet handled, and
 * push-to-applied time) and the daemon's entry count go into the site's
 * status record. docs/fleet.md, "Manifests". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ctl_client.h"
#include "ctl_proto.h"
#include "fleet_holds.h"
#include "fleet_manifest.h"

#define BATCHES_MAX PS_MAN_LOAD_BATCHES   /* a load's, at most */

struct man {
	struct agent *a;
	struct agent_consumer c;
	uint64_t applied;        /* the last revision handled */
	uint64_t batches, entries, refused;   /* since the state began */
	uint64_t added, replaced;             /* the last batch's */
	char outcome[16], name[128];
	uint64_t applied_ms, lag_ms, pending, daemon_entries;
	struct ps_out errors;    /* the last refusal's lines */
};

/* ---------------------------------------------------------- the daemon */

static int step(struct man *m, const char *a0, const char *a1, const char *a2,
		const char *text, size_t n, struct ps_ctl_reply *rep)
{
	struct ps_out body;
	ps_out_init(&body);
	ps_ctl_args(&body, a0);
	ps_ctl_args(&body, a1);
	if (a2)
		ps_ctl_args(&body, a2);
	if (text)
		ps_ctl_arg(&body, text, n);
	int rc = agent_call_daemon(m->a, PS_CTL_MANIFEST_LOAD, &body, rep,
				   "manifest batch");
	ps_out_free(&body);
	return rc;
}

/* A refusal's lines, from {"errors":[...]} or {"error":"..."}. */
static void take_errors(struct man *m, const char *prefix, const char *body)
{
	struct ps_out lines;
	char one[512];
	ps_out_init(&lines);
	ps_out_free(&m->errors);
	ps_out_init(&m->errors);
	if (ps_json_str_array(body, "errors", &lines) == 0 && lines.len) {
		ps_out_write(&lines, "", 1);
		for (char *l = lines.buf, *nl; (nl = strchr(l, '\n')); l = nl + 1)
			ps_out_printf(&m->errors, "%s%.*s\n", prefix,
				      (int)(nl - l), l);
	} else if (ps_json_str(body, "error", one, sizeof(one)) == 0) {
		ps_out_printf(&m->errors, "%s%s\n", prefix, one);
	} else {
		ps_out_printf(&m->errors, "%s%.300s\n", prefix, body);
	}
	ps_out_free(&lines);
}

/* Consecutive batches that passed their checks, of one push (and so of
 * one file name): one load. */
struct group {
	int n;
	natsMsg *msg[BATCHES_MAX];
	uint64_t seq[BATCHES_MAX];
	struct ps_man_batch b[BATCHES_MAX];
	uint64_t lines[BATCHES_MAX], ms[BATCHES_MAX];   /* each part's */
};

static const char *text_of(natsMsg *msg, size_t *n)
{
	const char *text = natsMsg_GetData(msg);
	*n = (size_t)natsMsg_GetDataLength(msg);
	return text ? text : "";
}

/* The group's batches as parts of the load of token: 0 with the last
 * reply in rep (OK, or the refusal of a part, the load aborted), -1
 * stopping. */
static int send_parts(struct man *m, struct group *g, const char *token,
		      struct ps_ctl_reply *rep)
{
	char first[16];
	for (int i = 0; i < g->n; i++) {
		size_t n;
		const char *text = text_of(g->msg[i], &n);
		uint64_t t0 = ps_fleet_now_ms();
		snprintf(first, sizeof(first), "%u", g->b[i].first_line);
		if (step(m, "part", token, first, text, n, rep))
			return -1;
		g->ms[i] = ps_fleet_now_ms() - t0;
		g->lines[i] = 0;
		if (rep->status != PS_CTL_OK) {
			struct ps_ctl_reply ab;
			if (!step(m, "abort", token, NULL, NULL, 0, &ab))
				ps_ctl_reply_free(&ab);
			return 0;
		}
		ps_json_u64(rep->body, "lines", &g->lines[i]);
		if (i + 1 < g->n)
			ps_ctl_reply_free(rep);
	}
	return 0;
}

/* One try of the group as one manifest load: 0 with the last reply in
 * rep (the commit's answer, or the refusal), -1 stopping. */
static int load_once(struct man *m, struct group *g, struct ps_ctl_reply *rep)
{
	char token[32] = "";
	if (step(m, "begin", g->b[0].name, "0", NULL, 0, rep))
		return -1;
	const char *p = rep->status == PS_CTL_OK
		      ? strstr(rep->body, "\"token\":\"") : NULL;
	if (p)
		snprintf(token, sizeof(token), "%.*s", (int)strcspn(p + 9, "\""),
			 p + 9);
	if (rep->status == PS_CTL_OK && !*token)
		rep->status = PS_CTL_ERR_INTERNAL;   /* no token: refused */
	if (rep->status != PS_CTL_OK)
		return 0;
	ps_ctl_reply_free(rep);
	if (send_parts(m, g, token, rep))
		return -1;
	if (rep->status != PS_CTL_OK)
		return 0;
	ps_ctl_reply_free(rep);
	uint64_t t0 = ps_fleet_now_ms();
	if (step(m, "commit", token, NULL, NULL, 0, rep))
		return -1;
	g->ms[g->n - 1] += ps_fleet_now_ms() - t0;
	return 0;
}

/* The daemon no longer has the load the batch was going into: another
 * load began meanwhile (the daemon keeps one under way: an operator's
 * `manifest load`), or the daemon restarted between two steps. Not the
 * batch's fault: it goes again from begin. */
static int load_lost(const struct ps_ctl_reply *rep)
{
	return rep->status != PS_CTL_OK && rep->body &&
	       strstr(rep->body, "no such manifest load under way");
}

/* The daemon refused the begin because another load is under way (an
 * operator's `parcelsortctl manifest load`, {"error":...,"busy":true}):
 * not the batch's fault either; it goes again once that load is done. */
static int load_busy(const struct ps_ctl_reply *rep)
{
	return rep->status != PS_CTL_OK && rep->body &&
	       strstr(rep->body, "\"busy\":true");
}

static void say_busy(const struct group *g, const struct ps_ctl_reply *rep)
{
	char why[512] = "another manifest load is under way";
	ps_json_str(rep->body, "error", why, sizeof(why));
	fprintf(stderr, "parcelsort-agent: manifest %s batch %u of %u: the "
		"daemon is busy: %s; waiting to begin again\n", g->b[0].name,
		g->b[0].index + 1, g->b[0].count, why);
}

static void refresh(void *self);

/* While the daemon is busy, the site's status says so (outcome "busy",
 * the daemon's message naming the load under way in its errors) and its
 * lag stays current: the site's manifest is waiting, not stuck unseen. */
static void show_busy(struct man *m, const struct group *g,
		      const struct ps_ctl_reply *rep)
{
	snprintf(m->outcome, sizeof(m->outcome), "busy");
	snprintf(m->name, sizeof(m->name), "%s", g->b[0].name);
	take_errors(m, "", rep->body);
	refresh(m);
}

/* The group as one manifest load, begun again while the daemon loses the
 * load under way or is busy with another (waiting a little longer each
 * time, up to 5 s): its batches are acknowledged only once the daemon
 * committed or refused it. 0 with the daemon's last answer in rep, -1
 * stopping. */
static int apply(struct man *m, struct group *g, struct ps_ctl_reply *rep)
{
	int said_lost = 0, said_busy = 0;
	for (int tries = 1;; tries++) {
		if (load_once(m, g, rep))
			return -1;
		int busy = load_busy(rep);
		if (!busy && !load_lost(rep))
			return 0;
		if (busy && !said_busy++)
			say_busy(g, rep);
		if (busy)
			show_busy(m, g, rep);
		if (!busy && !said_lost++)
			fprintf(stderr, "parcelsort-agent: manifest %s batch %u "
				"of %u: the daemon lost its load under way "
				"(another load began, or it restarted); "
				"beginning again\n", g->b[0].name,
				g->b[0].index + 1, g->b[0].count);
		ps_ctl_reply_free(rep);
		nats_Sleep(tries < 25 ? 200 * tries : 5000);
		if (m->a->stop)
			return -1;
	}
}

/* The daemon's answer to the group's load into the counts and outcome. */
static void take_outcome(struct man *m, struct group *g,
			 const struct ps_ctl_reply *rep)
{
	snprintf(m->name, sizeof(m->name), "%s", g->b[g->n - 1].name);
	if (rep->status == PS_CTL_OK) {
		uint64_t lines = 0;
		ps_json_u64(rep->body, "lines", &lines);
		ps_json_u64(rep->body, "added", &m->added);
		ps_json_u64(rep->body, "replaced", &m->replaced);
		ps_json_u64(rep->body, "entries", &m->daemon_entries);
		m->entries += lines;
		m->batches += (uint64_t)g->n;
		snprintf(m->outcome, sizeof(m->outcome), "applied");
		ps_out_free(&m->errors);
		ps_out_init(&m->errors);
	} else {
		snprintf(m->outcome, sizeof(m->outcome), "refused");
		m->refused++;
		take_errors(m, "", rep->body ? rep->body : "");
	}
	const struct ps_man_batch *last = &g->b[g->n - 1];
	uint64_t now = ps_fleet_now_ms();
	if (last->pushed_ms && now > last->pushed_ms)
		m->lag_ms = now - last->pushed_ms;
}

static void refresh_daemon(struct man *m)
{
	struct ps_out body;
	struct ps_ctl_reply rep;
	char err[256];
	ps_out_init(&body);
	if (ps_ctl_call(m->a->ctl, PS_CTL_MANIFEST_STATS, PS_CTL_F_JSON, &body,
			&rep, err, sizeof(err)) == 0) {
		if (rep.status == PS_CTL_OK)
			ps_json_u64(rep.body, "entries", &m->daemon_entries);
		ps_ctl_reply_free(&rep);
	}
	ps_out_free(&body);
}

/* ---------------------------------------------------------- reporting */

static void report(struct man *m)
{
	struct ps_out o;
	ps_out_init(&o);
	ps_out_printf(&o, "\"manifest\":{\"manifest_revision\":%" PRIu64
		      ",\"manifest_outcome\":\"%s\",\"manifest_name\":",
		      m->applied, m->outcome);
	ps_out_json_str(&o, m->name);
	ps_out_printf(&o, ",\"manifest_batches\":%" PRIu64
		      ",\"manifest_entries\":%" PRIu64
		      ",\"manifest_refused\":%" PRIu64
		      ",\"manifest_added\":%" PRIu64
		      ",\"manifest_replaced\":%" PRIu64
		      ",\"manifest_lag\":%" PRIu64 ",\"manifest_lag_ms\":%" PRIu64
		      ",\"manifest_applied_ms\":%" PRIu64
		      ",\"daemon_manifest_entries\":%" PRIu64
		      ",\"manifest_errors\":", m->batches, m->entries,
		      m->refused, m->added, m->replaced, m->pending, m->lag_ms,
		      m->applied_ms, m->daemon_entries);
	ps_out_write(&m->errors, "", 1);
	agent_json_lines(&o, m->errors.buf);
	m->errors.len--;                 /* the NUL added above */
	ps_out_write(&o, "}", 1);
	agent_set_status_part(m->a, &m->a->manifest_status, &o);
}

/* The batch in msg (revision seq) is handled: save, acknowledge, say. */
static void handled(struct man *m, natsMsg *msg, uint64_t seq)
{
	char buf[128];
	m->applied = seq;
	m->applied_ms = ps_fleet_now_ms();
	snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64 " %" PRIu64 " %"
		 PRIu64 "\n", seq, m->batches, m->entries, m->refused);
	if (agent_state_write(m->a, "manifest_applied", buf))
		fprintf(stderr, "parcelsort-agent: cannot save the applied "
			"manifest revision in %s\n", m->a->state_dir);
	natsMsg_AckSync(msg, NULL, NULL);
}

static void refuse(struct man *m, const char *why)
{
	snprintf(m->outcome, sizeof(m->outcome), "refused");
	m->refused++;
	ps_out_free(&m->errors);
	ps_out_init(&m->errors);
	ps_out_printf(&m->errors, "%s\n", why);
	fprintf(stderr, "parcelsort-agent: manifest: %s\n", why);
}

/* ------------------------------------------------------------ batches */

/* The checks before the daemon sees a batch delivered as seq, the
 * revision before it being after: 0, or -1 with why (refused). */
static int checked(struct man *m, natsMsg *msg, struct ps_man_batch *b,
		   uint64_t seq, uint64_t after, char *why, size_t whylen)
{
	char sig_why[384];
	size_t n;
	const char *text = text_of(msg, &n);
	if (ps_man_batch_get(msg, b)) {
		snprintf(why, whylen, "revision %" PRIu64 ": a manifest batch "
			 "with missing or bad headers", seq);
		return -1;
	}
	uint32_t crc = ps_crc32(0, text, n);
	if (crc != b->crc) {
		snprintf(why, whylen, "%s batch %u of %u: CRC-32 %08x where "
			 "%08x was announced", b->name, b->index + 1, b->count,
			 crc, b->crc);
		return -1;
	}
	if (!m->a->trust.n)
		return 0;
	const char *line = NULL;
	natsMsgHeader_Get(msg, PS_MAN_H_SIG, &line);
	if (ps_man_verify(line, b, text, n, m->a->site, after, seq,
			  &m->a->trust, sig_why, sizeof(sig_why)) == 0)
		return 0;
	snprintf(why, whylen, "%s batch %u of %u: signature: %s", b->name,
		 b->index + 1, b->count, sig_why);
	return -1;
}

static void say_applied(const struct man *m, const struct group *g)
{
	for (int i = 0; i < g->n; i++)
		if (!strcmp(m->outcome, "applied"))
			printf("parcelsort-agent: manifest revision %" PRIu64
			       " (%s batch %u of %u): %" PRIu64 " lines applied "
			       "in %" PRIu64 " ms\n", g->seq[i], g->b[i].name,
			       g->b[i].index + 1, g->b[i].count, g->lines[i],
			       g->ms[i]);
		else
			fprintf(stderr, "parcelsort-agent: manifest revision %"
				PRIu64 " refused\n", g->seq[i]);
	fflush(stdout);
}

/* The group applied as one load, or, refused with more than one batch,
 * each batch as a load of its own; handled, acknowledged, emptied. 0, or
 * -1 stopping (nothing acknowledged). */
static int flush(struct man *m, struct group *g)
{
	struct ps_ctl_reply rep;
	if (!g->n)
		return 0;
	if (apply(m, g, &rep))
		return -1;
	if (rep.status != PS_CTL_OK && g->n > 1) {
		ps_ctl_reply_free(&rep);
		for (int i = 0; i < g->n; i++) {
			struct group one = { .n = 1, .msg = { g->msg[i] },
					     .seq = { g->seq[i] },
					     .b = { g->b[i] } };
			if (flush(m, &one))
				return -1;
		}
		g->n = 0;
		return 0;
	}
	take_outcome(m, g, &rep);
	ps_ctl_reply_free(&rep);
	handled(m, g->msg[g->n - 1], g->seq[g->n - 1]);
	say_applied(m, g);
	g->n = 0;
	return 0;
}

static uint64_t seq_of(natsMsg *msg)
{
	jsMsgMetaData *meta = NULL;
	if (natsMsg_GetMetaData(&meta, msg) != NATS_OK)
		return 0;
	uint64_t seq = meta->Sequence.Stream;
	jsMsgMetaData_Destroy(meta);
	return seq;
}

/* The batches of one fetch, in order: the good ones gathered into
 * groups, a batch failing its checks refused on its own between them. */
static int take_all(void *self, natsMsg **msgs, int count)
{
	struct man *m = self;
	struct group g = { .n = 0 };
	uint64_t last = m->applied;
	char why[512];
	for (int i = 0; i < count; i++) {
		uint64_t seq = seq_of(msgs[i]);
		struct ps_man_batch b = { .index = 0 };
		if (!seq || seq <= last)
			continue;        /* delivered again: handled already */
		if (checked(m, msgs[i], &b, seq, last, why, sizeof(why))) {
			if (flush(m, &g))
				return -1;
			if (b.name[0])
				snprintf(m->name, sizeof(m->name), "%s", b.name);
			refuse(m, why);
			handled(m, msgs[i], seq);
			fprintf(stderr, "parcelsort-agent: manifest revision %"
				PRIu64 " refused\n", seq);
		} else {
			if ((g.n && (strcmp(g.b[0].push, b.push) ||
				     strcmp(g.b[0].name, b.name))) ||
			    g.n == BATCHES_MAX)
				if (flush(m, &g))
					return -1;
			g.msg[g.n] = msgs[i];
			g.seq[g.n] = seq;
			g.b[g.n++] = b;
		}
		last = seq;
	}
	return flush(m, &g);
}

/* ------------------------------------------------------------- thread */

static void init(struct man *m, struct agent *a)
{
	char buf[128], stream[PS_FLEET_SITE_MAX + 32];
	char subject[PS_FLEET_SITE_MAX + 32];
	memset(m, 0, sizeof(*m));
	m->a = a;
	ps_out_init(&m->errors);
	ps_man_stream(stream, sizeof(stream), a->site);
	ps_man_subject(subject, sizeof(subject), a->site);
	agent_consumer_init(&m->c, stream, subject, a->site);
	snprintf(m->outcome, sizeof(m->outcome), "waiting");
	if (agent_state_read(a, "manifest_applied", buf, sizeof(buf)) == 0 &&
	    sscanf(buf, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		   &m->applied, &m->batches, &m->entries, &m->refused) >= 1 &&
	    m->applied)
		snprintf(m->outcome, sizeof(m->outcome), "resumed");
}

static void refresh(void *self)
{
	struct man *m = self;
	uint64_t p;
	refresh_daemon(m);
	if (m->c.sub && agent_consumer_pending(m->a, &m->c, &p) == 0)
		m->pending = p;
	report(m);
}

void *agent_manifest_run(void *arg)
{
	struct man m;
	init(&m, arg);
	struct agent_stream s = {
		.c = &m.c, .applied = &m.applied, .noun = "manifest",
		.what = "manifests",
		.missing = "no manifest stream for the site yet",
		.meanwhile = "", .fetch_batch = ps_man_load_batches(
			natsConnection_GetMaxPayload(m.a->fleet.nc)),
		.self = &m,
		.opened = refresh, .take = take_all, .refresh = refresh,
	};
	agent_consumer_run(m.a, &s);
	ps_out_free(&m.errors);
	return NULL;
}
