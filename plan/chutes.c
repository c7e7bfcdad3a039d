/* chutes.c: the operator's chute switches (control thread) and the sorter
 * controller's chute reports with their lapse (any worker core); see
 * chutes.h. */
#include "chutes.h"

#include <string.h>

void ps_chutes_init(struct ps_chute_state *cs)
{
	memset(cs, 0, sizeof(*cs));
}

int ps_chute_disable(struct ps_chute_state *cs, uint16_t chute)
{
	uint64_t bit = 1ull << (chute & 63);
	uint64_t old = __atomic_fetch_or(&cs->disabled[chute >> 6], bit,
					 __ATOMIC_RELEASE);
	if (old & bit)
		return 0;
	__atomic_fetch_add(&cs->n_disabled, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&cs->generation, 1, __ATOMIC_RELEASE);
	return 1;
}

int ps_chute_enable(struct ps_chute_state *cs, uint16_t chute)
{
	uint64_t bit = 1ull << (chute & 63);
	uint64_t old = __atomic_fetch_and(&cs->disabled[chute >> 6], ~bit,
					  __ATOMIC_RELEASE);
	if (!(old & bit))
		return 0;
	__atomic_fetch_sub(&cs->n_disabled, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&cs->generation, 1, __ATOMIC_RELEASE);
	return 1;
}

/* Make the chute's bit (and the count) agree with its report. Two cores
 * may write the same chute at once (a report and a lapse, two reports):
 * each reads the report after the other's store or before it; one that
 * read a stale value sees so on its second read and goes again, so the
 * bit ends as the last report says. */
static void sync_bit(struct ps_chute_state *cs, uint16_t chute)
{
	uint64_t *w = &cs->sorter_out[chute >> 6];
	uint64_t bit = 1ull << (chute & 63);
	for (;;) {
		uint64_t v = __atomic_load_n(&cs->sorter[chute],
					     __ATOMIC_SEQ_CST);
		if (v) {
			if (!(__atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST) & bit))
				__atomic_fetch_add(&cs->n_sorter, 1,
						   __ATOMIC_SEQ_CST);
		} else {
			if (__atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST) & bit)
				__atomic_fetch_sub(&cs->n_sorter, 1,
						   __ATOMIC_SEQ_CST);
		}
		uint64_t again = __atomic_load_n(&cs->sorter[chute],
						 __ATOMIC_SEQ_CST);
		if (!again == !v)
			return;
	}
}

void ps_chute_report(struct ps_chute_state *cs, uint16_t chute, uint8_t state,
		     uint16_t hold_s, uint32_t now_s)
{
	/* in force through second now + hold_s: it lapses between hold_s
	 * and hold_s + 1 seconds later, never before */
	uint64_t v = state ? (uint64_t)state << 32 | (uint32_t)(now_s + hold_s)
			   : 0;
	__atomic_store_n(&cs->sorter[chute], v, __ATOMIC_SEQ_CST);
	sync_bit(cs, chute);
}

static inline int lapsed(uint64_t v, uint32_t now_s)
{
	return v && (uint32_t)v < now_s;
}

void ps_chutes_lapse(struct ps_chute_state *cs, uint32_t now_s)
{
	if (!__atomic_load_n(&cs->n_sorter, __ATOMIC_RELAXED))
		return;
	for (unsigned k = 0; k < PS_CHUTE_WORDS; k++) {
		uint64_t w = __atomic_load_n(&cs->sorter_out[k],
					     __ATOMIC_RELAXED);
		while (w) {
			unsigned b = (unsigned)__builtin_ctzll(w);
			w &= w - 1;
			uint16_t c = (uint16_t)(k * 64 + b);
			uint64_t v = __atomic_load_n(&cs->sorter[c],
						     __ATOMIC_SEQ_CST);
			/* only the report seen lapses: a newer one stays */
			if (lapsed(v, now_s) &&
			    __atomic_compare_exchange_n(&cs->sorter[c], &v, 0,
							0, __ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST))
				sync_bit(cs, c);
		}
	}
}

uint8_t ps_chute_sorter_state(const struct ps_chute_state *cs, uint16_t chute,
			      uint32_t now_s, uint32_t *secs_left)
{
	uint64_t v = __atomic_load_n(&cs->sorter[chute], __ATOMIC_RELAXED);
	*secs_left = 0;
	if (!v || lapsed(v, now_s))
		return 0;
	*secs_left = (uint32_t)v - now_s + 1;
	return (uint8_t)(v >> 32);
}
