/* chutes.h: run-time chute state, independent of the plan so that closing a
 * full chute never recompiles anything. Two separate causes take a chute
 * out (docs/protocol.md, "Decision order"):
 *  - the operator (`chute disable`): one bit per chute, flipped by the
 *    control thread with atomic read-modify-write;
 *  - the sorter controller (kind 3 chute states): a report per chute, its
 *    state and the second of the dataplane clock (the duplicate window's,
 *    one for every core) after which it lapses, written by whichever worker
 *    received it, and mirrored in a second bitmap of the chutes a report
 *    takes out right now.
 * Dataplane cores read both bitmaps with relaxed loads; the fast path is one
 * look at the two counts (0 and 0: every chute available). A worker applies
 * a report (sequentially consistent stores) before it sends the
 * acknowledgement, so every core's next decision sees it. Lapsed reports
 * are cleared by ps_chutes_lapse, which each pipeline runs when the clock
 * moves on a second, looking only at the chutes a report takes out. */
#ifndef PS_CHUTES_H
#define PS_CHUTES_H

#include <stdint.h>

#define PS_CHUTE_WORDS (65536 / 64)

struct ps_chute_state {
	uint64_t disabled[PS_CHUTE_WORDS];   /* operator */
	uint64_t sorter_out[PS_CHUTE_WORDS]; /* a sorter report in force */
	uint32_t n_disabled;      /* fast path: 0 means all enabled */
	uint32_t n_sorter;        /* chutes with sorter_out set */
	uint32_t generation;      /* bumped on every operator change */
	/* per chute: 0 = OPEN (no report), else state << 32 | the last second
	 * of the report (it lapses when the clock passes it) */
	uint64_t sorter[65536];
};

void ps_chutes_init(struct ps_chute_state *cs);
/* Returns 1 if the state changed. Control thread only. */
int ps_chute_disable(struct ps_chute_state *cs, uint16_t chute);
int ps_chute_enable(struct ps_chute_state *cs, uint16_t chute);

/* Not disabled by the operator (whatever the sorter says). */
static inline int ps_chute_enabled(const struct ps_chute_state *cs,
				   uint16_t chute)
{
	uint64_t w = __atomic_load_n(&cs->disabled[chute >> 6],
				     __ATOMIC_RELAXED);
	return !((w >> (chute & 63)) & 1);
}

/* Available: neither the operator nor an unlapsed sorter report takes it
 * out (the plan's reject and intercept chutes are used whatever the sorter
 * says: see ps_plan_chute_available). */
static inline int ps_chute_available(const struct ps_chute_state *cs,
				     uint16_t chute)
{
	uint64_t w = __atomic_load_n(&cs->disabled[chute >> 6],
				     __ATOMIC_RELAXED) |
		     __atomic_load_n(&cs->sorter_out[chute >> 6],
				     __ATOMIC_RELAXED);
	return !((w >> (chute & 63)) & 1);
}

/* Available, or one of the two chutes a sorter report takes out of nothing
 * (the plan's reject and intercept chutes; 0 for none): those only the
 * operator can take out. */
static inline int ps_chute_usable(const struct ps_chute_state *cs,
				  uint16_t chute, uint16_t exempt_a,
				  uint16_t exempt_b)
{
	if (ps_chute_available(cs, chute))
		return 1;
	return chute && (chute == exempt_a || chute == exempt_b) &&
	       ps_chute_enabled(cs, chute);
}

static inline uint32_t ps_chutes_any_disabled(const struct ps_chute_state *cs)
{
	return __atomic_load_n(&cs->n_disabled, __ATOMIC_RELAXED);
}

/* Is any chute out for any cause? 0: every chute is available. */
static inline uint32_t ps_chutes_any_out(const struct ps_chute_state *cs)
{
	return __atomic_load_n(&cs->n_disabled, __ATOMIC_RELAXED) |
	       __atomic_load_n(&cs->n_sorter, __ATOMIC_RELAXED);
}

/* Apply one valid sorter report (enum ps_chute_report_state; hold_s 0 for
 * OPEN, else 1..3600) at the dataplane clock's now_s: it replaces the
 * chute's previous report and is in force on every core when this returns.
 * Any core. */
void ps_chute_report(struct ps_chute_state *cs, uint16_t chute, uint8_t state,
		     uint16_t hold_s, uint32_t now_s);
/* Clear the reports whose time has passed at now_s. Any core; cheap when
 * no report is in force. */
void ps_chutes_lapse(struct ps_chute_state *cs, uint32_t now_s);
/* The sorter's state of a chute at now_s (OPEN when none or lapsed) and
 * the seconds left before its report lapses (0 for OPEN). For the control
 * plane: a snapshot, any thread. */
uint8_t ps_chute_sorter_state(const struct ps_chute_state *cs, uint16_t chute,
			      uint32_t now_s, uint32_t *secs_left);

#endif
