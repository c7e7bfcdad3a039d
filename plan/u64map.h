/* u64map.h: a small open-addressing hash map from 64-bit keys to 32-bit
 * values, used by the plan parser and compiler for id and prefix look-ups
 * (control plane only; never on the packet path). */
#ifndef PS_U64MAP_H
#define PS_U64MAP_H

#include <stddef.h>
#include <stdint.h>

#define PS_U64MAP_EMPTY UINT32_MAX

struct ps_u64map {
	uint64_t *key;
	uint32_t *val;
	size_t mask;             /* capacity - 1, capacity a power of two */
	size_t n;
};

int ps_u64map_init(struct ps_u64map *m, size_t expected);
void ps_u64map_free(struct ps_u64map *m);
/* Value for key, or PS_U64MAP_EMPTY. */
uint32_t ps_u64map_get(const struct ps_u64map *m, uint64_t key);
/* Insert if absent. Returns the value already there, PS_U64MAP_EMPTY when
 * inserted, or -2 cast to uint32_t (UINT32_MAX - 1) when out of memory. */
uint32_t ps_u64map_put(struct ps_u64map *m, uint64_t key, uint32_t val);
#define PS_U64MAP_NOMEM (UINT32_MAX - 1)

#endif
