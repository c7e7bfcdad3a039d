/* dedup_ring_proto.c: a PROTOTYPE of another layout for the duplicate
 * window, to measure before building it (issue #14). Not the dataplane's
 * window: one writer and one window at a time, no second bucket, no
 * clock of its own (the caller's time), 32-bit ring positions; it
 * exists so that bench/dedup_bench can be linked against it
 * (dedup_bench_ring) and the two layouts compared on the same traffic in
 * one run (docs/performance.md, "A log-structured window, prototyped").
 *
 * The layout: the slots are a ring written in order; a bucket's head
 * keeps, for each of its 8 ways, a 16-bit tag and the ring position of
 * its entry (32 bits, modular) instead of its time and insert order. A
 * fresh insert writes the next slot of the ring, a line the writer
 * prefetched a few inserts before (a sequential stream) instead of the
 * bucket's own slot (a random line). An entry lives until the ring comes
 * round to its slot (capacity inserts later: the oldest entry of the whole
 * window goes first; counted as evicted then if its time was still live)
 * or its time passes the window; a bucket whose 8 ways all hold entries
 * still in the ring gives up its oldest by ring position (its slot left
 * to the ring, and counted as evicted when the ring overwrites it while
 * its time is live). A waybill decided again (its entry not usable) keeps
 * its way and its count of rounds, its old slot emptied. Buckets: capacity /
 * PROTO_LOAD_DIV (4: 16 bytes of heads per entry, 80 in all against the
 * dataplane's 72). The part of dataplane/dedup.h's API that dedup_bench
 * calls. */
#include "dedup.h"
#include "dedup_rules.h"
#include "ps_hugemem.h"
#include "ps_wbhash.h"

#include <string.h>
#include <x86intrin.h>

#ifndef PROTO_LOAD_DIV
#define PROTO_LOAD_DIV 4
#endif
#define RING_AHEAD 8             /* ring slots prefetched ahead of the writer */

struct ring_head {
	uint32_t insert_lock;
	uint16_t tag[PS_DEDUP_WAYS];
	uint32_t pos[PS_DEDUP_WAYS];  /* ring position + 1; 0 = empty */
	uint8_t pad[12];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct ring_head) == 64, "a head is a cache line");

static uint32_t ring_next;       /* positions written so far (one writer,
				  * one window: reset by ps_dedup_init) */

static inline struct ring_head *head_of(const struct ps_dedup *d,
					uint64_t hash)
{
	return (struct ring_head *)(void *)d->head + (hash & d->mask);
}

/* Built with -DPROTO_SCATTER, consecutive positions go to scattered
 * slots (times an odd number, modulo the power-of-two capacity: each slot
 * still once a round): the same instructions, random lines, to tell the
 * layout's part of the cost from the code's. */
static inline struct ps_dedup_slot *slot_at(const struct ps_dedup *d,
					    uint32_t pos)
{
#ifdef PROTO_SCATTER
	return &d->slot[((uint64_t)(pos - 1) * 0x9e3779b1u) & (d->capacity - 1)];
#else
	return &d->slot[(pos - 1) & (d->capacity - 1)];
#endif
}

/* Not yet overwritten by the ring. */
static inline int in_ring(const struct ps_dedup *d, uint32_t pos)
{
	return pos && (uint32_t)(ring_next - pos) < d->capacity;
}

int ps_dedup_init(struct ps_dedup *d, uint64_t capacity, uint32_t window_s)
{
	memset(d, 0, sizeof(*d));
	uint64_t cap = PS_DEDUP_WAYS;
	while (cap < capacity)
		cap <<= 1;
	uint64_t buckets = cap / PROTO_LOAD_DIV;
	size_t heads = buckets * sizeof(struct ring_head);
	d->bytes = heads + cap * sizeof(struct ps_dedup_slot);
	void *m = ps_huge_alloc(d->bytes);
	if (!m)
		return -1;
	ps_huge_populate(m, d->bytes);
	d->head = m;
	d->slot = (struct ps_dedup_slot *)((char *)m + heads);
	d->mask = buckets - 1;
	d->capacity = cap;
	d->window_s = window_s;
	ring_next = 0;
	return 0;
}

void ps_dedup_free(struct ps_dedup *d)
{
	ps_huge_free(d->head, d->bytes);
}

uint64_t ps_dedup_hash(const uint8_t *wb)
{
	return ps_wb_hash64(wb);
}

void ps_dedup_prefetch(const struct ps_dedup *d, uint64_t hash)
{
	__builtin_prefetch(head_of(d, hash));
}

void ps_dedup_prefetch_entry(const struct ps_dedup *d, uint64_t hash)
{
	const struct ring_head *h = head_of(d, hash);
	unsigned m = ps_dedup_tags_match(h->tag, ps_dedup_tag(hash));
	while (m) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		if (h->pos[i])
			__builtin_prefetch(slot_at(d, h->pos[i]));
	}
}

/* The writer prefetches the ring itself (insert). */
void ps_dedup_prefetch_insert(const struct ps_dedup *d, uint64_t hash,
			      uint32_t now_s)
{
	(void)d;
	(void)hash;
	(void)now_s;
}

/* wb's live entry under head h: its slot (seqlock read into *o) and its
 * way (*way), else NULL. */
static struct ps_dedup_slot *find(const struct ps_dedup *d,
				  const struct ring_head *h, uint64_t hash,
				  const uint8_t *wb, uint32_t now,
				  struct ps_dedup_entry *o, uint32_t *q,
				  int *way)
{
	unsigned m = ps_dedup_tags_match(h->tag, ps_dedup_tag(hash));
	while (m) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		uint32_t p = h->pos[i];
		if (!in_ring(d, p))
			continue;
		struct ps_dedup_slot *s = slot_at(d, p);
		uint32_t q1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if ((q1 & 1) || !ps_dedup_live(d->window_s, s->t, now) ||
		    memcmp(s->key, wb, PS_WAYBILL_LEN))
			continue;
		o->dec.matched_prefix = s->matched_prefix;
		o->dec.hub = s->hub;
		o->dec.plan_version = s->plan_version;
		o->dec.chute = s->chute;
		o->dec.tier = s->tier;
		o->dec.reason = s->reason;
		o->rounds = s->rounds;
		o->not_discharged = s->not_discharged;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != q1)
			continue;
		*q = q1;
		*way = i;
		return s;
	}
	return NULL;
}

enum ps_dedup_result ps_dedup_lookup_entry(const struct ps_dedup *d,
					   uint64_t hash, const uint8_t *wb,
					   uint32_t now_s,
					   struct ps_dedup_entry *out)
{
	uint32_t q;
	int way;
	return find(d, head_of(d, hash), hash, wb, now_s, out, &q, &way)
		       ? PS_DEDUP_HIT : PS_DEDUP_MISS;
}

/* The way a new entry takes: one overwritten by the ring or empty, else
 * the oldest by ring position (given up: its slot is left to the ring). */
static int pick_way(const struct ps_dedup *d, const struct ring_head *h)
{
	int way = 0;
	uint32_t oldest = 0;
	for (int i = 0; i < PS_DEDUP_WAYS; i++) {
		uint32_t p = h->pos[i];
		if (!in_ring(d, p))
			return i;
		uint32_t age = ring_next - p;
		if (age >= oldest) {
			oldest = age;
			way = i;
		}
	}
	return way;
}

enum ps_dedup_result ps_dedup_insert_exempt(struct ps_dedup *d, uint64_t hash,
					    const uint8_t *wb, uint32_t now_s,
					    const struct ps_decision *dec,
					    const struct ps_chute_state *cs,
					    uint16_t reject, uint16_t intercept,
					    struct ps_decision *out,
					    int *evicted)
{
	struct ring_head *h = head_of(d, hash);
	uint32_t free_ = 0;
	while (!__atomic_compare_exchange_n(&h->insert_lock, &free_, 1, 0,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		free_ = 0;
	struct ps_dedup_entry e;
	uint32_t q, oq = 0;
	int way;
	uint8_t rounds = 0;
	struct ps_dedup_slot *old = find(d, h, hash, wb, now_s, &e, &oq, &way);
	if (old) {
		if (!e.not_discharged &&
		    ps_chute_usable(cs, e.dec.chute, reject, intercept)) {
			*out = e.dec;
			__atomic_store_n(&h->insert_lock, 0, __ATOMIC_RELEASE);
			*evicted = 0;
			return PS_DEDUP_HIT;
		}
		rounds = e.rounds;       /* decided again: its way, its rounds */
	} else {
		way = -1;
	}
	uint32_t p = ++ring_next;
	if (!p)                          /* 0 marks an empty way */
		p = ++ring_next;
	*evicted = 0;
	if (way < 0)
		way = pick_way(d, h);
	__builtin_prefetch(slot_at(d, p + RING_AHEAD), 1);
	struct ps_dedup_slot *s = slot_at(d, p);
	/* the entry the ring comes round to, if its time is still live and
	 * it is not the same waybill's (re-decided): an entry a full bucket
	 * gave up is counted here, late (never, when its time ran out first:
	 * emptying or marking its slot at the give-up would cost a write to a
	 * line not prefetched, about 20 cycles a fresh record measured) */
	if (old != s)
		*evicted |= ps_dedup_live(d->window_s, s->t, now_s);
	q = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) & ~1u;
	__atomic_store_n(&s->seq, q + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->rounds = rounds;
	s->not_discharged = 0;
	memcpy(s->key, wb, PS_WAYBILL_LEN);
	s->t = now_s + 1;
	s->matched_prefix = dec->matched_prefix;
	s->hub = dec->hub;
	s->plan_version = dec->plan_version;
	s->chute = dec->chute;
	s->tier = dec->tier;
	s->reason = dec->reason;
	__atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
	h->tag[way] = ps_dedup_tag(hash);
	h->pos[way] = p;
	/* the slot of a re-decided waybill's old entry, emptied once the new
	 * one is in place: claimed by compare-and-swap as a sort result
	 * claims it */
	if (old && old != s &&
	    __atomic_compare_exchange_n(&old->seq, &oq, oq + 1, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		old->t = 0;
		__atomic_store_n(&old->seq, oq + 2, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&h->insert_lock, 0, __ATOMIC_RELEASE);
	return PS_DEDUP_MISS;
}

/* As the dataplane's: claimed by compare-and-swap, changed in place. */
enum ps_dedup_result ps_dedup_sort_result(struct ps_dedup *d, uint64_t hash,
					  const uint8_t *wb, uint32_t now_s,
					  uint8_t status,
					  struct ps_dedup_entry *before)
{
	uint32_t q;
	int way;
	struct ps_dedup_slot *s = find(d, head_of(d, hash), hash, wb, now_s,
				       before, &q, &way);
	if (!s)
		return PS_DEDUP_MISS;
	if (status == PS_SORT_SORTED && !before->not_discharged)
		return PS_DEDUP_HIT;
	if (!__atomic_compare_exchange_n(&s->seq, &q, q + 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return PS_DEDUP_BUSY;
	if (status == PS_SORT_SORTED) {
		s->not_discharged = 0;
	} else if (status == PS_SORT_LOST) {
		s->t = 0;
	} else {
		s->rounds = (uint8_t)(s->rounds + (s->rounds < 255));
		s->not_discharged = 1;
	}
	__atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
	return PS_DEDUP_HIT;
}
