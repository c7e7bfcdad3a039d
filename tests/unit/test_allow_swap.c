/* test_allow_swap.c: publishing a new allow-list while a worker holds the
 * old one (dataplane/allow_swap.c): the buffer a worker reads is never
 * rewritten before the worker passes a quiescent state, however close
 * two reloads come. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <urcu-qsbr.h>

#include "allow_swap.h"

#define SLOTS 128               /* 2 x config.h's PS_MAX_ALLOW */

static struct ps_prefix buf_a[SLOTS], buf_b[SLOTS];
static struct ps_net_cfg nets[2];
static volatile int holding, release_reader, published;
static const struct ps_prefix *held;
static unsigned held_n;

static struct ps_prefix v4(uint8_t a, uint8_t len)
{
	struct ps_prefix p = { .ver = 4, .len = len };
	p.addr[0] = a;
	return p;
}

/* A worker in the middle of a burst: it has read the list and stays in
 * its read-side section until told to go on. */
static void *worker(void *arg)
{
	(void)arg;
	rcu_register_thread();
	held = __atomic_load_n(&nets[0].allow, __ATOMIC_ACQUIRE);
	held_n = __atomic_load_n(&nets[0].n_allow, __ATOMIC_ACQUIRE);
	holding = 1;
	while (!release_reader)
		usleep(1000);
	rcu_quiescent_state();
	rcu_unregister_thread();
	return NULL;
}

/* Two reloads back to back, from the control loop. */
static void *reloads(void *arg)
{
	(void)arg;
	struct ps_prefix x = v4(192, 16), y = v4(172, 12);
	ps_allow_publish(nets, 2, 0, buf_a, buf_b, &x, 1);
	ps_allow_publish(nets, 2, 0, buf_a, buf_b, &y, 1);
	published = 1;
	return NULL;
}

Test(allow_swap, a_held_buffer_is_not_rewritten_by_the_next_reload)
{
	buf_a[0] = v4(10, 8);
	for (unsigned i = 0; i < 2; i++) {
		nets[i].allow = buf_a;
		nets[i].n_allow = 1;
	}
	pthread_t w, r;
	pthread_create(&w, NULL, worker, NULL);
	while (!holding)
		usleep(1000);
	pthread_create(&r, NULL, reloads, NULL);
	/* however long the worker stays in its burst, what it holds stays
	 * its list */
	for (int i = 0; i < 300 && !published; i++)
		usleep(1000);
	struct ps_prefix seen = held[0];
	unsigned seen_n = held_n;
	release_reader = 1;
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	cr_assert_eq(seen_n, 1);
	cr_assert_eq(seen.addr[0], 10, "the worker's buffer was rewritten "
		     "under it (now %u.0.0.0/%u)", seen.addr[0], seen.len);
	cr_assert_eq(seen.len, 8);
	/* both reloads took effect on every port */
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_eq(nets[i].n_allow, 1);
		cr_assert_eq(nets[i].allow[0].addr[0], 172);
		cr_assert_eq(nets[i].allow[0].len, 12);
	}
}

Test(allow_swap, a_shorter_list_then_a_longer_one)
{
	struct ps_prefix three[3] = { v4(1, 8), v4(2, 8), v4(3, 8) };
	struct ps_prefix one = v4(9, 8);
	struct ps_net_cfg net = { .allow = buf_a, .n_allow = 0 };
	ps_allow_publish(&net, 1, 0, buf_a, buf_b, three, 3);
	cr_assert_eq(net.n_allow, 3);
	cr_assert_eq(net.allow[2].addr[0], 3);
	ps_allow_publish(&net, 1, 0, buf_a, buf_b, &one, 1);
	cr_assert_eq(net.n_allow, 1);
	cr_assert_eq(net.allow[0].addr[0], 9);
	ps_allow_publish(&net, 1, 0, buf_a, buf_b, NULL, 0);
	cr_assert_eq(net.n_allow, 0);
}

Test(allow_swap, the_sorter_list_moves_alone)
{
	struct ps_prefix s = v4(10, 24);
	struct ps_net_cfg net = { .allow = buf_a, .n_allow = 1,
				  .sorter_allow = NULL, .n_sorter_allow = 0 };
	static struct ps_prefix sa[SLOTS], sb[SLOTS];
	ps_allow_publish(&net, 1, 1, sa, sb, &s, 1);
	cr_assert(net.sorter_allow == sa || net.sorter_allow == sb);
	cr_assert_eq(net.sorter_allow[0].addr[0], 10);
	cr_assert_eq(net.n_sorter_allow, 1);
	cr_assert_eq(net.allow, buf_a);
	cr_assert_eq(net.n_allow, 1);
}

/* A worker checking, burst after burst, an address that every list
 * published admits (198.18.0.50) while the lists change under it: it is
 * never refused. (The first version lowered the count before moving the
 * pointer: publishing [50] over [10, 50] left [10] in force for a grace
 * period, and the sorter's requests from .50 were dropped as not_sorter.) */
static volatile int stop_checking;
static unsigned refused_seen, checks;

static struct ps_prefix host(uint8_t d)
{
	struct ps_prefix p = { .ver = 4, .len = 32 };
	p.addr[0] = 198;
	p.addr[1] = 18;
	p.addr[3] = d;
	return p;
}

static void *checker(void *arg)
{
	struct ps_net_cfg *net = arg;
	const uint8_t a[4] = { 198, 18, 0, 50 };
	rcu_register_thread();
	while (!stop_checking) {
		const struct ps_prefix *l = __atomic_load_n(&net->sorter_allow,
							    __ATOMIC_ACQUIRE);
		unsigned n = __atomic_load_n(&net->n_sorter_allow,
					     __ATOMIC_ACQUIRE);
		if (!n || !ps_prefix_allowed(l, n, 4, a))
			refused_seen++;
		checks++;
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

Test(allow_swap, an_address_on_both_lists_is_never_refused)
{
	static struct ps_prefix sa[SLOTS], sb[SLOTS];
	struct ps_prefix first[2] = { host(10), host(50) };
	struct ps_prefix lists[3][3] = { { host(50) },
					 { host(10), host(50), host(20) },
					 { host(30), host(40), host(50) } };
	const unsigned sizes[3] = { 1, 3, 3 };
	struct ps_net_cfg net = { .sorter_allow = first, .n_sorter_allow = 2 };
	pthread_t t;
	pthread_create(&t, NULL, checker, &net);
	while (!checks)
		usleep(100);
	for (int i = 0; i < 60; i++)
		ps_allow_publish(&net, 1, 1, sa, sb, lists[i % 3], sizes[i % 3]);
	stop_checking = 1;
	pthread_join(t, NULL);
	cr_assert_eq(refused_seen, 0, "refused %u times in %u checks",
		     refused_seen, checks);
	cr_assert_eq(net.n_sorter_allow, 3);
	cr_assert_eq(net.sorter_allow[0].addr[3], 30);
}
