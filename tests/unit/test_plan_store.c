/* test_plan_store.c: the commit path: load, refusal keeps the old plan,
 * staged edits, history and rollback, persistence across restarts, damaged
 * state, scheduled activation and its retries, disk errors (a failed
 * directory fsync included), a failed model copy, kill -9 during saves, RCU
 * readers deciding while thousands of versions are published, and readers
 * outside the workers taking copies while plans are committed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plan_reader.h"
#include "plan_store.h"
#include "ps_fault.h"

static char dir[64];

static void mkstate(void)
{
	strcpy(dir, "/tmp/ps-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rmstate(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = mkstate, .fini = rmstate);

static struct ps_store *open_store(const char *initial, int no_fsync,
				   char *warn)
{
	struct ps_store_cfg cfg = { .state_dir = dir, .initial_plan = initial,
				    .no_fsync = no_fsync };
	struct ps_errors e;
	char w[512];
	ps_errors_init(&e);
	struct ps_store *s = ps_store_open(&cfg, &e, warn ? warn : w, 512);
	cr_assert_not_null(s, "%s", e.n ? e.msg[0] : "");
	ps_errors_free(&e);
	return s;
}

/* A plan whose hub id and chutes tell which version it was meant to be. */
static int plan_text(char *buf, size_t n, uint32_t tag)
{
	return snprintf(buf, n,
			"plan v%u\nsite 1 33\nreject 999\n"
			"hub %u county tagged\n"
			"route 33 %u %u,%u\n", tag, tag, tag, 1 + tag % 50,
			101 + tag % 50);
}

static uint32_t load(struct ps_store *s, uint32_t tag)
{
	char t[256];
	struct ps_errors e;
	uint32_t v = 0;
	ps_errors_init(&e);
	int n = plan_text(t, sizeof(t), tag);
	cr_assert_eq(ps_store_load_text(s, t, (size_t)n, "t.plan", 0, &e, &v),
		     0, "%s", e.n ? e.msg[0] : "");
	ps_errors_free(&e);
	return v;
}

/* The test thread is the only one that commits here, so the plan it reads
 * cannot be freed under it (no other reader may do this: plan_reader.h). */
static struct ps_plan *active(struct ps_store *s)
{
	return *ps_store_dataplane_slot(s);
}

static uint32_t hub_of_33(struct ps_store *s)
{
	struct ps_plan *p = active(s);
	uint32_t nh = ps_plan_lpm(p, 330782000000ull);
	return nh ? p->nh[nh].hub : 0;
}

Test(store, load_and_refuse)
{
	struct ps_store *s = open_store(NULL, 1, NULL);
	cr_assert_null(active(s), "no plan before the first load");
	cr_assert_eq(load(s, 1), 1);
	cr_assert_eq(active(s)->version, 1);
	cr_assert_eq(load(s, 2), 2);
	struct ps_errors e;
	uint32_t v = 99;
	ps_errors_init(&e);
	const char *bad = "plan x\nsite 1 33\nreject 9\nroute 33 5 1\nroute 3 5 1\n";
	cr_assert_eq(ps_store_load_text(s, bad, strlen(bad), "bad.plan", 0, &e,
					&v), -1);
	cr_assert_eq(e.n, 2, "every error: %zu", e.n);
	cr_assert(strstr(e.msg[0], "bad.plan:4:") || strstr(e.msg[1], "bad.plan:4:"));
	cr_assert_eq(active(s)->version, 2, "the old plan stays in force");
	cr_assert_eq(hub_of_33(s), 2);
	ps_errors_free(&e);
	ps_store_close(s);
}

Test(store, staged_edits)
{
	struct ps_store *s = open_store(NULL, 1, NULL);
	load(s, 1);
	struct ps_errors e;
	uint32_t v;
	ps_errors_init(&e);
	cr_assert_eq(ps_txn_apply(s, "route 3307 1 7", &e), -1, "needs begin");
	cr_assert_eq(ps_txn_begin(s, &e), 0);
	cr_assert_eq(ps_txn_begin(s, &e), -1, "one transaction at a time");
	cr_assert_eq(ps_txn_apply(s, "hub 2 township Fotang", &e), 0);
	cr_assert_eq(ps_txn_apply(s, "route 3307 2 7,8", &e), 0);
	cr_assert_eq(ps_txn_apply(s, "route 3307 2 9", &e), 0, "replaces");
	cr_assert_eq(ps_txn_apply(s, "rule 5 2 60 carrier=SF", &e), 0);
	cr_assert_eq(ps_txn_apply(s, "route 33x 2 9", &e), -1);
	cr_assert_eq(ps_txn_apply(s, "route 11 77 9", &e), 0);
	/* nothing is visible before the commit */
	cr_assert_eq(active(s)->version, 1);
	cr_assert_eq(ps_plan_lpm(active(s), 330782000000ull),
		     ps_plan_lpm(active(s), 330100000000ull));
	/* hub 77 is undefined: the commit is refused and stays open */
	ps_errors_free(&e);
	ps_errors_init(&e);
	cr_assert_eq(ps_txn_commit(s, &e, &v), -1);
	cr_assert(strstr(e.msg[0], "hub 77"), "%s", e.msg[0]);
	cr_assert(ps_txn_open(s));
	cr_assert_eq(ps_txn_delete(s, PS_DEL_ROUTE, "11", &e), 0);
	cr_assert_eq(ps_txn_delete(s, PS_DEL_ROUTE, "11", &e), -1);
	cr_assert_eq(ps_txn_commit(s, &e, &v), 0);
	cr_assert_eq(v, 2);
	struct ps_plan *p = active(s);
	uint32_t nh = ps_plan_lpm(p, 330782000000ull);
	cr_assert_eq(p->nh[nh].hub, 2);
	uint16_t one;
	const uint16_t *c9;
	cr_assert_eq(ps_nh_chutes(p, &p->nh[nh], &one, &c9), 1);
	cr_assert_eq(c9[0], 9);
	cr_assert_eq(p->rules.n, 1);
	/* abort throws the staged edits away */
	cr_assert_eq(ps_txn_begin(s, &e), 0);
	cr_assert_eq(ps_txn_delete(s, PS_DEL_RULE, "5", &e), 0);
	cr_assert_eq(ps_txn_abort(s, &e), 0);
	cr_assert_eq(ps_txn_abort(s, &e), -1);
	cr_assert_eq(active(s)->version, 2);
	cr_assert_eq(active(s)->rules.n, 1);
	ps_errors_free(&e);
	ps_store_close(s);
}

Test(store, history_and_rollback)
{
	struct ps_store *s = open_store(NULL, 1, NULL);
	for (uint32_t t = 1; t <= 20; t++)
		cr_assert_eq(load(s, t), t);
	struct ps_history_entry h[PS_HISTORY];
	cr_assert_eq(ps_store_history(s, h), 16);
	cr_assert_eq(h[0].version, 20);
	cr_assert_eq(h[15].version, 5);
	cr_assert_str_eq(h[0].name, "v20");
	cr_assert_eq(h[0].routes, 1);
	struct ps_errors e;
	uint32_t v;
	ps_errors_init(&e);
	cr_assert_eq(ps_store_rollback(s, 4, &e, &v), -1, "evicted");
	cr_assert_eq(ps_store_rollback(s, 5, &e, &v), 0);
	cr_assert_eq(v, 21, "a rollback is a new version");
	cr_assert_eq(hub_of_33(s), 5);
	ps_store_history(s, h);
	cr_assert_str_eq(h[0].origin, "rollback to 5");
	cr_assert_eq(ps_store_rollback(s, 0, &e, &v), 0, "back one");
	cr_assert_eq(hub_of_33(s), 20);
	ps_errors_free(&e);
	ps_store_close(s);
}

Test(store, restart_restores_plan_history_and_chutes)
{
	struct ps_store *s = open_store(NULL, 0, NULL);
	load(s, 1);
	load(s, 2);
	struct ps_errors e;
	ps_errors_init(&e);
	uint16_t c[] = { 3, 77 };
	cr_assert_eq(ps_store_chute_set(s, c, 2, 0, &e), 0);
	ps_store_close(s);
	char warn[512];
	s = open_store("/nonexistent/must-not-be-read.plan", 0, warn);
	cr_assert_eq(warn[0], 0, "%s", warn);
	cr_assert_eq(active(s)->version, 2);
	cr_assert_eq(hub_of_33(s), 2);
	cr_assert(!ps_chute_enabled(ps_store_chutes(s), 77));
	cr_assert(ps_chute_enabled(ps_store_chutes(s), 78));
	struct ps_history_entry h[PS_HISTORY];
	cr_assert_eq(ps_store_history(s, h), 2);
	cr_assert_eq(load(s, 3), 3, "versions keep counting");
	ps_errors_free(&e);
	ps_store_close(s);
}

static void corrupt(const char *name, long off, const char *bytes)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r+");
	cr_assert_not_null(f, "%s", path);
	fseek(f, off, off < 0 ? SEEK_END : SEEK_SET);
	fwrite(bytes, 1, strlen(bytes), f);
	fclose(f);
}

Test(store, damaged_plan_file_is_never_half_read)
{
	struct ps_store *s = open_store(NULL, 0, NULL);
	load(s, 1);
	ps_store_close(s);
	corrupt("plan-0000000001.plan", -60, "X");
	char warn[512];
	s = open_store(NULL, 0, warn);
	cr_assert_null(active(s), "no plan rather than a damaged one");
	cr_assert(strstr(warn, "corrupt"), "%s", warn);
	cr_assert(strstr(warn, "NO_PLAN"), "%s", warn);
	ps_store_close(s);
	/* with a --plan file the store starts from it instead */
	char path[128];
	snprintf(path, sizeof(path), "%s/../ps-initial-%d.plan", dir, getpid());
	FILE *f = fopen(path, "w");
	char t[256];
	plan_text(t, sizeof(t), 42);
	fputs(t, f);
	fclose(f);
	s = open_store(path, 0, warn);
	cr_assert_not_null(active(s));
	cr_assert_eq(hub_of_33(s), 42);
	cr_assert(active(s)->version >= 2);
	ps_store_close(s);
	unlink(path);
}

Test(store, damaged_active_pointer)
{
	struct ps_store *s = open_store(NULL, 0, NULL);
	load(s, 1);
	ps_store_close(s);
	corrupt("active", 0, "x");
	char warn[512];
	s = open_store(NULL, 0, warn);
	cr_assert_null(active(s));
	cr_assert(strstr(warn, "damaged"), "%s", warn);
	ps_store_close(s);
}

Test(store, scheduled_activation_survives_restart)
{
	struct ps_store *s = open_store(NULL, 0, NULL);
	load(s, 1);
	char t[256];
	int n = plan_text(t, sizeof(t), 9);
	struct ps_errors e;
	uint32_t v = 1234;
	uint64_t at = ps_now_ms() + 60000, when;
	ps_errors_init(&e);
	cr_assert_eq(ps_store_load_text(s, t, (size_t)n, "shift.plan", at, &e,
					&v), 0);
	cr_assert_eq(v, 0, "scheduled, not active");
	cr_assert_eq(hub_of_33(s), 1);
	cr_assert_eq(ps_store_tick(s, ps_now_ms(), &e), 0);
	cr_assert_eq(hub_of_33(s), 1);
	ps_store_close(s);
	s = open_store(NULL, 0, NULL);
	cr_assert_eq(ps_store_scheduled(s, &when, NULL, 0), 1);
	cr_assert_eq(when, at);
	cr_assert_eq(ps_store_tick(s, at, &e), 1);
	cr_assert_eq(hub_of_33(s), 9);
	cr_assert_eq(active(s)->version, 2);
	cr_assert_eq(ps_store_scheduled(s, &when, NULL, 0), 0);
	ps_store_close(s);
	s = open_store(NULL, 0, NULL);
	cr_assert_eq(ps_store_scheduled(s, &when, NULL, 0), 0, "spent");
	cr_assert_eq(hub_of_33(s), 9);
	ps_errors_free(&e);
	ps_store_close(s);
}

Test(store, write_error_refuses_commit_and_keeps_plan)
{
	struct ps_store *s = open_store(NULL, 0, NULL);
	load(s, 1);
	/* a file size limit makes every write beyond 64 bytes fail, as a full
	 * disk would */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = { 64, RLIM_INFINITY };
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	char t[256];
	int n = plan_text(t, sizeof(t), 2);
	struct ps_errors e;
	uint32_t v;
	ps_errors_init(&e);
	cr_assert_eq(ps_store_load_text(s, t, (size_t)n, "t", 0, &e, &v), -1);
	cr_assert(strstr(e.msg[0], "refused"), "%s", e.msg[0]);
	cr_assert_eq(active(s)->version, 1);
	cr_assert_eq(hub_of_33(s), 1);
	rl.rlim_cur = RLIM_INFINITY;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ps_store_close(s);
	s = open_store(NULL, 0, NULL);
	cr_assert_eq(active(s)->version, 1, "nothing half-written survives");
	cr_assert_eq(load(s, 3), 2);
	ps_errors_free(&e);
	ps_store_close(s);
}

static uint32_t highest_plan_file(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned v, max = 0;
	char tail;
	while (d && (de = readdir(d)))
		if (sscanf(de->d_name, "plan-%u.plan%c", &v, &tail) == 1 &&
		    v > max)
			max = v;
	if (d)
		closedir(d);
	return max;
}

Test(store, kill_during_commits_leaves_a_committed_plan, .timeout = 60)
{
	for (int round = 0; round < 8; round++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			struct ps_store_cfg cfg = { .state_dir = dir };
			struct ps_errors e;
			ps_errors_init(&e);
			struct ps_store *s = ps_store_open(&cfg, &e, NULL, 0);
			/* tag = the version this commit will get: one past
			 * every plan file, even one an earlier kill left
			 * uncommitted (its number stays used) */
			uint32_t next = highest_plan_file() + 1;
			for (uint32_t i = 0;; i++) {
				char t[256];
				uint32_t v = 0;
				int n = plan_text(t, sizeof(t), next);
				if (ps_store_load_text(s, t, (size_t)n, "k", 0,
						       &e, &v) == 0)
					next = v + 1;
			}
		}
		usleep(20000 + (useconds_t)(round * 7919 % 30000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		struct ps_store *s = open_store(NULL, 0, NULL);
		struct ps_plan *p = active(s);
		if (p)
			cr_assert_eq(hub_of_33(s), p->version,
				     "round %d: plan v%u has another's content",
				     round, p->version);
		ps_store_close(s);
	}
}

/* ------------------------------------------------- RCU under fire */

struct reader {
	struct ps_store *s;
	volatile int *stop;
	uint64_t decisions, unavailable;
	int error;
	char why[160];
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t wb[24] = "SF1234567890123";
	struct ps_scan sc = { .waybill = wb, .region = 330782100201ull,
			      .scan_type = PS_SCAN_INDUCT };
	uint32_t last = 0;
	rcu_register_thread();
	while (!*r->stop && !r->error) {
		struct ps_plan *p = ps_store_plan_rcu(
			ps_store_dataplane_slot(r->s));
		if (p) {
			struct ps_decision d;
			wb[5] = (uint8_t)('0' + r->decisions % 10);
			ps_plan_decide_one(p, ps_store_chutes(r->s), &sc, &d);
			uint32_t v = d.plan_version;
			if (v < last) {
				r->error = 1;
				snprintf(r->why, sizeof(r->why),
					 "version went back %u -> %u", last, v);
			} else if (d.reason == PS_R_ROUTED) {
				if (d.hub != v || (d.chute != 1 + v % 50 &&
						   d.chute != 101 + v % 50)) {
					r->error = 1;
					snprintf(r->why, sizeof(r->why),
						 "v%u decided hub %u chute %u",
						 v, d.hub, d.chute);
				}
			} else if (d.reason == PS_R_CHUTE_UNAVAILABLE) {
				r->unavailable++;
				if (d.chute != 999 || d.hub != 0) {
					r->error = 1;
					snprintf(r->why, sizeof(r->why),
						 "bad CHUTE_UNAVAILABLE");
				}
			} else {
				r->error = 1;
				snprintf(r->why, sizeof(r->why), "reason %u",
					 d.reason);
			}
			last = v;
			r->decisions++;
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

Test(store, readers_see_whole_versions_while_publishing, .timeout = 120)
{
	struct ps_store *s = open_store(NULL, 1, NULL);
	volatile int stop = 0;
	struct reader r[2] = { { s, &stop }, { s, &stop } };
	pthread_t t[2];
	load(s, 1);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, reader_main, &r[i]);
	struct ps_errors e;
	ps_errors_init(&e);
	for (uint32_t v = 2; v <= 3000; v++) {
		cr_assert_eq(load(s, v), v);
		uint16_t c[2] = { (uint16_t)(1 + v % 50), (uint16_t)(101 + v % 50) };
		ps_store_chute_set(s, c, v % 3 == 0 ? 2 : 1, v % 2, &e);
		if (r[0].error || r[1].error)
			break;
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(r[i].error, 0, "reader %d: %s", i, r[i].why);
		cr_assert_gt(r[i].decisions, 1000);
	}
	cr_assert_gt(r[0].unavailable + r[1].unavailable, 0,
		     "chute toggles were seen");
	ps_errors_free(&e);
	ps_store_close(s);
}

/* ------------------------------------- readers outside the workers */

/* Issue #12 item 5: control, metrics and telemetry read the store from
 * threads that are not QSBR readers while commits and scheduled
 * activations swap and free plans. They get copies taken under the
 * store's lock, which must stay whole and never touch freed memory (run
 * under ASan: build-asan). Every plan is tagged with its own version. */
struct copier {
	struct ps_store *s;
	volatile int *stop;
	uint64_t rounds;
	int error;
	char why[200];
};

static int tag_of(const char *name)
{
	unsigned t;
	return sscanf(name, "v%u", &t) == 1 ? (int)t : -1;
}

static void copier_check(struct copier *c)
{
	struct ps_plan_info in;
	struct ps_history_entry h[PS_HISTORY];
	struct ps_plan_src src;
	struct ps_schedule_info si;
	uint32_t v = 0;
	ps_store_info(c->s, &in);
	if (in.have && (tag_of(in.name) != (int)in.version || in.hubs != 1 ||
			in.routes != 1 || in.bytes == 0))
		snprintf(c->why, sizeof(c->why), "info: v%u named %s, %u hubs",
			 in.version, in.name, in.hubs);
	unsigned n = ps_store_history(c->s, h);
	for (unsigned i = 0; i < n; i++)
		if (tag_of(h[i].name) != (int)h[i].version ||
		    (i && h[i].version >= h[i - 1].version))
			snprintf(c->why, sizeof(c->why), "history[%u]: v%u "
				 "named %s", i, h[i].version, h[i].name);
	if (ps_store_active_src(c->s, &src, &v) == 0) {
		if (tag_of(src.name) != (int)v || src.n_hubs != 1 ||
		    src.hubs[0].id != v)
			snprintf(c->why, sizeof(c->why), "model of v%u: %s, "
				 "hub %u", v, src.name,
				 src.n_hubs ? src.hubs[0].id : 0);
		ps_plan_src_free(&src);
	}
	ps_store_schedule_info(c->s, &si);
	uint64_t at;
	char name[64];
	if (si.pending && tag_of(si.name) < 0)
		snprintf(c->why, sizeof(c->why), "schedule named %s", si.name);
	if (ps_store_scheduled(c->s, &at, name, sizeof(name)) &&
	    tag_of(name) < 0)
		snprintf(c->why, sizeof(c->why), "scheduled named %s", name);
	c->error = c->why[0] != 0;
}

static void *copier_main(void *arg)
{
	struct copier *c = arg;      /* deliberately not an RCU reader */
	while (!*c->stop && !c->error) {
		copier_check(c);
		c->rounds++;
	}
	return NULL;
}

static void schedule_tagged(struct ps_store *s, uint32_t tag, uint64_t at)
{
	char t[256];
	struct ps_errors e;
	uint32_t v = 1;
	ps_errors_init(&e);
	int n = plan_text(t, sizeof(t), tag);
	cr_assert_eq(ps_store_load_text(s, t, (size_t)n, "s.plan", at, &e, &v),
		     0, "%s", e.n ? e.msg[0] : "");
	cr_assert_eq(v, 0);
	ps_errors_free(&e);
}

Test(store, copies_stay_whole_while_plans_are_committed, .timeout = 120)
{
	struct ps_store *s = open_store(NULL, 1, NULL);
	volatile int stop = 0;
	struct copier c = { s, &stop };
	pthread_t t;
	struct ps_errors e;
	ps_errors_init(&e);
	load(s, 1);
	pthread_create(&t, NULL, copier_main, &c);
	uint32_t v = 2;
	while (v <= 1500 && !c.error) {
		if (v % 5 == 0) {
			/* a scheduled activation: it gets the next version */
			uint64_t at = ps_now_ms() + 3600000;
			schedule_tagged(s, v, at);
			cr_assert_eq(ps_store_tick(s, at, &e), 1);
		} else {
			cr_assert_eq(load(s, v), v);
		}
		v++;
	}
	stop = 1;
	pthread_join(t, NULL);
	cr_assert_eq(c.error, 0, "%s", c.why);
	cr_assert_gt(c.rounds, 100, "the reader ran alongside the commits");
	copier_check(&c);
	cr_assert_eq(c.error, 0, "%s", c.why);
	struct ps_plan_info in;
	ps_store_info(s, &in);
	cr_assert_eq(in.version, 1500);
	ps_errors_free(&e);
	ps_store_close(s);
}

/* A thread that is not a registered QSBR reader cannot read the plan
 * through the workers' slot: it would read plans a commit frees. */
static void *unregistered_read(void *arg)
{
	return ps_store_plan_rcu(ps_store_dataplane_slot(arg));
}

Test(store, slot_refuses_unregistered_readers, .signal = SIGABRT)
{
	struct ps_store *s = open_store(NULL, 1, NULL);
	pthread_t t;
	load(s, 1);
	/* the abort below skips the suite's fini: the state directory goes
	 * now (the store has what it needs in memory) */
	rmstate();
	pthread_create(&t, NULL, unregistered_read, s);
	pthread_join(t, NULL);
}

/* --------------------------------------- failures the store survives */

static int exists(const char *name)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* Issue #12 item 7: a scheduled activation that fails stays pending with
 * its saved file, says why, and is retried at a bounded rate. */
Test(store, failed_scheduled_activation_stays_pending_and_retries)
{
	struct ps_store *s = open_store(NULL, 0, NULL);
	load(s, 1);
	uint64_t at = ps_now_ms() + 3600000;
	schedule_tagged(s, 2, at);
	/* a directory where the commit writes its temporary file: the
	 * activation fails as a disk error would (root ignores modes) */
	char blocker[256];
	snprintf(blocker, sizeof(blocker), "%s/.plan-0000000002.plan.tmp", dir);
	cr_assert_eq(mkdir(blocker, 0700), 0);
	struct ps_errors e;
	ps_errors_init(&e);
	cr_assert_eq(ps_store_tick(s, at, &e), -1);
	cr_assert_gt(e.n, 0);
	cr_assert_eq(active(s)->version, 1, "the plan in force stays");
	struct ps_schedule_info si;
	ps_store_schedule_info(s, &si);
	cr_assert_eq(si.pending, 1, "a failed activation stays pending");
	cr_assert_eq(si.at_ms, at);
	cr_assert_str_eq(si.name, "v2");
	cr_assert_eq(si.attempts, 1);
	cr_assert(strstr(si.last_error, "Is a directory"), "%s",
		  si.last_error);
	cr_assert_geq(si.next_try_ms, at + PS_SCHED_RETRY_MIN_MS);
	cr_assert(exists("scheduled.plan"), "its saved file stays");
	/* not retried before its time, even once the cause is gone */
	cr_assert_eq(ps_store_tick(s, at + 10, &e), 0);
	ps_store_schedule_info(s, &si);
	cr_assert_eq(si.attempts, 1);
	/* a second failure doubles the wait */
	cr_assert_eq(ps_store_tick(s, si.next_try_ms, &e), -1);
	uint64_t first = si.next_try_ms;
	ps_store_schedule_info(s, &si);
	cr_assert_eq(si.attempts, 2);
	cr_assert_eq(si.next_try_ms, first + 2 * PS_SCHED_RETRY_MIN_MS);
	/* it survives a restart */
	ps_store_close(s);
	s = open_store(NULL, 0, NULL);
	cr_assert_eq(ps_store_tick(s, at, &e), -1, "still failing");
	/* the cause fixed, the next due tick activates it */
	cr_assert_eq(rmdir(blocker), 0);
	ps_store_schedule_info(s, &si);
	ps_errors_free(&e);
	ps_errors_init(&e);
	cr_assert_eq(ps_store_tick(s, si.next_try_ms, &e), 1, "%s",
		     e.n ? e.msg[0] : "");
	cr_assert_eq(active(s)->version, 2);
	cr_assert_eq(hub_of_33(s), 2);
	ps_store_schedule_info(s, &si);
	cr_assert_eq(si.pending, 0);
	cr_assert_eq(si.attempts, 0);
	cr_assert(!exists("scheduled.plan"), "spent");
	ps_errors_free(&e);
	ps_store_close(s);
}

/* Issue #12 item 11: a commit whose directory fsync fails may not survive
 * a crash, so it is refused and the old plan stays, on disk too. */
Test(store, failed_directory_fsync_refuses_commit)
{
	struct ps_store *s = open_store(NULL, 0, NULL);
	load(s, 1);
	char t[256];
	int n = plan_text(t, sizeof(t), 2);
	struct ps_errors e;
	uint32_t v = 0;
	ps_errors_init(&e);
	/* first the plan file's directory fsync, then the pointer's */
	for (unsigned skip = 0; skip < 2; skip++) {
		ps_fault_arm(PS_FAULT_DIR_FSYNC, skip, 1, EIO);
		cr_assert_eq(ps_store_load_text(s, t, (size_t)n, "t", 0, &e,
						&v), -1, "skip %u", skip);
		cr_assert(strstr(e.msg[e.n - 1], "refused"), "%s",
			  e.msg[e.n - 1]);
		cr_assert(strstr(e.msg[e.n - 1], "fsync"), "%s",
			  e.msg[e.n - 1]);
		cr_assert_eq(active(s)->version, 1);
		struct ps_plan_info in;
		ps_store_info(s, &in);
		cr_assert_eq(in.version, 1);
		struct ps_history_entry h[PS_HISTORY];
		cr_assert_eq(ps_store_history(s, h), 1);
		cr_assert(!exists("plan-0000000002.plan"));
	}
	ps_fault_arm(PS_FAULT_DIR_FSYNC, 0, 0, 0);
	ps_store_close(s);
	s = open_store(NULL, 0, NULL);
	cr_assert_eq(active(s)->version, 1, "the disk names the old plan");
	cr_assert_eq(hub_of_33(s), 1);
	cr_assert_eq(load(s, 2), 2);
	ps_errors_free(&e);
	ps_store_close(s);
}

/* Issue #12 item 12: the stored model is copied before the plan is
 * published; a failed copy refuses the commit whole. */
Test(store, failed_model_copy_refuses_commit)
{
	struct ps_store *s = open_store(NULL, 1, NULL);
	load(s, 1);
	char t[256];
	int n = plan_text(t, sizeof(t), 2);
	struct ps_errors e;
	uint32_t v = 0;
	ps_errors_init(&e);
	ps_fault_arm(PS_FAULT_MODEL_COPY, 0, 1, ENOMEM);
	cr_assert_eq(ps_store_load_text(s, t, (size_t)n, "t", 0, &e, &v), -1);
	cr_assert(strstr(e.msg[0], "out of memory"), "%s", e.msg[0]);
	cr_assert_eq(active(s)->version, 1, "not published");
	struct ps_plan_src src;
	cr_assert_eq(ps_store_active_src(s, &src, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_str_eq(src.name, "v1", "the model is the plan in force");
	ps_plan_src_free(&src);
	/* staged edits start from the plan in force */
	cr_assert_eq(ps_txn_begin(s, &e), 0);
	cr_assert_eq(ps_txn_src(s, &src), 0);
	cr_assert_str_eq(src.name, "v1");
	ps_plan_src_free(&src);
	cr_assert_eq(ps_txn_abort(s, &e), 0);
	cr_assert_eq(load(s, 2), 2, "the next commit goes through");
	cr_assert_eq(ps_store_active_src(s, &src, &v), 0);
	cr_assert_str_eq(src.name, "v2");
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	ps_store_close(s);
}
