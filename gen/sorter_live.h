/* sorter_live.h: parcelsort-gen --sorter: the sorter controller model run
 * against a live dataplane, and its closing summary. */
#ifndef PS_SORTER_LIVE_H
#define PS_SORTER_LIVE_H

#include "sorter.h"

/* Scans leave one socket, chute reports and sort results another (bound to
 * sorter_from if not NULL), both to target (HOST:PORT or [IPV6]:PORT).
 * Runs until ps_sorter_done. Returns 0, or -1 with a message on stderr. */
int ps_sorter_live_run(struct ps_sorter *s, const char *target,
		       const char *sorter_from);
/* The closing summary, as text or one JSON object. */
void ps_sorter_print(const struct ps_sorter *s, int json);

#endif
