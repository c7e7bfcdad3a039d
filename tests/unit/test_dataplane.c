/* test_dataplane.c: the EAL-free dataplane pieces: the duplicate window
 * (hits, ageing, replacing a disabled chute's entry, eviction counted and
 * the slot it takes,
 * capacity, the clock every core shares, entries stamped a second ahead by
 * another core), frame handling (ARP, ping, neighbour solicitation replies
 * never larger than the solicitation),
 * and the pipeline's accounting: every frame answered or dropped once;
 * replies: a UDP checksum that comes out 0 sent as 0xffff (pkt.c's every
 * way, and through the pipeline), and each reply of a burst its own
 * frame's (records, decisions, addresses, ports). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dedup.h"
#include "pipeline.h"
#include "pkt.h"
#include "ps_hugemem.h"
#include "plan.h"
#include "rng.h"

static struct ps_chute_state cs;

static void wbf(uint8_t *wb, int i)
{
	memset(wb, 0, 24);
	snprintf((char *)wb, 24, "JT%013d", i);
}

Test(dedup, hit_age_and_replace)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 4096, 600), 0);
	cr_assert_geq(d.capacity, 4096);
	uint8_t wb[24];
	wbf(wb, 1);
	uint64_t h = ps_dedup_hash(wb);
	struct ps_decision dec = { .chute = 41, .tier = 4, .hub = 410,
				   .plan_version = 3,
				   .matched_prefix = 330782100201ull }, out;
	int ev;
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 10, &out), PS_DEDUP_MISS);
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 10, &dec, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 609, &out), PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 41);
	cr_assert_eq(out.plan_version, 3);
	cr_assert_eq(out.matched_prefix, 330782100201ull);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 610, &out), PS_DEDUP_MISS,
		     "aged out after the window");
	/* a second insert of a live entry returns the first decision */
	struct ps_decision other = dec;
	other.chute = 42;
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 20, &other, &cs, &out, &ev),
		     PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 41);
	/* unless its chute is disabled: then the new decision replaces it */
	ps_chute_disable(&cs, 41);
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 20, &other, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 21, &out), PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 42);
	ps_dedup_free(&d);
}

/* The window (72 MB at the default capacity, read at random by every
 * record) is on 2 MB boundaries with huge pages asked for, so that the
 * kernel can map it with a few dozen TLB entries. */
Test(dedup, the_window_asks_for_huge_pages)
{
	struct ps_dedup d;
	cr_assert_eq(ps_dedup_init(&d, 1 << 20, 600), 0);
	cr_assert_eq((uintptr_t)d.head % PS_HUGE_PAGE, 0);
	if (ps_huge_supported()) {
		cr_assert(ps_huge_advised(d.head));
		cr_assert(ps_huge_advised(d.slot + d.capacity - 1));
	}
	d.slot[d.capacity - 1].key[0] = 1;       /* the last slot is ours */
	ps_dedup_free(&d);
}

Test(dedup, full_table_evicts_oldest_and_counts)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 1024, 600), 0);
	struct ps_decision dec = { .chute = 5 }, out;
	int evicted = 0, ev;
	for (int i = 0; i < 4096; i++) {
		uint8_t wb[24];
		wbf(wb, i);
		ps_dedup_insert(&d, ps_dedup_hash(wb), wb, (uint32_t)i / 100,
				&dec, &cs, &out, &ev);
		evicted += ev;
	}
	cr_assert_geq(evicted, 4096 - (int)d.capacity, "every overflow counted");
	/* the newest are there, the oldest are gone */
	uint8_t wb[24];
	wbf(wb, 4095);
	cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 41, &out),
		     PS_DEDUP_HIT);
	int old_hits = 0;
	for (int i = 0; i < 200; i++) {
		wbf(wb, i);
		old_hits += ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 41, &out)
			    == PS_DEDUP_HIT;
	}
	cr_assert_lt(old_hits, 20);
	ps_dedup_free(&d);
}

/* A core preempted while it holds a slot or its bucket's insert turn (worker
 * cores sharing a CPU) is waited for, not taken for absent: the waybill is
 * still decided exactly once. */
struct held {
	struct ps_dedup *d;
	const uint8_t *wb;
	enum ps_dedup_result r;
	struct ps_decision out;
	int is_insert;
};

static void *lookup_or_insert(void *arg)
{
	struct held *h = arg;
	struct ps_decision dec = { .chute = 77 };
	int ev;
	if (h->is_insert)
		h->r = ps_dedup_insert(h->d, ps_dedup_hash(h->wb), h->wb, 5,
				       &dec, &cs, &h->out, &ev);
	else
		h->r = ps_dedup_lookup(h->d, ps_dedup_hash(h->wb), h->wb, 5,
				       &h->out);
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

static struct ps_dedup_slot *slot_of(struct ps_dedup *d, const uint8_t *wb)
{
	for (uint64_t i = 0; i < d->capacity; i++)
		if (!memcmp(d->slot[i].key, wb, 24))
			return &d->slot[i];
	return NULL;
}

Test(dedup, reader_waits_for_a_preempted_writer)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 4096, 600), 0);
	uint8_t wb[24];
	wbf(wb, 7);
	struct ps_decision dec = { .chute = 41 }, out;
	int ev;
	ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 5, &dec, &cs, &out, &ev);
	struct ps_dedup_slot *s = slot_of(&d, wb);
	cr_assert_not_null(s);
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);    /* mid-write */
	struct held h = { .d = &d, .wb = wb };
	pthread_t t;
	pthread_create(&t, NULL, lookup_or_insert, &h);
	sleep_ms(30);                                        /* preempted */
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);
	pthread_join(t, NULL);
	cr_assert_eq(h.r, PS_DEDUP_HIT, "waited for the writer (got %d)", h.r);
	cr_assert_eq(h.out.chute, 41);
	ps_dedup_free(&d);
}

Test(dedup, inserter_waits_its_turn_behind_a_preempted_one)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 4096, 600), 0);
	uint8_t wb[24];
	wbf(wb, 8);
	uint64_t hash = ps_dedup_hash(wb);
	struct ps_dedup_head *head = &d.head[ps_dedup_bucket(&d, hash)];
	uint32_t *turn = &head->insert_lock;
	__atomic_store_n(turn, 1, __ATOMIC_RELEASE);   /* another core's turn */
	struct held h = { .d = &d, .wb = wb, .is_insert = 1 };
	pthread_t t;
	pthread_create(&t, NULL, lookup_or_insert, &h);
	sleep_ms(30);
	/* the other core remembered its decision (the slot and its head
	 * entry), then lost the CPU */
	struct ps_dedup_slot *b = &d.slot[ps_dedup_bucket(&d, hash) *
					  PS_DEDUP_WAYS];
	memcpy(b[1].key, wb, 24);
	b[1].t = 5 + 1;
	b[1].chute = 41;
	head->tag[1] = ps_dedup_tag(hash);
	head->t[1] = 5 + 1;
	__atomic_store_n(turn, 0, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	cr_assert_eq(h.r, PS_DEDUP_HIT, "the first decision stands (got %d)",
		     h.r);
	cr_assert_eq(h.out.chute, 41);
	ps_dedup_free(&d);
}

/* Issue #12.6: at a second boundary one core's time can be a second ahead
 * of another's. Its entry (stamped 100) seen by the other (at 99) is not
 * expired: the scan is a duplicate and the first decision stands. */
Test(dedup, entry_from_a_core_a_second_ahead_is_fresh)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 4096, 600), 0);
	uint8_t wb[24];
	wbf(wb, 7);
	uint64_t h = ps_dedup_hash(wb);
	struct ps_decision first = { .chute = 41, .tier = 4, .hub = 410,
				     .plan_version = 3,
				     .matched_prefix = 330782100201ull };
	struct ps_decision later = { .chute = 20, .tier = 2, .hub = 200,
				     .plan_version = 4,
				     .matched_prefix = 330782000000ull }, out;
	int ev;
	/* core A, clock 100 */
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 100, &first, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	/* core B, clock 99: a duplicate of A's decision */
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 99, &out), PS_DEDUP_HIT,
		     "an entry one second ahead is fresh");
	cr_assert_eq(out.chute, 41);
	cr_assert_eq(out.plan_version, 3);
	/* and B's own decision (had it raced past the look-up) does not
	 * overwrite the first */
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 99, &later, &cs, &out, &ev),
		     PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 41);
	cr_assert_eq(ev, 0);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 100, &out), PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 41, "the first decision preserved");
	cr_assert_eq(out.hub, 410);
	cr_assert_eq(out.matched_prefix, 330782100201ull);
	ps_dedup_free(&d);
}

Test(dedup, entries_older_than_the_window_still_expire)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 4096, 600), 0);
	uint8_t wb[24];
	wbf(wb, 8);
	uint64_t h = ps_dedup_hash(wb);
	struct ps_decision first = { .chute = 41 }, later = { .chute = 42 }, out;
	int ev;
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 100, &first, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 699, &out), PS_DEDUP_HIT);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 700, &out), PS_DEDUP_MISS,
		     "600 s old: out of the window");
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 100 + 100000, &out),
		     PS_DEDUP_MISS);
	/* a stamp further ahead than any core can lag is not fresh either */
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 100 - PS_DEDUP_SKEW_S, &out),
		     PS_DEDUP_HIT);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 100 - PS_DEDUP_SKEW_S - 1,
				     &out), PS_DEDUP_MISS);
	/* the expired entry is decided afresh and replaced */
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 700, &later, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ev, 0, "its own expired entry, not another's");
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 701, &out), PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 42);
	ps_dedup_free(&d);
}

/* The window's clock is one value for every core and never goes back: a
 * core whose reading of the TSC base is behind does not move it back. */
struct ticker {
	struct ps_dedup *d;
	uint32_t from;
	volatile int *go;
	int went_back;
};

static void *tick(void *arg)
{
	struct ticker *t = arg;
	while (!*t->go)
		;
	uint32_t seen = 0;
	for (uint32_t s = t->from; s < t->from + 200000; s++) {
		ps_dedup_tick(t->d, s);
		uint32_t now = ps_dedup_now(t->d);
		t->went_back += now < seen || now < s;
		seen = now;
	}
	return NULL;
}

Test(dedup, one_clock_for_every_core)
{
	struct ps_dedup d;
	cr_assert_eq(ps_dedup_init(&d, 1024, 600), 0);
	cr_assert_eq(ps_dedup_now(&d), 0);
	ps_dedup_tick(&d, 100);
	ps_dedup_tick(&d, 99);
	cr_assert_eq(ps_dedup_now(&d), 100, "never back");
	volatile int go = 0;
	struct ticker a = { &d, 1000, &go, 0 }, b = { &d, 1003, &go, 0 };
	pthread_t ta, tb;
	pthread_create(&ta, NULL, tick, &a);
	pthread_create(&tb, NULL, tick, &b);
	go = 1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	cr_assert_eq(a.went_back + b.went_back, 0);
	cr_assert_eq(ps_dedup_now(&d), 1003 + 200000 - 1, "the later reading");
	ps_dedup_free(&d);
}


/* A core whose TSC reads a little behind the main lcore's start reading
 * ticks 0 s, not a wrapped count of billions of seconds that the clock,
 * never going back, would keep for good (every entry live forever). */
Test(dedup, a_tsc_reading_before_the_start_does_not_pin_the_clock)
{
	struct ps_dedup d;
	const uint64_t hz = 2000000000ull, start = 5 * hz + 123;
	cr_assert_eq(ps_dedup_init(&d, 1024, 600), 0);
	ps_dedup_tick(&d, ps_dedup_seconds(start - 1, start, hz));
	cr_assert_eq(ps_dedup_now(&d), 0);
	ps_dedup_tick(&d, ps_dedup_seconds(start + 7 * hz, start, hz));
	cr_assert_eq(ps_dedup_now(&d), 7);
	cr_assert_eq(ps_dedup_seconds(start, start, hz), 0);
	cr_assert_eq(ps_dedup_seconds(start + hz - 1, start, hz), 0);
	cr_assert_eq(ps_dedup_seconds(start + hz, start, hz), 1);
	/* an entry of second 7 expires at 7 + the window */
	uint8_t wb[24];
	wbf(wb, 7);
	struct ps_decision dec = { .chute = 5 }, out;
	uint64_t h = ps_dedup_hash(wb);
	int ev = 0;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_insert(&d, h, wb, ps_dedup_now(&d), &dec, &cs,
				     &out, &ev), PS_DEDUP_MISS);
	cr_assert_eq(ps_dedup_lookup(&d, h, wb, 7 + 599, &out), PS_DEDUP_HIT);
	cr_assert_neq(ps_dedup_lookup(&d, h, wb, 7 + 600, &out), PS_DEDUP_HIT);
	ps_dedup_free(&d);
}


/* Two cores insert the same waybills in the same order at once: each
 * waybill is fresh for exactly one of them and a hit for the other. The
 * table is roomy (5% full) so that no entry is evicted: an evicted waybill
 * is rightly forgotten, which is not what this tests. Busy (the other's
 * slot mid-write for 0.1 s) needs the writer off its CPU that long, which
 * a loaded machine did to these unpinned threads once under ASan: it is
 * allowed against the writer's fresh only, and for a few waybills (the
 * pipeline then decides the waybill afresh without remembering it, and
 * counts it dedup_busy). */
struct racer {
	struct ps_dedup *d;
	int n;
	uint8_t *fresh;
	volatile int *go;
	int evicted;
	const int *ids;          /* the waybills, or NULL: 0 to n - 1 */
};

static void *race(void *arg)
{
	struct racer *r = arg;
	while (!*r->go)
		;
	for (int i = 0; i < r->n; i++) {
		uint8_t wb[24];
		wbf(wb, r->ids ? r->ids[i] : i);
		uint64_t h = ps_dedup_hash(wb);
		struct ps_decision dec = { .chute = (uint16_t)(i & 511) }, out;
		int ev = 0;
		enum ps_dedup_result x = ps_dedup_lookup(r->d, h, wb, 5, &out);
		if (x != PS_DEDUP_HIT)
			x = ps_dedup_insert(r->d, h, wb, 5, &dec, &cs, &out,
					    &ev);
		r->evicted += ev;
		r->fresh[i] = x == PS_DEDUP_MISS ? 1 : x == PS_DEDUP_HIT ? 0
								 : 2;
	}
	return NULL;
}

Test(dedup, two_cores_same_waybills_each_decided_once)
{
	enum { N = 50000 };
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 20 * N, 600), 0);
	volatile int go = 0;
	struct racer a = { &d, N, calloc(N, 1), &go, 0 };
	struct racer b = { &d, N, calloc(N, 1), &go, 0 };
	pthread_t ta, tb;
	pthread_create(&ta, NULL, race, &a);
	pthread_create(&tb, NULL, race, &b);
	go = 1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	int wrong = 0, busy = 0;
	for (int i = 0; i < N; i++) {
		int x = a.fresh[i], y = b.fresh[i];
		busy += x == 2 || y == 2;
		/* fresh once: (1, 0) or (0, 1), or the writer's fresh
		 * against the other's busy */
		wrong += !(x + y == 1 || (x == 1 && y == 2) ||
			   (x == 2 && y == 1));
	}
	cr_assert_eq(a.evicted + b.evicted, 0, "the table was to be roomy");
	cr_assert_leq(busy, 8, "%d waybills busy", busy);
	cr_assert_eq(wrong, 0, "%d waybills decided twice or never", wrong);
	free(a.fresh);
	free(b.fresh);
	ps_dedup_free(&d);
}

/* The window's structure (dedup.h): one head line of tags and times per
 * bucket, slots read only on a tag match, the bucket's oldest evicted,
 * a second bucket only for what overflows a full one at low load. */

/* i-th waybill (from *from on) whose own bucket in d is b. */
static int waybill_in_bucket(const struct ps_dedup *d, uint64_t b, int *from,
			     uint8_t *wb)
{
	for (int i = *from; i < *from + 10000000; i++) {
		wbf(wb, i);
		if (ps_dedup_bucket(d, ps_dedup_hash(wb)) == b) {
			*from = i + 1;
			return i;
		}
	}
	return -1;
}

static int live_slots(const struct ps_dedup *d, uint32_t now)
{
	int n = 0;
	for (uint64_t i = 0; i < d->capacity; i++)
		n += d->slot[i].t != 0 && d->slot[i].t - 1 <= now &&
		     now - (d->slot[i].t - 1) < d->window_s;
	return n;
}

Test(dedup, a_tag_collision_is_not_a_hit)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 8, 600), 0);   /* one bucket */
	cr_assert_eq(d.mask, 0);
	/* two waybills with the same 16-bit tag */
	static int seen[65536];
	memset(seen, 0, sizeof(seen));
	uint8_t a[24], b[24];
	int ia = -1, ib = -1;
	for (int i = 1; i < 1000000 && ib < 0; i++) {
		wbf(b, i);
		uint16_t t = ps_dedup_tag(ps_dedup_hash(b));
		if (seen[t]) {
			ia = seen[t];
			ib = i;
		}
		seen[t] = i;
	}
	cr_assert_geq(ib, 0);
	wbf(a, ia);
	wbf(b, ib);
	uint64_t ha = ps_dedup_hash(a), hb = ps_dedup_hash(b);
	cr_assert_eq(ps_dedup_tag(ha), ps_dedup_tag(hb));
	struct ps_decision da = { .chute = 11 }, db = { .chute = 22 }, out;
	int ev;
	cr_assert_eq(ps_dedup_insert(&d, ha, a, 5, &da, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ps_dedup_lookup(&d, hb, b, 5, &out), PS_DEDUP_MISS,
		     "the same tag, another waybill");
	cr_assert_eq(ps_dedup_insert(&d, hb, b, 5, &db, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ev, 0);
	cr_assert_eq(ps_dedup_lookup(&d, ha, a, 6, &out), PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 11);
	cr_assert_eq(ps_dedup_lookup(&d, hb, b, 6, &out), PS_DEDUP_HIT);
	cr_assert_eq(out.chute, 22);
	ps_dedup_free(&d);
}

/* A full bucket gives up its oldest entry: the earliest second, and of
 * one second the first written (not the one just written). */
Test(dedup, a_full_bucket_evicts_its_oldest)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 8, 600), 0);   /* one bucket */
	struct ps_decision dec = { .chute = 3 }, out;
	uint8_t wb[24];
	int ev;
	for (int i = 0; i < 8; i++) {
		wbf(wb, i);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb,
					     (uint32_t)(10 + (i == 0 ? 1 : 0)),
					     &dec, &cs, &out, &ev),
			     PS_DEDUP_MISS);
		cr_assert_eq(ev, 0);
	}
	/* waybill 0 was stamped 11, the others 10: waybill 1 is the oldest
	 * (the earliest second, and the first written of it) */
	wbf(wb, 8);
	ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 12, &dec, &cs, &out, &ev);
	cr_assert_eq(ev, 1, "a live entry had to go");
	wbf(wb, 1);
	cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 12, &out),
		     PS_DEDUP_MISS, "the oldest went");
	for (int i = 0; i < 9; i++) {
		if (i == 1)
			continue;
		wbf(wb, i);
		cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 12,
					     &out), PS_DEDUP_HIT, "%d", i);
	}
	/* then, all of second 10 in the order they were written */
	for (int i = 9; i < 15; i++) {
		wbf(wb, i);
		ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 12, &dec, &cs, &out,
				&ev);
		cr_assert_eq(ev, 1);
		uint8_t gone[24];
		wbf(gone, i - 7);
		cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(gone), gone, 12,
					     &out), PS_DEDUP_MISS, "%d", i - 7);
		cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 12,
					     &out), PS_DEDUP_HIT,
			     "the entry just written stays");
	}
	/* then waybill 0 (second 11), then those of second 12 in order */
	wbf(wb, 15);
	ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 12, &dec, &cs, &out, &ev);
	wbf(wb, 0);
	cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 12, &out),
		     PS_DEDUP_MISS);
	wbf(wb, 16);
	ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 12, &dec, &cs, &out, &ev);
	wbf(wb, 8);
	cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 12, &out),
		     PS_DEDUP_MISS);
	wbf(wb, 9);
	cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 12, &out),
		     PS_DEDUP_HIT);
	ps_dedup_free(&d);
}

/* The slot an insert takes, worked out one slot at a time (the window
 * compares the eight at once): the first free or expired one, else the
 * live one of the earliest second and, in that second, the first written
 * (the last of equal ones). */
static int oldest_one_by_one(const struct ps_dedup_head *h, uint32_t now,
			     uint32_t window)
{
	uint64_t age_max = 0;
	int pick = 0;
	for (int i = 0; i < PS_DEDUP_WAYS; i++) {
		uint32_t t = h->t[i];
		uint32_t secs = now - (t - 1) + PS_DEDUP_SKEW_S;
		if (t == 0 || secs >= window + PS_DEDUP_SKEW_S)
			return i;
		uint64_t age = (uint64_t)secs << 8 |
			       (uint8_t)(h->inserts - h->ord[i]);
		if (age >= age_max) {
			age_max = age;
			pick = i;
		}
	}
	return pick;
}

/* Heads of every kind (free, expired, live, stamped ahead by a core whose
 * clock reading is ahead, further ahead than any core can be, orders that
 * wrap): the insert takes the slot the one-by-one choice takes, and counts
 * an eviction exactly when that slot was live. */
Test(dedup, the_slot_chosen_is_the_oldest_for_any_head)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 8, 600), 0);   /* one bucket */
	uint8_t wb[24];
	wbf(wb, 424242);
	uint64_t hash = ps_dedup_hash(wb);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct ps_decision dec = { .chute = 9 }, out;
	for (int trial = 0; trial < 20000; trial++) {
		memset(d.head, 0, d.bytes);
		struct ps_dedup_head *h = &d.head[0];
		uint32_t now = 1000 + (uint32_t)(trial % 50);
		for (int i = 0; i < PS_DEDUP_WAYS; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint32_t k = (uint32_t)(x >> 8) % 8, r = (uint32_t)(x >> 16);
			/* mostly live entries of a few seconds, so that ties
			 * of a second are common */
			h->t[i] = k == 0 ? 0 :
				  k == 1 ? now + 1 - 600 - r % 400 :
				  k == 2 ? now + 1 + r % 70 :
				  now + 1 - r % 3;
			h->ord[i] = (uint8_t)(x >> 40);
			h->tag[i] = (uint16_t)(ps_dedup_tag(hash) ^ 1);
			d.slot[i].t = h->t[i];
		}
		h->inserts = (uint8_t)(x >> 48);
		int want = oldest_one_by_one(h, now, 600);
		uint32_t t_want = h->t[want];
		int live = t_want != 0 &&
			   now - (t_want - 1) + PS_DEDUP_SKEW_S < 600 + PS_DEDUP_SKEW_S;
		int ev;
		cr_assert_eq(ps_dedup_insert(&d, hash, wb, now, &dec, &cs, &out,
					     &ev), PS_DEDUP_MISS);
		cr_assert_eq(slot_of(&d, wb), &d.slot[want],
			     "trial %d: slot %d wanted", trial, want);
		cr_assert_eq(ev, live, "trial %d", trial);
		memset(d.slot, 0, PS_DEDUP_WAYS * sizeof(d.slot[0]));
	}
	ps_dedup_free(&d);
}

/* The same at the longest windows: the configuration's 30 days and the
 * longest the window takes (ages compared in 23 bits), with ages at the
 * window's edge, entries ahead by up to the skew and beyond, a clock at 0
 * (expired times wrap) and far on; one second longer is refused. */
Test(dedup, the_slot_chosen_is_the_oldest_at_the_longest_windows)
{
	static const uint32_t windows[] = { 86400u * 30,
					    (1u << 23) - PS_DEDUP_SKEW_S - 1 };
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 8, (1u << 23) - PS_DEDUP_SKEW_S), -1);
	uint8_t wb[24];
	wbf(wb, 424243);
	uint64_t hash = ps_dedup_hash(wb);
	uint64_t x = 0x2545f4914f6cdd1dull;
	struct ps_decision dec = { .chute = 9 }, out;
	for (unsigned w = 0; w < 2; w++) {
		uint32_t win = windows[w];
		cr_assert_eq(ps_dedup_init(&d, 8, win), 0);
		const uint32_t nows[] = { 0, 1, 59, win - 1, win + 7,
					  3u * win + 5 };
		for (int trial = 0; trial < 12000; trial++) {
			memset(d.head, 0, d.bytes);
			struct ps_dedup_head *h = &d.head[0];
			uint32_t now = nows[trial % 6];
			for (int i = 0; i < PS_DEDUP_WAYS; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				uint32_t k = (uint32_t)(x >> 8) % 6,
					 r = (uint32_t)(x >> 16);
				h->t[i] = k == 0 ? 0 :
					  k == 1 ? now + 1 - win + r % 3 :
					  k == 2 ? now + 1 + r % 70 :
					  k == 3 ? now + 1 - win - r % 3 :
					  now + 1 - r % 2;
				h->ord[i] = (uint8_t)(x >> 40);
				h->tag[i] = (uint16_t)(ps_dedup_tag(hash) ^ 1);
				d.slot[i].t = h->t[i];
			}
			h->inserts = (uint8_t)(x >> 48);
			int want = oldest_one_by_one(h, now, win);
			uint32_t t_want = h->t[want];
			int live = t_want != 0 &&
				   now - (t_want - 1) + PS_DEDUP_SKEW_S <
					   win + PS_DEDUP_SKEW_S;
			int ev;
			cr_assert_eq(ps_dedup_insert(&d, hash, wb, now, &dec,
						     &cs, &out, &ev),
				     PS_DEDUP_MISS);
			cr_assert_eq(slot_of(&d, wb), &d.slot[want],
				     "window %u trial %d: slot %d wanted", win,
				     trial, want);
			cr_assert_eq(ev, live, "trial %d", trial);
			memset(d.slot, 0, PS_DEDUP_WAYS * sizeof(d.slot[0]));
		}
		ps_dedup_free(&d);
	}
}

/* Expired entries are reused before a live one is evicted; forgotten
 * (LOST) ones too. */
Test(dedup, expired_and_forgotten_slots_go_first)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 8, 600), 0);
	struct ps_decision dec = { .chute = 3 }, out;
	struct ps_dedup_entry e;
	uint8_t wb[24];
	int ev;
	for (int i = 0; i < 8; i++) {
		wbf(wb, i);
		ps_dedup_insert(&d, ps_dedup_hash(wb), wb, i < 4 ? 0 : 500,
				&dec, &cs, &out, &ev);
	}
	wbf(wb, 4);
	cr_assert_eq(ps_dedup_sort_result(&d, ps_dedup_hash(wb), wb, 550,
					  PS_SORT_LOST, &e), PS_DEDUP_HIT);
	cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 550, &out),
		     PS_DEDUP_MISS, "LOST forgets");
	/* at 600 the four of second 0 have expired: with the forgotten one,
	 * five new entries evict nothing */
	for (int i = 8; i < 13; i++) {
		wbf(wb, i);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 600,
					     &dec, &cs, &out, &ev),
			     PS_DEDUP_MISS);
		cr_assert_eq(ev, 0, "waybill %d evicted a live entry", i);
	}
	for (int i = 5; i < 13; i++) {
		wbf(wb, i);
		cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 600,
					     &out), PS_DEDUP_HIT, "%d", i);
	}
	ps_dedup_free(&d);
}

/* The sort loop's state stays with the waybill's entry while the bucket
 * around it churns, and when it is replaced in place. */
Test(dedup, rounds_and_mark_stay_while_the_bucket_churns)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 8, 600), 0);
	struct ps_decision dec = { .chute = 3 }, again = { .chute = 4 }, out;
	struct ps_dedup_entry e;
	uint8_t wb[24], other[24];
	int ev;
	/* seven others of second 10, then ours at 20 with two rounds */
	for (int i = 0; i < 7; i++) {
		wbf(other, i);
		ps_dedup_insert(&d, ps_dedup_hash(other), other, 10, &dec, &cs,
				&out, &ev);
	}
	wbf(wb, 1000);
	uint64_t h = ps_dedup_hash(wb);
	ps_dedup_insert(&d, h, wb, 20, &dec, &cs, &out, &ev);
	for (int k = 0; k < 2; k++)
		cr_assert_eq(ps_dedup_sort_result(&d, h, wb, 20,
						  PS_SORT_CHUTE_FULL, &e),
			     PS_DEDUP_HIT);
	/* at 615 the seven have expired, ours has not: seven new ones take
	 * their slots */
	for (int i = 7; i < 14; i++) {
		wbf(other, i);
		ps_dedup_insert(&d, ps_dedup_hash(other), other, 615, &dec,
				&cs, &out, &ev);
		cr_assert_eq(ev, 0);
	}
	cr_assert_eq(ps_dedup_lookup_entry(&d, h, wb, 615, &e), PS_DEDUP_HIT);
	cr_assert_eq(e.rounds, 2);
	cr_assert_eq(e.not_discharged, 1);
	cr_assert_eq(e.dec.chute, 3);
	/* a not-discharged entry is decided afresh and replaced in place,
	 * keeping its rounds */
	cr_assert_eq(ps_dedup_insert(&d, h, wb, 616, &again, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ev, 0);
	cr_assert_eq(ps_dedup_lookup_entry(&d, h, wb, 616, &e), PS_DEDUP_HIT);
	cr_assert_eq(e.rounds, 2);
	cr_assert_eq(e.not_discharged, 0);
	cr_assert_eq(e.dec.chute, 4);
	int copies = 0;
	for (uint64_t i = 0; i < d.capacity; i++)
		copies += !memcmp(d.slot[i].key, wb, 24);
	cr_assert_eq(copies, 1, "one entry per waybill");
	ps_dedup_free(&d);
}

/* At low load a waybill whose own bucket is full goes to its second
 * bucket instead of evicting, keeps its sort loop state there, and is
 * forgotten there on LOST. */
Test(dedup, an_overflowing_bucket_spills_to_its_second)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 64, 600), 0);   /* eight buckets */
	struct ps_decision dec = { .chute = 3 }, out;
	struct ps_dedup_entry e;
	uint8_t wb[9][24];
	int from = 0, ev;
	for (int i = 0; i < 9; i++) {
		cr_assert_geq(waybill_in_bucket(&d, 0, &from, wb[i]), 0);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb[i]), wb[i],
					     5, &dec, &cs, &out, &ev),
			     PS_DEDUP_MISS);
		cr_assert_eq(ev, 0, "nothing evicted at low load");
	}
	cr_assert_eq(d.head[0].spilled_out, 1);
	for (int i = 0; i < 9; i++)
		cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb[i]), wb[i],
					     5, &out), PS_DEDUP_HIT, "%d", i);
	uint64_t h8 = ps_dedup_hash(wb[8]);
	cr_assert_eq(ps_dedup_sort_result(&d, h8, wb[8], 5,
					  PS_SORT_DISCHARGE_FAILED, &e),
		     PS_DEDUP_HIT);
	cr_assert_eq(ps_dedup_lookup_entry(&d, h8, wb[8], 5, &e),
		     PS_DEDUP_HIT);
	cr_assert_eq(e.rounds, 1);
	cr_assert_eq(e.not_discharged, 1);
	/* decided afresh: replaced where it is, rounds kept */
	cr_assert_eq(ps_dedup_insert(&d, h8, wb[8], 6, &dec, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(ps_dedup_lookup_entry(&d, h8, wb[8], 6, &e),
		     PS_DEDUP_HIT);
	cr_assert_eq(e.rounds, 1);
	cr_assert_eq(d.head[0].spilled_out, 1, "still the one spilled entry");
	cr_assert_eq(ps_dedup_sort_result(&d, h8, wb[8], 6, PS_SORT_LOST, &e),
		     PS_DEDUP_HIT);
	cr_assert_eq(ps_dedup_lookup(&d, h8, wb[8], 6, &out), PS_DEDUP_MISS);
	ps_dedup_free(&d);
}

/* However many waybills come, the window holds at most its capacity:
 * the table is sized once, and every slot holds one entry. */
Test(dedup, never_more_than_its_capacity)
{
	static const uint64_t caps[] = { 1, 8, 100, 1000, 4096, 5000 };
	for (unsigned c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct ps_dedup d;
		ps_chutes_init(&cs);
		cr_assert_eq(ps_dedup_init(&d, caps[c], 600), 0);
		cr_assert_geq(d.capacity, caps[c]);
		cr_assert_lt(d.capacity, 2 * caps[c] + PS_DEDUP_WAYS);
		cr_assert_eq(d.bytes, (d.mask + 1) *
			     (sizeof(struct ps_dedup_head) +
			      PS_DEDUP_WAYS * sizeof(struct ps_dedup_slot)));
		struct ps_decision dec = { .chute = 3 }, out;
		uint8_t wb[24];
		int ev;
		uint64_t n = 4 * d.capacity, evicted = 0;
		for (uint64_t i = 0; i < n; i++) {
			wbf(wb, (int)i);
			ps_dedup_insert(&d, ps_dedup_hash(wb), wb,
					(uint32_t)(i / 64), &dec, &cs, &out,
					&ev);
			evicted += (unsigned)ev;
		}
		uint32_t now = (uint32_t)((n - 1) / 64);
		cr_assert_eq(live_slots(&d, now), (int)(n - evicted),
			     "every entry that was not evicted is there");
		cr_assert_leq(n - evicted, d.capacity);
		wbf(wb, (int)n - 1);
		cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, now,
					     &out), PS_DEDUP_HIT);
		ps_dedup_free(&d);
	}
}

/* Two cores insert the same twelve waybills, all of one bucket, at once:
 * four of them spill into second buckets while the other core may be
 * putting them there too. Still each waybill decided exactly once. */
Test(dedup, two_cores_spilling_each_decided_once)
{
	enum { N = 12 };
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 64, 600), 0);   /* eight buckets */
	int ids[N], from = 0;
	uint8_t wb[24];
	for (int i = 0; i < N; i++)
		cr_assert_geq(ids[i] = waybill_in_bucket(&d, 0, &from, wb), 0);
	for (int round = 0; round < 300; round++) {
		memset(d.head, 0, d.bytes);
		volatile int go = 0;
		struct racer a = { &d, N, calloc(N, 1), &go, 0, ids };
		struct racer b = { &d, N, calloc(N, 1), &go, 0, ids };
		pthread_t ta, tb;
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		go = 1;
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		int wrong = 0, busy = 0;
		for (int i = 0; i < N; i++) {
			busy += a.fresh[i] == 2 || b.fresh[i] == 2;
			wrong += a.fresh[i] + b.fresh[i] != 1;
		}
		cr_assert_eq(d.head[0].spilled_out, N - PS_DEDUP_WAYS);
		cr_assert_eq(a.evicted + b.evicted, 0);
		cr_assert_eq(busy, 0);
		cr_assert_eq(wrong, 0, "%d waybills decided twice or never",
			     wrong);
		for (int i = 0; i < N; i++) {
			struct ps_decision out;
			wbf(wb, ids[i]);
			cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb,
						     5, &out), PS_DEDUP_HIT);
		}
		free(a.fresh);
		free(b.fresh);
	}
	ps_dedup_free(&d);
}

/* One core spills waybills of a full bucket into other buckets while the
 * other core inserts waybills of those buckets into the same free slots:
 * a slot goes to one of them, the other chooses again, and no entry is
 * overwritten (the slot's compare-and-swap, then its head entry checked).
 * Each bucket ends with at most eight entries, so nothing is evicted. */
Test(dedup, a_spill_and_a_home_insert_never_share_a_slot)
{
	enum { SPILL = 12, EACH = 4, HOME = 7 * EACH };
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 64, 600), 0);   /* eight buckets */
	int spill[SPILL], home[HOME], from = 0;
	uint8_t wb[24];
	for (int i = 0; i < SPILL; i++)
		cr_assert_geq(spill[i] = waybill_in_bucket(&d, 0, &from, wb), 0);
	for (int b = 1; b < 8; b++) {
		int f = from;
		for (int k = 0; k < EACH; k++)
			cr_assert_geq(home[(b - 1) * EACH + k] =
				      waybill_in_bucket(&d, (uint64_t)b, &f, wb), 0);
	}
	for (int round = 0; round < 300; round++) {
		memset(d.head, 0, d.bytes);
		volatile int go = 0;
		struct racer a = { &d, SPILL, calloc(SPILL, 1), &go, 0, spill };
		struct racer b = { &d, HOME, calloc(HOME, 1), &go, 0, home };
		pthread_t ta, tb;
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		go = 1;
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		cr_assert_eq(a.evicted + b.evicted, 0);
		for (int i = 0; i < SPILL; i++)
			cr_assert_eq(a.fresh[i], 1);
		for (int i = 0; i < HOME; i++)
			cr_assert_eq(b.fresh[i], 1);
		int lost = 0;
		struct ps_decision out;
		for (int i = 0; i < SPILL + HOME; i++) {
			wbf(wb, i < SPILL ? spill[i] : home[i - SPILL]);
			lost += ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 5,
						&out) != PS_DEDUP_HIT;
		}
		cr_assert_eq(lost, 0, "round %d: %d entries overwritten", round,
			     lost);
		free(a.fresh);
		free(b.fresh);
	}
	ps_dedup_free(&d);
}

/* Whether one waybill's second bucket is full says nothing about
 * another's: a waybill of bucket 0 whose second bucket is full evicts
 * bucket 0's oldest (nothing else to do), and the next waybill of bucket 0
 * whose second bucket has room still goes there. (The window once skipped
 * every second bucket for 63 inserts after finding one full: at 80% load
 * it forgot 13% of its waybills, the window before it 6%.) */
Test(dedup, one_full_second_bucket_does_not_stop_the_others)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 512, 600), 0);   /* 64 buckets */
	struct ps_decision dec = { .chute = 3 }, out;
	uint8_t wb[24];
	int ev, from = 0;
	int x = waybill_in_bucket(&d, 0, &from, wb);
	cr_assert_geq(x, 0);
	uint64_t ax = ps_dedup_alt_bucket(&d, ps_dedup_hash(wb));
	int y;
	do
		y = waybill_in_bucket(&d, 0, &from, wb);
	while (y >= 0 && ps_dedup_alt_bucket(&d, ps_dedup_hash(wb)) == ax);
	cr_assert_geq(y, 0);
	/* X's second bucket full of its own waybills, then bucket 0 */
	int fa = 0, home[8];
	for (int i = 0; i < 8; i++) {
		cr_assert_geq(waybill_in_bucket(&d, ax, &fa, wb), 0);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 5, &dec,
					     &cs, &out, &ev), PS_DEDUP_MISS);
		cr_assert_eq(ev, 0);
	}
	for (int i = 0; i < 8; i++) {
		cr_assert_geq(home[i] = waybill_in_bucket(&d, 0, &from, wb), 0);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 5, &dec,
					     &cs, &out, &ev), PS_DEDUP_MISS);
		cr_assert_eq(ev, 0);
	}
	wbf(wb, x);
	cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 6, &dec, &cs,
				     &out, &ev), PS_DEDUP_MISS);
	cr_assert_eq(ev, 1, "both of X's buckets full: the oldest goes");
	wbf(wb, y);
	cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 6, &dec, &cs,
				     &out, &ev), PS_DEDUP_MISS);
	cr_assert_eq(ev, 0, "Y's second bucket has room: nothing evicted");
	for (int i = 1; i < 8; i++) {
		wbf(wb, home[i]);
		cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 6, &out),
			     PS_DEDUP_HIT, "waybill %d of bucket 0 still there",
			     i);
	}
	ps_dedup_free(&d);
}

/* Replayed at 80% of its capacity, the window finds nearly every waybill
 * again: it loses fewer than the window before the heads did (two
 * candidate buckets of four slots: 5.7% of the replayed scans missed). */
Test(dedup, at_80_percent_load_a_replay_is_a_duplicate)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 1 << 16, 600), 0);
	struct ps_decision dec = { .chute = 3 }, out;
	uint8_t wb[24];
	int ev;
	uint64_t n = d.capacity * 4 / 5, missed = 0;
	for (int pass = 0; pass < 3; pass++)
		for (uint64_t i = 0; i < n; i++) {
			wbf(wb, (int)i);
			uint64_t h = ps_dedup_hash(wb);
			if (ps_dedup_lookup(&d, h, wb, 5, &out) == PS_DEDUP_HIT)
				continue;
			missed += pass > 0;
			ps_dedup_insert(&d, h, wb, 5, &dec, &cs, &out, &ev);
		}
	cr_assert_lt((double)missed / (double)(2 * n), 0.04,
		     "%" PRIu64 " of %" PRIu64 " replayed scans missed", missed,
		     2 * n);
	ps_dedup_free(&d);
}

/* A bucket's count of its waybills living in second buckets never wraps
 * to 0: 256 of them spilled (each second bucket with room) are all found
 * again, and a second scan of each is a duplicate, not a second entry. */
Test(dedup, many_waybills_spilled_from_one_bucket_are_all_found)
{
	enum { SPILLED = 256, N = PS_DEDUP_WAYS + SPILLED };
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 8 * 1024, 600), 0);   /* 1024 buckets */
	static uint8_t placed[1024];
	static int ids[N];
	memset(placed, 0, sizeof(placed));
	uint8_t wb[24];
	int n = 0, from = 0, ev;
	while (n < N) {
		int i = waybill_in_bucket(&d, 0, &from, wb);
		cr_assert_geq(i, 0);
		uint64_t a = ps_dedup_alt_bucket(&d, ps_dedup_hash(wb));
		if (n >= PS_DEDUP_WAYS && placed[a]++ >= PS_DEDUP_WAYS)
			continue;
		ids[n++] = i;
	}
	struct ps_decision dec = { .chute = 3 }, out;
	for (int k = 0; k < N; k++) {
		wbf(wb, ids[k]);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 5, &dec,
					     &cs, &out, &ev), PS_DEDUP_MISS);
		cr_assert_eq(ev, 0);
	}
	int lost = 0;
	for (int k = 0; k < N; k++) {
		wbf(wb, ids[k]);
		lost += ps_dedup_lookup(&d, ps_dedup_hash(wb), wb, 6, &out) !=
			PS_DEDUP_HIT;
	}
	cr_assert_eq(lost, 0, "%d spilled waybills not found", lost);
	for (int k = 0; k < N; k++) {
		wbf(wb, ids[k]);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 6, &dec,
					     &cs, &out, &ev), PS_DEDUP_HIT,
			     "waybill %d decided twice", k);
	}
	ps_dedup_free(&d);
}

static struct ps_net_cfg net(void)
{
	struct ps_net_cfg c = { .mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1,
				.ip4 = { 198, 18, 0, 2 }, .has_ip6 = 1,
				.ip6 = { 0x20, 1, 0xd, 0xb8, [15] = 2 },
				.port = 7100 };
	ps_net_cfg_finish(&c);
	return c;
}

Test(pkt, arp_request_answered)
{
	struct ps_net_cfg c = net();
	uint8_t f[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
			  0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1,
			  2, 0, 0, 0, 0, 1, 198, 18, 0, 1,
			  0, 0, 0, 0, 0, 0, 198, 18, 0, 2 };
	struct ps_frame fr;
	uint8_t why;
	uint16_t nl;
	cr_assert_eq(ps_pkt_input(&c, f, 60, &fr, &why, &nl), PS_PKT_ANSWER);
	cr_assert_eq(why, PS_ANS_ARP);
	cr_assert_eq(f[21], 2, "an ARP reply");
	uint8_t want_sha[6] = { 2, 0, 0, 0, 0, 2 }, cli[6] = { 2, 0, 0, 0, 0, 1 };
	cr_assert_arr_eq(f + 22, want_sha, 6);
	cr_assert_arr_eq(f, cli, 6);
	cr_assert_eq(f[31], 2);
	cr_assert_eq(f[41], 1);
	/* for another address: dropped */
	memset(f, 0xff, 6);
	f[21] = 1;
	f[41] = 9;
	cr_assert_eq(ps_pkt_input(&c, f, 60, &fr, &why, &nl), PS_PKT_DROP);
	cr_assert_eq(why, PS_DROP_ARP);
}

Test(pkt, ping_and_neighbour_solicitation)
{
	struct ps_net_cfg c = net();
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .src_ip = { 198, 18, 0, 1 },
				  .dst_ip = { 198, 18, 0, 2 } };
	uint8_t f[256], icmp[16] = { 8, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g' };
	uint16_t ck = ps_csum_fold(ps_csum_partial(icmp, 16, 0));
	icmp[2] = (uint8_t)(ck >> 8);
	icmp[3] = (uint8_t)ck;
	/* build an IPv4 frame around the ICMP bytes (UDP builder, then patch) */
	size_t n = ps_frame_build_udp(f, sizeof(f), &e, icmp + 8, 8);
	uint8_t *ip = f + 14;
	ip[9] = 1;
	memcpy(ip + 20, icmp, 16);
	ip[10] = ip[11] = 0;
	ck = ps_csum_fold(ps_csum_partial(ip, 20, 0));
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	struct ps_frame fr;
	uint8_t why;
	uint16_t nl;
	cr_assert_eq(ps_pkt_input(&c, f, (uint16_t)n, &fr, &why, &nl),
		     PS_PKT_ANSWER);
	cr_assert_eq(why, PS_ANS_ICMP_ECHO);
	cr_assert_eq(ip[20], 0, "echo reply");
	cr_assert_eq(ps_csum_fold(ps_csum_partial(ip + 20, 16, 0)), 0);
	cr_assert_eq(ps_csum_fold(ps_csum_partial(ip, 20, 0)), 0);
	cr_assert_eq(ip[19], 1, "to the pinger");

	/* neighbour solicitation to the solicited-node address */
	uint8_t ns[256] = { 0x33, 0x33, 0xff, 0, 0, 2, 2, 0, 0, 0, 0, 1,
			    0x86, 0xdd };
	uint8_t *i6 = ns + 14, *ic = i6 + 40;
	i6[0] = 0x60;
	i6[5] = 32;
	i6[6] = 58;
	i6[7] = 255;
	uint8_t src[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
	memcpy(i6 + 8, src, 16);
	memcpy(i6 + 24, c.sn_ip6, 16);
	ic[0] = 135;
	memcpy(ic + 8, c.ip6, 16);
	ic[24] = 1;
	ic[25] = 1;
	memcpy(ic + 26, ns + 6, 6);
	ck = ps_l4_csum(6, i6 + 8, i6 + 24, 58, ic, 32);
	ic[2] = (uint8_t)(ck >> 8);
	ic[3] = (uint8_t)ck;
	cr_assert_eq(ps_pkt_input(&c, ns, 14 + 72, &fr, &why, &nl),
		     PS_PKT_ANSWER);
	cr_assert_eq(why, PS_ANS_ND);
	cr_assert_eq(ic[0], 136, "an advertisement");
	cr_assert_eq(ic[4], 0x60, "solicited, override");
	cr_assert_arr_eq(ic + 26, c.mac, 6);
	cr_assert_arr_eq(i6 + 24, src, 16);
	cr_assert_eq(ps_l4_csum(6, i6 + 8, i6 + 24, 58, ic, 32), 0);
	cr_assert_eq(nl, 14 + 72);
}

/* A neighbour solicitation for our address from 2001:db8::1, to our
 * address itself (unicast) or to its solicited-node group, with or
 * without the sender's link-layer address option; returns its length. */
static uint16_t solicitation(uint8_t *ns, const struct ps_net_cfg *c,
			     int multicast, int slla)
{
	static const uint8_t them[6] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t src[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
	uint16_t icmp_len = slla ? 32 : 24;
	memset(ns, 0, 256);
	memcpy(ns, multicast ? c->sn_mac : c->mac, 6);
	memcpy(ns + 6, them, 6);
	ns[12] = 0x86;
	ns[13] = 0xdd;
	uint8_t *i6 = ns + 14, *ic = i6 + 40;
	i6[0] = 0x60;
	i6[5] = (uint8_t)icmp_len;
	i6[6] = 58;
	i6[7] = 255;
	memcpy(i6 + 8, src, 16);
	memcpy(i6 + 24, multicast ? c->sn_ip6 : c->ip6, 16);
	ic[0] = 135;
	memcpy(ic + 8, c->ip6, 16);
	if (slla) {
		ic[24] = 1;
		ic[25] = 1;
		memcpy(ic + 26, them, 6);
	}
	uint16_t ck = ps_l4_csum(6, i6 + 8, i6 + 24, 58, ic, icmp_len);
	ic[2] = (uint8_t)(ck >> 8);
	ic[3] = (uint8_t)ck;
	return (uint16_t)(14 + 40 + icmp_len);
}

/* Issue #12.8: a 78-byte solicitation (no options) got an 86-byte
 * advertisement. No answer is larger than its request: a bare unicast
 * solicitation gets an advertisement without the target link-layer address
 * option (RFC 4861 7.2.4 allows it: the sender knows our MAC), a bare
 * multicast one (which must carry the sender's option) none at all. */
Test(pkt, neighbour_advertisement_never_larger_than_solicitation)
{
	struct ps_net_cfg c = net();
	uint8_t ns[256];
	uint8_t *i6 = ns + 14, *ic = i6 + 40;
	static const uint8_t src[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
	struct ps_frame fr;
	uint8_t why;
	uint16_t nl;

	uint16_t len = solicitation(ns, &c, 0, 0);
	cr_assert_eq(len, 78);
	cr_assert_eq(ps_pkt_input(&c, ns, len, &fr, &why, &nl), PS_PKT_ANSWER);
	cr_assert_eq(why, PS_ANS_ND);
	cr_assert_leq(nl, len, "an answer of %u bytes to %u", nl, len);
	cr_assert_eq(nl, 78);
	cr_assert_eq(ic[0], 136, "an advertisement");
	cr_assert_eq(ic[4], 0x40, "solicited, not override (no TLLA)");
	cr_assert_eq(i6[4] << 8 | i6[5], 24, "no option");
	cr_assert_arr_eq(ic + 8, c.ip6, 16, "for our address");
	cr_assert_arr_eq(i6 + 8, c.ip6, 16);
	cr_assert_arr_eq(i6 + 24, src, 16, "to the solicitor");
	cr_assert_eq(i6[7], 255);
	cr_assert_eq(ps_l4_csum(6, i6 + 8, i6 + 24, 58, ic, 24), 0);

	/* with the sender's option, unicast: the answer carries ours */
	len = solicitation(ns, &c, 0, 1);
	cr_assert_eq(ps_pkt_input(&c, ns, len, &fr, &why, &nl), PS_PKT_ANSWER);
	cr_assert_eq(nl, len);
	cr_assert_eq(ic[4], 0x60, "solicited, override");
	cr_assert_eq(ic[24], 2);
	cr_assert_arr_eq(ic + 26, c.mac, 6);
	cr_assert_eq(ps_l4_csum(6, i6 + 8, i6 + 24, 58, ic, 32), 0);

	/* multicast without the sender's option: the answer would need the
	 * option (RFC 4861 7.2.4) and has no room for it: dropped */
	len = solicitation(ns, &c, 1, 0);
	cr_assert_eq(ps_pkt_input(&c, ns, len, &fr, &why, &nl), PS_PKT_DROP);
	cr_assert_eq(why, PS_DROP_ICMP);
}

Test(pipeline, every_frame_answered_or_dropped_once)
{
	struct ps_net_cfg c = net();
	struct ps_dedup d;
	static struct ps_counters cnt;
	struct ps_plan *none = NULL;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 4096, 600), 0);
	struct ps_pipeline pl = { .net = &c, .plan_slot = &none, .chutes = &cs,
				  .dedup = &d, .cnt = &cnt };
	struct ps_rng g;
	ps_rng_seed(&g, 9);
	static uint8_t bufs[PS_BURST][1600];
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .src_ip = { 198, 18, 0, 1 },
				  .dst_ip = { 198, 18, 0, 2 }, .sport = 5,
				  .dport = 7100 };
	uint64_t frames = 0;
	for (int round = 0; round < 300; round++) {
		struct ps_pkt_buf b[PS_BURST];
		for (int i = 0; i < PS_BURST; i++) {
			uint8_t payload[16 + 64] = { 0x50, 0x53, 1, 1, 0, 1 };
			payload[16] = 'S';
			size_t n = ps_frame_build_udp(bufs[i], 1600, &e, payload,
						      sizeof(payload));
			/* damage it at random: a byte, the length, or not */
			unsigned how = (unsigned)ps_rng_below(&g, 4);
			if (how == 1)
				bufs[i][ps_rng_below(&g, n)] ^=
					(uint8_t)(1 + ps_rng_below(&g, 255));
			else if (how == 2)
				n = ps_rng_below(&g, n);
			else if (how == 3)
				for (size_t k = 0; k < n; k++)
					bufs[i][k] = (uint8_t)ps_rng_next(&g);
			b[i].data = bufs[i];
			b[i].len = (uint16_t)n;
			b[i].rx_csum = 0;
		}
		ps_pipeline_run(&pl, b, PS_BURST, 1);
		frames += PS_BURST;
		for (int i = 0; i < PS_BURST; i++)
			if (b[i].send)
				cr_assert_leq(b[i].out_len, b[i].len,
					      "never more bytes than received");
	}
	uint64_t sum = 0;
	for (int i = 0; i < PS_DROP_COUNT; i++)
		sum += cnt.drops[i];
	for (int i = 0; i < PS_ANS_COUNT; i++)
		sum += cnt.answered[i];
	cr_assert_eq(cnt.rx_frames, frames);
	cr_assert_eq(sum, frames, "answered + dropped = received");
	cr_assert_gt(cnt.answered[PS_ANS_DECISION], 0);
	cr_assert_eq(cnt.records_by_reason[PS_R_NO_PLAN] +
			     cnt.records_by_reason[PS_R_MALFORMED_RECORD] +
			     cnt.records_by_reason[PS_R_TRACK_ONLY],
		     cnt.records);
	ps_dedup_free(&d);
}

/* A request frame's checksums made again after a change (so that the
 * checks behind them are reached too). */
static void refresh_csums(uint8_t *fr, size_t n, int udp_zero)
{
	uint8_t *ip = fr + 14;
	if (n < 34 || fr[12] != 8 || fr[13] != 0)
		return;
	unsigned ihl = (ip[0] & 15u) * 4u;
	if (ihl < 20 || 14 + ihl > n)
		return;
	ip[10] = ip[11] = 0;
	uint16_t ck = ps_csum_fold(ps_csum_partial(ip, ihl, 0));
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	uint8_t *u = ip + ihl;
	size_t tot = (size_t)(ip[2] << 8 | ip[3]);
	if (14 + ihl + 8 > n || tot < ihl + 8 || 14 + tot > n)
		return;
	u[6] = u[7] = 0;
	if (udp_zero)
		return;
	ck = ps_l4_csum(4, ip + 12, ip + 16, PS_IPPROTO_UDP, u, tot - ihl);
	if (!ck)
		ck = 0xffff;
	u[6] = (uint8_t)(ck >> 8);
	u[7] = (uint8_t)ck;
}

/* pkt.c takes well-formed IPv4 requests through a one-pass fast path and
 * everything else through the frame parser: for every frame and every
 * thing a port can say of its checksums, both give the same verdict,
 * cause, frame description and bytes. */
Test(pkt, fast_path_agrees_with_the_frame_parser)
{
	struct ps_net_cfg c = net();
	struct ps_rng g;
	ps_rng_seed(&g, 14);
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .src_ip = { 198, 18, 0, 1 },
				  .dst_ip = { 198, 18, 0, 2 }, .sport = 5,
				  .dport = 7100 };
	static uint8_t base[1600], a[1600], b[1600];
	unsigned requests = 0;
	for (int round = 0; round < 200000; round++) {
		uint8_t payload[16 + 64 * 2] = { 0x50, 0x53, 1, 1, 0, 2 };
		e.ip_ver = ps_rng_below(&g, 8) ? 4 : 6;
		e.vlan = ps_rng_below(&g, 8) ? 0 : 5;
		size_t n = ps_frame_build_udp(base, sizeof(base), &e, payload,
					      sizeof(payload));
		/* one to three header bytes changed (or none), then the
		 * checksums made again or not, the length cut or not */
		unsigned changes = (unsigned)ps_rng_below(&g, 4);
		for (unsigned k = 0; k < changes; k++) {
			unsigned at = (unsigned)ps_rng_below(&g, 46);
			base[at] = ps_rng_below(&g, 2)
					   ? (uint8_t)ps_rng_next(&g)
					   : (uint8_t)(base[at] ^
						       (1u << ps_rng_below(&g, 8)));
		}
		if (ps_rng_below(&g, 3))
			refresh_csums(base, n, !ps_rng_below(&g, 4));
		if (!ps_rng_below(&g, 8))
			n = ps_rng_below(&g, n + 1);
		uint8_t rx = (uint8_t)ps_rng_below(&g, 16);
		memcpy(a, base, n);
		memcpy(b, base, n);
		struct ps_frame fa, fb;
		memset(&fa, 0x5a, sizeof(fa));
		memset(&fb, 0x5a, sizeof(fb));
		uint8_t wa = 0, wb = 0;
		uint16_t la = 0, lb = 0;
		enum ps_pkt_verdict va = ps_pkt_input_csum(&c, a, (uint16_t)n, rx,
							   &fa, &wa, &la);
		enum ps_pkt_verdict vb = ps_pkt_input_general(&c, b, (uint16_t)n,
							      rx, &fb, &wb, &lb);
		cr_assert_eq(va, vb, "round %d: verdict", round);
		cr_assert_arr_eq(a, b, n, "round %d: frame bytes", round);
		if (va == PS_PKT_REQUEST) {
			requests++;
			cr_assert_arr_eq(&fa, &fb, sizeof(fa),
					 "round %d: frame description", round);
		} else {
			cr_assert_eq(wa, wb, "round %d: cause", round);
			if (va == PS_PKT_ANSWER)
				cr_assert_eq(la, lb);
		}
	}
	cr_assert_gt(requests, 20000, "the fast path was taken often");
}

/* A decision reply, new payload and all, against checksums summed afresh
 * over the bytes it leaves with (ps_csum_partial, not pkt.c's sums): the
 * UDP checksum is made from the request's addresses and ports (swapped)
 * and the new length rather than read back from the header just written,
 * and the common IPv4 reply takes its own wide rewrite; both must give
 * the frame a receiver checks. IPv4 and IPv6, every payload length from
 * 1 to 200 bytes, odd ones too. */
Test(pkt, reply_checksums_verify_afresh)
{
	struct ps_net_cfg c = net();
	struct ps_rng g;
	ps_rng_seed(&g, 768);
	static uint8_t fr[1600];
	unsigned checked = 0;
	for (int v = 4; v <= 6; v += 2) {
		for (unsigned plen = 1; plen <= 200; plen++) {
			uint8_t payload[200];
			for (size_t k = 0; k < plen; k++)
				payload[k] = (uint8_t)ps_rng_next(&g);
			struct ps_endpoints e = {
				.src_mac = { 2, 0, 0, 0, 0, 1 },
				.dst_mac = { 2, 0, 0, 0, 0, 2 },
				.ip_ver = (uint8_t)v,
				.sport = (uint16_t)ps_rng_next(&g),
				.dport = 7100 };
			if (v == 4) {
				memcpy(e.dst_ip, c.ip4, 4);
				for (int k = 0; k < 4; k++)
					e.src_ip[k] = (uint8_t)ps_rng_next(&g);
			} else {
				memcpy(e.dst_ip, c.ip6, 16);
				for (int k = 0; k < 16; k++)
					e.src_ip[k] = (uint8_t)ps_rng_next(&g);
			}
			size_t n = ps_frame_build_udp(fr, sizeof(fr), &e,
						      payload, plen);
			cr_assert_gt(n, 0);
			struct ps_frame f;
			uint8_t why;
			uint16_t nl;
			cr_assert_eq(ps_pkt_input_csum(&c, fr, (uint16_t)n, 0,
						       &f, &why, &nl),
				     PS_PKT_REQUEST, "v%d plen %u", v, plen);
			/* a new payload, up to the request's length */
			unsigned out = 1 + (unsigned)ps_rng_below(&g, plen);
			for (unsigned k = 0; k < out; k++)
				fr[f.payload_off + k] = (uint8_t)ps_rng_next(&g);
			struct ps_tx_csum tx;
			uint16_t len = ps_pkt_reply_request(&c, fr, &f,
							    (uint16_t)out, 0,
							    &tx);
			cr_assert_eq(len, f.payload_off + out);
			cr_assert_eq(tx.flags, 0);
			cr_assert_arr_eq(fr, e.src_mac, 6);
			cr_assert_arr_eq(fr + 6, c.mac, 6);
			const uint8_t *ip = fr + f.l3_off, *u = fr + f.l4_off;
			unsigned alen = v == 4 ? 4 : 16;
			const uint8_t *src = ip + (v == 4 ? 12 : 8);
			cr_assert_arr_eq(src, e.dst_ip, alen);
			cr_assert_arr_eq(src + alen, e.src_ip, alen);
			cr_assert_eq(u[0] << 8 | u[1], 7100);
			cr_assert_eq(u[2] << 8 | u[3], e.sport);
			cr_assert_eq(u[4] << 8 | u[5], 8 + out);
			if (v == 4)
				cr_assert_eq(ps_csum_fold(ps_csum_partial(ip, 20, 0)),
					     0, "v4 plen %u: IP header", plen);
			/* the UDP sum over the pseudo-header and datagram,
			 * its field included: all ones */
			cr_assert(u[6] | u[7], "v%d plen %u: a checksum", v,
				  plen);
			cr_assert_eq(ps_l4_csum((uint8_t)v, src, src + alen,
						PS_IPPROTO_UDP, u, 8 + out),
				     0, "v%d plen %u out %u: UDP checksum", v,
				     plen, out);
			struct ps_frame pf;
			cr_assert_eq(ps_frame_parse(fr, len, &pf), PS_FRAME_UDP,
				     "v%d plen %u: the reply parses", v, plen);
			checked++;
		}
	}
	cr_assert_eq(checked, 400);
}

/* A decision reply's IPv4 header checksum is updated for the words the
 * reply changes when the request's was checked (ps_pkt_reply_request):
 * the same bytes as summing it afresh (ps_pkt_reply_udp_tx), over random
 * headers (TTL, identification, type of service, options, lengths). */
Test(pkt, incremental_ipv4_checksum_gives_the_same_reply)
{
	struct ps_net_cfg c = net();
	struct ps_rng g;
	ps_rng_seed(&g, 1624);
	static uint8_t base[1600], a[1600], b[1600];
	unsigned compared = 0;
	for (int round = 0; round < 100000; round++) {
		uint8_t payload[16 + 64 * 3];
		for (size_t k = 0; k < sizeof(payload); k++)
			payload[k] = (uint8_t)ps_rng_next(&g);
		unsigned count = 1 + (unsigned)ps_rng_below(&g, 3);
		size_t plen = 16 + 64 * (size_t)count;
		struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
					  .dst_mac = { 2, 0, 0, 0, 0, 2 },
					  .ip_ver = 4,
					  .dst_ip = { 198, 18, 0, 2 },
					  .sport = (uint16_t)ps_rng_next(&g),
					  .dport = 7100 };
		for (int k = 0; k < 4; k++)
			e.src_ip[k] = (uint8_t)ps_rng_next(&g);
		size_t n = ps_frame_build_udp(base, sizeof(base), &e, payload,
					      plen);
		uint8_t *ip = base + 14;
		/* options: 0 to 40 bytes moved in after the fixed header */
		unsigned opt = 4 * (unsigned)ps_rng_below(&g, 11);
		memmove(ip + 20 + opt, ip + 20, n - 34);
		for (unsigned k = 0; k < opt; k++)
			ip[20 + k] = (uint8_t)ps_rng_next(&g);
		n += opt;
		ip[0] = (uint8_t)(0x40 | (20 + opt) / 4);
		ip[1] = (uint8_t)ps_rng_next(&g);               /* TOS */
		unsigned tot = (unsigned)(n - 14);
		ip[2] = (uint8_t)(tot >> 8);
		ip[3] = (uint8_t)tot;
		ip[4] = (uint8_t)ps_rng_next(&g);               /* id */
		ip[5] = (uint8_t)ps_rng_next(&g);
		ip[8] = (uint8_t)(1 + ps_rng_below(&g, 255));  /* TTL */
		refresh_csums(base, n, !ps_rng_below(&g, 4));
		uint8_t rx = (uint8_t)PS_RX_CSUM(
			ps_rng_below(&g, 2) ? PS_CSUM_UNKNOWN : PS_CSUM_GOOD,
			PS_CSUM_UNKNOWN);
		struct ps_frame f;
		uint8_t why;
		uint16_t nl;
		cr_assert_eq(ps_pkt_input_csum(&c, base, (uint16_t)n, rx, &f,
					       &why, &nl),
			     PS_PKT_REQUEST, "round %d: a request", round);
		memcpy(a, base, n);
		memcpy(b, base, n);
		uint16_t out = (uint16_t)(16 + 48 * count);
		struct ps_tx_csum ta, tb;
		uint16_t la = ps_pkt_reply_request(&c, a, &f, out, rx, &ta);
		uint16_t lb = ps_pkt_reply_udp_tx(&c, b, &f, out, &tb);
		cr_assert_eq(la, lb);
		cr_assert_arr_eq(a, b, la, "round %d: reply bytes", round);
		cr_assert_eq(ta.flags, tb.flags);
		compared++;
	}
	cr_assert_eq(compared, 100000);
}

/* A reply made in place from a request (base, n bytes) with a new payload
 * of out bytes whose last two are w: fr holds it; returns its length. */
static uint16_t reply_with(const struct ps_net_cfg *c, uint8_t *fr,
			   const uint8_t *base, size_t n,
			   const struct ps_frame *f, unsigned out, uint16_t w,
			   int afresh)
{
	memcpy(fr, base, n);
	for (unsigned k = 0; k + 2 < out; k++)
		fr[f->payload_off + k] = (uint8_t)(k * 7 + 1);
	fr[f->payload_off + out - 2] = (uint8_t)(w >> 8);
	fr[f->payload_off + out - 1] = (uint8_t)w;
	struct ps_tx_csum tx;
	return afresh ? ps_pkt_reply_udp(c, fr, f, (uint16_t)out)
		      : ps_pkt_reply_request(c, fr, f, (uint16_t)out, 0, &tx);
}

/* A reply whose UDP checksum comes out 0 leaves with 0xffff, its other
 * form (RFC 768: 0 in the field says "no checksum" over IPv4; over IPv6 a
 * zero checksum is not allowed at all, RFC 8200 8.1), on every way a
 * reply is made: the common IPv4 rewrite, IPv4 with a VLAN tag, IPv4 with
 * its header checksum summed afresh, IPv6 untagged and tagged. The last
 * two bytes of the reply's payload are searched for the values that make
 * the sum come out 0 (every one of the 65,536 is tried: none may leave a
 * 0 in the field). */
Test(pkt, a_zero_udp_checksum_leaves_as_all_ones)
{
	struct ps_net_cfg c = net();
	static const struct {
		uint8_t v;
		uint16_t vlan;
		int afresh;
	} ways[] = { { 4, 0, 0 }, { 4, 5, 0 }, { 4, 0, 1 }, { 6, 0, 0 },
		     { 6, 5, 0 } };
	static uint8_t base[1600], fr[1600], tmp[1600];
	for (unsigned w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
					  .dst_mac = { 2, 0, 0, 0, 0, 2 },
					  .ip_ver = ways[w].v,
					  .src_ip = { 198, 18, 0, 1 },
					  .sport = 5001, .dport = 7100,
					  .vlan = ways[w].vlan };
		if (ways[w].v == 4) {
			memcpy(e.dst_ip, c.ip4, 4);
		} else {
			static const uint8_t s6[16] = { 0x20, 1, 0xd, 0xb8,
							[15] = 1 };
			memcpy(e.src_ip, s6, 16);
			memcpy(e.dst_ip, c.ip6, 16);
		}
		uint8_t payload[16 + 64] = { 0x50, 0x53, 1, 1, 0, 1 };
		size_t n = ps_frame_build_udp(base, sizeof(base), &e, payload,
					      sizeof(payload));
		cr_assert_gt(n, 0);
		struct ps_frame f;
		uint8_t why;
		uint16_t nl;
		cr_assert_eq(ps_pkt_input_csum(&c, base, (uint16_t)n, 0, &f,
					       &why, &nl),
			     PS_PKT_REQUEST, "way %u: a request", w);
		unsigned out = 16 + 48, zeros = 0;
		unsigned alen = ways[w].v == 4 ? 4 : 16;
		for (uint32_t x = 0; x <= 0xffff; x++) {
			uint16_t len = reply_with(&c, fr, base, n, &f, out,
						  (uint16_t)x, ways[w].afresh);
			cr_assert_eq(len, f.payload_off + out);
			const uint8_t *ip = fr + f.l3_off, *u = fr + f.l4_off;
			const uint8_t *src = ip + (ways[w].v == 4 ? 12 : 8);
			uint16_t field = (uint16_t)(u[6] << 8 | u[7]);
			cr_assert_neq(field, 0, "way %u word %04x: a zero UDP "
				      "checksum sent", w, x);
			cr_assert_eq(ps_l4_csum(ways[w].v, src, src + alen,
						PS_IPPROTO_UDP, u, 8 + out),
				     0, "way %u word %04x: the checksum "
				     "verifies", w, x);
			/* what the sum comes out as, summed afresh with the
			 * field 0 */
			memcpy(tmp, fr, len);
			uint8_t *tu = tmp + f.l4_off;
			tu[6] = tu[7] = 0;
			const uint8_t *ts = tmp + f.l3_off +
					    (ways[w].v == 4 ? 12 : 8);
			if (ps_l4_csum(ways[w].v, ts, ts + alen,
				       PS_IPPROTO_UDP, tu, 8 + out))
				continue;
			zeros++;
			cr_assert_eq(field, 0xffff, "way %u word %04x: a sum "
				     "of 0 sent as %04x", w, x, field);
			struct ps_frame pf;
			cr_assert_eq(ps_frame_parse(fr, len, &pf), PS_FRAME_UDP,
				     "way %u: the reply parses", w);
		}
		cr_assert_geq(zeros, 1, "way %u: a payload whose sum is 0 "
			      "was found", w);
	}
}

/* ---- the pipeline's replies, frame by frame ---- */

#define REPLY_PLAN							\
	"plan r\nsite 61 33\nreject 999\nintercept 998\n"		\
	"hub 1 trunk T\nroute 31 1 20\nroute 32 1 21\nroute 33 1 22\n"

struct reply_rig {
	struct ps_plan_src src;
	struct ps_plan *plan;
	struct ps_dedup d;
	struct ps_counters cnt;
	struct ps_pipeline pl;
};

static void rig_open(struct reply_rig *r, const struct ps_net_cfg *c)
{
	struct ps_errors e;
	memset(r, 0, sizeof(*r));
	ps_errors_init(&e);
	ps_plan_src_init(&r->src);
	cr_assert_eq(ps_plan_parse(&r->src, REPLY_PLAN, strlen(REPLY_PLAN),
				   "r", &e), 0);
	r->plan = ps_plan_compile(&r->src, 3, &e);
	cr_assert_not_null(r->plan);
	ps_errors_free(&e);
	cr_assert_eq(ps_dedup_init(&r->d, 4096, 600), 0);
	r->pl = (struct ps_pipeline){ .net = c, .plan_slot = &r->plan,
				      .chutes = &cs, .dedup = &r->d,
				      .site = 1, .cnt = &r->cnt };
}

static void rig_close(struct reply_rig *r)
{
	ps_plan_free(r->plan);
	ps_plan_src_free(&r->src);
	ps_dedup_free(&r->d);
}

/* Scan batch k of a burst: its own sender (MAC, address, port, IPv4 or
 * IPv6, tagged or not), seq, number of records, and per record its own
 * waybill, region (so chute) and event seq. */
static size_t scan_frame(uint8_t *fr, size_t cap, const struct ps_net_cfg *c,
			 unsigned k, struct ps_endpoints *e)
{
	uint8_t pay[16 + 64 * 4];
	unsigned count = 1 + k % 4;
	memset(e, 0, sizeof(*e));
	memcpy(e->dst_mac, c->mac, 6);
	e->src_mac[0] = 2;
	e->src_mac[5] = (uint8_t)(0x10 + k);
	e->ip_ver = k % 3 == 2 ? 6 : 4;
	e->vlan = k % 5 == 4 ? (uint16_t)(100 + k) : 0;
	e->sport = (uint16_t)(40000 + 17 * k);
	e->dport = c->port;
	if (e->ip_ver == 4) {
		uint8_t s4[4] = { 198, 18, 1, (uint8_t)(1 + k) };
		memcpy(e->src_ip, s4, 4);
		memcpy(e->dst_ip, c->ip4, 4);
	} else {
		uint8_t s6[16] = { 0x20, 1, 0xd, 0xb8, [14] = 1,
				   [15] = (uint8_t)(1 + k) };
		memcpy(e->src_ip, s6, 16);
		memcpy(e->dst_ip, c->ip6, 16);
	}
	struct ps_header h = { .magic = PS_MAGIC, .version = PS_VERSION,
			       .kind = PS_KIND_SCAN, .count = (uint16_t)count,
			       .site = 4242, .seq = 1000 + k };
	ps_header_encode(pay, &h);
	for (unsigned i = 0; i < count; i++) {
		uint8_t wb[24] = { 0 };
		snprintf((char *)wb, sizeof(wb), "RPLY%02u%02uX", k, i);
		struct ps_scan s = { .waybill = wb,
				     .region = (31 + (k + i) % 3) *
					   10000000000ull,
				     .scan_type = 1, .device = 3,
				     .event_seq = 100 * k + i };
		ps_scan_encode(pay + 16 + 64 * i, &s);
	}
	return ps_frame_build_udp(fr, cap, e, pay, 16 + 64 * count);
}

/* Frame k's reply (fr, len bytes) is its own: to its sender's MAC,
 * address and port from ours, its seq and count, and per record its own
 * waybill, event seq and its region's chute; the checksums verify. */
static void check_own_reply(const struct ps_net_cfg *c, const uint8_t *fr,
			    uint16_t len, unsigned k,
			    const struct ps_endpoints *e)
{
	struct ps_frame f;
	cr_assert_eq(ps_frame_parse(fr, len, &f), PS_FRAME_UDP,
		     "frame %u: the reply parses, checksums and all", k);
	cr_assert_arr_eq(fr, e->src_mac, 6, "frame %u: to its sender", k);
	cr_assert_arr_eq(fr + 6, c->mac, 6, "frame %u: from us", k);
	cr_assert_eq(f.ip_ver, e->ip_ver, "frame %u", k);
	cr_assert_eq(f.has_vlan, e->vlan != 0, "frame %u", k);
	unsigned alen = e->ip_ver == 4 ? 4 : 16;
	cr_assert_arr_eq(f.dst, e->src_ip, alen, "frame %u: to its sender's "
			 "address", k);
	cr_assert_arr_eq(f.src, e->dst_ip, alen, "frame %u: from ours", k);
	cr_assert_eq(f.dport, e->sport, "frame %u: to its sender's port", k);
	cr_assert_eq(f.sport, c->port, "frame %u: from ours", k);
	const uint8_t *p = fr + f.payload_off;
	unsigned count = 1 + k % 4;
	cr_assert_eq(f.payload_len, 16 + 48 * count, "frame %u: its count "
		     "of decisions", k);
	cr_assert_eq(p[3], PS_KIND_DECISION, "frame %u: a reply", k);
	cr_assert_eq((unsigned)(p[4] << 8 | p[5]), count, "frame %u", k);
	uint32_t seq = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 |
		       (uint32_t)p[14] << 8 | p[15];
	cr_assert_eq(seq, 1000 + k, "frame %u: its seq", k);
	for (unsigned i = 0; i < count; i++) {
		struct ps_decision d;
		uint8_t wb[24], want[24] = { 0 };
		ps_decision_decode(p + 16 + 48 * i, &d, wb);
		snprintf((char *)want, sizeof(want), "RPLY%02u%02uX", k, i);
		cr_assert_arr_eq(wb, want, 24, "frame %u record %u: its "
				 "waybill", k, i);
		cr_assert_eq(d.event_seq, 100 * k + i, "frame %u record %u: "
			     "its event seq", k, i);
		cr_assert_eq(d.reason, PS_R_ROUTED, "frame %u record %u", k,
			     i);
		cr_assert_eq(d.chute, 20 + (k + i) % 3, "frame %u record %u: "
			     "its region's chute", k, i);
	}
}

/* The replies of a burst are made after the whole burst is decided, each
 * frame's payload first, then every frame's headers and checksums: each
 * reply must still be its own frame's, records, decisions, addresses,
 * ports, seq and checksums, never another frame's. A burst of distinct
 * scan batches (IPv4 and IPv6, tagged and not, 1 to 4 records, each
 * record to its own chute), with an ARP request and a frame for another
 * port among them: each reply checked against its request, and the same
 * bytes as the frame run alone in a burst of one. */
Test(pipeline, each_reply_of_a_burst_is_its_own_frames)
{
	struct ps_net_cfg c = net();
	ps_chutes_init(&cs);
	static struct reply_rig burst, alone;
	rig_open(&burst, &c);
	rig_open(&alone, &c);
	static uint8_t bufs[PS_BURST][1600], solo[PS_BURST][1600];
	struct ps_pkt_buf b[PS_BURST];
	struct ps_endpoints ep[PS_BURST];
	unsigned kind[PS_BURST];      /* 0 request, 1 ARP, 2 other port */
	unsigned k = 0;
	for (unsigned i = 0; i < PS_BURST; i++) {
		size_t n;
		kind[i] = i == 5 ? 1 : i == 9 ? 2 : 0;
		if (kind[i] == 1) {
			static const uint8_t arp[42] = {
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0,
				0, 9, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 2,
				0, 0, 0, 0, 9, 198, 18, 0, 9, 0, 0, 0, 0, 0, 0,
				198, 18, 0, 2 };
			memcpy(bufs[i], arp, sizeof(arp));
			n = 60;
			memset(bufs[i] + 42, 0, 18);
		} else {
			n = scan_frame(bufs[i], sizeof(bufs[i]), &c, k, &ep[i]);
			if (kind[i] == 2) {
				/* to another port: dropped */
				struct ps_frame f;
				uint8_t pay[16 + 64 * 4];
				cr_assert_eq(ps_frame_parse(bufs[i], n, &f),
					     PS_FRAME_UDP);
				memcpy(pay, bufs[i] + f.payload_off,
				       f.payload_len);
				ep[i].dport = (uint16_t)(c.port + 1);
				n = ps_frame_build_udp(bufs[i],
						       sizeof(bufs[i]), &ep[i],
						       pay, f.payload_len);
			} else {
				k++;
			}
		}
		cr_assert_gt(n, 0);
		memcpy(solo[i], bufs[i], n);
		b[i] = (struct ps_pkt_buf){ .data = bufs[i],
					    .len = (uint16_t)n };
	}
	ps_pipeline_run(&burst.pl, b, PS_BURST, 1);
	cr_assert_eq(burst.cnt.answered[PS_ANS_DECISION], k);
	k = 0;
	for (unsigned i = 0; i < PS_BURST; i++) {
		struct ps_pkt_buf one = { .data = solo[i], .len = b[i].len };
		ps_pipeline_run(&alone.pl, &one, 1, 1);
		cr_assert_eq(b[i].send, one.send, "frame %u: answered alike",
			     i);
		if (kind[i] == 2) {
			cr_assert_eq(b[i].send, 0, "frame %u: dropped", i);
			continue;
		}
		cr_assert(b[i].send, "frame %u: answered", i);
		cr_assert_eq(b[i].out_len, one.out_len, "frame %u", i);
		cr_assert_arr_eq(bufs[i], solo[i], b[i].out_len,
				 "frame %u: the same reply as alone", i);
		if (kind[i] == 0)
			check_own_reply(&c, bufs[i], b[i].out_len, k++, &ep[i]);
	}
	rig_close(&burst);
	rig_close(&alone);
}

/* The same through the pipeline: a decision reply whose UDP checksum
 * comes out 0 is sent with 0xffff. The request's source port (the
 * reply's destination port) is searched for one that gives a sum of 0,
 * over IPv4 and IPv6. */
Test(pipeline, a_decision_reply_summing_to_zero_is_sent_as_all_ones)
{
	struct ps_net_cfg c = net();
	ps_chutes_init(&cs);
	static struct reply_rig r;
	rig_open(&r, &c);
	static uint8_t fr[1600], tmp[1600];
	for (unsigned k = 0; k < 3; k++) {       /* scan_frame: 2 is IPv6 */
		struct ps_endpoints e;
		unsigned zeros = 0;
		for (uint32_t port = 1; port <= 0xffff; port++) {
			size_t n = scan_frame(fr, sizeof(fr), &c, k, &e);
			e.sport = (uint16_t)port;
			struct ps_frame f;
			cr_assert_eq(ps_frame_parse(fr, n, &f), PS_FRAME_UDP);
			uint8_t pay[16 + 64 * 4];
			memcpy(pay, fr + f.payload_off, f.payload_len);
			n = ps_frame_build_udp(fr, sizeof(fr), &e, pay,
					       f.payload_len);
			struct ps_pkt_buf b = { .data = fr,
						.len = (uint16_t)n };
			ps_pipeline_run(&r.pl, &b, 1, 1);
			cr_assert(b.send);
			cr_assert_eq(ps_frame_parse(fr, b.out_len, &f),
				     PS_FRAME_UDP);
			uint8_t *u = fr + f.l4_off;
			uint16_t field = (uint16_t)(u[6] << 8 | u[7]);
			cr_assert_neq(field, 0, "v%u port %u: a zero UDP "
				      "checksum sent", e.ip_ver, port);
			memcpy(tmp, fr, b.out_len);
			tmp[f.l4_off + 6] = tmp[f.l4_off + 7] = 0;
			unsigned alen = e.ip_ver == 4 ? 4 : 16;
			const uint8_t *ts = tmp + f.l3_off +
					    (e.ip_ver == 4 ? 12 : 8);
			if (ps_l4_csum(e.ip_ver, ts, ts + alen,
				       PS_IPPROTO_UDP, tmp + f.l4_off,
				       f.l4_len))
				continue;
			zeros++;
			cr_assert_eq(field, 0xffff, "v%u port %u: a sum of 0 "
				     "sent as %04x", e.ip_ver, port, field);
		}
		cr_assert_geq(zeros, 1, "frame %u: a port giving a sum of 0", k);
	}
	rig_close(&r);
}

