/* wi_tally.h: the what-if's bookkeeping over pairs of decisions (the same
 * record under the current plan, side 0, and the candidate, side 1):
 * records by reason on each side; decisions that change, grouped by
 * (old hub, chute) -> (new hub, chute); records per chute and each
 * chute's peak records per 5 minutes (by the record's ts_ms) on each
 * side; records that become NO_ROUTE or CHUTE_UNAVAILABLE. Adding a pair
 * costs a few array increments; a hash look-up only when a decision
 * changes or a chute's 5-minute window moves on. */
#ifndef PS_WI_TALLY_H
#define PS_WI_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "ps_wire.h"

#define WI_WINDOW_MS 300000u     /* peak records per 5 minutes */
/* (side, chute, window) counts kept at most: a day is 288 windows, so a
 * day of 1,800 busy chutes on both sides; the records' ts_ms is the
 * scanners' word (a malformed record's is anything), and windows beyond
 * this are left out of the peaks (peaks_partial) rather than grow the
 * tally without bound (48 MB of map at most) */
#define WI_WINDOWS_MAX (1u << 20)
#define WI_CHUTES 65536u

/* One record's decision, as the report needs it. */
struct wi_dec {
	uint64_t ts_ms;
	uint32_t hub;
	uint16_t chute;
	uint8_t reason;
};

/* A map of two-word keys to counts (0: an empty slot), open addressing. */
struct wi_map {
	struct wi_slot {
		uint64_t k1, k2, n;
	} *s;
	size_t mask, used;
};

struct wi_group {
	uint32_t hub[2];
	uint16_t chute[2];
	uint64_t records;
};

struct wi_chute {
	uint16_t chute;
	uint64_t records[2];
	uint64_t peak[2];        /* most records in one 5-minute window */
};

struct wi_tally {
	uint64_t records;
	uint64_t by_reason[2][PS_REASON_COUNT];
	uint64_t changed;        /* hub or chute differs */
	uint64_t become_no_route, become_unavailable;
	uint64_t *per_chute[2];  /* WI_CHUTES each */
	uint64_t *win_bucket[2]; /* the current window + 1 of each chute */
	uint32_t *win_count[2];
	struct wi_map groups;    /* (hub0 << 16 | chute0, hub1 << 16 | chute1) */
	struct wi_map windows;   /* (side << 16 | chute, window) */
	uint64_t windows_left_out; /* windows past WI_WINDOWS_MAX: the
				    * peaks are then a lower bound */
	int oom;
};

/* What wi_tally_finish makes of it, for the reports. */
struct wi_summary {
	struct wi_group *groups; /* every group, most records first */
	size_t n_groups;
	struct wi_chute *chutes; /* chutes whose records differ, the largest
				  * difference first */
	size_t n_chutes;
};

int wi_tally_init(struct wi_tally *t);
void wi_tally_free(struct wi_tally *t);

/* The rare steps of wi_tally_add, out of line: a chute's record falls
 * in another 5-minute window w (the one it had closed into the map); a
 * record's decision changes (its group counted). */
void wi_tally_move_window(struct wi_tally *t, int side, uint16_t chute,
			  uint64_t w);
void wi_tally_change(struct wi_tally *t, const struct wi_dec *d0,
		     const struct wi_dec *d1);

/* The chute's running window: counted in place while the records stay in
 * it, handed to the map when one falls in another window. */
static inline void wi_tally_count_window(struct wi_tally *t, int side,
					 const struct wi_dec *d)
{
	uint64_t w = d->ts_ms / WI_WINDOW_MS + 1;
	if (__builtin_expect(t->win_bucket[side][d->chute] != w, 0))
		wi_tally_move_window(t, side, d->chute, w);
	t->win_count[side][d->chute]++;
}

/* Count one record decided d[0] (current) and d[1] (candidate). Inline:
 * a record costs a few increments. */
static inline void wi_tally_add(struct wi_tally *t, const struct wi_dec *d0,
				const struct wi_dec *d1)
{
	t->records++;
	t->by_reason[0][d0->reason]++;
	t->by_reason[1][d1->reason]++;
	if (d0->chute) {
		t->per_chute[0][d0->chute]++;
		wi_tally_count_window(t, 0, d0);
	}
	if (d1->chute) {
		t->per_chute[1][d1->chute]++;
		wi_tally_count_window(t, 1, d1);
	}
	/* by reason, not by chute: CHUTE_UNAVAILABLE and NO_ROUTE both go
	 * to the reject chute with no hub, and one becoming the other is
	 * no change of chute */
	t->become_no_route += d1->reason == PS_R_NO_ROUTE &&
			      d0->reason != PS_R_NO_ROUTE;
	t->become_unavailable += d1->reason == PS_R_CHUTE_UNAVAILABLE &&
				 d0->reason != PS_R_CHUTE_UNAVAILABLE;
	if (d0->chute != d1->chute || d0->hub != d1->hub)
		wi_tally_change(t, d0, d1);
}

/* Close the windows, sort the groups and chutes. 0 or -1 (memory). */
int wi_tally_finish(struct wi_tally *t, struct wi_summary *s);
void wi_summary_free(struct wi_summary *s);

/* The map, for the tests. */
int wi_map_init(struct wi_map *m, size_t slots);
void wi_map_free(struct wi_map *m);
/* Add n to the key's count. 0 or -1 (memory). */
int wi_map_add(struct wi_map *m, uint64_t k1, uint64_t k2, uint64_t n);
uint64_t wi_map_get(const struct wi_map *m, uint64_t k1, uint64_t k2);

#endif
