/* test_holds.c: the store's intercept list: the file form (FILE:LINE for
 * every bad line), add, del, clear, a load in parts refused whole or
 * swapped at once, the dataplane's set following every change, 1,000,000
 * holds, the saved list across a reopen, a refused directory fsync, and
 * kill -9 during loads (the old list or the new, never a mix); the set's
 * filter: sized by the count, never forgetting a held waybill (through
 * add, del and load too), and letting few others through; its burst test
 * (AVX2 or portable) agreeing with the one-record test on any hash. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plan_reader.h"
#include "plan_store.h"
#include "ps_fault.h"
#include "ps_hugemem.h"

static char dir[64];

static void mkstate(void)
{
	strcpy(dir, "/tmp/ps-holds-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rmstate(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(holds, .init = mkstate, .fini = rmstate);

static struct ps_store *open_store(int no_fsync, char *warn)
{
	struct ps_store_cfg cfg = { .state_dir = dir, .no_fsync = no_fsync };
	struct ps_errors e;
	char w[512];
	ps_errors_init(&e);
	struct ps_store *s = ps_store_open(&cfg, &e, warn ? warn : w, 512);
	cr_assert_not_null(s, "%s", e.n ? e.msg[0] : "");
	ps_errors_free(&e);
	return s;
}

static void wb_of(uint8_t wb[24], const char *s)
{
	memset(wb, 0, 24);
	memcpy(wb, s, strlen(s));
}

/* Held as the dataplane sees it (the published set). */
static int in_set(struct ps_store *s, const char *w)
{
	uint8_t wb[24];
	wb_of(wb, w);
	return ps_holds_has(rcu_dereference(*ps_store_holds_slot(s)), wb);
}

static size_t set_count(struct ps_store *s)
{
	return ps_holds_count(rcu_dereference(*ps_store_holds_slot(s)));
}

/* A sorted list of the waybills (NULL-terminated), each with note. */
static void list_of(struct ps_hold_list *l, const char *const *w,
		    const char *note)
{
	ps_hold_list_init(l);
	for (; *w; w++) {
		uint8_t wb[24];
		wb_of(wb, *w);
		ps_hold_list_append(l, wb, note, note ? strlen(note) : 0);
	}
	ps_hold_list_sort(l);
}

/* begin, the text in parts of at most `part` bytes cut at line ends,
 * commit: the store's own return, with errs. */
static int load_text(struct ps_store *s, const char *name, const char *text,
		     size_t part, struct ps_errors *e, uint64_t *rev)
{
	uint64_t tok;
	size_t len = strlen(text), off = 0, lines;
	uint32_t line = 1;
	cr_assert_eq(ps_store_hold_load_begin(s, name, &tok), 0);
	while (off < len) {
		size_t n = len - off < part ? len - off : part;
		if (off + n < len) {
			const char *nl = memrchr(text + off, '\n', n);
			cr_assert_not_null(nl, "a line longer than a part");
			n = (size_t)(nl - (text + off)) + 1;
		}
		cr_assert_eq(ps_store_hold_load_part(s, tok, text + off, n,
						     line, &lines, e), 0);
		for (size_t i = 0; i < n; i++)
			line += text[off + i] == '\n';
		off += n;
	}
	return ps_store_hold_load_commit(s, tok, e, rev, NULL);
}

static int has_error(const struct ps_errors *e, const char *want)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msg[i], want))
			return 1;
	return 0;
}

Test(holds, file_form_and_every_bad_line)
{
	struct ps_hold_list l;
	struct ps_errors e;
	char note101[102];
	memset(note101, 'n', 101);
	note101[101] = 0;
	char text[1024];
	snprintf(text, sizeof(text),
		 "# customs\n"
		 "\n"
		 "  SF0000000000601 , cancelled order  \n"
		 "SF0000000000602\n"
		 "sf0000000000603\n"                /* 5: lower case */
		 "SF06\n"                           /* 6: short */
		 "SF0000000000604,%s\n"             /* 7: long note */
		 "SF0000000000605,tab\there\n"      /* 8: control char */
		 "SF0000000000601,the later note\n" /* 9: a repeat */
		 "SF00000000006060000000000000\n",  /* 10: 28 chars */
		 note101);
	ps_hold_list_init(&l);
	ps_errors_init(&e);
	size_t lines = ps_hold_parse(&l, text, strlen(text), "h.txt", 1, &e);
	cr_assert_eq(lines, 10);
	cr_assert_eq(e.n, 5, "%zu errors", e.n);
	cr_assert(has_error(&e, "h.txt:5: waybill character"));
	cr_assert(has_error(&e, "h.txt:6: waybill shorter"));
	cr_assert(has_error(&e, "h.txt:7: note longer"));
	cr_assert(has_error(&e, "h.txt:8: note longer"));
	cr_assert(has_error(&e, "h.txt:10: waybill longer"));
	ps_hold_list_sort(&l);
	cr_assert_eq(l.n, 2);
	uint8_t wb[24];
	wb_of(wb, "SF0000000000601");
	long i = ps_hold_list_find(&l, wb);
	cr_assert_geq(i, 0);
	cr_assert_str_eq(ps_hold_note(&l, (size_t)i), "the later note");
	ps_hold_list_free(&l);
	ps_errors_free(&e);
}

Test(holds, add_del_clear_follow_in_the_set)
{
	struct ps_store *s = open_store(1, NULL);
	struct ps_hold_list a, d;
	struct ps_errors e;
	uint64_t rev = 0;
	static const char *const three[] = { "SF0000000000701", "SF0000000000702",
					     "SF0000000000703", NULL };
	static const char *const two[] = { "SF0000000000702", "SF0000000000799",
					   NULL };
	ps_errors_init(&e);
	cr_assert_eq(set_count(s), 0);
	list_of(&a, three, "cancelled");
	cr_assert_eq(ps_store_hold_add(s, &a, &e, &rev), 0);
	cr_assert_eq(rev, 1);
	cr_assert_eq(set_count(s), 3);
	cr_assert(in_set(s, "SF0000000000702"));
	list_of(&d, two, NULL);
	size_t removed = 0;
	cr_assert_eq(ps_store_hold_del(s, &d, &removed, &e, &rev), 0);
	cr_assert_eq(removed, 1);
	cr_assert_eq(rev, 2);
	cr_assert(!in_set(s, "SF0000000000702"));
	cr_assert(in_set(s, "SF0000000000701") && in_set(s, "SF0000000000703"));
	struct ps_holds_info hi;
	ps_store_holds_info(s, &hi);
	cr_assert_eq(hi.count, 2);
	struct ps_hold_list empty;
	ps_hold_list_init(&empty);
	cr_assert_eq(ps_store_hold_replace(s, &empty, &e, &rev), 0);
	cr_assert_eq(rev, 3);
	cr_assert_eq(set_count(s), 0);
	cr_assert(!in_set(s, "SF0000000000701"));
	ps_hold_list_free(&a);
	ps_hold_list_free(&d);
	ps_errors_free(&e);
	ps_store_close(s);
}

Test(holds, bad_file_refused_whole_old_list_in_force)
{
	struct ps_store *s = open_store(1, NULL);
	struct ps_errors e;
	uint64_t rev;
	ps_errors_init(&e);
	cr_assert_eq(load_text(s, "old.txt", "SF0000000000801\n", 64, &e, &rev),
		     0);
	/* the bad line sits in the third part: its number is the file's */
	const char *bad = "SF0000000000901\nSF0000000000902\n"
			  "SF0000000000903\nSF0000000000904\n"
			  "BAD*ONE\nSF0000000000906\n";
	cr_assert_eq(load_text(s, "new.txt", bad, 40, &e, &rev), -1);
	cr_assert(has_error(&e, "new.txt:5: waybill character"), "%s",
		  e.n ? e.msg[0] : "no error");
	cr_assert(in_set(s, "SF0000000000801"));
	cr_assert(!in_set(s, "SF0000000000901"));
	struct ps_holds_info hi;
	ps_store_holds_info(s, &hi);
	cr_assert_eq(hi.count, 1);
	cr_assert_eq(hi.revision, 1);
	cr_assert(!hi.loading);
	ps_errors_free(&e);
	ps_store_close(s);
}

Test(holds, a_newer_load_drops_an_abandoned_one)
{
	struct ps_store *s = open_store(1, NULL);
	struct ps_errors e;
	uint64_t t1, t2, rev;
	size_t lines;
	ps_errors_init(&e);
	cr_assert_eq(ps_store_hold_load_begin(s, "a", &t1), 0);
	cr_assert_eq(ps_store_hold_load_begin(s, "b", &t2), 0);
	cr_assert_neq(t1, t2);
	cr_assert_eq(ps_store_hold_load_part(s, t1, "SF0000000000001\n", 16, 1,
					     &lines, &e), -1);
	cr_assert_eq(ps_store_hold_load_commit(s, t1, &e, &rev, NULL), -1);
	cr_assert(has_error(&e, "no such hold load"));
	ps_errors_free(&e);
	cr_assert_eq(ps_store_hold_load_commit(s, t2, &e, &rev, NULL), 0);
	ps_store_close(s);
}

Test(holds, saved_and_restored)
{
	struct ps_store *s = open_store(0, NULL);
	struct ps_errors e;
	uint64_t rev;
	ps_errors_init(&e);
	cr_assert_eq(load_text(s, "f", "SF0000000000111,note one\n"
			       "SF0000000000112\n", 1 << 20, &e, &rev), 0);
	ps_store_close(s);
	s = open_store(0, NULL);
	struct ps_hold_list page;
	struct ps_holds_info hi;
	cr_assert_eq(ps_store_hold_page(s, NULL, 10, &page, &hi), 0);
	cr_assert_eq(hi.revision, rev);
	cr_assert_eq(page.n, 2);
	cr_assert_str_eq(ps_hold_note(&page, 0), "note one");
	cr_assert_str_eq(ps_hold_note(&page, 1), "");
	cr_assert(in_set(s, "SF0000000000112"));
	ps_hold_list_free(&page);
	ps_store_close(s);
}

/* hold list's cursor: "more" only when entries follow the page (a page
 * exactly as long as the rest is the last) */
Test(holds, a_page_says_whether_more_follow)
{
	struct ps_store *s = open_store(0, NULL);
	struct ps_errors e;
	uint64_t rev;
	struct ps_hold_list page;
	struct ps_holds_info hi;
	ps_errors_init(&e);
	cr_assert_eq(load_text(s, "f", "SF0000000000121\nSF0000000000122\n"
			       "SF0000000000123\n", 1 << 20, &e, &rev), 0);
	cr_assert_eq(ps_store_hold_page(s, NULL, 2, &page, &hi), 1);
	cr_assert_eq(page.n, 2);
	ps_hold_list_free(&page);
	cr_assert_eq(ps_store_hold_page(s, NULL, 3, &page, &hi), 0);
	cr_assert_eq(page.n, 3);
	ps_hold_list_free(&page);
	cr_assert_eq(ps_store_hold_page(s, (const uint8_t *)
			"SF0000000000122\0\0\0\0\0\0\0\0\0", 1, &page,
			&hi), 0);
	cr_assert_eq(page.n, 1);
	ps_hold_list_free(&page);
	ps_store_close(s);
}

Test(holds, refused_directory_fsync_changes_nothing)
{
	struct ps_store *s = open_store(0, NULL);
	struct ps_hold_list a;
	struct ps_errors e;
	uint64_t rev;
	static const char *const one[] = { "SF0000000000211", NULL };
	static const char *const two[] = { "SF0000000000212", NULL };
	ps_errors_init(&e);
	list_of(&a, one, NULL);
	cr_assert_eq(ps_store_hold_add(s, &a, &e, &rev), 0);
	ps_hold_list_free(&a);
	list_of(&a, two, NULL);
	ps_fault_arm(PS_FAULT_DIR_FSYNC, 0, 1, EIO);
	cr_assert_eq(ps_store_hold_add(s, &a, &e, &rev), -1);
	ps_fault_arm(PS_FAULT_DIR_FSYNC, 0, 0, 0);
	cr_assert(has_error(&e, "refused, the list in force stays"));
	cr_assert(!in_set(s, "SF0000000000212"));
	ps_store_close(s);
	s = open_store(0, NULL);          /* nor on disk */
	cr_assert(in_set(s, "SF0000000000211"));
	cr_assert(!in_set(s, "SF0000000000212"));
	struct ps_holds_info hi;
	ps_store_holds_info(s, &hi);
	cr_assert_eq(hi.revision, 1);
	ps_hold_list_free(&a);
	ps_errors_free(&e);
	ps_store_close(s);
}

static char *million_text(char tag, size_t n, int notes)
{
	char *t = malloc(n * 128 + 1), *p = t;
	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++)
		p += notes ? sprintf(p, "%c%013zu,%0100zu\n", tag, i, i)
			   : sprintf(p, "%c%013zu\n", tag, i);
	return t;
}

Test(holds, one_million_holds, .timeout = 120)
{
	struct ps_store *s = open_store(1, NULL);
	struct ps_errors e;
	uint64_t rev;
	struct timespec t0, t1;
	ps_errors_init(&e);
	char *t = million_text('M', 1000000, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(load_text(s, "m", t, 16u << 20, &e, &rev), 0, "%s",
		     e.n ? e.msg[0] : "");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(t);
	cr_assert_eq(set_count(s), 1000000);
	cr_assert(in_set(s, "M0000000654321"));
	cr_assert(!in_set(s, "M0000001000000"));
	/* not a timing test: the figures for docs/performance.md */
	fprintf(stderr, "holds: 1,000,000 with 100-char notes parsed, sorted, "
		"built, saved (no fsync) and published in %.0f ms; set %zu "
		"bytes and its filter %zu\n", (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		sizeof(uint64_t) * 2 + (size_t)(1u << 21) * 32,
		ps_holds_filter_bytes(rcu_dereference(*ps_store_holds_slot(s))));
	ps_errors_free(&e);
	ps_store_close(s);
}

Test(holds, kill_during_loads_leaves_old_or_new, .timeout = 120)
{
	enum { N_A = 20000, N_B = 30000 };
	char *ta = million_text('A', N_A, 1), *tb = million_text('B', N_B, 0);
	for (int round = 0; round < 6; round++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			struct ps_store_cfg cfg = { .state_dir = dir };
			struct ps_errors e;
			uint64_t rev;
			ps_errors_init(&e);
			struct ps_store *s = ps_store_open(&cfg, &e, NULL, 0);
			for (int i = 0;; i++)
				load_text(s, "k", i & 1 ? tb : ta, 1 << 18, &e,
					  &rev);
		}
		usleep(50000 + (useconds_t)(round * 7919 % 60000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		char warn[512] = "";
		struct ps_store *s = open_store(0, warn);
		cr_assert_eq(warn[0], 0, "%s", warn);
		size_t n = set_count(s);
		cr_assert(n == 0 || n == N_A || n == N_B, "round %d: %zu", round,
			  n);
		if (n == N_A)
			cr_assert(in_set(s, "A0000000000007") &&
				  !in_set(s, "B0000000000007"));
		if (n == N_B)
			cr_assert(in_set(s, "B0000000000007") &&
				  !in_set(s, "A0000000000007"));
		ps_store_close(s);
	}
	free(ta);
	free(tb);
}

/* n distinct waybills of a family (tag), as on the wire. */
static uint8_t (*family(char tag, size_t n))[24]
{
	uint8_t (*w)[24] = calloc(n ? n : 1, 24);
	cr_assert_not_null(w);
	for (size_t i = 0; i < n; i++)
		snprintf((char *)w[i], 24, "%c%c%013zu", tag, 'F',
			 (size_t)(i * 2654435761u % 10000000000000ull));
	return w;
}

Test(holds_filter, never_forgets_and_lets_few_others_through)
{
	static const size_t sizes[] = { 1, 7, 1000, 250000 };
	uint8_t (*other)[24] = family('J', 100000);
	for (unsigned z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		size_t n = sizes[z];
		uint8_t (*w)[24] = family('S', n);
		struct ps_holds *h = ps_holds_build((const uint8_t(*)[24])w, n);
		cr_assert_not_null(h);
		cr_assert_eq(ps_holds_count(h), n);
		for (size_t i = 0; i < n; i++) {
			cr_assert(ps_holds_filter_may_have(h, w[i]),
				  "held waybill %zu of %zu forgotten", i, n);
			cr_assert(ps_holds_has(h, w[i]));
			uint64_t x = ps_holds_hash(w[i]);
			cr_assert(ps_holds_has_hash(h, w[i], x));
		}
		size_t passed = 0, held = 0;
		for (size_t i = 0; i < 100000; i++) {
			passed += (size_t)ps_holds_filter_may_have(h, other[i]);
			held += (size_t)ps_holds_has(h, other[i]);
		}
		cr_assert_eq(held, 0, "a waybill not on the list is not held");
		/* about 16 bits a waybill: well under 1 in 200 pass */
		cr_assert_lt(passed, 500, "%zu of 100000 passed the filter of "
			     "%zu holds", passed, n);
		ps_holds_free(h);
		free(w);
	}
	free(other);
}

Test(holds_filter, sized_by_the_count)
{
	size_t prev = 0;
	static const size_t sizes[] = { 0, 1, 100, 10000, 1000000 };
	for (unsigned z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		size_t n = sizes[z];
		uint8_t (*w)[24] = family('S', n);
		struct ps_holds *h = ps_holds_build((const uint8_t(*)[24])w, n);
		cr_assert_not_null(h);
		size_t bytes = ps_holds_filter_bytes(h);
		cr_assert_geq(bytes, 64, "one block at least");
		cr_assert_geq(bytes * 8, n * 16, "16 bits a waybill or more");
		cr_assert_leq(bytes, 64 + n * 4, "at most twice that (a power "
			      "of two): %zu bytes for %zu", bytes, n);
		cr_assert_geq(bytes, prev, "grows with the count");
		prev = bytes;
		ps_holds_free(h);
		free(w);
	}
	cr_assert_leq(prev, 4u << 20, "a million holds: a cache-sized filter");
	cr_assert_eq(ps_holds_filter_bytes(NULL), 0);
}

/* Every change builds a new set and filter: what is held after add, del
 * and load is intercepted, what was taken off is not. */
Test(holds, filter_follows_add_del_and_load)
{
	struct ps_store *s = open_store(1, NULL);
	struct ps_errors e;
	uint64_t rev;
	ps_errors_init(&e);
	char *t = million_text('A', 20000, 0);
	cr_assert_eq(load_text(s, "a", t, 1u << 20, &e, &rev), 0);
	free(t);
	char w[32];
	for (size_t i = 0; i < 20000; i++) {
		snprintf(w, sizeof(w), "A%013zu", i);
		cr_assert(in_set(s, w), "%s loaded, not intercepted", w);
	}
	/* add 3,000 more, then take 1,000 of the first off */
	struct ps_hold_list a, d;
	ps_hold_list_init(&a);
	ps_hold_list_init(&d);
	for (size_t i = 0; i < 3000; i++) {
		uint8_t wb[24];
		snprintf(w, sizeof(w), "B%013zu", i);
		wb_of(wb, w);
		ps_hold_list_append(&a, wb, NULL, 0);
	}
	for (size_t i = 0; i < 1000; i++) {
		uint8_t wb[24];
		snprintf(w, sizeof(w), "A%013zu", i * 7);
		wb_of(wb, w);
		ps_hold_list_append(&d, wb, NULL, 0);
	}
	ps_hold_list_sort(&a);
	ps_hold_list_sort(&d);
	cr_assert_eq(ps_store_hold_add(s, &a, &e, &rev), 0);
	size_t removed;
	cr_assert_eq(ps_store_hold_del(s, &d, &removed, &e, &rev), 0);
	cr_assert_eq(removed, 1000);
	cr_assert_eq(set_count(s), 22000);
	for (size_t i = 0; i < 20000; i++) {
		snprintf(w, sizeof(w), "A%013zu", i);
		cr_assert_eq(in_set(s, w), i % 7 != 0 || i / 7 >= 1000,
			     "%s after del", w);
	}
	for (size_t i = 0; i < 3000; i++) {
		snprintf(w, sizeof(w), "B%013zu", i);
		cr_assert(in_set(s, w), "%s added, not intercepted", w);
	}
	/* a load replaces the whole list */
	t = million_text('C', 5000, 1);
	cr_assert_eq(load_text(s, "c", t, 1u << 20, &e, &rev), 0);
	free(t);
	for (size_t i = 0; i < 5000; i++) {
		snprintf(w, sizeof(w), "C%013zu", i);
		cr_assert(in_set(s, w), "%s loaded, not intercepted", w);
	}
	cr_assert(!in_set(s, "A0000000000001"));
	cr_assert(!in_set(s, "B0000000000001"));
	ps_hold_list_free(&a);
	ps_hold_list_free(&d);
	ps_errors_free(&e);
	ps_store_close(s);
}

/* The burst test (AVX2 where the CPU has it) answers as the one-record
 * portable test does, for held waybills and others, and through the
 * record list it is given (the entries not listed are not written). */
Test(holds_filter, burst_test_agrees_with_the_portable_one)
{
	enum { N = 5000, M = 4096 };
	uint8_t (*w)[24] = family('S', N), (*other)[24] = family('Q', M);
	struct ps_holds *h = ps_holds_build((const uint8_t(*)[24])w, N);
	cr_assert_not_null(h);
	static uint64_t hash[M];
	static uint8_t fast[M], slow[M];
	static uint16_t at[M / 2];
	for (unsigned i = 0; i < M; i++)   /* held and not, mixed */
		hash[i] = ps_holds_hash(i & 1 ? other[i] : w[i % N]);
	ps_holds_filter_burst(h, hash, NULL, M, fast);
	ps_holds_filter_burst_portable(h, hash, NULL, M, slow);
	size_t passed = 0;
	for (unsigned i = 0; i < M; i++) {
		const uint8_t *wb = i & 1 ? other[i] : w[i % N];
		cr_assert_eq(fast[i], slow[i], "record %u", i);
		cr_assert_eq(fast[i], ps_holds_filter_may_have(h, wb));
		if (!(i & 1))
			cr_assert_eq(fast[i], 1, "held waybill %u forgotten", i);
		else
			passed += fast[i];
	}
	cr_assert_lt(passed, 20, "%zu of %u others passed", passed, M / 2);
	memset(fast, 0xee, sizeof(fast));
	for (unsigned i = 0; i < M / 2; i++)
		at[i] = (uint16_t)(M - 1 - 2 * i);      /* the odd ones */
	ps_holds_filter_burst(h, hash, at, M / 2, fast);
	for (unsigned i = 0; i < M; i++)
		cr_assert_eq(fast[i], i & 1 ? slow[i] : 0xee, "record %u", i);
	ps_holds_free(h);
	free(w);
	free(other);
}

/* Both forms of the burst test agree on any hash, not only a waybill's:
 * the low half 0, all ones, a top bit set (the AVX2 multiply is signed in
 * name), a high half selecting the last block; over the filter of a few
 * thousand holds (many bits set) and a nearly empty one; for burst
 * lengths that are multiples of nothing. The form the CPU check chose and
 * the portable one forced give the same answers. */
Test(holds_filter, burst_forms_agree_on_edge_hashes)
{
	enum { M = 512 };
	static const size_t sizes[] = { 1, 3000 };
	static uint64_t hash[M];
	static uint8_t fast[M], slow[M], forced[M];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < M; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		static const uint64_t lo[] = { 0, 1, 0xffffffffu, 0x80000000u,
					       0x7fffffffu };
		hash[i] = i % 3 == 0 ? (x & ~0xffffffffull) | lo[i / 3 % 5]
			: i % 3 == 1 ? x | 0xffffffff00000000ull : x;
	}
	hash[0] = 0;
	hash[1] = ~0ull;
	for (unsigned z = 0; z < 2; z++) {
		uint8_t (*w)[24] = family('E', sizes[z]);
		struct ps_holds *h = ps_holds_build((const uint8_t(*)[24])w,
						    sizes[z]);
		cr_assert_not_null(h);
		static const unsigned lens[] = { 1, 3, 7, 9, 31, 33, M };
		for (unsigned l = 0; l < 7; l++) {
			unsigned n = lens[l];
			memset(fast, 0xee, sizeof(fast));
			ps_holds_filter_burst(h, hash, NULL, n, fast);
			ps_holds_filter_burst_portable(h, hash, NULL, n, slow);
			int simd = h->simd;
			h->simd = 0;
			ps_holds_filter_burst(h, hash, NULL, n, forced);
			h->simd = simd;
			for (unsigned i = 0; i < n; i++) {
				cr_assert_eq(fast[i], slow[i], "size %zu len %u "
					     "hash %#llx", sizes[z], n,
					     (unsigned long long)hash[i]);
				cr_assert_eq(forced[i], slow[i]);
				cr_assert_eq(slow[i],
					     ps_holds_filter_hash(h, hash[i]));
			}
			for (unsigned i = n; i < M; i++)
				cr_assert_eq(fast[i], 0xee, "past the burst");
		}
		/* every held waybill's own hash passes both */
		for (size_t i = 0; i < sizes[z]; i++) {
			uint64_t y = ps_holds_hash(w[i]);
			uint8_t a = 0, b = 0;
			ps_holds_filter_burst(h, &y, NULL, 1, &a);
			ps_holds_filter_burst_portable(h, &y, NULL, 1, &b);
			cr_assert(a && b, "held waybill %zu forgotten", i);
		}
		ps_holds_free(h);
		free(w);
	}
}

/* Large tables come from mmap on 2 MB boundaries with huge pages asked
 * for, zeroed, every byte of them usable; not from the allocator, whose
 * recycled memory may already be faulted in as 4 KB pages. Small ones get
 * a plain mapping. */
Test(hugemem, aligned_zeroed_and_advised)
{
	size_t bytes = 3 * PS_HUGE_PAGE + 1;
	uint8_t *p = ps_huge_alloc(bytes);
	cr_assert_not_null(p);
	cr_assert_eq((uintptr_t)p % PS_HUGE_PAGE, 0, "on a 2 MB boundary");
	for (size_t i = 0; i < 4 * PS_HUGE_PAGE; i += 4096)
		cr_assert_eq(p[i] | p[i + 4095], 0, "zeroed at %zu", i);
	memset(p, 0xa5, 4 * PS_HUGE_PAGE);       /* all of it ours */
	if (ps_huge_supported()) {
		cr_assert(ps_huge_advised(p), "MADV_HUGEPAGE on the mapping");
		cr_assert(ps_huge_advised(p + 4 * PS_HUGE_PAGE - 1),
			  "rounded up to whole 2 MB pages, all advised");
	}
	ps_huge_free(p, bytes);
	uint8_t *q = ps_huge_alloc(5000);
	cr_assert_not_null(q);
	cr_assert_eq(q[0] | q[4999], 0);
	memset(q, 1, 5000);
	cr_assert_not(ps_huge_advised(q), "a small table: a plain mapping");
	ps_huge_free(q, 5000);
	ps_huge_free(NULL, 0);
	errno = 0;
	cr_assert_null(ps_huge_alloc(0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(ps_huge_alloc(SIZE_MAX - 4096),
		       "a size that overflows is refused, not wrapped");
	cr_assert_eq(errno, ENOMEM);
}

/* A table made resident at once: every page in memory before anything
 * reads it (mincore), still zero. */
Test(hugemem, populate_makes_every_page_resident)
{
	static const size_t sizes[] = { 5000, 2 * PS_HUGE_PAGE + 4096 };
	for (unsigned z = 0; z < 2; z++) {
		size_t bytes = sizes[z];
		size_t pg = (size_t)sysconf(_SC_PAGESIZE);
		size_t len = bytes < PS_HUGE_PAGE ? (bytes + pg - 1) / pg * pg
			     : 3 * PS_HUGE_PAGE;
		uint8_t *p = ps_huge_alloc(bytes);
		cr_assert_not_null(p);
		unsigned char *vec = malloc(len / pg);
		cr_assert_not_null(vec);
		cr_assert_eq(ps_huge_populate(p, bytes), 0, "%s",
			     strerror(errno));
		cr_assert_eq(mincore(p, len, vec), 0);
		for (size_t i = 0; i < len / pg; i++)
			cr_assert(vec[i] & 1, "page %zu of %zu resident", i,
				  len / pg);
		for (size_t i = 0; i < len; i += pg)
			cr_assert_eq(p[i], 0);
		free(vec);
		ps_huge_free(p, bytes);
	}
}

/* A million holds: the filter and the table each on 2 MB pages where the
 * kernel gives them (the filter one TLB entry); a small list stays in
 * the allocator's memory. */
Test(holds_filter, a_large_filter_asks_for_huge_pages)
{
	size_t n = 1000000;
	uint8_t (*w)[24] = family('H', n);
	struct ps_holds *h = ps_holds_build((const uint8_t(*)[24])w, n);
	cr_assert_not_null(h);
	cr_assert_eq((uintptr_t)h->slot % 64, 0, "slots never across a line");
#if !defined(__SANITIZE_ADDRESS__)      /* there: the allocator's redzones */
	cr_assert_eq((uintptr_t)h->filter % PS_HUGE_PAGE, 0);
	cr_assert_eq((uintptr_t)h % PS_HUGE_PAGE, 0);
	if (ps_huge_supported()) {
		cr_assert(ps_huge_advised(h->filter));
		cr_assert(ps_huge_advised(h));
	}
#endif
	cr_assert(ps_holds_has(h, w[n - 1]));
	ps_holds_free(h);
	struct ps_holds *s = ps_holds_build((const uint8_t(*)[24])w, 10);
	cr_assert_not_null(s);
	cr_assert_not(ps_huge_advised(s->filter));
	cr_assert(ps_holds_has(s, w[9]));
	cr_assert_not(ps_holds_has(s, w[10]));
	ps_holds_free(s);
	free(w);
}
