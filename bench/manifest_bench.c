/* manifest_bench.c: the manifest table (manifest/) against DPDK's rte_hash
 * with lock-free read/write concurrency, the reference: load time, lookups
 * that hit and that miss (bursts of 32, random order), and memory; then
 * loading a 10 M-line file through the parser, and the resident memory of
 * a 16 M-entry manifest. Never run by the tests (docs/performance.md).
 *   manifest_bench EAL_ARGS -- [--entries N] [--file-entries N] [--full N]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "manifest.h"
#include "manifest_table.h"

#define BURST 32
static uint64_t n_entries = 10000000, n_file = 10000000, n_full = 16u << 20;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This thread's CPU time: what one core spent, whatever else the machine
 * was running (the wall clock on a shared machine is mostly waiting). */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, res = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The i-th waybill: 13 characters, NUL-padded to 24. */
static void waybill(uint8_t *wb, uint64_t i)
{
	char t[32];
	snprintf(t, sizeof(t), "JD%011" PRIu64, i);
	memset(wb, 0, 24);
	memcpy(wb, t, 13);
}

static uint8_t *make_keys(uint64_t n, uint64_t first)
{
	uint8_t *k = malloc(n * 24);
	for (uint64_t i = 0; i < n; i++)
		waybill(k + i * 24, first + i);
	return k;
}

/* A random order of n lookups among the keys. */
static uint32_t *make_order(uint64_t n)
{
	uint32_t *o = malloc(n * sizeof(*o));
	uint64_t x = 88172645463325252ull;
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		o[i] = (uint32_t)(x % n);
	}
	return o;
}

static void report(const char *what, uint64_t n, double s)
{
	printf("| %-40s | %10.2f | %8.1f |\n", what, s, (double)n / s / 1e6);
}

/* A load: wall seconds, CPU seconds of this thread, M lines/s by CPU. */
static void report_load(const char *what, uint64_t n, double s, double cpu)
{
	printf("| %-40s | %10.2f | %10.2f | %8.1f |\n", what, s, cpu,
	       (double)n / cpu / 1e6);
}

static double look_ours(const struct ps_mtable *t, const uint8_t *keys,
			const uint32_t *order, uint64_t n, uint64_t *found)
{
	const uint8_t *wbs[BURST];
	uint64_t reg[BURST], hits = 0;
	double t0 = now_s();
	for (uint64_t i = 0; i + BURST <= n; i += BURST) {
		for (unsigned j = 0; j < BURST; j++)
			wbs[j] = keys + (uint64_t)order[i + j] * 24;
		ps_mtable_get_burst(t, wbs, BURST, 1, reg);
		for (unsigned j = 0; j < BURST; j++)
			hits += reg[j] != 0;
	}
	*found = hits;
	return now_s() - t0;
}

static double look_rte(const struct rte_hash *h, const uint8_t *keys,
		       const uint32_t *order, uint64_t n, uint64_t *found)
{
	const void *k[BURST];
	void *data[BURST];
	uint64_t hits = 0, mask;
	double t0 = now_s();
	for (uint64_t i = 0; i + BURST <= n; i += BURST) {
		for (unsigned j = 0; j < BURST; j++)
			k[j] = keys + (uint64_t)order[i + j] * 24;
		rte_hash_lookup_bulk_data(h, k, BURST, &mask, data);
		hits += (uint64_t)__builtin_popcountll(mask);
	}
	*found = hits;
	return now_s() - t0;
}

static void compare_tables(void)
{
	uint64_t n = n_entries, hits;
	uint8_t *keys = make_keys(n, 0), *miss = make_keys(n, 50000000000ull);
	uint32_t *order = make_order(n);
	printf("\n## Table: %" PRIu64 " entries\n\n"
	       "| what | seconds | M ops/s |\n|---|---:|---:|\n", n);

	uint64_t rss0 = rss_bytes();
	struct ps_mtable *t = ps_mtable_new(n + n / 4);
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		ps_mtable_put(t, keys + i * 24, 110000000000ull + i % 1000,
			      UINT64_MAX);
	report("manifest table: insert", n, now_s() - t0);
	uint64_t ours_rss = rss_bytes() - rss0;
	double s = look_ours(t, keys, order, n, &hits);
	report("manifest table: lookup hit (burst 32)", n, s);
	if (hits != n / BURST * BURST)
		printf("!! %" PRIu64 " hits\n", hits);
	report("manifest table: lookup miss (burst 32)", n,
	       look_ours(t, miss, order, n, &hits));
	ps_mtable_free(t);

	struct rte_malloc_socket_stats ms0, ms1;
	rte_malloc_get_socket_stats(0, &ms0);
	struct rte_hash_parameters p = {
		.name = "manifest_ref", .entries = (uint32_t)(n + n / 4),
		.key_len = 24, .hash_func = rte_hash_crc,
		.socket_id = 0,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash *h = rte_hash_create(&p);
	if (!h) {
		printf("rte_hash_create failed (more EAL memory? -m)\n");
		goto out;
	}
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		if (rte_hash_add_key_data(h, keys + i * 24,
			(void *)(uintptr_t)(110000000000ull + i % 1000)) < 0) {
			printf("rte_hash full at %" PRIu64 "\n", i);
			break;
		}
	report("rte_hash LF: insert", n, now_s() - t0);
	rte_malloc_get_socket_stats(0, &ms1);
	report("rte_hash LF: lookup hit (bulk 32)", n,
	       look_rte(h, keys, order, n, &hits));
	report("rte_hash LF: lookup miss (bulk 32)", n,
	       look_rte(h, miss, order, n, &hits));
	rte_hash_free(h);
	printf("\nmemory for %" PRIu64 " entries: manifest table %.0f MB "
	       "resident; rte_hash %.0f MB allocated (rte_malloc)\n", n,
	       (double)ours_rss / 1e6,
	       (double)(ms1.heap_allocsz_bytes - ms0.heap_allocsz_bytes) / 1e6);
out:
	free(keys);
	free(miss);
	free(order);
}

static void file_load(void)
{
	char path[] = "/tmp/manifest-bench-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w+");
	for (uint64_t i = 0; i < n_file; i++)
		fprintf(f, "JD%011" PRIu64 ",%" PRIu64 "\n", i,
			(uint64_t)(110000000000ull + i % 1000));
	fflush(f);
	long size = ftell(f);
	char sdir[] = "/tmp/manifest-bench-state-XXXXXX";
	if (!mkdtemp(sdir))
		return;
	printf("\n## Loading a %" PRIu64 "-line file (%.0f MB)\n\n"
	       "| what | wall s | CPU s | M lines/s (CPU) |\n"
	       "|---|---:|---:|---:|\n",
	       n_file, (double)size / 1e6);
	for (int saved = 0; saved < 2; saved++) {
		struct ps_manifest_cfg cfg = { .capacity = n_full,
					       .state_dir = saved ? sdir : NULL };
		char err[256];
		struct ps_manifest *m = ps_manifest_open(&cfg, err, sizeof(err));
		struct ps_errors e;
		struct ps_manifest_load_result r;
		ps_errors_init(&e);
		rewind(f);
		double t0 = now_s(), c0 = cpu_s();
		int rc = ps_manifest_load(m, f, "bench.csv", 1, &e, &r);
		double s = now_s() - t0;
		report_load(saved ? "load --replace, saved (snapshot, fsync)" :
			    "load --replace, in memory", n_file, s,
			    cpu_s() - c0);
		if (rc)
			ps_errors_print(&e, stdout);
		ps_errors_free(&e);
		ps_manifest_close(m);
		if (saved) {
			t0 = now_s();
			c0 = cpu_s();
			m = ps_manifest_open(&cfg, err, sizeof(err));
			report_load("restart: restore the snapshot", n_file,
				    now_s() - t0, cpu_s() - c0);
			ps_manifest_close(m);
		}
	}
	fclose(f);
	unlink(path);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", sdir);
	if (system(cmd))
		printf("cannot remove %s\n", sdir);
}

static void full_memory(void)
{
	uint64_t rss0 = rss_bytes();
	struct ps_manifest_cfg cfg = { .capacity = n_full };
	char err[256];
	struct ps_manifest *m = ps_manifest_open(&cfg, err, sizeof(err));
	uint64_t empty = rss_bytes() - rss0;
	uint8_t wb[24];
	for (uint64_t i = 0; i < n_full; i++) {
		waybill(wb, i);
		ps_manifest_add(m, wb, 110000000000ull, err, sizeof(err));
	}
	uint64_t full = rss_bytes() - rss0;
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	printf("\n## Memory\n\nempty manifest of capacity %" PRIu64
	       ": %.1f MB resident; full (%" PRIu64 " entries): %.0f MB "
	       "resident (stats say %.0f MB)\n", n_full, (double)empty / 1e6,
	       st.entries, (double)full / 1e6, (double)st.bytes / 1e6);
	ps_manifest_close(m);
}

int main(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	static const struct option opts[] = {
		{ "entries", required_argument, NULL, 'n' },
		{ "file-entries", required_argument, NULL, 'f' },
		{ "full", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			n_entries = strtoull(optarg, NULL, 10);
		else if (c == 'f')
			n_file = strtoull(optarg, NULL, 10);
		else if (c == 'u')
			n_full = strtoull(optarg, NULL, 10);
		else
			return 2;
	}
	printf("# manifest benchmarks (one core)\n");
	if (n_full)          /* --full 0, --entries 0: skip that part */
		full_memory();
	if (n_entries)
		compare_tables();
	file_load();
	rte_eal_cleanup();
	return 0;
}
