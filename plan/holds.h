/* holds.h: the intercept list (protocol step 6) as the dataplane reads it:
 * an immutable set of 24-byte waybills, built once and never modified,
 * published to the workers through an RCU slot like a plan (the store's
 * ps_store_holds_slot, plan_reader.h) and replaced whole on every change.
 * An open-addressing hash of the waybills with their 64-bit hashes (at
 * most half full: a look-up there is about one cache line, but with a
 * million holds that line is in a 64 MB table), behind a blocked Bloom
 * filter built with it and published with it: about 16 bits a waybill
 * (2 MB for a million), one 64-byte block per waybill, so a waybill that is
 * not held is answered from one cache line that stays in the cache, and
 * the big table is read only for the held ones and about 1 in 1,400 of the
 * others. The filter never forgets a waybill of its set. */
#ifndef PS_HOLDS_H
#define PS_HOLDS_H

#include <stddef.h>
#include <stdint.h>

/* The set's fields are here only for the inline look-ups below (the
 * dataplane's hot path); build and read it through the functions. */
struct ps_holds_block {
	uint64_t w[8];           /* a waybill sets one bit in each word */
} __attribute__((aligned(64)));

struct ps_holds_slot {
	uint64_t hash;           /* 0: empty (a real hash of 0 is stored as 1) */
	uint8_t key[24];
};

struct ps_holds {
	size_t n;
	uint64_t mask;           /* slots - 1 */
	uint64_t fmask;          /* filter blocks - 1 */
	struct ps_holds_block *filter;
	struct ps_holds_slot slot[];
};

/* Build a set of n waybills (24 bytes each, as on the wire; repeats are
 * kept once). Returns NULL when out of memory. */
struct ps_holds *ps_holds_build(const uint8_t (*waybills)[24], size_t n);
void ps_holds_free(struct ps_holds *h);
/* Waybills in the set (NULL: 0). */
size_t ps_holds_count(const struct ps_holds *h);
/* Is the waybill held? NULL h is the empty set. */
int ps_holds_has(const struct ps_holds *h, const uint8_t waybill[24]);
/* Bring the waybill's filter block into the cache ahead of ps_holds_has. */
void ps_holds_prefetch(const struct ps_holds *h, const uint8_t waybill[24]);
/* The filter alone: 0 when the waybill is surely not held, 1 when it may
 * be (then ps_holds_has reads the table). */
int ps_holds_filter_may_have(const struct ps_holds *h,
			     const uint8_t waybill[24]);
/* The filter's size in bytes (NULL: 0). */
size_t ps_holds_filter_bytes(const struct ps_holds *h);
/* The table's look-up past the filter (holds.c). */
int ps_holds_table_has(const struct ps_holds *h, const uint8_t waybill[24],
		       uint64_t hash);

/* The hot path's form, for a non-empty h (ps_holds_count): the waybill's
 * hash once, then its block prefetched and the look-up, both inline. */
static inline uint64_t ps_holds_hash(const uint8_t wb[24])
{
	uint64_t w[3];
	__builtin_memcpy(w, wb, 24);   /* native order: build and look-up agree */
	uint64_t h = w[0] * 0x9e3779b97f4a7c15ull;
	h ^= w[1] * 0xc2b2ae3d27d4eb4full;
	h = (h ^ (h >> 29)) + w[2] * 0x165667b19e3779f9ull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h ? h : 1;
}

/* The block from the hash's high half (the table's slot uses the low
 * bits); one bit in each word from the top 48 bits of a second mix. */
static inline const struct ps_holds_block *
ps_holds_block_of(const struct ps_holds *h, uint64_t hash)
{
	return &h->filter[(hash >> 32) & h->fmask];
}

static inline uint64_t ps_holds_probes(uint64_t hash)
{
	return hash * 0xff51afd7ed558ccdull;
}

static inline unsigned ps_holds_probe_bit(uint64_t probes, unsigned i)
{
	return (unsigned)(probes >> (16 + 6 * i)) & 63u;
}

static inline int ps_holds_filter_hash(const struct ps_holds *h,
				       uint64_t hash)
{
	const struct ps_holds_block *b = ps_holds_block_of(h, hash);
	uint64_t p = ps_holds_probes(hash), all = 1;
	for (unsigned i = 0; i < 8; i++)
		all &= b->w[i] >> ps_holds_probe_bit(p, i);
	return (int)(all & 1);
}

static inline void ps_holds_prefetch_hash(const struct ps_holds *h,
					  uint64_t hash)
{
	__builtin_prefetch(ps_holds_block_of(h, hash));
}

static inline int ps_holds_has_hash(const struct ps_holds *h,
				    const uint8_t wb[24], uint64_t hash)
{
	return ps_holds_filter_hash(h, hash) &&
	       ps_holds_table_has(h, wb, hash);
}

#endif
