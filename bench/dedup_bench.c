/* dedup_bench.c: the duplicate window alone, driven the way the pipeline
 * drives it (bursts of 704 records: hashes, prefetches paced ahead,
 * look-ups, then inserts of the misses), without EAL or ports, so that its
 * cost can be read on a noisy machine: TSC cycles per record, the lowest
 * and the median of several passes (preemption only ever adds cycles), the
 * thread's CPU ns per record (lowest pass), and the TSC cycles per record
 * spent in the burst's look-ups and in its inserts (all passes, and the
 * median burst's: a preempted burst does not move the median).
 *   fresh:    3.5 x the capacity in distinct waybills, each seen once per
 *             pass, the window full and evicting (every look-up misses,
 *             every record is inserted);
 *   replayed: 40% of the capacity, every look-up a hit;
 *   replayed out of order: the replayed waybills looked up in a
 *             shuffled order, not the one they were inserted in;
 *   replayed at 80%: 80% of the capacity, for the hit rate (a waybill
 *             forgotten by an eviction is a miss, then inserted again);
 *   results:  sort results (SORTED) in batches of 29 on remembered
 *             waybills, the kind 5 path (prefetch, look-up, claim, write).
 * The clock moves on a second a measured pass and stays at second 10 for
 * the passes before them (600 s window: nothing expires, however many).
 * Arguments: capacity (1048576), passes (5), which traffic (frs8x: fresh,
 * replayed, sort results, replayed at 80%, replayed out of order), passes
 * before the measured ones (1 to 1000, default 1: a window whose
 * evictions take many passes to show, such as the prototype's ring at
 * 80%, needs more). Linked against bench/dedup_ring_proto.c instead of
 * the dataplane's window, it is dedup_bench_ring (a prototype layout,
 * measured side by side). Not a test (no timing asserts). Built with
 * -DOLD_WINDOW it runs against a window without the two-step prefetch
 * (for before/after comparisons). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "dedup.h"

#ifdef OLD_WINDOW
#define ps_dedup_prefetch_entry(d, h) ((void)(d), (void)(h))
#define ps_dedup_prefetch_insert(d, h, n) ((void)(d), (void)(h), (void)(n))
#endif

#define BURST 704            /* 32 datagrams of 22 records */
#ifndef AHEAD                /* the pipeline's distances (pipeline.c) */
#define AHEAD 16
#endif
#ifndef ENTRY_AHEAD
#define ENTRY_AHEAD 8
#endif
#ifndef INSERT_AHEAD
#define INSERT_AHEAD 8
#endif
#define RESULTS 29

static struct ps_chute_state cs;

static void waybill(uint8_t *wb, uint64_t i)
{
	memset(wb, 0, PS_WAYBILL_LEN);
	snprintf((char *)wb, PS_WAYBILL_LEN, "JT%013" PRIu64,
		 (uint64_t)(i * 2654435761u % 10000000000000ull));
}

/* Per-burst TSC cycles per record of each phase, kept for their
 * medians: a burst during which the thread was preempted is an outlier
 * that the median ignores, where the sum over all bursts does not. */
#define MAX_BURSTS (1u << 16)

struct counts {
	uint64_t hits, inserts, evictions, busy;
	uint64_t cyc_lookup, cyc_insert;   /* TSC cycles in each phase */
	uint32_t bursts;
	float *lookup_per, *insert_per;    /* per burst, per record */
};

/* One burst as decide() in pipeline.c does it. */
static void burst(struct ps_dedup *d, uint8_t (*wb)[PS_WAYBILL_LEN],
		  unsigned n, uint32_t now, struct counts *c)
{
	uint64_t t0 = __rdtsc();
	uint64_t hash[BURST];
	uint16_t fresh[BURST];
	unsigned nf = 0, i;
	for (i = 0; i < n; i++) {
		hash[i] = ps_dedup_hash(wb[i]);
		if (i < AHEAD)
			ps_dedup_prefetch(d, hash[i]);
	}
	for (i = 0; i < n && i < ENTRY_AHEAD; i++)
		ps_dedup_prefetch_entry(d, hash[i]);
	for (i = 0; i < n; i++) {
		if (i + AHEAD < n)
			ps_dedup_prefetch(d, hash[i + AHEAD]);
		if (i + ENTRY_AHEAD < n)
			ps_dedup_prefetch_entry(d, hash[i + ENTRY_AHEAD]);
		struct ps_dedup_entry e;
		if (ps_dedup_lookup_entry(d, hash[i], wb[i], now, &e) ==
		    PS_DEDUP_HIT)
			c->hits++;
		else
			fresh[nf++] = (uint16_t)i;
	}
	uint64_t t1 = __rdtsc();
	c->cyc_lookup += t1 - t0;
	for (i = 0; i < nf && i < INSERT_AHEAD; i++)
		ps_dedup_prefetch_insert(d, hash[fresh[i]], now);
	for (i = 0; i < nf; i++) {
		unsigned k = fresh[i];
		if (i + INSERT_AHEAD < nf)
			ps_dedup_prefetch_insert(d, hash[fresh[i + INSERT_AHEAD]],
						 now);
		struct ps_decision dec = { .chute = (uint16_t)(k & 255) + 1,
					   .reason = PS_R_ROUTED }, first;
		int ev;
		enum ps_dedup_result r = ps_dedup_insert_exempt(
			d, hash[k], wb[k], now, &dec, &cs, 0, 0, &first, &ev);
		c->hits += r == PS_DEDUP_HIT;
		c->busy += r == PS_DEDUP_BUSY;
		c->inserts += r == PS_DEDUP_MISS;
		c->evictions += (unsigned)ev;
	}
	uint64_t t2 = __rdtsc();
	c->cyc_insert += t2 - t1;
	if (c->lookup_per && c->bursts < MAX_BURSTS) {
		c->lookup_per[c->bursts] = (float)(t1 - t0) / (float)n;
		c->insert_per[c->bursts] = (float)(t2 - t1) / (float)n;
		c->bursts++;
	}
}

/* A kind 5 batch as apply_sort_results() does it. */
static void results(struct ps_dedup *d, uint8_t (*wb)[PS_WAYBILL_LEN],
		    unsigned n, uint32_t now, struct counts *c)
{
	uint64_t hash[RESULTS];
	for (unsigned i = 0; i < n; i++) {
		hash[i] = ps_dedup_hash(wb[i]);
		ps_dedup_prefetch(d, hash[i]);
	}
	for (unsigned i = 0; i < n; i++)
		ps_dedup_prefetch_entry(d, hash[i]);
	for (unsigned i = 0; i < n; i++) {
		struct ps_dedup_entry was;
		c->hits += ps_dedup_sort_result(d, hash[i], wb[i], now,
						PS_SORT_SORTED, &was) ==
			   PS_DEDUP_HIT;
	}
}

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One pass over keys in bursts of `per`; TSC cycles per record, and the
 * thread's CPU time per record in *ns (time on the CPU only: a preempted
 * pass costs more cycles, not more CPU time), the clock at now. */
static double pass(struct ps_dedup *d, uint8_t (*keys)[PS_WAYBILL_LEN],
		   uint64_t n, unsigned per, int kind, struct counts *c,
		   uint32_t now, double *ns)
{
	double c0 = cpu_ns();
	uint64_t t0 = __rdtsc();
	for (uint64_t i = 0; i < n; i += per) {
		unsigned m = (unsigned)(n - i < per ? n - i : per);
		if (kind)
			results(d, keys + i, m, now, c);
		else
			burst(d, keys + i, m, now, c);
	}
	uint64_t t1 = __rdtsc();
	*ns = (cpu_ns() - c0) / (double)n;
	return (double)(t1 - t0) / (double)n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmpf(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* The median of n per-burst figures (sorts them); 0 when none. */
static double median(float *v, uint32_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(v[0]), cmpf);
	return v[n / 2];
}

/* Passes over the keys before the measured ones (argument 4). */
static int warm_passes = 1;

/* The window filled by warm_passes passes over warm_keys, then the passes
 * measured over keys (the same waybills, or the same in another order). */
static void report(const char *name, struct ps_dedup *d,
		   uint8_t (*warm_keys)[PS_WAYBILL_LEN],
		   uint8_t (*keys)[PS_WAYBILL_LEN], uint64_t n, unsigned per,
		   int kind, int passes)
{
	struct counts warm = { 0 }, c = { 0 };
	double cyc[16], ns[16], x;
	c.lookup_per = malloc(MAX_BURSTS * sizeof(float));
	c.insert_per = malloc(MAX_BURSTS * sizeof(float));
	for (int w = 0; w < warm_passes; w++)   /* fill the window */
		pass(d, warm_keys, n, per, kind, &warm, 10, &x);
	for (int p = 0; p < passes; p++)
		cyc[p] = pass(d, keys, n, per, kind, &c, 11 + (uint32_t)p,
			      &ns[p]);
	qsort(cyc, (size_t)passes, sizeof(cyc[0]), cmp);
	qsort(ns, (size_t)passes, sizeof(ns[0]), cmp);
	uint64_t recs = n * (uint64_t)passes;
	printf("| %s | %" PRIu64 " | %.1f | %.1f | %.1f | %.0f / %.0f | %.0f / %.0f | %.3f | %.2f | %.2f | %" PRIu64 " |\n",
	       name, n, cyc[0], cyc[passes / 2], ns[0],
	       (double)c.cyc_lookup / (double)recs,
	       (double)c.cyc_insert / (double)recs,
	       median(c.lookup_per, c.bursts), median(c.insert_per, c.bursts),
	       (double)c.hits / (double)recs, (double)c.inserts / (double)recs,
	       (double)c.evictions / (double)recs, c.busy);
	fflush(stdout);
	free(c.lookup_per);
	free(c.insert_per);
}

/* A copy of keys[0..n) in another order (Fisher-Yates, fixed seed): the
 * waybills replayed in an order other than the one they were inserted in
 * (a window whose slots follow the insert order reads them in order
 * otherwise). */
static uint8_t (*shuffled(uint8_t (*keys)[PS_WAYBILL_LEN],
			  uint64_t n))[PS_WAYBILL_LEN]
{
	uint8_t (*out)[PS_WAYBILL_LEN] = malloc(n ? n * PS_WAYBILL_LEN : 1);
	if (!out)
		return NULL;
	memcpy(out, keys, n * PS_WAYBILL_LEN);
	uint64_t x = 88172645463325252ull;
	for (uint64_t i = n ? n - 1 : 0; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t j = x % (i + 1);
		if (j == i)
			continue;
		uint8_t t[PS_WAYBILL_LEN];
		memcpy(t, out[i], PS_WAYBILL_LEN);
		memcpy(out[i], out[j], PS_WAYBILL_LEN);
		memcpy(out[j], t, PS_WAYBILL_LEN);
	}
	return out;
}

int main(int argc, char **argv)
{
	uint64_t capacity = argc > 1 ? strtoull(argv[1], NULL, 10) : 1048576;
	int passes = argc > 2 ? atoi(argv[2]) : 5;
	/* which traffic: f fresh, r replayed, s sort results, 8 replayed at
	 * 80%, x replayed out of order (all by default) */
	const char *only = argc > 3 ? argv[3] : "frs8x";
	if (passes < 1 || passes > 16) {
		fprintf(stderr, "dedup_bench: measured passes: 1 to 16\n");
		return 2;
	}
	warm_passes = argc > 4 ? atoi(argv[4]) : 1;
	if (warm_passes < 1 || warm_passes > 1000) {
		fprintf(stderr, "dedup_bench: passes before the measured ones: "
			"1 to 1000\n");
		return 2;
	}
	uint64_t n_fresh = capacity * 3 + capacity / 2;
	uint8_t (*keys)[PS_WAYBILL_LEN] = malloc(n_fresh * PS_WAYBILL_LEN);
	if (!keys)
		return 1;
	for (uint64_t i = 0; i < n_fresh; i++)
		waybill(keys[i], i);
	ps_chutes_init(&cs);
	printf("| traffic | distinct waybills | TSC cycles/record min | median "
	       "| CPU ns/record min | TSC cycles/record: look-ups / inserts "
	       "| the same, median burst | hit rate | inserts/rec | evictions/rec "
	       "| busy |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	struct ps_dedup d;
	if (ps_dedup_init(&d, capacity, 600))
		return 1;
	if (strchr(only, 'f'))
		report("fresh (3.5 x capacity)", &d, keys, keys, n_fresh,
		       BURST, 0, passes);
	ps_dedup_free(&d);
	if (ps_dedup_init(&d, capacity, 600))
		return 1;
	uint64_t n_rep = capacity * 2 / 5;
	if (strchr(only, 'r') || strchr(only, 's'))
		report("replayed (0.4 x capacity)", &d, keys, keys, n_rep,
		       BURST, 0, passes);
	if (strchr(only, 's'))
		report("sort results, batches of 29", &d, keys, keys, n_rep,
		       RESULTS, 1, passes);
	struct ps_dedup d80;
	if (ps_dedup_init(&d80, capacity, 600))
		return 1;
	if (strchr(only, '8'))
		report("replayed (0.8 x capacity)", &d80, keys, keys,
		       capacity * 4 / 5, BURST, 0, passes);
	ps_dedup_free(&d80);
	if (strchr(only, 'x')) {
		struct ps_dedup dx;
		uint8_t (*mixed)[PS_WAYBILL_LEN] = shuffled(keys, n_rep);
		if (!mixed || ps_dedup_init(&dx, capacity, 600))
			return 1;
		report("replayed (0.4 x capacity) out of order", &dx, keys,
		       mixed, n_rep, BURST, 0, passes);
		ps_dedup_free(&dx);
		free(mixed);
	}
	printf("window: %" PRIu64 " slots, %.1f MB (%zu bytes, %.1f a slot)\n",
	       d.capacity, (double)d.bytes / 1048576.0, d.bytes,
	       (double)d.bytes / (double)d.capacity);
	ps_dedup_free(&d);
	free(keys);
	return 0;
}
