/* plan_store.h: the control side of sort plans. Commits (full loads, staged
 * edits, rollbacks, scheduled activations) all go one way: validate,
 * compile away from the dataplane, persist atomically, publish with one RCU
 * pointer exchange, free the old plan after a QSBR grace period. Keeps the
 * last 16 committed plans for rollback and the chute state.
 *
 * Dataplane cores read the active plan with ps_store_plan() between
 * rcu_quiescent_state() calls; everything else here is for one control
 * thread at a time (calls are serialised by an internal mutex). */
#ifndef PS_PLAN_STORE_H
#define PS_PLAN_STORE_H

#include <stdint.h>

#include <urcu-qsbr.h>

#include "chutes.h"
#include "plan.h"
#include "plan_src.h"

#define PS_HISTORY 16

struct ps_history_entry {
	uint32_t version;
	uint64_t committed_ms;
	char name[64];
	char origin[128];        /* "load FILE", "edit", "rollback to 7" ... */
	uint32_t hubs, routes, rules;
};

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

/* The active plan for a registered RCU reader (NULL: no plan). */
static inline struct ps_plan *ps_store_plan_rcu(struct ps_plan **slot)
{
	return rcu_dereference(*slot);
}
struct ps_plan **ps_store_plan_slot(struct ps_store *s);

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
 * did, 0 when nothing was due, -1 when the activation failed (errs). */
int ps_store_tick(struct ps_store *s, uint64_t now_ms, struct ps_errors *errs);
/* The pending schedule: 1 and its time, or 0. */
int ps_store_scheduled(struct ps_store *s, uint64_t *at_ms, char *name,
		       size_t name_len);

/* History, newest first; returns the count (at most PS_HISTORY). */
unsigned ps_store_history(struct ps_store *s, struct ps_history_entry *out);
/* A copy of the active plan's model (for show, diff, route get). */
int ps_store_active_src(struct ps_store *s, struct ps_plan_src *out,
			uint32_t *version);

/* Staged edits: begin, apply lines of plan syntax ("route 3307 100 10"),
 * delete by key, then commit or abort. One transaction at a time. */
int ps_txn_begin(struct ps_store *s, struct ps_errors *errs);
int ps_txn_apply(struct ps_store *s, const char *line, struct ps_errors *errs);
enum ps_txn_del { PS_DEL_ROUTE, PS_DEL_RULE, PS_DEL_HUB, PS_DEL_DEFAULT };
int ps_txn_delete(struct ps_store *s, enum ps_txn_del what, const char *key,
		  struct ps_errors *errs);
int ps_txn_commit(struct ps_store *s, struct ps_errors *errs,
		  uint32_t *version);
int ps_txn_abort(struct ps_store *s, struct ps_errors *errs);
int ps_txn_open(struct ps_store *s);
/* A copy of the staged model, for diffs (0, or -1 with no transaction). */
int ps_txn_src(struct ps_store *s, struct ps_plan_src *out);

/* Chutes: change state (persisted). Returns 0 or -1 (errs). */
int ps_store_chute_set(struct ps_store *s, const uint16_t *chutes,
		       unsigned n, int enable, struct ps_errors *errs);

/* Why a record would be decided as it would (route get): the active plan,
 * the matching rule, route or default, and the chute the waybill gets
 * under the current chute state. */
struct ps_explain {
	int have_plan;
	uint32_t version;
	char plan_name[64];
	int rule_priority;        /* -1: no rule matched */
	char rule[512];           /* the rule's conditions */
	int route_digits;         /* 0: no route matched */
	uint64_t route_prefix;
	int is_default;
	uint32_t hub;
	uint8_t tier;
	char hub_name[256];
	uint16_t n_chutes;
	uint16_t chutes[64];
	uint8_t enabled[64];
	struct ps_decision d;     /* what a fresh decision would be */
};
int ps_store_explain(struct ps_store *s, const struct ps_scan *sc,
		     struct ps_explain *e);
/* Memory held by the active plan's structure, bytes. */
size_t ps_store_plan_bytes(struct ps_store *s);

uint64_t ps_now_ms(void);

#endif
