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
	size_t heads = buckets * sizeof(struct ps_dedup_head);
	d->bytes = heads + buckets * PS_DEDUP_WAYS * sizeof(struct ps_dedup_slot);
	void *m = mmap(NULL, d->bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	madvise(m, d->bytes, MADV_HUGEPAGE);
	d->head = m;
	d->slot = (struct ps_dedup_slot *)((char *)m + heads);
	d->mask = buckets - 1;
	d->capacity = buckets * PS_DEDUP_WAYS;
	d->window_s = window_s;
	return 0;
}

void ps_dedup_free(struct ps_dedup *d)
{
	if (d->head)
		munmap(d->head, d->bytes);
	d->head = NULL;
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

/* The slots of head h whose tag is tag, one bit each (eight 16-bit tags
 * compared at once). */
static inline unsigned tag_matches(const struct ps_dedup_head *h, uint16_t tag)
{
	__m128i tags = _mm_loadu_si128((const __m128i *)(const void *)h->tag);
	__m128i eq = _mm_cmpeq_epi16(tags, _mm_set1_epi16((short)tag));
	return (unsigned)_mm_movemask_epi8(_mm_packs_epi16(eq, eq)) & 0xffu;
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

/* A writer holds a bucket for a few tens of nanoseconds: whoever finds it
 * held waits (a seqlock reader's retry), so that two cores seeing the same
 * waybill at the same instant still agree on which scan came first.
 * Waiting first spins; a holder still there after that was preempted by
 * the scheduler (only when worker cores share a CPU with other threads),
 * so the waiter then yields the CPU until the holder runs again, up to a
 * deadline past which the bucket counts as busy (a holder that never comes
 * back). */
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

/* Bucket b's sequence number once no writer holds it (even), waiting
 * behind w; 1 (odd) when it stayed held past the deadline. Reads of the
 * bucket come after it. */
static uint32_t quiet_seq(const struct ps_dedup *d, uint64_t b,
			  struct waiter *w)
{
	uint32_t q;
	while ((q = __atomic_load_n(&d->head[b].seq, __ATOMIC_ACQUIRE)) & 1)
		if (!wait_more(w))
			return 1;
	return q;
}

/* Whether bucket b still has the sequence number q its reads began under:
 * then nothing was written there in between, and what was read is one
 * state of the bucket, not a mix of two. */
static inline int unchanged(const struct ps_dedup *d, uint64_t b, uint32_t q)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&d->head[b].seq, __ATOMIC_RELAXED) == q;
}

/* Take bucket b from sequence number q (odd from then on), if nobody wrote
 * it since q was read. The reads made under q stay before it. */
static inline int take(struct ps_dedup *d, uint64_t b, uint32_t q)
{
#ifdef NO_LOCK
	if (d->head[b].seq != q) return 0;
	__atomic_store_n(&d->head[b].seq, q + 1, __ATOMIC_RELAXED);
	return 1;
#endif
	return __atomic_compare_exchange_n(&d->head[b].seq, &q, q + 1, 0,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Give back bucket b taken from q: the writes made before it are seen by
 * whoever reads the new number. */
static inline void give_back(struct ps_dedup *d, uint64_t b, uint32_t q)
{
	__atomic_store_n(&d->head[b].seq, q + 2, __ATOMIC_RELEASE);
}

/* Where a look-up found (or did not find) the waybill, and the sequence
 * numbers of the buckets it read: a writer takes a bucket from the number
 * its reads were made under. */
struct found {
	uint64_t b;              /* own bucket */
	uint32_t q;              /* and its number */
	uint64_t alt;            /* second bucket, when read (alt_read) */
	uint32_t q_alt;
	int alt_read;
	uint64_t at_b;           /* the live entry's bucket and way (at_i >= 0) */
	int at_i;
};

/* Look for wb's live entry in bucket b: only the slots whose tag matches
 * and whose head time is live are read, all under one sequence number
 * (*q), read again until unchanged. */
static enum ps_dedup_result find_in(const struct ps_dedup *d, uint64_t b,
				    uint16_t tag, const uint8_t *wb,
				    uint32_t now_s, struct ps_dedup_entry *out,
				    int *at, uint32_t *q)
{
	const struct ps_dedup_slot *s = d->slot + b * PS_DEDUP_WAYS;
	struct waiter w = { 0, 0 };
	for (;;) {
		uint32_t q1 = quiet_seq(d, b, &w);
		if (q1 & 1)
			return PS_DEDUP_BUSY;
		unsigned m = live_matches(d, &d->head[b], tag, now_s);
		int hit = -1;
		struct ps_dedup_entry tmp;
		while (m) {
			int i = __builtin_ctz(m);
			m &= m - 1;
			if (!memcmp(s[i].key, wb, PS_WAYBILL_LEN)) {
				slot_to_entry(&s[i], &tmp);
				hit = i;
				break;
			}
		}
		if (!unchanged(d, b, q1)) {
			if (!wait_more(&w))
				return PS_DEDUP_BUSY;
			continue;
		}
		*q = q1;
		*at = hit;
		if (hit < 0)
			return PS_DEDUP_MISS;
		*out = tmp;
		return PS_DEDUP_HIT;
	}
}

/* Find wb's live entry (f->at_i >= 0 when found) and the sequence numbers
 * of the buckets read. The second bucket is read only when some waybill of
 * the first went there. */
static enum ps_dedup_result find(const struct ps_dedup *d, uint64_t hash,
				 const uint8_t *wb, uint32_t now_s,
				 struct ps_dedup_entry *out, struct found *f)
{
	uint16_t tag = ps_dedup_tag(hash);
	f->b = ps_dedup_bucket(d, hash);
	f->alt_read = 0;
	f->at_b = f->b;
	enum ps_dedup_result r = find_in(d, f->b, tag, wb, now_s, out,
					 &f->at_i, &f->q);
	if (r != PS_DEDUP_MISS ||
	    !__atomic_load_n(&d->head[f->b].spilled_out, __ATOMIC_RELAXED))
		return r;
	f->alt = ps_dedup_alt_bucket(d, hash);
	r = find_in(d, f->alt, tag, wb, now_s, out, &f->at_i, &f->q_alt);
	f->alt_read = r != PS_DEDUP_BUSY;
	f->at_b = f->alt;
	return r;
}

enum ps_dedup_result ps_dedup_lookup_entry(const struct ps_dedup *d,
					   uint64_t hash, const uint8_t *wb,
					   uint32_t now_s,
					   struct ps_dedup_entry *out)
{
	struct found f;
	return find(d, hash, wb, now_s, out, &f);
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
	for (int i = 0; i < PS_DEDUP_WAYS; i++)
		if (!live(d, *t = head_t(h, i), now_s))
			return i;
	return -1;
}

/* A free or expired slot of head h (returns 1), else (returns 0) the slot
 * of its oldest entry: the earliest second, and of entries of the same
 * second the one written first (a bucket fills within a second when the
 * traffic is fast; without the order, the entry just written would be the
 * next to go). One pass over the head. */
static int free_or_oldest_of(const struct ps_dedup *d,
			     const struct ps_dedup_head *h, uint32_t now_s,
			     int *slot, uint32_t *t_seen)
{
	uint64_t age_max = 0;
	uint32_t t_pick = 0;
	int pick = 0;
	uint8_t n = __atomic_load_n(&h->inserts, __ATOMIC_RELAXED);
	for (int i = 0; i < PS_DEDUP_WAYS; i++) {
		uint32_t t = head_t(h, i);
		if (!live(d, t, now_s)) {
			*slot = i;
			*t_seen = t;
			return 1;
		}
		/* live: t - 1 is within [now - window, now + skew] */
		uint32_t secs = now_s + PS_DEDUP_SKEW_S - (t - 1);
		uint8_t order = (uint8_t)(n - __atomic_load_n(&h->ord[i],
							      __ATOMIC_RELAXED));
		uint64_t age = (uint64_t)secs << 8 | order;
		if (age >= age_max) {
			age_max = age;
			pick = i;
			t_pick = t;
		}
	}
	*slot = pick;
	*t_seen = t_pick;
	return 0;
}

static int free_or_oldest(const struct ps_dedup *d,
			  const struct ps_dedup_head *h, uint32_t now_s)
{
	int i;
	uint32_t t;
	free_or_oldest_of(d, h, now_s, &i, &t);
	return i;
}

void ps_dedup_prefetch_insert(const struct ps_dedup *d, uint64_t hash,
			      uint32_t now_s)
{
	const struct ps_dedup_head *h = head_of(d, hash);
	unsigned m = tag_matches(h, ps_dedup_tag(hash));
	int i = m ? __builtin_ctz(m) : free_or_oldest(d, h, now_s);
	/* for writing: the insert writes the line without reading it */
	__builtin_prefetch(&slots_of(d, hash)[i]);
}

/* The chute availability an insert's race check uses: the look-up's. */
struct avail {
	const struct ps_chute_state *cs;
	uint16_t reject, intercept;
};

/* Where a new entry goes: bucket b, way i, under the sequence number q the
 * choice was made under, and what the slot held (time t; same: an entry of
 * the same waybill, whose count of rounds is passed on when live). */
struct choice {
	uint64_t b;
	int i;
	int spill;               /* b is the waybill's second bucket */
	uint32_t q;
	uint32_t t;
	int same;
	uint8_t rounds;
	int alt_run;             /* the own bucket's run of full second
				  * buckets to write, or -1 */
};

/* Whether an insert whose bucket is full looks at its second bucket. Each
 * waybill has its own second bucket, so one found full says little about
 * the next one's: after a run of k second buckets found full in a row, the
 * bucket looks at every 2^(k-1)-th insert (always after a single one),
 * up to every PS_DEDUP_ALT_EVERY-th once the table is full and every
 * second bucket is; one found with room ends the run. */
#define ALT_FULL_RUN_MAX (__builtin_ctz(PS_DEDUP_ALT_EVERY) + 1)
_Static_assert((PS_DEDUP_ALT_EVERY & (PS_DEDUP_ALT_EVERY - 1)) == 0,
	       "PS_DEDUP_ALT_EVERY is a power of two");

static inline int look_at_alt(const struct ps_dedup_head *h)
{
	uint8_t run = h->alt_full_run;
	return run < 2 || (__atomic_load_n(&h->inserts, __ATOMIC_RELAXED) &
			   ((1u << (run - 1)) - 1)) == 0;
}

/* The slot a new entry of wb goes to when it has no live entry that may
 * stay: its own expired one in its bucket (tag and waybill match), else a
 * free or expired slot there, else a free one of its second bucket, else
 * the oldest of its bucket. Read under the numbers of f (the second
 * bucket's read here when the look-up did not read it); 0 when the second
 * bucket stayed held. */
static int pick_slot(struct ps_dedup *d, uint64_t hash, const uint8_t *wb,
		     uint32_t now_s, const struct found *f, struct choice *c)
{
	uint64_t b = f->b;
	const struct ps_dedup_head *h = &d->head[b];
	const struct ps_dedup_slot *s = d->slot + b * PS_DEDUP_WAYS;
	unsigned m = tag_matches(h, ps_dedup_tag(hash));
	c->b = b;
	c->q = f->q;
	c->spill = 0;
	c->same = 0;
	c->rounds = 0;
	c->alt_run = -1;
	c->i = -1;
	while (m && c->i < 0) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		c->t = head_t(h, i);
		if (!memcmp(s[i].key, wb, PS_WAYBILL_LEN)) {
			c->i = i;
			c->same = 1;     /* expired: its rounds are not kept */
		}
	}
	if (c->i >= 0 || free_or_oldest_of(d, h, now_s, &c->i, &c->t))
		return 1;
	/* c->i is the oldest: evicted, unless the second bucket has room */
	if (!d->mask || !look_at_alt(h))
		return 1;
	uint64_t a = ps_dedup_alt_bucket(d, hash);
	uint32_t qa = f->q_alt;
	if (!f->alt_read) {
		struct waiter w = { 0, 0 };
		if ((qa = quiet_seq(d, a, &w)) & 1)
			return 0;
	}
	uint32_t t;
	int j = first_free(d, &d->head[a], now_s, &t);
	c->alt_run = j >= 0 ? 0 : h->alt_full_run +
				  (h->alt_full_run < ALT_FULL_RUN_MAX);
	if (j >= 0) {
		c->b = a;
		c->i = j;
		c->t = t;
		c->q = qa;
		c->spill = 1;
	}
	return 1;
}

/* Move a bucket's count of its waybills in second buckets by delta (+1 or
 * -1). The count stops at 255 and stays there (every look-up of the
 * bucket then reads its second head): wrapped, 256 would read as 0 and the
 * look-ups would no longer see those waybills, each then decided afresh
 * and remembered twice. The count is written by writers of other buckets
 * too (a spilled entry leaving), hence the compare-and-swap. */
static void spilled_out_add(struct ps_dedup_head *h, int delta)
{
	uint8_t n = __atomic_load_n(&h->spilled_out, __ATOMIC_RELAXED);
	while (n != UINT8_MAX &&
	       !__atomic_compare_exchange_n(&h->spilled_out, &n,
					    (uint8_t)(n + delta), 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Write a new decision into the chosen slot, its bucket held: a replaced
 * entry of the same waybill still in its window passes on its count of
 * rounds (step 8), and the not-discharged mark is cleared. The slot is
 * written whole, from the head's knowledge of it (exact while the bucket
 * is held), without reading it: only a slot holding a waybill spilled from
 * another bucket is read, for that bucket's count. The head follows the
 * slot. Returns whether a live entry of another waybill was evicted. */
static int write_slot(struct ps_dedup *d, uint64_t hash, const struct choice *c,
		      const uint8_t *wb, uint32_t now_s,
		      const struct ps_decision *dec)
{
	struct ps_dedup_head *h = &d->head[c->b];
	struct ps_dedup_slot *o = &d->slot[c->b * PS_DEDUP_WAYS + (uint64_t)c->i];
	uint8_t bit = (uint8_t)(1u << c->i);
	int was_live = live(d, c->t, now_s);
	uint8_t in = h->spilled_in;
	if (in & bit) {
		/* the waybill that leaves came from another bucket */
		in &= (uint8_t)~bit;
		spilled_out_add(head_of(d, ps_dedup_hash(o->key)), -1);
	}
	if (c->spill) {
		spilled_out_add(head_of(d, hash), 1);
		in |= bit;
	}
	h->spilled_in = in;
#ifdef NT_SLOT
	{
		uint64_t k[3];
		memcpy(k, wb, 24);
		uint32_t t1 = now_s + 1;
		uint8_t rounds = was_live && c->same ? c->rounds : 0;
		__m128i *v = (__m128i *)(void *)o;
		/* t, key[0..11] | key[12..23], pad | matched_prefix, hub, pv | chute.. */
		__m128i a = _mm_set_epi32((int)(k[1] >> 32), (int)k[1], (int)(k[0] >> 32), (int)k[0]);
		(void)a;
		struct ps_dedup_slot n;
		memset(&n, 0, sizeof(n));
		n.t = t1;
		memcpy(n.key, k, 24);
		n.matched_prefix = dec->matched_prefix;
		n.hub = dec->hub;
		n.plan_version = dec->plan_version;
		n.chute = dec->chute;
		n.tier = dec->tier;
		n.reason = dec->reason;
		n.rounds = rounds;
		const __m128i *src = (const __m128i *)(const void *)&n;
		_mm_stream_si128(&v[0], _mm_loadu_si128(&src[0]));
		_mm_stream_si128(&v[1], _mm_loadu_si128(&src[1]));
		_mm_stream_si128(&v[2], _mm_loadu_si128(&src[2]));
		_mm_stream_si128(&v[3], _mm_loadu_si128(&src[3]));
#ifndef NO_FENCE
		_mm_sfence();
#endif
	}
#else
#ifdef NO_SLOT_WRITE
	if (0)
#endif
	{
	/* field by field into the line (a slot built on the stack and copied
	 * costs store-forwarding stalls) */
	o->t = now_s + 1;
	memcpy(o->key, wb, PS_WAYBILL_LEN);
	o->matched_prefix = dec->matched_prefix;
	o->hub = dec->hub;
	o->plan_version = dec->plan_version;
	o->chute = dec->chute;
	o->tier = dec->tier;
	o->reason = dec->reason;
	o->rounds = was_live && c->same ? c->rounds : 0;
	o->not_discharged = 0;
	}
#endif
	__atomic_store_n(&h->tag[c->i], ps_dedup_tag(hash), __ATOMIC_RELAXED);
	__atomic_store_n(&h->t[c->i], now_s + 1, __ATOMIC_RELAXED);
	h->ord[c->i] = h->inserts;
	h->inserts++;
	return was_live && !c->same;
}

/* One attempt at an insert from what find saw: 1 written (or *r a hit
 * that stands), 0 another writer came first (look again). */
static int insert_once(struct ps_dedup *d, uint64_t hash, const uint8_t *wb,
		       uint32_t now_s, const struct ps_decision *dec,
		       const struct avail *av, struct ps_decision *out,
		       int *evicted, enum ps_dedup_result *r)
{
	/* the same waybill may have been decided meanwhile by another core
	 * or an earlier record of this burst: the first stands */
	struct ps_dedup_entry e;
	struct found f;
	*r = find(d, hash, wb, now_s, &e, &f);
	if (*r == PS_DEDUP_BUSY)
		return 1;
	if (*r == PS_DEDUP_HIT && !e.not_discharged &&
	    ps_chute_usable(av->cs, e.dec.chute, av->reject, av->intercept)) {
		*out = e.dec;
		return 1;
	}
	struct choice c;
	if (*r == PS_DEDUP_HIT) {
		/* a live entry that may not answer is replaced where it is */
		c = (struct choice){
			.b = f.at_b, .i = f.at_i, .spill = f.at_b != f.b,
			.q = f.at_b != f.b ? f.q_alt : f.q,
			.t = head_t(&d->head[f.at_b], f.at_i), .same = 1,
			.rounds = e.rounds, .alt_run = -1,
		};
	} else if (!pick_slot(d, hash, wb, now_s, &f, &c)) {
		return 0;
	}
	/* the own bucket is held for any insert of its waybills, wherever
	 * the entry goes: two inserts of one waybill never overlap */
#ifdef READ_FIRST
	(void)*(volatile uint32_t *)&d->slot[c.b * PS_DEDUP_WAYS + (uint64_t)c.i].t;
#endif
	if (!take(d, f.b, f.q))
		return 0;
	if (c.b != f.b && !take(d, c.b, c.q)) {
		give_back(d, f.b, f.q);
		return 0;
	}
	if (c.alt_run >= 0)
		d->head[f.b].alt_full_run = (uint8_t)c.alt_run;
	*evicted = write_slot(d, hash, &c, wb, now_s, dec);
	if (c.b != f.b)
		give_back(d, c.b, c.q);
	give_back(d, f.b, f.q);
	*r = PS_DEDUP_MISS;
	return 1;
}

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
	struct waiter w = { 0, 0 };
	enum ps_dedup_result r;
	*evicted = 0;
	/* another writer of the bucket came first: choose again once it is
	 * done */
	while (!insert_once(d, hash, wb, now_s, dec, &av, out, evicted, &r))
		if (!wait_more(&w))
			return PS_DEDUP_BUSY;
	return r;
}

/* Change the live entry found (f) in place, if nobody wrote its bucket
 * since: 1 done, 0 the bucket moved on (look again). */
static int result_in_place(struct ps_dedup *d, const struct found *f,
			   uint8_t status)
{
	uint64_t b = f->at_b;
	uint32_t q = b != f->b ? f->q_alt : f->q;
	if (!take(d, b, q))
		return 0;
	struct ps_dedup_slot *o = &d->slot[b * PS_DEDUP_WAYS + (uint64_t)f->at_i];
	if (status == PS_SORT_SORTED) {
		o->not_discharged = 0;
	} else if (status == PS_SORT_LOST) {
		o->t = 0;                /* forgotten: an empty slot */
		o->rounds = 0;
		o->not_discharged = 0;
		__atomic_store_n(&d->head[b].t[f->at_i], 0, __ATOMIC_RELAXED);
	} else {
		o->rounds = (uint8_t)(o->rounds + (o->rounds < 255));
		o->not_discharged = 1;
	}
	give_back(d, b, q);
	return 1;
}

enum ps_dedup_result ps_dedup_sort_result(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  uint8_t status,
					  struct ps_dedup_entry *before)
{
	struct waiter w = { 0, 0 };
	for (;;) {
		struct found f;
		enum ps_dedup_result r = find(d, hash, wb, now_s, before, &f);
		if (r != PS_DEDUP_HIT)
			return r;
		if (result_in_place(d, &f, status))
			return PS_DEDUP_HIT;
		if (!wait_more(&w))
			return PS_DEDUP_BUSY;
	}
}
