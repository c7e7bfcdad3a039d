/* plan_store_int.h: the store's insides, shared by the files that make it
 * up (plan_store.c: commit path; plan_txn.c: staged edits; plan_explain.c:
 * route get; plan_chute_save.c: chute persistence). Not for other code:
 * everything outside plan/ uses plan_store.h. */
#ifndef PS_PLAN_STORE_INT_H
#define PS_PLAN_STORE_INT_H

#include <pthread.h>

#include "holds_list.h"
#include "plan_store.h"

struct ps_store {
	pthread_mutex_t lock;              /* serialises every call */
	char dir[2048];
	int no_fsync;
	struct ps_plan *active;            /* RCU-protected */
	struct ps_plan_src active_src;     /* its model, always in step */
	int have_src;
	uint32_t next_version;
	struct ps_history_entry hist[PS_HISTORY];  /* newest first */
	unsigned n_hist;
	/* pending schedule */
	int sched;
	uint64_t sched_at;
	struct ps_plan_src sched_src;
	char sched_origin[128];
	uint32_t sched_attempts;           /* failed activations */
	uint64_t sched_next_try;           /* wall ms of the next retry */
	char sched_error[512];             /* why the last one failed */
	/* staged edits */
	int txn;
	struct ps_plan_src txn_src;
	struct ps_chute_state chutes;
	struct ps_holds *holds;            /* RCU: the intercept list */
	/* its model and revision (holds_store.c) */
	struct ps_hold_list hold_list;     /* sorted; holds is built from it */
	uint64_t hold_rev, hold_changed_ms, hold_tokens;
	struct ps_hold_stage *hold_stage;  /* a load in parts under way */
};

/* The one way a plan becomes active (plan_store.c); lock held, src
 * validated. Returns 0 and the version, or -1 with errs and nothing
 * changed. */
int ps_store_commit_src(struct ps_store *s, const struct ps_plan_src *src,
			const char *origin, struct ps_errors *errs,
			uint32_t *version);
/* Chute state from the state directory (plan_chute_save.c); at open. */
void ps_store_load_chutes(struct ps_store *s);
/* The hold list from the state directory (holds_store.c); at open. A
 * damaged file leaves the list empty and says so in warn. */
void ps_store_load_holds(struct ps_store *s, char *warn, size_t warn_len);
void ps_store_free_holds(struct ps_store *s);

#endif
