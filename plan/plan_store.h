/* plan_store.h: the control side of sort plans. Commits (full loads, staged
 * edits, rollbacks, scheduled activations) all go one way: validate,
 * compile away from the dataplane, persist atomically, publish with one RCU
 * pointer exchange, free the old plan after a QSBR grace period. Keeps the
 * last 16 committed plans for rollback and the chute state.
 *
 * Who may read what:
 * - The dataplane workers (QSBR-registered threads that announce quiescent
 *   states) read the active plan itself, through the slot that only
 *   plan_reader.h hands out, once, to the pipeline at setup.
 * - Everything else (control commands, metrics, telemetry, logs, the fleet
 *   agent) gets copies taken under the store's lock: ps_store_info(),
 *   ps_store_history(), ps_store_schedule_info(), ps_store_active_src(),
 *   ps_store_explain(). This header offers no pointer into a plan, which a
 *   commit or a scheduled activation may free at any moment.
 * Calls are serialised by the store's mutex; any thread may make them. */
#ifndef PS_PLAN_STORE_H
#define PS_PLAN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "chutes.h"
#include "plan.h"
#include "plan_history.h"
#include "plan_src.h"
#include "ps_clock.h"            /* ps_now_ms(), long declared here */

struct ps_store_cfg {
	const char *state_dir;   /* required: where committed plans live */
	const char *initial_plan;/* used when the state holds no plan */
	int no_fsync;            /* tests and benchmarks only */
};

struct ps_store;

/* Open the store: restore the active plan, history, schedule and chute
 * state from state_dir. A missing or corrupt state never yields a
 * half-read plan: the store then starts from initial_plan or with no plan,
 * and says why in *warn (may be NULL). Returns NULL with errs on a fatal
 * error (e.g. state_dir unusable, initial_plan invalid). */
struct ps_store *ps_store_open(const struct ps_store_cfg *cfg,
			       struct ps_errors *errs, char *warn,
			       size_t warn_len);
void ps_store_close(struct ps_store *s);

/* What readers outside the workers (control commands, metrics, telemetry,
 * logs) may know of the active plan: a copy taken under the store's lock,
 * never a pointer into the plan, which a commit may free at any time. */
struct ps_plan_info {
	int have;                 /* 0: no plan is active */
	uint32_t version;
	char name[64];
	char origin[128];         /* as the history records it */
	uint64_t committed_ms;    /* wall clock of the commit */
	uint64_t published_ns;    /* CLOCK_MONOTONIC when it was published */
	size_t bytes;             /* memory held by the compiled structure */
	uint32_t hubs, routes, rules;
};
void ps_store_info(struct ps_store *s, struct ps_plan_info *out);
/* The chute state: atomic bits, safe to read from any thread. */
struct ps_chute_state *ps_store_chutes(struct ps_store *s);

/* Commit a full plan from a file or text. at_ms > now schedules it instead
 * (one pending schedule; a new one replaces it). Returns 0 and the version
 * (0 when scheduled), or -1 with every reason in errs; the active plan
 * stays in force on any failure. */
int ps_store_load_file(struct ps_store *s, const char *path, uint64_t at_ms,
		       struct ps_errors *errs, uint32_t *version);
int ps_store_load_text(struct ps_store *s, const char *text, size_t len,
		       const char *name, uint64_t at_ms,
		       struct ps_errors *errs, uint32_t *version);
/* The same, with the origin the history records (NULL: "load NAME"); the
 * fleet agent records "fleet revision N" there. */
int ps_store_load_text_as(struct ps_store *s, const char *text, size_t len,
			  const char *name, const char *origin,
			  uint64_t at_ms, struct ps_errors *errs,
			  uint32_t *version);
/* Re-commit a plan of the history as a new version (0: the one before the
 * active plan). */
int ps_store_rollback(struct ps_store *s, uint32_t version,
		      struct ps_errors *errs, uint32_t *new_version);

/* Activate the scheduled plan when its time has come. Returns 1 when it
 * did, 0 when nothing was due (or a failed activation waits for its next
 * retry), -1 when an activation was tried and failed (errs says why). A
 * failed activation keeps the schedule and its saved file, and is retried
 * on a later tick: 1 s after the first failure, doubling up to 60 s. */
int ps_store_tick(struct ps_store *s, uint64_t now_ms, struct ps_errors *errs);
#define PS_SCHED_RETRY_MIN_MS 1000u
#define PS_SCHED_RETRY_MAX_MS 60000u

/* The pending schedule, for status: a copy taken under the lock. */
struct ps_schedule_info {
	int pending;              /* 0: nothing scheduled (the rest is 0) */
	uint64_t at_ms;           /* when it was meant to become active */
	char name[64];
	char origin[128];
	uint32_t attempts;        /* failed activations so far (0: none) */
	uint64_t next_try_ms;     /* when a failed one is tried again */
	char last_error[512];     /* why the last attempt failed ("" if none) */
};
void ps_store_schedule_info(struct ps_store *s, struct ps_schedule_info *out);
/* The pending schedule: 1 and its time (and name), or 0. */
int ps_store_scheduled(struct ps_store *s, uint64_t *at_ms, char *name,
		       size_t name_len);

/* History, newest first; returns the count (at most PS_HISTORY). */
unsigned ps_store_history(struct ps_store *s, struct ps_history_entry *out);
/* A copy of the active plan's model (for show, diff, route get). */
int ps_store_active_src(struct ps_store *s, struct ps_plan_src *out,
			uint32_t *version);

/* Chutes: change state (persisted). Returns 0 or -1 (errs). */
int ps_store_chute_set(struct ps_store *s, const uint16_t *chutes,
		       unsigned n, int enable, struct ps_errors *errs);

#include "holds_store.h"         /* the intercept list: ps_store_hold_*() */
#include "plan_explain.h"        /* route get: ps_store_explain() */
#include "plan_txn.h"            /* staged edits: ps_txn_*() */

#endif
