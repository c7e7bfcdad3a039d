/* allow_swap.c: publishing a new allow-list to the running workers (see
 * allow_swap.h). Three steps, a grace period between each:
 *   1. every port's count drops to no more than either list's;
 *   2. every port's pointer moves to the new buffer;
 *   3. every port's count becomes the new list's.
 * A worker holds a pointer and a count only within one burst, so after
 * the grace period of step 1 none holds the old larger count when the
 * pointer moves, after that of step 2 none holds the old pointer when the
 * count grows, and after that of step 3 the old buffer is free to be
 * rewritten by the next publish, however soon it comes. */
#include <string.h>

#include <urcu-qsbr.h>

#include "allow_swap.h"

static const struct ps_prefix **list_ptr(struct ps_net_cfg *c, int sorter)
{
	return sorter ? &c->sorter_allow : &c->allow;
}

static unsigned *list_count(struct ps_net_cfg *c, int sorter)
{
	return sorter ? &c->n_sorter_allow : &c->n_allow;
}

void ps_allow_publish(struct ps_net_cfg *nets, unsigned n_nets, int sorter,
		      struct ps_prefix *buf_a, struct ps_prefix *buf_b,
		      const struct ps_prefix *src, unsigned n)
{
	if (!n_nets)
		return;
	const struct ps_prefix *cur = *list_ptr(&nets[0], sorter);
	struct ps_prefix *next = cur == buf_b ? buf_a : buf_b;
	/* no worker reads next: the last publish waited its grace period */
	if (n)
		memcpy(next, src, n * sizeof(*src));
	for (unsigned i = 0; i < n_nets; i++) {
		unsigned *cnt = list_count(&nets[i], sorter);
		unsigned old = __atomic_load_n(cnt, __ATOMIC_RELAXED);
		__atomic_store_n(cnt, old < n ? old : n, __ATOMIC_RELEASE);
	}
	synchronize_rcu();
	for (unsigned i = 0; i < n_nets; i++)
		__atomic_store_n(list_ptr(&nets[i], sorter),
				 (const struct ps_prefix *)next,
				 __ATOMIC_RELEASE);
	synchronize_rcu();
	for (unsigned i = 0; i < n_nets; i++)
		__atomic_store_n(list_count(&nets[i], sorter), n,
				 __ATOMIC_RELEASE);
	synchronize_rcu();
}
