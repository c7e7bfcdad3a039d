/* whatif.h: replay a capture through two plans (what-if). Every frame of
 * the capture is decided, in capture order and in the bursts a dataplane
 * would have run, under both plans: each record gets the decisions two
 * dataplanes, one per plan, each with its own duplicate window and chute
 * states, would give (wi_engine.h: one pass over both plans with one
 * window for both, wi_window.h; or, as the tests' reference, two EAL-free
 * dataplane pipelines). The window's clock is the frames' capture time
 * (seconds since the first frame); chute states (kind 3) and sort results
 * (kind 5) in the capture apply in order. The allow-lists admit every
 * sender, and the dataplane's own addresses are learnt from the capture's
 * datagrams. Each record's pair of decisions is tallied (wi_tally.h); the
 * reports are wi_report.h. */
#ifndef PS_WHATIF_H
#define PS_WHATIF_H

#include <stddef.h>
#include <stdint.h>

#include "chutes.h"
#include "holds.h"
#include "plan.h"
#include "wi_tally.h"

#define WI_DEFAULT_WINDOW_S 600u         /* the daemon's dedup.window */
#define WI_DEFAULT_CAPACITY 1048576u     /* the daemon's dedup.capacity */

struct wi_opts {
	const struct ps_plan *plan[2];       /* 0: current, 1: candidate */
	const char *name[2];                 /* for the report */
	const struct ps_holds *holds;        /* NULL: none */
	const struct ps_chute_state *chutes; /* at the start; NULL: all open */
	void *manifest;                      /* struct ps_manifest; NULL: none */
	uint32_t window_s;                   /* 0: the daemon's default */
	uint64_t capacity;                   /* 0: the daemon's default */
	int reference;                       /* 1: through two dataplane
					      * pipelines (the tests'
					      * reference, slower) */
};

struct wi_result {
	const char *capture;
	const char *name[2];
	uint64_t frames;           /* whole pcap records read */
	int truncated;             /* the file ended inside a record */
	int corrupt;               /* a record's length made no sense */
	uint64_t cut;              /* frames cut by the snap length: not
				    * replayed */
	uint64_t scan_datagrams;   /* scan batches answered */
	uint64_t sorter_datagrams; /* chute states and sort results applied */
	uint64_t dropped;          /* frames the dataplane would drop */
	uint64_t first_ms, last_ms;/* the records' ts_ms, first and last */
	struct wi_tally tally;
	struct wi_summary sum;
};

/* Replay the capture at path. Returns 0 (the result filled; free it with
 * wi_result_free), or -1 with the reason in err (a foreign file, no scan
 * datagrams, out of memory); a truncated file is not an error: its whole
 * records are replayed and r->truncated says so. */
int wi_run(const struct wi_opts *o, const char *path, struct wi_result *r,
	   char *err, size_t errlen);
void wi_result_free(struct wi_result *r);

#endif
