/* test_fleet.c: the fleet's pure helpers: site ids, the trailer a pushed
 * plan carries (line numbers unchanged), and the JSON reading the status
 * records rely on. The NATS parts are in tests/integration/fleet.sh. */
#include <criterion/criterion.h>
#include <string.h>

#include "fleet.h"

Test(fleet, site_ids)
{
	cr_assert(ps_fleet_site_ok("yiwu-16"));
	cr_assert(ps_fleet_site_ok("A_b-9"));
	cr_assert_not(ps_fleet_site_ok(""));
	cr_assert_not(ps_fleet_site_ok("a.b"), "dots would split the key");
	cr_assert_not(ps_fleet_site_ok("a b"));
	cr_assert_not(ps_fleet_site_ok("a>"), "no subject wildcards");
	char id[80];
	memset(id, 'x', 65);
	id[65] = 0;
	cr_assert_not(ps_fleet_site_ok(id));
	char key[80];
	ps_fleet_key(key, sizeof(key), "yiwu-16");
	cr_assert_str_eq(key, "site.yiwu-16");
}

Test(fleet, trailer_round_trip_keeps_line_numbers)
{
	struct ps_out o;
	ps_out_init(&o);
	const char *plan = "plan p\nsite 1 33\nreject 9";   /* no final newline */
	ps_out_write(&o, plan, strlen(plan));
	ps_fleet_trailer(&o, "/etc/parcelsort/night shift.plan", 1234567);
	ps_out_write(&o, "", 1);
	cr_assert(strncmp(o.buf, "plan p\nsite 1 33\nreject 9\n# ", 28) == 0,
		  "the trailer only adds a last line: %s", o.buf);
	char file[64];
	uint64_t ms;
	ps_fleet_trailer_parse(o.buf, o.len - 1, file, sizeof(file), &ms);
	cr_assert_str_eq(file, "night_shift.plan");
	cr_assert_eq(ms, 1234567);
	ps_fleet_trailer_parse(plan, strlen(plan), file, sizeof(file), &ms);
	cr_assert_str_eq(file, "fleet", "no trailer: a neutral name");
	cr_assert_eq(ms, 0);
	ps_out_free(&o);
}

Test(fleet, json_fields_of_a_status_record)
{
	const char *st = "{\"site\":\"a\",\"revision\":12,\"outcome\":\"refused\","
			 "\"plan_version\":3,\"file\":\"x \\\"q\\\".plan\","
			 "\"errors\":[\"x.plan:4: bad\",\"x.plan:9: \\u0041\"],"
			 "\"events\":{\"published\":99}}";
	uint64_t v;
	char s[64];
	cr_assert_eq(ps_json_u64(st, "revision", &v), 0);
	cr_assert_eq(v, 12);
	cr_assert_eq(ps_json_u64(st, "published", &v), 0);
	cr_assert_eq(v, 99);
	cr_assert_eq(ps_json_u64(st, "missing", &v), -1);
	cr_assert_eq(ps_json_u64(st, "outcome", &v), -1, "not a number");
	cr_assert_eq(ps_json_str(st, "file", s, sizeof(s)), 0);
	cr_assert_str_eq(s, "x \"q\".plan");
	struct ps_out o;
	ps_out_init(&o);
	cr_assert_eq(ps_json_str_array(st, "errors", &o), 0);
	ps_out_write(&o, "", 1);
	cr_assert_str_eq(o.buf, "x.plan:4: bad\nx.plan:9: A\n");
	ps_out_free(&o);
	ps_out_init(&o);
	cr_assert_eq(ps_json_str_array("{\"errors\":[\"cut", "errors", &o), -1);
	ps_out_free(&o);
}
