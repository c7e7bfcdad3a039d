/* test_control.c: control-plane pieces without a socket: plan diffs,
 * request framing and argument parsing, and commands run through
 * ps_ctl_execute against a real store (regressions found by fuzz_ctl). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "ctl_server.h"
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
