/* dedup.c: the shared duplicate window (see dedup.h). */
#include "dedup.h"
#include "dedup_rules.h"
#include "ps_hugemem.h"
#include "ps_wbhash.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

int ps_dedup_init(struct ps_dedup *d, uint64_t capacity, uint32_t window_s)
{
	/* ages are compared in 23 bits (free_or_oldest_of); the
	 * configuration allows 30 days */
	uint64_t buckets = ps_dedup_buckets(capacity);
	if (window_s > PS_DEDUP_MAX_WINDOW_S || !buckets) {
		errno = EINVAL;
		return -1;
	}
	memset(d, 0, sizeof(*d));
	size_t heads = buckets * sizeof(struct ps_dedup_head);
	d->bytes = heads + buckets * PS_DEDUP_WAYS * sizeof(struct ps_dedup_slot);
	void *m = ps_huge_alloc(d->bytes);
	if (!m)
		return -1;
	d->head = m;
	d->slot = (struct ps_dedup_slot *)((char *)m + heads);
	d->mask = buckets - 1;
	d->capacity = buckets * PS_DEDUP_WAYS;
	d->window_s = window_s;
	return 0;
}

void ps_dedup_free(struct ps_dedup *d)
{
	ps_huge_free(d->head, d->bytes);
	d->head = NULL;
	d->slot = NULL;
}

uint64_t ps_dedup_hash(const uint8_t *wb)
{
	return ps_wb_hash64(wb);
}

static inline struct ps_dedup_head *head_of(const struct ps_dedup *d,
					    uint64_t hash)
{
	return d->head + ps_dedup_bucket(d, hash);
}

static inline struct ps_dedup_slot *slots_of(const struct ps_dedup *d,
					     uint64_t hash)
{
	return d->slot + ps_dedup_bucket(d, hash) * PS_DEDUP_WAYS;
}

/* Which bucket and way slot s is. */
static inline void where(const struct ps_dedup *d, const struct ps_dedup_slot *s,
			 uint64_t *bucket, int *way)
{
	uint64_t n = (uint64_t)(s - d->slot);
	*bucket = n / PS_DEDUP_WAYS;
	*way = (int)(n % PS_DEDUP_WAYS);
}

static inline int live(const struct ps_dedup *d, uint32_t t, uint32_t now)
{
	return ps_dedup_live(d->window_s, t, now);
}

static inline unsigned tag_matches(const struct ps_dedup_head *h, uint16_t tag)
{
	return ps_dedup_tags_match(h->tag, tag);
}

static inline uint32_t head_t(const struct ps_dedup_head *h, int i)
{
	return __atomic_load_n(&h->t[i], __ATOMIC_RELAXED);
}

/* Of the slots matching tag, those whose head says live. */
static inline unsigned live_matches(const struct ps_dedup *d,
				    const struct ps_dedup_head *h,
				    uint16_t tag, uint32_t now)
{
	unsigned m = tag_matches(h, tag), out = 0;
	while (m) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		if (live(d, head_t(h, i), now))
			out |= 1u << i;
	}
	return out;
}

void ps_dedup_prefetch(const struct ps_dedup *d, uint64_t hash)
{
	__builtin_prefetch(head_of(d, hash));
}

void ps_dedup_prefetch_entry(const struct ps_dedup *d, uint64_t hash)
{
	const struct ps_dedup_slot *s = slots_of(d, hash);
	unsigned m = tag_matches(head_of(d, hash), ps_dedup_tag(hash));
	while (m) {
		__builtin_prefetch(&s[__builtin_ctz(m)]);
		m &= m - 1;
	}
}

void ps_dedup_tick(struct ps_dedup *d, uint32_t s)
{
	uint32_t cur = __atomic_load_n(&d->clock_s, __ATOMIC_RELAXED);
	while (s > cur &&
	       !__atomic_compare_exchange_n(&d->clock_s, &cur, s, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
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

/* Look for wb's live entry in bucket b: only the slots whose tag matches
 * and whose head time is live are read. */
static enum ps_dedup_result find_in(const struct ps_dedup *d, uint64_t b,
				    uint16_t tag, const uint8_t *wb,
				    uint32_t now_s, struct ps_dedup_entry *out,
				    struct ps_dedup_slot **at, uint32_t *q)
{
	struct ps_dedup_slot *s = d->slot + b * PS_DEDUP_WAYS;
	unsigned m = live_matches(d, &d->head[b], tag, now_s);
	int busy = 0;
	while (m) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		struct waiter w = { 0, 0 };
		int r;
		while ((r = read_slot(d, &s[i], wb, now_s, out, q)) < 0 &&
		       wait_more(&w))
			;
		if (r == 1) {
			*at = &s[i];
			return PS_DEDUP_HIT;
		}
		busy |= r < 0;
	}
	*at = NULL;
	return busy ? PS_DEDUP_BUSY : PS_DEDUP_MISS;
}

/* Find wb's live entry: its slot (NULL when none) and the sequence number
 * it was read under. The second bucket is read only when some waybill of
 * the first went there. */
static enum ps_dedup_result find(const struct ps_dedup *d, uint64_t hash,
				 const uint8_t *wb, uint32_t now_s,
				 struct ps_dedup_entry *out,
				 struct ps_dedup_slot **at, uint32_t *q)
{
	uint64_t b = ps_dedup_bucket(d, hash);
	uint16_t tag = ps_dedup_tag(hash);
	enum ps_dedup_result r = find_in(d, b, tag, wb, now_s, out, at, q);
	if (r == PS_DEDUP_HIT ||
	    !__atomic_load_n(&d->head[b].spilled_out, __ATOMIC_RELAXED))
		return r;
	enum ps_dedup_result r2 = find_in(d, ps_dedup_alt_bucket(d, hash),
					  tag, wb, now_s, out, at, q);
	return r2 == PS_DEDUP_MISS ? r : r2;
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

/* A free or expired slot of head h, or -1; *t gets the time it had. */
static int first_free(const struct ps_dedup *d, const struct ps_dedup_head *h,
		      uint32_t now_s, uint32_t *t)
{
	return ps_dedup_first_free(d->window_s, h->t, now_s, t);
}

/* Head h's insert orders, read before its times (the order of its
 * writers' stores: a slot's order is written after its time, so a choice
 * made on times written after this read finds its order changed at the
 * claim). */
static inline void read_ords(const struct ps_dedup_head *h, uint8_t *ord)
{
	memcpy(ord, h->ord, PS_DEDUP_WAYS);
	__atomic_signal_fence(__ATOMIC_ACQUIRE);
}

/* A free or expired slot of head h (1), else (0) its oldest entry's
 * (dedup_rules.h); *t_seen and *ord_seen are the time and insert order
 * the choice was made on. */
static int free_or_oldest_of(const struct ps_dedup *d,
			     const struct ps_dedup_head *h, uint32_t now_s,
			     int *slot, uint32_t *t_seen, uint8_t *ord_seen)
{
	uint8_t ord[PS_DEDUP_WAYS];
	read_ords(h, ord);
	int r = ps_dedup_free_or_oldest(d->window_s, h->t, ord,
					__atomic_load_n(&h->inserts,
							__ATOMIC_RELAXED),
					now_s, slot, t_seen);
	*ord_seen = ord[*slot];
	return r;
}

static int free_or_oldest(const struct ps_dedup *d,
			  const struct ps_dedup_head *h, uint32_t now_s)
{
	int i;
	uint32_t t;
	uint8_t o;
	free_or_oldest_of(d, h, now_s, &i, &t, &o);
	return i;
}

void ps_dedup_prefetch_insert(const struct ps_dedup *d, uint64_t hash,
			      uint32_t now_s)
{
	const struct ps_dedup_head *h = head_of(d, hash);
	unsigned m = tag_matches(h, ps_dedup_tag(hash));
	int i = m ? __builtin_ctz(m) : free_or_oldest(d, h, now_s);
	__builtin_prefetch(&slots_of(d, hash)[i]);
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
	uint32_t *lock = &head_of(d, hash)->insert_lock;
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

/* Where a new entry goes: bucket b, way i, and the time and insert order
 * its head entry had when it was chosen, read once for the choice (a claim
 * checks that it still has both: read again later, they could already be
 * another insert's, made in between, and that entry would be overwritten;
 * the order tells apart two entries of the same second, such as a
 * waybill's entry and the one that replaced it in place). */
struct choice {
	uint64_t b;
	int i;
	int spill;               /* b is the waybill's second bucket */
	uint32_t t;
	uint8_t ord;
};

/* Whether an insert whose bucket is full looks at its second bucket. Each
 * waybill has its own second bucket, so one found full says little about
 * the next one's: after a run of k second buckets found full in a row, the
 * bucket looks at every 2^(k-1)-th insert (always after a single one),
 * up to every PS_DEDUP_ALT_EVERY-th once the table is full and every
 * second bucket is; one found with room ends the run. */
static inline int look_at_alt(const struct ps_dedup_head *h)
{
	return ps_dedup_look_at_alt(h->alt_full_run,
				    __atomic_load_n(&h->inserts,
						    __ATOMIC_RELAXED));
}

/* A free or expired slot of bucket b (head h), else a free one of its
 * second bucket, else the oldest of b: where a new entry goes when the
 * waybill has no entry of its own in b. */
static void pick_free_or_oldest(struct ps_dedup *d, uint64_t hash,
				struct ps_dedup_head *h, uint32_t now_s,
				struct choice *c)
{
	if (free_or_oldest_of(d, h, now_s, &c->i, &c->t, &c->ord))
		return;
	/* c->i is the oldest: evicted, unless the second bucket has room */
	if (d->mask && look_at_alt(h)) {
		uint64_t a = ps_dedup_alt_bucket(d, hash);
		uint32_t t;
		uint8_t ord[PS_DEDUP_WAYS];
		read_ords(&d->head[a], ord);
		int j = first_free(d, &d->head[a], now_s, &t);
		/* under the bucket's turn */
		h->alt_full_run = j >= 0 ? 0 : (uint8_t)(h->alt_full_run +
				(h->alt_full_run < PS_DEDUP_ALT_FULL_RUN_MAX));
		if (j >= 0) {
			c->b = a;
			c->i = j;
			c->t = t;
			c->ord = ord[j];
			c->spill = 1;
		}
	}
}

/* The slot a new entry of wb goes to when it has no live entry that may
 * stay: its own expired one in its bucket (tag and waybill match), else
 * pick_free_or_oldest's. */
static void pick_slot(struct ps_dedup *d, uint64_t hash, const uint8_t *wb,
		      uint32_t now_s, struct choice *c)
{
	uint64_t b = ps_dedup_bucket(d, hash);
	struct ps_dedup_head *h = &d->head[b];
	const struct ps_dedup_slot *s = d->slot + b * PS_DEDUP_WAYS;
	unsigned m = tag_matches(h, ps_dedup_tag(hash));
	c->b = b;
	c->spill = 0;
	while (m) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		c->ord = __atomic_load_n(&h->ord[i], __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_ACQUIRE);
		c->t = head_t(h, i);
		if (!memcmp(s[i].key, wb, PS_WAYBILL_LEN)) {
			c->i = i;
			return;
		}
	}
	pick_free_or_oldest(d, hash, h, now_s, c);
}

/* The common case of a fresh waybill, in one pass over its head: no slot
 * of its bucket carries its tag and none of the bucket's waybills went to
 * a second bucket. find() would then read no slot and miss, and pick_slot
 * would find no entry of its own: the slot is pick_free_or_oldest's.
 * Returns 0 (nothing chosen) otherwise. The head is read as find() and
 * pick_slot read it (relaxed; the claim settles races). */
static int pick_fresh(struct ps_dedup *d, uint64_t hash, uint32_t now_s,
		      struct choice *c)
{
	uint64_t b = ps_dedup_bucket(d, hash);
	struct ps_dedup_head *h = &d->head[b];
	if (tag_matches(h, ps_dedup_tag(hash)) ||
	    __atomic_load_n(&h->spilled_out, __ATOMIC_RELAXED))
		return 0;
	c->b = b;
	c->spill = 0;
	pick_free_or_oldest(d, hash, h, now_s, c);
	return 1;
}

/* Claim the chosen slot for writing: its sequence number moved from even
 * to odd by compare-and-swap, and then its head entry's time and insert
 * order still the ones it was chosen for (an insert spilling from another
 * bucket, one of its own bucket when this one spills, or a waybill of
 * another bucket re-decided in the slot it spilled to, may have written it
 * meanwhile: then it is not ours). Returns the even number it had, or 1
 * (odd) when it is not ours. */
static uint32_t claim(struct ps_dedup *d, const struct choice *c)
{
	struct ps_dedup_slot *s = &d->slot[c->b * PS_DEDUP_WAYS + (uint64_t)c->i];
	const struct ps_dedup_head *h = &d->head[c->b];
#ifdef PS_DEDUP_TEST_BEFORE_CLAIM
	PS_DEDUP_TEST_BEFORE_CLAIM(d, c);   /* tests: another core's turn */
#endif
	uint32_t q = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if ((q & 1) ||
	    !__atomic_compare_exchange_n(&s->seq, &q, q + 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 1;
	if (head_t(h, c->i) != c->t ||
	    __atomic_load_n(&h->ord[c->i], __ATOMIC_RELAXED) != c->ord) {
		__atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
		return 1;
	}
	return q;
}

/* Move a bucket's count of its waybills in second buckets by delta (+1 or
 * -1). The count stops at 255 and stays there (every look-up of the
 * bucket then reads its second head): wrapped, 256 would read as 0 and the
 * look-ups would no longer see those waybills, each then decided afresh
 * and remembered twice. */
static void spilled_out_add(struct ps_dedup_head *h, int delta)
{
	uint8_t n = __atomic_load_n(&h->spilled_out, __ATOMIC_RELAXED);
	while (n != UINT8_MAX &&
	       !__atomic_compare_exchange_n(&h->spilled_out, &n,
					    (uint8_t)(n + delta), 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Write a new decision into the claimed slot: a replaced entry of the same
 * waybill still in its window passes on its count of rounds (step 8), and
 * the not-discharged mark is cleared. The head follows the slot, and the
 * spill counts follow the waybills. Returns whether a live entry of
 * another waybill was evicted. */
static int write_slot(struct ps_dedup *d, uint64_t hash, const struct choice *c,
		      const uint8_t *wb, uint32_t now_s,
		      const struct ps_decision *dec)
{
	struct ps_dedup_head *h = &d->head[c->b];
	struct ps_dedup_slot *o = &d->slot[c->b * PS_DEDUP_WAYS + (uint64_t)c->i];
	uint8_t bit = (uint8_t)(1u << c->i);
	int was_live = live(d, o->t, now_s);
	/* another tag is another waybill: the key is compared only when
	 * the head's tag for the slot is the waybill's */
	int same = __atomic_load_n(&h->tag[c->i], __ATOMIC_RELAXED) ==
			   ps_dedup_tag(hash) &&
		   !memcmp(o->key, wb, PS_WAYBILL_LEN);
	if (__atomic_load_n(&h->spilled_in, __ATOMIC_RELAXED) & bit) {
		/* the waybill that leaves came from another bucket */
		__atomic_fetch_and(&h->spilled_in, (uint8_t)~bit,
				   __ATOMIC_RELAXED);
		spilled_out_add(head_of(d, ps_dedup_hash(o->key)), -1);
	}
	if (c->spill) {
		spilled_out_add(head_of(d, hash), 1);
		__atomic_fetch_or(&h->spilled_in, bit, __ATOMIC_RELAXED);
	}
	o->rounds = was_live && same ? o->rounds : 0;
	o->not_discharged = 0;
	memcpy(o->key, wb, PS_WAYBILL_LEN);
	o->t = now_s + 1;
	o->matched_prefix = dec->matched_prefix;
	o->hub = dec->hub;
	o->plan_version = dec->plan_version;
	o->chute = dec->chute;
	o->tier = dec->tier;
	o->reason = dec->reason;
	__atomic_store_n(&h->tag[c->i], ps_dedup_tag(hash), __ATOMIC_RELAXED);
	__atomic_store_n(&h->t[c->i], now_s + 1, __ATOMIC_RELAXED);
	/* the order of the bucket the slot is in; a spilling insert does not
	 * hold that bucket's turn, so two may race here and a count be lost
	 * (no locked instruction for it): the order is only a tie-break */
	uint8_t n = __atomic_load_n(&h->inserts, __ATOMIC_RELAXED);
	__atomic_store_n(&h->inserts, (uint8_t)(n + 1), __ATOMIC_RELAXED);
	__atomic_store_n(&h->ord[c->i], n, __ATOMIC_RELAXED);
	return was_live && !same;
}

/* Where a new entry of wb goes when its waybill may have an entry: the
 * same waybill may have been decided meanwhile by another core or an
 * earlier record of this burst, and the first stands (PS_DEDUP_HIT, *out
 * its decision); a live entry that may not answer is replaced where it is,
 * if nobody wrote it since it was read; else pick_slot's. PS_DEDUP_MISS
 * with *c chosen and *q the claim's result (odd: not ours). */
static enum ps_dedup_result choose_after_find(struct ps_dedup *d,
					      uint64_t hash, const uint8_t *wb,
					      uint32_t now_s,
					      const struct avail *av,
					      struct ps_decision *out,
					      struct choice *c, uint32_t *q)
{
	struct ps_dedup_entry e;
	struct ps_dedup_slot *at;
	enum ps_dedup_result r = find(d, hash, wb, now_s, &e, &at, q);
	if (r == PS_DEDUP_BUSY)
		return r;
	if (r == PS_DEDUP_HIT && !e.not_discharged &&
	    ps_chute_usable(av->cs, e.dec.chute, av->reject, av->intercept)) {
		*out = e.dec;
		return r;
	}
	if (at) {
		where(d, at, &c->b, &c->i);
		c->spill = c->b != ps_dedup_bucket(d, hash);
		if (!__atomic_compare_exchange_n(&at->seq, q, *q + 1, 0,
						 __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			*q = 1;
	} else {
		pick_slot(d, hash, wb, now_s, c);
		*q = claim(d, c);
	}
	return PS_DEDUP_MISS;
}

static enum ps_dedup_result insert_locked(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  const struct ps_decision *dec,
					  const struct avail *av,
					  struct ps_decision *out, int *evicted)
{
	struct waiter w = { 0, 0 };
	for (;;) {
		struct choice c;
		uint32_t q;
		if (pick_fresh(d, hash, now_s, &c)) {
			q = claim(d, &c);
		} else {
			enum ps_dedup_result r = choose_after_find(
				d, hash, wb, now_s, av, out, &c, &q);
			if (r != PS_DEDUP_MISS)
				return r;
		}
		if (!(q & 1)) {
			struct ps_dedup_slot *s =
				&d->slot[c.b * PS_DEDUP_WAYS + (uint64_t)c.i];
			*evicted = write_slot(d, hash, &c, wb, now_s, dec);
			__atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
			return PS_DEDUP_MISS;
		}
		/* a sort result holds the slot, or an insert spilling from
		 * another bucket took it first: choose again once it is done */
		if (!wait_more(&w))
			return PS_DEDUP_BUSY;
	}
}

/* Change a live entry found at sequence number q in place, if nobody wrote
 * the slot since: 1 done, 0 the slot moved on (look again). */
static int result_in_place(struct ps_dedup *d, struct ps_dedup_slot *o,
			   uint32_t q, uint8_t status)
{
	if (!__atomic_compare_exchange_n(&o->seq, &q, q + 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if (status == PS_SORT_SORTED) {
		o->not_discharged = 0;
	} else if (status == PS_SORT_LOST) {
		uint64_t b;
		int i;
		where(d, o, &b, &i);
		o->t = 0;                /* forgotten: an empty slot */
		o->rounds = 0;
		o->not_discharged = 0;
		__atomic_store_n(&d->head[b].t[i], 0, __ATOMIC_RELAXED);
	} else {
		o->rounds = (uint8_t)(o->rounds + (o->rounds < 255));
		o->not_discharged = 1;
	}
	__atomic_store_n(&o->seq, q + 2, __ATOMIC_RELEASE);
	return 1;
}

/* The common result in one pass: the waybill's live entry in its own
 * bucket, its slot not mid-write, read and (unless SORTED finds no mark)
 * changed in place. Returns PS_DEDUP_HIT, or -1 for everything else
 * (not found there, being written, changed since read), *before then
 * untouched: the full path below decides, as if this had not run. */
static inline int sort_result_at_once(struct ps_dedup *d, uint64_t hash,
				      const uint8_t *wb, uint32_t now_s,
				      uint8_t status,
				      struct ps_dedup_entry *before)
{
	uint64_t b = ps_dedup_bucket(d, hash);
	struct ps_dedup_slot *s = d->slot + b * PS_DEDUP_WAYS;
	unsigned m = tag_matches(&d->head[b], ps_dedup_tag(hash));
	while (m) {
		struct ps_dedup_slot *o = &s[__builtin_ctz(m)];
		m &= m - 1;
		uint32_t q = __atomic_load_n(&o->seq, __ATOMIC_ACQUIRE);
		if (q & 1)
			return -1;
		if (!live(d, o->t, now_s) || memcmp(o->key, wb, PS_WAYBILL_LEN))
			continue;
		/* read aside: a read that the slot's writer tore, or a
		 * claim that fails, leaves *before as it was */
		struct ps_dedup_entry e;
		slot_to_entry(o, &e);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&o->seq, __ATOMIC_RELAXED) != q)
			return -1;
		if ((status != PS_SORT_SORTED || e.not_discharged) &&
		    !result_in_place(d, o, q, status))
			return -1;
		*before = e;
		return PS_DEDUP_HIT;
	}
	return -1;
}

enum ps_dedup_result ps_dedup_sort_result(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  uint8_t status,
					  struct ps_dedup_entry *before)
{
	if (sort_result_at_once(d, hash, wb, now_s, status, before) ==
	    PS_DEDUP_HIT)
		return PS_DEDUP_HIT;
	struct waiter w = { 0, 0 };
	for (;;) {
		struct ps_dedup_slot *at;
		uint32_t q;
		enum ps_dedup_result r = find(d, hash, wb, now_s, before, &at,
					      &q);
		if (r != PS_DEDUP_HIT)
			return r;
		/* SORTED on an entry without the mark changes nothing: the
		 * entry read (one consistent snapshot) is the answer, and the
		 * slot is not claimed (the common result costs no atomic) */
		if (status == PS_SORT_SORTED && !before->not_discharged)
			return PS_DEDUP_HIT;
		/* the slot is claimed as an insert claims it */
		if (result_in_place(d, at, q, status))
			return PS_DEDUP_HIT;
		if (!wait_more(&w))
			return PS_DEDUP_BUSY;
	}
}
