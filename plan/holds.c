/* holds.c: the immutable hold set (see holds.h). */
#include "holds.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

struct hold_slot {
	uint64_t hash;           /* 0: empty (a real hash of 0 is stored as 1) */
	uint8_t key[24];
};

struct ps_holds {
	size_t n;
	uint64_t mask;           /* slots - 1 */
	struct hold_slot slot[];
};

static uint64_t hold_hash(const uint8_t *wb)
{
	uint64_t w[3];
	memcpy(w, wb, 24);
	uint64_t h = le64toh(w[0]) * 0x9e3779b97f4a7c15ull;
	h ^= le64toh(w[1]) * 0xc2b2ae3d27d4eb4full;
	h = (h ^ (h >> 29)) + le64toh(w[2]) * 0x165667b19e3779f9ull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h ? h : 1;
}

struct ps_holds *ps_holds_build(const uint8_t (*wb)[24], size_t n)
{
	uint64_t slots = 16;
	while (slots < 2 * (uint64_t)n)
		slots <<= 1;
	struct ps_holds *h = calloc(1, sizeof(*h) + slots * sizeof(h->slot[0]));
	if (!h)
		return NULL;
	h->mask = slots - 1;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = hold_hash(wb[i]);
		for (uint64_t k = x & h->mask;; k = (k + 1) & h->mask) {
			struct hold_slot *s = &h->slot[k];
			if (!s->hash) {
				s->hash = x;
				memcpy(s->key, wb[i], 24);
				h->n++;
				break;
			}
			if (s->hash == x && !memcmp(s->key, wb[i], 24))
				break;          /* a repeat */
		}
	}
	return h;
}

void ps_holds_free(struct ps_holds *h)
{
	free(h);
}

size_t ps_holds_count(const struct ps_holds *h)
{
	return h ? h->n : 0;
}

int ps_holds_has(const struct ps_holds *h, const uint8_t waybill[24])
{
	if (!h || !h->n)
		return 0;
	uint64_t x = hold_hash(waybill);
	for (uint64_t k = x & h->mask;; k = (k + 1) & h->mask) {
		const struct hold_slot *s = &h->slot[k];
		if (!s->hash)
			return 0;        /* ends: at most half the slots used */
		if (s->hash == x && !memcmp(s->key, waybill, 24))
			return 1;
	}
}

void ps_holds_prefetch(const struct ps_holds *h, const uint8_t waybill[24])
{
	if (h && h->n)
		__builtin_prefetch(&h->slot[hold_hash(waybill) & h->mask]);
}
