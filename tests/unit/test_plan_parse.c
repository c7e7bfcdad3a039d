/* test_plan_parse.c: the sort plan parser and validator: every directive and
 * condition, every error kind reported as FILE:LINE: message (all of them),
 * the spec's example, and the canonical writer's round trip. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_src.h"
#include "ps_wire.h"

#define HEAD "plan p\nsite 1 33\nreject 999\nhub 1 trunk T\n"

static struct ps_errors errs;
static struct ps_plan_src src;

static void setup(void)
{
	ps_errors_init(&errs);
	ps_plan_src_init(&src);
}

static void teardown(void)
{
	ps_errors_free(&errs);
	ps_plan_src_free(&src);
}

TestSuite(parse, .init = setup, .fini = teardown);

static int parse(const char *text)
{
	return ps_plan_parse(&src, text, strlen(text), "t.plan", &errs);
}

/* Does some error message contain this text? */
static int has_error(const char *want)
{
	for (size_t i = 0; i < errs.n; i++)
		if (strstr(errs.msg[i], want))
			return 1;
	return 0;
}

Test(parse, spec_example)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/../config/example.plan", PS_DATA_DIR);
	cr_assert_eq(ps_plan_parse_file(&src, path, &errs), 0);
	cr_assert_str_eq(src.name, "yiwu-day");
	cr_assert_eq(src.site, 3307820u);
	cr_assert_eq(src.site_prefix, 330782u);
	cr_assert_eq(src.site_digits, 6);
	cr_assert_eq(src.reject, 999);
	cr_assert_eq(src.n_hubs, 7);
	cr_assert_eq(src.n_routes, 6);
	cr_assert_eq(src.n_rules, 2);
	cr_assert(src.has_default);
	cr_assert_eq(src.default_hub, 100u);
	long h = ps_plan_find_hub(&src, 410);
	cr_assert_geq(h, 0);
	cr_assert_str_eq(ps_plan_hub_name(&src, &src.hubs[h]),
			 "Fotang common-prosperity station, village 201");
	cr_assert_eq(src.hubs[h].tier, PS_TIER_VILLAGE);
	long r = ps_plan_find_route(&src, 33, 2);
	cr_assert_geq(r, 0);
	cr_assert_eq(src.routes[r].chutes.n, 2);
	cr_assert_eq(ps_plan_chutes(&src, src.routes[r].chutes)[1], 11);
	r = ps_plan_find_route(&src, 330782100201ull, 12);
	cr_assert_geq(r, 0);
	cr_assert_eq(src.routes[r].hub, 410u);
}

Test(parse, every_condition)
{
	cr_assert_eq(parse(HEAD "rule 5 1 7 service=cold_chain service=bulky "
			   "service=fragile service=international "
			   "service=time_definite service=cod service=return "
			   "carrier=SF weight>=100 weight<5000 size>=600 "
			   "prefix=3307 device=12\n"), 0);
	cr_assert_eq(src.n_rules, 1);
	const struct ps_rule_src *r = &src.rules[0];
	cr_assert_eq(r->priority, 5);
	cr_assert_eq(r->n_conds, 13);
	const struct ps_cond *c = src.conds + r->cond_off;
	uint8_t svc = 0;
	for (int i = 0; i < 7; i++) {
		cr_assert_eq(c[i].kind, PS_COND_SERVICE);
		svc |= (uint8_t)c[i].value;
	}
	cr_assert_eq(svc, 0x7f);
	cr_assert_eq(c[7].kind, PS_COND_CARRIER);
	cr_assert_eq(c[7].value, ('S' << 8) | 'F');
	cr_assert_eq(c[8].kind, PS_COND_WEIGHT_GE);
	cr_assert_eq(c[8].value, 100);
	cr_assert_eq(c[9].kind, PS_COND_WEIGHT_LT);
	cr_assert_eq(c[9].value, 5000);
	cr_assert_eq(c[10].kind, PS_COND_SIZE_GE);
	cr_assert_eq(c[11].kind, PS_COND_PREFIX);
	cr_assert_eq(c[11].value, 3307);
	cr_assert_eq(c[11].digits, 4);
	cr_assert_eq(c[12].kind, PS_COND_DEVICE);
	cr_assert_eq(c[12].value, 12);
}

Test(parse, comments_blank_lines_tabs_and_order)
{
	/* a route before its hub, tabs, comments, CRLF */
	cr_assert_eq(parse("# header\n\nroute\t3307\t1\t5  # trailing\r\n"
			   "  plan p # name\nsite 1 33\nreject 9\n"
			   "hub 1 county  Name with  spaces  # c\n"), 0);
	cr_assert_eq(src.n_routes, 1);
	cr_assert_str_eq(ps_plan_hub_name(&src, &src.hubs[0]),
			 "Name with  spaces");
}

Test(parse, all_prefix_lengths)
{
	cr_assert_eq(parse(HEAD "route 11 1 1\nroute 1101 1 2\nroute 110101 1 3\n"
			   "route 110101001 1 4\nroute 110101001001 1 5\n"
			   "route 999999999999 1 6\n"), 0);
	cr_assert_eq(src.n_routes, 6);
}

struct bad_case {
	const char *line;
	const char *msg;
};

Test(parse, every_error_kind_with_its_line)
{
	static const struct bad_case cases[] = {
		{ "route 330 1 5", "bad route prefix '330'" },
		{ "route 33a7 1 5", "bad route prefix" },
		{ "route 10 1 5", "bad route prefix '10'" },
		{ "route 3307 1", "'route' takes 3 fields" },
		{ "route 3307 1 5 6", "'route' takes 3 fields" },
		{ "route 3307 0 5", "bad hub id '0'" },
		{ "route 3307 4294967296 5", "bad hub id" },
		{ "route 3307 1 0", "bad chute list '0'" },
		{ "route 3307 1 65536", "bad chute list" },
		{ "route 3307 1 5,5", "repeated" },
		{ "route 3307 1 5,,6", "bad chute list" },
		{ "route 3307 1 5,", "bad chute list" },
		{ "rule 1 1 5", "at least one condition" },
		{ "rule 65536 1 5 device=1", "bad rule priority" },
		{ "rule 1 1 5 colour=red", "unknown condition" },
		{ "rule 1 1 5 service=frozen", "unknown service flag" },
		{ "rule 1 1 5 carrier=S", "two ASCII letters" },
		{ "rule 1 1 5 carrier=S1", "two ASCII letters" },
		{ "rule 1 1 5 weight>=-1", "weight takes grams" },
		{ "rule 1 1 5 weight<=5", "weight takes grams" },
		{ "rule 1 1 5 size>=70000", "size>= takes" },
		{ "rule 1 1 5 prefix=330", "prefix= takes" },
		{ "rule 1 1 5 device=65536", "device= takes" },
		{ "hub 2 hub X", "bad tier 'hub'" },
		{ "hub 2 trunk", "'hub' takes HUB_ID TIER NAME" },
		{ "hub 0 trunk X", "bad hub id '0'" },
		{ "default 1", "'default' takes 2 fields" },
		{ "frobnicate 1", "unknown directive 'frobnicate'" },
		{ "reject 0", "bad reject chute" },
		{ "plan a b", "'plan' takes 1 field" },
		{ "site 0 33", "bad site id" },
		{ "site 1 3", "bad site region prefix" },
		{ "hub 3 trunk caf\xc3", "not valid UTF-8" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		ps_errors_free(&errs);
		ps_plan_src_free(&src);
		ps_errors_init(&errs);
		ps_plan_src_init(&src);
		/* the bad line is line 5; a singleton under test is not in
		 * the head (its line there is a comment) */
		const char *l = cases[i].line;
		snprintf(text, sizeof(text), "%s\n%s\n%s\nhub 1 trunk T\n%s\n",
			 strncmp(l, "plan ", 5) ? "plan p" : "#",
			 strncmp(l, "site ", 5) ? "site 1 33" : "#",
			 strncmp(l, "reject ", 7) ? "reject 999" : "#", l);
		cr_assert_eq(parse(text), -1, "accepted: %s", cases[i].line);
		cr_assert(has_error(cases[i].msg), "'%s': want '%s', got '%s'",
			  cases[i].line, cases[i].msg,
			  errs.n ? errs.msg[0] : "(none)");
		cr_assert(has_error("t.plan:5: "), "'%s': no line number: %s",
			  cases[i].line, errs.n ? errs.msg[0] : "(none)");
	}
}

Test(parse, semantic_errors)
{
	cr_assert_eq(parse("plan p\nsite 1 33\nreject 9\nhub 1 trunk A\n"
			   "hub 1 county B\nroute 33 1 5\nroute 33 1 6\n"
			   "route 3307 7 5\nrule 1 1 5 device=1\n"
			   "rule 1 1 6 device=2\ndefault 8 5\nplan q\n"
			   "default 1 5\n"), -1);
	cr_assert(has_error("t.plan:5: hub 1 is defined twice (first at line 4)"));
	cr_assert(has_error("t.plan:7: route prefix 33 is given twice (first at line 6)"));
	cr_assert(has_error("t.plan:8: route names hub 7, which is not defined"));
	cr_assert(has_error("t.plan:10: rule priority 1 is used twice (first at line 9)"));
	cr_assert(has_error("t.plan:11: default names hub 8, which is not defined"));
	cr_assert(has_error("t.plan:12: 'plan' given twice (first at line 1)"));
	cr_assert(has_error("t.plan:13: 'default' given twice (first at line 11)"));
	cr_assert_eq(errs.n, 7, "every error, not just the first");
}

Test(parse, missing_required_directives)
{
	cr_assert_eq(parse("hub 1 trunk A\nroute 33 1 5\n"), -1);
	cr_assert(has_error("t.plan: missing the 'plan NAME' directive"));
	cr_assert(has_error("t.plan: missing the 'site"));
	cr_assert(has_error("t.plan: missing the 'reject CHUTE' directive"));
	cr_assert_eq(errs.n, 3);
}

Test(parse, empty_file_is_refused)
{
	cr_assert_eq(parse(""), -1);
	cr_assert_eq(errs.n, 3);
}

Test(parse, missing_file_says_so)
{
	cr_assert_eq(ps_plan_parse_file(&src, "/nonexistent/x.plan", &errs), -1);
	cr_assert(has_error("/nonexistent/x.plan: cannot open"));
}

Test(parse, many_errors_all_reported)
{
	char *text = malloc(200000);
	size_t n = (size_t)sprintf(text, HEAD);
	for (int i = 0; i < 500; i++)
		n += (size_t)sprintf(text + n, "route 33%02d 1 0\n", i % 100);
	cr_assert_eq(ps_plan_parse(&src, text, n, "t.plan", &errs), -1);
	cr_assert_eq(errs.n, 500);
	cr_assert(has_error("t.plan:504: "));
	free(text);
}

Test(parse, canonical_write_round_trip)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/../config/example.plan", PS_DATA_DIR);
	cr_assert_eq(ps_plan_parse_file(&src, path, &errs), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(ps_plan_write(&src, f), 0);
	fclose(f);
	struct ps_plan_src back;
	ps_plan_src_init(&back);
	cr_assert_eq(ps_plan_parse(&back, buf, len, "w", &errs), 0, "%s", buf);
	cr_assert_eq(back.n_hubs, src.n_hubs);
	cr_assert_eq(back.n_routes, src.n_routes);
	cr_assert_eq(back.n_rules, src.n_rules);
	cr_assert_str_eq(back.name, src.name);
	/* writing the re-read plan gives the same text */
	char *buf2 = NULL;
	size_t len2 = 0;
	f = open_memstream(&buf2, &len2);
	ps_plan_write(&back, f);
	fclose(f);
	cr_assert_eq(len, len2);
	cr_assert_arr_eq(buf, buf2, len);
	cr_assert(strstr(buf, "route 330782100201 410 41\n"));
	cr_assert(strstr(buf, "rule 20 900 91 weight>=30000\n"));
	cr_assert(strstr(buf, "hub 311 township Chi'an town station\n"));
	free(buf);
	free(buf2);
	ps_plan_src_free(&back);
}

Test(parse, bundled_plans_are_valid)
{
	static const char *const plans[] = { "example.plan", "yiwu.plan" };
	for (size_t i = 0; i < 2; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/../config/%s", PS_DATA_DIR,
			 plans[i]);
		ps_plan_src_free(&src);
		ps_plan_src_init(&src);
		cr_assert_eq(ps_plan_parse_file(&src, path, &errs), 0, "%s: %s",
			     plans[i], errs.n ? errs.msg[0] : "");
	}
	/* the Yiwu plan: every village of Yiwu has its own station */
	size_t villages = 0;
	for (size_t i = 0; i < src.n_routes; i++)
		villages += src.routes[i].digits == 12 &&
			    src.routes[i].prefix / 1000000 == 330782;
	cr_assert_eq(villages, 544);
	cr_assert_eq(src.n_rules, 4);
}

Test(parse, intercept_and_recirculate)
{
	cr_assert_eq(parse(HEAD "intercept 998\nrecirculate 3\n"
			   "route 33 1 10\n"), 0);
	cr_assert_eq(src.intercept, 998);
	cr_assert_eq(src.recirculate, 3);
	/* both optional: absent, no intercept chute and no limit */
	ps_plan_src_free(&src);
	ps_plan_src_init(&src);
	cr_assert_eq(parse(HEAD "route 33 1 10\n"), 0);
	cr_assert_eq(src.intercept, 0);
	cr_assert_eq(src.recirculate, 0);
	/* written back and re-read */
	ps_plan_src_free(&src);
	ps_plan_src_init(&src);
	cr_assert_eq(parse(HEAD "recirculate 255\nintercept 7\n"), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(ps_plan_write(&src, f), 0);
	fclose(f);
	cr_assert(strstr(buf, "intercept 7\nrecirculate 255\n"), "%s", buf);
	struct ps_plan_src back;
	ps_plan_src_init(&back);
	cr_assert_eq(ps_plan_parse(&back, buf, len, "w", &errs), 0, "%s", buf);
	cr_assert_eq(back.intercept, 7);
	cr_assert_eq(back.recirculate, 255);
	ps_plan_src_free(&back);
	free(buf);
}

Test(parse, intercept_and_recirculate_errors)
{
	cr_assert_neq(parse(HEAD "intercept 0\n"
			       "intercept 70000\n"
			       "recirculate 0\n"
			       "recirculate 256\n"
			       "recirculate 2 3\n"
			       "intercept\n"), 0);
	cr_assert(has_error("t.plan:5: bad intercept chute '0'"));
	cr_assert(has_error("t.plan:6:"));
	cr_assert(has_error("t.plan:7: bad recirculate count '0'"));
	cr_assert(has_error("t.plan:8:"));
	cr_assert(has_error("t.plan:9:"));
	cr_assert(has_error("t.plan:10:"));
	/* once each */
	ps_errors_free(&errs);
	ps_errors_init(&errs);
	ps_plan_src_free(&src);
	ps_plan_src_init(&src);
	cr_assert_neq(parse(HEAD "recirculate 2\nrecirculate 3\n"
			       "intercept 5\nintercept 6\n"), 0);
	cr_assert(has_error("t.plan:6:"));
	cr_assert(has_error("t.plan:8:"));
}
