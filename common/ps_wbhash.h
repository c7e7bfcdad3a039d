/* ps_wbhash.h: the one 64-bit hash of a 24-byte waybill that the
 * dataplane takes once per sortable record and every structure keyed by
 * waybill reads: the duplicate window (ps_dedup_hash is this function) and
 * the hold set with its filter (plan/holds.h). Sharing it saves the hold
 * check a second hash per record. Little-endian words, so the value is the
 * same on every host. */
#ifndef PS_WBHASH_H
#define PS_WBHASH_H

#include <endian.h>
#include <stdint.h>

static inline uint64_t ps_wb_hash64(const uint8_t *wb)
{
	uint64_t w[3];
	__builtin_memcpy(w, wb, 24);
	uint64_t h = le64toh(w[0]) * 0xbf58476d1ce4e5b9ull;
	h ^= le64toh(w[1]) * 0x94d049bb133111ebull;
	h ^= (le64toh(w[2]) + 0x9e3779b97f4a7c15ull) * 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	return h ^ (h >> 32);
}

#endif
