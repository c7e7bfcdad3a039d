/* fleet_probe.c: one NATS operation as a given fleet user, for
 * tests/integration/fleet_secure.sh, which checks the permissions of
 * docs/fleet.md by trying what a user may and may not do:
 *   fleet_probe [security options] --nats URLS OP SITE [FILE]
 *   OP: get-plan (the site's plan to FILE or stdout), put-plan (FILE as
 *   the site's plan, raw: no trailer, no signature), put-status, publish
 *   (one message on the site's event subject), consume-holds (make the
 *   durable pull consumer FILE, default agent-SITE, on the hold stream
 *   filtered on the site's subject, and fetch from it: what a site's agent
 *   does), consume-manifest (the same on the site's manifest stream),
 *   manifest-again (publish the last batch of the site's manifest
 *   stream again, FILE saying how: "same", "tamper" (one byte of its text
 *   changed, its CRC header made to match), "corrupt" (one byte changed,
 *   the CRC header kept) or "badline" (the last line's region made
 *   invalid, its CRC header made to match: a batch the daemon refuses)),
 *   purge-manifest (every message of the site's manifest stream removed,
 *   as its 7-day age limit does)
 *   fleet_probe --nkey-gen FILE: a new user nkey seed into FILE (mode
 *   0600), its public key on stdout (as `nk -gen user -pubout` would)
 * Prints "allowed" (exit 0), or "denied: REASON" (exit 1) when the server
 * refused it as a permissions violation; other failures exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "fleet.h"
#include "fleet_holds.h"
#include "fleet_manifest.h"
#include "fleet_nkey.h"

#include <fcntl.h>
#include <unistd.h>

static char *slurp(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(16 << 20);
	*len = buf ? fread(buf, 1, 16 << 20, f) : 0;
	fclose(f);
	return buf;
}

/* A durable pull consumer `name` on stream, filtered on subject, and one
 * fetch from it (a timeout when it is empty counts as allowed). */
static natsStatus consume(struct ps_fleet *f, const char *stream,
			  const char *subject, const char *name)
{
	jsErrCode jerr = 0;
	jsConsumerConfig cc;
	jsConsumerConfig_Init(&cc);
	cc.Name = name;          /* as the agent: the filter in the subject */
	cc.Durable = name;
	cc.FilterSubject = subject;
	cc.AckPolicy = js_AckExplicit;
	jsConsumerInfo *ci = NULL;
	natsStatus s = js_AddConsumer(&ci, f->js, stream, &cc, NULL, &jerr);
	if (s != NATS_OK)
		return s;
	jsConsumerInfo_Destroy(ci);
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = stream;
	so.Consumer = name;
	natsSubscription *sub = NULL;
	s = js_PullSubscribe(&sub, f->js, subject, name, NULL, &so, &jerr);
	if (s != NATS_OK)
		return s;
	natsMsgList list = { 0 };
	s = natsSubscription_Fetch(&list, sub, 1, 500, &jerr);
	natsMsgList_Destroy(&list);
	natsSubscription_Destroy(sub);
	return s == NATS_TIMEOUT ? NATS_OK : s;
}

/* The site's last manifest batch, published again as mode says. */
static natsStatus manifest_again(struct ps_fleet *f, const char *site,
				 const char *mode)
{
	char stream[PS_FLEET_SITE_MAX + 32], subject[PS_FLEET_SITE_MAX + 32];
	char crc[16], id[64];
	ps_man_stream(stream, sizeof(stream), site);
	ps_man_subject(subject, sizeof(subject), site);
	natsMsg *last = NULL, *m = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetLastMsg(&last, f->js, stream, subject, NULL, &jerr);
	if (s != NATS_OK)
		return s;
	int n = natsMsg_GetDataLength(last);
	char *text = malloc((size_t)n + 1);
	memcpy(text, natsMsg_GetData(last), (size_t)n);
	if (!strcmp(mode, "badline") && n > 2)
		text[n - 2] = 'x';      /* the last region's last digit */
	else if (strcmp(mode, "same") && n > 5)
		text[5] = text[5] == '9' ? '8' : '9';   /* in the first line */
	s = natsMsg_Create(&m, subject, NULL, text, n);
	const char **keys = NULL;
	int nk = 0;
	if (s == NATS_OK)
		s = natsMsgHeader_Keys(last, &keys, &nk);
	for (int i = 0; s == NATS_OK && i < nk; i++) {
		const char *v = NULL;
		natsMsgHeader_Get(last, keys[i], &v);
		if (strncmp(keys[i], "Parcelsort-", 11) || !v)
			continue;
		s = natsMsgHeader_Set(m, keys[i], v);
	}
	free((void *)keys);
	if (s == NATS_OK && strcmp(mode, "same") && strcmp(mode, "corrupt")) {
		snprintf(crc, sizeof(crc), "%08x", ps_crc32(0, text, (size_t)n));
		s = natsMsgHeader_Set(m, PS_MAN_H_CRC, crc);
	}
	jsPubOptions po;
	jsPubOptions_Init(&po);
	snprintf(id, sizeof(id), "probe-%llu", (unsigned long long)ps_fleet_now_ms());
	po.MsgId = id;
	jsPubAck *pa = NULL;
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, f->js, m, &po, &jerr);
	if (pa)
		jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	natsMsg_Destroy(last);
	free(text);
	return s;
}

static natsStatus run(struct ps_fleet *f, const char *op, const char *site,
		      const char *file)
{
	char key[PS_FLEET_SITE_MAX + 8], subject[PS_FLEET_SITE_MAX + 32];
	ps_fleet_key(key, sizeof(key), site);
	snprintf(subject, sizeof(subject), PS_FLEET_SUBJECT "%s", site);
	natsStatus s = NATS_INVALID_ARG;
	if (!strcmp(op, "get-plan")) {
		kvEntry *e = NULL;
		s = kvStore_Get(&e, f->plans, key);
		if (s == NATS_OK) {
			FILE *out = file ? fopen(file, "wb") : stdout;
			if (out) {
				fwrite(kvEntry_Value(e), 1,
				       (size_t)kvEntry_ValueLen(e), out);
				if (file)
					fclose(out);
			}
			kvEntry_Destroy(e);
		}
	} else if (!strcmp(op, "put-plan") && file) {
		size_t len = 0;
		char *text = slurp(file, &len);
		s = text ? kvStore_Put(NULL, f->plans, key, text, (int)len)
			 : NATS_ERR;
		free(text);
	} else if (!strcmp(op, "put-status")) {
		s = kvStore_PutString(NULL, f->status, key,
				      "{\"site\":\"forged\"}");
	} else if (!strcmp(op, "publish")) {
		jsErrCode jerr = 0;
		jsPubAck *pa = NULL;
		s = js_Publish(&pa, f->js, subject, "forged\n", 7, NULL, &jerr);
		if (pa)
			jsPubAck_Destroy(pa);
	} else if (!strcmp(op, "consume-holds")) {
		char subj[PS_FLEET_SITE_MAX + 32], name[PS_FLEET_SITE_MAX + 16];
		snprintf(subj, sizeof(subj), PS_FLEET_HOLDS_SUBJECT "%s", site);
		snprintf(name, sizeof(name), "agent-%s", site);
		s = consume(f, PS_FLEET_HOLDS, subj, file ? file : name);
	} else if (!strcmp(op, "consume-manifest")) {
		char subj[PS_FLEET_SITE_MAX + 32], name[PS_FLEET_SITE_MAX + 16];
		char stream[PS_FLEET_SITE_MAX + 32];
		ps_man_stream(stream, sizeof(stream), site);
		ps_man_subject(subj, sizeof(subj), site);
		snprintf(name, sizeof(name), "agent-%s", site);
		s = consume(f, stream, subj, file ? file : name);
	} else if (!strcmp(op, "manifest-again") && file) {
		s = manifest_again(f, site, file);
	} else if (!strcmp(op, "purge-manifest")) {
		char stream[PS_FLEET_SITE_MAX + 32];
		jsErrCode jerr = 0;
		ps_man_stream(stream, sizeof(stream), site);
		s = js_PurgeStream(f->js, stream, NULL, &jerr);
	}
	return s;
}

static int nkey_gen(const char *file)
{
	char seed[PS_NKEY_SEED_LEN + 1], pub[PS_NKEY_PUB_LEN + 1];
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ps_nkey_generate(seed, pub)) {
		perror(file);
		return 2;
	}
	dprintf(fd, "%s\n", seed);
	close(fd);
	printf("%s\n", pub);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--nkey-gen"))
		return nkey_gen(argv[2]);
	static const struct option lo[] = {
		{ "nats", required_argument, 0, 'n' },
		PS_FLEET_SEC_OPTIONS,
		{ 0, 0, 0, 0 },
	};
	struct ps_fleet_opts o = { .name = "fleet_probe", .replicas = 1 };
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'n')
			o.servers = optarg;
		else if (!ps_fleet_sec_option(&o.sec, c, optarg))
			return 2;
	}
	if (!o.servers || argc - optind < 2)
		return 2;
	struct ps_fleet f;
	char err[512];
	if (ps_fleet_open(&f, &o, err, sizeof(err))) {
		fprintf(stderr, "fleet_probe: %s\n", err);
		return 2;
	}
	natsStatus s = run(&f, argv[optind], argv[optind + 1],
			   argc - optind > 2 ? argv[optind + 2] : NULL);
	/* the server says a violation asynchronously: give it a moment */
	const char *last = NULL;
	for (int i = 0; i < 20; i++) {
		natsConnection_GetLastError(f.nc, &last);
		if (last && strstr(last, "Permissions Violation"))
			break;
		last = NULL;
		nats_Sleep(50);
	}
	int rc = 0;
	if (last && s != NATS_OK) {
		printf("denied: %s\n", last);
		rc = 1;
	} else if (s == NATS_OK) {
		if (strcmp(argv[optind], "get-plan") || argc - optind > 2)
			printf("allowed\n");
	} else {
		fprintf(stderr, "fleet_probe: %s: %s\n", argv[optind],
			ps_fleet_error(s));
		rc = 2;
	}
	ps_fleet_close(&f);
	nats_Close();
	return rc;
}
