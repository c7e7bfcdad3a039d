/* test_control.c: the control plane: plan diffs, request framing and
 * argument parsing, the command table and the text renderers, commands
 * run through ps_ctl_execute against a real store (regressions found by
 * fuzz_ctl; bounded names, refusals and answers), and the control socket
 * itself (idle deadlines, a full client table, commits under readers). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_client.h"
#include "ctl_proto.h"
#include "ctl_render.h"
#include "ctl_server.h"
#include "ctl_table.h"
#include "hour_rates.h"
#include "plan_diff.h"

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

#define BASE "plan a\nsite 1 33\nreject 9\nhub 1 trunk T\nhub 2 county C\n"

Test(diff, against_no_plan_everything_is_added)
{
	/* regression (fuzz_ctl): diffing against an empty model read its
	 * absent chute pool */
	struct ps_plan_src empty, b = parse(BASE "route 33 1 5\ndefault 2 6\n");
	struct ps_out o;
	ps_plan_src_init(&empty);
	ps_out_init(&o);
	long n = ps_plan_diff(&empty, &b, &o, 0);
	cr_assert_gt(n, 0);
	cr_assert(strstr(o.buf, "+ route 33 1 5\n"), "%s", o.buf);
	cr_assert(strstr(o.buf, "+ hub 2 county C\n"));
	cr_assert(strstr(o.buf, "~ no default -> default 2 6\n"), "%s", o.buf);
	cr_assert(strstr(o.buf, "+ chute 5\n"));
	ps_out_free(&o);
	ps_plan_src_free(&b);
}

Test(diff, added_removed_changed_and_json)
{
	struct ps_plan_src a = parse(BASE "route 33 1 5\nroute 3307 2 6\n"
				     "rule 1 2 7 carrier=SF\n"),
			   b = parse(BASE "route 33 1 5,8\nroute 11 2 6\n"
				     "rule 1 2 7 carrier=SF\n");
	struct ps_out o;
	ps_out_init(&o);
	cr_assert_eq(ps_plan_diff(&a, &b, &o, 0), 4);
	cr_assert(strstr(o.buf, "~ route 33 1 5 -> route 33 1 5,8\n"), "%s", o.buf);
	cr_assert(strstr(o.buf, "+ route 11 2 6\n"));
	cr_assert(strstr(o.buf, "- route 3307 2 6\n"));
	cr_assert(strstr(o.buf, "+ chute 8\n"));
	ps_out_free(&o);
	ps_out_init(&o);
	cr_assert_eq(ps_plan_diff(&a, &a, &o, 1), 0);
	cr_assert(strstr(o.buf, "\"differences\":0}"), "%s", o.buf);
	ps_out_free(&o);
	ps_plan_src_free(&a);
	ps_plan_src_free(&b);
}

Test(proto, header_and_arguments)
{
	struct ps_ctl_hdr h = { PS_CTL_REQ_MAGIC, 1, PS_CTL_STATUS, 1, 3 }, back;
	uint8_t b[16];
	const char *why;
	ps_ctl_hdr_encode(b, &h);
	ps_ctl_hdr_decode(b, &back);
	cr_assert_eq(memcmp(&h, &back, sizeof(h)), 0);
	cr_assert_eq(ps_ctl_req_check(&back, &why), 0);
	back.magic ^= 1;
	cr_assert_eq(ps_ctl_req_check(&back, &why), -1);
	back = h;
	back.code = PS_CTL_CMD_MAX;
	cr_assert_eq(ps_ctl_req_check(&back, &why), -1);
	back = h;
	back.len = PS_CTL_MAX_REQUEST + 1;
	cr_assert_eq(ps_ctl_req_check(&back, &why), -1);
	back = h;
	back.flags = 2;
	cr_assert_eq(ps_ctl_req_check(&back, &why), -1);
	struct ps_ctl_args a;
	cr_assert_eq(ps_ctl_args_parse((const uint8_t *)"ab\0c\0", 5, &a, &why), 0);
	cr_assert_eq(a.n, 2);
	cr_assert_str_eq(a.v[1], "c");
	cr_assert_eq(ps_ctl_args_parse((const uint8_t *)"ab", 2, &a, &why), -1);
}

static struct ps_counters zero;
static void sum(void *arg, struct ps_counters *out)
{
	(void)arg;
	memcpy(out, &zero, sizeof(*out));
}
static void ports(void *arg, struct ps_out *o, int json)
{
	(void)arg;
	ps_out_printf(o, json ? "[]" : "");
}

static int run(struct ps_ctl_server *s, uint16_t cmd, const char *body,
	       size_t len, struct ps_out *o)
{
	ps_out_free(o);
	ps_out_init(o);
	return ps_ctl_execute(s, cmd, 0, (const uint8_t *)body, len, o);
}

Test(commands, refusals_carry_their_reason)
{
	char dir[] = "/tmp/ps-ctl-test-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct ps_store_cfg cfg = { .state_dir = dir, .no_fsync = 1 };
	struct ps_errors e;
	ps_errors_init(&e);
	struct ps_store *st = ps_store_open(&cfg, &e, NULL, 0);
	struct ps_ctl_daemon d = { .store = st, .sum_counters = sum,
				   .describe_ports = ports, .n_workers = 1 };
	struct ps_ctl_server *s = ps_ctl_new(&d);
	struct ps_out o;
	ps_out_init(&o);
	/* no plan yet: diff, show, route get */
	cr_assert_eq(run(s, PS_CTL_PLAN_DIFF, "x\0" BASE "route 33 1 5\n",
			 sizeof("x\0" BASE "route 33 1 5\n"), &o), PS_CTL_OK);
	cr_assert(strstr(o.buf, "+ route 33 1 5"));
	cr_assert_eq(run(s, PS_CTL_PLAN_SHOW, "", 0, &o), PS_CTL_ERR_REFUSED);
	cr_assert_eq(run(s, PS_CTL_ROUTE_GET, "330782000000", 13, &o), PS_CTL_OK);
	cr_assert(strstr(o.buf, "NO_PLAN"), "%s", o.buf);
	/* malformed arguments and values */
	cr_assert_eq(run(s, PS_CTL_ROUTE_GET, "33x", 4, &o), PS_CTL_ERR_USAGE);
	cr_assert_gt(o.len, 0);
	cr_assert_eq(run(s, PS_CTL_CHUTE_SET, "disable\0" "0", 10, &o),
		     PS_CTL_ERR_USAGE);
	cr_assert_eq(run(s, PS_CTL_PLAN_LOAD, "x", 1, &o), PS_CTL_ERR_USAGE);
	cr_assert_eq(run(s, PS_CTL_COMMIT, "", 0, &o), PS_CTL_ERR_REFUSED);
	cr_assert(strstr(o.buf, "no transaction"), "%s", o.buf);
	ps_out_free(&o);
	ps_ctl_free(s);
	ps_store_close(st);
	ps_errors_free(&e);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ------------------------------------------------ a store and a server */

struct fixture {
	char dir[64];
	struct ps_store *st;
	struct ps_ctl_server *s;
	struct ps_out o;
};

static void fixture_open(struct fixture *f, const struct ps_ctl_limits *lim,
			 const char *sock)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-ctl-test-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	struct ps_store_cfg cfg = { .state_dir = f->dir, .no_fsync = 1 };
	struct ps_errors e;
	ps_errors_init(&e);
	f->st = ps_store_open(&cfg, &e, NULL, 0);
	cr_assert_not_null(f->st);
	ps_errors_free(&e);
	struct ps_ctl_daemon d = { .store = f->st, .sum_counters = sum,
				   .describe_ports = ports, .n_workers = 1 };
	if (lim)
		d.limits = *lim;
	if (sock) {
		char path[128], err[256];
		snprintf(path, sizeof(path), "%s/%s", f->dir, sock);
		f->s = ps_ctl_start(path, &d, err, sizeof(err));
		cr_assert_not_null(f->s, "%s", err);
	} else {
		f->s = ps_ctl_new(&d);
	}
	ps_out_init(&f->o);
}

static void fixture_close(struct fixture *f, int started)
{
	ps_out_free(&f->o);
	if (started)
		ps_ctl_stop(f->s);
	else
		ps_ctl_free(f->s);
	ps_store_close(f->st);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	cr_assert_eq(system(cmd), 0);
}

/* A request body: NAME, then a plan of `bad` lines the parser refuses. */
static char *bad_plan_request(size_t name_len, unsigned bad, size_t *len)
{
	struct ps_out b;
	ps_out_init(&b);
	char *name = malloc(name_len + 1);
	memset(name, 'n', name_len);
	name[name_len] = 0;
	ps_out_write(&b, name, name_len + 1);
	free(name);
	ps_out_printf(&b, BASE);
	for (unsigned i = 0; i < bad; i++)
		ps_out_printf(&b, "route 3307x 1 1\n");
	ps_out_write(&b, "", 1);
	*len = b.len;
	return b.buf;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(bounds, a_huge_plan_name_is_a_usage_error)
{
	/* regression (#12.1): the name labels every error of the plan and
	 * was copied per error: a 2 MB name took the daemon to 4.3 GB */
	struct fixture f;
	size_t len;
	fixture_open(&f, NULL, NULL);
	char *req = bad_plan_request(64 * 1024, 50, &len);
	cr_assert_eq(run(f.s, PS_CTL_PLAN_LOAD, req, len, &f.o),
		     PS_CTL_ERR_USAGE);
	cr_assert_lt(f.o.len, 1024, "%zu bytes", f.o.len);
	cr_assert(strstr(f.o.buf, "NAME"), "%s", f.o.buf);
	cr_assert_eq(run(f.s, PS_CTL_PLAN_DIFF, req, len, &f.o),
		     PS_CTL_ERR_USAGE);
	cr_assert_lt(f.o.len, 1024);
	free(req);
	/* a name of the longest allowed length still labels the errors */
	req = bad_plan_request(PS_CTL_MAX_NAME, 3, &len);
	cr_assert_eq(run(f.s, PS_CTL_PLAN_LOAD, req, len, &f.o),
		     PS_CTL_ERR_REFUSED);
	cr_assert(strstr(f.o.buf, "nnnn:6: "), "%s", f.o.buf);
	free(req);
	fixture_close(&f, 0);
}

Test(bounds, a_refusal_shows_a_bounded_list_and_counts_the_rest)
{
	/* regression (#12.1): every one of up to 1,000 errors went into the
	 * answer */
	struct fixture f;
	size_t len;
	fixture_open(&f, NULL, NULL);
	char *req = bad_plan_request(10, 1500, &len);
	cr_assert_eq(run(f.s, PS_CTL_PLAN_LOAD, req, len, &f.o),
		     PS_CTL_ERR_REFUSED);
	cr_assert_eq(count_lines(f.o.buf), 101, "%u lines",
		     count_lines(f.o.buf));
	cr_assert(strstr(f.o.buf, "... and 1400 more errors\n"), "%s",
		  f.o.buf + f.o.len - 80);
	ps_out_free(&f.o);
	ps_out_init(&f.o);
	cr_assert_eq(ps_ctl_execute(f.s, PS_CTL_PLAN_LOAD, PS_CTL_F_JSON,
				    (const uint8_t *)req, len, &f.o),
		     PS_CTL_ERR_REFUSED);
	cr_assert(strstr(f.o.buf, "],\"more\":1400}"), "%s",
		  f.o.buf + f.o.len - 80);
	free(req);
	fixture_close(&f, 0);
}

Test(bounds, an_answer_over_the_limit_is_an_error_that_says_so)
{
	/* regression (#12.1): an answer's length did not fit the 32-bit
	 * field it was kept in; now no answer exceeds the limit */
	struct ps_ctl_limits lim = { .max_answer = 120 };
	struct fixture f;
	uint32_t v;
	struct ps_errors e;
	const char *plan = BASE "route 33 1 5\nroute 3307 2 6\nroute 11 1 7\n"
			   "route 12 1 8\nroute 13 1 9\nroute 14 1 10\n";
	fixture_open(&f, &lim, NULL);
	ps_errors_init(&e);
	cr_assert_eq(ps_store_load_text(f.st, plan, strlen(plan), "t", 0, &e,
					&v), 0);
	ps_errors_free(&e);
	cr_assert_eq(run(f.s, PS_CTL_PLAN_SHOW, "", 0, &f.o),
		     PS_CTL_ERR_INTERNAL);
	cr_assert_leq(f.o.len, 120);
	cr_assert(strstr(f.o.buf, "longer than"), "%s", f.o.buf);
	cr_assert_eq(run(f.s, PS_CTL_STATUS, "", 0, &f.o), PS_CTL_ERR_INTERNAL);
	fixture_close(&f, 0);
}

/* ------------------------------------------- text for version 1 clients */

Test(compat, a_text_request_gets_the_text_a_json_one_the_json)
{
	struct fixture f;
	const char req[] = "x\0" BASE "route 33 1 5\n";
	fixture_open(&f, NULL, NULL);
	cr_assert_eq(run(f.s, PS_CTL_PLAN_LOAD, req, sizeof(req), &f.o),
		     PS_CTL_OK);
	cr_assert_str_eq(f.o.buf, "committed version 1\n");
	ps_out_free(&f.o);
	ps_out_init(&f.o);
	cr_assert_eq(ps_ctl_execute(f.s, PS_CTL_PLAN_HISTORY, PS_CTL_F_JSON,
				    (const uint8_t *)"", 0, &f.o), PS_CTL_OK);
	cr_assert(strstr(f.o.buf, "\"version\":1,"), "%s", f.o.buf);
	cr_assert(strstr(f.o.buf, "\"active\":true"), "%s", f.o.buf);
	/* the CLI renders the same text from the JSON */
	struct ps_out t;
	ps_out_init(&t);
	cr_assert_eq(ps_ctl_render(PS_CTL_PLAN_HISTORY, PS_CTL_OK, f.o.buf,
				   f.o.len, &t), 0);
	cr_assert(strstr(t.buf, "\n*1 "), "%s", t.buf);
	ps_out_free(&t);
	cr_assert_eq(run(f.s, PS_CTL_PLAN_HISTORY, "", 0, &f.o), PS_CTL_OK);
	cr_assert(strstr(f.o.buf, "\n*1 "), "%s", f.o.buf);
	/* an error in JSON, and its text */
	ps_out_free(&f.o);
	ps_out_init(&f.o);
	cr_assert_eq(ps_ctl_execute(f.s, PS_CTL_COMMIT, PS_CTL_F_JSON,
				    (const uint8_t *)"", 0, &f.o),
		     PS_CTL_ERR_REFUSED);
	cr_assert(!strncmp(f.o.buf, "{\"errors\":[\"", 11), "%s", f.o.buf);
	ps_out_init(&t);
	ps_ctl_render(PS_CTL_COMMIT, PS_CTL_ERR_REFUSED, f.o.buf, f.o.len, &t);
	cr_assert(strstr(t.buf, "no transaction"), "%s", t.buf);
	ps_out_free(&t);
	/* text from a daemon of old is shown as it came */
	ps_out_init(&t);
	cr_assert_eq(ps_ctl_render(PS_CTL_STATUS, PS_CTL_OK, "plain\n", 6, &t),
		     -1);
	cr_assert_str_eq(t.buf, "plain\n");
	ps_out_free(&t);
	fixture_close(&f, 0);
}

Test(table, rows_drive_names_access_and_matching)
{
	char *route_add[] = { "route", "add", "3307", "1", "5" };
	char *stats_reset[] = { "stats", "reset" };
	char *stats[] = { "stats", "--watch" };
	char *nothing[] = { "frobnicate" };
	unsigned form;
	int used;
	char words[32];
	cr_assert_str_eq(ps_ctl_cmd_name(PS_CTL_PLAN_LOAD), "plan load");
	cr_assert_str_eq(ps_ctl_cmd_name(PS_CTL_CMD_MAX), "?");
	cr_assert(ps_ctl_cmd_readonly(PS_CTL_STATUS));
	cr_assert(!ps_ctl_cmd_readonly(PS_CTL_COMMIT));
	cr_assert_eq(ps_ctl_cmd_match(5, route_add, &form, &used), PS_CTL_EDIT);
	cr_assert_eq(used, 2);
	ps_ctl_cmd_words(PS_CTL_EDIT, form, words, sizeof(words));
	cr_assert_str_eq(words, "route add");
	cr_assert_eq(ps_ctl_cmd_match(2, stats_reset, &form, &used),
		     PS_CTL_STATS_RESET);
	cr_assert_eq(ps_ctl_cmd_match(2, stats, &form, &used), PS_CTL_STATS);
	cr_assert_eq(used, 1);
	cr_assert_eq(ps_ctl_cmd_match(1, nothing, &form, &used), 0);
	struct ps_out o;
	ps_out_init(&o);
	ps_ctl_help(&o);
	cr_assert(strstr(o.buf, "\n  chute enable N [N...]\n"), "%s", o.buf);
	ps_out_free(&o);
}

/* ------------------------------------------------------- the socket */

static int connect_silent(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

Test(socket, silent_connections_cannot_lock_others_out)
{
	/* regression (#12.4): 64 silent connections filled the client table
	 * and every later client was closed unanswered */
	struct fixture f;
	char path[128], err[256];
	int fds[PS_CTL_MAX_CLIENTS + 8];
	fixture_open(&f, NULL, "ctl.sock");
	snprintf(path, sizeof(path), "%s/ctl.sock", f.dir);
	for (int i = 0; i < PS_CTL_MAX_CLIENTS + 8; i++)
		fds[i] = connect_silent(path);
	usleep(300000);              /* the server has taken them all */
	for (int k = 0; k < 3; k++) {
		struct ps_out body;
		struct ps_ctl_reply rep;
		ps_out_init(&body);
		cr_assert_eq(ps_ctl_call(path, PS_CTL_STATUS, 0, &body, &rep,
					 err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(rep.status, PS_CTL_OK);
		cr_assert(strstr(rep.body, "parcelsortd"), "%s", rep.body);
		ps_ctl_reply_free(&rep);
	}
	for (int i = 0; i < PS_CTL_MAX_CLIENTS + 8; i++)
		close(fds[i]);
	fixture_close(&f, 1);
}

Test(socket, a_silent_connection_is_closed_at_the_idle_deadline)
{
	/* regression (#12.4): the deadline only started with a first byte */
	struct ps_ctl_limits lim = { .idle_ms = 300 };
	struct fixture f;
	char path[128], b[16];
	fixture_open(&f, &lim, "ctl.sock");
	snprintf(path, sizeof(path), "%s/ctl.sock", f.dir);
	int fd = connect_silent(path);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(read(fd, b, sizeof(b)), 0, "not closed by the server");
	close(fd);
	fixture_close(&f, 1);
}

/* -------------------------------------- readers while plans are committed */

struct committer {
	struct ps_store *st;
	int rounds, failed;
	volatile int done;
};

static void *commit_loop(void *arg)
{
	struct committer *c = arg;
	for (int i = 0; i < c->rounds; i++) {
		char plan[256];
		struct ps_errors e;
		uint32_t v;
		snprintf(plan, sizeof(plan), "plan p%d\nsite 1 33\nreject 9\n"
			 "hub 1 trunk T\nroute 33 1 %d\n", i, 5 + i % 50);
		ps_errors_init(&e);
		if (ps_store_load_text(c->st, plan, strlen(plan), "loop", 0, &e,
				       &v))
			c->failed++;
		ps_errors_free(&e);
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(readers, status_and_history_while_plans_are_committed)
{
	/* regression (#12.5): readers of the active plan's identity read a
	 * plan a commit had freed; run under ASan by the test command */
	struct fixture f;
	pthread_t t;
	fixture_open(&f, NULL, NULL);
	struct committer c = { .st = f.st, .rounds = 300 };
	cr_assert_eq(pthread_create(&t, NULL, commit_loop, &c), 0);
	unsigned reads = 0;
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE) || reads < 20) {
		uint32_t flags = reads % 2 ? PS_CTL_F_JSON : 0;
		ps_out_free(&f.o);
		ps_out_init(&f.o);
		cr_assert_eq(ps_ctl_execute(f.s, PS_CTL_STATUS, flags,
					    (const uint8_t *)"", 0, &f.o),
			     PS_CTL_OK);
		cr_assert(strstr(f.o.buf, "plan"), "%s", f.o.buf);
		ps_out_free(&f.o);
		ps_out_init(&f.o);
		cr_assert_eq(ps_ctl_execute(f.s, PS_CTL_PLAN_HISTORY, flags,
					    (const uint8_t *)"", 0, &f.o),
			     PS_CTL_OK);
		reads++;
	}
	pthread_join(t, NULL);
	cr_assert_eq(c.failed, 0);
	cr_assert_eq(run(f.s, PS_CTL_STATUS, "", 0, &f.o), PS_CTL_OK);
	cr_assert(strstr(f.o.buf, "plan:      p299 v300"), "%s", f.o.buf);
	fixture_close(&f, 0);
}

/* ------------------------------------ a failed scheduled activation */

/* Issue #12.7: a scheduled activation that fails says why in status (the
 * JSON and the CLI's text): how many attempts failed, the last reason and
 * when it is tried again. */
Test(status, a_failed_scheduled_activation_says_why)
{
	struct fixture f;
	const char v1[] = BASE "route 33 1 5\n", v2[] = BASE "route 33 2 5\n";
	struct ps_errors e;
	uint32_t v;
	fixture_open(&f, NULL, NULL);
	ps_errors_init(&e);
	cr_assert_eq(ps_store_load_text(f.st, v1, strlen(v1), "v1", 0, &e, &v),
		     0);
	uint64_t at = ps_now_ms() + 3600000;
	cr_assert_eq(ps_store_load_text(f.st, v2, strlen(v2), "v2", at, &e, &v),
		     0);
	cr_assert_eq(v, 0, "scheduled");
	/* the commit's temporary file cannot be made: a disk error */
	char blocker[128];
	snprintf(blocker, sizeof(blocker), "%s/.plan-0000000002.plan.tmp",
		 f.dir);
	cr_assert_eq(mkdir(blocker, 0700), 0);
	cr_assert_eq(ps_store_tick(f.st, at, &e), -1);
	ps_errors_free(&e);
	ps_out_free(&f.o);
	ps_out_init(&f.o);
	cr_assert_eq(ps_ctl_execute(f.s, PS_CTL_STATUS, PS_CTL_F_JSON,
				    (const uint8_t *)"", 0, &f.o), PS_CTL_OK);
	cr_assert(strstr(f.o.buf, "\"scheduled\":{\"name\":\"a\""), "%s",
		  f.o.buf);
	cr_assert(strstr(f.o.buf, "\"failed_attempts\":1,"), "%s", f.o.buf);
	char next[64];
	snprintf(next, sizeof(next), "\"next_try_ms\":%llu,",
		 (unsigned long long)at + PS_SCHED_RETRY_MIN_MS);
	cr_assert(strstr(f.o.buf, next), "%s", f.o.buf);
	cr_assert(strstr(f.o.buf, "\"last_error\":\"commit: refused"), "%s",
		  f.o.buf);
	cr_assert(strstr(f.o.buf, "Is a directory"), "%s", f.o.buf);
	struct ps_out t;
	ps_out_init(&t);
	cr_assert_eq(ps_ctl_render(PS_CTL_STATUS, PS_CTL_OK, f.o.buf, f.o.len,
				   &t), 0);
	cr_assert(strstr(t.buf, "scheduled: a at "), "%s", t.buf);
	cr_assert(strstr(t.buf, "activation failed 1 time, next try at "),
		  "%s", t.buf);
	cr_assert(strstr(t.buf, "Is a directory"), "%s", t.buf);
	ps_out_free(&t);
	/* once it is activated, status has nothing pending */
	cr_assert_eq(rmdir(blocker), 0);
	ps_errors_init(&e);
	cr_assert_eq(ps_store_tick(f.st, at + PS_SCHED_RETRY_MIN_MS, &e), 1);
	ps_errors_free(&e);
	cr_assert_eq(run(f.s, PS_CTL_STATUS, "", 0, &f.o), PS_CTL_OK);
	cr_assert_null(strstr(f.o.buf, "scheduled:"), "%s", f.o.buf);
	cr_assert_null(strstr(f.o.buf, "activation failed"), "%s", f.o.buf);
	fixture_close(&f, 0);
}

/* ------------------------------------------------------------- stats */

/* Every counter of counters.h's lists its own value. */
static void distinct_counters(void)
{
	memset(&zero, 0, sizeof(zero));
	for (unsigned i = 0; i < PS_CNT_COUNT; i++)
		*(uint64_t *)((char *)&zero + ps_counter_descs[i].offset) =
			1000 + i;
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		zero.drops[i] = 100 + i;
	for (unsigned i = 0; i < PS_ANS_COUNT; i++)
		zero.answered[i] = 200 + i;
	for (unsigned i = 0; i < PS_REASON_COUNT; i++)
		zero.records_by_reason[i] = 300 + i;
	for (unsigned i = 0; i < PS_TIER_COUNT; i++)
		zero.records_by_tier[i] = 400 + i;
}

/* "dedup_hits" -> "dedup" "hits"; "rx_frames" -> NULL "rx_frames". */
static json_t *stats_member(json_t *j, const char *name)
{
	static const char *const groups[] = { "dedup", "export" };
	for (unsigned g = 0; g < 2; g++) {
		size_t n = strlen(groups[g]);
		if (!strncmp(name, groups[g], n) && name[n] == '_')
			return json_object_get(json_object_get(j, groups[g]),
					       name + n + 1);
	}
	return json_object_get(j, name);
}

Test(stats, every_counter_of_the_lists_is_in_the_answer)
{
	struct fixture f;
	distinct_counters();
	fixture_open(&f, NULL, NULL);
	cr_assert_eq(ps_ctl_execute(f.s, PS_CTL_STATS, PS_CTL_F_JSON,
				    (const uint8_t *)"", 0, &f.o), PS_CTL_OK);
	json_t *j = json_loadb(f.o.buf, f.o.len, 0, NULL);
	cr_assert_not_null(j, "%s", f.o.buf);
	for (unsigned i = 0; i < PS_CNT_COUNT; i++) {
		json_t *v = stats_member(j, ps_counter_descs[i].name);
		cr_assert(json_is_integer(v), "%s missing from stats: %s",
			  ps_counter_descs[i].name, f.o.buf);
		cr_assert_eq(json_integer_value(v), 1000 + i, "%s",
			     ps_counter_descs[i].name);
	}
	for (unsigned i = 0; i < PS_DROP_COUNT; i++)
		cr_assert_eq(json_integer_value(json_object_get(
			json_object_get(j, "drops"), ps_drop_name(i))), 100 + i);
	for (unsigned i = 0; i < PS_ANS_COUNT; i++)
		cr_assert_eq(json_integer_value(json_object_get(
			json_object_get(j, "answered"), ps_answer_name(i))),
			200 + i);
	/* the members clients of old read are all there */
	static const char *const old[] = { "rx_frames", "rx_bytes",
		"tx_frames", "tx_bytes", "records", "busy_percent", "rates",
		"reasons", "tiers", "drops", "answered", "dedup", "export" };
	for (unsigned i = 0; i < sizeof(old) / sizeof(old[0]); i++)
		cr_assert_not_null(json_object_get(j, old[i]), "%s", old[i]);
	cr_assert(json_is_false(json_object_get(json_object_get(j, "export"),
						"enabled")));
	json_decref(j);
	fixture_close(&f, 0);
}

/* `stats` as text, as parcelsortctl printed it before the counters came
 * from the lists (distinct_counters()); the sorter loop's lines follow
 * (invalid: the four sort_invalid_* counters summed, 1023..1026; chute
 * states invalid: the four chute_states_invalid_*, 1010..1013). */
static const char STATS_TEXT[] =
	"rates     rx 0.000 Mpps  tx 0.000 Mpps  0.000 M records/s "
	" 0 drops/s  workers 50.0% busy\n"
	"frames    rx 1000 (1001 bytes)  tx 1002 (1003 bytes) "
	" dropped 2553\n"
	"records   1004\n"
	"  ROUTED                        300\n"
	"  OVERRIDE                      301\n"
	"  DEFAULT                       302\n"
	"  DUPLICATE                     303\n"
	"  TRACK_ONLY                    304\n"
	"  NO_ROUTE                      305\n"
	"  NOREAD                        306\n"
	"  BAD_BARCODE                   307\n"
	"  MALFORMED_RECORD              308\n"
	"  CHUTE_UNAVAILABLE             309\n"
	"  NO_PLAN                       310\n"
	"  INTERCEPTED                   311\n"
	"  RECIRC_LIMIT                  312\n"
	"tiers     trunk 401 county 402 township 403 village 404"
	" special 405\n"
	"drops     not_for_us 100 l2 101 ethertype 102 arp 103"
	" ip_header 104 ip_checksum 105 fragment 106 not_our_ip 107"
	" protocol 108 icmp 109 udp_length 110 udp_checksum 111 port"
	" 112 not_allowed 113 hdr_short 114 hdr_magic 115"
	" hdr_version 116 hdr_kind 117 hdr_count 118 hdr_flags 119"
	" hdr_length 120 tx_full 121 not_sorter 122\n"
	"duplicate window: 1005 remembered, 1006 hits, 1007 evicted\n"
	/* the sorter loop's lines (#13.3), after the lines of old */
	"sort results sorted 1014 chute_full 1015 chute_blocked 1016"
	" discharge_failed 1017 no_destination 1018 lost 1019\n"
	"          missorts 1020  unknown 1021  held 1022  invalid 4098"
	"  rounds 1027  intercepts 311\n"
	"chute states  1009 applied, 4046 invalid\n";

Test(stats, the_text_is_what_it_was)
{
	struct fixture f;
	distinct_counters();
	fixture_open(&f, NULL, NULL);
	cr_assert_eq(run(f.s, PS_CTL_STATS, "", 0, &f.o), PS_CTL_OK);
	cr_assert_str_eq(f.o.buf, STATS_TEXT);
	fixture_close(&f, 0);
}

/* ---------------------------------------- the sorter loop's figures (#13.3) */

static struct ps_loop_counters fake_loop;
static uint32_t fake_now = 110;

static void sum_loop(void *arg, struct ps_loop_counters *out)
{
	(void)arg;
	memcpy(out, &fake_loop, sizeof(*out));
}

static uint32_t now_s(void *arg)
{
	(void)arg;
	return fake_now;
}

/* A server with the loop figures: chute 5 (the plan's) sorted 40, 2 of
 * them missorted, 3 not discharged; chute 7 FULL for 30 s from second 100
 * (at 110: 21 s left); device 12 and device 3 heard. */
static void loop_fixture(struct fixture *f)
{
	const char plan[] = BASE "route 33 1 5\n";
	struct ps_errors e;
	uint32_t v;
	memset(&zero, 0, sizeof(zero));
	memset(&fake_loop, 0, sizeof(fake_loop));
	zero.chute[5] = 70;
	zero.records_by_reason[PS_R_INTERCEPTED] = 4;
	fake_loop.chute[5] = (struct ps_chute_sort_counters){ 40, 2, 3 };
	fake_loop.device[12] = (struct ps_device_counters){
		.records = 200, .noread = 10, .bad_barcode = 4, .malformed = 1,
		.duplicates = 5, .last_heard_s = 101 };
	fake_loop.device[3] = (struct ps_device_counters){
		.records = 50, .noread = 25, .last_heard_s = 111 };
	fake_now = 110;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-ctl-test-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	struct ps_store_cfg cfg = { .state_dir = f->dir, .no_fsync = 1 };
	ps_errors_init(&e);
	f->st = ps_store_open(&cfg, &e, NULL, 0);
	cr_assert_not_null(f->st);
	cr_assert_eq(ps_store_load_text(f->st, plan, strlen(plan), "t", 0, &e,
					&v), 0);
	ps_errors_free(&e);
	ps_chute_report(ps_store_chutes(f->st), 7, PS_CHUTE_FULL, 30, 100);
	struct ps_ctl_daemon d = { .store = f->st, .sum_counters = sum,
				   .sum_loop = sum_loop, .dataplane_now_s = now_s,
				   .describe_ports = ports, .n_workers = 1 };
	f->s = ps_ctl_new(&d);
	ps_out_init(&f->o);
}

static json_t *run_json(struct fixture *f, uint16_t cmd, const char *body,
			size_t len)
{
	ps_out_free(&f->o);
	ps_out_init(&f->o);
	cr_assert_eq(ps_ctl_execute(f->s, cmd, PS_CTL_F_JSON,
				    (const uint8_t *)body, len, &f->o),
		     PS_CTL_OK, "%s", f->o.buf);
	json_t *j = json_loadb(f->o.buf, f->o.len, JSON_DECODE_ANY, NULL);
	cr_assert_not_null(j, "%s", f->o.buf);
	return j;
}

static json_t *chute_of(json_t *list, unsigned ch)
{
	json_t *c;
	size_t i;
	json_array_foreach(list, i, c)
		if (json_integer_value(json_object_get(c, "chute")) == ch)
			return c;
	return NULL;
}

static long long ival(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_integer(v), "%s missing", k);
	return json_integer_value(v);
}

Test(figures, chute_list_shows_states_and_sort_results)
{
	struct fixture f;
	loop_fixture(&f);
	json_t *j = run_json(&f, PS_CTL_CHUTE_LIST, "", 0);
	json_t *c5 = chute_of(j, 5), *c7 = chute_of(j, 7), *c9 = chute_of(j, 9);
	cr_assert_not_null(c5, "%s", f.o.buf);
	cr_assert_eq(ival(c5, "decided"), 70);
	cr_assert_eq(ival(c5, "sorted"), 40);
	cr_assert_eq(ival(c5, "missorted"), 2);
	cr_assert_eq(ival(c5, "not_discharged"), 3);
	cr_assert_str_eq(json_string_value(json_object_get(c5, "sorter")),
			 "OPEN");
	cr_assert_str_eq(json_string_value(json_object_get(c5, "operator")),
			 "open");
	cr_assert_not_null(c7, "a chute the sorter reports is listed: %s",
			   f.o.buf);
	cr_assert_str_eq(json_string_value(json_object_get(c7, "sorter")),
			 "FULL");
	cr_assert_eq(ival(c7, "sorter_secs_left"), 21);
	cr_assert(json_is_false(json_object_get(c7, "in_plan")));
	cr_assert(json_is_true(json_object_get(c9, "reject")));
	cr_assert_eq(json_array_size(j), 3, "only chutes in use: %s", f.o.buf);
	json_decref(j);
	/* the text */
	cr_assert_eq(run(f.s, PS_CTL_CHUTE_LIST, "", 0, &f.o), PS_CTL_OK);
	cr_assert(strstr(f.o.buf, "\n5      enabled   OPEN          "
			 "            70         40         2         3 "),
		  "%s", f.o.buf);
	cr_assert(strstr(f.o.buf, "\n7      enabled   FULL 21s "), "%s",
		  f.o.buf);
	/* the report lapses: chute 7 is no longer listed */
	fake_now = 131;
	j = run_json(&f, PS_CTL_CHUTE_LIST, "", 0);
	cr_assert_null(chute_of(j, 7), "%s", f.o.buf);
	json_decref(j);
	cr_assert_eq(run(f.s, PS_CTL_CHUTE_LIST, "x", 2, &f.o),
		     PS_CTL_ERR_USAGE);
	fixture_close(&f, 0);
}

/* route get with no traffic: a sorter report past its time no longer
 * takes the chute out (a worker clears such reports before its next
 * decision; route get, which no worker's burst precedes, once showed the
 * chute unavailable until traffic came) */
Test(figures, route_get_sees_a_sorter_report_lapse_without_traffic)
{
	struct fixture f;
	loop_fixture(&f);
	ps_chute_report(ps_store_chutes(f.st), 5, PS_CHUTE_FULL, 30, 100);
	json_t *j = run_json(&f, PS_CTL_ROUTE_GET, "330782100201", 13);
	json_t *d = json_object_get(j, "decision");
	cr_assert_neq(json_integer_value(json_object_get(d, "chute")), 5,
		      "chute 5 is FULL until second 130: %s", f.o.buf);
	json_decref(j);
	fake_now = 131;
	j = run_json(&f, PS_CTL_ROUTE_GET, "330782100201", 13);
	d = json_object_get(j, "decision");
	cr_assert_eq(json_integer_value(json_object_get(d, "chute")), 5,
		     "the report lapsed at 130: %s", f.o.buf);
	cr_assert_str_eq(json_string_value(json_object_get(d, "reason")),
			 "ROUTED", "%s", f.o.buf);
	json_decref(j);
	fixture_close(&f, 0);
}

Test(figures, device_list_sorts_rates_and_limits)
{
	struct fixture f;
	loop_fixture(&f);
	json_t *j = run_json(&f, PS_CTL_DEVICE_LIST, "", 0);
	json_t *devs = json_object_get(j, "devices");
	cr_assert_eq(ival(j, "count"), 2);
	cr_assert_eq(json_array_size(devs), 2);
	json_t *d = json_array_get(devs, 0);
	cr_assert_eq(ival(d, "device"), 12, "by records: %s", f.o.buf);
	cr_assert_eq(ival(d, "records"), 200);
	cr_assert_eq(ival(d, "noread"), 10);
	cr_assert_eq(ival(d, "bad_barcode"), 4);
	cr_assert_eq(ival(d, "malformed"), 1);
	cr_assert_eq(ival(d, "duplicates"), 5);
	cr_assert_eq(ival(d, "last_heard_s_ago"), 10);
	cr_assert_float_eq(json_real_value(json_object_get(d, "noread_percent")),
			   5.0, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(d, "bad_percent")),
			   2.0, 1e-9);
	cr_assert_eq(ival(json_array_get(devs, 1), "last_heard_s_ago"), 0);
	json_decref(j);
	/* by NOREAD rate, one shown */
	j = run_json(&f, PS_CTL_DEVICE_LIST, "noread\0" "1", 9);
	devs = json_object_get(j, "devices");
	cr_assert_eq(json_array_size(devs), 1);
	cr_assert_eq(ival(json_array_get(devs, 0), "device"), 3);
	cr_assert_eq(ival(j, "shown"), 1);
	cr_assert_eq(ival(j, "count"), 2);
	json_decref(j);
	j = run_json(&f, PS_CTL_DEVICE_LIST, "bad", 4);
	cr_assert_eq(ival(json_array_get(json_object_get(j, "devices"), 0),
			  "device"), 12);
	json_decref(j);
	cr_assert_eq(run(f.s, PS_CTL_DEVICE_LIST, "worst", 6, &f.o),
		     PS_CTL_ERR_USAGE);
	cr_assert_eq(run(f.s, PS_CTL_DEVICE_LIST, "records\0" "0", 10, &f.o),
		     PS_CTL_ERR_USAGE);
	/* the text */
	cr_assert_eq(run(f.s, PS_CTL_DEVICE_LIST, "noread\0" "1", 9, &f.o),
		     PS_CTL_OK);
	cr_assert(strstr(f.o.buf, "\n3                   50    50.00     0.00"
			 "          0          0     0s ago\n"), "%s", f.o.buf);
	cr_assert(strstr(f.o.buf, "... 1 of 2 devices shown (by noread)\n"),
		  "%s", f.o.buf);
	fixture_close(&f, 0);
}

Test(figures, stats_has_intercepts_and_stats_reset_the_loop_figures)
{
	struct fixture f;
	loop_fixture(&f);
	json_t *j = run_json(&f, PS_CTL_STATS, "", 0);
	cr_assert_eq(ival(j, "intercepts"), 4);
	json_decref(j);
	cr_assert_eq(run(f.s, PS_CTL_STATS, "", 0, &f.o), PS_CTL_OK);
	cr_assert(strstr(f.o.buf, "  intercepts 4\n"), "%s", f.o.buf);
	/* a reset is a baseline for the loop figures too */
	cr_assert_eq(run(f.s, PS_CTL_STATS_RESET, "", 0, &f.o), PS_CTL_OK);
	fake_loop.chute[5].sorted = 45;
	fake_loop.device[12].records = 203;
	j = run_json(&f, PS_CTL_CHUTE_LIST, "", 0);
	cr_assert_eq(ival(chute_of(j, 5), "sorted"), 5, "%s", f.o.buf);
	json_decref(j);
	j = run_json(&f, PS_CTL_DEVICE_LIST, "", 0);
	cr_assert_eq(ival(json_array_get(json_object_get(j, "devices"), 0),
			  "records"), 3, "%s", f.o.buf);
	json_decref(j);
	fixture_close(&f, 0);
}

/* ------------------------------------------- pieces per hour (#13.3) */

Test(hour_ring, sums_the_last_sixty_minutes_scaled_until_full)
{
	static uint64_t n[PS_HOUR_CHUTES];
	struct ps_hour_ring *r = ps_hour_ring_new();
	uint64_t t = 5000;
	memset(n, 0, sizeof(n));
	ps_hour_ring_sample(r, t, n);
	cr_assert_eq(ps_hour_ring_minutes(r), 0);
	cr_assert_float_eq(ps_hour_ring_per_hour(r, 5), 0, 1e-9);
	n[5] = 10;
	ps_hour_ring_sample(r, t + 59999, n);       /* not a minute yet */
	cr_assert_eq(ps_hour_ring_minutes(r), 0);
	t += 60000;
	ps_hour_ring_sample(r, t, n);
	cr_assert_eq(ps_hour_ring_minutes(r), 1);
	cr_assert_eq(ps_hour_ring_count(r, 5), 10);
	cr_assert_float_eq(ps_hour_ring_per_hour(r, 5), 600, 1e-9,
			   "one minute, scaled to the hour");
	cr_assert_float_eq(ps_hour_ring_per_hour(r, 6), 0, 1e-9);
	for (int m = 0; m < 59; m++) {               /* 1 a minute */
		n[5]++;
		t += 60000;
		ps_hour_ring_sample(r, t, n);
	}
	cr_assert_eq(ps_hour_ring_minutes(r), 60);
	cr_assert_eq(ps_hour_ring_count(r, 5), 69);
	cr_assert_float_eq(ps_hour_ring_per_hour(r, 5), 69, 1e-9);
	n[5] += 2;                       /* the first minute's 10 leave */
	t += 60000;
	ps_hour_ring_sample(r, t, n);
	cr_assert_eq(ps_hour_ring_count(r, 5), 61);
	/* three minutes the thread missed: two empty slots and one of 6;
	 * the three oldest minutes (1 each) leave */
	n[5] += 6;
	t += 3 * 60000 + 500;
	ps_hour_ring_sample(r, t, n);
	cr_assert_eq(ps_hour_ring_count(r, 5), 64);
	cr_assert_eq(ps_hour_ring_minutes(r), 60);
	/* two hours of silence: the ring empties */
	t += 120 * 60000;
	ps_hour_ring_sample(r, t, n);
	cr_assert_eq(ps_hour_ring_count(r, 5), 0);
	cr_assert_float_eq(ps_hour_ring_per_hour(r, 5), 0, 1e-9);
	ps_hour_ring_free(r);
}
