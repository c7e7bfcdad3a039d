/* fleet_manifest.c: the manifest batches' names, cutting, headers and
 * signed item (see fleet_manifest.h). */
#include "fleet_manifest.h"
#include "fleet.h"

#include <inttypes.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ps_man_stream(char *out, size_t n, const char *site)
{
	snprintf(out, n, PS_FLEET_MANIFEST_STREAM "%s", site);
}

void ps_man_subject(char *out, size_t n, const char *site)
{
	snprintf(out, n, PS_FLEET_MANIFEST_SUBJECT "%s", site);
}

size_t ps_man_cut(const char *text, size_t len, size_t off, size_t max,
		  uint32_t *lines)
{
	size_t n = len - off;
	if (n > max) {
		const char *nl = memrchr(text + off, '\n', max);
		n = nl ? (size_t)(nl - (text + off)) + 1 : 0;
	}
	uint32_t k = 0;
	for (const char *p = text + off, *e = p + n;
	     (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		k++;
	*lines = k;
	return n;
}

uint32_t ps_man_batch_count(const char *text, size_t len, size_t max)
{
	uint32_t count = 0, lines;
	for (size_t off = 0; off < len; count++) {
		size_t n = ps_man_cut(text, len, off, max, &lines);
		if (!n)
			return 0;
		off += n;
	}
	return count;
}

natsStatus ps_man_batch_set(natsMsg *m, const struct ps_man_batch *b)
{
	char v[5][24];
	snprintf(v[0], sizeof(v[0]), "%u", b->index);
	snprintf(v[1], sizeof(v[1]), "%u", b->count);
	snprintf(v[2], sizeof(v[2]), "%u", b->first_line);
	snprintf(v[3], sizeof(v[3]), "%08x", b->crc);
	snprintf(v[4], sizeof(v[4]), "%llu", (unsigned long long)b->pushed_ms);
	const char *k[] = { PS_MAN_H_PUSH, PS_MAN_H_NAME, PS_MAN_H_BATCH,
			    PS_MAN_H_BATCHES, PS_MAN_H_LINE, PS_MAN_H_CRC,
			    PS_MAN_H_PUSHED };
	const char *val[] = { b->push, b->name, v[0], v[1], v[2], v[3], v[4] };
	natsStatus s = NATS_OK;
	for (size_t i = 0; s == NATS_OK && i < sizeof(k) / sizeof(k[0]); i++)
		s = natsMsgHeader_Set(m, k[i], val[i]);
	return s;
}

int ps_man_batch_get(natsMsg *m, struct ps_man_batch *b)
{
	uint64_t i, n, line, crc;
	memset(b, 0, sizeof(*b));
	if (ps_fleet_header_str(m, PS_MAN_H_PUSH, b->push, sizeof(b->push)) ||
	    ps_fleet_header_str(m, PS_MAN_H_NAME, b->name, sizeof(b->name)) ||
	    ps_fleet_header_num(m, PS_MAN_H_BATCH, 10, UINT32_MAX, &i) ||
	    ps_fleet_header_num(m, PS_MAN_H_BATCHES, 10, UINT32_MAX, &n) ||
	    ps_fleet_header_num(m, PS_MAN_H_LINE, 10, UINT32_MAX / 2, &line) ||
	    ps_fleet_header_num(m, PS_MAN_H_CRC, 16, UINT32_MAX, &crc) ||
	    ps_fleet_header_num(m, PS_MAN_H_PUSHED, 10, UINT64_MAX, &b->pushed_ms) ||
	    !n || i >= n || !line)
		return -1;
	b->index = (uint32_t)i;
	b->count = (uint32_t)n;
	b->first_line = (uint32_t)line;
	b->crc = (uint32_t)crc;
	return 0;
}

void ps_man_sign_item(struct ps_out *item, const struct ps_man_batch *b,
		      const void *text, size_t len)
{
	unsigned char h[crypto_hash_sha512_BYTES];
	char hex[2 * crypto_hash_sha512_BYTES + 1];
	if (sodium_init() < 0) {
		item->oom = 1;
		return;
	}
	crypto_hash_sha512(h, text, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	ps_out_printf(item, "push=%s\nname=%s\nbatch=%u\nbatches=%u\nline=%u\n"
		      "size=%zu\nsha512=%s\n", b->push, b->name, b->index,
		      b->count, b->first_line, len, hex);
}

int ps_man_verify(const char *sig_line, const struct ps_man_batch *b,
		  const char *text, size_t len, const char *site,
		  uint64_t applied, uint64_t seq, const struct ps_trust *t,
		  char *why, size_t whylen)
{
	struct ps_out item;
	ps_out_init(&item);
	ps_man_sign_item(&item, b, text, len);
	int rc = ps_sign_item_verify(sig_line, &item, "manifest", site,
				     applied, t, why, whylen);
	ps_out_free(&item);
	if (rc)
		return rc;
	/* verified: the line is well formed and names its after=R */
	const char *p = strstr(sig_line, " after=");
	unsigned long long after = p ? strtoull(p + 7, NULL, 10) : 0;
	if (!p || after >= seq) {
		snprintf(why, whylen, "out of place: signed to follow revision "
			 "%llu, delivered as revision %" PRIu64, after, seq);
		return -1;
	}
	return 0;
}

int ps_man_load_batches(int64_t max_payload)
{
	int64_t n = max_payload > 0 ? PS_MAN_LOAD_BYTES / max_payload : 8;
	return n < 1 ? 1 : n > PS_MAN_LOAD_BATCHES ? PS_MAN_LOAD_BATCHES
						    : (int)n;
}
