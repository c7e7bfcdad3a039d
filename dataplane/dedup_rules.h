/* dedup_rules.h: the duplicate window's rules, as pure functions of a
 * bucket head's arrays (its eight tags, times and insert orders).
 *
 * The dataplane's window (dedup.c) and the what-if's replay window
 * (whatif/wi_window.c, one head per plan, no atomics) both decide with
 * these, so that a replay keeps and evicts exactly the entries the
 * dataplane would: which entries are live, which slots carry a tag, which
 * slot an insert takes, when a bucket looks at its second bucket. Callers
 * read the head's words as they must (dedup.c: relaxed, racing writers are
 * settled by the slot's claim) and pass them in. */
#ifndef PS_DEDUP_RULES_H
#define PS_DEDUP_RULES_H

#include <stdint.h>
#include <x86intrin.h>

#include "dedup.h"

/* How long a run of full second buckets may grow (see ps_dedup_head):
 * past it a bucket looks at its second every PS_DEDUP_ALT_EVERY-th insert. */
#define PS_DEDUP_ALT_FULL_RUN_MAX (__builtin_ctz(PS_DEDUP_ALT_EVERY) + 1)
_Static_assert((PS_DEDUP_ALT_EVERY & (PS_DEDUP_ALT_EVERY - 1)) == 0,
	       "PS_DEDUP_ALT_EVERY is a power of two");

/* Is an entry stamped t (seconds + 1; 0 = empty) live at now? Its age,
 * now - (t - 1), is in [0, window) for an entry of the past window, and in
 * [-PS_DEDUP_SKEW_S, 0) for one written by a core whose reading of the
 * clock is a little ahead of ours: both are live. Shifted by the skew, the
 * two ranges make one unsigned comparison. */
static inline int ps_dedup_live(uint32_t window_s, uint32_t t, uint32_t now)
{
	return t != 0 &&
	       now - (t - 1) + PS_DEDUP_SKEW_S < window_s + PS_DEDUP_SKEW_S;
}

/* The slots whose tag is tag, one bit each (eight 16-bit tags compared at
 * once). */
static inline unsigned ps_dedup_tags_match(const uint16_t *tags, uint16_t tag)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)tags);
	__m128i eq = _mm_cmpeq_epi16(v, _mm_set1_epi16((short)tag));
	return (unsigned)_mm_movemask_epi8(_mm_packs_epi16(eq, eq)) & 0xffu;
}

/* The eight times t, read once (*tt), and which of them are live at now,
 * one bit each: ps_dedup_live on eight lanes at once (SSE2; the unsigned
 * comparison made signed by flipping the top bits). x gets each slot's
 * now - (t - 1) + PS_DEDUP_SKEW_S, its age shifted by the skew. */
static inline unsigned ps_dedup_live_lanes(uint32_t window_s,
					   const uint32_t *t, uint32_t now,
					   uint32_t *tt, __m128i x[2])
{
	const __m128i *tp = (const __m128i *)(const void *)t;
	__m128i t0 = _mm_loadu_si128(tp), t1 = _mm_loadu_si128(tp + 1);
	_mm_storeu_si128((__m128i *)(void *)tt, t0);
	_mm_storeu_si128((__m128i *)(void *)(tt + 4), t1);
	__m128i base = _mm_set1_epi32((int)(now + PS_DEDUP_SKEW_S + 1));
	__m128i flip = _mm_set1_epi32(INT32_MIN);
	__m128i lim = _mm_set1_epi32((int)((window_s + PS_DEDUP_SKEW_S) ^
					   0x80000000u));
	__m128i zero = _mm_setzero_si128();
	x[0] = _mm_sub_epi32(base, t0);
	x[1] = _mm_sub_epi32(base, t1);
	__m128i l0 = _mm_andnot_si128(_mm_cmpeq_epi32(t0, zero),
				      _mm_cmplt_epi32(_mm_xor_si128(x[0], flip), lim));
	__m128i l1 = _mm_andnot_si128(_mm_cmpeq_epi32(t1, zero),
				      _mm_cmplt_epi32(_mm_xor_si128(x[1], flip), lim));
	return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(l0)) |
	       (unsigned)_mm_movemask_ps(_mm_castsi128_ps(l1)) << 4;
}

/* The first free or expired slot of times t, or -1; *t_seen gets the time
 * it had. */
static inline int ps_dedup_first_free(uint32_t window_s, const uint32_t *t,
				      uint32_t now, uint32_t *t_seen)
{
	uint32_t tt[PS_DEDUP_WAYS];
	__m128i x[2];
	unsigned free_ = ~ps_dedup_live_lanes(window_s, t, now, tt, x) & 0xffu;
	if (!free_)
		return -1;
	int i = __builtin_ctz(free_);
	*t_seen = tt[i];
	return i;
}

/* The larger of a and b in each lane (signed; SSE2 has no pmaxsd). */
static inline __m128i ps_dedup_max_epi32(__m128i a, __m128i b)
{
	__m128i gt = _mm_cmpgt_epi32(a, b);
	return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
}

/* A free or expired slot (returns 1), else (returns 0) the slot of the
 * oldest entry: the earliest second, and of entries of the same second the
 * one written first (ord[i]: the bucket's insert count, inserts, when slot
 * i was written; a bucket fills within a second when the traffic is fast,
 * and without the order the entry just written would be the next to go).
 * The eight ages (seconds shifted by the skew, then the order in the low 8
 * bits) are compared at once; of equal ones the last slot is taken. The
 * times are read once: *t_seen is the time the choice was made on. The
 * window must be under 2^23 - PS_DEDUP_SKEW_S seconds (ps_dedup_init). */
static inline int ps_dedup_free_or_oldest(uint32_t window_s, const uint32_t *t,
					  const uint8_t *ord, uint8_t inserts,
					  uint32_t now, int *slot,
					  uint32_t *t_seen)
{
	uint32_t tt[PS_DEDUP_WAYS];
	__m128i x[2];
	unsigned live_ = ps_dedup_live_lanes(window_s, t, now, tt, x);
	if (live_ != 0xffu) {
		*slot = __builtin_ctz(~live_ & 0xffu);
		*t_seen = tt[*slot];
		return 1;
	}
	/* live: x < window + skew < 2^23, so x << 8 | order stays positive */
	__m128i zero = _mm_setzero_si128();
	__m128i o = _mm_loadl_epi64((const __m128i *)(const void *)ord);
	__m128i o16 = _mm_unpacklo_epi8(_mm_sub_epi8(
				_mm_set1_epi8((char)inserts), o), zero);
	__m128i a0 = _mm_or_si128(_mm_slli_epi32(x[0], 8),
				  _mm_unpacklo_epi16(o16, zero));
	__m128i a1 = _mm_or_si128(_mm_slli_epi32(x[1], 8),
				  _mm_unpackhi_epi16(o16, zero));
	__m128i m = ps_dedup_max_epi32(a0, a1);
	m = ps_dedup_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
	m = ps_dedup_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
	unsigned eq = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
				_mm_cmpeq_epi32(a0, m))) |
		      (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
				_mm_cmpeq_epi32(a1, m))) << 4;
	*slot = 31 - __builtin_clz(eq);
	*t_seen = tt[*slot];
	return 0;
}

/* Does an insert into a full bucket look at its second bucket now? After
 * a run of k second buckets found full in a row, only every 2^(k-1)-th
 * insert does (inserts: the bucket's insert count). */
static inline int ps_dedup_look_at_alt(uint8_t alt_full_run, uint8_t inserts)
{
	return alt_full_run < 2 ||
	       (inserts & ((1u << (alt_full_run - 1)) - 1)) == 0;
}

#endif
