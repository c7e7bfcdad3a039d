/* fleet_nats.c: connecting to the NATS cluster and binding the fleet's
 * buckets and stream (see fleet.h). */
#include "fleet.h"
#include "fleet_sign.h"
#include "fleet_holds.h"
#include "fleet_nkey.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t ps_fleet_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

const char *ps_fleet_error(natsStatus s)
{
	const char *last = nats_GetLastError(NULL);
	return last && *last ? last : natsStatus_GetText(s);
}

int ps_fleet_site_ok(const char *site)
{
	size_t n = strlen(site);
	if (!n || n > PS_FLEET_SITE_MAX)
		return 0;
	for (; *site; site++)
		if (!((*site >= 'a' && *site <= 'z') ||
		      (*site >= 'A' && *site <= 'Z') ||
		      (*site >= '0' && *site <= '9') || *site == '_' ||
		      *site == '-'))
			return 0;
	return 1;
}

void ps_fleet_key(char *out, size_t n, const char *site)
{
	snprintf(out, n, "site.%s", site);
}

int ps_fleet_sec_option(struct ps_fleet_sec *c, int id, const char *arg)
{
	const char **slot[] = { &c->ca, &c->cert, &c->key, &c->tls_name,
				&c->creds, &c->user, &c->password_file,
				&c->inbox };
	if (id < 1000 || id >= 1000 + (int)(sizeof(slot) / sizeof(slot[0])))
		return 0;
	*slot[id - 1000] = arg;
	return 1;
}

const char ps_fleet_sec_usage[] =
"  --nats-ca FILE     TLS: trust only this CA, verify the servers'\n"
"                     certificates and their name (tls:// URLs need it)\n"
"  --nats-tls-name N  the name the servers' certificates must carry\n"
"                     (default: the host of the first URL)\n"
"  --nats-cert FILE --nats-key FILE   a client certificate, when the\n"
"                     cluster asks for one\n"
"  --nats-creds FILE  a NATS credentials file (JWT + nkey seed), or a\n"
"                     user nkey seed (SU...) for an nkey user\n"
"  --nats-user NAME --nats-password-file FILE   user and password\n"
"                     (or nats://user:password@host in the URL)\n"
"  --nats-inbox PFX   the prefix of reply subjects (default _INBOX; the\n"
"                     agent's: _INBOX_site_ID), as the permissions say\n";

/* Split "a,b,c" into the options' server list. */
static natsStatus set_servers(natsOptions *o, const char *servers)
{
	char *copy = strdup(servers), *save = NULL;
	const char *v[32];
	int n = 0;
	if (!copy)
		return NATS_NO_MEMORY;
	for (char *t = strtok_r(copy, ",", &save); t && n < 32;
	     t = strtok_r(NULL, ",", &save))
		v[n++] = t;
	natsStatus s = n ? natsOptions_SetServers(o, v, n) : NATS_INVALID_ARG;
	free(copy);
	return s;
}

/* The host of the first URL ("tls://u:p@host:port,..." -> host). */
static void first_host(const char *servers, char *out, size_t n)
{
	const char *p = strstr(servers, "://");
	p = p ? p + 3 : servers;
	size_t len = strcspn(p, ",/");
	const char *at = memchr(p, '@', len);
	if (at) {
		len -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	size_t h = p[0] == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":,/");
	snprintf(out, n, "%.*s", (int)(h < len ? h : len), p);
}

/* The first line of a password file. */
static natsStatus read_password(const char *file, char *out, size_t n)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return NATS_INVALID_ARG;      /* check_files said why */
	if (!fgets(out, (int)n, f))
		out[0] = 0;
	fclose(f);
	out[strcspn(out, "\r\n")] = 0;
	return NATS_OK;
}

/* An nkey user's answer to the server's nonce: signed with its seed. */
static natsStatus sign_nonce(char **why, unsigned char **sig, int *len,
			     const char *nonce, void *closure)
{
	const struct ps_fleet *f = closure;
	(void)why;
	return nats_Sign(f->nkey_seed, nonce, sig, len);
}

/* --nats-creds: a JWT creds file as libnats reads it, or an nkey seed. */
static natsStatus set_creds(natsOptions *no, struct ps_fleet *f,
			    const char *file)
{
	char seed[PS_NKEY_SEED_LEN + 1], pub[PS_NKEY_PUB_LEN + 1], err[256];
	int kind = ps_creds_read(file, seed, pub, err, sizeof(err));
	if (kind == PS_CREDS_JWT)
		return natsOptions_SetUserCredentialsFromFiles(no, file, NULL);
	if (kind != PS_CREDS_NKEY)
		return NATS_INVALID_ARG;     /* ps_fleet_open said why */
	snprintf(f->nkey_seed, sizeof(f->nkey_seed), "%s", seed);
	sodium_memzero(seed, sizeof(seed));
	return natsOptions_SetNKey(no, pub, sign_nonce, f);
}

/* TLS with hostname verification, and the credential, if asked for. */
static natsStatus set_security(natsOptions *no, struct ps_fleet *f,
			       const struct ps_fleet_opts *o)
{
	const struct ps_fleet_sec *c = &o->sec;
	natsStatus s = NATS_OK;
	if (c->ca) {
		char host[256];
		if (c->tls_name)
			snprintf(host, sizeof(host), "%s", c->tls_name);
		else
			first_host(o->servers, host, sizeof(host));
		s = natsOptions_SetSecure(no, true);
		if (s == NATS_OK)
			s = natsOptions_LoadCATrustedCertificates(no, c->ca);
		if (s == NATS_OK)
			s = natsOptions_SetExpectedHostname(no, host);
	}
	if (s == NATS_OK && c->cert && c->key)
		s = natsOptions_LoadCertificatesChain(no, c->cert, c->key);
	if (s == NATS_OK && c->creds)
		s = set_creds(no, f, c->creds);
	if (s == NATS_OK && c->user) {
		char pw[512] = "";
		if (c->password_file)
			s = read_password(c->password_file, pw, sizeof(pw));
		if (s == NATS_OK)
			s = natsOptions_SetUserInfo(no, c->user, pw);
		memset(pw, 0, sizeof(pw));
	}
	if (s == NATS_OK && c->inbox)
		s = natsOptions_SetCustomInboxPrefix(no, c->inbox);
	return s;
}

/* A connection that failed on TLS or on the credential says so somewhere
 * in libnats's error stack, under "no server available": the line, and
 * the status it stands for; NATS_OK when neither. */
static natsStatus refused_by_server(char *why, size_t n)
{
	char stack[2048] = "";
	const char *marks[] = { "certificate", "SSL", "Authorization",
				"authorization", "Authentication" };
	nats_GetLastErrorStack(stack, sizeof(stack));
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *m = strstr(stack, marks[i]);
		if (!m)
			continue;
		const char *b = m, *e = m + strcspn(m, "\n");
		while (b > stack && b[-1] != '\n')
			b--;
		snprintf(why, n, "%.*s", (int)(e - b), b);
		return i < 2 ? NATS_SSL_ERROR : NATS_CONNECTION_AUTH_FAILED;
	}
	return NATS_OK;
}

static natsStatus connect_nats(struct ps_fleet *f, const struct ps_fleet_opts *o,
			       char *why, size_t whylen)
{
	natsOptions *no = NULL;
	natsStatus s = natsOptions_Create(&no);
	if (s == NATS_OK)
		s = set_security(no, f, o);
	if (s == NATS_OK)
		s = set_servers(no, o->servers);
	if (s == NATS_OK)
		s = natsOptions_SetName(no, o->name);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(no, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(no, 100);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(no, o->persistent ? -1 : 20);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(no, 32 << 20);
	if (s == NATS_OK)
		s = natsConnection_Connect(&f->nc, no);
	if (s != NATS_OK) {
		natsStatus r = refused_by_server(why, whylen);
		s = r != NATS_OK ? r : s;
	}
	/* a persistent client keeps trying while no server answers, but a
	 * server that answers and fails TLS or refuses the credential is a
	 * configuration error: said at once, not retried for ever */
	if (o->persistent && s != NATS_OK && s != NATS_SSL_ERROR &&
	    s != NATS_NOT_PERMITTED && s != NATS_CONNECTION_AUTH_FAILED &&
	    s != NATS_INVALID_ARG && s != NATS_NO_MEMORY) {
		s = natsOptions_SetRetryOnFailedConnect(no, true, NULL, NULL);
		if (s == NATS_OK)
			s = natsConnection_Connect(&f->nc, no);
	}
	natsOptions_Destroy(no);
	return s;
}

static natsStatus open_js(struct ps_fleet *f, const struct ps_fleet_opts *o)
{
	jsOptions jo;
	jsOptions_Init(&jo);
	jo.Wait = 5000;
	jo.PublishAsync.MaxPending = 256;
	jo.PublishAsync.ErrHandler = o->on_pub_error;
	jo.PublishAsync.ErrHandlerClosure = o->on_pub_error_arg;
	return natsConnection_JetStream(&f->js, f->nc, &jo);
}

static natsStatus bind_kv(struct ps_fleet *f, kvStore **kv, const char *bucket,
			  int history, int replicas)
{
	if (*kv)
		return NATS_OK;          /* bound on an earlier try */
	natsStatus s = js_KeyValue(kv, f->js, bucket);
	if (s != NATS_NOT_FOUND)
		return s;
	kvConfig c;
	kvConfig_Init(&c);
	c.Bucket = bucket;
	c.History = (uint8_t)history;
	c.Replicas = replicas;
	c.StorageType = js_FileStorage;
	return js_CreateKeyValue(kv, f->js, &c);
}

natsStatus ps_fleet_bind_stream(struct ps_fleet *f, const char *name,
				const char *subject, int replicas,
				int64_t dup_window_s, int64_t max_age_s,
				bool allow_direct)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, f->js, name, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return s;
	}
	if (s != NATS_NOT_FOUND)
		return s;
	jsStreamConfig c;
	jsStreamConfig_Init(&c);
	const char *subjects[] = { subject };
	c.Name = name;
	c.Subjects = subjects;
	c.SubjectsLen = 1;
	c.Storage = js_FileStorage;
	c.Replicas = replicas;
	c.Duplicates = dup_window_s * 1000000000;
	c.MaxAge = max_age_s * 1000000000;
	c.AllowDirect = allow_direct;
	s = js_AddStream(&si, f->js, &c, NULL, &jerr);
	if (s == NATS_OK)
		jsStreamInfo_Destroy(si);
	return s;
}

static natsStatus bind_all(struct ps_fleet *f, int replicas, int holds)
{
	natsStatus s = bind_kv(f, &f->plans, PS_FLEET_PLANS,
			       PS_FLEET_PLAN_HISTORY, replicas);
	if (s == NATS_OK)
		s = bind_kv(f, &f->status, PS_FLEET_STATUS, 1, replicas);
	if (s == NATS_OK)
		s = ps_fleet_bind_stream(f, PS_FLEET_EVENTS,
					 PS_FLEET_SUBJECT ">", replicas,
					 PS_FLEET_DUP_WINDOW_S, 0, true);
	if (s == NATS_OK && holds)
		s = ps_fleet_bind_stream(f, PS_FLEET_HOLDS,
					 PS_FLEET_HOLDS_SUBJECT ">", replicas,
					 PS_FLEET_HOLDS_DUP_WINDOW_S, 0, false);
	return s;
}

/* The files of the security options: readable, and paired. */
static int check_files(const struct ps_fleet_sec *c, char *err, size_t errlen)
{
	const char *files[] = { c->ca, c->cert, c->key, c->creds,
				c->password_file };
	if (!c->cert != !c->key) {
		snprintf(err, errlen, "--nats-cert and --nats-key go together");
		return -1;
	}
	if (c->password_file && !c->user) {
		snprintf(err, errlen, "--nats-password-file needs --nats-user");
		return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i] && access(files[i], R_OK)) {
			snprintf(err, errlen, "%s: cannot read it", files[i]);
			return -1;
		}
	char seed[PS_NKEY_SEED_LEN + 1], pub[PS_NKEY_PUB_LEN + 1];
	if (c->creds && ps_creds_read(c->creds, seed, pub, err, errlen) < 0)
		return -1;
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

int ps_fleet_open(struct ps_fleet *f, const struct ps_fleet_opts *o,
		  char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (check_files(&o->sec, err, errlen))
		return -1;
	char why[512] = "";
	natsStatus s = connect_nats(f, o, why, sizeof(why));
	if (s == NATS_OK)
		s = open_js(f, o);
	/* a cluster just started elects its JetStream leader first: a
	 * persistent client waits for it, a command gives it ten seconds */
	int tries = o->persistent ? -1 : 40;
	while (s == NATS_OK && (s = bind_all(f, o->replicas, o->holds)) != NATS_OK &&
	       tries-- != 0 && !(o->stop && *o->stop)) {
		nats_Sleep(250);
		s = NATS_OK;
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "NATS at %s: %s%s", o->servers,
			 *why ? why : ps_fleet_error(s), s == NATS_SSL_ERROR
			 ? " (refused: the server's certificate does not verify "
			   "against --nats-ca, or does not name the host)" :
			 (s == NATS_CONNECTION_AUTH_FAILED ||
			  s == NATS_NOT_PERMITTED)
			 ? " (refused: the credential is not accepted)" : "");
		ps_fleet_close(f);
		return -1;
	}
	return 0;
}

void ps_fleet_close(struct ps_fleet *f)
{
	if (f->plans)
		kvStore_Destroy(f->plans);
	if (f->status)
		kvStore_Destroy(f->status);
	if (f->js)
		jsCtx_Destroy(f->js);
	if (f->nc)
		natsConnection_Destroy(f->nc);
	sodium_memzero(f, sizeof(*f));
}

/* ------------------------------------------------------------ trailer */

static const char TRAILER[] = "# parcelsort-fleet file=";

void ps_fleet_trailer(struct ps_out *o, const char *file, uint64_t ms)
{
	if (o->len && o->buf[o->len - 1] != '\n')
		ps_out_write(o, "\n", 1);
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	char safe[128];
	size_t k = 0;
	for (; *base && k + 1 < sizeof(safe); base++)
		safe[k++] = (*base > ' ' && *base < 0x7f) ? *base : '_';
	safe[k] = 0;
	ps_out_printf(o, "%s%s pushed_ms=%llu\n", TRAILER, safe,
		      (unsigned long long)ms);
}

void ps_fleet_trailer_parse(const char *text, size_t len, char *file,
			    size_t file_len, uint64_t *pushed_ms)
{
	snprintf(file, file_len, "fleet");
	*pushed_ms = 0;
	len = ps_sign_body_len(text, len);     /* past a signature line */
	/* the last line */
	size_t end = len;
	while (end && (text[end - 1] == '\n' || text[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start && text[start - 1] != '\n')
		start--;
	size_t tl = sizeof(TRAILER) - 1;
	if (end - start <= tl || memcmp(text + start, TRAILER, tl))
		return;
	char line[256];
	size_t n = end - start < sizeof(line) - 1 ? end - start
						   : sizeof(line) - 1;
	memcpy(line, text + start, n);
	line[n] = 0;
	char name[128];
	unsigned long long ms;
	if (sscanf(line + tl, "%127s pushed_ms=%llu", name, &ms) == 2) {
		snprintf(file, file_len, "%s", name);
		*pushed_ms = ms;
	}
}

/* --------------------------------------------------------------- JSON */

static const char *find_key(const char *json, const char *key)
{
	char pat[80];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	return p ? p + strlen(pat) : NULL;
}

int ps_json_u64(const char *json, const char *key, uint64_t *v)
{
	const char *p = find_key(json, key);
	if (!p || *p < '0' || *p > '9')
		return -1;
	*v = strtoull(p, NULL, 10);
	return 0;
}

/* Decode the JSON string at p (after its opening quote) into o; returns
 * the position after its closing quote, or NULL. */
static const char *decode_str(const char *p, struct ps_out *o)
{
	while (*p && *p != '"') {
		if (*p != '\\') {
			ps_out_write(o, p++, 1);
			continue;
		}
		p++;
		char c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
		if (*p == 'u' && p[1] && p[2] && p[3] && p[4]) {
			char hex[5] = { p[1], p[2], p[3], p[4], 0 };
			c = (char)strtoul(hex, NULL, 16);
			p += 4;
		}
		if (!*p)
			return NULL;
		ps_out_write(o, &c, 1);
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

int ps_json_str(const char *json, const char *key, char *out, size_t n)
{
	const char *p = find_key(json, key);
	if (!p || *p != '"')
		return -1;
	struct ps_out o;
	ps_out_init(&o);
	int rc = decode_str(p + 1, &o) && !o.oom ? 0 : -1;
	snprintf(out, n, "%.*s", (int)o.len, o.len ? o.buf : "");
	ps_out_free(&o);
	return rc;
}

int ps_json_str_array(const char *json, const char *key, struct ps_out *o)
{
	const char *p = find_key(json, key);
	if (!p || *p != '[')
		return -1;
	p++;
	while (*p == '"') {
		p = decode_str(p + 1, o);
		if (!p)
			return -1;
		ps_out_write(o, "\n", 1);
		if (*p == ',')
			p++;
	}
	return *p == ']' ? 0 : -1;
}

int ps_fleet_header_num(natsMsg *m, const char *key, int base, uint64_t max,
			uint64_t *v)
{
	const char *s = NULL;
	char *end;
	if (natsMsgHeader_Get(m, key, &s) != NATS_OK || !s || !*s)
		return -1;
	*v = strtoull(s, &end, base);
	return *end || *v > max ? -1 : 0;
}

int ps_fleet_header_str(natsMsg *m, const char *key, char *out, size_t n)
{
	const char *s = NULL;
	if (natsMsgHeader_Get(m, key, &s) != NATS_OK || !s || !*s ||
	    strlen(s) >= n)
		return -1;
	snprintf(out, n, "%s", s);
	return 0;
}
