/* holds.h: the intercept list (protocol step 6) as the dataplane reads it:
 * an immutable set of 24-byte waybills, built once and never modified,
 * published to the workers through an RCU slot like a plan (the store's
 * ps_store_holds_slot, plan_reader.h) and replaced whole on every change.
 * An open-addressing hash of the waybills with their 64-bit hashes (at
 * most half full: a look-up there is about one cache line, but with a
 * million holds that line is in a 64 MB table), behind a split-block Bloom
 * filter built with it and published with it: about 16 bits a waybill
 * (2 MB for a million) in 32-byte blocks of eight 32-bit words, a waybill
 * setting one bit in each word of one block. A waybill that is not held
 * is answered from its block alone (one AVX2 multiply, shift and test
 * where the CPU has it, eight scalar ones else), and the big table is read
 * only for the held ones and about 1 in 1,000 of the others. The filter
 * never forgets a waybill of its set.
 *
 * The hash is the duplicate window's (ps_wb_hash64, common/): the
 * dataplane takes it once per sortable record and hands it to both. */
#ifndef PS_HOLDS_H
#define PS_HOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "ps_wbhash.h"

/* The set's fields are here only for the inline look-ups below (the
 * dataplane's hot path); build and read it through the functions. */
struct ps_holds_block {
	uint32_t w[8];           /* a waybill sets one bit in each word */
} __attribute__((aligned(32)));

struct ps_holds_slot {
	uint64_t hash;           /* 0: empty (a real hash of 0 is stored as 1) */
	uint8_t key[24];
};

struct ps_holds {
	size_t n;
	uint64_t mask;           /* slots - 1 */
	uint64_t fmask;          /* filter blocks - 1 */
	struct ps_holds_block *filter;
	size_t bytes;            /* this struct with its slots */
	int simd;                /* the burst test may use AVX2 */
	struct ps_holds_slot slot[] __attribute__((aligned(64)));  /* two a
				  * cache line, none across one */
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
/* The filter for a burst, for a non-empty h: maybe[k] = the filter's
 * answer for hash[k], for each k of at[0..n) (at NULL: k = 0..n-1). With
 * AVX2 a handful of instructions a record and no branch, so the blocks'
 * misses overlap. */
void ps_holds_filter_burst(const struct ps_holds *h, const uint64_t *hash,
			   const uint16_t *at, unsigned n, uint8_t *maybe);
/* The same with the portable test (the AVX2 one must agree with it). */
void ps_holds_filter_burst_portable(const struct ps_holds *h,
				    const uint64_t *hash, const uint16_t *at,
				    unsigned n, uint8_t *maybe);

/* The hot path's form, for a non-empty h (ps_holds_count): the waybill's
 * hash (the duplicate window's), its block prefetched, the look-up. */
static inline uint64_t ps_holds_hash(const uint8_t wb[24])
{
	return ps_wb_hash64(wb);
}

/* The block from the hash's high half (the table's slot and the bits in
 * the block use the low half). */
static inline const struct ps_holds_block *
ps_holds_block_of(const struct ps_holds *h, uint64_t hash)
{
	return &h->filter[(hash >> 32) & h->fmask];
}

/* The bit a hash sets in word i of its block: the top 5 bits of the low
 * half times word i's odd salt. */
static inline uint32_t ps_holds_bit(uint64_t hash, unsigned i)
{
	static const uint32_t salt[8] = {
		0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
		0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u,
	};
	return 1u << (((uint32_t)hash * salt[i]) >> 27);
}

static inline int ps_holds_filter_hash(const struct ps_holds *h,
				       uint64_t hash)
{
	const struct ps_holds_block *b = ps_holds_block_of(h, hash);
	uint32_t missing = 0;
	for (unsigned i = 0; i < 8; i++)
		missing |= ps_holds_bit(hash, i) & ~b->w[i];
	return missing == 0;
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
