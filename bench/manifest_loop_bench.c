/* manifest_loop_bench.c: the pipeline (dataplane/pipeline.c, EAL-free) on
 * fresh traffic, barcode-only against the same traffic carrying its
 * regions, in one run: a manifest of N waybills (default 10 M), scan
 * batches of 22 records of waybills drawn from it in a random order, each
 * seen once per pass (every pass 1000 s of the dataplane clock after the
 * last, past the duplicate window), decided in bursts of 32 frames. After
 * a warm-up pass (page faults), passes alternate (regions, barcode-only,
 * ...); the time is this thread's CPU time around ps_pipeline_run (the
 * frames are rebuilt outside it). Never run by the tests (docs/performance.md).
 *   manifest_loop_bench [--entries N] [--records N] [--passes N]
 *                       [--only carried|barcode]
 * --only runs the passes of one kind (a profile of that kind: perf record
 * with a delay past the manifest's load); no ratio then.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dedup.h"
#include "manifest.h"
#include "pipeline.h"
#include "pkt.h"
#include "plan.h"
#include "ps_frame.h"

#define RECS PS_MAX_RECORDS
#define FRAME 1600
#define N_ROUTES 1000

static uint64_t n_entries = 10000000, n_records = 2000000;
static unsigned n_passes = 3;
static int only = -1;            /* -1 both; 1 carried only; 0 barcode only */

static struct ps_net_cfg net;
static struct ps_plan *plan;
static struct ps_chute_state cs;
static struct ps_counters cnt;
static struct ps_dedup dd;

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void waybill(uint8_t *wb, uint64_t i)
{
	char t[32];
	snprintf(t, sizeof(t), "JD%011" PRIu64, i);
	memset(wb, 0, 24);
	memcpy(wb, t, 13);
}

/* The i-th waybill's region: one of the plan's 1000 routes. */
static uint64_t region_of(uint64_t i)
{
	uint64_t h = i * 0x9e3779b97f4a7c15ull;
	return (110000ull + (h >> 40) % N_ROUTES) * 1000000ull + (h >> 20) % 1000000;
}

static struct ps_plan *make_plan(void)
{
	size_t cap = 64 + N_ROUTES * 32, len = 0;
	char *text = malloc(cap);
	struct ps_plan_src src;
	struct ps_errors e;
	len += (size_t)snprintf(text + len, cap - len, "plan b\nsite 1 11\n"
				"reject 999\nhub 1 trunk T\n");
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

/* One frame of RECS scans of the waybills order[first..], with their
 * regions or region 0. */
static size_t build_frame(uint8_t *frame, const uint32_t *order,
			  uint64_t first, int with_region)
{
	static uint32_t seq;
	uint8_t pay[PS_HDR_LEN + RECS * PS_SCAN_LEN], wb[24];
	struct ps_header h = { .magic = PS_MAGIC, .version = PS_VERSION,
			       .kind = PS_KIND_SCAN, .count = RECS, .site = 1,
			       .seq = ++seq };
	ps_header_encode(pay, &h);
	for (unsigned r = 0; r < RECS; r++) {
		uint64_t i = order[first + r];
		waybill(wb, i);
		struct ps_scan s = { .waybill = wb, .scan_type = 1,
				     .region = with_region ? region_of(i) : 0,
				     .device = 7, .weight_g = 1000,
				     .event_seq = (uint32_t)(first + r) };
		ps_scan_encode(pay + PS_HDR_LEN + r * PS_SCAN_LEN, &s);
	}
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .sport = 5000, .dport = 7100,
				  .src_ip = { 198, 18, 0, 1 },
				  .dst_ip = { 198, 18, 0, 2 } };
	return ps_frame_build_udp(frame, FRAME, &e, pay, sizeof(pay));
}

/* One pass over the traffic: seconds in the pipeline and records. */
static double pass(struct ps_manifest *m, const uint32_t *order,
		   int with_region, uint8_t *frames, uint64_t *recs,
		   uint32_t now)
{
	struct ps_plan *slot = plan;
	struct ps_pipeline pl = { .net = &net, .plan_slot = &slot,
				  .chutes = &cs, .dedup = &dd, .site = 1,
				  .cnt = &cnt, .manifest = m };
	double total = 0;
	uint64_t per_burst = (uint64_t)PS_BURST * RECS;
	*recs = 0;
	memset(&cnt, 0, sizeof(cnt));
	for (uint64_t first = 0; first + per_burst <= n_records;
	     first += per_burst) {
		struct ps_pkt_buf b[PS_BURST];
		for (unsigned k = 0; k < PS_BURST; k++) {
			b[k].data = frames + k * FRAME;
			b[k].len = (uint16_t)build_frame(b[k].data, order,
							 first + k * RECS,
							 with_region);
		}
		double t0 = cpu_s();
		ps_pipeline_run(&pl, b, PS_BURST, now);
		total += cpu_s() - t0;
		*recs += per_burst;
	}
	if (cnt.records_by_reason[PS_R_ROUTED] != *recs)
		fprintf(stderr, "!! %" PRIu64 " of %" PRIu64 " ROUTED\n",
			(uint64_t)cnt.records_by_reason[PS_R_ROUTED], *recs);
	return total;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "entries", required_argument, 0, 'e' },
		{ "records", required_argument, 0, 'r' },
		{ "passes", required_argument, 0, 'p' },
		{ "only", required_argument, 0, 'o' },
		{ 0, 0, 0, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'e')
			n_entries = strtoull(optarg, NULL, 10);
		else if (o == 'r')
			n_records = strtoull(optarg, NULL, 10);
		else if (o == 'p')
			n_passes = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'o' && !strcmp(optarg, "carried"))
			only = 1;
		else if (o == 'o' && !strcmp(optarg, "barcode"))
			only = 0;
		else
			return 2;
	}
	if (n_records > n_entries)
		n_records = n_entries;
	net = (struct ps_net_cfg){ .mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1,
				   .ip4 = { 198, 18, 0, 2 }, .port = 7100 };
	ps_net_cfg_finish(&net);
	ps_chutes_init(&cs);
	plan = make_plan();
	struct ps_manifest_cfg mc = { .capacity = n_entries };
	char err[256];
	struct ps_manifest *m = ps_manifest_open(&mc, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	uint8_t wb[24];
	for (uint64_t i = 0; i < n_entries; i++) {
		waybill(wb, i);
		ps_manifest_add(m, wb, region_of(i), err, sizeof(err));
	}
	/* the records' waybills: distinct, drawn from the whole manifest */
	uint32_t *order = malloc(n_entries * sizeof(*order));
	for (uint64_t i = 0; i < n_entries; i++)
		order[i] = (uint32_t)i;
	uint64_t x = 88172645463325252ull;
	for (uint64_t i = n_entries - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t j = x % (i + 1);
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	uint8_t *frames = malloc((size_t)PS_BURST * FRAME);
	printf("# pipeline, fresh traffic: %" PRIu64 "-entry manifest, %"
	       PRIu64 " records a pass\n\n| pass | regions in the records "
	       "| ns/record | M records/s |\n|---|---|---:|---:|\n",
	       n_entries, n_records);
	double sum[2] = { 0, 0 };
	uint64_t nrec[2] = { 0, 0 }, recs;
	if (ps_dedup_init(&dd, 4u << 20, 600)) {
		fprintf(stderr, "dedup: out of memory\n");
		return 1;
	}
	pass(m, order, 1, frames, &recs, 1);     /* warm-up, not counted */
	for (unsigned p = 0; p < 2 * n_passes; p++) {
		int with_region = !(p & 1);
		if (only >= 0 && with_region != only)
			continue;
		double s = pass(m, order, with_region, frames, &recs,
				1000 * (p + 2));
		sum[with_region] += s;
		nrec[with_region] += recs;
		printf("| %u | %s | %.1f | %.2f |\n", p + 1,
		       with_region ? "carried" : "barcode-only (manifest)",
		       s * 1e9 / (double)recs, (double)recs / s / 1e6);
	}
	if (only >= 0)
		goto out;
	double rate_r = (double)nrec[1] / sum[1], rate_m = (double)nrec[0] / sum[0];
	printf("\nbarcode-only / carried regions: %.2f (%.2f vs %.2f M "
	       "records/s, CPU time of this thread)\n", rate_m / rate_r,
	       rate_m / 1e6, rate_r / 1e6);
out:
	ps_dedup_free(&dd);
	free(frames);
	free(order);
	ps_manifest_close(m);
	ps_plan_free(plan);
	return 0;
}
