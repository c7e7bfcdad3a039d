/* test_manifest.c: the manifest (manifest/): add, replace, remove, lookup
 * and burst lookup; TTL lapse on an injected clock; a full table reported
 * and counted; readers racing the writer never see a torn or foreign
 * region, nor a replaced entry's region with another version's expiry;
 * the file form's every error as FILE:LINE, bounded; loads refused whole; replace swapping at once; the snapshot and log surviving a
 * restart; a refused directory fsync; kill -9 during loads; loads in
 * parts; an empty manifest of 16 Mi entries costing next to nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manifest.h"
#include "manifest_parse.h"
#include "ps_fault.h"
#include "ps_wire.h"

static char dir[64];
static uint64_t fake_now = 1000000;

static uint64_t clock_fn(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

static void mkstate(void)
{
	strcpy(dir, "/tmp/ps-manifest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	fake_now = 1000000;
}

static void rmstate(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(manifest, .init = mkstate, .fini = rmstate);

static struct ps_manifest *open_m(uint64_t cap, int saved)
{
	struct ps_manifest_cfg cfg = { .capacity = cap, .ttl_ms = 10000,
				       .state_dir = saved ? dir : NULL,
				       .no_fsync = 1, .now_ms = clock_fn };
	char err[512] = "";
	struct ps_manifest *m = ps_manifest_open(&cfg, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	return m;
}

static void wb_of(uint8_t *wb, unsigned i)
{
	char t[32];
	snprintf(t, sizeof(t), "PS%010u", i);
	memset(wb, 0, 24);
	memcpy(wb, t, strlen(t));
}

static uint64_t get(struct ps_manifest *m, unsigned i)
{
	uint8_t wb[24];
	wb_of(wb, i);
	return ps_manifest_get(m, wb, clock_fn());
}

static int add(struct ps_manifest *m, unsigned i, uint64_t region)
{
	uint8_t wb[24];
	char err[256];
	wb_of(wb, i);
	return ps_manifest_add(m, wb, region, err, sizeof(err));
}

static int load_text(struct ps_manifest *m, const char *text, int replace,
		     struct ps_errors *e, struct ps_manifest_load_result *r)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	cr_assert_not_null(f);
	int rc = ps_manifest_load(m, f, "m.csv", replace, e, r);
	fclose(f);
	return rc;
}

Test(manifest, add_replace_remove_lookup)
{
	struct ps_manifest *m = open_m(1000, 0);
	cr_assert_eq(get(m, 1), 0);
	cr_assert_eq(add(m, 1, 110000000001ull), PS_MF_OK);
	cr_assert_eq(add(m, 2, 110000000002ull), PS_MF_OK);
	cr_assert_eq(get(m, 1), 110000000001ull);
	cr_assert_eq(get(m, 2), 110000000002ull);
	cr_assert_eq(add(m, 1, 990000000001ull), PS_MF_OK);
	cr_assert_eq(get(m, 1), 990000000001ull);
	uint8_t wb[2][24];
	const uint8_t *wbs[2] = { wb[0], wb[1] };
	wb_of(wb[0], 1);
	wb_of(wb[1], 3);
	unsigned removed;
	char err[256];
	cr_assert_eq(ps_manifest_del(m, wbs, 2, &removed, err, sizeof(err)),
		     PS_MF_OK);
	cr_assert_eq(removed, 1);
	cr_assert_eq(get(m, 1), 0);
	cr_assert_eq(get(m, 2), 110000000002ull);
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.capacity, 1000);
	ps_manifest_close(m);
}

Test(manifest, many_entries_and_burst_lookup)
{
	struct ps_manifest *m = open_m(5000, 0);
	for (unsigned i = 0; i < 5000; i++)
		cr_assert_eq(add(m, i, 110000000000ull + i), PS_MF_OK);
	/* remove every third and put half of them back: the overflow chains
	 * must still lead to every entry */
	for (unsigned i = 0; i < 5000; i += 3) {
		uint8_t wb[24];
		const uint8_t *p = wb;
		unsigned r;
		char err[64];
		wb_of(wb, i);
		cr_assert_eq(ps_manifest_del(m, &p, 1, &r, err, sizeof(err)), 0);
		cr_assert_eq(r, 1);
	}
	for (unsigned i = 0; i < 5000; i += 6)
		cr_assert_eq(add(m, i, 220000000000ull + i), PS_MF_OK);
	uint8_t wb[100][24];
	const uint8_t *wbs[100];
	uint64_t regions[100];
	for (unsigned base = 0; base < 5000; base += 100) {
		for (unsigned j = 0; j < 100; j++) {
			wb_of(wb[j], base + j);
			wbs[j] = wb[j];
		}
		ps_manifest_get_burst(m, wbs, 100, clock_fn(), regions);
		for (unsigned j = 0; j < 100; j++) {
			unsigned i = base + j;
			uint64_t want = i % 6 == 0 ? 220000000000ull + i :
					i % 3 == 0 ? 0 : 110000000000ull + i;
			cr_assert_eq(regions[j], want, "waybill %u", i);
			cr_assert_eq(get(m, i), want);
		}
	}
	cr_assert_eq(get(m, 999999), 0);
	ps_manifest_close(m);
}

Test(manifest, entries_lapse_after_the_ttl)
{
	struct ps_manifest *m = open_m(10, 0);
	cr_assert_eq(add(m, 1, 110000000001ull), 0);
	fake_now += 6000;
	cr_assert_eq(add(m, 2, 110000000002ull), 0);
	fake_now += 4000;                 /* entry 1 is 10 s old: lapsed */
	cr_assert_eq(get(m, 1), 0);
	cr_assert_eq(get(m, 2), 110000000002ull);
	cr_assert_eq(add(m, 2, 110000000003ull), 0);  /* renewed */
	fake_now += 9000;
	cr_assert_eq(get(m, 2), 110000000003ull);
	fake_now += 1000;
	cr_assert_eq(get(m, 2), 0);
	cr_assert_eq(ps_manifest_expire(m), 2);
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	cr_assert_eq(st.entries, 0);
	ps_manifest_close(m);
}

Test(manifest, a_full_table_is_reported_and_counted)
{
	struct ps_manifest *m = open_m(4, 0);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(add(m, i, 110000000000ull + i), 0);
	cr_assert_eq(add(m, 4, 110000000004ull), PS_MF_FULL);
	cr_assert_eq(get(m, 4), 0);
	cr_assert_eq(add(m, 3, 110000000033ull), PS_MF_OK); /* replace fits */
	/* a load that would exceed: refused whole, nothing changed */
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, "PS0000000000,330000000000\n"
			       "PS0000000009,330000000009\n", 0, &e, &r),
		     PS_MF_FULL);
	cr_assert_eq(e.n, 1);
	cr_assert(strstr(e.msg[0], "exceed the capacity"), "%s", e.msg[0]);
	cr_assert_eq(get(m, 0), 110000000000ull);
	ps_errors_free(&e);
	/* a replace with more distinct waybills than the capacity */
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, "PS0000000010,110000000000\n"
			       "PS0000000011,110000000000\n"
			       "PS0000000012,110000000000\n"
			       "PS0000000013,110000000000\n"
			       "PS0000000014,110000000000\n", 1, &e, &r),
		     PS_MF_FULL);
	cr_assert_eq(get(m, 1), 110000000001ull);
	ps_errors_free(&e);
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	cr_assert_eq(st.refused_full, 3);
	cr_assert_eq(st.entries, 4);
	/* lapsed entries make room */
	fake_now += 20000;
	cr_assert_eq(add(m, 4, 110000000004ull), PS_MF_OK);
	ps_manifest_close(m);
}

/* ---- readers racing the writer ---- */

#define RACE_KEYS 64
static volatile int race_stop;
static struct ps_manifest *race_m;

/* A region says which waybill it belongs to: 11 + key (4 digits) + a
 * version (6 digits). */
static uint64_t race_region(unsigned key, unsigned version)
{
	return 110000000000ull + (uint64_t)key * 1000000 + version % 1000000;
}

static void *race_reader(void *arg)
{
	uint8_t wb[RACE_KEYS][24];
	const uint8_t *wbs[RACE_KEYS];
	uint64_t regions[RACE_KEYS];
	long bad = 0;
	(void)arg;
	for (unsigned i = 0; i < RACE_KEYS; i++) {
		wb_of(wb[i], i);
		wbs[i] = wb[i];
	}
	while (!race_stop) {
		ps_manifest_get_burst(race_m, wbs, RACE_KEYS, 1, regions);
		for (unsigned i = 0; i < RACE_KEYS; i++) {
			uint64_t r = regions[i];
			if (r && (r - 110000000000ull) / 1000000 != i)
				bad++;
			r = ps_manifest_get(race_m, wb[i], 1);
			if (r && (r - 110000000000ull) / 1000000 != i)
				bad++;
		}
	}
	return (void *)bad;
}

Test(manifest, readers_never_see_a_torn_or_foreign_region, .timeout = 60)
{
	struct ps_manifest_cfg cfg = { .capacity = RACE_KEYS, .ttl_ms = 1000 };
	char err[256];
	/* capacity = the keys: the buckets are crowded, entries overflow and
	 * freed entries are reused at once by other waybills */
	race_m = ps_manifest_open(&cfg, err, sizeof(err));
	cr_assert_not_null(race_m);
	race_stop = 0;
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, race_reader, NULL), 0);
	uint8_t wb[24];
	/* half the keys present; each step removes one and adds another,
	 * which takes the entry just freed (the free list is LIFO): a reader
	 * still holding it must notice */
	for (unsigned key = 0; key < RACE_KEYS; key += 2) {
		wb_of(wb, key);
		cr_assert_eq(ps_manifest_add(race_m, wb, race_region(key, 0),
					     err, sizeof(err)), 0);
	}
	for (unsigned v = 0; v < 1000000; v++) {
		unsigned key = (v * 2u) % RACE_KEYS;
		const uint8_t *p = wb;
		unsigned r;
		wb_of(wb, key);
		ps_manifest_del(race_m, &p, 1, &r, err, sizeof(err));
		wb_of(wb, key + 1);
		cr_assert_eq(ps_manifest_add(race_m, wb,
					     race_region(key + 1, v), err,
					     sizeof(err)), 0);
		ps_manifest_del(race_m, &p, 1, &r, err, sizeof(err));
		wb_of(wb, key);
		cr_assert_eq(ps_manifest_add(race_m, wb, race_region(key, v),
					     err, sizeof(err)), 0);
	}
	race_stop = 1;
	void *bad;
	pthread_join(th, &bad);
	cr_assert_eq((long)bad, 0, "%ld foreign regions read", (long)bad);
	ps_manifest_close(race_m);
}

/* ---- the file form ---- */

static void expect_error(const char *text, const char *want)
{
	struct ps_manifest *m = open_m(100, 0);
	cr_assert_eq(add(m, 7, 110000000007ull), 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, text, 1, &e, &r), PS_MF_INVALID, "%s", text);
	cr_assert_eq(e.n, 1, "%s", text);
	cr_assert(strstr(e.msg[0], want), "got '%s', want '%s'", e.msg[0],
		  want);
	cr_assert_eq(get(m, 7), 110000000007ull);  /* the old one stays */
	ps_errors_free(&e);
	ps_manifest_close(m);
}

Test(manifest, every_parse_error_with_file_and_line)
{
	char s10[64], line[400];
	char digits[] = "12345678";
	unsigned d = ps_s10_check_digit(digits);
	expect_error("PS0000000001,110000000001\nPS0000000002\n",
		     "m.csv:2: expected WAYBILL,REGION");
	expect_error("PS0000000001,110000000001,x\n",
		     "m.csv:1: expected WAYBILL,REGION (more than one comma)");
	expect_error("\n\n ,110000000001\n", "m.csv:3: empty waybill");
	expect_error("PS00000000010000000000001,110000000001\n",
		     "m.csv:1: waybill longer than 24 characters");
	expect_error("PS0001,110000000001\n",
		     "m.csv:1: waybill shorter than 8 characters");
	expect_error("ps00000001,110000000001\n",
		     "m.csv:1: waybill has a character outside 0-9 A-Z -");
	snprintf(s10, sizeof(s10), "RR%s%uCN,110000000001\n", digits,
		 (d + 1) % 10);
	expect_error(s10, "m.csv:1: waybill has a wrong S10 check digit");
	expect_error("PS0000000001,11000000000\n",
		     "m.csv:1: region must be 12 digits");
	expect_error("PS0000000001,11000000000A\n",
		     "m.csv:1: region must be 12 digits");
	expect_error("PS0000000001,100000000000\n",
		     "m.csv:1: region out of range");
	memset(line, 'A', sizeof(line));
	line[300] = '\n';
	line[301] = 0;
	expect_error(line, "m.csv:1: line longer than 256 bytes");
	expect_error("PS00000\0001,110000000001\n", "m.csv:1:");
	{
		/* a NUL inside the line (fmemopen needs the length) */
		static const char t[] = "PS0000000001,110000000001\nPS0\0,1\n";
		struct ps_manifest *m = open_m(10, 0);
		struct ps_errors e;
		struct ps_manifest_load_result r;
		ps_errors_init(&e);
		FILE *f = fmemopen((void *)t, sizeof(t) - 1, "r");
		cr_assert_eq(ps_manifest_load(m, f, "m.csv", 0, &e, &r),
			     PS_MF_INVALID);
		fclose(f);
		cr_assert_str_eq(e.msg[0], "m.csv:2: NUL byte in line");
		ps_errors_free(&e);
		ps_manifest_close(m);
	}
	/* the header only as the first line */
	expect_error("PS0000000001,110000000001\nwaybill,region\n",
		     "m.csv:2: waybill has a character outside");
}

Test(manifest, header_comments_blanks_and_last_line_stands)
{
	struct ps_manifest *m = open_m(100, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, "# pre-advice for site 1\r\n"
			       "Waybill,Region\r\n"
			       "\r\n"
			       "PS0000000001,110000000001 # first\r\n"
			       "  PS0000000002 , 110000000002\t\n"
			       "PS0000000001,110000000099\n", 0, &e, &r), 0);
	cr_assert_eq(e.n, 0);
	cr_assert_eq(r.lines, 3);
	cr_assert_eq(r.added, 2);
	cr_assert_eq(get(m, 1), 110000000099ull);
	cr_assert_eq(get(m, 2), 110000000002ull);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

Test(manifest, errors_are_bounded_the_rest_counted)
{
	struct ps_manifest *m = open_m(100, 0);
	size_t cap = 150 * 32;
	char *text = malloc(cap), *p = text;
	for (unsigned i = 0; i < 150; i++)
		p += sprintf(p, "PS%010u,1\n", i);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, text, 0, &e, &r), PS_MF_INVALID);
	cr_assert_eq(e.n, PS_MANIFEST_MAX_SHOWN);
	cr_assert_eq(e.dropped, 50);
	cr_assert_str_eq(e.msg[99], "m.csv:100: region must be 12 digits: 'PS0000000099,1'");
	ps_errors_free(&e);
	free(text);
	ps_manifest_close(m);
}

Test(manifest, replace_swaps_the_whole_manifest)
{
	struct ps_manifest *m = open_m(100, 0);
	cr_assert_eq(add(m, 1, 110000000001ull), 0);
	cr_assert_eq(add(m, 2, 110000000002ull), 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, "PS0000000002,220000000002\n"
			       "PS0000000003,220000000003\n", 1, &e, &r), 0);
	cr_assert_eq(get(m, 1), 0);
	cr_assert_eq(get(m, 2), 220000000002ull);
	cr_assert_eq(get(m, 3), 220000000003ull);
	cr_assert_eq(r.entries, 2);
	/* adding keeps the others */
	cr_assert_eq(load_text(m, "PS0000000004,220000000004\n", 0, &e, &r), 0);
	cr_assert_eq(get(m, 2), 220000000002ull);
	cr_assert_eq(get(m, 4), 220000000004ull);
	cr_assert_eq(r.entries, 3);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* ---- persistence ---- */

Test(manifest, restart_keeps_the_manifest_and_its_expiries)
{
	struct ps_manifest *m = open_m(100, 1);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, "PS0000000001,110000000001\n"
			       "PS0000000002,110000000002\n"
			       "PS0000000003,110000000003\n", 1, &e, &r), 0);
	cr_assert_eq(add(m, 4, 110000000004ull), 0);
	fake_now += 5000;
	cr_assert_eq(add(m, 5, 110000000005ull), 0);
	cr_assert_eq(load_text(m, "PS0000000006,110000000006\n"
			       "PS0000000001,110000000011\n", 0, &e, &r), 0);
	uint8_t wb[24];
	const uint8_t *p = wb;
	unsigned rem;
	char err[256];
	wb_of(wb, 2);
	cr_assert_eq(ps_manifest_del(m, &p, 1, &rem, err, sizeof(err)), 0);
	ps_manifest_close(m);

	m = open_m(100, 1);
	cr_assert_eq(get(m, 1), 110000000011ull);
	cr_assert_eq(get(m, 2), 0);
	cr_assert_eq(get(m, 3), 110000000003ull);
	cr_assert_eq(get(m, 4), 110000000004ull);
	cr_assert_eq(get(m, 5), 110000000005ull);
	cr_assert_eq(get(m, 6), 110000000006ull);
	ps_manifest_close(m);
	/* the wall clock moved on while it was down: the first ones lapsed */
	fake_now += 6000;
	m = open_m(100, 1);
	cr_assert_eq(get(m, 3), 0);
	cr_assert_eq(get(m, 4), 0);
	cr_assert_eq(get(m, 5), 110000000005ull);
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	cr_assert_eq(st.entries, 3);   /* 1, 5 and 6 */
	ps_errors_free(&e);
	ps_manifest_close(m);
}

Test(manifest, a_refused_directory_fsync_refuses_the_replace)
{
	struct ps_manifest_cfg cfg = { .capacity = 100, .state_dir = dir,
				       .now_ms = clock_fn };
	char err[256];
	struct ps_manifest *m = ps_manifest_open(&cfg, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	cr_assert_eq(add(m, 1, 110000000001ull), 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	ps_fault_arm(PS_FAULT_DIR_FSYNC, 0, 1, EIO);
	cr_assert_eq(load_text(m, "PS0000000002,110000000002\n", 1, &e, &r),
		     PS_MF_DISK);
	ps_fault_arm(PS_FAULT_DIR_FSYNC, 0, 0, 0);
	cr_assert(strstr(e.msg[0], "cannot make"), "%s", e.msg[0]);
	cr_assert_eq(get(m, 1), 110000000001ull);
	cr_assert_eq(get(m, 2), 0);
	ps_manifest_close(m);
	m = ps_manifest_open(&cfg, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	cr_assert_eq(get(m, 1), 110000000001ull);
	cr_assert_eq(get(m, 2), 0);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

Test(manifest, a_damaged_snapshot_is_refused)
{
	struct ps_manifest *m = open_m(100, 1);
	cr_assert_eq(add(m, 1, 110000000001ull), 0);
	ps_manifest_close(m);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "printf 'XX' | dd of=%s/manifest-1.snap "
		 "bs=1 seek=40 conv=notrunc status=none", dir);
	cr_assert_eq(system(cmd), 0);
	struct ps_manifest_cfg cfg = { .capacity = 100, .state_dir = dir,
				       .no_fsync = 1, .now_ms = clock_fn };
	char err[512] = "";
	cr_assert_null(ps_manifest_open(&cfg, err, sizeof(err)));
	cr_assert(strstr(err, "damaged"), "%s", err);
}

/* kill -9 while a child loads: the manifest is then one of the files
 * (or the first plus the added one), never a mix. */
#define KILL_N 3000

static char *file_text(unsigned first, uint64_t region)
{
	char *t = malloc(KILL_N * 32), *p = t;
	for (unsigned i = 0; i < KILL_N; i++)
		p += sprintf(p, "PS%010u,%llu\n", first + i,
			     (unsigned long long)region);
	return t;
}

Test(manifest, kill_during_loads_leaves_old_or_new, .timeout = 120)
{
	char *a = file_text(0, 110000000001ull);      /* replace */
	char *c = file_text(KILL_N, 110000000003ull); /* added to a */
	char *b = file_text(0, 110000000002ull);      /* replace */
	for (int round = 0; round < 12; round++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			struct ps_manifest *m = open_m(3 * KILL_N, 1);
			struct ps_errors e;
			struct ps_manifest_load_result r;
			for (;;) {
				ps_errors_init(&e);
				load_text(m, a, 1, &e, &r);
				load_text(m, c, 0, &e, &r);
				load_text(m, b, 1, &e, &r);
				ps_errors_free(&e);
			}
		}
		usleep(20000 + (unsigned)(rand() % 80000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		struct ps_manifest *m = open_m(3 * KILL_N, 1);
		struct ps_manifest_stats st;
		ps_manifest_stats(m, &st);
		uint64_t r0 = get(m, 0), rc = get(m, KILL_N);
		if (st.entries == 0)
			goto next;            /* killed before the first load */
		if (r0 == 110000000002ull) {
			cr_assert_eq(st.entries, KILL_N);
			for (unsigned i = 0; i < KILL_N; i++)
				cr_assert_eq(get(m, i), 110000000002ull);
		} else {
			cr_assert_eq(r0, 110000000001ull);
			cr_assert(st.entries == KILL_N ||
				  st.entries == 2 * KILL_N, "%llu entries",
				  (unsigned long long)st.entries);
			for (unsigned i = 0; i < KILL_N; i++)
				cr_assert_eq(get(m, i), 110000000001ull);
			for (unsigned i = 0; i < KILL_N; i++)
				cr_assert_eq(get(m, KILL_N + i),
					     st.entries == KILL_N ? 0 :
					     110000000003ull);
			(void)rc;
		}
next:
		ps_manifest_close(m);
	}
	free(a);
	free(b);
	free(c);
}

/* ---- a replaced entry is read whole: its region and expiry together ---- */

#define PAIR_KEYS 4
static volatile int pair_stop;
static struct ps_mtable *pair_t;

static void *pair_reader(void *arg)
{
	uint8_t wb[PAIR_KEYS][24];
	long bad = 0, reads = 0;
	(void)arg;
	for (unsigned i = 0; i < PAIR_KEYS; i++)
		wb_of(wb[i], i);
	while (!pair_stop) {
		for (unsigned i = 0; i < PAIR_KEYS; i++) {
			uint64_t exp;
			uint64_t r = ps_mtable_get_expiry(pair_t, wb[i], 1, &exp);
			/* every version v writes region base + v with expiry
			 * 2e12 + v: a mismatch is a torn entry */
			if (r && exp - 2000000000000ull != r - 110000000000ull)
				bad++;
			reads++;
		}
	}
	return (void *)bad;
}

/* The writer replaces a few entries' region and expiry (two stores) as
 * fast as it can while a reader checks that the two always belong
 * together: without the per-bucket sequence counter the reader sees one
 * version's region with another's expiry. */
Test(manifest, a_replaced_entry_is_never_read_torn, .timeout = 60)
{
	uint8_t wb[PAIR_KEYS][24];
	pair_t = ps_mtable_new(PAIR_KEYS);
	cr_assert_not_null(pair_t);
	for (unsigned i = 0; i < PAIR_KEYS; i++) {
		wb_of(wb[i], i);
		ps_mtable_put(pair_t, wb[i], 110000000000ull, 2000000000000ull);
	}
	pair_stop = 0;
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, pair_reader, NULL), 0);
	for (uint64_t v = 1; v < 20000000; v++)
		cr_assert_eq(ps_mtable_put(pair_t, wb[v % PAIR_KEYS],
					   110000000000ull + v % 800000000000ull,
					   2000000000000ull + v % 800000000000ull),
			     PS_MT_REPLACED);
	pair_stop = 1;
	void *bad;
	pthread_join(th, &bad);
	cr_assert_eq((long)bad, 0, "%ld torn entries read", (long)bad);
	ps_mtable_free(pair_t);
}

/* ---- loads in parts (the control commands') ---- */

static int begin(struct ps_manifest *m, const char *name, int replace,
		 uint64_t *tok)
{
	return ps_manifest_stage_begin(m, name, replace, tok, NULL, 0);
}

static int part(struct ps_manifest *m, uint64_t tok, const char *text,
		uint32_t first, uint64_t *lines, struct ps_errors *e)
{
	return ps_manifest_stage_part(m, tok, text, strlen(text), first, lines,
				      e);
}

Test(manifest, a_load_in_parts_is_all_or_nothing)
{
	struct ps_manifest *m = open_m(100, 1);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t tok, lines;
	ps_errors_init(&e);
	cr_assert_eq(add(m, 7, 110000000007ull), 0);
	/* the header is looked for in the first part only; line numbers
	 * go on across parts */
	cr_assert_eq(begin(m, "big.csv", 0, &tok), 0);
	cr_assert_eq(part(m, tok, "waybill,region\nPS0000000001,110000000001\n",
			  1, &lines, &e), 0);
	cr_assert_eq(lines, 1);
	cr_assert_eq(part(m, tok, "PS0000000002,110000000002\n"
			  "waybill,region\n", 3, &lines, &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), PS_MF_INVALID);
	cr_assert_eq(e.n, 1);
	cr_assert(strstr(e.msg[0], "big.csv:4: "), "%s", e.msg[0]);
	cr_assert_eq(get(m, 1), 0);              /* nothing of it in force */
	cr_assert_eq(get(m, 7), 110000000007ull);
	ps_errors_free(&e);
	/* a good one: its entries are in force at the commit, not before */
	ps_errors_init(&e);
	cr_assert_eq(begin(m, "ok.csv", 0, &tok), 0);
	cr_assert_eq(part(m, tok, "PS0000000001,110000000001\n", 1, &lines,
			  &e), 0);
	cr_assert_eq(part(m, tok, "PS0000000007,110000000077", 2, &lines,
			  &e), 0);
	cr_assert_eq(get(m, 1), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), 0);
	cr_assert_eq(r.lines, 2);
	cr_assert_eq(r.added, 1);
	cr_assert_eq(r.replaced, 1);
	cr_assert_eq(r.entries, 2);
	cr_assert_eq(get(m, 1), 110000000001ull);
	cr_assert_eq(get(m, 7), 110000000077ull);
	/* the stage went with its commit */
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), PS_MF_INVALID);
	cr_assert(strstr(e.msg[0], "no such manifest load"), "%s", e.msg[0]);
	ps_errors_free(&e);
	/* replace in parts, across a restart */
	ps_errors_init(&e);
	cr_assert_eq(begin(m, "new.csv", 1, &tok), 0);
	cr_assert_eq(part(m, tok, "PS0000000003,110000000003\n", 1, &lines,
			  &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), 0);
	cr_assert_eq(r.entries, 1);
	ps_manifest_close(m);
	m = open_m(100, 1);
	cr_assert_eq(get(m, 3), 110000000003ull);
	cr_assert_eq(get(m, 1), 0);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

Test(manifest, a_new_load_drops_an_abandoned_one_and_abort_drops_it)
{
	struct ps_manifest *m = open_m(100, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t t1, t2, lines;
	ps_errors_init(&e);
	cr_assert_eq(begin(m, "a", 0, &t1), 0);
	fake_now += PS_MANIFEST_STAGE_BUSY_MS;     /* its client went away */
	cr_assert_eq(begin(m, "b", 0, &t2), 0);
	cr_assert_neq(t1, t2);
	cr_assert_eq(part(m, t1, "PS0000000001,110000000001\n", 1, &lines,
			  &e), PS_MF_INVALID);
	ps_errors_free(&e);
	ps_errors_init(&e);
	cr_assert_eq(part(m, t2, "PS0000000002,110000000002\n", 1, &lines,
			  &e), 0);
	ps_manifest_stage_abort(m, t2);
	cr_assert_eq(ps_manifest_stage_commit(m, t2, &e, &r), PS_MF_INVALID);
	cr_assert_eq(get(m, 2), 0);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* Issue #18: a begin while another load is being sent (the site agent's
 * and an operator's at once) is refused, naming that load, and the first
 * load goes on and commits whole; a load with no part for
 * PS_MANIFEST_STAGE_BUSY_MS (its client went away) gives way. */
Test(manifest, a_begin_while_a_load_is_under_way_is_refused_busy)
{
	struct ps_manifest *m = open_m(100, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t t1, t2 = 0, lines;
	char err[256] = "";
	ps_errors_init(&e);
	cr_assert_eq(begin(m, "site.csv", 0, &t1), 0);
	cr_assert_eq(part(m, t1, "PS0000000001,110000000001\n", 1, &lines,
			  &e), 0);
	fake_now += 2500;
	cr_assert_eq(ps_manifest_stage_begin(m, "ops.csv", 1, &t2, err,
					     sizeof(err)), PS_MF_BUSY);
	cr_assert(strstr(err, "another manifest load is under way: "
			 "'site.csv', its last part (or begin) 2.5 s ago"), "%s", err);
	fake_now += PS_MANIFEST_STAGE_BUSY_MS - 2501;  /* idle, not gone */
	cr_assert_eq(begin(m, "ops.csv", 1, &t2), PS_MF_BUSY);
	cr_assert_eq(part(m, t1, "PS0000000002,110000000002\n", 2, &lines,
			  &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, t1, &e, &r), 0);
	cr_assert_eq(r.lines, 2);
	cr_assert_eq(get(m, 1), 110000000001ull);
	cr_assert_eq(get(m, 2), 110000000002ull);
	/* one left idle past the limit is replaced by the next begin */
	cr_assert_eq(begin(m, "dead.csv", 0, &t1), 0);
	cr_assert_eq(part(m, t1, "PS0000000003,110000000003\n", 1, &lines,
			  &e), 0);
	fake_now += PS_MANIFEST_STAGE_BUSY_MS;
	cr_assert_eq(begin(m, "ops.csv", 0, &t2), 0);
	cr_assert_eq(part(m, t2, "PS0000000004,110000000004\n", 1, &lines,
			  &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, t1, &e, &r), PS_MF_INVALID);
	ps_errors_free(&e);
	ps_errors_init(&e);
	cr_assert_eq(ps_manifest_stage_commit(m, t2, &e, &r), 0);
	cr_assert_eq(get(m, 3), 0);
	cr_assert_eq(get(m, 4), 110000000004ull);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* The wall clock stepped back (an NTP correction) while a load's client
 * went away: its idle time counts from the step, so the site waits
 * PS_MANIFEST_STAGE_BUSY_MS at most, not the step's length on top; and
 * the 15-minute drop counts the same way. */
Test(manifest, a_clock_stepped_back_does_not_keep_a_dead_load_busy)
{
	struct ps_manifest *m = open_m(100, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t t1, t2, lines;
	ps_errors_init(&e);
	fake_now = 10ull * 3600 * 1000;
	cr_assert_eq(begin(m, "dead.csv", 0, &t1), 0);
	fake_now -= 3600 * 1000;                   /* an hour back */
	cr_assert_eq(begin(m, "ops.csv", 0, &t2), PS_MF_BUSY);
	fake_now += PS_MANIFEST_STAGE_BUSY_MS;
	cr_assert_eq(begin(m, "ops.csv", 0, &t2), 0,
		     "a dead load kept busy past 60 s by a clock step");
	cr_assert_eq(part(m, t2, "PS0000000001,110000000001\n", 1, &lines,
			  &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, t2, &e, &r), 0);
	cr_assert_eq(get(m, 1), 110000000001ull);
	/* no begin comes: the expiry pass drops it 15 minutes on */
	cr_assert_eq(begin(m, "dead2.csv", 0, &t1), 0);
	fake_now -= 3600 * 1000;
	ps_manifest_expire(m);                     /* its pass meanwhile */
	fake_now += PS_MANIFEST_STAGE_IDLE_MS;
	ps_manifest_expire(m);
	cr_assert_eq(part(m, t1, "PS0000000002,110000000002\n", 1, &lines,
			  &e), PS_MF_INVALID, "a dead load held past 15 "
		     "minutes by a clock step");
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* A file past the capacity with bad lines after that point: every bad
 * line is reported with the capacity, in parts and in one piece (the
 * parse once stopped at the capacity, and the operator met the hidden
 * errors only on the next try). */
static int has_msg(const struct ps_errors *e, const char *what)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msg[i], what))
			return 1;
	return 0;
}

Test(manifest, a_file_past_the_capacity_still_has_every_bad_line_reported)
{
	struct ps_manifest *m = open_m(3, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t tok, lines;
	const char *text = "PS0000000001,110000000001\n"
			   "PS0000000002,110000000001\nPS0000000003,110000000001\n"
			   "PS0000000004,110000000001\ngarbage\n";
	ps_errors_init(&e);
	cr_assert_eq(begin(m, "x.csv", 1, &tok), 0);
	cr_assert_eq(part(m, tok, text, 1, &lines, &e), 0);
	cr_assert_eq(part(m, tok, "more garbage\n", 6, &lines, &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), PS_MF_INVALID);
	cr_assert(has_msg(&e, "x.csv:5:"), "line 5 reported");
	cr_assert(has_msg(&e, "x.csv:6:"), "line 6 reported");
	cr_assert(has_msg(&e, "more than 3 distinct waybills"));
	cr_assert_eq(get(m, 1), 0);
	ps_errors_free(&e);
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, text, 1, &e, &r), PS_MF_INVALID);
	cr_assert(has_msg(&e, ":5:"), "line 5 reported");
	cr_assert(has_msg(&e, "more than 3 distinct waybills"));
	cr_assert_eq(get(m, 1), 0);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* The daemon's main loop (which feeds the systemd watchdog) never waits
 * on a load under way: try_expire says busy at once while a replace holds
 * the manifest (here held inside its wait for the readers), and does its
 * work once the load is done. */
static volatile int in_wait, release_wait;

static void blocking_wait(void)
{
	in_wait = 1;
	while (!release_wait)
		usleep(1000);
}

static struct ps_manifest *loading_m;

static void *replace_load(void *arg)
{
	(void)arg;
	struct ps_errors e;
	struct ps_manifest_load_result r;
	ps_errors_init(&e);
	load_text(loading_m, "PS0000000001,110000000001\n", 1, &e, &r);
	ps_errors_free(&e);
	return NULL;
}

Test(manifest, expiry_from_the_main_loop_never_waits_on_a_load)
{
	struct ps_manifest_cfg cfg = { .capacity = 100, .ttl_ms = 10000,
				       .now_ms = clock_fn,
				       .wait_readers = blocking_wait };
	char err[512] = "";
	loading_m = ps_manifest_open(&cfg, err, sizeof(err));
	cr_assert_not_null(loading_m, "%s", err);
	cr_assert_eq(add(loading_m, 7, 110000000007ull), PS_MF_OK);
	pthread_t t;
	pthread_create(&t, NULL, replace_load, NULL);
	while (!in_wait)
		usleep(1000);
	uint64_t n = 99;
	cr_assert_eq(ps_manifest_try_expire(loading_m, &n), -1, "busy");
	cr_assert_eq(n, 0);
	release_wait = 1;
	pthread_join(t, NULL);
	fake_now += 20000;                  /* the loaded entry lapses */
	cr_assert_eq(ps_manifest_try_expire(loading_m, &n), 0);
	cr_assert_eq(n, 1);
	ps_manifest_close(loading_m);
}

Test(manifest, a_staged_load_past_the_capacity_is_refused)
{
	struct ps_manifest *m = open_m(3, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t tok, lines;
	ps_errors_init(&e);
	cr_assert_eq(begin(m, "x.csv", 1, &tok), 0);
	cr_assert_eq(part(m, tok, "PS0000000001,110000000001\n"
			  "PS0000000002,110000000001\nPS0000000003,110000000001\n"
			  "PS0000000004,110000000001\n", 1, &lines, &e), 0);
	cr_assert_eq(part(m, tok, "PS0000000005,110000000001\n", 5, &lines,
			  &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), PS_MF_FULL);
	cr_assert(strstr(e.msg[0], "more than 3 distinct waybills"), "%s",
		  e.msg[0]);
	cr_assert_eq(get(m, 1), 0);
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	cr_assert_eq(st.refused_full, 1);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* ---- paid for as it fills ---- */

static uint64_t resident(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, res = 0;
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu %lu", &size, &res), 2);
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Under AddressSanitizer each touched page can touch a shadow page of its
 * own besides (10,076,160 bytes for 1000 entries was seen on a fresh
 * machine), so the bound for it is twice the plain build's. */
#if defined(__SANITIZE_ADDRESS__)
#define RESIDENT_LIMIT_1000 (16u << 20)
#else
#define RESIDENT_LIMIT_1000 (8u << 20)
#endif

Test(manifest, an_empty_manifest_of_16_mi_costs_next_to_nothing)
{
	uint64_t before = resident();
	struct ps_manifest *m = open_m(16ull << 20, 0);
	uint64_t empty = resident();
	/* a thousand entries touch at most a thousand index pages and
	 * one entry chunk */
	for (unsigned i = 0; i < 1000; i++)
		cr_assert_eq(add(m, i, 110000000000ull + i), 0);
	uint64_t some = resident();
	cr_assert_lt(empty - before, 1u << 20, "empty: %llu bytes",
		     (unsigned long long)(empty - before));
	cr_assert_lt(some - before, RESIDENT_LIMIT_1000,
		     "1000 entries: %llu bytes",
		     (unsigned long long)(some - before));
	ps_manifest_close(m);
}

/* ---- review: a staged load, a restore past the capacity, a BOM ---- */

/* An entry lapses a TTL after it was added: a load in parts adds its
 * entries at the commit, so the TTL runs from there, not from the begin
 * (a long or abandoned-then-committed load would else add entries that
 * lapse at once). */
Test(manifest, a_load_in_parts_lapses_a_ttl_after_its_commit)
{
	struct ps_manifest *m = open_m(100, 1);   /* TTL 10 s */
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t tok, lines;
	ps_errors_init(&e);
	for (int replace = 0; replace < 2; replace++) {
		unsigned w = 1 + (unsigned)replace;
		char text[64];
		snprintf(text, sizeof(text), "PS%010u,11000000000%u\n", w, w);
		cr_assert_eq(begin(m, "slow.csv", replace, &tok), 0);
		cr_assert_eq(part(m, tok, text, 1, &lines, &e), 0);
		fake_now += 9000;                  /* the parts take a while */
		cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), 0);
		fake_now += 5000;     /* 14 s after the begin, 5 after the commit */
		cr_assert_eq(get(m, w), 110000000000ull + w,
			     "replace %d: lapsed a TTL after the begin", replace);
	}
	/* and so it is saved: a restart keeps it */
	ps_manifest_close(m);
	m = open_m(100, 1);
	cr_assert_eq(get(m, 2), 110000000002ull);
	fake_now += 5001;                         /* a TTL after the commit */
	cr_assert_eq(get(m, 2), 0);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* A load in parts that nobody goes on with (the client was killed) does
 * not hold its staged entries forever: ps_manifest_expire, which the
 * daemon calls every 10 minutes, drops one idle for 15 minutes; one that
 * had a part meanwhile stays. */
Test(manifest, an_abandoned_load_in_parts_is_dropped_once_idle)
{
	struct ps_manifest *m = open_m(100, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t tok, lines;
	ps_errors_init(&e);
	cr_assert_eq(begin(m, "live.csv", 0, &tok), 0);
	cr_assert_eq(part(m, tok, "PS0000000001,110000000001\n", 1, &lines,
			  &e), 0);
	fake_now += 10 * 60000;
	cr_assert_eq(part(m, tok, "PS0000000002,110000000002\n", 2, &lines,
			  &e), 0);
	fake_now += 10 * 60000;       /* 20 min after the begin, 10 idle */
	ps_manifest_expire(m);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), 0,
		     "a load still being sent stays");
	cr_assert_eq(r.entries, 2);
	cr_assert_eq(begin(m, "gone.csv", 0, &tok), 0);
	cr_assert_eq(part(m, tok, "PS0000000003,110000000003\n", 1, &lines,
			  &e), 0);
	fake_now += 15 * 60000 + 1;
	ps_manifest_expire(m);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), PS_MF_INVALID,
		     "an abandoned load is kept forever");
	cr_assert(e.n && strstr(e.msg[0], "no such manifest load"));
	cr_assert_eq(get(m, 3), 0);
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* A saved manifest that holds more than the capacity (the capacity was
 * lowered) refuses the open, whether the entries are in the snapshot or
 * in the log: never a manifest silently cut to what fits. */
Test(manifest, a_saved_log_past_the_capacity_refuses_the_open)
{
	struct ps_manifest *m = open_m(16, 1);
	for (unsigned i = 0; i < 10; i++)
		cr_assert_eq(add(m, i, 110000000000ull + i), 0);  /* the log */
	ps_manifest_close(m);
	struct ps_manifest_cfg cfg = { .capacity = 8, .ttl_ms = 10000,
				       .state_dir = dir, .no_fsync = 1,
				       .now_ms = clock_fn };
	char err[512] = "";
	m = ps_manifest_open(&cfg, err, sizeof(err));
	if (m) {
		struct ps_manifest_stats st;
		ps_manifest_stats(m, &st);
		ps_manifest_close(m);
		cr_assert_fail("opened with %llu of the 10 saved entries",
			       (unsigned long long)st.entries);
	}
	cr_assert(strstr(err, "capacity 8"), "%s", err);
	/* with room it opens, every entry there */
	m = open_m(16, 1);
	for (unsigned i = 0; i < 10; i++)
		cr_assert_eq(get(m, i), 110000000000ull + i);
	ps_manifest_close(m);
}

/* A UTF-8 file may begin with a byte order mark (spreadsheets write
 * one): it is not part of the first line, header or entry. */
Test(manifest, a_byte_order_mark_at_the_start_is_skipped)
{
	struct ps_manifest *m = open_m(100, 0);
	struct ps_errors e;
	struct ps_manifest_load_result r;
	uint64_t tok, lines;
	ps_errors_init(&e);
	cr_assert_eq(load_text(m, "\xef\xbb\xbfwaybill,region\n"
			       "PS0000000001,110000000001\n", 0, &e, &r), 0,
		     "%s", e.n ? e.msg[0] : "");
	cr_assert_eq(load_text(m, "\xef\xbb\xbfPS0000000002,110000000002\n",
			       0, &e, &r), 0, "%s", e.n ? e.msg[0] : "");
	cr_assert_eq(get(m, 1), 110000000001ull);
	cr_assert_eq(get(m, 2), 110000000002ull);
	cr_assert_eq(begin(m, "bom.csv", 0, &tok), 0);
	cr_assert_eq(part(m, tok, "\xef\xbb\xbfPS0000000003,110000000003\n",
			  1, &lines, &e), 0);
	cr_assert_eq(ps_manifest_stage_commit(m, tok, &e, &r), 0, "%s",
		     e.n ? e.msg[0] : "");
	cr_assert_eq(get(m, 3), 110000000003ull);
	/* only at the start of the file: elsewhere it is a bad line */
	cr_assert_eq(load_text(m, "PS0000000004,110000000004\n"
			       "\xef\xbb\xbfPS0000000005,110000000005\n", 0,
			       &e, &r), PS_MF_INVALID);
	cr_assert(e.n && strstr(e.msg[0], "m.csv:2: "), "%s",
		  e.n ? e.msg[0] : "");
	ps_errors_free(&e);
	ps_manifest_close(m);
}

/* The append log does not grow without bound: once over 64 MB and more
 * than twice the snapshot, it is folded into a new snapshot (removals of
 * absent waybills make it grow fastest: 48 bytes each, nothing held). */
Test(manifest, the_log_is_folded_into_a_new_snapshot_once_large,
     .timeout = 120)
{
	enum { BATCH = 4096 };
	static uint8_t wbs[BATCH][24];
	static const uint8_t *p[BATCH];
	struct ps_manifest *m = open_m(100, 1);
	struct ps_manifest_stats st;
	char err[256];
	unsigned removed, calls = 0;
	for (unsigned i = 0; i < 10; i++)
		cr_assert_eq(add(m, i, 110000000000ull + i), 0);
	for (unsigned i = 0; i < BATCH; i++) {
		wb_of(wbs[i], 1000000 + i);
		p[i] = wbs[i];
	}
	ps_manifest_stats(m, &st);
	uint64_t gen0 = st.generation, most = 0;
	do {
		cr_assert_eq(ps_manifest_del(m, p, BATCH, &removed, err,
					     sizeof(err)), 0, "%s", err);
		cr_assert_eq(removed, 0);
		ps_manifest_stats(m, &st);
		if (st.log_bytes > most)
			most = st.log_bytes;
	} while (st.generation == gen0 && ++calls < 400);
	cr_assert_eq(st.generation, gen0 + 1, "the log reached %llu bytes",
		     (unsigned long long)most);
	cr_assert_lt(most, (64u << 20) + BATCH * 48 + 64);
	cr_assert_eq(st.log_bytes, 0);
	ps_manifest_close(m);
	/* the old generation's files are gone; the entries are all there */
	char path[128];
	snprintf(path, sizeof(path), "%s/manifest-%llu.log", dir,
		 (unsigned long long)gen0);
	cr_assert_neq(access(path, F_OK), 0, "%s left behind", path);
	m = open_m(100, 1);
	ps_manifest_stats(m, &st);
	cr_assert_eq(st.entries, 10);
	cr_assert_eq(st.generation, gen0 + 1);
	for (unsigned i = 0; i < 10; i++)
		cr_assert_eq(get(m, i), 110000000000ull + i);
	ps_manifest_close(m);
}
