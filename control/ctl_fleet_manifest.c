/* ctl_fleet_manifest.c: parcelsortctl fleet manifest push FILE TARGET
 * [--sign KEY] (docs/fleet.md, "Manifests"). The file is checked first
 * with the manifest parser (every bad line as FILE:LINE; nothing is
 * published when one is bad), then cut into batches of whole lines under
 * the cluster's message size and published, for each site, to its stream
 * PARCELSORT_MANIFEST_ID (made when missing) on parcelsort.manifest.ID,
 * each batch published to follow the one before (the stream's expected
 * last subject sequence), so another push cannot land between them. With
 * --sign KEY each batch is signed for each site (fleet_manifest.h), after
 * the sequence it follows. TARGET: --site ID | --sites ID,ID... | --all. */
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_cli.h"
#include "ctl_fleet_manifest.h"
#include "fleet.h"
#include "fleet_holds.h"
#include "fleet_manifest.h"
#include "manifest_parse.h"
#include "ps_errors.h"

#define MAX_FILE (4ull << 30)    /* 16 M entries are well under 1 GB */

/* The file, mapped, and its batches (the same for every site). */
struct push {
	const char *text;
	size_t len;
	struct ps_man_batch *b;  /* per batch: headers */
	size_t *off, *n;         /* per batch: its bytes */
	struct ps_out *item;     /* per batch, --sign: what is signed */
	uint32_t count;
	uint64_t entries;
	const unsigned char *sk;
};

static int no_op(void *arg, const uint8_t *wb, uint64_t region, uint32_t line)
{
	(void)arg, (void)wb, (void)region, (void)line;
	return 0;
}

/* Every line checked: 0, or EXIT_REFUSED with the errors printed. */
static int check_file(const char *path, const char *name, uint64_t *entries)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return EXIT_USAGE;
	}
	struct ps_errors e;
	ps_errors_init(&e);
	int rc = ps_manifest_parse(f, name, no_op, NULL, &e, entries);
	fclose(f);
	if (rc) {
		ps_errors_print(&e, stderr);
		fprintf(stderr, "parcelsortctl: %s refused: nothing published\n",
			path);
	}
	ps_errors_free(&e);
	return rc ? EXIT_REFUSED : 0;
}

static const char *map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > MAX_FILE) {
		fprintf(stderr, "parcelsortctl: %s: not a regular file of at "
			"most 4 GB\n", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*len = (size_t)st.st_size;
	void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : "";
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Cut the text into batches of at most max bytes (each ends at a line's
 * end, so there may be many more than len / max). */
static int cut(struct push *p, const char *name, size_t max)
{
	uint32_t cap = ps_man_batch_count(p->text, p->len, max);
	if (!cap)
		cap = 1;         /* an empty file, or a line too long (below) */
	p->b = calloc(cap, sizeof(*p->b));
	p->off = calloc(cap, sizeof(*p->off));
	p->n = calloc(cap, sizeof(*p->n));
	if (!p->b || !p->off || !p->n)
		return -1;
	char push_id[48];
	snprintf(push_id, sizeof(push_id), "%" PRIx64 "-%x", ps_fleet_now_ms(),
		 (unsigned)getpid());
	uint32_t line = 1;
	size_t off = 0;
	do {
		uint32_t lines;
		size_t n = ps_man_cut(p->text, p->len, off, max, &lines);
		if (!n && off < p->len)
			return -1;       /* a line longer than a message */
		struct ps_man_batch *b = &p->b[p->count];
		snprintf(b->push, sizeof(b->push), "%s", push_id);
		snprintf(b->name, sizeof(b->name), "%s", name);
		b->index = p->count;
		b->first_line = line;
		b->crc = ps_crc32(0, p->text + off, n);
		p->off[p->count] = off;
		p->n[p->count] = n;
		p->count++;
		line += lines;
		off += n;
	} while (off < p->len && p->count < cap);
	if (off < p->len)
		return -1;               /* never: cap counted every batch */
	for (uint32_t i = 0; i < p->count; i++)
		p->b[i].count = p->count;
	return 0;
}

static int sign_items(struct push *p)
{
	p->item = calloc(p->count, sizeof(*p->item));
	if (!p->item)
		return -1;
	for (uint32_t i = 0; i < p->count; i++) {
		ps_out_init(&p->item[i]);
		ps_man_sign_item(&p->item[i], &p->b[i], p->text + p->off[i],
				 p->n[i]);
		if (p->item[i].oom)
			return -1;
	}
	return 0;
}

static void push_free(struct push *p)
{
	if (p->item)
		for (uint32_t i = 0; i < p->count; i++)
			ps_out_free(&p->item[i]);
	free(p->item);
	free(p->b);
	free(p->off);
	free(p->n);
	if (p->len)
		munmap((void *)p->text, p->len);
}

/* Publish batch i for the site, to follow sequence after (0: the
 * subject's first). */
static natsStatus send_batch(struct ps_fleet *f, const char *site,
			     const char *subject, const struct push *p,
			     uint32_t i, uint64_t after, uint64_t *seq,
			     jsErrCode *jerr)
{
	natsMsg *m = NULL;
	char id[160], line[512];
	natsStatus s = natsMsg_Create(&m, subject, NULL, p->text + p->off[i],
				      (int)p->n[i]);
	struct ps_man_batch b = p->b[i];
	b.pushed_ms = ps_fleet_now_ms();
	if (s == NATS_OK)
		s = ps_man_batch_set(m, &b);
	if (s == NATS_OK && p->sk) {
		if (ps_sign_item_line(line, sizeof(line), &p->item[i],
				      "manifest", site, after, p->sk))
			s = NATS_ERR;
		else
			s = natsMsgHeader_Set(m, PS_MAN_H_SIG, line);
	}
	jsPubOptions po;
	jsPubOptions_Init(&po);
	snprintf(id, sizeof(id), "%s.%s.%u", subject, b.push, i);
	po.MsgId = id;
	po.MaxWait = 10000;
	/* the site's stream holds its subject alone: its last sequence is
	 * the subject's, and it stays when every message has aged out or
	 * been purged (the subject's own would then be none, and a push
	 * expecting it refused for good) */
	po.ExpectLastSeq = after;
	for (int tries = 0; s == NATS_OK || ((s == NATS_TIMEOUT ||
	     s == NATS_NO_RESPONDERS) && tries < 4); tries++) {
		jsPubAck *ack = NULL;
		*jerr = 0;
		s = js_PublishMsg(&ack, f->js, m, &po, jerr);
		if (s == NATS_OK) {
			*seq = ack->Sequence;
			jsPubAck_Destroy(ack);
			break;
		}
		nats_Sleep(500);
	}
	natsMsg_Destroy(m);
	return s;
}

/* The site's stream made or bound, and its last sequence. */
static natsStatus site_stream(struct ps_fleet *f, const char *site,
			      int replicas, uint64_t *last)
{
	char stream[PS_FLEET_SITE_MAX + 32], subject[PS_FLEET_SITE_MAX + 32];
	ps_man_stream(stream, sizeof(stream), site);
	ps_man_subject(subject, sizeof(subject), site);
	natsStatus s = ps_fleet_bind_stream(f, stream, subject, replicas,
					    PS_FLEET_MANIFEST_DUP_WINDOW_S,
					    PS_FLEET_MANIFEST_MAX_AGE_S, false);
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	if (s == NATS_OK)
		s = js_GetStreamInfo(&si, f->js, stream, NULL, &jerr);
	if (s == NATS_OK) {
		*last = si->State.LastSeq;
		jsStreamInfo_Destroy(si);
	}
	return s;
}

/* Every batch for one site: the sequences of its first and last, or
 * first 0 on failure (said). */
static void send_site(struct ps_fleet *f, const char *site, int replicas,
		      const struct push *p, uint64_t *first, uint64_t *last)
{
	char subject[PS_FLEET_SITE_MAX + 32];
	ps_man_subject(subject, sizeof(subject), site);
	uint64_t seq = 0;
	*first = *last = 0;
	natsStatus s = site_stream(f, site, replicas, &seq);
	if (s != NATS_OK) {
		fprintf(stderr, "parcelsortctl: site %s: its manifest stream: "
			"%s\n", site, ps_fleet_error(s));
		return;
	}
	for (uint32_t i = 0; i < p->count; i++) {
		jsErrCode jerr = 0;
		uint64_t next = 0;
		s = send_batch(f, site, subject, p, i, seq, &next, &jerr);
		if (s != NATS_OK) {
			fprintf(stderr, "parcelsortctl: site %s: batch %u of %u "
				"not sent (%s)%s%s\n", site, i + 1, p->count,
				jerr == JSStreamWrongLastSequenceErr
				? "another push came in between"
				: ps_fleet_error(s), i ? "; the batches before "
				"it are sent and will be applied" : "",
				"; run it again");
			*first = 0;
			return;
		}
		if (!i)
			*first = next;
		seq = *last = next;
	}
}

static const char *base_name(const char *path, char *out, size_t n)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t k = 0;
	for (; *b && k + 1 < n; b++)
		out[k++] = (*b > ' ' && *b < 0x7f) ? *b : '_';
	out[k] = 0;
	if (!k)
		snprintf(out, n, "manifest");
	return out;
}

static int prepare(const struct ctl_fleet_hold_args *h, struct push *p,
		   unsigned char sk[PS_SIGN_SK], char *name, size_t name_len)
{
	char err[512];
	base_name(h->pos[1], name, name_len);
	int rc = check_file(h->pos[1], name, &p->entries);
	if (rc)
		return rc;
	p->text = map_file(h->pos[1], &p->len);
	if (!p->text)
		return EXIT_USAGE;
	if (h->sign) {
		if (ps_sign_load_secret(h->sign, sk, err, sizeof(err))) {
			fprintf(stderr, "parcelsortctl: --sign: %s\n", err);
			return EXIT_USAGE;
		}
		p->sk = sk;
	}
	return 0;
}

int ctl_fleet_manifest(const struct ctl_fleet_hold_args *h)
{
	struct push p = { 0 };
	struct ctl_fleet_targets t = { 0 };
	unsigned char sk[PS_SIGN_SK];
	char name[128], err[512];
	if (h->n_pos != 2 || strcmp(h->pos[0], "push") || h->note ||
	    (!!h->site + !!h->sites + !!h->all) != 1)
		return ctl_bad_usage("fleet manifest push FILE --site ID | "
				     "--sites ID,ID... | --all [--sign KEY]");
	int rc = h->all ? 0 : ctl_fleet_targets_named(h->site, h->sites, &t);
	if (!rc)
		rc = prepare(h, &p, sk, name, sizeof(name));
	struct ps_fleet f;
	struct ps_fleet_opts o = { .servers = h->nats, .name = "parcelsortctl",
				   .replicas = h->replicas, .sec = h->sec };
	if (!rc && ps_fleet_open(&f, &o, err, sizeof(err))) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		rc = EXIT_UNREACHABLE;
	} else if (!rc) {
		int64_t max = natsConnection_GetMaxPayload(f.nc);
		size_t batch_max = max > 2 * PS_FLEET_MANIFEST_HEADROOM
			? (size_t)max - PS_FLEET_MANIFEST_HEADROOM
			: PS_FLEET_MANIFEST_HEADROOM;
		if (h->all)
			rc = ctl_fleet_targets_all(&f, &t);
		if (!rc && (cut(&p, name, batch_max) ||
			    (p.sk && sign_items(&p)))) {
			fprintf(stderr, "parcelsortctl: out of memory\n");
			rc = EXIT_UNREACHABLE;
		}
		int bad = 0;
		if (!rc && h->json)
			printf("[");
		for (int i = 0; !rc && i < t.n; i++) {
			uint64_t first, last;
			send_site(&f, t.id[i], h->replicas, &p, &first, &last);
			bad += first == 0;
			if (h->json)
				printf("%s{\"site\":\"%s\",\"sent\":%s,\"batches\""
				       ":%u,\"entries\":%" PRIu64 ",\"first_"
				       "revision\":%" PRIu64 ",\"last_revision\":"
				       "%" PRIu64 "}", i ? "," : "", t.id[i],
				       first ? "true" : "false", p.count,
				       p.entries, first, last);
			else if (first)
				printf("site %s: manifest %s, %" PRIu64 " entries "
				       "in %u batch%s (revisions %" PRIu64 "..%"
				       PRIu64 ")\n", t.id[i], name, p.entries,
				       p.count, p.count == 1 ? "" : "es", first,
				       last);
		}
		if (!rc && h->json)
			printf("]\n");
		if (!rc && bad)
			rc = EXIT_REFUSED;
		ps_fleet_close(&f);
		nats_Close();
	}
	sodium_memzero(sk, sizeof(sk));
	push_free(&p);
	ctl_fleet_targets_free(&t);
	return rc;
}

void ctl_fleet_manifest_help(struct ps_out *o)
{
	ps_out_printf(o,
"  fleet manifest push FILE TARGET [--sign KEY]\n"
"                                  pre-advice (WAYBILL,REGION lines) for\n"
"                                  sites: checked whole first, then sent in\n"
"                                  batches to each site's manifest stream;\n"
"                                  TARGET as for fleet hold\n");
}
