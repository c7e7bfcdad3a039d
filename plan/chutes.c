/* chutes.c: enable and disable chutes at run time (control thread). */
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
