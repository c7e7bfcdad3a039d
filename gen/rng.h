/* rng.h: small, fast, seedable PRNG (xoshiro256** seeded by splitmix64) so
 * that generated traffic is reproducible byte for byte from a seed. */
#ifndef PS_RNG_H
#define PS_RNG_H

#include <stdint.h>

struct ps_rng {
	uint64_t s[4];
};

static inline uint64_t ps_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void ps_rng_seed(struct ps_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = ps_splitmix64(&seed);
}

static inline uint64_t ps_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t ps_rng_next(struct ps_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = ps_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ps_rotl(s[3], 45);
	return res;
}

/* uniform in [0, 1) */
static inline double ps_rng_unit(struct ps_rng *r)
{
	return (double)(ps_rng_next(r) >> 11) * 0x1.0p-53;
}

/* uniform in [0, n) */
static inline uint64_t ps_rng_below(struct ps_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)ps_rng_next(r) * n) >> 64);
}

#endif
