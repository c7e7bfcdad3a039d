/* manifest_table.h: the manifest's hash table, waybill (24 bytes) ->
 * region (u64) with an expiry time. One writer at a time (the caller
 * serialises writers), any number of readers that never lock: every bucket
 * carries a sequence counter (a seqlock) that the writer makes odd while
 * it changes the bucket, and a reader retries a bucket whose counter moved.
 * Entries never move once placed; overflow goes to the next bucket and is
 * counted there, so a reader never misses an entry that stays put.
 * Bounded by its capacity; the index is reserved up front but only the
 * pages touched are resident, and entries live in chunks allocated as the
 * table fills. EAL-free, no syscall on the lookup path. */
#ifndef PS_MANIFEST_TABLE_H
#define PS_MANIFEST_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define PS_WB_BYTES 24

struct ps_mtable;

/* capacity: most entries it holds (at least 1). NULL when out of memory. */
struct ps_mtable *ps_mtable_new(uint64_t capacity);
void ps_mtable_free(struct ps_mtable *t);

/* Readers (any thread, lock-free). The region of wb if present and not
 * lapsed at now_ms, else 0. */
uint64_t ps_mtable_get(const struct ps_mtable *t, const uint8_t *wb,
		       uint64_t now_ms);
/* Prefetch wb's home bucket (a look-up to come). */
void ps_mtable_prefetch(const struct ps_mtable *t, const uint8_t *wb);
/* The same, and the entry's expiry (0 when absent or lapsed). */
uint64_t ps_mtable_get_expiry(const struct ps_mtable *t, const uint8_t *wb,
			      uint64_t now_ms, uint64_t *expires_ms);
/* n lookups with the buckets prefetched first; regions[i] = 0 if absent. */
void ps_mtable_get_burst(const struct ps_mtable *t,
			 const uint8_t *const *wbs, unsigned n,
			 uint64_t now_ms, uint64_t *regions);

/* Writer only. */
enum ps_mtable_put {
	PS_MT_ADDED,
	PS_MT_REPLACED,
	PS_MT_FULL,              /* capacity reached: nothing changed */
};
enum ps_mtable_put ps_mtable_put(struct ps_mtable *t, const uint8_t *wb,
				 uint64_t region, uint64_t expires_ms);
/* Puts in batches (a load, a restore): the batch's home buckets are
 * prefetched together, then the puts made in order, so that their cache
 * misses overlap. put returns -1 once the table was full (nothing of that
 * entry or after it changed), flush the same for the entries left. */
#define PS_MT_BATCH 16
struct ps_mtable_batch {
	struct ps_mtable *t;
	unsigned n;
	int full;
	uint8_t wb[PS_MT_BATCH][PS_WB_BYTES];
	uint64_t region[PS_MT_BATCH], expires_ms[PS_MT_BATCH];
};
void ps_mtable_batch_init(struct ps_mtable_batch *b, struct ps_mtable *t);
int ps_mtable_batch_put(struct ps_mtable_batch *b, const uint8_t *wb,
			uint64_t region, uint64_t expires_ms);
int ps_mtable_batch_flush(struct ps_mtable_batch *b);
/* 1 if removed, 0 if absent. */
int ps_mtable_del(struct ps_mtable *t, const uint8_t *wb);
/* Whether wb is present (lapsed or not): the writer's view. */
int ps_mtable_has(const struct ps_mtable *t, const uint8_t *wb);
/* Every entry's expiry set to expires_ms: only for a table no reader
 * can see yet (a staged load at its commit). */
void ps_mtable_set_expiry_all(struct ps_mtable *t, uint64_t expires_ms);
/* Remove every entry lapsed at now_ms; returns how many. */
uint64_t ps_mtable_expire(struct ps_mtable *t, uint64_t now_ms);

/* Writer only: visit every entry (in no order). */
typedef void (*ps_mtable_visit_fn)(void *arg, const uint8_t *wb,
				   uint64_t region, uint64_t expires_ms);
void ps_mtable_each(const struct ps_mtable *t, ps_mtable_visit_fn fn,
		    void *arg);

uint64_t ps_mtable_count(const struct ps_mtable *t);
uint64_t ps_mtable_capacity(const struct ps_mtable *t);
/* Bytes allocated for entries plus the index's reserved size. */
uint64_t ps_mtable_bytes(const struct ps_mtable *t);
/* Smallest expiry among the entries (0 when empty); a full scan. */
uint64_t ps_mtable_min_expiry(const struct ps_mtable *t);

#endif
