/* wi_window.h: the what-if's duplicate window, one table for both plans.
 *
 * The replay asks of each record what two dataplanes, one per plan, would
 * answer, each with its own duplicate window (dataplane/dedup.h). Their
 * answers differ as soon as a waybill is remembered under one plan and not
 * the other (NO_ROUTE, CHUTE_UNAVAILABLE, a recirculation limit), and a
 * full bucket then evicts other waybills under each. So this window keeps
 * both plans' state side by side, in the dedup table's geometry and by
 * its rules, and answers for each plan what that plan's own table would:
 * the same buckets (same hash, same number of buckets for a capacity, the
 * same second bucket), the same slot chosen by an insert (the waybill's
 * own expired slot, the first free or expired one, a free one of the
 * second bucket when its run of full second buckets allows a look, else
 * the oldest by time and insert order), the same spill counts, the same
 * sort-loop state (rounds, not-discharged mark, LOST forgetting). A test
 * (tests/unit/test_whatif.c) replays random captures through this and
 * through two dataplane pipelines and compares every count.
 *
 * What it saves is memory traffic: single-threaded (no atomics, no locks,
 * no sequence numbers), a bucket is both plans' heads (two adjacent cache
 * lines) and then eight ways of one line each, plan 0's slot and plan 1's
 * side by side, so a fresh waybill both plans remember in the same way
 * (the normal case: their buckets have the same history) costs two head
 * lines and one slot line, not two tables' worth. An entry keeps what the
 * what-if reports (hub and chute) and the sort loop's state; the tier,
 * prefix and plan version a dataplane keeps are not reported. */
#ifndef PS_WI_WINDOW_H
#define PS_WI_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "chutes.h"
#include "dedup.h"
#include "dedup_rules.h"

#define WI_WAYS PS_DEDUP_WAYS

/* One plan's head of a bucket (dedup.h's struct ps_dedup_head, without
 * its insert turn). */
struct wi_head {
	uint16_t tag[WI_WAYS];
	uint32_t t[WI_WAYS];     /* seconds + 1 of the decision; 0: empty */
	uint8_t ord[WI_WAYS];    /* the bucket's insert count at the write */
	uint8_t inserts;
	uint8_t spilled_in;
	uint8_t spilled_out;
	uint8_t alt_full_run;
	uint32_t stamp;          /* the window's turn (wi_window_begin) when
				  * this head last changed */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct wi_head) == 64, "a head is a cache line");

/* One plan's entry in a way. */
struct wi_way {
	uint8_t key[24];
	uint32_t hub;
	uint16_t chute;
	uint8_t rounds;          /* not-discharged sort results (max 255) */
	uint8_t not_discharged;
};

struct wi_bucket {
	struct wi_head head[2];          /* by plan */
	struct wi_way way[WI_WAYS][2];  /* by way, then plan: a line a way */
};
_Static_assert(sizeof(struct wi_bucket) == 128 + 64 * WI_WAYS,
	       "heads, then a cache line a way");

struct wi_window {
	struct wi_bucket *b;
	struct ps_dedup geom;    /* only its mask: the dedup table's buckets */
	uint32_t window_s;
	uint64_t capacity;       /* slots a plan */
	size_t bytes;
	uint32_t turn;           /* the current segment's (wi_window_begin) */
};

/* A look-up's word on a fresh waybill's insert (wi_window_look): the way
 * it will write, and WI_SURE when the insert's own choice is that way of
 * its own bucket for as long as the bucket's head does not change (no
 * tag of the waybill, nothing spilled out, a free way or the oldest one
 * with no look at the second bucket). */
#define WI_WAY_MASK 7u
#define WI_SURE 0x80u

/* A remembered decision under one plan. */
struct wi_entry {
	uint32_t hub;
	uint16_t chute;
	uint8_t rounds;
	uint8_t not_discharged;
};

/* capacity and window as ps_dedup_init's (the same number of buckets,
 * the same limits); 0, or -1 with errno EINVAL (capacity above
 * PS_DEDUP_MAX_CAPACITY, window above PS_DEDUP_MAX_WINDOW_S) or ENOMEM. */
int wi_window_init(struct wi_window *w, uint64_t capacity, uint32_t window_s);
void wi_window_free(struct wi_window *w);

static inline void wi_window_prefetch(const struct wi_window *w,
				      uint64_t hash)
{
	const struct wi_bucket *b = w->b + ps_dedup_bucket(&w->geom, hash);
	__builtin_prefetch(&b->head[0]);
	__builtin_prefetch(&b->head[1]);
}

/* A new segment begins: its look-ups come first, then its inserts (a
 * head changed by an insert of this segment is stamped with its turn). */
static inline void wi_window_begin(struct wi_window *w)
{
	w->turn++;
}

/* The second step, some records later, its heads being in the cache: the
 * heads of its second bucket when a look-up will read them (some waybill
 * of its bucket went there under either plan). */
static inline void wi_window_prefetch_alt(const struct wi_window *w,
					  uint64_t hash)
{
	const struct wi_bucket *k = w->b + ps_dedup_bucket(&w->geom, hash);
	if (k->head[0].spilled_out | k->head[1].spilled_out) {
		const struct wi_bucket *a =
			w->b + ps_dedup_alt_bucket(&w->geom, hash);
		__builtin_prefetch(&a->head[0]);
		__builtin_prefetch(&a->head[1]);
	}
}

/* The waybill's live entry under plan side at now_s: 1 and *out, or 0. */
int wi_window_find(const struct wi_window *w, int side, uint64_t hash,
		   const uint8_t *wb, uint32_t now_s, struct wi_entry *out);

/* wi_window_look when the head has a tag of the waybill or something
 * spilled out (the general case, out of line). */
int wi_window_look_slow(const struct wi_window *w, int side, uint64_t hash,
			const uint8_t *wb, uint32_t now_s,
			struct wi_entry *out, uint8_t *hint);

/* wi_window_find, and for a waybill without a live entry (0) the way its
 * insert will write, prefetched, in *hint (with WI_SURE when sure; the
 * head must be in the cache). Inline: the usual record, a fresh waybill
 * whose bucket has no tag of it, costs a few vector compares. */
static inline int wi_window_look(const struct wi_window *w, int side,
				 uint64_t hash, const uint8_t *wb,
				 uint32_t now_s, struct wi_entry *out,
				 uint8_t *hint)
{
	const struct wi_bucket *k = w->b + ps_dedup_bucket(&w->geom, hash);
	const struct wi_head *h = &k->head[side];
	uint32_t t;
	int i;
	if (ps_dedup_tags_match(h->tag, ps_dedup_tag(hash)) | h->spilled_out)
		return wi_window_look_slow(w, side, hash, wb, now_s, out,
					   hint);
	/* dedup.c's find() finds nothing; its pick_slot() takes a free or
	 * expired way, else the oldest, unless it looks at the second
	 * bucket */
	int sure = ps_dedup_free_or_oldest(w->window_s, h->t, h->ord,
					   h->inserts, now_s, &i, &t) ||
		   !(w->geom.mask &&
		     ps_dedup_look_at_alt(h->alt_full_run, h->inserts));
	if (!sure)   /* full: the insert reads its second bucket's head */
		__builtin_prefetch(&w->b[ps_dedup_alt_bucket(&w->geom, hash)]
					    .head[side]);
	__builtin_prefetch(&k->way[i][side], 1);
	*hint = (uint8_t)(i | (sure ? WI_SURE : 0));
	return 0;
}

/* Are two heads the same but for their stamps (the usual case: the two
 * plans' buckets have had the same history)? Then a look-up reads the
 * same in both. */
static inline int wi_heads_alike(const struct wi_head *a,
				 const struct wi_head *b)
{
	const __m128i *x = (const __m128i *)(const void *)a;
	const __m128i *y = (const __m128i *)(const void *)b;
	__m128i eq = _mm_and_si128(
		_mm_and_si128(_mm_cmpeq_epi8(x[0], y[0]),
			      _mm_cmpeq_epi8(x[1], y[1])),
		_mm_and_si128(_mm_cmpeq_epi8(x[2], y[2]),
			      _mm_cmpeq_epi8(x[3], y[3])));
	/* the last four bytes are the stamp */
	return ((unsigned)_mm_movemask_epi8(eq) | 0xf000u) == 0xffffu;
}
_Static_assert(offsetof(struct wi_head, stamp) == 60, "the stamp last");

/* wi_window_look under both plans: bit k of the result set when the
 * waybill has a live entry under plan k (out[k]), else hint[k]. When the
 * usual fresh waybill's two heads are alike, the second look is the
 * first's. */
static inline unsigned wi_window_look_both(const struct wi_window *w,
					   uint64_t hash, const uint8_t *wb,
					   uint32_t now_s,
					   struct wi_entry out[2],
					   uint8_t hint[2])
{
	const struct wi_bucket *k = w->b + ps_dedup_bucket(&w->geom, hash);
	unsigned found = (unsigned)wi_window_look(w, 0, hash, wb, now_s,
						  &out[0], &hint[0]);
	if (!found && (hint[0] & WI_SURE) &&
	    wi_heads_alike(&k->head[0], &k->head[1])) {
		/* plan 0's sure way, in the same line for plan 1 */
		hint[1] = hint[0];
		return 0;
	}
	return found | (unsigned)wi_window_look(w, 1, hash, wb, now_s,
						&out[1], &hint[1]) << 1;
}

/* Remember a fresh decision under plan side, as ps_dedup_insert_exempt
 * does: when a live entry of the waybill that may answer is there (not
 * marked not-discharged, its chute usable with the plan's reject and
 * intercept exempt), *first gets it and 1 is returned (the record is its
 * duplicate); else the decision is written (an entry of the waybill
 * replaced keeping its rounds) and 0 is returned. */
int wi_window_insert(struct wi_window *w, int side, uint64_t hash,
		     const uint8_t *wb, uint32_t now_s, uint32_t hub,
		     uint16_t chute, const struct ps_chute_state *cs,
		     uint16_t reject, uint16_t intercept,
		     struct wi_entry *first);

/* wi_window_insert after a look-up of this segment gave hint: with
 * WI_SURE and the head unchanged since (not stamped with this turn), the
 * look-up's choice is written without choosing again (inline, unless the
 * way holds an entry spilled in from another bucket). */
static inline int wi_window_insert_hinted(struct wi_window *w, int side,
					  uint64_t hash, const uint8_t *wb,
					  uint32_t now_s, uint32_t hub,
					  uint16_t chute,
					  const struct ps_chute_state *cs,
					  uint16_t reject, uint16_t intercept,
					  struct wi_entry *first, uint8_t hint)
{
	struct wi_bucket *k = w->b + ps_dedup_bucket(&w->geom, hash);
	struct wi_head *h = &k->head[side];
	int i = hint & WI_WAY_MASK;
	if (!(hint & WI_SURE) || h->stamp == w->turn ||
	    (h->spilled_in >> i & 1))
		return wi_window_insert(w, side, hash, wb, now_s, hub, chute,
					cs, reject, intercept, first);
	/* the head the look-up read: dedup.c's write_slot() into way i of
	 * the own bucket. No tag of the waybill there, so not its entry:
	 * the rounds start again. */
	struct wi_way *o = &k->way[i][side];
	memcpy(o->key, wb, 24);
	o->hub = hub;
	o->chute = chute;
	o->rounds = 0;
	o->not_discharged = 0;
	h->tag[i] = ps_dedup_tag(hash);
	h->t[i] = now_s + 1;
	h->ord[i] = h->inserts;
	h->inserts++;
	h->stamp = w->turn;
	return 0;
}

/* The line an insert under side would write, for a prefetch some records
 * before (a hint: earlier inserts may change the choice); its head must be
 * in the cache. Returns the way, for wi_window_prefetch_again. */
int wi_window_prefetch_insert(const struct wi_window *w, int side,
			      uint64_t hash, uint32_t now_s);

/* Just before the insert: the head under side and that way again (the
 * work between may have pushed them out of the first-level cache). */
static inline void wi_window_prefetch_again(const struct wi_window *w,
					    int side, uint64_t hash, int way)
{
	const struct wi_bucket *b = w->b + ps_dedup_bucket(&w->geom, hash);
	__builtin_prefetch(&b->head[side], 1);
	__builtin_prefetch(&b->way[way & WI_WAY_MASK][side], 1);
}

/* A sort result (enum ps_sort_status) for the waybill under side, as
 * ps_dedup_sort_result: SORTED clears the mark, LOST forgets the entry,
 * the others add a round and set the mark. 1 when it was remembered. */
int wi_window_sort_result(struct wi_window *w, int side, uint64_t hash,
			  const uint8_t *wb, uint32_t now_s, uint8_t status);

#endif
