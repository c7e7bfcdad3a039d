/* fleet_sign.c: signing and checking fleet items (see fleet_sign.h). */
#include "fleet_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sodium_ready(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return -1;
	}
	return 0;
}

static int write_hex(const char *path, const unsigned char *b, size_t n,
		     mode_t mode, char *err, size_t errlen)
{
	char hex[2 * PS_SIGN_SK + 2];
	sodium_bin2hex(hex, sizeof(hex), b, n);
	size_t l = strlen(hex);
	hex[l++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int ok = write(fd, hex, l) == (ssize_t)l && fsync(fd) == 0;
	close(fd);
	sodium_memzero(hex, sizeof(hex));
	if (!ok) {
		snprintf(err, errlen, "%s: cannot write", path);
		unlink(path);
		return -1;
	}
	return 0;
}

int ps_sign_keygen(const char *out, char *err, size_t errlen)
{
	unsigned char pk[PS_SIGN_PK], sk[PS_SIGN_SK];
	char pub[4096];
	if (sodium_ready(err, errlen))
		return -1;
	snprintf(pub, sizeof(pub), "%s.pub", out);
	crypto_sign_keypair(pk, sk);
	int rc = write_hex(out, sk, sizeof(sk), 0600, err, errlen);
	if (rc == 0 && (rc = write_hex(pub, pk, sizeof(pk), 0644, err,
				       errlen)) != 0)
		unlink(out);
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

/* The hex key on the first non-comment line of f, n bytes long. */
static int read_hex_line(FILE *f, unsigned char *b, size_t n, int *found)
{
	char line[512];
	*found = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		size_t got = 0;
		const char *end = NULL;
		p[strcspn(p, " \t\r\n")] = 0;
		*found = 1;
		if (strlen(p) != 2 * n ||
		    sodium_hex2bin(b, n, p, strlen(p), NULL, &got, &end) ||
		    got != n)
			return -1;
		return 0;
	}
	return 0;
}

int ps_sign_load_secret(const char *file, unsigned char sk[PS_SIGN_SK],
			char *err, size_t errlen)
{
	if (sodium_ready(err, errlen))
		return -1;
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	int found;
	int rc = read_hex_line(f, sk, PS_SIGN_SK, &found);
	fclose(f);
	if (rc || !found) {
		snprintf(err, errlen, "%s: not a secret key (128 hex digits, "
			 "as parcelsortctl fleet keygen writes)", file);
		return -1;
	}
	return 0;
}

int ps_sign_load_trust(const char *file, struct ps_trust *t, char *err,
		       size_t errlen)
{
	if (sodium_ready(err, errlen))
		return -1;
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	int found, added = 0, rc = 0;
	unsigned char pk[PS_SIGN_PK];
	while ((rc = read_hex_line(f, pk, sizeof(pk), &found)) == 0 && found) {
		if (t->n == PS_TRUST_MAX) {
			rc = -2;
			break;
		}
		memcpy(t->pk[t->n++], pk, sizeof(pk));
		added++;
	}
	fclose(f);
	if (rc == -2)
		snprintf(err, errlen, "%s: more than %d trusted keys", file,
			 PS_TRUST_MAX);
	else if (rc || !added)
		snprintf(err, errlen, "%s: not a list of public keys (64 hex "
			 "digits a line, as in KEY.pub)", file);
	return rc || !added ? -1 : 0;
}

/* The message signed: a header naming what, where and after what, then
 * the item's bytes. */
static unsigned char *message(const char *kind, const char *site,
			      uint64_t after, const char *body, size_t len,
			      size_t *mlen)
{
	char head[256];
	int h = snprintf(head, sizeof(head), "parcelsort-signature v1\n"
			 "kind=%s\nsite=%s\nafter=%" PRIu64 "\n", kind, site,
			 after);
	unsigned char *m = malloc((size_t)h + len + 1);
	if (!m)
		return NULL;
	memcpy(m, head, (size_t)h);
	memcpy(m + h, body, len);
	*mlen = (size_t)h + len;
	return m;
}

void ps_sign_append(struct ps_out *o, const char *kind, const char *site,
		    uint64_t after, const unsigned char sk[PS_SIGN_SK])
{
	unsigned char sig[crypto_sign_BYTES], pk[PS_SIGN_PK];
	char sig_hex[2 * crypto_sign_BYTES + 1], pk_hex[2 * PS_SIGN_PK + 1];
	size_t mlen;
	if (o->len && o->buf[o->len - 1] != '\n')
		ps_out_write(o, "\n", 1);
	unsigned char *m = message(kind, site, after, o->buf, o->len, &mlen);
	if (!m) {
		o->oom = 1;
		return;
	}
	crypto_sign_detached(sig, NULL, m, mlen, sk);
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	free(m);
	sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, sizeof(sig));
	sodium_bin2hex(pk_hex, sizeof(pk_hex), pk, sizeof(pk));
	ps_out_printf(o, PS_SIGN_PREFIX "kind=%s site=%s after=%" PRIu64
		      " key=%s sig=%s\n", kind, site, after, pk_hex, sig_hex);
}

size_t ps_sign_body_len(const char *text, size_t len)
{
	size_t end = len;
	while (end && (text[end - 1] == '\n' || text[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start && text[start - 1] != '\n')
		start--;
	size_t pl = sizeof(PS_SIGN_PREFIX) - 1;
	if (end - start > pl && !memcmp(text + start, PS_SIGN_PREFIX, pl))
		return start;
	return len;
}

static int trusted(const struct ps_trust *t, const unsigned char *pk)
{
	for (int i = 0; i < t->n; i++)
		if (!memcmp(t->pk[i], pk, PS_SIGN_PK))
			return 1;
	return 0;
}

int ps_sign_verify(const char *text, size_t len, const char *kind,
		   const char *site, uint64_t min_after,
		   const struct ps_trust *t, size_t *body_len, char *why,
		   size_t whylen)
{
	size_t body = ps_sign_body_len(text, len);
	if (body == len) {
		snprintf(why, whylen, "not signed (this site takes only "
			 "signed %ss)", kind);
		return -1;
	}
	char line[512], k[16], s[80], pk_hex[80], sig_hex[160];
	unsigned long long after;
	size_t ll = len - body < sizeof(line) - 1 ? len - body
						  : sizeof(line) - 1;
	memcpy(line, text + body, ll);
	line[ll] = 0;
	unsigned char pk[PS_SIGN_PK], sig[crypto_sign_BYTES];
	size_t got1 = 0, got2 = 0;
	if (sodium_init() < 0 ||
	    sscanf(line + sizeof(PS_SIGN_PREFIX) - 1,
		   "kind=%15s site=%79s after=%llu key=%79s sig=%159s", k, s,
		   &after, pk_hex, sig_hex) != 5 ||
	    sodium_hex2bin(pk, sizeof(pk), pk_hex, strlen(pk_hex), NULL,
			   &got1, NULL) || got1 != sizeof(pk) ||
	    sodium_hex2bin(sig, sizeof(sig), sig_hex, strlen(sig_hex), NULL,
			   &got2, NULL) || got2 != sizeof(sig)) {
		snprintf(why, whylen, "malformed signature line");
		return -1;
	}
	if (!trusted(t, pk)) {
		snprintf(why, whylen, "signed by key %.16s..., which this "
			 "site does not trust", pk_hex);
		return -1;
	}
	size_t mlen;
	unsigned char *m = message(k, s, after, text, body, &mlen);
	if (!m) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	int bad = crypto_sign_verify_detached(sig, m, mlen, pk);
	free(m);
	if (bad) {
		snprintf(why, whylen, "bad signature: changed after signing");
		return -1;
	}
	if (strcmp(k, kind)) {
		snprintf(why, whylen, "signed as a %s, not a %s", k, kind);
		return -1;
	}
	if (strcmp(s, site)) {
		snprintf(why, whylen, "signed for site %s, not this one (%s)",
			 s, site);
		return -1;
	}
	if (after < min_after) {
		snprintf(why, whylen, "replayed: signed to follow revision "
			 "%llu, older than revision %" PRIu64 " already "
			 "handled", after, min_after);
		return -1;
	}
	*body_len = body;
	return 0;
}

/* ------------------------------------------- signatures in a header */

int ps_sign_item_line(char *line, size_t n, const struct ps_out *item,
		      const char *kind, const char *site, uint64_t after,
		      const unsigned char sk[PS_SIGN_SK])
{
	struct ps_out o;
	ps_out_init(&o);
	ps_out_write(&o, item->buf, item->len);
	size_t start = o.len;
	ps_sign_append(&o, kind, site, after, sk);
	int rc = -1;
	if (!o.oom && o.len > start + 1 && o.len - start <= n) {
		memcpy(line, o.buf + start, o.len - start - 1);
		line[o.len - start - 1] = 0;    /* without its line break */
		rc = 0;
	}
	ps_out_free(&o);
	return rc;
}

int ps_sign_item_verify(const char *line, const struct ps_out *item,
			const char *kind, const char *site, uint64_t min_after,
			const struct ps_trust *t, char *why, size_t whylen)
{
	struct ps_out o;
	size_t body = 0;
	ps_out_init(&o);
	ps_out_write(&o, item->buf, item->len);
	if (line && *line)
		ps_out_printf(&o, "%s\n", line);
	int rc = o.oom ? -1
		       : ps_sign_verify(o.buf, o.len, kind, site, min_after, t,
					&body, why, whylen);
	if (o.oom)
		snprintf(why, whylen, "out of memory");
	else if (rc == 0 && body != item->len) {
		snprintf(why, whylen, "malformed signature line");
		rc = -1;
	}
	ps_out_free(&o);
	return rc;
}
