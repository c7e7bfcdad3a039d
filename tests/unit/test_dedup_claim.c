/* test_dedup_claim.c: the duplicate window's claim, with another core's
 * turn played at the one instant a real race would need: between an
 * insert's choice of a slot and its compare-and-swap on it. dedup.c is
 * compiled into this test with a hook there (PS_DEDUP_TEST_BEFORE_CLAIM);
 * the dataplane's build has none. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

struct ps_dedup;
struct choice;
static void before_claim(struct ps_dedup *d, const struct choice *c);
#define PS_DEDUP_TEST_BEFORE_CLAIM(d, c) before_claim(d, c)
#include "../../dataplane/dedup.c"

static struct ps_chute_state cs;
static uint8_t v_wb[24];
static int hook_armed, hook_ran;
static enum ps_dedup_result hook_result;

static void wbf(uint8_t *wb, unsigned i)
{
	memset(wb, 0, 24);
	snprintf((char *)wb, 24, "SF%013u", i);
}

/* The next waybill from *from on whose own bucket is own and, when alt is
 * not -1, whose second bucket is alt. */
static unsigned find_wb(const struct ps_dedup *d, uint64_t own, int64_t alt,
		     unsigned *from, uint8_t *wb)
{
	for (;; (*from)++) {
		wbf(wb, *from);
		uint64_t h = ps_dedup_hash(wb);
		if (ps_dedup_bucket(d, h) == own &&
		    (alt < 0 || ps_dedup_alt_bucket(d, h) == (uint64_t)alt))
			return (*from)++;
	}
}

/* The other core: V, remembered with the not-discharged mark, is decided
 * afresh (chute 7) and its entry replaced where it lives, in the same
 * second, after the insert under test chose V's slot as its bucket's
 * oldest. */
static void before_claim(struct ps_dedup *d, const struct choice *c)
{
	(void)c;
	if (!hook_armed)
		return;
	hook_armed = 0;
	hook_ran = 1;
	struct ps_decision dec = { .chute = 7 }, out;
	int ev;
	hook_result = ps_dedup_insert(d, ps_dedup_hash(v_wb), v_wb, 100, &dec,
				      &cs, &out, &ev);
}

Test(dedup_claim, an_entry_rewritten_in_place_after_the_choice_is_not_evicted)
{
	struct ps_dedup d;
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 32, 600), 0);   /* four buckets */
	const uint64_t A = 0, C = 1;
	struct ps_decision dec = { .chute = 5 }, out;
	uint8_t wb[24], x_wb[24];
	unsigned from = 0;
	int ev;
	/* C full, then V (own bucket C, second A) spills into A */
	for (int k = 0; k < PS_DEDUP_WAYS; k++) {
		find_wb(&d, C, -1, &from, wb);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 100,
					     &dec, &cs, &out, &ev), PS_DEDUP_MISS);
	}
	unsigned f = from;
	find_wb(&d, C, (int64_t)A, &f, v_wb);
	uint64_t hv = ps_dedup_hash(v_wb);
	cr_assert_eq(ps_dedup_insert(&d, hv, v_wb, 100, &dec, &cs, &out, &ev),
		     PS_DEDUP_MISS);
	cr_assert_eq(d.head[A].spilled_in, 1, "V went to its second bucket");
	/* A full: V first (the oldest), seven of A's own after it */
	f = from + 1000;
	for (int k = 1; k < PS_DEDUP_WAYS; k++) {
		find_wb(&d, A, -1, &f, wb);
		cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(wb), wb, 100,
					     &dec, &cs, &out, &ev), PS_DEDUP_MISS);
		cr_assert_eq(ev, 0);
	}
	/* V went round: its entry carries the mark, so a scan decides it
	 * afresh */
	struct ps_dedup_entry was;
	cr_assert_eq(ps_dedup_sort_result(&d, hv, v_wb, 100, PS_SORT_CHUTE_FULL,
					  &was), PS_DEDUP_HIT);
	/* X (own bucket A, second C: full) evicts A's oldest; V is re-decided
	 * by the other core between X's choice and its claim */
	f = from + 2000;
	find_wb(&d, A, (int64_t)C, &f, x_wb);
	hook_armed = 1;
	cr_assert_eq(ps_dedup_insert(&d, ps_dedup_hash(x_wb), x_wb, 100, &dec,
				     &cs, &out, &ev), PS_DEDUP_MISS);
	cr_assert(hook_ran);
	cr_assert_eq(hook_result, PS_DEDUP_MISS, "V decided afresh");
	cr_assert_eq(ev, 1, "X evicted an entry");
	struct ps_dedup_entry e;
	cr_assert_eq(ps_dedup_lookup_entry(&d, hv, v_wb, 100, &e), PS_DEDUP_HIT,
		     "V's new decision was overwritten by X");
	cr_assert_eq(e.dec.chute, 7);
	cr_assert_eq(e.rounds, 1, "V's rounds kept");
	cr_assert_eq(ps_dedup_lookup(&d, ps_dedup_hash(x_wb), x_wb, 100, &out),
		     PS_DEDUP_HIT);
	ps_dedup_free(&d);
}
