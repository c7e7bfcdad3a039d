/* test_spool.c: the event spool between the exporter and the fleet agent:
 * blocks come back in order and intact, the bound refuses and frees, a
 * torn block is skipped, a reader resumes from a saved position, boots
 * keep their order whatever the clock says, a failed write loses only its
 * own block. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* ------------------------------------------------ boot order (#12.2) */

#define CLOCK_T0 0x1800000000000000ull      /* ns since 1970: mid-2026 */
#define FIVE_MINUTES 300000000000ull

static unsigned count_segments(void)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".spool") != NULL;
	closedir(d);
	return n;
}

static void remove_segments(void)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *e;
	char path[320];
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".spool")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			cr_assert_eq(unlink(path), 0);
		}
	closedir(d);
}

static void write_blocks(struct ps_spool_writer *w, int from, int n)
{
	char b[64];
	uint32_t len;
	for (int i = from; i < from + n; i++) {
		payload(b, i, &len);
		cr_assert_eq(ps_spool_append(w, b, len, 2), 0, "block %d", i);
	}
}

/* Read n blocks as the agent does (releasing behind itself); they must be
 * payloads from..from+n-1, numbered 1..n in one boot. Returns the boot. */
static uint64_t read_boot(struct ps_spool_reader *r, int from, int n)
{
	struct ps_spool_block blk;
	char b[64];
	uint32_t len;
	uint64_t boot = 0;
	for (int i = 0; i < n; i++) {
		cr_assert_eq(ps_spool_read(r, &blk), 1, "block %d of %d",
			     i + 1, n);
		payload(b, from + i, &len);
		cr_assert_eq(blk.len, len);
		cr_assert_eq(memcmp(blk.payload, b, len), 0);
		cr_assert_eq(blk.seq, (uint64_t)i + 1);
		if (!i)
			boot = blk.boot;
		cr_assert_eq(blk.boot, boot, "one boot");
		ps_spool_release(r, &blk.end);
	}
	return boot;
}

Test(spool, a_restart_with_the_clock_behind_still_comes_after)
{
	char err[256];
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 256, CLOCK_T0,
						  err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 0, 10);
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	uint64_t boot1 = read_boot(r, 0, 10);
	ps_spool_close(w);
	/* the restart: the clock reads five minutes before the first boot */
	w = ps_spool_open(dir, 1 << 20, 256, CLOCK_T0 - FIVE_MINUTES, err,
			  sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 10, 10);
	uint64_t boot2 = read_boot(r, 10, 10);
	cr_assert_gt(boot2, boot1, "boot 2 (%llx) after boot 1 (%llx)",
		     (unsigned long long)boot2, (unsigned long long)boot1);
	struct ps_spool_block blk;
	cr_assert_eq(ps_spool_read(r, &blk), 0, "nothing else");
	cr_assert_eq(ps_spool_torn(r), 0);
	cr_assert_geq(count_segments(), 1, "the segment being read stays");
	ps_spool_reader_close(r);
	ps_spool_close(w);
}

Test(spool, boot_order_survives_a_spool_emptied_by_the_agent)
{
	char err[256];
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 256, CLOCK_T0,
						  err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 0, 3);
	ps_spool_close(w);
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	uint64_t boot1 = read_boot(r, 0, 3);
	ps_spool_reader_close(r);
	remove_segments();     /* nothing on disk names boot 1 any more */
	w = ps_spool_open(dir, 1 << 20, 256, CLOCK_T0 - FIVE_MINUTES, err,
			  sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 3, 3);
	ps_spool_close(w);
	r = ps_spool_reader_open(dir, err, sizeof(err));
	uint64_t boot2 = read_boot(r, 3, 3);
	cr_assert_gt(boot2, boot1, "boot ids never repeat nor go back");
	ps_spool_reader_close(r);
}

Test(spool, a_spool_of_the_old_version_is_read_first)
{
	char err[256], path[320];
	/* the old version named segments by the start time in ns and kept
	 * no boot counter */
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 256, CLOCK_T0,
						  err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 0, 10);
	ps_spool_close(w);
	snprintf(path, sizeof(path), "%s/last-boot", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%016llx-00000000.spool", dir,
		 (unsigned long long)CLOCK_T0);
	cr_assert_eq(access(path, F_OK), 0, "named as before: %s", path);
	w = ps_spool_open(dir, 1 << 20, 256, CLOCK_T0 - FIVE_MINUTES, err,
			  sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 10, 5);
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	cr_assert_eq(read_boot(r, 0, 10), CLOCK_T0);
	cr_assert_gt(read_boot(r, 10, 5), CLOCK_T0);
	ps_spool_reader_close(r);
	ps_spool_close(w);
}

Test(spool, an_unreadable_boot_counter_is_a_clear_error)
{
	char err[256], path[320];
	snprintf(path, sizeof(path), "%s/last-boot", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not a number\n", f);
	fclose(f);
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 256, CLOCK_T0,
						  err, sizeof(err));
	cr_assert_null(w);
	cr_assert_not_null(strstr(err, "last-boot"), "%s", err);
}

/* ------------------------------------------- failed writes (#12.3) */

static void segment_path(uint64_t boot, char *path, size_t n)
{
	snprintf(path, n, "%s/%016llx-00000000.spool", dir,
		 (unsigned long long)boot);
}

static uint64_t segment_size(uint64_t boot)
{
	char path[320];
	struct stat st;
	segment_path(boot, path, sizeof(path));
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (uint64_t)st.st_size;
}

Test(spool, a_write_cut_short_loses_only_its_own_block)
{
	char err[256], b[64];
	uint32_t len;
	signal(SIGXFSZ, SIG_IGN);
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 1 << 20, 1,
						  err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 0, 1);
	/* the file may grow by the header and 8 payload bytes, no more */
	struct rlimit old, lim;
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = segment_size(1) + 32 + 8;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	payload(b, 1, &len);
	errno = 0;
	cr_assert_eq(ps_spool_append(w, b, len, 2), -1, "block 2 fails");
	cr_assert_eq(errno, EFBIG, "with the write's error: %s",
		     strerror(errno));
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	write_blocks(w, 2, 18);
	/* every block counted as written is there, whole, nothing torn */
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	struct ps_spool_block blk;
	uint64_t bytes = 0;
	for (int i = 0; i < 19; i++) {
		cr_assert_eq(ps_spool_read(r, &blk), 1, "block %d of 19",
			     i + 1);
		payload(b, i ? i + 1 : 0, &len);
		cr_assert_eq(blk.len, len);
		cr_assert_eq(memcmp(blk.payload, b, len), 0);
		cr_assert_eq(blk.seq, (uint64_t)i + 1, "numbers go on");
		/* the lost block's events leave a gap in the numbers */
		cr_assert_eq(blk.first_event, (uint64_t)(i ? 2 * i + 3 : 1));
		bytes += 32 + len;
	}
	cr_assert_eq(ps_spool_read(r, &blk), 0);
	cr_assert_eq(ps_spool_torn(r), 0, "the torn bytes were cut off");
	cr_assert_eq(segment_size(1), bytes);
	cr_assert_eq(ps_spool_bytes(w), bytes);
	ps_spool_reader_close(r);
	ps_spool_close(w);
}

/* The bytes of boot's first segment (up to n), their count. */
static size_t read_segment(uint64_t boot, char *buf, size_t n)
{
	char path[320];
	segment_path(boot, path, sizeof(path));
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "%s", path);
	ssize_t k = read(fd, buf, n);
	cr_assert_gt(k, 0);
	close(fd);
	return (size_t)k;
}

/* Append raw bytes to boot's first segment, as a crash (or the old
 * version's failed write) left them; truncate it to keep bytes first. */
static void append_raw(uint64_t boot, uint64_t keep, const void *p, size_t n)
{
	char path[320];
	segment_path(boot, path, sizeof(path));
	cr_assert_eq(truncate(path, (off_t)keep), 0);
	int fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

Test(spool, whole_blocks_after_a_torn_one_are_still_read)
{
	char err[256], seg[512];
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 1 << 20, 3,
						  err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	write_blocks(w, 0, 4);
	ps_spool_close(w);
	/* what the old version left after a failed write: blocks 1 and 2,
	 * the first 40 bytes of block 3, then blocks 3 and 4 whole */
	size_t n = read_segment(3, seg, sizeof(seg));
	size_t two = n / 2;
	append_raw(3, two, seg + two, 40);
	append_raw(3, two + 40, seg + two, n - two);
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	cr_assert_eq(read_boot(r, 0, 4), 3);
	struct ps_spool_block blk;
	cr_assert_eq(ps_spool_read(r, &blk), 0);
	cr_assert_eq(ps_spool_torn(r), 1, "one torn block skipped");
	ps_spool_reader_close(r);
}

Test(spool, a_torn_tail_yields_every_whole_block_before_it)
{
	char err[256], raw[512];
	/* the daemon killed mid-write, at any byte of its last block (a
	 * block here is 32 + 24 bytes) */
	static const unsigned cut[] = { 1, 4, 8, 20, 31, 32, 33, 40, 55 };
	for (unsigned c = 0; c < sizeof(cut) / sizeof(cut[0]); c++) {
		rm_tmp();
		mkdir_tmp();
		struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 1 << 20,
							  10, err, sizeof(err));
		cr_assert_not_null(w, "%s", err);
		write_blocks(w, 0, 5);
		ps_spool_close(w);
		size_t n = read_segment(10, raw, sizeof(raw));
		append_raw(10, n, raw, cut[c]);
		struct ps_spool_reader *r = ps_spool_reader_open(dir, err,
								 sizeof(err));
		cr_assert_eq(read_boot(r, 0, 5), 10, "cut at %u", cut[c]);
		struct ps_spool_block blk;
		cr_assert_eq(ps_spool_read(r, &blk), 0, "boot 10 may still "
			     "be writing (cut at %u)", cut[c]);
		/* the next boot: boot 10's segment is finished */
		w = ps_spool_open(dir, 1 << 20, 1 << 20, 11, err, sizeof(err));
		write_blocks(w, 5, 2);
		cr_assert_eq(read_boot(r, 5, 2), 11, "cut at %u", cut[c]);
		cr_assert_eq(ps_spool_torn(r), 1, "cut at %u", cut[c]);
		ps_spool_reader_close(r);
		ps_spool_close(w);
	}
}

/* A block still being written is not torn: the reader waits for its
 * bytes and never looks for blocks inside the part already written. A
 * payload may hold a block's bytes (the spool stores any bytes); taking
 * them for a block after torn bytes delivered a block twice, counted a
 * torn block that was not, and lost the block being written. */
Test(spool, a_block_being_written_is_waited_for_not_searched)
{
	char err[256], seg[512], outer[256];
	struct ps_spool_writer *w = ps_spool_open(dir, 1 << 20, 1 << 20, 7,
						  err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(ps_spool_append(w, "{\"a\":1}\n", 8, 1), 0);
	size_t one = read_segment(7, seg, sizeof(seg));     /* block 1 */
	/* block 2's payload holds block 1's bytes */
	int k = snprintf(outer, sizeof(outer), "{\"raw\":\"");
	memcpy(outer + k, seg, one);
	k += (int)one;
	k += snprintf(outer + k, sizeof(outer) - (size_t)k, "\"}\n");
	cr_assert_eq(ps_spool_append(w, outer, (uint32_t)k, 1), 0);
	ps_spool_close(w);
	size_t all = read_segment(7, seg, sizeof(seg));
	cr_assert_eq(all, one + 32 + (size_t)k);
	struct ps_spool_reader *r = ps_spool_reader_open(dir, err, sizeof(err));
	struct ps_spool_block b;
	cr_assert_eq(ps_spool_read(r, &b), 1);
	cr_assert_eq(b.seq, 1);
	/* block 2 as a reader sees it mid-write: its header and the payload
	 * up to just past the bytes of block 1 inside it */
	size_t mid = one + 32 + 8 + one + 1;
	append_raw(7, one, seg + one, mid - one);
	cr_assert_eq(ps_spool_read(r, &b), 0, "got seq %llu at %llu",
		     (unsigned long long)b.seq,
		     (unsigned long long)b.end.offset);
	cr_assert_eq(ps_spool_torn(r), 0);
	/* the write completes: block 2, whole */
	append_raw(7, mid, seg + mid, all - mid);
	cr_assert_eq(ps_spool_read(r, &b), 1);
	cr_assert_eq(b.seq, 2);
	cr_assert_eq(b.len, (uint32_t)k);
	cr_assert_eq(ps_spool_read(r, &b), 0);
	cr_assert_eq(ps_spool_torn(r), 0);
	ps_spool_reader_close(r);
}

/* The daemon appends while the agent reads: a block appended just after
 * the reader found the end of the data, with another after it by the time
 * the reader looked again, was taken for torn bytes and skipped (a block
 * counted as written, never published). Every block must come back, in
 * order, none torn. */
static const char *append_dir;
static volatile int appends_done;

static void *append_in_bursts(void *arg)
{
	(void)arg;
	char err[256], b[64];
	struct ps_spool_writer *w = ps_spool_open(append_dir, 1ull << 32,
						  64ull << 20, 5, err,
						  sizeof(err));
	if (!w)
		return "open";
	for (int i = 0; i < 20000; i++) {
		int len = sprintf(b, "{\"e\":%d}\n", i);
		if (ps_spool_append(w, b, (uint32_t)len, 1))
			return "append";
		if (i % 3 == 2)           /* bursts, so the reader is often
					   * at the end of the data */
			usleep(100);
	}
	ps_spool_close(w);
	__atomic_store_n(&appends_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(spool, blocks_appended_while_reading_are_never_taken_for_torn,
     .timeout = 60)
{
	char err[256];
	append_dir = dir;
	appends_done = 0;
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, append_in_bursts, NULL), 0);
	struct ps_spool_reader *r = NULL;
	while (!(r = ps_spool_reader_open(dir, err, sizeof(err))))
		usleep(100);
	struct ps_spool_block b;
	uint64_t next = 1;
	for (;;) {
		int done = __atomic_load_n(&appends_done, __ATOMIC_ACQUIRE);
		int v = ps_spool_read(r, &b);
		if (v == 1) {
			cr_assert_eq(b.seq, next, "block %llu read after %llu "
				     "(%llu torn)", (unsigned long long)b.seq,
				     (unsigned long long)(next - 1),
				     (unsigned long long)ps_spool_torn(r));
			next++;
		} else if (done) {
			break;     /* read dry after the last append */
		}
	}
	void *res = NULL;
	pthread_join(t, &res);
	cr_assert_null(res, "writer: %s", (const char *)res);
	cr_assert_eq(next, 20001);
	cr_assert_eq(ps_spool_torn(r), 0);
	ps_spool_reader_close(r);
}
