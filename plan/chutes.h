/* chutes.h: run-time chute state (enabled or disabled), independent of the
 * plan so that closing a full chute never recompiles anything. One bit per
 * chute number; the control thread flips bits with atomic read-modify-write
 * and dataplane cores read them with relaxed loads, so a change is seen by
 * every core on its next poll iteration. */
#ifndef PS_CHUTES_H
#define PS_CHUTES_H

#include <stdint.h>

#define PS_CHUTE_WORDS (65536 / 64)

struct ps_chute_state {
	uint64_t disabled[PS_CHUTE_WORDS];
	uint32_t n_disabled;      /* fast path: 0 means all enabled */
	uint32_t generation;      /* bumped on every change */
};

void ps_chutes_init(struct ps_chute_state *cs);
/* Returns 1 if the state changed. Control thread only. */
int ps_chute_disable(struct ps_chute_state *cs, uint16_t chute);
int ps_chute_enable(struct ps_chute_state *cs, uint16_t chute);

static inline int ps_chute_enabled(const struct ps_chute_state *cs,
				   uint16_t chute)
{
	uint64_t w = __atomic_load_n(&cs->disabled[chute >> 6],
				     __ATOMIC_RELAXED);
	return !((w >> (chute & 63)) & 1);
}

static inline uint32_t ps_chutes_any_disabled(const struct ps_chute_state *cs)
{
	return __atomic_load_n(&cs->n_disabled, __ATOMIC_RELAXED);
}

#endif
