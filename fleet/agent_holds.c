/* agent_holds.c: the site agent's hold side. It consumes the site's hold
 * operations (parcelsortctl fleet hold add|del|load) from the stream
 * PARCELSORT_HOLDS, subject parcelsort.holds.SITE, through a durable pull
 * consumer, in stream order, and applies each through the daemon's
 * control socket: add and del as `hold add` / `hold del`, a load (its
 * chunks reassembled and checked first) as ONE `hold load` in parts, so
 * the site swaps its whole list at once or refuses it whole. An
 * operation's fleet hold revision is the stream sequence of its (last)
 * message. After an operation the agent saves that revision in
 * STATE/holds_applied and acknowledges the message (ack-all: the chunks
 * before it too); at start it resumes after the higher of that file and
 * the consumer's acknowledged floor, so nothing is applied twice and
 * nothing is skipped. The outcome, with the daemon's hold revision and
 * count, goes into the site's status record. Started with --trust, the
 * agent first checks each operation's signature (fleet_holds.h): signed
 * by a trusted key, as a hold, for this site, following a revision not
 * older than the last one handled; anything else is refused (reported,
 * counted as handled) and the site's list stays as it is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ctl_client.h"
#include "ctl_proto.h"
#include "fleet_holds.h"

#define FETCH_BATCH 32
#define PART_MAX (16u << 20)    /* as parcelsortctl hold load */

struct holds {
	struct agent *a;
	struct agent_consumer c;
	uint64_t applied;        /* the last fleet hold revision handled */
	uint64_t seen;           /* the last stream sequence taken */
	char op[8], outcome[16];
	uint64_t applied_ms, daemon_rev, count;
	struct ps_out errors;    /* refusal lines, one a line */
	struct ps_hold_asm as;
};

/* ------------------------------------------------------ the daemon */

static int call_daemon(struct holds *h, uint16_t cmd, const struct ps_out *body,
		       struct ps_ctl_reply *rep)
{
	return agent_call_daemon(h->a, cmd, body, rep, "hold operation");
}

/* The daemon's hold revision and count (hold list --limit 0). */
static void refresh_daemon(struct holds *h)
{
	struct ps_out body;
	struct ps_ctl_reply rep;
	char err[256];
	ps_out_init(&body);
	ps_ctl_args(&body, "0");
	if (ps_ctl_call(h->a->ctl, PS_CTL_HOLD_LIST, PS_CTL_F_JSON, &body, &rep,
			err, sizeof(err)) == 0) {
		if (rep.status == PS_CTL_OK) {
			ps_json_u64(rep.body, "revision", &h->daemon_rev);
			ps_json_u64(rep.body, "count", &h->count);
		}
		ps_ctl_reply_free(&rep);
	}
	ps_out_free(&body);
}

/* The reply's outcome: applied, or refused with its lines kept (the
 * daemon answers in JSON: {"errors":[...]} or {"error":"..."}). */
static void take_reply(struct holds *h, const struct ps_ctl_reply *rep)
{
	ps_out_free(&h->errors);
	ps_out_init(&h->errors);
	if (rep->status == PS_CTL_OK) {
		snprintf(h->outcome, sizeof(h->outcome), "applied");
		return;
	}
	snprintf(h->outcome, sizeof(h->outcome), "refused");
	char one[512];
	if (ps_json_str_array(rep->body, "errors", &h->errors) == 0)
		return;
	ps_out_free(&h->errors);
	ps_out_init(&h->errors);
	if (ps_json_str(rep->body, "error", one, sizeof(one)) == 0)
		ps_out_printf(&h->errors, "%s\n", one);
	else
		ps_out_printf(&h->errors, "%.500s\n", rep->body);
}

/* add / del: the waybills, one a line in the message, in commands of at
 * most 63 (parcelsortctl sends at most 63: one command). */
static int apply_list(struct holds *h, uint16_t cmd, const char *note,
		      const char *data, size_t len)
{
	struct ps_ctl_reply rep = { 0 };
	size_t off = 0;
	do {
		struct ps_out body;
		unsigned n = 0;
		ps_out_init(&body);
		if (cmd == PS_CTL_HOLD_ADD)
			ps_ctl_args(&body, note);
		while (off < len && n < PS_CTL_MAX_ARGS - 1) {
			const char *nl = memchr(data + off, '\n', len - off);
			size_t k = nl ? (size_t)(nl - (data + off)) : len - off;
			if (k) {
				ps_ctl_arg(&body, data + off, k);
				n++;
			}
			off += k + (nl != NULL);
		}
		ps_ctl_reply_free(&rep);
		int rc = call_daemon(h, cmd, &body, &rep);
		ps_out_free(&body);
		if (rc)
			return -1;
	} while (off < len && rep.status == PS_CTL_OK);
	take_reply(h, &rep);
	ps_ctl_reply_free(&rep);
	return 0;
}

/* One step of a load; 0 with rep (OK or not), -1 stopping. */
static int load_step(struct holds *h, const char *a0, const char *a1,
		     const char *a2, const char *text, size_t n,
		     struct ps_ctl_reply *rep)
{
	struct ps_out body;
	ps_out_init(&body);
	ps_ctl_args(&body, a0);
	ps_ctl_args(&body, a1);
	if (a2)
		ps_ctl_args(&body, a2);
	if (text)
		ps_ctl_arg(&body, text, n);
	int rc = call_daemon(h, PS_CTL_HOLD_LOAD, &body, rep);
	ps_out_free(&body);
	return rc;
}

/* One try of the whole list as one `hold load`: begin, parts cut at line
 * ends, commit. 0 with the last reply in rep (the commit's answer, or the
 * refusal), -1 stopping. */
static int load_once(struct holds *h, const char *name, const char *text,
		     size_t len, struct ps_ctl_reply *rep)
{
	char token[32] = "";
	if (load_step(h, "begin", name, NULL, NULL, 0, rep))
		return -1;
	if (rep->status == PS_CTL_OK) {
		const char *p = strstr(rep->body, "\"token\":\"");
		if (p)
			snprintf(token, sizeof(token), "%.*s",
				 (int)strcspn(p + 9, "\""), p + 9);
	}
	size_t off = 0;
	unsigned long line = 1;
	while (rep->status == PS_CTL_OK && off < len) {
		size_t n = len - off < PART_MAX ? len - off : PART_MAX;
		if (off + n < len) {
			const char *nl = memrchr(text + off, '\n', n);
			if (nl)
				n = (size_t)(nl - (text + off)) + 1;
		}
		char first[24];
		snprintf(first, sizeof(first), "%lu", line);
		ps_ctl_reply_free(rep);
		if (load_step(h, "part", token, first, text + off, n, rep))
			return -1;
		for (size_t i = 0; i < n; i++)
			line += text[off + i] == '\n';
		off += n;
	}
	if (rep->status == PS_CTL_OK) {
		ps_ctl_reply_free(rep);
		return load_step(h, "commit", token, NULL, NULL, 0, rep);
	}
	if (*token) {
		struct ps_ctl_reply ab;
		if (!load_step(h, "abort", token, NULL, NULL, 0, &ab))
			ps_ctl_reply_free(&ab);
	}
	return 0;
}

/* The whole list as one `hold load`, begun again while the daemon loses
 * the load under way (another load began between two steps, or the
 * daemon restarted: "no such hold load under way"), waiting a little
 * longer each time, up to 5 s: the operation is acknowledged only once
 * the daemon committed or refused it. Any other refusal is the outcome. */
static int apply_load(struct holds *h, const char *name, const char *text,
		      size_t len)
{
	struct ps_ctl_reply rep;
	for (int tries = 1;; tries++) {
		if (load_once(h, name, text, len, &rep))
			return -1;
		if (rep.status == PS_CTL_OK || !rep.body ||
		    !strstr(rep.body, "no such hold load under way"))
			break;
		ps_ctl_reply_free(&rep);
		if (tries == 1)
			fprintf(stderr, "parcelsort-agent: hold load %s: the "
				"daemon lost its load under way (another load "
				"began, or it restarted); beginning again\n",
				name);
		nats_Sleep(tries < 25 ? 200 * tries : 5000);
		if (h->a->stop)
			return -1;
	}
	take_reply(h, &rep);
	ps_ctl_reply_free(&rep);
	return 0;
}

/* ---------------------------------------------------------- reporting */

static void report(struct holds *h)
{
	struct ps_out o;
	ps_out_init(&o);
	ps_out_printf(&o, "\"holds\":{\"hold_revision\":%" PRIu64
		      ",\"hold_op\":\"%s\",\"hold_outcome\":\"%s\""
		      ",\"hold_applied_ms\":%" PRIu64
		      ",\"daemon_hold_revision\":%" PRIu64
		      ",\"hold_count\":%" PRIu64 ",\"hold_errors\":",
		      h->applied, h->op, h->outcome, h->applied_ms,
		      h->daemon_rev, h->count);
	ps_out_write(&h->errors, "", 1);
	agent_json_lines(&o, h->errors.buf);
	h->errors.len--;                 /* the NUL added above */
	ps_out_write(&o, "}", 1);
	agent_set_status_part(h->a, &h->a->holds_status, &o);
}

/* The operation ending with message m (revision seq) is handled: save,
 * acknowledge (and with it every message before), report. */
static void handled(struct holds *h, natsMsg *m, uint64_t seq)
{
	char buf[32];
	h->applied = seq;
	h->applied_ms = ps_fleet_now_ms();
	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", seq);
	if (agent_state_write(h->a, "holds_applied", buf))
		fprintf(stderr, "parcelsort-agent: cannot save the applied "
			"hold revision in %s\n", h->a->state_dir);
	natsMsg_AckSync(m, NULL, NULL);
	refresh_daemon(h);
	printf("parcelsort-agent: hold revision %" PRIu64 " (%s): %s; the "
	       "site holds %" PRIu64 " waybills (its revision %" PRIu64 ")\n",
	       seq, h->op, h->outcome, h->count, h->daemon_rev);
	fflush(stdout);
	report(h);
}

static void refused(struct holds *h, const char *op, const char *why)
{
	snprintf(h->op, sizeof(h->op), "%s", op);
	snprintf(h->outcome, sizeof(h->outcome), "refused");
	ps_out_free(&h->errors);
	ps_out_init(&h->errors);
	ps_out_printf(&h->errors, "%s\n", why);
	fprintf(stderr, "parcelsort-agent: %s\n", why);
}

/* ----------------------------------------------------------- messages */

/* With --trust: 0 when the operation ending with m is signed as it must
 * be (see above), else -1 with the refusal reported. */
static int untrusted(struct holds *h, natsMsg *m, const char *op,
		     const char *note, const char *name, const char *data,
		     size_t len)
{
	if (!h->a->trust.n)
		return 0;
	const char *line = NULL;
	char why[384], said[448];
	struct ps_out item;
	ps_out_init(&item);
	natsMsgHeader_Get(m, PS_HOLD_H_SIG, &line);
	ps_hold_sign_item(&item, op, note, name, data ? data : "", len);
	int rc = ps_hold_verify(line, &item, h->a->site, h->applied,
				&h->a->trust, why, sizeof(why));
	ps_out_free(&item);
	if (rc == 0)
		return 0;
	snprintf(said, sizeof(said), "signature: %s", why);
	refused(h, op, said);
	return -1;
}

/* A load chunk: 0 handled (or more to come), -1 stopping. */
static int take_chunk(struct holds *h, natsMsg *m, uint64_t seq)
{
	struct ps_hold_chunk c;
	char why[256];
	if (ps_hold_chunk_get(m, &c)) {
		ps_hold_asm_reset(&h->as);
		refused(h, "load", "a load chunk with missing or bad headers");
		handled(h, m, seq);
		return 0;
	}
	int r = ps_hold_asm_add(&h->as, &c, natsMsg_GetData(m),
				(size_t)natsMsg_GetDataLength(m), why,
				sizeof(why));
	if (h->as.dropped[0]) {          /* the load this one cut short */
		refused(h, "load", h->as.dropped);
		report(h);               /* published now: the new load's
					  * outcome replaces it later */
	}
	if (r == PS_HOLD_MORE)
		return 0;
	if (r == PS_HOLD_IGNORED) {      /* the rest of a refused load */
		h->applied = seq;
		natsMsg_AckSync(m, NULL, NULL);
		return 0;
	}
	if (r == PS_HOLD_BAD) {
		refused(h, "load", why);
		handled(h, m, seq);
		return 0;
	}
	snprintf(h->op, sizeof(h->op), "load");
	if (untrusted(h, m, "load", NULL, c.name, h->as.buf.buf,
		      h->as.buf.len) == 0 &&
	    apply_load(h, c.name, h->as.buf.buf ? h->as.buf.buf : "",
		       h->as.buf.len))
		return -1;
	ps_hold_asm_reset(&h->as);
	handled(h, m, seq);
	return 0;
}

static int take(struct holds *h, natsMsg *m)
{
	jsMsgMetaData *meta = NULL;
	if (natsMsg_GetMetaData(&meta, m) != NATS_OK)
		return 0;
	uint64_t seq = meta->Sequence.Stream;
	jsMsgMetaData_Destroy(meta);
	if (seq <= h->seen)
		return 0;                /* delivered again: taken already */
	const char *op = NULL, *note = NULL;
	natsMsgHeader_Get(m, PS_HOLD_H_OP, &op);
	if (op && !strcmp(op, "load")) {
		if (take_chunk(h, m, seq))
			return -1;
		h->seen = seq;
		return 0;
	}
	if (h->as.active) {              /* a load cut short by this one */
		char why[256];
		snprintf(why, sizeof(why), "load %s refused: chunk %u of %u "
			 "never came (another operation followed)",
			 h->as.c.load, h->as.next, h->as.c.count);
		refused(h, "load", why);
		report(h);               /* published now, as above */
		snprintf(h->as.refused, sizeof(h->as.refused), "%s",
			 h->as.c.load);   /* its later chunks: ignored */
		ps_hold_asm_reset(&h->as);
	}
	const char *data = natsMsg_GetData(m);
	size_t len = (size_t)natsMsg_GetDataLength(m);
	if (op && (!strcmp(op, "add") || !strcmp(op, "del"))) {
		snprintf(h->op, sizeof(h->op), "%s", op);
		natsMsgHeader_Get(m, PS_HOLD_H_NOTE, &note);
		if (untrusted(h, m, op, note, NULL, data, len) == 0 &&
		    apply_list(h, !strcmp(op, "add") ? PS_CTL_HOLD_ADD
						     : PS_CTL_HOLD_DEL,
			       note ? note : "", data ? data : "", len))
			return -1;
	} else {
		refused(h, "?", "a hold message without a known "
			PS_HOLD_H_OP " (add, del or load)");
	}
	handled(h, m, seq);
	h->seen = seq;
	return 0;
}

/* ------------------------------------------------------------ consumer */

static int take_all(void *self, natsMsg **msgs, int n)
{
	for (int i = 0; i < n; i++)
		if (take(self, msgs[i]))
			return -1;
	return 0;
}

/* The consumer delivers after the applied revision: read again from
 * there, a load's chunks gathered anew. */
static void opened(void *self)
{
	struct holds *h = self;
	h->seen = h->applied;
	ps_hold_asm_reset(&h->as);
	refresh_daemon(h);
	report(h);
}

static void refresh(void *self)
{
	refresh_daemon(self);
	report(self);
}

static void init(struct holds *h, struct agent *a)
{
	char buf[64];
	memset(h, 0, sizeof(*h));
	h->a = a;
	ps_out_init(&h->errors);
	ps_hold_asm_init(&h->as);
	char subject[PS_FLEET_SITE_MAX + 32];
	snprintf(subject, sizeof(subject), PS_FLEET_HOLDS_SUBJECT "%s", a->site);
	agent_consumer_init(&h->c, PS_FLEET_HOLDS, subject, a->site);
	snprintf(h->op, sizeof(h->op), "-");
	snprintf(h->outcome, sizeof(h->outcome), "waiting");
	if (agent_state_read(a, "holds_applied", buf, sizeof(buf)) == 0)
		h->applied = strtoull(buf, NULL, 10);
	if (h->applied)
		snprintf(h->outcome, sizeof(h->outcome), "resumed");
}

void *agent_holds_run(void *arg)
{
	struct holds h;
	init(&h, arg);
	struct agent_stream s = {
		.c = &h.c, .applied = &h.applied, .noun = "hold",
		.what = "hold operations", .missing = "no hold stream yet",
		.meanwhile = "plans and events go on, ",
		.fetch_batch = FETCH_BATCH, .self = &h, .opened = opened,
		.take = take_all, .refresh = refresh,
	};
	agent_consumer_run(h.a, &s);
	ps_hold_asm_free(&h.as);
	ps_out_free(&h.errors);
	return NULL;
}
