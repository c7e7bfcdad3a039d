/* test_spool.c: the event spool between the exporter and the fleet agent:
 * blocks come back in order and intact, the bound refuses and frees, a
 * torn block is skipped, a reader resumes from a saved position. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ps_spool.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ps-spool.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(spool, .init = mkdir_tmp, .fini = rm_tmp);

static void payload(char *b, int i, uint32_t *len)
{
	*len = (uint32_t)sprintf(b, "{\"block\":%d}\n{\"block\":%d}\n", i, i);
}

Test(spool, blocks_come_back_in_order_across_segments)
{
	char err[256], b[64];
	uint32_t len;
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 256, 77, err,
						  sizeof(err));
	cr_assert_not_null(w, "%s", err);
	for (int i = 0; i < 50; i++) {
		payload(b, i, &len);
		cr_assert_eq(ps_spool_append(w, b, len, 2), 0);
	}
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	cr_assert_not_null(r);
	struct ps_spool_block blk;
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(ps_spool_read(r, &blk), 1, "block %d", i);
		payload(b, i, &len);
		cr_assert_eq(blk.len, len);
		cr_assert_eq(memcmp(blk.payload, b, len), 0);
		cr_assert_eq(blk.seq, (uint64_t)i + 1);
		cr_assert_eq(blk.first_event, (uint64_t)(2 * i + 1));
		cr_assert_eq(blk.count, 2);
		cr_assert_eq(blk.boot, 77);
	}
	cr_assert_eq(ps_spool_read(r, &blk), 0, "nothing more yet");
	payload(b, 50, &len);
	cr_assert_eq(ps_spool_append(w, b, len, 2), 0);
	cr_assert_eq(ps_spool_read(r, &blk), 1, "a block appended later");
	cr_assert_eq(blk.seq, 51);
	cr_assert_eq(ps_spool_torn(r), 0);
	ps_spool_reader_close(r);
	ps_spool_close(w);
}

Test(spool, full_spool_refuses_until_the_reader_releases)
{
	char err[256], b[64];
	uint32_t len;
	payload(b, 0, &len);
	uint64_t block = 32 + len;
	struct ps_spool_writer *w = ps_spool_open(dir, 10 * block, 2 * block,
						  5, err, sizeof(err));
	cr_assert_not_null(w);
	int stored = 0;
	for (int i = 0; i < 20; i++)
		stored += ps_spool_append(w, b, len, 2) == 0;
	cr_assert_eq(stored, 10, "the bound holds (%d stored)", stored);
	cr_assert_eq(ps_spool_append(w, b, len, 2), 1, "full: refused");
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	struct ps_spool_block blk;
	for (int i = 0; i < 6; i++)
		cr_assert_eq(ps_spool_read(r, &blk), 1);
	/* refused blocks leave a gap in the event numbers, not a hole in
	 * the block numbers */
	cr_assert_eq(blk.seq, 6);
	ps_spool_release(r, &blk.end);
	cr_assert_eq(ps_spool_append(w, b, len, 2), 0, "room again");
	cr_assert_lt(ps_spool_bytes(w), 10 * block);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(ps_spool_read(r, &blk), 1);
	cr_assert_eq(blk.seq, 11);
	cr_assert_eq(blk.first_event, 2 * 21 + 1, "event numbers: %llu",
		     (unsigned long long)blk.first_event);
	ps_spool_reader_close(r);
	ps_spool_close(w);
}

Test(spool, torn_block_of_a_crashed_boot_is_skipped)
{
	char err[256], b[64], path[128];
	uint32_t len;
	payload(b, 1, &len);
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 1 << 20, 1,
						  err, sizeof(err));
	cr_assert_eq(ps_spool_append(w, b, len, 2), 0);
	ps_spool_close(w);
	/* the crash: half a block at the end of boot 1's segment */
	snprintf(path, sizeof(path), "%s/0000000000000001-00000000.spool",
		 dir);
	int fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "PSB1\x40\x00\x00\x00partial", 15), 15);
	close(fd);
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	struct ps_spool_block blk;
	cr_assert_eq(ps_spool_read(r, &blk), 1);
	cr_assert_eq(ps_spool_read(r, &blk), 0, "boot 1 may still be writing");
	w = ps_spool_open(dir, 1 << 20, 1 << 20, 2, err, sizeof(err));
	cr_assert_eq(ps_spool_append(w, b, len, 2), 0);
	cr_assert_eq(ps_spool_read(r, &blk), 1, "boot 2's block");
	cr_assert_eq(blk.boot, 2);
	cr_assert_eq(blk.seq, 1);
	cr_assert_eq(ps_spool_torn(r), 1);
	ps_spool_reader_close(r);
	ps_spool_close(w);
}

Test(spool, reader_resumes_from_a_saved_position)
{
	char err[256], b[64], saved[128];
	uint32_t len;
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 200, 9, err,
						  sizeof(err));
	for (int i = 0; i < 10; i++) {
		payload(b, i, &len);
		ps_spool_append(w, b, len, 2);
	}
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	struct ps_spool_block blk;
	for (int i = 0; i < 4; i++)
		ps_spool_read(r, &blk);
	snprintf(saved, sizeof(saved), "%s %llu", blk.end.segment,
		 (unsigned long long)blk.end.offset);
	ps_spool_reader_close(r);
	struct ps_spool_pos pos;
	cr_assert_eq(ps_spool_pos_parse(saved, &pos), 0);
	cr_assert_eq(ps_spool_pos_parse("junk 12", &pos), -1);
	cr_assert_eq(ps_spool_pos_parse(saved, &pos), 0);
	r = ps_spool_reader_open(dir, err, sizeof(err));
	ps_spool_seek(r, &pos);
	cr_assert_eq(ps_spool_read(r, &blk), 1);
	cr_assert_eq(blk.seq, 5, "resumed at the fifth block");
	cr_assert_gt(ps_spool_backlog(r, &pos), 0);
	ps_spool_reader_close(r);
	ps_spool_close(w);
}
