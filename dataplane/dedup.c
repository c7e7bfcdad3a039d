/* dedup.c: the shared duplicate window (see dedup.h). */
#include "dedup.h"

#include <endian.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <x86intrin.h>

int ps_dedup_init(struct ps_dedup *d, uint64_t capacity, uint32_t window_s)
{
	uint64_t buckets = 1;
	while (buckets * PS_DEDUP_WAYS < capacity)
		buckets <<= 1;
	memset(d, 0, sizeof(*d));
	d->bytes = buckets * PS_DEDUP_WAYS * sizeof(struct ps_dedup_slot);
	void *m = mmap(NULL, d->bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	madvise(m, d->bytes, MADV_HUGEPAGE);
	d->slot = m;
	d->mask = buckets - 1;
	d->capacity = buckets * PS_DEDUP_WAYS;
	d->window_s = window_s;
	return 0;
}

void ps_dedup_free(struct ps_dedup *d)
{
	if (d->slot)
		munmap(d->slot, d->bytes);
	d->slot = NULL;
}

uint64_t ps_dedup_hash(const uint8_t *wb)
{
	uint64_t w[3];
	memcpy(w, wb, 24);
	uint64_t h = le64toh(w[0]) * 0xbf58476d1ce4e5b9ull;
	h ^= le64toh(w[1]) * 0x94d049bb133111ebull;
	h ^= (le64toh(w[2]) + 0x9e3779b97f4a7c15ull) * 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	return h ^ (h >> 32);
}

/* Two candidate buckets per waybill ("power of two choices"): a new entry
 * goes to the emptier one, so buckets overflow far less at a given load. */
static inline struct ps_dedup_slot *bucket(const struct ps_dedup *d,
					   uint64_t hash, int which)
{
	uint64_t h = which ? (hash >> 32) * 0x9e3779b97f4a7c15ull >> 20 : hash;
	return d->slot + (h & d->mask) * PS_DEDUP_WAYS;
}

void ps_dedup_prefetch(const struct ps_dedup *d, uint64_t hash)
{
	const struct ps_dedup_slot *b = bucket(d, hash, 0);
	for (int i = 0; i < PS_DEDUP_WAYS; i++)
		__builtin_prefetch(&b[i]);
}

void ps_dedup_tick(struct ps_dedup *d, uint32_t s)
{
	uint32_t cur = __atomic_load_n(&d->clock_s, __ATOMIC_RELAXED);
	while (s > cur &&
	       !__atomic_compare_exchange_n(&d->clock_s, &cur, s, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Is an entry stamped t (seconds + 1; 0 = empty) live at now? Its age,
 * now - (t - 1), is in [0, window) for an entry of the past window, and in
 * [-PS_DEDUP_SKEW_S, 0) for one written by a core whose reading of the
 * clock is a little ahead of ours: both are live. Shifted by the skew, the
 * two ranges make one unsigned comparison. */
static inline int live(const struct ps_dedup *d, uint32_t t, uint32_t now)
{
	return t != 0 &&
	       now - (t - 1) + PS_DEDUP_SKEW_S < d->window_s + PS_DEDUP_SKEW_S;
}

static inline void slot_to_entry(const struct ps_dedup_slot *s,
				 struct ps_dedup_entry *e)
{
	struct ps_decision *o = &e->dec;
	e->rounds = s->rounds;
	e->not_discharged = s->not_discharged;
	o->matched_prefix = s->matched_prefix;
	o->hub = s->hub;
	o->plan_version = s->plan_version;
	o->chute = s->chute;
	o->tier = s->tier;
	o->reason = s->reason;
}

/* Read slot s if it holds wb live; 1 hit, 0 not, -1 being written. *q
 * gets the (even) sequence number the entry was read under. */
static int read_slot(const struct ps_dedup *d, const struct ps_dedup_slot *s,
		     const uint8_t *wb, uint32_t now, struct ps_dedup_entry *o,
		     uint32_t *q)
{
	uint32_t q1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if (q1 & 1)
		return -1;
	uint32_t t = s->t;
	if (!live(d, t, now) || memcmp(s->key, wb, PS_WAYBILL_LEN))
		return 0;
	struct ps_dedup_entry tmp;
	slot_to_entry(s, &tmp);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != q1)
		return -1;
	*o = tmp;
	*q = q1;
	return 1;
}

/* A writer holds a slot, and an inserter its bucket's turn word, for a few
 * tens of nanoseconds: whoever finds one taken waits (a seqlock reader's
 * retry), so that two cores seeing the same waybill at the same instant
 * still agree on which scan came first. Waiting first spins; a holder still
 * there after that was preempted by the scheduler (only when worker cores
 * share a CPU with other threads), so the waiter then yields the CPU until
 * the holder runs again, up to a deadline past which the slot counts as
 * busy (a holder that never comes back). */
#define SPIN_ROUNDS 256
#define WAIT_CYCLES (1ull << 28)     /* about 0.1 s at 2.5 GHz */

struct waiter {
	uint32_t rounds;
	uint64_t deadline;
};

/* One more round of waiting; 0 once the deadline has passed. */
static int wait_more(struct waiter *w)
{
	if (++w->rounds < SPIN_ROUNDS) {
		__builtin_ia32_pause();
		return 1;
	}
	uint64_t now = __rdtsc();
	if (!w->deadline)
		w->deadline = now + WAIT_CYCLES;
	else if (now > w->deadline)
		return 0;
	sched_yield();
	return 1;
}

/* Find wb's live entry: its slot (NULL when none) and the sequence number
 * it was read under. */
static enum ps_dedup_result find(const struct ps_dedup *d, uint64_t hash,
				 const uint8_t *wb, uint32_t now_s,
				 struct ps_dedup_entry *out,
				 struct ps_dedup_slot **at, uint32_t *q)
{
	int busy = 0;
	for (int k = 0; k < 2; k++) {
		struct ps_dedup_slot *b = bucket(d, hash, k);
		for (int i = 0; i < PS_DEDUP_WAYS; i++) {
			struct waiter w = { 0, 0 };
			int r;
			while ((r = read_slot(d, &b[i], wb, now_s, out,
					      q)) < 0 &&
			       wait_more(&w))
				;
			if (r == 1) {
				*at = &b[i];
				return PS_DEDUP_HIT;
			}
			busy |= r < 0;
		}
	}
	*at = NULL;
	return busy ? PS_DEDUP_BUSY : PS_DEDUP_MISS;
}

enum ps_dedup_result ps_dedup_lookup_entry(const struct ps_dedup *d,
					   uint64_t hash, const uint8_t *wb,
					   uint32_t now_s,
					   struct ps_dedup_entry *out)
{
	struct ps_dedup_slot *at;
	uint32_t q;
	return find(d, hash, wb, now_s, out, &at, &q);
}

enum ps_dedup_result ps_dedup_lookup(const struct ps_dedup *d, uint64_t hash,
				     const uint8_t *wb, uint32_t now_s,
				     struct ps_decision *out)
{
	struct ps_dedup_entry e;
	enum ps_dedup_result r = ps_dedup_lookup_entry(d, hash, wb, now_s, &e);
	if (r == PS_DEDUP_HIT)
		*out = e.dec;
	return r;
}

/* The chute availability an insert's race check uses: the look-up's. */
struct avail {
	const struct ps_chute_state *cs;
	uint16_t reject, intercept;
};

static enum ps_dedup_result insert_locked(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  const struct ps_decision *dec,
					  const struct avail *av,
					  struct ps_decision *out, int *evicted);

enum ps_dedup_result ps_dedup_insert(struct ps_dedup *d, uint64_t hash,
				     const uint8_t *wb, uint32_t now_s,
				     const struct ps_decision *dec,
				     const struct ps_chute_state *cs,
				     struct ps_decision *out, int *evicted)
{
	return ps_dedup_insert_exempt(d, hash, wb, now_s, dec, cs, 0, 0, out,
				      evicted);
}

enum ps_dedup_result ps_dedup_insert_exempt(struct ps_dedup *d, uint64_t hash,
					    const uint8_t *wb, uint32_t now_s,
					    const struct ps_decision *dec,
					    const struct ps_chute_state *cs,
					    uint16_t reject, uint16_t intercept,
					    struct ps_decision *out,
					    int *evicted)
{
	const struct avail av = { cs, reject, intercept };
	*evicted = 0;
	uint32_t *lock = &bucket(d, hash, 0)[0].insert_lock;
	struct waiter w = { 0, 0 };
	for (;;) {
		uint32_t free_ = 0;
		if (__atomic_compare_exchange_n(lock, &free_, 1, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		if (!wait_more(&w))
			return PS_DEDUP_BUSY;   /* its holder never came back */
	}
	enum ps_dedup_result r = insert_locked(d, hash, wb, now_s, dec, &av,
					       out, evicted);
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	return r;
}

/* What a slot held when it was chosen: a writer may fill it between the
 * choice and the claim, and then it is not ours to overwrite. */
struct snapshot {
	uint32_t t;
	uint8_t key[PS_WAYBILL_LEN];
};

/* The slot a new entry of wb goes to: one holding wb itself (expired or
 * for a disabled chute), else an empty or expired slot of either bucket,
 * else the oldest (*evicted set); what it held goes to *snap. */
static struct ps_dedup_slot *pick_slot(struct ps_dedup *d, uint64_t hash,
				       const uint8_t *wb, uint32_t now_s,
				       int *evicted, struct snapshot *snap)
{
	struct ps_dedup_slot *pick = NULL, *same = NULL;
	uint32_t oldest = UINT32_MAX;
	for (int k = 0; k < 2; k++) {
		struct ps_dedup_slot *b = bucket(d, hash, k);
		for (int i = 0; i < PS_DEDUP_WAYS; i++) {
			uint32_t t = b[i].t;
			if (!memcmp(b[i].key, wb, PS_WAYBILL_LEN))
				same = &b[i];
			if (!live(d, t, now_s)) {
				if (!pick || live(d, pick->t, now_s))
					pick = &b[i];
				oldest = 0;
			} else if (oldest && t < oldest) {
				oldest = t;
				pick = &b[i];
			}
		}
	}
	if (same)
		pick = same;
	else
		*evicted = live(d, pick->t, now_s);
	snap->t = pick->t;
	memcpy(snap->key, pick->key, PS_WAYBILL_LEN);
	return pick;
}

/* Claim slot s for writing if it still holds what was chosen: its sequence
 * number read first, then its content compared, then the sequence number
 * moved on only if no writer came in between. Returns the even sequence
 * number it had, or 1 (odd) when it is not ours. */
static uint32_t claim(struct ps_dedup_slot *s, const struct snapshot *snap)
{
	uint32_t q = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if (q & 1)
		return 1;
	if (__atomic_load_n(&s->t, __ATOMIC_RELAXED) != snap->t ||
	    memcmp(s->key, snap->key, PS_WAYBILL_LEN))
		return 1;
	if (!__atomic_compare_exchange_n(&s->seq, &q, q + 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 1;
	return q;
}

/* Write a new decision into claimed slot s: a replaced entry of the same
 * waybill still in its window passes on its count of rounds (step 8), and
 * the not-discharged mark is cleared. */
static void write_slot(const struct ps_dedup *d, struct ps_dedup_slot *s,
		       const uint8_t *wb, uint32_t now_s,
		       const struct ps_decision *dec)
{
	int same = live(d, s->t, now_s) &&
		   !memcmp(s->key, wb, PS_WAYBILL_LEN);
	s->rounds = same ? s->rounds : 0;
	s->not_discharged = 0;
	memcpy(s->key, wb, PS_WAYBILL_LEN);
	s->t = now_s + 1;
	s->matched_prefix = dec->matched_prefix;
	s->hub = dec->hub;
	s->plan_version = dec->plan_version;
	s->chute = dec->chute;
	s->tier = dec->tier;
	s->reason = dec->reason;
}

static enum ps_dedup_result insert_locked(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  const struct ps_decision *dec,
					  const struct avail *av,
					  struct ps_decision *out, int *evicted)
{
	struct waiter w = { 0, 0 };
	for (;;) {
		/* the same waybill may have been decided meanwhile by another
		 * core or an earlier record of this burst: the first stands */
		struct ps_dedup_entry e;
		enum ps_dedup_result r = ps_dedup_lookup_entry(d, hash, wb,
							       now_s, &e);
		if (r == PS_DEDUP_BUSY)
			return r;
		if (r == PS_DEDUP_HIT && !e.not_discharged &&
		    ps_chute_usable(av->cs, e.dec.chute, av->reject,
				    av->intercept)) {
			*out = e.dec;
			return r;
		}
		*evicted = 0;
		struct snapshot snap;
		struct ps_dedup_slot *s = pick_slot(d, hash, wb, now_s,
						    evicted, &snap);
		uint32_t q = claim(s, &snap);
		if (!(q & 1)) {
			write_slot(d, s, wb, now_s, dec);
			__atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
			return PS_DEDUP_MISS;
		}
		/* another core (inserting a waybill of another first-choice
		 * bucket) took that slot first: choose again once it is done */
		if (!wait_more(&w)) {
			*evicted = 0;
			return PS_DEDUP_BUSY;
		}
	}
}

/* Change a live entry found at sequence number q in place, if nobody wrote
 * the slot since: 1 done, 0 the slot moved on (look again). */
static int result_in_place(struct ps_dedup_slot *s, uint32_t q, uint8_t status)
{
	if (!__atomic_compare_exchange_n(&s->seq, &q, q + 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if (status == PS_SORT_SORTED) {
		s->not_discharged = 0;
	} else if (status == PS_SORT_LOST) {
		s->t = 0;                /* forgotten: an empty slot */
		s->rounds = 0;
		s->not_discharged = 0;
	} else {
		s->rounds = (uint8_t)(s->rounds + (s->rounds < 255));
		s->not_discharged = 1;
	}
	__atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
	return 1;
}

enum ps_dedup_result ps_dedup_sort_result(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  uint8_t status,
					  struct ps_dedup_entry *before)
{
	struct waiter w = { 0, 0 };
	for (;;) {
		struct ps_dedup_slot *at;
		uint32_t q;
		enum ps_dedup_result r = find(d, hash, wb, now_s, before, &at,
					      &q);
		if (r != PS_DEDUP_HIT)
			return r;
		/* the slot is claimed as an insert claims it */
		if (result_in_place(at, q, status))
			return PS_DEDUP_HIT;
		if (!wait_more(&w))
			return PS_DEDUP_BUSY;
	}
}
