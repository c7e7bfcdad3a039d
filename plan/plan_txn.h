/* plan_txn.h: staged edits of the plan (plan_txn.c): begin, apply lines of
 * plan syntax ("route 3307 100 10"), delete by key, then commit through the
 * store's one commit path, or abort. One transaction at a time. */
#ifndef PS_PLAN_TXN_H
#define PS_PLAN_TXN_H

#include <stdint.h>

#include "plan_src.h"

struct ps_store;

int ps_txn_begin(struct ps_store *s, struct ps_errors *errs);
int ps_txn_apply(struct ps_store *s, const char *line, struct ps_errors *errs);
enum ps_txn_del { PS_DEL_ROUTE, PS_DEL_RULE, PS_DEL_HUB, PS_DEL_DEFAULT };
int ps_txn_delete(struct ps_store *s, enum ps_txn_del what, const char *key,
		  struct ps_errors *errs);
/* Validate and commit; a refused commit leaves the transaction open. */
int ps_txn_commit(struct ps_store *s, struct ps_errors *errs,
		  uint32_t *version);
int ps_txn_abort(struct ps_store *s, struct ps_errors *errs);
int ps_txn_open(struct ps_store *s);
/* A copy of the staged model, for diffs (0, or -1 with no transaction). */
int ps_txn_src(struct ps_store *s, struct ps_plan_src *out);

#endif
