/* test_plan_diff.c: `plan diff` (control/plan_diff.c) on long chute lists:
 * lists are compared element by element over their full length and shown
 * whole, however far past the first kilobytes a change lies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_diff.h"

#define BASE "plan a\nsite 1 33\nreject 9\nhub 1 trunk T\nhub 2 county C\n"
#define LONG 2000           /* chutes 10000..11999: about 12 KB of text */

static struct ps_plan_src parse(const char *text)
{
	struct ps_plan_src p;
	struct ps_errors e;
	ps_plan_src_init(&p);
	ps_errors_init(&e);
	cr_assert_eq(ps_plan_parse(&p, text, strlen(text), "t", &e), 0, "%s",
		     e.n ? e.msg[0] : "");
	ps_errors_free(&e);
	return p;
}

/* "10000,10001,...,11999" with the chutes at positions i and j swapped
 * (i == j: none), extra appended when nonzero. */
static char *long_list(unsigned i, unsigned j, unsigned extra)
{
	static unsigned c[LONG];
	char *s = malloc(LONG * 6 + 16), *w = s;
	cr_assert_not_null(s);
	for (unsigned k = 0; k < LONG; k++)
		c[k] = 10000 + k;
	unsigned t = c[i];
	c[i] = c[j];
	c[j] = t;
	for (unsigned k = 0; k < LONG; k++)
		w += sprintf(w, k ? ",%u" : "%u", c[k]);
	if (extra)
		sprintf(w, ",%u", extra);
	return s;
}

/* A plan from BASE, a route 11 (chute 12000), the lines in before, then
 * one line "HEAD LIST TAIL". */
static struct ps_plan_src plan_with(const char *before, const char *head,
				    const char *list, const char *tail)
{
	size_t cap = strlen(before) + strlen(head) + strlen(list) +
		     strlen(tail) + sizeof(BASE) + 64;
	char *text = malloc(cap);
	cr_assert_not_null(text);
	snprintf(text, cap, BASE "route 11 2 12000\n%s%s%s%s\n", before, head,
		 list, tail);
	struct ps_plan_src p = parse(text);
	free(text);
	return p;
}

static long diff(const struct ps_plan_src *a, const struct ps_plan_src *b,
		 int json, struct ps_out *o)
{
	ps_out_init(o);
	long n = ps_plan_diff(a, b, o, json);
	cr_assert(!o->oom);
	return n;
}

/* The line "HEAD LIST TAIL" differs only in its list: one change, shown
 * as the old and the new line, each in full. */
static void assert_changed(const char *before, const char *head,
			   const char *tail, const char *la, const char *lb)
{
	struct ps_plan_src a = plan_with(before, head, la, tail),
			   b = plan_with(before, head, lb, tail);
	struct ps_out o;
	cr_assert_eq(diff(&a, &b, 0, &o), 1, "%.300s", o.buf ? o.buf : "");
	size_t cap = 2 * (strlen(head) + strlen(tail)) + strlen(la) +
		     strlen(lb) + 16;
	char *want = malloc(cap);
	cr_assert_not_null(want);
	snprintf(want, cap, "~ %s%s%s -> %s%s%s\n", head, la, tail, head, lb,
		 tail);
	cr_assert(strstr(o.buf, want), "the whole lines, not: %.300s", o.buf);
	ps_out_free(&o);
	cr_assert_eq(diff(&a, &b, 1, &o), 1);
	cr_assert(strstr(o.buf, "\"differences\":1}"), "%.300s", o.buf);
	want[strlen(want) - 1] = 0;
	cr_assert(strstr(o.buf, want + 2), "JSON has the whole lines");
	ps_out_free(&o);
	free(want);
	ps_plan_src_free(&a);
	ps_plan_src_free(&b);
}

Test(plan_diff, route_list_changed_past_4kb_is_a_change)
{
	/* regression (#12): lists were rendered into 4 KB and compared as
	 * text; two chutes swapped at positions 1900/1901 (about 11 KB in)
	 * gave "no difference" */
	char *a = long_list(0, 0, 0), *b = long_list(1900, 1901, 0);
	assert_changed("", "route 33 1 ", "", a, b);
	free(a);
	free(b);
}

Test(plan_diff, route_list_longer_past_4kb_is_a_change)
{
	/* one chute more at the end (a chute another route uses already) */
	char *a = long_list(0, 0, 0), *b = long_list(0, 0, 12000);
	assert_changed("", "route 33 1 ", "", a, b);
	free(a);
	free(b);
}

Test(plan_diff, rule_and_default_lists_compared_in_full)
{
	/* the default was compared through 128 bytes of text */
	char *a = long_list(0, 0, 0), *b = long_list(LONG - 2, LONG - 1, 0);
	assert_changed("route 33 1 5\n", "rule 7 2 ", " carrier=SF", a, b);
	assert_changed("route 33 1 5\n", "default 2 ", "", a, b);
	free(a);
	free(b);
}

Test(plan_diff, identical_long_lists_are_no_difference)
{
	char *a = long_list(1900, 1901, 0), *b = long_list(1900, 1901, 0);
	struct ps_plan_src pa = plan_with("", "route 33 1 ", a, ""),
			   pb = plan_with("", "route 33 1 ", b, "");
	struct ps_out o;
	cr_assert_eq(diff(&pa, &pb, 0, &o), 0, "%.300s", o.buf ? o.buf : "");
	ps_out_free(&o);
	cr_assert_eq(diff(&pa, &pb, 1, &o), 0);
	cr_assert(strstr(o.buf, "\"differences\":0}"), "%.300s", o.buf);
	ps_out_free(&o);
	ps_plan_src_free(&pa);
	ps_plan_src_free(&pb);
	free(a);
	free(b);
}

Test(plan_diff, added_long_route_is_shown_whole)
{
	char *a = long_list(0, 0, 0);
	struct ps_plan_src pa = parse(BASE "route 11 2 12000\n"),
			   pb = plan_with("", "route 33 1 ", a, "");
	struct ps_out o;
	/* the route, and the 2000 chutes it starts using */
	cr_assert_eq(diff(&pa, &pb, 0, &o), 1 + LONG);
	size_t cap = strlen(a) + 32;
	char *want = malloc(cap);
	cr_assert_not_null(want);
	snprintf(want, cap, "+ route 33 1 %s\n", a);
	cr_assert(strstr(o.buf, want), "%.300s", o.buf);
	ps_out_free(&o);
	free(want);
	ps_plan_src_free(&pa);
	ps_plan_src_free(&pb);
	free(a);
}
