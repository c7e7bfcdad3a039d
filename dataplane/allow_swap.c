/* allow_swap.c: publishing a new allow-list to the running workers (see
 * allow_swap.h). A worker reads a port's pointer and count separately,
 * so every pair it can see must admit whatever both lists admit. Four
 * steps, a grace period after each, through two buffers of twice the
 * longest list, `one` (not read by any worker) and `two` (the buffer read
 * before, or the other one on the first publish):
 *   1. `one` gets the old list then the new; the pointer moves to it, the
 *      count still the old list's: the old list still;
 *   2. the count covers both: old or new admits;
 *   3. `two` gets the new list then the old; the pointer moves to it: the
 *      same union;
 *   4. the count becomes the new list's: the new list alone.
 * A worker holds a pointer and a count only within one burst, so it sees
 * at most two neighbouring steps, and each such pair admits every
 * address both lists admit (the old count over `one`, the old count or
 * the union over `one`, the union over either buffer, the union or the
 * new count over `two`). A buffer is written only after the grace period
 * that took the last reader off it: `one` was last read before the
 * previous publish's step 3, `two` before step 1. (Three steps that
 * lowered the count, then moved the pointer, then raised it once cut an
 * address on both lists off for a grace period.) */
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

static void set_ptr(struct ps_net_cfg *nets, unsigned n_nets, int sorter,
		    const struct ps_prefix *p)
{
	for (unsigned i = 0; i < n_nets; i++)
		__atomic_store_n(list_ptr(&nets[i], sorter), p,
				 __ATOMIC_RELEASE);
	synchronize_rcu();
}

static void set_count(struct ps_net_cfg *nets, unsigned n_nets, int sorter,
		      unsigned n)
{
	for (unsigned i = 0; i < n_nets; i++)
		__atomic_store_n(list_count(&nets[i], sorter), n,
				 __ATOMIC_RELEASE);
	synchronize_rcu();
}

static void concat(struct ps_prefix *to, const struct ps_prefix *a,
		   unsigned na, const struct ps_prefix *b, unsigned nb)
{
	if (na)
		memcpy(to, a, na * sizeof(*a));
	if (nb)
		memcpy(to + na, b, nb * sizeof(*b));
}

void ps_allow_publish(struct ps_net_cfg *nets, unsigned n_nets, int sorter,
		      struct ps_prefix *buf_a, struct ps_prefix *buf_b,
		      const struct ps_prefix *src, unsigned n)
{
	if (!n_nets)
		return;
	const struct ps_prefix *cur = *list_ptr(&nets[0], sorter);
	unsigned n_old = *list_count(&nets[0], sorter);
	struct ps_prefix *one = cur == buf_a ? buf_b : buf_a;
	struct ps_prefix *two = one == buf_a ? buf_b : buf_a;
	/* nobody reads one: the last publish waited its grace periods */
	concat(one, cur, n_old, src, n);
	set_ptr(nets, n_nets, sorter, one);
	set_count(nets, n_nets, sorter, n_old + n);
	concat(two, src, n, one, n_old);     /* nobody reads two any more */
	set_ptr(nets, n_nets, sorter, two);
	set_count(nets, n_nets, sorter, n);
}
