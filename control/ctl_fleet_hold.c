/* ctl_fleet_hold.c: parcelsortctl fleet hold, hold operations for many
 * sites through JetStream (docs/fleet.md, "Holds"):
 *   fleet hold add WAYBILL... [--note TEXT]  TARGET
 *   fleet hold del WAYBILL...                TARGET
 *   fleet hold load FILE                     TARGET
 * TARGET: --site ID | --sites ID,ID... | --all (every site that has
 * reported to the status bucket). Each operation is published to
 * parcelsort.holds.SITE; a load larger than one message is cut into
 * chunks, each carrying the load's id, its index, the count, the list's
 * size and CRC-32, published one after the other with the stream's
 * expected-last-sequence check, so no other operation for the site can
 * land between them. The stream sequence of an operation's (last)
 * message is its fleet hold revision, printed per site. With --sign KEY
 * each operation is signed for each site (fleet_holds.h): the signature
 * line rides in a header of the add/del message or of the load's last
 * chunk, and says after=R, R the last sequence on the site's subject,
 * which the first message is published to follow (expected last subject
 * sequence), so the signed operation follows exactly R. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_cli.h"
#include "ctl_fleet_hold.h"
#include "fleet.h"
#include "fleet_holds.h"

#define MAX_WAYBILLS 63          /* as `hold add|del` at the site */

void ctl_fleet_targets_free(struct ctl_fleet_targets *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->id[i]);
	t->n = 0;
}

static int add_target(struct ctl_fleet_targets *t, const char *id)
{
	if (!ps_fleet_site_ok(id))
		return ctl_bad_usage("a site id is 1..64 of A-Z a-z 0-9 _ -");
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->id[i], id))
			return 0;
	if (t->n == CTL_FLEET_MAX_SITES)
		return ctl_bad_usage("fleet: at most 1024 sites");
	t->id[t->n++] = strdup(id);
	return 0;
}

int ctl_fleet_targets_named(const char *site, const char *sites,
			    struct ctl_fleet_targets *t)
{
	char list[8192];
	snprintf(list, sizeof(list), "%s", site ? site : sites);
	char *save = NULL;
	for (char *s = strtok_r(list, ",", &save); s;
	     s = strtok_r(NULL, ",", &save))
		if (add_target(t, s))
			return EXIT_USAGE;
	return t->n ? 0 : ctl_bad_usage("fleet: no site");
}

int ctl_fleet_targets_all(struct ps_fleet *f, struct ctl_fleet_targets *t)
{
	kvKeysList l = { 0 };
	natsStatus s = kvStore_Keys(&l, f->status, NULL);
	if (s != NATS_OK && s != NATS_NOT_FOUND) {
		fprintf(stderr, "parcelsortctl: the status bucket: %s\n",
			ps_fleet_error(s));
		return EXIT_UNREACHABLE;
	}
	for (int i = 0; i < l.Count; i++)
		if (!strncmp(l.Keys[i], "site.", 5) &&
		    ps_fleet_site_ok(l.Keys[i] + 5) &&
		    t->n < CTL_FLEET_MAX_SITES)
			add_target(t, l.Keys[i] + 5);
	kvKeysList_Destroy(&l);
	if (!t->n) {
		fprintf(stderr, "parcelsortctl: fleet --all: no site has "
			"reported to %s yet\n", PS_FLEET_STATUS);
		return EXIT_REFUSED;
	}
	return 0;
}

/* One operation as built for every site. */
struct op {
	const char *kind;        /* add | del | load */
	const char *note;
	char *data;              /* add/del: waybills one a line; load: list */
	size_t len;
	struct ps_hold_chunk c;  /* load */
	size_t chunk_max;
	const unsigned char *sk; /* --sign: the secret key, else NULL */
	struct ps_out item;      /* --sign: what the signature covers */
};

/* One site's signing: the signature line and the sequence it follows. */
struct site_sig {
	char line[512];
	uint64_t after;
};

/* Publish m, retried while the cluster elects a leader (the same id
 * makes a retry of a message that had landed a duplicate, not a copy). */
static natsStatus publish(struct ps_fleet *f, natsMsg *m, const char *id,
			  uint64_t expect_seq, uint64_t *seq, jsErrCode *jerr)
{
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = 10000;
	po.ExpectLastSubjectSeq = expect_seq;
	natsStatus s;
	int tries = 0;
	do {
		jsPubAck *ack = NULL;
		*jerr = 0;
		s = js_PublishMsg(&ack, f->js, m, &po, jerr);
		if (s == NATS_OK) {
			*seq = ack->Sequence;
			jsPubAck_Destroy(ack);
			return s;
		}
	} while ((s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) &&
		 ++tries < 4 && (nats_Sleep(500), 1));
	return s;
}

static natsStatus send_one(struct ps_fleet *f, const char *subject,
			   const struct op *op, const struct site_sig *sig,
			   uint32_t i, uint64_t expect, uint64_t *seq,
			   jsErrCode *jerr)
{
	natsMsg *m = NULL;
	const char *data = op->data;
	size_t off = 0, n = op->len;
	char id[96];
	if (!strcmp(op->kind, "load"))
		ps_hold_chunk_range(op->len, op->chunk_max, i, &off, &n);
	natsStatus s = natsMsg_Create(&m, subject, NULL, data + off, (int)n);
	if (s == NATS_OK && !strcmp(op->kind, "load")) {
		struct ps_hold_chunk c = op->c;
		c.index = i;
		s = ps_hold_chunk_set(m, &c);
		snprintf(id, sizeof(id), "%s.%s.%u", subject, c.load, i);
	} else if (s == NATS_OK) {
		s = natsMsgHeader_Set(m, PS_HOLD_H_OP, op->kind);
		/* no header for no note: an empty header value does not
		 * survive the client library's parsing */
		if (s == NATS_OK && op->note && *op->note)
			s = natsMsgHeader_Set(m, PS_HOLD_H_NOTE, op->note);
		snprintf(id, sizeof(id), "%s.%s", subject, op->c.load);
	}
	/* the signature: on add/del, and on a load's last chunk */
	if (s == NATS_OK && sig &&
	    (strcmp(op->kind, "load") || i + 1 == op->c.count))
		s = natsMsgHeader_Set(m, PS_HOLD_H_SIG, sig->line);
	if (s == NATS_OK)
		s = publish(f, m, id, expect, seq, jerr);
	natsMsg_Destroy(m);
	return s;
}

/* --sign: the last sequence on subject, and the signature following it.
 * 0, or -1 (said). */
static int sign_site(struct ps_fleet *f, const char *site, const char *subject,
		     const struct op *op, struct site_sig *sig)
{
	natsMsg *last = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetLastMsg(&last, f->js, PS_FLEET_HOLDS, subject,
				     NULL, &jerr);
	if (s == NATS_OK) {
		sig->after = natsMsg_GetSequence(last);
		natsMsg_Destroy(last);
	} else if (s == NATS_NOT_FOUND) {
		sig->after = 0;
	} else {
		fprintf(stderr, "parcelsortctl: site %s: cannot read its last "
			"hold operation to sign: %s\n", site, ps_fleet_error(s));
		return -1;
	}
	if (ps_hold_sign_line(sig->line, sizeof(sig->line), &op->item, site,
			      sig->after, op->sk)) {
		fprintf(stderr, "parcelsortctl: site %s: cannot sign\n", site);
		return -1;
	}
	return 0;
}

/* The operation for one site; its revision, or 0 on failure (said). */
static uint64_t send_site(struct ps_fleet *f, const char *site,
			  const struct op *op)
{
	char subject[PS_FLEET_SITE_MAX + 32];
	struct site_sig sig = { .after = 0 };
	snprintf(subject, sizeof(subject), PS_FLEET_HOLDS_SUBJECT "%s", site);
	if (op->sk && sign_site(f, site, subject, op, &sig))
		return 0;
	uint32_t count = strcmp(op->kind, "load") ? 1 : op->c.count;
	uint64_t seq = 0;
	for (uint32_t i = 0; i < count; i++) {
		jsErrCode jerr = 0;
		natsStatus s = send_one(f, subject, op, op->sk ? &sig : NULL, i,
					i ? seq : sig.after, &seq, &jerr);
		if (s == NATS_OK)
			continue;
		if (jerr == JSStreamWrongLastSequenceErr && i == 0)
			fprintf(stderr, "parcelsortctl: site %s: another hold "
				"operation came after revision %" PRIu64 " while "
				"signing; nothing sent: run it again\n", site,
				sig.after);
		else if (jerr == JSStreamWrongLastSequenceErr)
			fprintf(stderr, "parcelsortctl: site %s: another hold "
				"operation came between chunks %u and %u; the "
				"site refuses this load whole: run it again\n",
				site, i - 1, i);
		else
			fprintf(stderr, "parcelsortctl: site %s: chunk %u of %u "
				"not sent: %s\n", site, i, count,
				ps_fleet_error(s));
		return 0;
	}
	return seq;
}

/* The waybills as lines; at most 63, no blanks or line breaks. */
static int waybill_lines(const struct ctl_fleet_hold_args *h, struct op *op)
{
	struct ps_out o;
	if (h->n_pos < 2)
		return ctl_bad_usage("fleet hold add|del WAYBILL... TARGET");
	if (h->n_pos - 1 > MAX_WAYBILLS)
		return ctl_bad_usage("fleet hold add|del: at most 63 waybills "
				     "(fleet hold load for more)");
	ps_out_init(&o);
	for (int i = 1; i < h->n_pos; i++) {
		if (!*h->pos[i] || strpbrk(h->pos[i], " \t\r\n")) {
			ps_out_free(&o);
			return ctl_bad_usage("fleet hold: a waybill is one word");
		}
		ps_out_printf(&o, "%s\n", h->pos[i]);
	}
	op->data = o.buf;
	op->len = o.len;
	return o.oom ? EXIT_UNREACHABLE : 0;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static int load_file(const struct ctl_fleet_hold_args *h, struct op *op)
{
	if (h->n_pos != 2)
		return ctl_bad_usage("fleet hold load FILE TARGET");
	/* chunked: larger than one message */
	op->data = ctl_read_file_max(h->pos[1], PS_FLEET_HOLDS_MAX_BYTES,
				     &op->len);
	if (!op->data)
		return EXIT_USAGE;
	if (ctl_refuse_nul(h->pos[1], op->data, op->len, 1))
		return EXIT_REFUSED;
	size_t k = 0;
	for (const char *p = base_name(h->pos[1]);
	     *p && k + 1 < sizeof(op->c.name); p++)
		op->c.name[k++] = (*p > ' ' && *p < 0x7f) ? *p : '_';
	op->c.name[k] = 0;
	if (!k)
		snprintf(op->c.name, sizeof(op->c.name), "holds");
	op->c.size = op->len;
	op->c.crc = ps_crc32(0, op->data, op->len);
	return 0;
}

static void print_result(const struct ctl_fleet_hold_args *h, const char *site,
			 const struct op *op, uint64_t rev, int first)
{
	int load = !strcmp(op->kind, "load");
	if (h->json) {
		printf("%s{\"site\":\"%s\",\"sent\":%s,\"revision\":%" PRIu64
		       ",\"messages\":%u}", first ? "" : ",", site,
		       rev ? "true" : "false", rev, load ? op->c.count : 1);
		return;
	}
	if (!rev)
		return;
	if (load)
		printf("site %s: hold revision %" PRIu64 " (load of %zu bytes "
		       "in %u messages)\n", site, rev, op->len, op->c.count);
	else
		printf("site %s: hold revision %" PRIu64 " (%s)\n", site, rev,
		       op->kind);
}

/* --sign KEY: the secret key, and the item every site's signature
 * covers (the same for all: only site and after differ). */
static int sign_setup(const struct ctl_fleet_hold_args *h, struct op *op,
		      unsigned char sk[PS_SIGN_SK])
{
	char err[512];
	if (ps_sign_load_secret(h->sign, sk, err, sizeof(err))) {
		fprintf(stderr, "parcelsortctl: --sign: %s\n", err);
		return EXIT_USAGE;
	}
	op->sk = sk;
	ps_hold_sign_item(&op->item, op->kind, op->note,
			  strcmp(op->kind, "load") ? "" : op->c.name,
			  op->data ? op->data : "", op->len);
	return op->item.oom ? EXIT_UNREACHABLE : 0;
}

int ctl_fleet_hold(const struct ctl_fleet_hold_args *h)
{
	struct op op = { 0 };
	struct ctl_fleet_targets t = { 0 };
	if (h->n_pos < 1 || (!!h->site + !!h->sites + !!h->all) != 1)
		return ctl_bad_usage("fleet hold add|del|load ... --site ID | "
				     "--sites ID,ID... | --all");
	op.kind = h->pos[0];
	int rc;
	if (!strcmp(op.kind, "add") || !strcmp(op.kind, "del")) {
		if (h->note && !strcmp(op.kind, "del"))
			return ctl_bad_usage("fleet hold del: no --note");
		if (h->note && (strlen(h->note) > 100 ||
				strpbrk(h->note, "\r\n")))
			return ctl_bad_usage("fleet hold add: --note takes up "
					     "to 100 printable characters");
		op.note = !strcmp(op.kind, "add") ? (h->note ? h->note : "")
						  : NULL;
		rc = waybill_lines(h, &op);
	} else if (!strcmp(op.kind, "load")) {
		rc = h->note ? ctl_bad_usage("fleet hold load: no --note")
			     : load_file(h, &op);
	} else {
		return ctl_bad_usage("fleet hold add|del|load");
	}
	unsigned char sk[PS_SIGN_SK];
	ps_out_init(&op.item);
	if (!rc && !h->all)
		rc = ctl_fleet_targets_named(h->site, h->sites, &t);
	if (!rc && h->sign)
		rc = sign_setup(h, &op, sk);
	if (rc) {
		ps_out_free(&op.item);
		free(op.data);
		ctl_fleet_targets_free(&t);
		return rc;
	}
	snprintf(op.c.load, sizeof(op.c.load), "%" PRIx64 "-%x",
		 ps_fleet_now_ms(), (unsigned)getpid());
	struct ps_fleet f;
	char err[512];
	struct ps_fleet_opts o = { .holds = 1, .servers = h->nats,
				   .name = "parcelsortctl",
				   .replicas = h->replicas, .sec = h->sec };
	if (ps_fleet_open(&f, &o, err, sizeof(err))) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		ps_out_free(&op.item);
		free(op.data);
		ctl_fleet_targets_free(&t);
		return EXIT_UNREACHABLE;
	}
	rc = h->all ? ctl_fleet_targets_all(&f, &t) : 0;
	/* the cluster's message size bounds a chunk */
	int64_t max = natsConnection_GetMaxPayload(f.nc);
	op.chunk_max = max > 2 * PS_FLEET_HOLDS_HEADROOM
		       ? (size_t)max - PS_FLEET_HOLDS_HEADROOM
		       : PS_FLEET_HOLDS_HEADROOM;
	op.c.count = ps_hold_chunk_count(op.len, op.chunk_max);
	int bad = 0;
	if (!rc && h->json)
		printf("[");
	for (int i = 0; !rc && i < t.n; i++) {
		uint64_t rev = send_site(&f, t.id[i], &op);
		bad += rev == 0;
		print_result(h, t.id[i], &op, rev, i == 0);
	}
	if (!rc && h->json)
		printf("]\n");
	sodium_memzero(sk, sizeof(sk));
	ps_out_free(&op.item);
	free(op.data);
	ctl_fleet_targets_free(&t);
	ps_fleet_close(&f);
	nats_Close();
	return rc ? rc : bad ? EXIT_REFUSED : EXIT_DONE;
}

void ctl_fleet_hold_help(struct ps_out *o)
{
	ps_out_printf(o,
"  fleet hold add WAYBILL... [--note TEXT] TARGET\n"
"  fleet hold del WAYBILL... TARGET\n"
"  fleet hold load FILE TARGET     hold operations for sites (at most 63\n"
"                                  waybills; load: the whole list, any\n"
"                                  size, sent in chunks); TARGET is --site\n"
"                                  ID | --sites ID,ID... | --all (every\n"
"                                  site that reported status); --sign KEY\n"
"                                  signs each operation for each site\n");
}
