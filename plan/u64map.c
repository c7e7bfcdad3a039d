/* u64map.c: open-addressing (linear probing) u64 -> u32 hash map. */
#include "u64map.h"

#include <stdlib.h>
#include <string.h>

static inline size_t slot_of(uint64_t k, size_t mask)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k & mask;
}

int ps_u64map_init(struct ps_u64map *m, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2)
		cap <<= 1;
	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	if (!m->key || !m->val) {
		free(m->key);
		free(m->val);
		m->key = NULL;
		m->val = NULL;
		return -1;
	}
	memset(m->val, 0xff, cap * sizeof(*m->val));
	m->mask = cap - 1;
	m->n = 0;
	return 0;
}

void ps_u64map_free(struct ps_u64map *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

uint32_t ps_u64map_get(const struct ps_u64map *m, uint64_t key)
{
	for (size_t i = slot_of(key, m->mask);; i = (i + 1) & m->mask) {
		if (m->val[i] == PS_U64MAP_EMPTY)
			return PS_U64MAP_EMPTY;
		if (m->key[i] == key)
			return m->val[i];
	}
}

static int grow(struct ps_u64map *m)
{
	struct ps_u64map big;
	if (ps_u64map_init(&big, m->mask + 1))
		return -1;
	for (size_t i = 0; i <= m->mask; i++)
		if (m->val[i] != PS_U64MAP_EMPTY)
			ps_u64map_put(&big, m->key[i], m->val[i]);
	ps_u64map_free(m);
	*m = big;
	return 0;
}

uint32_t ps_u64map_put(struct ps_u64map *m, uint64_t key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->mask + 1 && grow(m))
		return PS_U64MAP_NOMEM;
	size_t i = slot_of(key, m->mask);
	for (;; i = (i + 1) & m->mask) {
		if (m->val[i] == PS_U64MAP_EMPTY)
			break;
		if (m->key[i] == key)
			return m->val[i];
	}
	m->key[i] = key;
	m->val[i] = val;
	m->n++;
	return PS_U64MAP_EMPTY;
}
