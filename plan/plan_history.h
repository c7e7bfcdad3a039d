/* plan_history.h: what the store remembers of a committed plan (one entry
 * of the history, also the metadata header of a saved plan file). Shared
 * by the store and its persistence, which must not need each other. */
#ifndef PS_PLAN_HISTORY_H
#define PS_PLAN_HISTORY_H

#include <stdint.h>

#define PS_HISTORY 16

struct ps_history_entry {
	uint32_t version;
	uint64_t committed_ms;
	char name[64];
	char origin[128];        /* "load FILE", "edit", "rollback to 7" ... */
	uint32_t hubs, routes, rules;
};

#endif
