/* dedup.h: the duplicate window, one table shared by every worker core.
 *
 * A set-associative cache of the decisions of recently sorted waybills,
 * built so that a look-up costs one cache miss: each waybill has one
 * bucket of PS_DEDUP_WAYS slots, chosen by its 64-bit hash, and each bucket
 * has a head, one cache line holding a 16-bit tag (more bits of the hash)
 * and the time of the entry for every slot. A look-up reads the head and
 * goes to a slot (64 bytes, its own cache line: the full 24-byte waybill,
 * the time of the first decision, what was decided, the sort loop's
 * rounds and not-discharged mark) only when that slot's tag matches and
 * its entry is live: a fresh waybill touches the head alone (a false tag
 * match costs a slot read one time in 8,192). An insert takes, in its
 * bucket, the slot of the waybill itself, else a free or expired slot,
 * else, when its second bucket (other bits of the hash) has a free slot,
 * that one (at low load a few buckets fill up long before the table:
 * look-ups read the second head only for buckets that spilled there),
 * else its bucket's oldest entry (evicted, counted): chosen from the
 * heads' times, no walk. Entries never move.
 *
 * The slot is the truth; the head is a hint that says where to look. A
 * writer of a slot (an insert, a sort result) changes the slot and its
 * head entry together while it holds the slot. Readers never wait on a
 * head: a stale head entry leads at worst to a slot that does not hold
 * the waybill (a miss, exactly as if the look-up had come a moment
 * earlier). Readers never wait on a slot either: each slot carries a
 * sequence number that a writer makes odd (by compare-and-swap) while it
 * writes and even when done; a reader that sees it odd or changed waits
 * and reads again (spinning, then yielding when the writer was
 * preempted). Two cores deciding the same waybill at the same instant
 * must not both insert it: inserts of waybills of the same bucket take
 * turns on a word in its head (held for the few tens of nanoseconds of the
 * insert; look-ups never touch it). An insert spilling into a second
 * bucket does not hold that bucket's turn: two inserts choosing the same
 * slot settle it by the slot's compare-and-swap and a check that its head
 * entry is still what they chose. Entries older than the window are ignored and
 * reused.
 *
 * Time is the window's own clock, one for every core: seconds since the
 * dataplane started, kept in the table (ps_dedup_tick, ps_dedup_now). A
 * core may still act on a reading taken just before another core moved the
 * clock on, so an entry stamped up to PS_DEDUP_SKEW_S seconds after a
 * reader's time is fresh, not expired. */
#ifndef PS_DEDUP_H
#define PS_DEDUP_H

#include <stdint.h>

#include "chutes.h"
#include "ps_wire.h"

#define PS_DEDUP_WAYS 8
#define PS_DEDUP_ALT_EVERY 64
/* How far after a reader's time an entry's stamp may be and still count as
 * fresh: a core's time is read once a burst, and a worker preempted between
 * reading it and using it (workers sharing a CPU) lags the clock for as long
 * as it is off the CPU. A stamp further ahead cannot come from the clock
 * and counts as expired. */
#define PS_DEDUP_SKEW_S 60u

struct ps_dedup_slot {
	uint32_t seq;            /* odd while being written */
	uint32_t t;              /* dataplane seconds + 1 of the first decision; 0 = empty */
	uint8_t key[PS_WAYBILL_LEN];
	uint64_t matched_prefix;
	uint32_t hub;
	uint32_t plan_version;
	uint16_t chute;
	uint8_t tier;
	uint8_t reason;
	uint8_t rounds;          /* not-discharged sort results (max 255) */
	uint8_t not_discharged;  /* 1: such a result came since the decision */
	uint8_t pad[10];
} __attribute__((aligned(64)));

/* A bucket's head: where its slots' entries are, in one cache line. tag[i]
 * and t[i] copy slot i's tag and time (0: empty), and bit i of spilled_in
 * says slot i holds a waybill whose own bucket is another (spilled here);
 * all three are written by whoever holds slot i, read by anyone without
 * waiting. ord[i] is the bucket's insert count when slot i was written
 * (modulo 256), written under the bucket's turn: of entries stamped in the
 * same second, the one written first is the older. spilled_out counts
 * this bucket's waybills in slots of their second buckets (stuck at 255
 * once there: never wrapped to 0). When the table is full every bucket is,
 * and looking at the second bucket before evicting would cost each insert
 * a second miss: after a run of k second buckets found full in a row the
 * bucket looks at every 2^(k-1)-th insert only, at least every
 * PS_DEDUP_ALT_EVERY-th; one found with room ends the run. */
struct ps_dedup_head {
	uint32_t insert_lock;    /* inserts into the bucket take turns */
	uint16_t tag[PS_DEDUP_WAYS];
	uint32_t t[PS_DEDUP_WAYS];
	uint8_t ord[PS_DEDUP_WAYS];
	uint8_t inserts;         /* inserts into the bucket, modulo 256 */
	uint8_t spilled_in;
	uint8_t spilled_out;
	uint8_t alt_full_run;    /* second buckets found full in a row by
				  * its inserts (under the bucket's turn) */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct ps_dedup_head) == 64, "a head is a cache line");

struct ps_dedup {
	struct ps_dedup_head *head;   /* one per bucket */
	struct ps_dedup_slot *slot;   /* PS_DEDUP_WAYS per bucket, in order */
	uint64_t mask;           /* buckets - 1 */
	uint32_t window_s;
	uint64_t capacity;       /* slots */
	size_t bytes;
	/* the window's clock (seconds since start), written about once a
	 * second, read once a burst by every core: a line of its own */
	uint32_t clock_s __attribute__((aligned(64)));
};

/* A remembered decision with its sort-loop state. */
struct ps_dedup_entry {
	struct ps_decision dec;
	uint8_t rounds;
	uint8_t not_discharged;
};

enum ps_dedup_result {
	PS_DEDUP_MISS,
	PS_DEDUP_HIT,            /* *out holds the first decision */
	PS_DEDUP_BUSY,           /* a slot stayed mid-write for ~0.1 s */
};

/* The most waybills a window is made for: 2^40 (tens of TiB of slots,
 * more than any machine has). Rounded up to a power of two of buckets, a
 * capacity above 2^63 would overflow 64 bits (and the rounding never
 * end). */
#define PS_DEDUP_MAX_CAPACITY (1ull << 40)
/* The longest window: ages are compared in 23 bits. */
#define PS_DEDUP_MAX_WINDOW_S ((1u << 23) - PS_DEDUP_SKEW_S - 1)

/* The buckets of a window for capacity waybills: the fewest, a power of
 * two, whose ways hold them; 0 when capacity is above
 * PS_DEDUP_MAX_CAPACITY. The what-if's window has the same
 * (wi_window.c). */
static inline uint64_t ps_dedup_buckets(uint64_t capacity)
{
	uint64_t buckets = 1;
	if (capacity > PS_DEDUP_MAX_CAPACITY)
		return 0;
	while (buckets * PS_DEDUP_WAYS < capacity)
		buckets <<= 1;
	return buckets;
}

/* capacity: at least this many waybills (up to PS_DEDUP_MAX_CAPACITY);
 * window in seconds (up to PS_DEDUP_MAX_WINDOW_S). 0, or -1 with errno
 * EINVAL (either out of range) or ENOMEM. */
int ps_dedup_init(struct ps_dedup *d, uint64_t capacity, uint32_t window_s);
void ps_dedup_free(struct ps_dedup *d);

/* The window's time in seconds: the same value on every core. */
static inline uint32_t ps_dedup_now(const struct ps_dedup *d)
{
	return __atomic_load_n(&d->clock_s, __ATOMIC_RELAXED);
}
/* Seconds from start_tsc to tsc, for ps_dedup_tick: 0 for a reading before
 * start_tsc (a core whose TSC is a little behind the main lcore's, which
 * read start_tsc). Wrapped, such a reading would move the clock, which
 * never goes back, to billions of seconds for good: no entry would ever
 * expire again. */
static inline uint32_t ps_dedup_seconds(uint64_t tsc, uint64_t start_tsc,
					uint64_t hz)
{
	return tsc > start_tsc ? (uint32_t)((tsc - start_tsc) / hz) : 0;
}
/* Move the clock on to s seconds (each worker calls it with its reading of
 * the shared TSC base; the first to reach a second moves it); never back. */
void ps_dedup_tick(struct ps_dedup *d, uint32_t s);

uint64_t ps_dedup_hash(const uint8_t *wb);
/* The bucket of a hash, and the tag its head keeps for it. */
static inline uint64_t ps_dedup_bucket(const struct ps_dedup *d, uint64_t hash)
{
	return hash & d->mask;
}
static inline uint16_t ps_dedup_tag(uint64_t hash)
{
	return (uint16_t)(hash >> 48);
}
/* A waybill's second bucket: where it goes only when its own bucket's
 * slots all hold live entries and the second has a free one (at low load
 * a few buckets fill up long before the table does). Other bits of the
 * hash; never the own bucket when there are two or more. */
static inline uint64_t ps_dedup_alt_bucket(const struct ps_dedup *d,
					   uint64_t hash)
{
	uint64_t own = ps_dedup_bucket(d, hash);
	uint64_t b = (hash >> 16) * 0x9e3779b97f4a7c15ull >> 24 & d->mask;
	return b != own ? b : (own ^ 1) & d->mask;
}
/* Prefetching a burst, in two steps some records apart: the head first
 * (all a fresh waybill's look-up reads), then, once the head is in, the
 * slots whose tag matches (what a duplicate's look-up or a sort result
 * reads next). */
void ps_dedup_prefetch(const struct ps_dedup *d, uint64_t hash);
void ps_dedup_prefetch_entry(const struct ps_dedup *d, uint64_t hash);
/* The slot an insert of this hash would take at now_s, its head being in
 * cache: prefetched some records before the insert. */
void ps_dedup_prefetch_insert(const struct ps_dedup *d, uint64_t hash,
			      uint32_t now_s);
/* Look up a waybill at time now_s (normally ps_dedup_now). */
enum ps_dedup_result ps_dedup_lookup(const struct ps_dedup *d, uint64_t hash,
				     const uint8_t *wb, uint32_t now_s,
				     struct ps_decision *out);
/* The same, with the entry's count of rounds and not-discharged mark. */
enum ps_dedup_result ps_dedup_lookup_entry(const struct ps_dedup *d,
					   uint64_t hash, const uint8_t *wb,
					   uint32_t now_s,
					   struct ps_dedup_entry *out);
/* Remember a decision, unless a live entry for the waybill whose chute is
 * available (chutes.h) and that has no not-discharged mark appeared in the
 * meantime (then *out gets it and PS_DEDUP_HIT is returned); another entry
 * of the waybill is replaced, keeping its count of rounds (protocol step
 * 8). *evicted is set when a live entry of another waybill had to go. */
enum ps_dedup_result ps_dedup_insert(struct ps_dedup *d, uint64_t hash,
				     const uint8_t *wb, uint32_t now_s,
				     const struct ps_decision *dec,
				     const struct ps_chute_state *cs,
				     struct ps_decision *out, int *evicted);
/* The same, with the plan's reject and intercept chutes (0: none), which
 * a sorter report takes out of nothing (ps_chute_usable): a live entry
 * for one of them counts as available as it does at the look-up (step
 * 8). The pipeline calls this one. */
enum ps_dedup_result ps_dedup_insert_exempt(struct ps_dedup *d, uint64_t hash,
					    const uint8_t *wb, uint32_t now_s,
					    const struct ps_decision *dec,
					    const struct ps_chute_state *cs,
					    uint16_t reject, uint16_t intercept,
					    struct ps_decision *out,
					    int *evicted);

/* Apply a sort result (enum ps_sort_status) to the waybill's live entry at
 * now_s: SORTED clears the not-discharged mark, LOST forgets the entry,
 * the others add a round (at most 255) and set the mark. Under the same
 * seqlock discipline as inserts: the slot is claimed by compare-and-swap
 * on its sequence number, written, released (a SORTED result on an entry
 * without the mark writes nothing). Returns PS_DEDUP_HIT with
 * *before the entry as it was, PS_DEDUP_MISS when the waybill is not
 * remembered, PS_DEDUP_BUSY when its slot stayed mid-write. */
enum ps_dedup_result ps_dedup_sort_result(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  uint8_t status,
					  struct ps_dedup_entry *before);

#endif
