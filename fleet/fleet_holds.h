/* fleet_holds.h: the fleet's hold operations (parcelsortctl fleet hold
 * add|del|load) as JetStream messages on parcelsort.holds.SITE: the
 * stream, the message headers, and the chunking of a hold list larger than
 * one message (split by parcelsortctl, reassembled and checked by the site
 * agent before it becomes one `hold load`). docs/fleet.md, "Holds". */
#ifndef PS_FLEET_HOLDS_H
#define PS_FLEET_HOLDS_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "fleet_sign.h"
#include "outbuf.h"

#define PS_FLEET_HOLDS         "PARCELSORT_HOLDS"   /* stream */
#define PS_FLEET_HOLDS_SUBJECT "parcelsort.holds."  /* + site id */
#define PS_FLEET_HOLDS_DUP_WINDOW_S 120
/* room left in a message for its headers */
#define PS_FLEET_HOLDS_HEADROOM 4096
/* the largest list a load may carry (4,000,000 holds with notes) */
#define PS_FLEET_HOLDS_MAX_BYTES (600ull << 20)

/* headers */
#define PS_HOLD_H_OP     "Parcelsort-Hold-Op"     /* add | del | load */
#define PS_HOLD_H_NOTE   "Parcelsort-Hold-Note"   /* add: the note */
#define PS_HOLD_H_LOAD   "Parcelsort-Hold-Load"   /* load: its id */
#define PS_HOLD_H_NAME   "Parcelsort-Hold-Name"   /* load: the file's name */
#define PS_HOLD_H_CHUNK  "Parcelsort-Hold-Chunk"  /* 0-based index */
#define PS_HOLD_H_CHUNKS "Parcelsort-Hold-Chunks" /* how many */
#define PS_HOLD_H_SIZE   "Parcelsort-Hold-Size"   /* the list's bytes */
#define PS_HOLD_H_CRC    "Parcelsort-Hold-Crc"    /* CRC-32 of the list, hex */
/* --sign: the signature line (fleet_sign.h, kind=hold), on an add or del
 * and on the last chunk of a load */
#define PS_HOLD_H_SIG    "Parcelsort-Hold-Sig"

/* CRC-32 (IEEE, as zlib's crc32): crc 0 to start. */
uint32_t ps_crc32(uint32_t crc, const void *p, size_t n);

/* One chunk of a load, as its headers say. */
struct ps_hold_chunk {
	char load[48];           /* load id */
	char name[128];          /* the file's name, for FILE:LINE */
	uint32_t index, count;
	uint64_t size;           /* the whole list's bytes */
	uint32_t crc;            /* the whole list's CRC-32 */
};

/* How a list of len bytes is cut into chunks of at most max bytes: the
 * count (at least 1: an empty list is one empty chunk), and chunk i's
 * offset and length. */
uint32_t ps_hold_chunk_count(size_t len, size_t max);
void ps_hold_chunk_range(size_t len, size_t max, uint32_t i, size_t *off,
			 size_t *n);

/* Headers of a load chunk, set on m / read from m (-1: missing or bad). */
natsStatus ps_hold_chunk_set(natsMsg *m, const struct ps_hold_chunk *c);
int ps_hold_chunk_get(natsMsg *m, struct ps_hold_chunk *c);

/* Reassembly at the site: chunks in order, each once, all agreeing on
 * the load's id, count, size and CRC; the whole checked at the end. */
enum {
	PS_HOLD_MORE = 0,        /* taken; more chunks to come */
	PS_HOLD_DONE = 1,        /* the list is whole and checked: buf */
	PS_HOLD_BAD = -1,        /* refused (why): the load is dropped */
	PS_HOLD_IGNORED = 2,     /* a later chunk of a load already refused */
};

struct ps_hold_asm {
	int active;
	struct ps_hold_chunk c;  /* the load being assembled */
	uint32_t next;           /* the index expected next */
	char refused[48];        /* the last load refused: its rest ignored */
	/* a load cut short by a chunk of another (an interrupted
	 * parcelsortctl run again): why it was dropped, for the caller to
	 * report ("" when none); the other load's chunk is then taken as
	 * if none had been under way */
	char dropped[256];
	struct ps_out buf;
};

void ps_hold_asm_init(struct ps_hold_asm *a);
void ps_hold_asm_free(struct ps_hold_asm *a);
/* Forget the load being assembled (its buffer too). */
void ps_hold_asm_reset(struct ps_hold_asm *a);
int ps_hold_asm_add(struct ps_hold_asm *a, const struct ps_hold_chunk *c,
		    const void *data, size_t n, char *why, size_t whylen);

/* Signed hold operations. What a signature covers is the operation's
 * item, a short text
 *   "op=OP\nnote=NOTE\nname=NAME\nsize=N\nsha512=HEX\n"
 * (note: add's --note, name: a load's file name, both empty otherwise;
 * N and HEX: the size and SHA-512 of the message body, or of a load's
 * whole reassembled list), in the envelope of fleet_sign.h with kind=hold,
 * the site id and after=R, R the last stream sequence on the site's
 * subject when signed: the operation follows it. The signature line
 * travels in the header PS_HOLD_H_SIG, never in the body. */
void ps_hold_sign_item(struct ps_out *item, const char *op, const char *note,
		       const char *name, const void *data, size_t len);
/* The signature line (no line break) of item for site, after R. */
int ps_hold_sign_line(char *line, size_t n, const struct ps_out *item,
		      const char *site, uint64_t after,
		      const unsigned char sk[PS_SIGN_SK]);
/* Check line (NULL: not signed) against item, for site, following a
 * revision not older than min_after: 0, or -1 and why. */
int ps_hold_verify(const char *line, const struct ps_out *item,
		   const char *site, uint64_t min_after,
		   const struct ps_trust *t, char *why, size_t whylen);

#endif
