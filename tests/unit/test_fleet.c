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
#include "fleet_sign.h"

#include <sodium.h>

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

/* An agent starting without its cursor skips only the event blocks the
 * stream is sure to hold: a block of the last window may have failed while
 * a later one of the same window was stored (then the agent died), so it
 * is sent again (the stream's de-duplication drops what it has). */
Test(fleet, a_restarted_agent_sends_the_last_window_again)
{
	uint64_t boot = 7, last = 1000;
	cr_assert(!ps_fleet_block_stored(boot, last, boot, last - 1),
		  "a block just before the last stored one may be missing");
	cr_assert(!ps_fleet_block_stored(boot, last, boot,
					 last - PS_FLEET_WINDOW_MAX + 1));
	cr_assert(ps_fleet_block_stored(boot, last, boot,
					last - PS_FLEET_WINDOW_MAX),
		  "a block of an earlier window was acknowledged");
	cr_assert(ps_fleet_block_stored(boot, last, boot, 1));
	cr_assert(ps_fleet_block_stored(boot, last, boot - 1, 5000),
		  "blocks of an earlier boot are stored");
	cr_assert(!ps_fleet_block_stored(boot, last, boot + 1, 1));
	cr_assert(!ps_fleet_block_stored(boot, last, boot, last + 1));
	cr_assert(!ps_fleet_block_stored(0, 0, 1, 1), "an empty stream");
	cr_assert(!ps_fleet_block_stored(boot, 3, boot, 1),
		  "no underflow near the boot's first block");
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

/* ------------------------------------------------- signed items */

#include <sodium.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fleet_sign.h"

struct keys {
	unsigned char sk[PS_SIGN_SK], sk2[PS_SIGN_SK];
	struct ps_trust trust;
};

static void make_keys(struct keys *k)
{
	unsigned char pk[PS_SIGN_PK], pk2[PS_SIGN_PK];
	cr_assert(sodium_init() >= 0);
	crypto_sign_keypair(pk, k->sk);
	crypto_sign_keypair(pk2, k->sk2);
	memset(&k->trust, 0, sizeof(k->trust));
	memcpy(k->trust.pk[k->trust.n++], pk, PS_SIGN_PK);
}

/* A plan with its trailer, signed for site a after revision 7. */
static void signed_plan(struct ps_out *o, const unsigned char *sk)
{
	ps_out_init(o);
	const char *plan = "plan p\nsite 1 33\nreject 9\n";
	ps_out_write(o, plan, strlen(plan));
	ps_fleet_trailer(o, "p.plan", 42);
	ps_sign_append(o, "plan", "a", 7, sk);
}

static int verify(const struct ps_out *o, const char *site, uint64_t min,
		  const struct ps_trust *t, char *why)
{
	size_t body = 0;
	return ps_sign_verify(o->buf, o->len, "plan", site, min, t, &body,
			      why, 200);
}

Test(fleet_sign, good_signature_is_accepted_and_stripped)
{
	struct keys k;
	struct ps_out o;
	char why[200] = "";
	make_keys(&k);
	signed_plan(&o, k.sk);
	size_t body = 0;
	cr_assert_eq(ps_sign_verify(o.buf, o.len, "plan", "a", 7, &k.trust,
				    &body, why, sizeof(why)), 0, "%s", why);
	cr_assert(strncmp(o.buf + body, PS_SIGN_PREFIX,
			  strlen(PS_SIGN_PREFIX)) == 0);
	cr_assert_eq(ps_sign_body_len(o.buf, o.len), body);
	/* the trailer is still read, past the signature line */
	char file[64];
	uint64_t ms;
	ps_fleet_trailer_parse(o.buf, o.len, file, sizeof(file), &ms);
	cr_assert_str_eq(file, "p.plan");
	cr_assert_eq(ms, 42);
	ps_out_free(&o);
}

Test(fleet_sign, every_changed_byte_is_refused)
{
	struct keys k;
	struct ps_out o;
	char why[200];
	make_keys(&k);
	signed_plan(&o, k.sk);
	size_t body = ps_sign_body_len(o.buf, o.len);
	for (size_t i = 0; i < body; i++) {
		o.buf[i] ^= 0x01;
		cr_assert_eq(verify(&o, "a", 0, &k.trust, why), -1,
			     "byte %zu changed, still accepted", i);
		/* the newline before the signature line hides it */
		cr_assert(strstr(why, i + 1 == body ? "not signed"
				 : "bad signature"), "%zu: %s", i, why);
		o.buf[i] ^= 0x01;
	}
	cr_assert_eq(verify(&o, "a", 0, &k.trust, why), 0, "%s", why);
	ps_out_free(&o);
}

Test(fleet_sign, unsigned_and_wrong_key_are_refused)
{
	struct keys k;
	struct ps_out o;
	char why[200];
	make_keys(&k);
	signed_plan(&o, k.sk2);          /* a key the site does not trust */
	cr_assert_eq(verify(&o, "a", 0, &k.trust, why), -1);
	cr_assert(strstr(why, "does not trust"), "%s", why);
	o.len = ps_sign_body_len(o.buf, o.len);
	cr_assert_eq(verify(&o, "a", 0, &k.trust, why), -1);
	cr_assert(strstr(why, "not signed"), "%s", why);
	ps_out_free(&o);
}

Test(fleet_sign, another_site_or_a_changed_header_is_refused)
{
	struct keys k;
	struct ps_out o;
	char why[200];
	make_keys(&k);
	signed_plan(&o, k.sk);
	cr_assert_eq(verify(&o, "b", 0, &k.trust, why), -1);
	cr_assert(strstr(why, "signed for site a"), "%s", why);
	/* rewriting the header's site or revision breaks the signature */
	char *p = strstr(o.buf, " site=a ");
	p[6] = 'b';
	cr_assert_eq(verify(&o, "b", 0, &k.trust, why), -1);
	cr_assert(strstr(why, "bad signature"), "%s", why);
	p[6] = 'a';
	p = strstr(o.buf, " after=7 ");
	p[7] = '9';
	cr_assert_eq(verify(&o, "a", 9, &k.trust, why), -1);
	cr_assert(strstr(why, "bad signature"), "%s", why);
	ps_out_free(&o);
}

Test(fleet_sign, an_older_revision_is_refused_as_replayed)
{
	struct keys k;
	struct ps_out o;
	char why[200];
	make_keys(&k);
	signed_plan(&o, k.sk);           /* follows revision 7 */
	cr_assert_eq(verify(&o, "a", 7, &k.trust, why), 0, "%s", why);
	cr_assert_eq(verify(&o, "a", 8, &k.trust, why), -1);
	cr_assert(strstr(why, "replayed"), "%s", why);
	size_t body;
	cr_assert_eq(ps_sign_verify(o.buf, o.len, "hold", "a", 0, &k.trust,
				    &body, why, sizeof(why)), -1,
		     "a signed plan is no signed hold");
	ps_out_free(&o);
}

Test(fleet_sign, key_files_round_trip)
{
	char dir[] = "/tmp/ps-sign-XXXXXX", path[128], pub[160], why[200];
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ops", dir);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	cr_assert_eq(ps_sign_keygen(path, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(ps_sign_keygen(path, why, sizeof(why)), -1,
		     "never overwrites a key");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	unsigned char sk[PS_SIGN_SK];
	struct ps_trust t = { 0 };
	cr_assert_eq(ps_sign_load_secret(path, sk, why, sizeof(why)), 0);
	cr_assert_eq(ps_sign_load_trust(pub, &t, why, sizeof(why)), 0);
	cr_assert_eq(t.n, 1);
	cr_assert_eq(ps_sign_load_trust(path, &t, why, sizeof(why)), -1,
		     "a secret key is no public key");
	struct ps_out o;
	signed_plan(&o, sk);
	cr_assert_eq(verify(&o, "a", 0, &t, why), 0, "%s", why);
	ps_out_free(&o);
	unlink(path);
	unlink(pub);
	rmdir(dir);
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
	/* a chunk of another load in the middle of one: that one dropped,
	 * and a chunk other than the first refused on its own */
	cr_assert_eq(feed(&a, text, len, 0, why), PS_HOLD_MORE);
	c = meta(text, len, 1);
	snprintf(c.load, sizeof(c.load), "other");
	cr_assert_eq(ps_hold_asm_add(&a, &c, text, 10, why, sizeof(why)),
		     PS_HOLD_BAD);
	cr_assert(strstr(a.dropped, "never came"), "%s", a.dropped);
	cr_assert(strstr(why, "without chunk 0"), "%s", why);
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

/* parcelsortctl stopped partway through a fleet hold load and run again
 * (a new load id): the interrupted load is dropped and reported, and the
 * new one, arriving whole, is applied (it was refused with it); a late
 * chunk of the dropped load is ignored, not taken for a new one. */
Test(fleet_holds, a_load_run_again_after_an_interrupted_one_is_taken)
{
	size_t len;
	char *text = big_list(&len);
	uint32_t count = ps_hold_chunk_count(len, CHUNK);
	struct ps_hold_asm a;
	char why[256];
	ps_hold_asm_init(&a);
	struct ps_hold_chunk c;
	size_t off, n;
	for (uint32_t i = 0; i < 2; i++) {      /* the first run: 2 chunks */
		c = meta(text, len, i);
		snprintf(c.load, sizeof(c.load), "first");
		ps_hold_chunk_range(len, CHUNK, i, &off, &n);
		cr_assert_eq(ps_hold_asm_add(&a, &c, text + off, n, why,
					     sizeof(why)), PS_HOLD_MORE);
	}
	for (uint32_t i = 0; i < count; i++) {  /* run again: all of it */
		int r = feed(&a, text, len, i, why);
		if (i == 0)
			cr_assert(strstr(a.dropped, "load first refused"), "%s",
				  a.dropped);
		else
			cr_assert_eq(a.dropped[0], 0);
		cr_assert_eq(r, i + 1 < count ? PS_HOLD_MORE : PS_HOLD_DONE,
			     "chunk %u: %d (%s)", i, r, why);
	}
	cr_assert_eq(a.buf.len, len);
	cr_assert_eq(memcmp(a.buf.buf, text, len), 0);
	ps_hold_asm_reset(&a);
	c = meta(text, len, 2);                 /* the first run's rest */
	snprintf(c.load, sizeof(c.load), "first");
	ps_hold_chunk_range(len, CHUNK, 2, &off, &n);
	cr_assert_eq(ps_hold_asm_add(&a, &c, text + off, n, why, sizeof(why)),
		     PS_HOLD_IGNORED);
	ps_hold_asm_free(&a);
	free(text);
}

/* ------------------------------------------- signed hold operations */

struct hold_keys {
	unsigned char pk[PS_SIGN_PK], sk[PS_SIGN_SK];
	struct ps_trust trust;
};

static void hold_keys(struct hold_keys *k)
{
	cr_assert(sodium_init() >= 0);
	crypto_sign_keypair(k->pk, k->sk);
	memset(&k->trust, 0, sizeof(k->trust));
	memcpy(k->trust.pk[0], k->pk, PS_SIGN_PK);
	k->trust.n = 1;
}

static void add_item(struct ps_out *item, const char *waybills)
{
	ps_out_init(item);
	ps_hold_sign_item(item, "add", "customs", "", waybills,
			  strlen(waybills));
}

Test(fleet_holds, a_signed_operation_verifies_at_its_site)
{
	struct hold_keys k;
	struct ps_out item;
	char line[512], why[256] = "";
	hold_keys(&k);
	add_item(&item, "SF1\nSF2\n");
	cr_assert_eq(ps_hold_sign_line(line, sizeof(line), &item, "a", 7,
				       k.sk), 0);
	cr_assert(strstr(line, "kind=hold site=a after=7 "), "%s", line);
	cr_assert_eq(ps_hold_verify(line, &item, "a", 7, &k.trust, why,
				    sizeof(why)), 0, "%s", why);
	cr_assert_eq(ps_hold_verify(line, &item, "a", 3, &k.trust, why,
				    sizeof(why)), 0, "%s", why);
	ps_out_free(&item);
}

Test(fleet_holds, an_unsigned_or_untrusted_operation_is_refused)
{
	struct hold_keys k, other;
	struct ps_out item;
	char line[512], why[256] = "";
	hold_keys(&k);
	hold_keys(&other);
	add_item(&item, "SF1\n");
	cr_assert_eq(ps_hold_verify(NULL, &item, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	cr_assert(strstr(why, "not signed"), "%s", why);
	cr_assert_eq(ps_hold_sign_line(line, sizeof(line), &item, "a", 0,
				       other.sk), 0);
	cr_assert_eq(ps_hold_verify(line, &item, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	cr_assert(strstr(why, "does not trust"), "%s", why);
	ps_out_free(&item);
}

Test(fleet_holds, a_changed_byte_note_or_op_is_refused)
{
	struct hold_keys k;
	struct ps_out item, changed;
	char line[512], why[256] = "";
	hold_keys(&k);
	add_item(&item, "SF1\nSF2\n");
	cr_assert_eq(ps_hold_sign_line(line, sizeof(line), &item, "a", 0,
				       k.sk), 0);
	add_item(&changed, "SF1\nSF3\n");          /* one byte of the body */
	cr_assert_eq(ps_hold_verify(line, &changed, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	cr_assert(strstr(why, "bad signature"), "%s", why);
	ps_out_free(&changed);
	ps_out_init(&changed);                      /* the note */
	ps_hold_sign_item(&changed, "add", "customz", "", "SF1\nSF2\n", 8);
	cr_assert_eq(ps_hold_verify(line, &changed, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	ps_out_free(&changed);
	ps_out_init(&changed);                      /* add made a del */
	ps_hold_sign_item(&changed, "del", "customs", "", "SF1\nSF2\n", 8);
	cr_assert_eq(ps_hold_verify(line, &changed, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	ps_out_free(&changed);
	line[strlen(line) - 1] ^= 1;                /* the signature */
	cr_assert_eq(ps_hold_verify(line, &item, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	ps_out_free(&item);
}

Test(fleet_holds, an_operation_for_another_site_is_refused)
{
	struct hold_keys k;
	struct ps_out item;
	char line[512], why[256] = "";
	hold_keys(&k);
	add_item(&item, "SF1\n");
	cr_assert_eq(ps_hold_sign_line(line, sizeof(line), &item, "b", 0,
				       k.sk), 0);
	cr_assert_eq(ps_hold_verify(line, &item, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	cr_assert(strstr(why, "signed for site b"), "%s", why);
	ps_out_free(&item);
}

Test(fleet_holds, a_signed_plan_is_not_a_hold)
{
	struct hold_keys k;
	struct ps_out item, plan;
	char why[256] = "";
	hold_keys(&k);
	add_item(&item, "SF1\n");
	ps_out_init(&plan);                 /* the same bytes, kind=plan */
	ps_out_write(&plan, item.buf, item.len);
	ps_sign_append(&plan, "plan", "a", 0, k.sk);
	const char *line = plan.buf + item.len;
	char copy[512];
	snprintf(copy, sizeof(copy), "%.*s", (int)strcspn(line, "\n"), line);
	cr_assert_eq(ps_hold_verify(copy, &item, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	cr_assert(strstr(why, "signed as a plan, not a hold"), "%s", why);
	ps_out_free(&plan);
	ps_out_free(&item);
}

Test(fleet_holds, an_operation_put_back_later_is_refused_as_replayed)
{
	struct hold_keys k;
	struct ps_out item;
	char line[512], why[256] = "";
	hold_keys(&k);
	add_item(&item, "SF1\n");
	cr_assert_eq(ps_hold_sign_line(line, sizeof(line), &item, "a", 4,
				       k.sk), 0);
	cr_assert_eq(ps_hold_verify(line, &item, "a", 4, &k.trust, why,
				    sizeof(why)), 0, "%s", why);
	/* applied at revision 5; put back into the stream afterwards */
	cr_assert_eq(ps_hold_verify(line, &item, "a", 5, &k.trust, why,
				    sizeof(why)), -1);
	cr_assert(strstr(why, "replayed"), "%s", why);
	ps_out_free(&item);
}

Test(fleet_holds, a_load_is_signed_over_its_whole_list_and_name)
{
	struct hold_keys k;
	struct ps_out item, other;
	char line[512], why[256] = "";
	const char *list = "SF1,one\nSF2,two\n";
	hold_keys(&k);
	ps_out_init(&item);
	ps_hold_sign_item(&item, "load", NULL, "x.holds", list, strlen(list));
	cr_assert(strstr(item.buf, "size=16\n"), "%s", item.buf);
	cr_assert_eq(ps_hold_sign_line(line, sizeof(line), &item, "a", 0,
				       k.sk), 0);
	ps_out_init(&other);
	ps_hold_sign_item(&other, "load", NULL, "y.holds", list, strlen(list));
	cr_assert_eq(ps_hold_verify(line, &other, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	ps_out_free(&other);
	ps_out_init(&other);
	ps_hold_sign_item(&other, "load", NULL, "x.holds", list, 8);
	cr_assert_eq(ps_hold_verify(line, &other, "a", 0, &k.trust, why,
				    sizeof(why)), -1);
	ps_out_free(&other);
	ps_out_free(&item);
}

/* ------------------------------------------------------------- nkeys */

#include "fleet_nkey.h"

/* The seed of bytes 0..31 as a user nkey, and its public key, computed
 * apart from this code (Python: base64.b32encode, CRC-16/XMODEM, the
 * cryptography package's Ed25519). */
#define VEC_SEED "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y"
#define VEC_PUB  "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK"
#define VEC_PK   "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"

Test(fleet_nkey, public_key_of_a_known_seed)
{
	char pub[PS_NKEY_PUB_LEN + 1];
	cr_assert_eq(ps_nkey_public(VEC_SEED, pub), 0);
	cr_assert_str_eq(pub, VEC_PUB);
}

Test(fleet_nkey, libnats_signs_with_the_key_we_announce)
{
	unsigned char pk[32], *sig = NULL;
	int len = 0;
	cr_assert_eq(sodium_init() >= 0, 1);
	cr_assert_eq(nats_Open(-1), NATS_OK);
	cr_assert_eq(sodium_hex2bin(pk, sizeof(pk), VEC_PK, 64, NULL, NULL,
				    NULL), 0);
	cr_assert_eq(nats_Sign(VEC_SEED, "nonce-123", &sig, &len), NATS_OK);
	cr_assert_eq(len, 64);
	cr_assert_eq(crypto_sign_verify_detached(sig, (const unsigned char *)
						 "nonce-123", 9, pk), 0);
	free(sig);
}

Test(fleet_nkey, bad_seeds_are_refused)
{
	char pub[PS_NKEY_PUB_LEN + 1], bad[] = VEC_SEED;
	bad[20] = bad[20] == 'A' ? 'B' : 'A';           /* checksum fails */
	cr_assert_eq(ps_nkey_public(bad, pub), -1);
	/* the same key as an account seed: not a user */
	cr_assert_eq(ps_nkey_public("SAAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIW"
				    "C4MBSGQ3DQOR4HYMHI", pub), -1);
	cr_assert_eq(ps_nkey_public(VEC_PUB, pub), -1);  /* a public key */
	cr_assert_eq(ps_nkey_public("SU1", pub), -1);
	cr_assert_eq(ps_nkey_public("", pub), -1);
}

Test(fleet_nkey, generated_seeds_round_trip)
{
	char seed[PS_NKEY_SEED_LEN + 1], pub[PS_NKEY_PUB_LEN + 1],
	     again[PS_NKEY_PUB_LEN + 1];
	cr_assert_eq(ps_nkey_generate(seed, pub), 0);
	cr_assert_eq(strncmp(seed, "SU", 2), 0);
	cr_assert_eq(pub[0], 'U');
	cr_assert_eq(ps_nkey_public(seed, again), 0);
	cr_assert_str_eq(again, pub);
}

static const char *creds_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/test_fleet_creds.%d", (int)getpid());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
	return path;
}

Test(fleet_nkey, creds_files_are_told_apart)
{
	char seed[PS_NKEY_SEED_LEN + 1], pub[PS_NKEY_PUB_LEN + 1], err[256];
	const char *f = creds_file(VEC_SEED "\n");
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)),
		     PS_CREDS_NKEY);
	cr_assert_str_eq(seed, VEC_SEED);
	cr_assert_str_eq(pub, VEC_PUB);
	f = creds_file("-----BEGIN USER NKEY SEED-----\n" VEC_SEED
		       "\n------END USER NKEY SEED------\n");
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)),
		     PS_CREDS_NKEY);
	cr_assert_str_eq(pub, VEC_PUB);
	f = creds_file("-----BEGIN NATS USER JWT-----\neyJ0eXAi\n"
		       "------END NATS USER JWT------\n\n"
		       "-----BEGIN USER NKEY SEED-----\n" VEC_SEED
		       "\n------END USER NKEY SEED------\n");
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)),
		     PS_CREDS_JWT);
	f = creds_file("user: ops\npassword: x\n");
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)), -1);
	cr_assert(strstr(err, "neither a NATS credentials file"), "%s", err);
	unlink(f);
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)), -1);
	cr_assert(strstr(err, "cannot read it"), "%s", err);
}

Test(fleet_nkey, a_credential_other_users_may_read_or_change_is_refused)
{
	char seed[PS_NKEY_SEED_LEN + 1], pub[PS_NKEY_PUB_LEN + 1], err[256];
	const char *f = creds_file(VEC_SEED "\n");
	cr_assert_eq(chmod(f, 0644), 0);
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)), -1);
	cr_assert(strstr(err, "mode 0644") && strstr(err, "chmod 600"),
		  "%s", err);
	cr_assert_eq(chmod(f, 0620), 0);        /* the group may replace it */
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)), -1);
	f = creds_file("-----BEGIN NATS USER JWT-----\neyJ0eXAi\n"
		       "------END NATS USER JWT------\n\n"
		       "-----BEGIN USER NKEY SEED-----\n" VEC_SEED
		       "\n------END USER NKEY SEED------\n");
	cr_assert_eq(chmod(f, 0604), 0);
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)), -1);
	cr_assert(strstr(err, "chmod 600"), "%s", err);
	/* the owner's, and its group's to read: taken */
	cr_assert_eq(chmod(f, 0640), 0);
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)),
		     PS_CREDS_JWT);
	f = creds_file(VEC_SEED "\n");
	cr_assert_eq(ps_creds_read(f, seed, pub, err, sizeof(err)),
		     PS_CREDS_NKEY);
	unlink(f);
}

/* ---------------------------------------------------------- manifests */

#include "fleet_manifest.h"

Test(fleet_manifest, batches_are_whole_lines_under_the_size)
{
	const char *t = "# pre-advice\nSF1,330782100201\nSF2,330782100202\n"
			"SF3,330782100203\n";
	size_t len = strlen(t), off = 0, total = 0;
	uint32_t lines, all = 0, k = 0;
	while (off < len) {
		size_t n = ps_man_cut(t, len, off, 40, &lines);
		cr_assert(n > 0 && n <= 40);
		cr_assert_eq(t[off + n - 1], '\n');
		off += n;
		total += n;
		all += lines;
		k++;
	}
	cr_assert_eq(total, len);
	cr_assert_eq(all, 4);
	cr_assert_eq(k, 2);      /* 13+17 bytes, then 17+17 */
	/* a line longer than a batch cannot be cut */
	cr_assert_eq(ps_man_cut(t, len, 0, 8, &lines), 0);
	/* the rest fits: taken whole, even without a last line break */
	cr_assert_eq(ps_man_cut("SF1,1\nSF2,2", 11, 0, 100, &lines), 11);
	cr_assert_eq(lines, 1);
}

/* Lines that leave a batch nearly half empty make many more batches than
 * len / max: every one is counted (parcelsortctl sized its batches by
 * len / max + 2 and dropped the end of such a file without a word). */
Test(fleet_manifest, every_batch_of_a_file_is_counted)
{
	char t[100 * 25 + 1];
	for (int i = 0; i < 100; i++)
		snprintf(t + 25 * i, 26, "PS%09d,330100000000\n", i);
	size_t len = strlen(t), max = 49, off = 0;   /* one line a batch */
	uint32_t n = ps_man_batch_count(t, len, max), lines;
	cr_assert_eq(n, 100);
	cr_assert_gt(n, len / max + 2);
	for (uint32_t i = 0; i < n; i++)
		off += ps_man_cut(t, len, off, max, &lines);
	cr_assert_eq(off, len);
	cr_assert_eq(ps_man_batch_count(t, len, 20), 0, "a line too long");
	cr_assert_eq(ps_man_batch_count(t, 0, max), 0, "nothing to cut");
}

Test(fleet_manifest, a_load_takes_the_batches_that_fit_in_64_MB)
{
	cr_assert_eq(ps_man_load_batches(1 << 20), 64);       /* 1 MB */
	cr_assert_eq(ps_man_load_batches(8 << 20), 8);        /* 8 MB */
	cr_assert_eq(ps_man_load_batches(64 << 20), 1);
	cr_assert_eq(ps_man_load_batches(INT64_C(1) << 30), 1);  /* never 0 */
	cr_assert_eq(ps_man_load_batches(4096), 64);          /* bounded */
	cr_assert_eq(ps_man_load_batches(0), 8);              /* unknown */
	cr_assert_eq(ps_man_load_batches(-1), 8);
}

Test(fleet_manifest, headers_round_trip_and_bad_ones_are_refused)
{
	natsMsg *m = NULL;
	struct ps_man_batch b = { .push = "p1", .name = "pre.csv", .index = 2,
				  .count = 5, .first_line = 1001,
				  .crc = 0xdeadbeef, .pushed_ms = 1234 }, r;
	cr_assert_eq(nats_Open(-1), NATS_OK);
	cr_assert_eq(natsMsg_Create(&m, "x", NULL, "", 0), NATS_OK);
	cr_assert_eq(ps_man_batch_set(m, &b), NATS_OK);
	cr_assert_eq(ps_man_batch_get(m, &r), 0);
	cr_assert_str_eq(r.push, "p1");
	cr_assert_str_eq(r.name, "pre.csv");
	cr_assert_eq(r.index, 2);
	cr_assert_eq(r.count, 5);
	cr_assert_eq(r.first_line, 1001);
	cr_assert_eq(r.crc, 0xdeadbeef);
	cr_assert_eq(r.pushed_ms, 1234);
	natsMsgHeader_Set(m, PS_MAN_H_BATCH, "5");        /* index >= count */
	cr_assert_eq(ps_man_batch_get(m, &r), -1);
	natsMsgHeader_Set(m, PS_MAN_H_BATCH, "2x");
	cr_assert_eq(ps_man_batch_get(m, &r), -1);
	natsMsgHeader_Set(m, PS_MAN_H_BATCH, "2");
	natsMsgHeader_Delete(m, PS_MAN_H_CRC);
	cr_assert_eq(ps_man_batch_get(m, &r), -1);
	natsMsg_Destroy(m);
}

Test(fleet_manifest, signed_batches_tampered_replayed_or_foreign_are_refused)
{
	struct keys k;
	make_keys(&k);
	struct ps_man_batch b = { .push = "p1", .name = "pre.csv", .index = 0,
				  .count = 2, .first_line = 1 };
	const char *text = "SF1,330782100201\nSF2,330782100202\n";
	char line[512], why[256];
	struct ps_out item, other;
	ps_out_init(&item);
	ps_man_sign_item(&item, &b, text, strlen(text));
	cr_assert_eq(ps_sign_item_line(line, sizeof(line), &item, "manifest",
				       "a", 7, k.sk), 0);
	cr_assert_eq(ps_sign_item_verify(line, &item, "manifest", "a", 7,
					 &k.trust, why, sizeof(why)), 0);
	/* one byte of the text changed */
	ps_out_init(&other);
	ps_man_sign_item(&other, &b, "SF1,330782100209\nSF2,330782100202\n",
			 strlen(text));
	cr_assert_eq(ps_sign_item_verify(line, &other, "manifest", "a", 7,
					 &k.trust, why, sizeof(why)), -1);
	cr_assert(strstr(why, "bad signature"), "%s", why);
	ps_out_free(&other);
	/* the batch's place (its first line) changed */
	struct ps_man_batch moved = b;
	moved.first_line = 2;
	ps_out_init(&other);
	ps_man_sign_item(&other, &moved, text, strlen(text));
	cr_assert_eq(ps_sign_item_verify(line, &other, "manifest", "a", 7,
					 &k.trust, why, sizeof(why)), -1);
	ps_out_free(&other);
	/* put back after revision 8 was handled: replayed */
	cr_assert_eq(ps_sign_item_verify(line, &item, "manifest", "a", 8,
					 &k.trust, why, sizeof(why)), -1);
	cr_assert(strstr(why, "replayed"), "%s", why);
	/* another site, another kind, unsigned, an untrusted key */
	cr_assert_eq(ps_sign_item_verify(line, &item, "manifest", "b", 7,
					 &k.trust, why, sizeof(why)), -1);
	cr_assert_eq(ps_sign_item_verify(line, &item, "hold", "a", 7,
					 &k.trust, why, sizeof(why)), -1);
	cr_assert_eq(ps_sign_item_verify(NULL, &item, "manifest", "a", 7,
					 &k.trust, why, sizeof(why)), -1);
	cr_assert(strstr(why, "not signed"), "%s", why);
	cr_assert_eq(ps_sign_item_line(line, sizeof(line), &item, "manifest",
				       "a", 7, k.sk2), 0);
	cr_assert_eq(ps_sign_item_verify(line, &item, "manifest", "a", 7,
					 &k.trust, why, sizeof(why)), -1);
	ps_out_free(&item);
}

/* A server that forges stream sequences (the cluster itself compromised)
 * delivers a batch signed to follow revision 5 as revision 5, then again
 * as 6: with only "R not older than the last handled", both pass and the
 * batch is applied twice (a waybill deleted at the site in between comes
 * back). A batch lands after the revision it follows, so R < its own. */
Test(fleet_manifest, a_batch_delivered_at_or_before_the_revision_it_follows_is_refused)
{
	struct keys k;
	make_keys(&k);
	struct ps_man_batch b = { .push = "p1", .name = "pre.csv", .index = 0,
				  .count = 1, .first_line = 1 };
	const char *text = "SF1,330782100201\n";
	size_t n = strlen(text);
	char line[512], why[256];
	struct ps_out item;
	ps_out_init(&item);
	ps_man_sign_item(&item, &b, text, n);
	cr_assert_eq(ps_sign_item_line(line, sizeof(line), &item, "manifest",
				       "a", 5, k.sk), 0);
	ps_out_free(&item);
	/* honest: published after 5, it is 6 */
	cr_assert_eq(ps_man_verify(line, &b, text, n, "a", 4, 6, &k.trust,
				   why, sizeof(why)), 0, "%s", why);
	/* forged: delivered as 5 (after 4 was handled), then as 6 */
	cr_assert_eq(ps_man_verify(line, &b, text, n, "a", 4, 5, &k.trust,
				   why, sizeof(why)), -1);
	cr_assert(strstr(why, "out of place"), "%s", why);
	cr_assert_eq(ps_man_verify(line, &b, text, n, "a", 4, 3, &k.trust,
				   why, sizeof(why)), -1);
	/* and once 6 is handled, 7 is a replay */
	cr_assert_eq(ps_man_verify(line, &b, text, n, "a", 6, 7, &k.trust,
				   why, sizeof(why)), -1);
	cr_assert(strstr(why, "replayed"), "%s", why);
	/* the envelope's checks still apply */
	cr_assert_eq(ps_man_verify(NULL, &b, text, n, "a", 4, 6, &k.trust,
				   why, sizeof(why)), -1);
	cr_assert_eq(ps_man_verify(line, &b, text, n, "b", 4, 6, &k.trust,
				   why, sizeof(why)), -1);
}
