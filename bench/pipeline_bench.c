/* pipeline_bench.c: the worker's pipeline (dataplane/pipeline.c) on a
 * capture, two ways (never run by the tests; docs/performance.md):
 *
 *   pipeline_bench cost --pcap F --plan F [--passes N] [--window N]
 *     EAL-free, one thread: the capture's frames through ps_pipeline_run
 *     in bursts of 32, each frame copied into its buffer first (as a NIC
 *     writes it), a warm-up pass then N measured passes. Prints the
 *     thread's CPU time a datagram. Under callgrind, count the measured
 *     bursts only:
 *       valgrind --tool=callgrind --toggle-collect=measured_burst ...
 *     and divide the instructions by the datagrams it prints.
 *
 *   pipeline_bench latency EAL-ARGS -- --pcap F --plan F [--seconds S]
 *                  [--loads 0.1,0.5,0.9] [--json FILE]
 *     Two lcores: the main one is a paced feeder, the other runs the
 *     pipeline as the worker does (dequeue a burst of up to 32, run it,
 *     hand the replies on). Between them an rte_ring of frame buffers; the
 *     feeder copies the capture's next frame into a free buffer, stamps it
 *     (rte_rdtsc) and enqueues it; the worker takes the time once a burst's
 *     replies are made (where the worker hands them to TX) and files every
 *     reply's latency, enqueue to transmit, in a 25 ns histogram. First the
 *     feeder runs unpaced (the ring full: the saturation rate; on a fresh
 *     capture it also fills the duplicate window), then paced at each
 *     fraction of that rate. The capture replays without end. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "dedup.h"
#include "pipeline.h"
#include "pkt.h"
#include "plan.h"
#include "ps_errors.h"
#include "ps_hugemem.h"
#include "ps_pcap.h"

#define FRAME_MAX 1600
#define N_SLOTS 4096             /* frame buffers in flight */
#define RING_SIZE 8192
#define HIST_NS 25               /* histogram bucket width */
#define HIST_N 400000            /* up to 10 ms; the last bucket: beyond */
#define STALL_US 20              /* a gap this long in the worker's loop */
#define BURST_FRAME_US 20        /* a burst's allowance a frame (a 22-record
				  * frame takes about 5 us) */
#define MAX_LOADS 8

/* ------------------------------------------------------------ set-up */

struct capture {
	uint8_t *frames;          /* n x FRAME_MAX */
	uint16_t *len;
	unsigned n;
};

static struct ps_net_cfg net;
static struct ps_plan *plan, *plan_slot;
static struct ps_chute_state chutes;
static struct ps_counters cnt;
static struct ps_dedup dd;
static struct ps_pipeline pl;

static void load_capture(const char *path, struct capture *c)
{
	struct ps_pcap pc;
	uint8_t buf[FRAME_MAX];
	unsigned cap = 1024;
	int n;
	if (ps_pcap_open(&pc, path)) {
		perror(path);
		exit(1);
	}
	c->n = 0;
	c->frames = malloc((size_t)cap * FRAME_MAX);
	c->len = malloc(cap * sizeof(*c->len));
	while ((n = ps_pcap_next(&pc, buf, sizeof(buf), NULL)) > 0) {
		if (c->n == cap) {
			cap *= 2;
			c->frames = realloc(c->frames, (size_t)cap * FRAME_MAX);
			c->len = realloc(c->len, cap * sizeof(*c->len));
		}
		if (!c->frames || !c->len) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		memcpy(c->frames + (size_t)c->n * FRAME_MAX, buf, (size_t)n);
		c->len[c->n++] = (uint16_t)n;
	}
	if (n < 0 || !c->n) {
		fprintf(stderr, "%s: corrupt or empty capture\n", path);
		exit(1);
	}
	fclose(pc.fp);
}

static void setup_pipeline(const char *plan_path, uint64_t window)
{
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	if (ps_plan_parse_file(&src, plan_path, &e) ||
	    !(plan = ps_plan_compile(&src, 1, &e))) {
		ps_errors_print(&e, stderr);
		exit(1);
	}
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	plan_slot = plan;
	net = (struct ps_net_cfg){ .mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1,
				   .ip4 = { 198, 18, 0, 2 }, .port = 7100 };
	ps_net_cfg_finish(&net);
	ps_chutes_init(&chutes);
	/* resident before traffic, as parcelsortd's (daemon/main.c) */
	if (ps_dedup_init(&dd, window, 600) ||
	    ps_huge_populate(dd.head, dd.bytes)) {
		fprintf(stderr, "dedup: out of memory\n");
		exit(1);
	}
	pl = (struct ps_pipeline){ .net = &net, .plan_slot = &plan_slot,
				   .chutes = &chutes, .dedup = &dd,
				   .site = 1, .cnt = &cnt };
}

struct opts {
	const char *pcap, *plan, *json;
	unsigned passes;
	uint64_t window;
	double seconds;
	double loads[MAX_LOADS];
	unsigned n_loads;
};

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "pcap", required_argument, 0, 'c' },
		{ "plan", required_argument, 0, 'p' },
		{ "passes", required_argument, 0, 'n' },
		{ "window", required_argument, 0, 'w' },
		{ "seconds", required_argument, 0, 's' },
		{ "loads", required_argument, 0, 'l' },
		{ "json", required_argument, 0, 'j' },
		{ 0, 0, 0, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->pcap = optarg; break;
		case 'p': o->plan = optarg; break;
		case 'n': o->passes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': o->window = strtoull(optarg, NULL, 10); break;
		case 's': o->seconds = atof(optarg); break;
		case 'j': o->json = optarg; break;
		case 'l': {
			char *s = optarg, *end;
			o->n_loads = 0;
			while (*s && o->n_loads < MAX_LOADS) {
				o->loads[o->n_loads++] = strtod(s, &end);
				s = *end == ',' ? end + 1 : end;
				if (end == s && *s)
					break;
			}
			break;
		}
		default:
			exit(2);
		}
	}
	if (!o->pcap || !o->plan) {
		fprintf(stderr, "pipeline_bench: --pcap and --plan are "
			"required\n");
		exit(2);
	}
}

/* ------------------------------------------------------------ cost */

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bursts callgrind counts (--toggle-collect=measured_burst). */
__attribute__((noipa)) void measured_burst(struct ps_pkt_buf *b,
					      unsigned n, uint32_t now);
__attribute__((noipa)) void measured_burst(struct ps_pkt_buf *b,
					      unsigned n, uint32_t now)
{
	ps_pipeline_run(&pl, b, n, now);
}

/* One pass over the capture; the frames of a burst copied in first. */
static double cost_pass(const struct capture *c, uint8_t *bufs, int measure,
			uint64_t *replies)
{
	double total = 0;
	for (unsigned i = 0; i < c->n; i += PS_BURST) {
		struct ps_pkt_buf b[PS_BURST];
		unsigned n = c->n - i < PS_BURST ? c->n - i : PS_BURST;
		for (unsigned k = 0; k < n; k++) {
			b[k].data = bufs + (size_t)k * FRAME_MAX;
			b[k].len = c->len[i + k];
			b[k].rx_csum = 0;
			memcpy(b[k].data, c->frames + (size_t)(i + k) * FRAME_MAX,
			       b[k].len);
		}
		double t0 = cpu_s();
		if (measure)
			measured_burst(b, n, 1);
		else
			ps_pipeline_run(&pl, b, n, 1);
		total += cpu_s() - t0;
		for (unsigned k = 0; k < n; k++)
			*replies += b[k].send;
	}
	return total;
}

static int cost_main(int argc, char **argv)
{
	struct opts o = { .passes = 5, .window = 1u << 20 };
	struct capture c;
	parse_opts(argc, argv, &o);
	load_capture(o.pcap, &c);
	setup_pipeline(o.plan, o.window);
	uint8_t *bufs = aligned_alloc(64, (size_t)PS_BURST * FRAME_MAX);
	uint64_t replies = 0;
	cost_pass(&c, bufs, 0, &replies);        /* warm-up */
	uint64_t rec0 = cnt.records;
	replies = 0;
	double s = 0;
	for (unsigned p = 0; p < o.passes; p++)
		s += cost_pass(&c, bufs, 1, &replies);
	uint64_t dg = (uint64_t)c.n * o.passes;
	printf("datagrams %" PRIu64 " records %" PRIu64 " replies %" PRIu64
	       " cpu_ns_per_datagram %.1f\n", dg, cnt.records - rec0, replies,
	       s * 1e9 / (double)dg);
	free(bufs);
	ps_dedup_free(&dd);
	ps_plan_free(plan);
	return 0;
}

/* ------------------------------------------------------------ latency */

struct slot {
	uint64_t t_enq;           /* rte_rdtsc at enqueue */
	uint16_t len;
	uint8_t phase;
	uint8_t data[FRAME_MAX] __attribute__((aligned(64)));
} __attribute__((aligned(64)));

struct phase_stats {
	uint64_t replies, frames, records;
	uint64_t max_cycles;
	uint64_t clean;           /* replies to frames no stall delayed */
	uint64_t stalls;
	uint32_t hist[HIST_N];    /* every reply */
	uint32_t hist_clean[HIST_N];
};

static struct rte_ring *rx_ring, *free_ring;
static struct phase_stats *stats;        /* [phase]; 0: warm-up */
static volatile int worker_stop;
static volatile int worker_tid;
static volatile uint8_t cur_phase;
static uint64_t ns_per_cycle;            /* 32.32 fixed point */

static int worker_main(void *arg)
{
	(void)arg;
	struct slot *s[PS_BURST];
	struct ps_pkt_buf b[PS_BURST];
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), prev = start;
	const uint64_t drain = hz / 10000;      /* the worker's 100 us tick */
	/* A stall: the worker not running (another thread or guest had
	 * the CPU). Seen as a gap of more than STALL_US between two turns
	 * of the loop, or as a burst that took more than STALL_US beyond
	 * BURST_FRAME_US a frame. A frame enqueued before the worker had
	 * caught up with the backlog of the last stall (found the ring
	 * empty after it) was delayed by it: its reply is filed in hist,
	 * not in hist_clean. */
	const uint64_t stall = hz / 1000000 * STALL_US;
	const uint64_t per_frame = hz / 1000000 * BURST_FRAME_US;
	uint64_t stall_end = 0, last = rte_rdtsc();
	int behind = 0;           /* a stall's backlog not yet worked off */
	worker_tid = rte_sys_gettid();
	ps_dedup_tick(&dd, 0);
	while (!worker_stop) {
		uint64_t top = rte_rdtsc();
		if (top - last > stall) {
			stall_end = top;
			behind = 1;
			stats[cur_phase].stalls++;
		}
		last = top;
		unsigned n = rte_ring_sc_dequeue_burst(rx_ring, (void **)s,
						       PS_BURST, NULL);
		if (!n)
			behind = 0;
		if (!n) {
			rte_pause();
			uint64_t t = rte_rdtsc();
			if (t - prev > drain) {
				ps_dedup_tick(&dd, ps_dedup_seconds(t, start,
								    hz));
				prev = t;
			}
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			b[i].data = s[i]->data;
			b[i].len = s[i]->len;
			b[i].rx_csum = 0;
		}
		uint64_t r0 = cnt.records;
		ps_pipeline_run(&pl, b, n, ps_dedup_now(&dd));
		uint64_t t = rte_rdtsc();        /* the replies go to TX */
		if (t - top > stall + n * per_frame) {
			stall_end = t;
			behind = 1;
			stats[cur_phase].stalls++;
		} else if (behind) {
			stall_end = t;
		}
		last = t;
		for (unsigned i = 0; i < n; i++) {
			struct phase_stats *ps = &stats[s[i]->phase];
			ps->frames++;
			if (!b[i].send)
				continue;
			uint64_t c = t - s[i]->t_enq;
			uint64_t ns = (c * ns_per_cycle) >> 32;
			uint64_t k = ns / HIST_NS;
			k = k < HIST_N ? k : HIST_N - 1;
			ps->hist[k]++;
			ps->replies++;
			if (s[i]->t_enq >= stall_end) {
				ps->hist_clean[k]++;
				ps->clean++;
			}
			if (c > ps->max_cycles)
				ps->max_cycles = c;
		}
		stats[s[0]->phase].records += cnt.records - r0;
		rte_ring_sp_enqueue_burst(free_ring, (void **)s, n, NULL);
		if (t - prev > drain) {
			ps_dedup_tick(&dd, ps_dedup_seconds(t, start, hz));
			prev = t;
		}
	}
	return 0;
}

struct feeder {
	const struct capture *c;
	unsigned next;            /* the capture's next frame */
	uint64_t late;            /* frames enqueued > 10 us after due */
	uint64_t sent;
	uint64_t starved;         /* no free buffer when due */
};

static inline void fill(struct feeder *f, struct slot *s, uint8_t phase)
{
	const struct capture *c = f->c;
	s->len = c->len[f->next];
	s->phase = phase;
	memcpy(s->data, c->frames + (size_t)f->next * FRAME_MAX, s->len);
	if (++f->next == c->n)
		f->next = 0;
}

/* Unpaced for seconds: returns frames a second the worker answered. */
static double feed_flat_out(struct feeder *f, uint8_t phase, double seconds)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t t0 = rte_rdtsc(), end = t0 + (uint64_t)(seconds * (double)hz);
	uint64_t f0 = stats[phase].frames;
	struct slot *s[PS_BURST];
	while (rte_rdtsc() < end) {
		unsigned n = rte_ring_sc_dequeue_burst(free_ring, (void **)s,
						       PS_BURST, NULL);
		uint64_t t = rte_rdtsc();
		for (unsigned i = 0; i < n; i++) {
			fill(f, s[i], phase);
			s[i]->t_enq = t;
		}
		if (n)
			rte_ring_sp_enqueue_burst(rx_ring, (void **)s, n, NULL);
		else
			rte_pause();
	}
	double dt = (double)(rte_rdtsc() - t0) / (double)hz;
	return (double)(stats[phase].frames - f0) / dt;
}

/* Paced at rate frames a second for seconds, one frame at a time, each
 * stamped as it is enqueued. A feeder that was not running when frames
 * were due does not send them all at once when it runs again (a burst
 * the sender never made): the schedule starts again from now. */
static void feed_paced(struct feeder *f, uint8_t phase, double rate,
		       double seconds)
{
	uint64_t hz = rte_get_tsc_hz();
	double gap = (double)hz / rate;
	uint64_t t0 = rte_rdtsc(), late = hz / 100000;
	uint64_t end = t0 + (uint64_t)(seconds * (double)hz);
	double due = (double)t0;
	for (;;) {
		uint64_t t = rte_rdtsc();
		if (t >= end)
			break;
		if ((double)t < due) {
			rte_pause();
			continue;
		}
		struct slot *s;
		if (rte_ring_sc_dequeue(free_ring, (void **)&s)) {
			f->starved++;
			continue;
		}
		fill(f, s, phase);
		s->t_enq = rte_rdtsc();
		if (s->t_enq - (uint64_t)due > late) {
			f->late++;
			due = (double)s->t_enq;
		}
		rte_ring_sp_enqueue(rx_ring, s);
		f->sent++;
		due += gap;
	}
}

/* The latency below which a fraction q of the replies were. */
static double hist_us(const uint32_t *hist, uint64_t total, double q);
static double percentile_us(const struct phase_stats *ps, double q)
{
	return hist_us(ps->hist, ps->replies, q);
}

static double clean_us(const struct phase_stats *ps, double q)
{
	return hist_us(ps->hist_clean, ps->clean, q);
}

static double hist_us(const uint32_t *hist, uint64_t total, double q)
{
	uint64_t acc = 0, want = (uint64_t)((double)total * q);
	if (want == 0)
		want = 1;
	for (unsigned k = 0; k < HIST_N; k++) {
		acc += hist[k];
		if (acc >= want)
			return (double)(k + 1) * HIST_NS / 1000.0;
	}
	return 0;
}

/* Milliseconds the worker thread waited, runnable, for a CPU (the
 * kernel's schedstat), and the machine's steal time (the hypervisor ran
 * something else: /proc/stat), so far. */
static void waits_ms(double *runq, double *steal)
{
	char path[64];
	unsigned long long run = 0, wait = 0, v[8] = { 0 };
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat",
		 worker_tid);
	FILE *fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%llu %llu", &run, &wait) != 2)
			wait = 0;
		fclose(fp);
	}
	*runq = (double)wait / 1e6;
	fp = fopen("/proc/stat", "r");
	if (fp) {
		if (fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) != 8)
			v[7] = 0;
		fclose(fp);
	}
	*steal = (double)v[7] * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* Let the worker finish what is in the ring. */
static void drain_ring(void)
{
	while (rte_ring_count(rx_ring))
		rte_pause();
	rte_delay_us_block(200);
}

static int latency_main(int argc, char **argv)
{
	int used = rte_eal_init(argc, argv);
	if (used < 0) {
		fprintf(stderr, "pipeline_bench: EAL init failed\n");
		return 1;
	}
	argc -= used;
	argv += used;
	struct opts o = { .window = 1u << 20, .seconds = 2,
			  .loads = { 0.1, 0.5, 0.9 }, .n_loads = 3 };
	struct capture c;
	parse_opts(argc, argv, &o);
	unsigned worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE) {
		fprintf(stderr, "pipeline_bench: needs two lcores (-l 0-1)\n");
		return 1;
	}
	load_capture(o.pcap, &c);
	setup_pipeline(o.plan, o.window);
	uint64_t hz = rte_get_tsc_hz();
	ns_per_cycle = (1000000000ull << 32) / hz;
	stats = calloc(o.n_loads + 2, sizeof(*stats));
	rx_ring = rte_ring_create("pb_rx", RING_SIZE, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	free_ring = rte_ring_create("pb_free", RING_SIZE, (int)rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct slot *slots = aligned_alloc(64, N_SLOTS * sizeof(*slots));
	if (!stats || !rx_ring || !free_ring || !slots) {
		fprintf(stderr, "pipeline_bench: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < N_SLOTS; i++) {
		struct slot *s = &slots[i];
		rte_ring_sp_enqueue(free_ring, s);
	}
	rte_eal_remote_launch(worker_main, NULL, worker);

	struct feeder f = { .c = &c };
	/* phase 0: warm-up (the window fills on a fresh capture), then the
	 * saturation rate (phase 1), then each load (phases 2...) */
	cur_phase = 0;
	feed_flat_out(&f, 0, o.seconds);
	cur_phase = 1;
	uint64_t ins0 = cnt.dedup_inserts, hit0 = cnt.dedup_hits;
	uint64_t ev0 = cnt.dedup_evictions;
	double sat = feed_flat_out(&f, 1, o.seconds);
	drain_ring();
	uint64_t ins = cnt.dedup_inserts - ins0, hits = cnt.dedup_hits - hit0;
	uint64_t ev = cnt.dedup_evictions - ev0;
	double rps = (double)stats[1].records / (double)stats[1].frames;
	printf("# pipeline latency, enqueue to reply (%s, %u frames, %.1f "
	       "records a frame)\n\n", o.pcap, c.n, rps);
	printf("saturation: %.0f frames/s (%.2f M records/s); window hit "
	       "rate %.3f, evictions per insert %.2f\n\n", sat,
	       sat * rps / 1e6, hits + ins ? (double)hits / (double)(hits + ins)
					   : 0.0,
	       ins ? (double)ev / (double)ins : 0.0);
	printf("| load | frames/s offered | sent | p50 us | p99 us | "
	       "p99.9 us | max us | worker stalls | replies a stall "
	       "delayed | without them: p50 / p99 / p99.9 us | late feeder "
	       "| worker waited for a CPU, ms | steal, ms |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
	       "---:|\n");
	FILE *js = o.json ? fopen(o.json, "w") : NULL;
	if (js)
		fprintf(js, "{\"pcap\": \"%s\", \"records_per_frame\": %.2f, "
			"\"saturation_fps\": %.1f, \"hit_rate\": %.4f, "
			"\"loads\": [", o.pcap, rps, sat,
			hits + ins ? (double)hits / (double)(hits + ins) : 0.0);
	const double top_us = HIST_N * HIST_NS / 1000.0;
	for (unsigned l = 0; l < o.n_loads; l++) {
		uint8_t ph = (uint8_t)(l + 2);
		struct feeder before = f;
		double rate = sat * o.loads[l], rq0, st0, rq1, st1;
		waits_ms(&rq0, &st0);
		cur_phase = ph;
		feed_paced(&f, ph, rate, o.seconds);
		drain_ring();
		waits_ms(&rq1, &st1);
		struct phase_stats *ps = &stats[ph];
		double max_us = (double)ps->max_cycles / (double)hz * 1e6;
		double sent = (double)(f.sent - before.sent) / o.seconds;
		double p[3] = { percentile_us(ps, 0.5), percentile_us(ps, 0.99),
				percentile_us(ps, 0.999) };
		double q[3] = { clean_us(ps, 0.5), clean_us(ps, 0.99),
				clean_us(ps, 0.999) };
		double delayed = ps->replies ? 100.0 *
			(double)(ps->replies - ps->clean) / (double)ps->replies
			: 0.0;
		printf("| %.0f%% | %.0f | %.0f | %.2f | %s%.2f | %s%.2f | %.1f | "
		       "%" PRIu64 " | %.2f%% | %.2f / %.2f / %.2f | %" PRIu64
		       " | %.1f | %.1f |\n",
		       o.loads[l] * 100, rate, sent, p[0],
		       p[1] >= top_us ? ">" : "", p[1],
		       p[2] >= top_us ? ">" : "", p[2], max_us, ps->stalls,
		       delayed, q[0], q[1], q[2], f.late - before.late,
		       rq1 - rq0, st1 - st0);
		if (js)
			fprintf(js, "%s{\"load\": %.2f, \"fps\": %.1f, "
				"\"sent_fps\": %.1f, \"replies\": %" PRIu64 ", "
				"\"p50_us\": %.3f, \"p99_us\": %.3f, "
				"\"p999_us\": %.3f, \"max_us\": %.3f, "
				"\"stalls\": %" PRIu64 ", \"delayed_pct\": %.3f, "
				"\"clean_p50_us\": %.3f, \"clean_p99_us\": %.3f, "
				"\"clean_p999_us\": %.3f, "
				"\"late\": %" PRIu64 ", \"runq_ms\": %.1f, "
				"\"steal_ms\": %.1f}",
				l ? ", " : "", o.loads[l], rate, sent,
				ps->replies, p[0], p[1], p[2], max_us,
				ps->stalls, delayed, q[0], q[1], q[2],
				f.late - before.late, rq1 - rq0, st1 - st0);
	}
	if (js) {
		fprintf(js, "]}\n");
		fclose(js);
	}
	printf("\nworker stalls: gaps of more than %d us in the worker's "
	       "loop, or bursts %d us longer than %d us a\nframe: the worker "
	       "was not running. A reply to a frame enqueued before the worker "
	       "had worked off\na stall's backlog (found the ring empty) counts "
	       "as delayed by it (\"without them\": the rest). "
	       "late feeder: times the feeder ran more than\n10 us after a "
	       "frame was due (the schedule restarts, so \"sent\" falls "
	       "below \"offered\"). Worker\nwaited: its thread runnable but "
	       "not running (schedstat); steal: the hypervisor ran another\n"
	       "guest (/proc/stat, both CPUs).\n", STALL_US, STALL_US,
	       BURST_FRAME_US);
	worker_stop = 1;
	rte_eal_mp_wait_lcore();
	rte_eal_cleanup();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "cost"))
		return cost_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "latency"))
		return latency_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: pipeline_bench cost --pcap F --plan F "
		"[--passes N] [--window N]\n"
		"       pipeline_bench latency EAL-ARGS -- --pcap F --plan F "
		"[--seconds S] [--loads 0.1,0.5,0.9] [--json F]\n");
	return 2;
}
