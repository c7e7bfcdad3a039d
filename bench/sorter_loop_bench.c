/* sorter_loop_bench.c: the sorter loop's cost in the pipeline
 * (dataplane/pipeline.c, EAL-free), without the daemon: the traffic of
 * bench/loop_bench.py built in memory. N scan datagrams of 22 records
 * (distinct waybills, the bundled Yiwu plan's regions not needed: a plan
 * of 1000 routes), replayed pass after pass as infinite_rx replays the
 * capture, in bursts of 32 frames: scans only, or each scan datagram
 * followed by a kind 5 datagram of 22 SORTED results for its waybills
 * into the reject chute, from the sorter's address. The passes of the two
 * sides alternate after a warm-up pass of each; the time is this thread's
 * CPU time around ps_pipeline_run (the frames are copied in outside it).
 * With --holds N the second side is not the results but the same scans
 * with N held waybills that no scan carries (the hold filter and, for the
 * few it lets through, the table): what the intercept list costs a
 * record. With --lag N each kind 5 datagram carries the results of the
 * scan datagram N before the one it follows (wrapping), as a sorter
 * answers some seconds after the scan: not the waybills just looked up.
 * Under `valgrind --tool=callgrind --collect-atstart=no
 * --toggle-collect=ps_pipeline_run` (with --passes 1 and --only) it
 * counts the instructions.
 * Never run by the tests (docs/performance.md).
 *   sorter_loop_bench [--datagrams N] [--passes N] [--export]
 *                     [--only scans|results] [--holds N] [--lag N]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dedup.h"
#include "holds.h"
#include "pipeline.h"
#include "pkt.h"
#include "plan.h"
#include "ps_frame.h"

#define RECS PS_MAX_RECORDS
#define FRAME 1600
#define N_ROUTES 1000

static unsigned n_dgrams = 20000, n_passes = 5, lag;
static int with_export, only = -1;
static unsigned n_holds;            /* --holds: side 1 is holds, not results */
static struct ps_holds *held_list;

static struct ps_net_cfg net;
static struct ps_prefix sorter_list[1];
static struct ps_plan *plan;
static struct ps_chute_state cs;
static struct ps_counters cnt;
static struct ps_loop_counters loop;
static struct ps_dedup dd;
static struct ps_event sink[64];
static uint64_t exported;

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The exporter's part on the worker: the events copied out (a ring). */
static void export_copy(void *ctx, const struct ps_event *ev, unsigned n)
{
	(void)ctx;
	memcpy(sink, ev, (n < 64 ? n : 64) * sizeof(*ev));
	exported += n;
}

static void waybill(uint8_t *wb, uint64_t i)
{
	char t[32];
	snprintf(t, sizeof(t), "JT%011" PRIu64, i);
	memset(wb, 0, 24);
	memcpy(wb, t, 13);
}

static struct ps_plan *make_plan(void)
{
	size_t cap = 64 + N_ROUTES * 32, len = 0;
	char *text = malloc(cap);
	struct ps_plan_src src;
	struct ps_errors e;
	len += (size_t)snprintf(text + len, cap - len, "plan b\nsite 1 11\n"
				"reject 999\nintercept 998\nrecirculate 3\n"
				"hub 1 trunk T\n");
	for (unsigned r = 0; r < N_ROUTES; r++)
		len += (size_t)snprintf(text + len, cap - len,
					"route %u 1 %u\n", 110000 + r,
					1 + r % 500);
	ps_errors_init(&e);
	ps_plan_src_init(&src);
	if (ps_plan_parse(&src, text, len, "b", &e)) {
		ps_errors_print(&e, stderr);
		exit(1);
	}
	struct ps_plan *p = ps_plan_compile(&src, 1, &e);
	if (!p) {
		ps_errors_print(&e, stderr);
		exit(1);
	}
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	free(text);
	return p;
}

static size_t udp(uint8_t *frame, const uint8_t src_ip[4], const uint8_t *pay,
		  size_t n)
{
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .sport = 5000, .dport = 7100,
				  .dst_ip = { 198, 18, 0, 2 } };
	memcpy(e.src_ip, src_ip, 4);
	return ps_frame_build_udp(frame, FRAME, &e, pay, n);
}

/* Datagram d's scans (kind 1) or its results (kind 5). */
static size_t build(uint8_t *frame, unsigned d, int results)
{
	static const uint8_t scanner[4] = { 198, 18, 0, 1 },
			     sorter[4] = { 198, 18, 0, 3 };
	uint8_t pay[PS_HDR_LEN + RECS * PS_SCAN_LEN], wb[24];
	unsigned len = results ? PS_SORT_RESULT_LEN : PS_SCAN_LEN;
	struct ps_header h = { .magic = PS_MAGIC, .version = PS_VERSION,
			       .kind = results ? PS_KIND_SORT_RESULT
					       : PS_KIND_SCAN,
			       .count = RECS, .site = 1, .seq = d + 1 };
	ps_header_encode(pay, &h);
	for (unsigned r = 0; r < RECS; r++) {
		uint64_t i = (uint64_t)d * RECS + r;
		uint8_t *e = pay + PS_HDR_LEN + r * len;
		waybill(wb, i);
		if (results) {
			struct ps_sort_result s = {
				.waybill = wb, .event_seq = (uint32_t)i,
				.chute = 999, .status = PS_SORT_SORTED,
				.ts_ms = 1794412800000ull, .plan_version = 1 };
			ps_sort_result_encode(e, &s);
		} else {
			uint64_t x = i * 0x9e3779b97f4a7c15ull;
			struct ps_scan s = {
				.waybill = wb, .scan_type = 1,
				.region = (110000ull + (x >> 40) % N_ROUTES) *
					  1000000ull + (x >> 20) % 1000000,
				.device = 7, .weight_g = 1000,
				.event_seq = (uint32_t)i };
			ps_scan_encode(e, &s);
		}
	}
	return udp(frame, results ? sorter : scanner, pay,
		   PS_HDR_LEN + RECS * len);
}

struct traffic {
	uint8_t *frames;         /* n frames of FRAME bytes */
	uint16_t *len;
	unsigned n;
};

static void make_traffic(struct traffic *t, int results)
{
	t->n = n_dgrams * (results ? 2 : 1);
	t->frames = malloc((size_t)t->n * FRAME);
	t->len = malloc(t->n * sizeof(*t->len));
	for (unsigned i = 0; i < t->n; i++) {
		unsigned d = results ? i / 2 : i;
		if (results && (i & 1))
			d = (d + n_dgrams - lag % n_dgrams) % n_dgrams;
		t->len[i] = (uint16_t)build(t->frames + (size_t)i * FRAME, d,
					    results && (i & 1));
	}
}

/* One pass over the traffic: CPU seconds in the pipeline; *recs: scan
 * records decided. */
static double pass(const struct traffic *t, struct ps_holds *holds,
		   uint32_t now, uint64_t *recs)
{
	struct ps_plan *slot = plan;
	struct ps_pipeline pl = { .net = &net, .plan_slot = &slot,
				  .holds_slot = &holds, .chutes = &cs,
				  .dedup = &dd, .site = 1, .cnt = &cnt,
				  .loop = &loop,
				  .export_fn = with_export ? export_copy : NULL };
	static uint8_t work[PS_BURST][FRAME];
	double total = 0;
	uint64_t r0 = cnt.records;
	for (unsigned first = 0; first + PS_BURST <= t->n; first += PS_BURST) {
		struct ps_pkt_buf b[PS_BURST];
		for (unsigned k = 0; k < PS_BURST; k++) {
			memcpy(work[k], t->frames + (size_t)(first + k) * FRAME,
			       t->len[first + k]);
			b[k] = (struct ps_pkt_buf){ .data = work[k],
						    .len = t->len[first + k] };
		}
		double t0 = cpu_s();
		ps_pipeline_run(&pl, b, PS_BURST, now);
		total += cpu_s() - t0;
	}
	*recs = cnt.records - r0;
	return total;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* n held waybills that no scan carries. */
static struct ps_holds *make_holds(unsigned n)
{
	uint8_t (*wb)[24] = malloc((size_t)n * 24);
	if (!wb)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		char t[32];
		snprintf(t, sizeof(t), "SF%012u", i);
		memset(wb[i], 0, 24);
		memcpy(wb[i], t, 14);
	}
	struct ps_holds *h = ps_holds_build((const uint8_t(*)[24])wb, n);
	free(wb);
	return h;
}

static void usage(void)
{
	fprintf(stderr, "usage: sorter_loop_bench [--datagrams N] "
		"[--passes N] [--export] [--only scans|results] "
		"[--holds N] [--lag N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "datagrams", required_argument, 0, 'd' },
		{ "passes", required_argument, 0, 'p' },
		{ "export", no_argument, 0, 'x' },
		{ "only", required_argument, 0, 'o' },
		{ "holds", required_argument, 0, 'h' },
		{ "lag", required_argument, 0, 'l' },
		{ 0, 0, 0, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'd')
			n_dgrams = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'p')
			n_passes = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'x')
			with_export = 1;
		else if (o == 'h')
			n_holds = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'l')
			lag = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'o' && !strcmp(optarg, "scans"))
			only = 0;
		else if (o == 'o' && !strcmp(optarg, "results"))
			only = 1;
		else
			usage();
	}
	if (!n_dgrams || n_dgrams > 1000000)
		usage();
	net = (struct ps_net_cfg){ .mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1,
				   .ip4 = { 198, 18, 0, 2 }, .port = 7100 };
	if (ps_prefix_parse("198.18.0.3/32", &sorter_list[0]))
		return 1;
	net.sorter_allow = sorter_list;
	net.n_sorter_allow = 1;
	ps_net_cfg_finish(&net);
	ps_chutes_init(&cs);
	plan = make_plan();
	if (ps_dedup_init(&dd, 4u << 20, 600)) {
		fprintf(stderr, "dedup: out of memory\n");
		return 1;
	}
	struct traffic tr[2];
	struct ps_holds *list[2] = { NULL, NULL };
	const char *name[2] = { "scans only", "scans + results" };
	make_traffic(&tr[0], 0);
	if (n_holds) {
		list[1] = held_list = make_holds(n_holds);
		if (!held_list) {
			fprintf(stderr, "holds: out of memory\n");
			return 1;
		}
		tr[1] = tr[0];
		name[0] = "no holds";
		name[1] = "holds";
	} else {
		make_traffic(&tr[1], 1);
	}
	printf("# sorter loop in the pipeline: %u scan datagrams of %u "
	       "records, bursts of %u frames%s\n\n| pass | side | ns/scan "
	       "record | M scan records/s |\n|---|---|---:|---:|\n",
	       n_dgrams, RECS, PS_BURST,
	       with_export ? ", events exported" : "");
	double sum[2] = { 0, 0 }, last[2] = { 0, 0 }, diff[64];
	unsigned n_diff = 0;
	uint64_t nrec[2] = { 0, 0 }, recs;
	uint32_t now = 1;
	for (int side = 0; side < 2; side++)      /* warm-up: the inserts */
		if (only < 0 || only == side)
			pass(&tr[side], list[side], now, &recs);
	for (unsigned p = 0; p < 2 * n_passes; p++) {
		int side = (int)(p & 1);
		if (only >= 0 && only != side)
			continue;
		double s = pass(&tr[side], list[side], now, &recs);
		sum[side] += s;
		nrec[side] += recs;
		last[side] = s * 1e9 / (double)recs;
		if (side && n_diff < 64)
			diff[n_diff++] = last[1] - last[0];
		printf("| %u | %s | %.1f | %.2f |\n", p + 1,
		       name[side],
		       s * 1e9 / (double)recs, (double)recs / s / 1e6);
	}
	if (only < 0) {
		double r0 = (double)nrec[0] / sum[0], r1 = (double)nrec[1] / sum[1];
		printf("\n%s / %s: %.2f (%.2f vs %.2f M scan records/s, CPU "
		       "time of this thread)\n", name[1], name[0], r1 / r0,
		       r1 / 1e6, r0 / 1e6);
		if (n_holds) {
			qsort(diff, n_diff, sizeof(diff[0]), cmp_double);
			printf("cost of the holds: %.2f ns a scan record (from "
			       "the sums); pairwise median %.2f (%.2f to "
			       "%.2f)\n", (1 / r1 - 1 / r0) * 1e9,
			       diff[n_diff / 2], diff[0], diff[n_diff - 1]);
		}
	}
	printf("sort results applied %" PRIu64 ", unknown %" PRIu64
	       ", missorts %" PRIu64 ", dedup hits %" PRIu64 ", events "
	       "exported %" PRIu64 "\n", (uint64_t)cnt.sort_sorted,
	       (uint64_t)cnt.sort_unknown, (uint64_t)cnt.sort_missorts,
	       (uint64_t)cnt.dedup_hits, exported);
	ps_dedup_free(&dd);
	ps_holds_free(held_list);
	ps_plan_free(plan);
	return 0;
}
