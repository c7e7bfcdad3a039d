/* plan_reader.h: the dataplane's access to the active plan, and nobody
 * else's. The slot is the RCU-protected pointer a commit exchanges; a plan
 * read through it is freed after the next grace period, which only waits
 * for QSBR-registered threads. So the slot is for dataplane workers only:
 * threads that called rcu_register_thread(), hold no plan pointer across
 * rcu_quiescent_state(), and get the slot once, at setup (dataplane/main.c
 * hands it to the pipeline). A control command, metrics, telemetry or a log
 * line reading through it could read a freed plan: they use the copies of
 * plan_store.h (ps_store_info() and friends). Include this header only in
 * code that runs on such readers (the pipeline setup, the publish-latency
 * bench, the store's own tests). */
#ifndef PS_PLAN_READER_H
#define PS_PLAN_READER_H

#include <assert.h>

#include <urcu-qsbr.h>

#include "holds.h"
#include "plan.h"

struct ps_store;

/* The slot of the active plan, for the dataplane pipeline's setup. */
struct ps_plan **ps_store_dataplane_slot(struct ps_store *s);

/* The slot of the intercept list (holds.h; NULL: empty), read by the same
 * readers under the same rules. */
struct ps_holds **ps_store_holds_slot(struct ps_store *s);

/* The active plan (NULL: no plan), for a registered, online QSBR reader
 * between two quiescent states. Asserts the calling thread is one. */
static inline struct ps_plan *ps_store_plan_rcu(struct ps_plan **slot)
{
	assert(rcu_read_ongoing() && "plan read outside a QSBR reader");
	return rcu_dereference(*slot);
}

#endif
