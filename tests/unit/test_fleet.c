/* test_fleet.c: the fleet's pure helpers: site ids, the trailer a pushed
 * plan carries (line numbers unchanged), and the JSON reading the status
 * records rely on, and the chunking of a hold list for `fleet hold load`
 * (split, reassembled, checked; missing, doubled, out-of-order and damaged
 * chunks refused). The NATS parts are in tests/integration/fleet.sh and
 * fleet_holds.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "fleet_holds.h"

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

/* ------------------------------------------------ hold list chunking */

#define MB (1u << 20)
#define CHUNK (MB - PS_FLEET_HOLDS_HEADROOM)

/* A 3 MB hold list: WAYBILL,NOTE lines. */
static char *big_list(size_t *len)
{
	size_t cap = 3 * MB + 256, n = 0;
	char *s = malloc(cap);
	for (unsigned i = 0; n + 64 < 3 * MB; i++)
		n += (size_t)snprintf(s + n, cap - n,
				      "HL%012u,customs hold %u\n", i, i);
	*len = n;
	return s;
}

static struct ps_hold_chunk meta(const char *text, size_t len, uint32_t i)
{
	struct ps_hold_chunk c = { .load = "18f00-1", .name = "big.holds",
				   .index = i,
				   .count = ps_hold_chunk_count(len, CHUNK),
				   .size = len, .crc = ps_crc32(0, text, len) };
	return c;
}

/* Feed chunk i of text; the result of ps_hold_asm_add. */
static int feed(struct ps_hold_asm *a, const char *text, size_t len,
		uint32_t i, char *why)
{
	size_t off, n;
	struct ps_hold_chunk c = meta(text, len, i);
	ps_hold_chunk_range(len, CHUNK, i, &off, &n);
	return ps_hold_asm_add(a, &c, text + off, n, why, 256);
}

Test(fleet_holds, crc32_is_the_ieee_one)
{
	cr_assert_eq(ps_crc32(0, "123456789", 9), 0xcbf43926u);
	cr_assert_eq(ps_crc32(ps_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u,
		     "running CRC over pieces");
}

Test(fleet_holds, a_3mb_list_split_and_reassembled)
{
	size_t len;
	char *text = big_list(&len);
	uint32_t count = ps_hold_chunk_count(len, CHUNK);
	cr_assert_eq(count, 4, "3 MB in chunks under 1 MB: %u", count);
	size_t total = 0;
	for (uint32_t i = 0; i < count; i++) {
		size_t off, n;
		ps_hold_chunk_range(len, CHUNK, i, &off, &n);
		cr_assert_eq(off, total, "chunks are contiguous");
		cr_assert(n <= CHUNK && n > 0);
		total += n;
	}
	cr_assert_eq(total, len, "the chunks cover the list");
	struct ps_hold_asm a;
	char why[256] = "";
	ps_hold_asm_init(&a);
	for (uint32_t i = 0; i + 1 < count; i++)
		cr_assert_eq(feed(&a, text, len, i, why), PS_HOLD_MORE, "%s", why);
	cr_assert_eq(feed(&a, text, len, count - 1, why), PS_HOLD_DONE, "%s",
		     why);
	cr_assert_eq(a.buf.len, len);
	cr_assert(memcmp(a.buf.buf, text, len) == 0, "the same bytes");
	cr_assert_eq(ps_crc32(0, a.buf.buf, a.buf.len), ps_crc32(0, text, len));
	ps_hold_asm_free(&a);
	free(text);
}

Test(fleet_holds, an_empty_list_is_one_empty_chunk)
{
	struct ps_hold_asm a;
	char why[256] = "";
	cr_assert_eq(ps_hold_chunk_count(0, CHUNK), 1);
	ps_hold_asm_init(&a);
	cr_assert_eq(feed(&a, "", 0, 0, why), PS_HOLD_DONE, "%s", why);
	cr_assert_eq(a.buf.len, 0);
	ps_hold_asm_free(&a);
}

Test(fleet_holds, a_missing_chunk_is_refused)
{
	size_t len;
	char *text = big_list(&len);
	struct ps_hold_asm a;
	char why[256] = "";
	ps_hold_asm_init(&a);
	cr_assert_eq(feed(&a, text, len, 0, why), PS_HOLD_MORE);
	cr_assert_eq(feed(&a, text, len, 2, why), PS_HOLD_BAD);
	cr_assert(strstr(why, "chunk 1 is missing"), "%s", why);
	cr_assert_eq(feed(&a, text, len, 3, why), PS_HOLD_IGNORED,
		     "the rest of a refused load is dropped");
	cr_assert_not(a.active);
	/* a load whose first chunk never came */
	ps_hold_asm_free(&a);
	ps_hold_asm_init(&a);
	cr_assert_eq(feed(&a, text, len, 1, why), PS_HOLD_BAD);
	cr_assert(strstr(why, "without chunk 0"), "%s", why);
	ps_hold_asm_free(&a);
	free(text);
}

Test(fleet_holds, a_duplicated_chunk_is_refused)
{
	size_t len;
	char *text = big_list(&len);
	struct ps_hold_asm a;
	char why[256] = "";
	ps_hold_asm_init(&a);
	cr_assert_eq(feed(&a, text, len, 0, why), PS_HOLD_MORE);
	cr_assert_eq(feed(&a, text, len, 1, why), PS_HOLD_MORE);
	cr_assert_eq(feed(&a, text, len, 1, why), PS_HOLD_BAD);
	cr_assert(strstr(why, "chunk 1 came twice"), "%s", why);
	ps_hold_asm_free(&a);
	free(text);
}

Test(fleet_holds, an_out_of_order_chunk_is_refused)
{
	size_t len;
	char *text = big_list(&len);
	struct ps_hold_asm a;
	char why[256] = "";
	ps_hold_asm_init(&a);
	cr_assert_eq(feed(&a, text, len, 0, why), PS_HOLD_MORE);
	cr_assert_eq(feed(&a, text, len, 2, why), PS_HOLD_BAD, "2 before 1");
	cr_assert_eq(feed(&a, text, len, 1, why), PS_HOLD_IGNORED);
	cr_assert_not(a.active, "nothing of it is kept");
	ps_hold_asm_free(&a);
	free(text);
}

Test(fleet_holds, a_damaged_or_foreign_chunk_is_refused)
{
	size_t len;
	char *text = big_list(&len);
	uint32_t last = ps_hold_chunk_count(len, CHUNK) - 1;
	struct ps_hold_asm a;
	char why[256] = "";
	ps_hold_asm_init(&a);
	for (uint32_t i = 0; i < last; i++)
		cr_assert_eq(feed(&a, text, len, i, why), PS_HOLD_MORE);
	/* the last chunk with one byte changed: the CRC tells */
	size_t off, n;
	ps_hold_chunk_range(len, CHUNK, last, &off, &n);
	char *copy = malloc(n);
	memcpy(copy, text + off, n);
	copy[n / 2] ^= 1;
	struct ps_hold_chunk c = meta(text, len, last);
	cr_assert_eq(ps_hold_asm_add(&a, &c, copy, n, why, sizeof(why)),
		     PS_HOLD_BAD);
	cr_assert(strstr(why, "CRC-32"), "%s", why);
	/* a chunk of another load in the middle of one */
	cr_assert_eq(feed(&a, text, len, 0, why), PS_HOLD_MORE);
	c = meta(text, len, 1);
	snprintf(c.load, sizeof(c.load), "other");
	cr_assert_eq(ps_hold_asm_add(&a, &c, text, 10, why, sizeof(why)),
		     PS_HOLD_BAD);
	cr_assert(strstr(why, "never came"), "%s", why);
	/* a chunk that disagrees on the size */
	ps_hold_asm_reset(&a);
	cr_assert_eq(feed(&a, text, len, 0, why), PS_HOLD_MORE);
	c = meta(text, len, 1);
	c.size++;
	cr_assert_eq(ps_hold_asm_add(&a, &c, text, 10, why, sizeof(why)),
		     PS_HOLD_BAD);
	cr_assert(strstr(why, "disagrees"), "%s", why);
	free(copy);
	ps_hold_asm_free(&a);
	free(text);
}
