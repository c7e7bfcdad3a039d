/* holds.c: the immutable hold set and its filter (see holds.h). */
#include "holds.h"
#include "ps_hugemem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define BLOCK_WORDS 8
#define BLOCK_BITS (BLOCK_WORDS * 32)
#define FILTER_BITS_PER_HOLD 16

static void filter_add(struct ps_holds *h, uint64_t x)
{
	struct ps_holds_block *b = &h->filter[(x >> 32) & h->fmask];
	for (unsigned i = 0; i < BLOCK_WORDS; i++)
		b->w[i] |= ps_holds_bit(x, i);
}

/* Blocks: a power of two, FILTER_BITS_PER_HOLD bits a waybill or more,
 * two at least (one cache line). */
static uint64_t filter_blocks(size_t n)
{
	uint64_t blocks = 2;
	while (blocks * BLOCK_BITS < (uint64_t)n * FILTER_BITS_PER_HOLD)
		blocks <<= 1;
	return blocks;
}

/* A table slot's stored hash: 0 marks an empty slot. */
static inline uint64_t stored(uint64_t x)
{
	return x ? x : 1;
}

/* Zeroed memory; from 2 MB up on 2 MB pages where the kernel gives them
 * (ps_hugemem.h): a million holds' filter is then one TLB entry, and
 * their table 33. Under AddressSanitizer always the allocator's, whose
 * redzones catch a look-up past either end. */
#if defined(__SANITIZE_ADDRESS__)
#define HOLDS_HUGE_FROM SIZE_MAX
#else
#define HOLDS_HUGE_FROM PS_HUGE_PAGE
#endif

static void *zalloc_big(size_t bytes)
{
	if (bytes >= HOLDS_HUGE_FROM)
		return ps_huge_alloc(bytes);
	void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (p)
		memset(p, 0, bytes);
	return p;
}

static void free_big(void *p, size_t bytes)
{
	if (bytes >= HOLDS_HUGE_FROM)
		ps_huge_free(p, bytes);
	else
		free(p);
}

struct ps_holds *ps_holds_build(const uint8_t (*wb)[24], size_t n)
{
	uint64_t slots = 16;
	while (slots < 2 * (uint64_t)n)
		slots <<= 1;
	size_t bytes = sizeof(struct ps_holds) +
		       slots * sizeof(struct ps_holds_slot);
	struct ps_holds *h = zalloc_big(bytes);
	if (!h)
		return NULL;
	h->bytes = bytes;
	h->mask = slots - 1;
	uint64_t blocks = filter_blocks(n);
	h->filter = zalloc_big(blocks * sizeof(h->filter[0]));
	if (!h->filter) {
		free_big(h, bytes);
		return NULL;
	}
	h->fmask = blocks - 1;
	h->simd = __builtin_cpu_supports("avx2");
	for (size_t i = 0; i < n; i++) {
		uint64_t x = ps_holds_hash(wb[i]);
		for (uint64_t k = x & h->mask;; k = (k + 1) & h->mask) {
			struct ps_holds_slot *s = &h->slot[k];
			if (!s->hash) {
				s->hash = stored(x);
				memcpy(s->key, wb[i], 24);
				h->n++;
				filter_add(h, x);
				break;
			}
			if (s->hash == stored(x) &&
			    !memcmp(s->key, wb[i], 24))
				break;          /* a repeat */
		}
	}
	return h;
}

void ps_holds_free(struct ps_holds *h)
{
	if (!h)
		return;
	free_big(h->filter, ps_holds_filter_bytes(h));
	free_big(h, h->bytes);
}

size_t ps_holds_count(const struct ps_holds *h)
{
	return h ? h->n : 0;
}

size_t ps_holds_filter_bytes(const struct ps_holds *h)
{
	return h ? (size_t)(h->fmask + 1) * sizeof(h->filter[0]) : 0;
}

int ps_holds_filter_may_have(const struct ps_holds *h,
			     const uint8_t waybill[24])
{
	return h && h->n && ps_holds_filter_hash(h, ps_holds_hash(waybill));
}

int ps_holds_table_has(const struct ps_holds *h, const uint8_t waybill[24],
		       uint64_t x)
{
	uint64_t want = stored(x);
	for (uint64_t k = x & h->mask;; k = (k + 1) & h->mask) {
		const struct ps_holds_slot *s = &h->slot[k];
		if (!s->hash)
			return 0;        /* ends: at most half the slots used */
		if (s->hash == want && !memcmp(s->key, waybill, 24))
			return 1;
	}
}

void ps_holds_filter_burst_portable(const struct ps_holds *h,
				    const uint64_t *hash, const uint16_t *at,
				    unsigned n, uint8_t *maybe)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned k = at ? at[i] : i;
		maybe[k] = (uint8_t)ps_holds_filter_hash(h, hash[k]);
	}
}

/* The eight words' bits at once: the low half of the hash times the eight
 * salts, the top 5 bits of each product as a shift of 1, and one test of
 * the mask against the block (vptest: carry set when no bit is missing). */
__attribute__((target("avx2")))
static void filter_burst_avx2(const struct ps_holds *h, const uint64_t *hash,
			      const uint16_t *at, unsigned n, uint8_t *maybe)
{
	const __m256i salt = _mm256_setr_epi32(
		0x47b6137b, 0x44974d91, (int)0x8824ad5bu, (int)0xa2b7289du,
		0x705495c7, 0x2df1424b, (int)0x9efc4947u, 0x5c6bfb31);
	const __m256i one = _mm256_set1_epi32(1);
#define TEST_ONE(k) do {						\
		uint64_t x = hash[k];					\
		__m256i m = _mm256_mullo_epi32(				\
			_mm256_set1_epi32((int)(uint32_t)x), salt);	\
		m = _mm256_sllv_epi32(one, _mm256_srli_epi32(m, 27));	\
		__m256i b = _mm256_load_si256((const __m256i *)		\
			(const void *)ps_holds_block_of(h, x));		\
		maybe[k] = (uint8_t)_mm256_testc_si256(b, m);		\
	} while (0)
	if (at)
		for (unsigned i = 0; i < n; i++)
			TEST_ONE(at[i]);
	else
		for (unsigned i = 0; i < n; i++)
			TEST_ONE(i);
#undef TEST_ONE
}

void ps_holds_filter_burst(const struct ps_holds *h, const uint64_t *hash,
			   const uint16_t *at, unsigned n, uint8_t *maybe)
{
	if (h->simd)
		filter_burst_avx2(h, hash, at, n, maybe);
	else
		ps_holds_filter_burst_portable(h, hash, at, n, maybe);
}

int ps_holds_has(const struct ps_holds *h, const uint8_t waybill[24])
{
	if (!h || !h->n)
		return 0;
	/* the filter first: a waybill it has never seen is surely not held,
	 * and the table is not read */
	return ps_holds_has_hash(h, waybill, ps_holds_hash(waybill));
}

void ps_holds_prefetch(const struct ps_holds *h, const uint8_t waybill[24])
{
	if (h && h->n)
		ps_holds_prefetch_hash(h, ps_holds_hash(waybill));
}
