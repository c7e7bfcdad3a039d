/* holds_store.h: the store's intercept list (protocol step 6): add,
 * remove, replace (a load, in parts when it is large; a clear), list.
 * Every change goes one way, like a plan's commit: build the new immutable
 * set (holds.h) away from the dataplane, save the whole list atomically
 * in the state directory (file "holds", checksummed), publish the set with
 * one RCU pointer exchange and wait for the grace period, so the change is
 * in force on every core before the call returns; the old set is freed
 * then. A change the disk refuses changes nothing. Every change raises the
 * list's revision by one. Calls take the store's lock. */
#ifndef PS_HOLDS_STORE_H
#define PS_HOLDS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "holds_list.h"
#include "ps_errors.h"

struct ps_store;

struct ps_holds_info {
	uint64_t revision;        /* 0: never changed */
	size_t count;
	uint64_t changed_ms;      /* wall clock of the last change */
	int loading;              /* a load in parts is under way */
};
void ps_store_holds_info(struct ps_store *s, struct ps_holds_info *out);
/* Is the waybill (24 bytes) on the list? */
int ps_store_hold_has(struct ps_store *s, const uint8_t *wb);

/* Put add's waybills on the list (a waybill already held takes the new
 * note). add must be sorted (ps_hold_list_sort). */
int ps_store_hold_add(struct ps_store *s, const struct ps_hold_list *add,
		      struct ps_errors *errs, uint64_t *revision);
/* Take del's waybills (sorted) off; *removed: how many were held. */
int ps_store_hold_del(struct ps_store *s, const struct ps_hold_list *del,
		      size_t *removed, struct ps_errors *errs,
		      uint64_t *revision);
/* Replace the whole list with l (sorted; taken on success, left to the
 * caller on failure). An empty l clears it. */
int ps_store_hold_replace(struct ps_store *s, struct ps_hold_list *l,
			  struct ps_errors *errs, uint64_t *revision);

/* A load in parts, for a file larger than one control request: begin
 * (a new token; a load under way is dropped), parts (the file's text in
 * order, split at line ends, each with the number of its first line;
 * their bad lines are kept), commit (refused whole with every bad line
 * as NAME:LINE: message, or the list replaced at once). One load at a
 * time; an unknown token is refused (-1, errs). */
int ps_store_hold_load_begin(struct ps_store *s, const char *name,
			     uint64_t *token);
int ps_store_hold_load_part(struct ps_store *s, uint64_t token,
			    const char *text, size_t len, uint32_t first_line,
			    size_t *lines, struct ps_errors *errs);
int ps_store_hold_load_commit(struct ps_store *s, uint64_t token,
			      struct ps_errors *errs, uint64_t *revision,
			      size_t *count);
void ps_store_hold_load_abort(struct ps_store *s, uint64_t token);

/* A page of the list: up to limit entries after the waybill `after`
 * (NULL: from the first), copied into out (initialised here); info as
 * ps_store_holds_info at the same moment. Returns 1 when more entries
 * follow the page, else 0. */
int ps_store_hold_page(struct ps_store *s, const uint8_t *after,
		       size_t limit, struct ps_hold_list *out,
		       struct ps_holds_info *info);

#endif
