/* manifest_table.c: the seqlock-bucketed table of manifest_table.h.
 *
 * Index: buckets of one cache line, each a sequence counter, an overflow
 * count (entries whose home is this bucket or an earlier one but that were
 * placed further on) and seven slots (tag, entry number + 1). Entries (key,
 * region, expiry) live in chunks of 64 Ki that are allocated as needed and
 * never freed before the table; a freed entry goes on a free list threaded
 * through its region field, marked by expiry 0. */
#include "manifest_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SLOTS 7
#define CHUNK_SHIFT 16
#define CHUNK_ENTRIES (1u << CHUNK_SHIFT)
#define NO_ENTRY UINT32_MAX
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25         /* Linux 6.1; older kernels refuse it */
#endif

struct bucket {
	uint32_t seq;
	uint32_t ovf;
	uint32_t tag[SLOTS];
	uint32_t idx[SLOTS];     /* entry number + 1; 0 = empty slot */
} __attribute__((aligned(64)));

struct entry {
	uint64_t key[3];
	uint64_t region;         /* next free entry when expires_ms == 0 */
	uint64_t expires_ms;     /* 0 = free entry */
};

struct ps_mtable {
	struct bucket *b;
	uint64_t nb;
	size_t index_bytes;
	struct entry **chunks;
	struct entry *entries;   /* reserved for capacity, resident as used */
	size_t entries_bytes;
	uint32_t n_chunks;       /* allocated */
	uint32_t max_chunks;
	uint64_t capacity;
	uint64_t count;
	uint32_t fresh;          /* entries ever handed out */
	uint32_t free_head;
	int index_huge;          /* the index asked for huge pages */
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static inline uint64_t rotl(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

static inline void key_words(const uint8_t *wb, uint64_t k[3])
{
	memcpy(k, wb, 24);
}

static inline uint64_t key_hash(const uint64_t k[3])
{
	uint64_t h = k[0] * 0x9e3779b97f4a7c15ull;
	h ^= rotl(k[1] * 0xc2b2ae3d27d4eb4full, 31);
	h ^= rotl(k[2] * 0x165667b19e3779f9ull, 17);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static inline uint64_t home_of(const struct ps_mtable *t, uint64_t h)
{
	return ((h & 0xffffffffu) * t->nb) >> 32;
}

static inline uint64_t next_bucket(const struct ps_mtable *t, uint64_t b)
{
	return b + 1 == t->nb ? 0 : b + 1;
}

/* The entry of number i, or NULL when its chunk is not visible yet (only
 * a reader racing the writer can see that; its sequence check retries). */
static inline struct entry *entry_at(const struct ps_mtable *t, uint32_t i)
{
	struct entry *c = __atomic_load_n(&t->chunks[i >> CHUNK_SHIFT],
					  __ATOMIC_ACQUIRE);
	return c ? &c[i & (CHUNK_ENTRIES - 1)] : NULL;
}

struct ps_mtable *ps_mtable_new(uint64_t capacity)
{
	if (capacity == 0 || capacity >= UINT32_MAX - 1)
		return NULL;
	struct ps_mtable *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->capacity = capacity;
	/* at most 80 % of the slots used at capacity */
	t->nb = (capacity * 10 + 55) / 56;
	if (t->nb == 0)
		t->nb = 1;
	t->index_bytes = (size_t)t->nb * sizeof(struct bucket);
	/* reserved, not resident: pages come in as buckets are touched */
	t->b = mmap(NULL, t->index_bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	t->max_chunks = (uint32_t)((capacity + CHUNK_ENTRIES - 1) >> CHUNK_SHIFT);
	t->chunks = calloc(t->max_chunks, sizeof(*t->chunks));
	t->entries_bytes = (size_t)t->max_chunks * CHUNK_ENTRIES *
			   sizeof(struct entry);
	t->entries = mmap(NULL, t->entries_bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->entries != MAP_FAILED)
		madvise(t->entries, t->entries_bytes, MADV_HUGEPAGE);
	if (t->b == MAP_FAILED || !t->chunks || t->entries == MAP_FAILED) {
		if (t->b != MAP_FAILED)
			munmap(t->b, t->index_bytes);
		if (t->entries != MAP_FAILED)
			munmap(t->entries, t->entries_bytes);
		free(t->chunks);
		free(t);
		return NULL;
	}
	t->free_head = NO_ENTRY;
	return t;
}

void ps_mtable_free(struct ps_mtable *t)
{
	if (!t)
		return;
	munmap(t->entries, t->entries_bytes);
	free(t->chunks);
	munmap(t->b, t->index_bytes);
	free(t);
}

/* ---- readers ---- */

static inline int key_eq(const struct entry *e, const uint64_t k[3])
{
	return LOAD(&e->key[0]) == k[0] && LOAD(&e->key[1]) == k[1] &&
	       LOAD(&e->key[2]) == k[2];
}

static uint64_t lookup_hashed(const struct ps_mtable *t, const uint64_t k[3],
			      uint64_t h, uint64_t now_ms, uint64_t *exp_out)
{
	uint32_t tag = (uint32_t)(h >> 32);
	uint64_t b = home_of(t, h);
	for (uint64_t probe = 0; probe < t->nb; probe++) {
		const struct bucket *bk = &t->b[b];
		uint64_t region, exp;
		uint32_t ovf, s;
		int found;
		do {
			while ((s = __atomic_load_n(&bk->seq, __ATOMIC_ACQUIRE)) & 1)
				cpu_relax();
			found = 0;
			region = exp = 0;
			for (unsigned i = 0; i < SLOTS; i++) {
				if (LOAD(&bk->tag[i]) != tag)
					continue;
				uint32_t idx = LOAD(&bk->idx[i]);
				const struct entry *e = idx ? entry_at(t, idx - 1) : NULL;
				if (e && key_eq(e, k)) {
					region = LOAD(&e->region);
					exp = LOAD(&e->expires_ms);
					found = 1;
					break;
				}
			}
			ovf = LOAD(&bk->ovf);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
		} while (LOAD(&bk->seq) != s);
		if (found && exp > now_ms) {
			if (exp_out)
				*exp_out = exp;
			return region;
		}
		if (found)
			return 0;
		if (!ovf)
			return 0;
		b = next_bucket(t, b);
	}
	return 0;
}

uint64_t ps_mtable_get(const struct ps_mtable *t, const uint8_t *wb,
		       uint64_t now_ms)
{
	uint64_t k[3];
	key_words(wb, k);
	return lookup_hashed(t, k, key_hash(k), now_ms, NULL);
}

uint64_t ps_mtable_get_expiry(const struct ps_mtable *t, const uint8_t *wb,
			      uint64_t now_ms, uint64_t *expires_ms)
{
	uint64_t k[3];
	key_words(wb, k);
	*expires_ms = 0;
	return lookup_hashed(t, k, key_hash(k), now_ms, expires_ms);
}

void ps_mtable_prefetch(const struct ps_mtable *t, const uint8_t *wb)
{
	uint64_t k[3];
	key_words(wb, k);
	__builtin_prefetch(&t->b[home_of(t, key_hash(k))]);
}

#define BURST_MAX 64

void ps_mtable_get_burst(const struct ps_mtable *t,
			 const uint8_t *const *wbs, unsigned n,
			 uint64_t now_ms, uint64_t *regions)
{
	while (n) {
		unsigned m = n < BURST_MAX ? n : BURST_MAX;
		uint64_t k[BURST_MAX][3], h[BURST_MAX];
		for (unsigned i = 0; i < m; i++) {
			key_words(wbs[i], k[i]);
			h[i] = key_hash(k[i]);
			__builtin_prefetch(&t->b[home_of(t, h[i])]);
		}
		/* the likely entry of each, read without the seqlock: only a
		 * hint for the prefetch */
		for (unsigned i = 0; i < m; i++) {
			const struct bucket *bk = &t->b[home_of(t, h[i])];
			uint32_t tag = (uint32_t)(h[i] >> 32);
			for (unsigned s = 0; s < SLOTS; s++) {
				uint32_t idx = LOAD(&bk->idx[s]);
				if (idx && LOAD(&bk->tag[s]) == tag) {
					const struct entry *e = entry_at(t, idx - 1);
					/* 40 bytes: its two lines when it
					 * straddles them */
					if (e) {
						__builtin_prefetch(e);
						__builtin_prefetch((const char *)e +
								   sizeof(*e) - 1);
					}
					break;
				}
			}
		}
		for (unsigned i = 0; i < m; i++)
			regions[i] = lookup_hashed(t, k[i], h[i], now_ms,
						   NULL);
		wbs += m;
		regions += m;
		n -= m;
	}
}

/* ---- the writer ---- */

static void write_begin(struct bucket *bk)
{
	STORE(&bk->seq, bk->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(struct bucket *bk)
{
	__atomic_store_n(&bk->seq, bk->seq + 1, __ATOMIC_RELEASE);
}

/* Where key k sits: its bucket and slot, or -1. */
static int find(const struct ps_mtable *t, const uint64_t k[3], uint64_t h,
		uint64_t *b_out, unsigned *slot_out)
{
	uint32_t tag = (uint32_t)(h >> 32);
	uint64_t b = home_of(t, h);
	for (uint64_t probe = 0; probe < t->nb; probe++) {
		const struct bucket *bk = &t->b[b];
		for (unsigned i = 0; i < SLOTS; i++) {
			if (!bk->idx[i] || bk->tag[i] != tag)
				continue;
			const struct entry *e = entry_at(t, bk->idx[i] - 1);
			if (e->key[0] == k[0] && e->key[1] == k[1] &&
			    e->key[2] == k[2]) {
				*b_out = b;
				*slot_out = i;
				return 0;
			}
		}
		if (!bk->ovf)
			return -1;
		b = next_bucket(t, b);
	}
	return -1;
}

/* Once the table holds a sixteenth of a bucket per bucket (four entries per
 * 4 KiB page of the index), nearly every page of the index is resident
 * anyway: from then on it is held in huge pages, the ones there collapsed
 * at once, so that a look-up's bucket costs no page walk of its own (a
 * walk per record otherwise, and on a VM a walk is slower than the miss).
 * Before that, an index barely used stays barely resident. Failure is
 * harmless: the index stays in small pages. */
static void index_to_huge_pages(struct ps_mtable *t)
{
	t->index_huge = 1;
	madvise(t->b, t->index_bytes, MADV_HUGEPAGE);
	madvise(t->b, t->index_bytes, MADV_COLLAPSE);
}

static uint32_t alloc_entry(struct ps_mtable *t)
{
	if (t->free_head != NO_ENTRY) {
		uint32_t i = t->free_head;
		t->free_head = (uint32_t)entry_at(t, i)->region;
		return i;
	}
	uint32_t i = t->fresh;
	uint32_t c = i >> CHUNK_SHIFT;
	if (c >= t->n_chunks) {
		struct entry *mem = t->entries + (size_t)c * CHUNK_ENTRIES;
		__atomic_store_n(&t->chunks[c], mem, __ATOMIC_RELEASE);
		t->n_chunks++;
	}
	t->fresh++;
	return i;
}

enum ps_mtable_put ps_mtable_put(struct ps_mtable *t, const uint8_t *wb,
				 uint64_t region, uint64_t expires_ms)
{
	uint64_t k[3], b;
	unsigned slot;
	key_words(wb, k);
	uint64_t h = key_hash(k);
	if (expires_ms == 0)
		expires_ms = 1;
	if (find(t, k, h, &b, &slot) == 0) {
		struct entry *e = entry_at(t, t->b[b].idx[slot] - 1);
		write_begin(&t->b[b]);
		STORE(&e->region, region);
		STORE(&e->expires_ms, expires_ms);
		write_end(&t->b[b]);
		return PS_MT_REPLACED;
	}
	if (t->count >= t->capacity)
		return PS_MT_FULL;
	uint32_t ei = alloc_entry(t);
	if (ei == NO_ENTRY)
		return PS_MT_FULL;
	struct entry *e = entry_at(t, ei);
	STORE(&e->key[0], k[0]);
	STORE(&e->key[1], k[1]);
	STORE(&e->key[2], k[2]);
	STORE(&e->region, region);
	STORE(&e->expires_ms, expires_ms);
	/* first bucket from home with a free slot; those passed over count
	 * one more overflow (there is always room: count < 80 % of slots) */
	b = home_of(t, h);
	for (;;) {
		struct bucket *bk = &t->b[b];
		for (slot = 0; slot < SLOTS && bk->idx[slot]; slot++)
			;
		if (slot < SLOTS)
			break;
		STORE(&bk->ovf, bk->ovf + 1);
		b = next_bucket(t, b);
	}
	struct bucket *bk = &t->b[b];
	write_begin(bk);
	STORE(&bk->tag[slot], (uint32_t)(h >> 32));
	STORE(&bk->idx[slot], ei + 1);
	write_end(bk);
	STORE(&t->count, t->count + 1);
	if (!t->index_huge && t->count >= t->nb / 16)
		index_to_huge_pages(t);
	return PS_MT_ADDED;
}

void ps_mtable_batch_init(struct ps_mtable_batch *b, struct ps_mtable *t)
{
	b->t = t;
	b->n = 0;
	b->full = 0;
}

int ps_mtable_batch_flush(struct ps_mtable_batch *b)
{
	struct ps_mtable *t = b->t;
	for (unsigned i = 0; i < b->n; i++) {
		uint64_t k[3];
		key_words(b->wb[i], k);
		__builtin_prefetch(&t->b[home_of(t, key_hash(k))], 1);
	}
	for (unsigned i = 0; i < b->n && !b->full; i++)
		b->full = ps_mtable_put(t, b->wb[i], b->region[i],
					b->expires_ms[i]) == PS_MT_FULL;
	b->n = 0;
	return b->full ? -1 : 0;
}

int ps_mtable_batch_put(struct ps_mtable_batch *b, const uint8_t *wb,
			uint64_t region, uint64_t expires_ms)
{
	if (b->full)
		return -1;
	memcpy(b->wb[b->n], wb, PS_WB_BYTES);
	b->region[b->n] = region;
	b->expires_ms[b->n] = expires_ms;
	if (++b->n < PS_MT_BATCH)
		return 0;
	return ps_mtable_batch_flush(b);
}

static void remove_at(struct ps_mtable *t, uint64_t h, uint64_t b,
		      unsigned slot)
{
	struct bucket *bk = &t->b[b];
	uint32_t ei = bk->idx[slot] - 1;
	write_begin(bk);
	STORE(&bk->idx[slot], 0);
	write_end(bk);
	for (uint64_t p = home_of(t, h); p != b; p = next_bucket(t, p))
		STORE(&t->b[p].ovf, t->b[p].ovf - 1);
	struct entry *e = entry_at(t, ei);
	STORE(&e->expires_ms, 0);
	STORE(&e->region, t->free_head);
	t->free_head = ei;
	STORE(&t->count, t->count - 1);
}

int ps_mtable_del(struct ps_mtable *t, const uint8_t *wb)
{
	uint64_t k[3], b;
	unsigned slot;
	key_words(wb, k);
	uint64_t h = key_hash(k);
	if (find(t, k, h, &b, &slot))
		return 0;
	remove_at(t, h, b, slot);
	return 1;
}

int ps_mtable_has(const struct ps_mtable *t, const uint8_t *wb)
{
	uint64_t k[3], b;
	unsigned slot;
	key_words(wb, k);
	return find(t, k, key_hash(k), &b, &slot) == 0;
}

uint64_t ps_mtable_expire(struct ps_mtable *t, uint64_t now_ms)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < t->fresh; i++) {
		struct entry *e = entry_at(t, i);
		if (!e->expires_ms || e->expires_ms > now_ms)
			continue;
		uint64_t k[3] = { e->key[0], e->key[1], e->key[2] }, b;
		uint64_t h = key_hash(k);
		unsigned slot;
		if (find(t, k, h, &b, &slot) == 0) {
			remove_at(t, h, b, slot);
			n++;
		}
	}
	return n;
}

void ps_mtable_set_expiry_all(struct ps_mtable *t, uint64_t expires_ms)
{
	if (expires_ms == 0)
		expires_ms = 1;         /* 0 marks a free entry */
	for (uint32_t i = 0; i < t->fresh; i++) {
		struct entry *e = entry_at(t, i);
		if (e->expires_ms)
			e->expires_ms = expires_ms;
	}
}

void ps_mtable_each(const struct ps_mtable *t, ps_mtable_visit_fn fn,
		    void *arg)
{
	for (uint32_t i = 0; i < t->fresh; i++) {
		const struct entry *e = entry_at(t, i);
		if (e->expires_ms)
			fn(arg, (const uint8_t *)e->key, e->region,
			   e->expires_ms);
	}
}

uint64_t ps_mtable_count(const struct ps_mtable *t)
{
	return LOAD(&t->count);
}

uint64_t ps_mtable_capacity(const struct ps_mtable *t)
{
	return t->capacity;
}

uint64_t ps_mtable_bytes(const struct ps_mtable *t)
{
	return (uint64_t)t->n_chunks * CHUNK_ENTRIES * sizeof(struct entry) +
	       t->index_bytes + t->max_chunks * sizeof(void *) + sizeof(*t);
}

uint64_t ps_mtable_min_expiry(const struct ps_mtable *t)
{
	uint64_t m = 0;
	for (uint32_t i = 0; i < t->fresh; i++) {
		const struct entry *e = entry_at(t, i);
		if (e->expires_ms && (!m || e->expires_ms < m))
			m = e->expires_ms;
	}
	return m;
}
