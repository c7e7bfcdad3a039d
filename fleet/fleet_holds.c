/* fleet_holds.c: the hold operations' stream, message headers, and the
 * chunking and reassembly of a large hold list, and the signing of hold
 * operations (see fleet_holds.h). */
#include "fleet_holds.h"
#include "fleet.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ------------------------------------------------------------- CRC-32 */

uint32_t ps_crc32(uint32_t crc, const void *p, size_t n)
{
	const Bytef *b = p;
	while (n) {                     /* zlib takes at most 4 GB a call */
		uInt k = n > 0x40000000u ? 0x40000000u : (uInt)n;
		crc = (uint32_t)crc32(crc, b, k);
		b += k;
		n -= k;
	}
	return crc;
}

/* ------------------------------------------------------------ chunks */

uint32_t ps_hold_chunk_count(size_t len, size_t max)
{
	return len ? (uint32_t)((len + max - 1) / max) : 1;
}

void ps_hold_chunk_range(size_t len, size_t max, uint32_t i, size_t *off,
			 size_t *n)
{
	*off = (size_t)i * max;
	if (*off > len)
		*off = len;
	*n = len - *off < max ? len - *off : max;
}

natsStatus ps_hold_chunk_set(natsMsg *m, const struct ps_hold_chunk *c)
{
	char v[4][24];
	snprintf(v[0], sizeof(v[0]), "%u", c->index);
	snprintf(v[1], sizeof(v[1]), "%u", c->count);
	snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)c->size);
	snprintf(v[3], sizeof(v[3]), "%08x", c->crc);
	natsStatus s = natsMsgHeader_Set(m, PS_HOLD_H_OP, "load");
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, PS_HOLD_H_LOAD, c->load);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, PS_HOLD_H_NAME, c->name);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, PS_HOLD_H_CHUNK, v[0]);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, PS_HOLD_H_CHUNKS, v[1]);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, PS_HOLD_H_SIZE, v[2]);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, PS_HOLD_H_CRC, v[3]);
	return s;
}

int ps_hold_chunk_get(natsMsg *m, struct ps_hold_chunk *c)
{
	uint64_t i, n, crc;
	memset(c, 0, sizeof(*c));
	if (ps_fleet_header_str(m, PS_HOLD_H_LOAD, c->load, sizeof(c->load)) ||
	    ps_fleet_header_str(m, PS_HOLD_H_NAME, c->name, sizeof(c->name)) ||
	    ps_fleet_header_num(m, PS_HOLD_H_CHUNK, 10, UINT32_MAX, &i) ||
	    ps_fleet_header_num(m, PS_HOLD_H_CHUNKS, 10, UINT32_MAX, &n) ||
	    ps_fleet_header_num(m, PS_HOLD_H_SIZE, 10, PS_FLEET_HOLDS_MAX_BYTES,
		       &c->size) ||
	    ps_fleet_header_num(m, PS_HOLD_H_CRC, 16, UINT32_MAX, &crc))
		return -1;
	c->index = (uint32_t)i;
	c->count = (uint32_t)n;
	c->crc = (uint32_t)crc;
	return 0;
}

/* --------------------------------------------------------- reassembly */

void ps_hold_asm_init(struct ps_hold_asm *a)
{
	memset(a, 0, sizeof(*a));
	ps_out_init(&a->buf);
}

void ps_hold_asm_free(struct ps_hold_asm *a)
{
	ps_out_free(&a->buf);
	memset(a, 0, sizeof(*a));
}

void ps_hold_asm_reset(struct ps_hold_asm *a)
{
	ps_out_free(&a->buf);
	ps_out_init(&a->buf);
	a->active = 0;
	a->next = 0;
	memset(&a->c, 0, sizeof(a->c));
}

static int refuse(struct ps_hold_asm *a, const char *load, char *why,
		  size_t whylen, const char *fmt, unsigned x, unsigned y)
{
	char msg[160];
	snprintf(msg, sizeof(msg), fmt, x, y);
	snprintf(why, whylen, "load %s refused: %s", load, msg);
	snprintf(a->refused, sizeof(a->refused), "%s", load);
	ps_hold_asm_reset(a);
	return PS_HOLD_BAD;
}

static int same_load(const struct ps_hold_chunk *x,
		     const struct ps_hold_chunk *y)
{
	return x->count == y->count && x->size == y->size &&
	       x->crc == y->crc && !strcmp(x->name, y->name);
}

int ps_hold_asm_add(struct ps_hold_asm *a, const struct ps_hold_chunk *c,
		    const void *data, size_t n, char *why, size_t whylen)
{
	a->dropped[0] = 0;
	/* (a load begun again is no longer the refused one: never active) */
	if (a->refused[0] && !strcmp(a->refused, c->load) && c->index != 0)
		return PS_HOLD_IGNORED;
	if (!c->count || c->index >= c->count ||
	    c->size > PS_FLEET_HOLDS_MAX_BYTES)
		return refuse(a, c->load, why, whylen,
			      "chunk %u of %u is out of range", c->index,
			      c->count);
	if (a->active && strcmp(a->c.load, c->load)) {
		/* cut short by another load (its rest, if it ever comes,
		 * ignored): dropped, and this chunk taken on its own */
		snprintf(a->dropped, sizeof(a->dropped), "load %s refused: "
			 "chunk %u of %u never came (another load followed)",
			 a->c.load, a->next, a->c.count);
		snprintf(a->refused, sizeof(a->refused), "%s", a->c.load);
		ps_hold_asm_reset(a);
	}
	if (!a->active) {
		if (c->index != 0)
			return refuse(a, c->load, why, whylen,
				      "chunk %u came without chunk %u", c->index,
				      0);
		a->active = 1;
		a->c = *c;
		a->next = 0;
		if (!strcmp(a->refused, c->load))
			a->refused[0] = 0;   /* that load begun again */
	}
	if (!same_load(&a->c, c))
		return refuse(a, c->load, why, whylen,
			      "chunk %u disagrees with chunk 0 on the count, "
			      "size, CRC or name%.0u", c->index, 0);
	if (c->index < a->next)
		return refuse(a, c->load, why, whylen,
			      "chunk %u came twice (%u expected)", c->index,
			      a->next);
	if (c->index > a->next)
		return refuse(a, c->load, why, whylen,
			      "chunk %u is missing (chunk %u came)", a->next,
			      c->index);
	if (a->buf.len + n > a->c.size)
		return refuse(a, c->load, why, whylen,
			      "chunk %u goes past the size of %u bytes",
			      c->index, (unsigned)a->c.size);
	ps_out_write(&a->buf, data, n);
	if (a->buf.oom)
		return refuse(a, c->load, why, whylen,
			      "out of memory at chunk %u%.0u", c->index, 0);
	if (++a->next < a->c.count)
		return PS_HOLD_MORE;
	if (a->buf.len != a->c.size)
		return refuse(a, c->load, why, whylen,
			      "%u bytes where %u were announced",
			      (unsigned)a->buf.len, (unsigned)a->c.size);
	uint32_t crc = ps_crc32(0, a->buf.buf, a->buf.len);
	if (crc != a->c.crc)
		return refuse(a, c->load, why, whylen,
			      "CRC-32 %08x where %08x was announced", crc,
			      a->c.crc);
	a->active = 0;
	return PS_HOLD_DONE;
}

/* ------------------------------------------------------- signatures */

void ps_hold_sign_item(struct ps_out *item, const char *op, const char *note,
		       const char *name, const void *data, size_t len)
{
	unsigned char h[crypto_hash_sha512_BYTES];
	char hex[2 * crypto_hash_sha512_BYTES + 1];
	if (sodium_init() < 0) {
		item->oom = 1;
		return;
	}
	crypto_hash_sha512(h, data, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	ps_out_printf(item, "op=%s\nnote=%s\nname=%s\nsize=%zu\nsha512=%s\n",
		      op, note ? note : "", name ? name : "", len, hex);
}

int ps_hold_sign_line(char *line, size_t n, const struct ps_out *item,
		      const char *site, uint64_t after,
		      const unsigned char sk[PS_SIGN_SK])
{
	return ps_sign_item_line(line, n, item, "hold", site, after, sk);
}

int ps_hold_verify(const char *line, const struct ps_out *item,
		   const char *site, uint64_t min_after,
		   const struct ps_trust *t, char *why, size_t whylen)
{
	return ps_sign_item_verify(line, item, "hold", site, min_after, t, why,
				   whylen);
}
