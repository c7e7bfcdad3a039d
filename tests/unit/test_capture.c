/* test_capture.c: the capture hand-off (dataplane/capture.h) and its writer
 * (control/capture_writer.h): a full ring drops and counts, never waits;
 * 1/K keeps exactly every K-th frame; a frame longer than a slot is cut
 * and says so; the switch's snapshots make captured + dropped + sampled
 * out == requests answered while on, per worker, each between its own
 * two snapshots; a worker that ended counts as having followed; the pipeline offers every request frame (scan batches, chute
 * states, sort results) as received, before its reply is written, and
 * nothing else; the writer refuses an existing file and a symbolic link,
 * creates mode 0640, writes a classic pcap (the project's reader reads it
 * back), refuses a second capture and stops by --max-mb; the daemon's
 * capture commands refuse bad arguments with clear errors (numbers: digits
 * only); what a worker that missed a stop left in its ring is not the next
 * capture's; the file is in time order across workers; the worker's and
 * the writer's per-frame fields are on separate cache lines. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "capture_writer.h"
#include "ctl_client.h"
#include "ctl_cmds.h"
#include "ctl_proto.h"
#include "dedup.h"
#include "pipeline.h"
#include "pkt.h"
#include "ps_frame.h"
#include "ps_pcap.h"
#include "rng.h"

static struct ps_counters cnt[2];

static struct ps_capture *ring_of(unsigned slots)
{
	memset(cnt, 0, sizeof(cnt));
	struct ps_capture *c = ps_capture_new(1, slots, cnt, 1000000000ull);
	cr_assert_not_null(c);
	return c;
}

/* Play the worker: act on the switch as the loop does between bursts. */
static int follow(struct ps_capture_ring *r)
{
	if (ps_capture_poll(r, 0))
		return ps_capture_switch_over(r);
	return __atomic_load_n(&r->is_on, __ATOMIC_RELAXED);
}

static void frame(uint8_t *f, uint16_t len, uint8_t tag)
{
	for (uint16_t i = 0; i < len; i++)
		f[i] = (uint8_t)(tag + i);
}

Test(capture_ring, full_ring_drops_and_counts_never_waits)
{
	struct ps_capture *c = ring_of(4);
	struct ps_capture_ring *r = &c->rings[0];
	uint8_t f[100];
	ps_capture_arm(c, 1);
	cr_assert_eq(follow(r), 1);
	for (uint8_t i = 0; i < 6; i++) {
		frame(f, 60, i);
		ps_capture_offer(r, f, 60);
	}
	cr_assert_eq(r->pushed, 4, "4 slots");
	cr_assert_eq(r->ring_full, 2, "what does not fit is dropped, counted");
	for (uint8_t i = 0; i < 4; i++) {
		const struct ps_capture_slot *s = ps_capture_peek(r);
		cr_assert_not_null(s);
		cr_assert_eq(s->len, 60);
		cr_assert_eq(s->caplen, 60);
		frame(f, 60, i);
		cr_assert_arr_eq(s->data, f, 60, "frame %u in order", i);
		ps_capture_release(r);
	}
	cr_assert_null(ps_capture_peek(r), "empty");
	frame(f, 60, 9);
	ps_capture_offer(r, f, 60);
	cr_assert_eq(r->pushed, 5, "room again once drained");
	cr_assert_eq(r->ring_full, 2);
	ps_capture_free(c);
}

Test(capture_ring, sample_keeps_exactly_every_kth)
{
	struct ps_capture *c = ring_of(64);
	struct ps_capture_ring *r = &c->rings[0];
	uint8_t f[64];
	ps_capture_arm(c, 3);
	cr_assert_eq(follow(r), 1);
	for (uint8_t i = 1; i <= 10; i++) {
		frame(f, 60, i);
		ps_capture_offer(r, f, 60);
	}
	cr_assert_eq(r->pushed, 3);
	cr_assert_eq(r->sampled_out, 7);
	for (uint8_t k = 3; k <= 9; k += 3) {
		const struct ps_capture_slot *s = ps_capture_peek(r);
		cr_assert_not_null(s);
		cr_assert_eq(s->data[0], k, "the %uth frame", k);
		ps_capture_release(r);
	}
	ps_capture_free(c);
}

Test(capture_ring, long_frame_cut_and_said)
{
	struct ps_capture *c = ring_of(4);
	struct ps_capture_ring *r = &c->rings[0];
	static uint8_t f[4000];
	frame(f, 4000, 1);
	ps_capture_arm(c, 1);
	follow(r);
	ps_capture_offer(r, f, 4000);
	const struct ps_capture_slot *s = ps_capture_peek(r);
	cr_assert_not_null(s);
	cr_assert_eq(s->len, 4000);
	cr_assert_eq(s->caplen, PS_CAPTURE_SNAP);
	cr_assert_arr_eq(s->data, f, PS_CAPTURE_SNAP);
	ps_capture_free(c);
}

Test(capture_ring, snapshots_account_for_every_request)
{
	struct ps_capture *c = ring_of(8);
	struct ps_capture_ring *r = &c->rings[0];
	struct ps_capture_totals t;
	uint8_t f[64] = { 0 };
	cnt[0].answered[PS_ANS_DECISION] = 1000;    /* before the capture */
	cnt[0].answered[PS_ANS_ACK] = 7;
	cr_assert(ps_capture_acked(c), "nothing to follow yet");
	ps_capture_arm(c, 2);
	cr_assert_not(ps_capture_acked(c), "the worker has not followed");
	cr_assert_eq(follow(r), 1);
	cr_assert(ps_capture_acked(c));
	for (int i = 0; i < 25; i++) {      /* as the pipeline does */
		ps_capture_offer(r, f, 60);
		cnt[0].answered[i % 5 ? PS_ANS_DECISION : PS_ANS_ACK]++;
	}
	ps_capture_totals(c, &t);
	cr_assert_eq(t.requests, 25, "while on: the counters since the start");
	ps_capture_disarm(c);
	cr_assert_eq(follow(r), 0);
	cnt[0].answered[PS_ANS_DECISION] += 50;     /* after it */
	ps_capture_totals(c, &t);
	cr_assert_eq(t.requests, 25);
	cr_assert_eq(t.pushed, 8);
	cr_assert_eq(t.ring_full, 4, "13 kept by 1/2, 8 slots");
	cr_assert_eq(t.sampled_out, 13);
	cr_assert_eq(t.pushed + t.ring_full + t.sampled_out, t.requests);
	/* a worker that ended counts as having followed, its requests kept */
	ps_capture_arm(c, 1);
	follow(r);
	cnt[0].answered[PS_ANS_ACK] += 3;
	ps_capture_worker_exit(r);
	ps_capture_disarm(c);
	cr_assert(ps_capture_acked(c));
	ps_capture_totals(c, &t);
	cr_assert_eq(t.requests, 3);
	ps_capture_free(c);
}

/* ------------------------------------------------------------ pipeline */

static struct ps_chute_state cs;
static const struct ps_prefix sorters[1] = { { .ver = 4, .len = 32,
					       .addr = { 198, 18, 0, 3 } } };

static struct ps_net_cfg net(void)
{
	struct ps_net_cfg c = { .mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1,
				.ip4 = { 198, 18, 0, 2 }, .port = 7100,
				.sorter_allow = sorters, .n_sorter_allow = 1 };
	ps_net_cfg_finish(&c);
	return c;
}

/* A request frame from src (last octet) of kind with one entry. */
static size_t request(uint8_t *buf, uint8_t src, uint8_t kind, uint32_t seq)
{
	struct ps_endpoints e = { .src_mac = { 2, 0, 0, 0, 0, 1 },
				  .dst_mac = { 2, 0, 0, 0, 0, 2 }, .ip_ver = 4,
				  .src_ip = { 198, 18, 0, src },
				  .dst_ip = { 198, 18, 0, 2 }, .sport = 5,
				  .dport = 7100 };
	uint8_t p[16 + 64] = { 0x50, 0x53, 1, kind, 0, 1 };
	memcpy(p + 12, &seq, 4);
	size_t len = 16 + (kind == 1 ? 64 : kind == 3 ? 8 : 48);
	if (kind == 1)
		p[16] = 'S';
	if (kind == 3) {
		p[16] = 0;
		p[17] = 5;              /* chute 5, OPEN */
	}
	return ps_frame_build_udp(buf, 1600, &e, p, len);
}

Test(capture_pipeline, every_request_offered_as_received_nothing_else)
{
	struct ps_net_cfg c = net();
	struct ps_dedup d;
	struct ps_plan *none = NULL;
	struct ps_capture *cap = ring_of(4096);
	struct ps_capture_ring *r = &cap->rings[0];
	ps_chutes_init(&cs);
	cr_assert_eq(ps_dedup_init(&d, 4096, 600), 0);
	struct ps_pipeline pl = { .net = &c, .plan_slot = &none, .chutes = &cs,
				  .dedup = &d, .cnt = &cnt[0], .capture = r };
	ps_capture_arm(cap, 1);
	follow(r);
	struct ps_rng g;
	ps_rng_seed(&g, 17);
	static uint8_t bufs[PS_BURST][1600], orig[PS_BURST][1600];
	uint64_t offered = 0;
	for (int round = 0; round < 100; round++) {
		struct ps_pkt_buf b[PS_BURST];
		size_t len[PS_BURST];
		for (int i = 0; i < PS_BURST; i++) {
			unsigned how = (unsigned)ps_rng_below(&g, 6);
			/* scans, chute states and sort results (the latter
			 * from the sorter's address or, refused, another's) */
			uint8_t kind = how < 3 ? 1 : how == 3 ? 3 : 5;
			uint8_t src = how == 5 && ps_rng_below(&g, 2) ? 9 : 3;
			size_t n = request(bufs[i], kind == 1 ? 1 : src, kind,
					   (uint32_t)(round * 64 + i));
			if (how == 2)           /* damaged: not a request */
				bufs[i][ps_rng_below(&g, n)] ^= 0x5a;
			memcpy(orig[i], bufs[i], n);
			len[i] = n;
			b[i].data = bufs[i];
			b[i].len = (uint16_t)n;
		}
		uint64_t before = ps_capture_requests(&cnt[0]);
		ps_pipeline_run(&pl, b, PS_BURST, 1);
		uint64_t answered = ps_capture_requests(&cnt[0]) - before;
		/* the copies are the frames as received, in order: each one
		 * is one of this burst's originals, which were requests */
		int next = 0;
		const struct ps_capture_slot *s;
		while ((s = ps_capture_peek(r))) {
			while (next < PS_BURST &&
			       (len[next] != s->len ||
				memcmp(orig[next], s->data, s->len)))
				next++;
			cr_assert_lt(next, PS_BURST, "a copy of a received "
				     "frame, in order");
			cr_assert(b[next].send, "of a frame that was answered");
			next++;
			offered++;
			answered--;
			ps_capture_release(r);
		}
		cr_assert_eq(answered, 0, "every request offered once");
	}
	cr_assert_eq(offered, r->pushed);
	cr_assert_eq(r->ring_full, 0);
	cr_assert_gt(cnt[0].answered[PS_ANS_ACK], 0);
	cr_assert_gt(cnt[0].answered[PS_ANS_DECISION], 0);
	cr_assert_gt(cnt[0].drops[PS_DROP_NOT_SORTER], 0);
	ps_dedup_free(&d);
	ps_capture_free(cap);
}

/* -------------------------------------------------------------- writer */

struct worker_sim {
	struct ps_capture_ring *r;
	int stop;
	int frames;              /* to offer once on */
};

static void *simulate(void *arg)
{
	struct worker_sim *w = arg;
	uint8_t f[1000];
	frame(f, sizeof(f), 0);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		int on = follow(w->r);
		if (on && w->frames > 0) {
			ps_capture_offer(w->r, f, sizeof(f));
			cnt[0].answered[PS_ANS_DECISION]++;
			w->frames--;
		}
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static char dir[64];

static void tmpdir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ps-capture-test.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void json_of(struct ps_capture_writer *w, char *buf, size_t n)
{
	struct ps_out o;
	ps_out_init(&o);
	ps_capture_status_json(w, &o);
	snprintf(buf, n, "%s", o.buf ? o.buf : "");
	ps_out_free(&o);
}

Test(capture_writer, refuses_existing_and_symlink_writes_pcap)
{
	struct ps_capture *cap = ring_of(256);
	struct worker_sim ws = { .r = &cap->rings[0], .frames = 50 };
	pthread_t th;
	char path[128], link[128], err[512], js[4096];
	tmpdir();
	struct ps_capture_writer *w = ps_capture_writer_new(cap, "unavailable: test");
	cr_assert_not_null(w);
	pthread_create(&th, NULL, simulate, &ws);

	snprintf(path, sizeof(path), "%s/exists.pcap", dir);
	FILE *f = fopen(path, "w");
	fputs("keep", f);
	fclose(f);
	struct ps_capture_opts o = { .path = path, .max_mb = 1, .sample = 1 };
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)),
		     PS_CAPTURE_REFUSED);
	cr_assert(strstr(err, "exists"), "%s", err);
	snprintf(link, sizeof(link), "%s/link.pcap", dir);
	cr_assert_eq(symlink("/nonexistent-target", link), 0);
	o.path = link;
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)),
		     PS_CAPTURE_REFUSED);
	cr_assert(strstr(err, "symbolic link"), "%s", err);
	o.path = "relative.pcap";
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)),
		     PS_CAPTURE_BAD_OPTION);
	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	o.path = path;
	o.max_mb = 0;
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)),
		     PS_CAPTURE_BAD_OPTION);
	cr_assert_eq(access(path, F_OK), -1, "nothing created");

	o.max_mb = 1;
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)), 0, "%s", err);
	char p2[128];
	snprintf(p2, sizeof(p2), "%s/b.pcap", dir);
	struct ps_capture_opts o2 = o;
	o2.path = p2;
	cr_assert_eq(ps_capture_start(w, &o2, err, sizeof(err)),
		     PS_CAPTURE_REFUSED, "one at a time");
	cr_assert(strstr(err, "already running"), "%s", err);
	cr_assert_eq(access(p2, F_OK), -1);
	while (__atomic_load_n(&ws.frames, __ATOMIC_RELAXED) > 0)
		usleep(1000);
	cr_assert_eq(ps_capture_stop(w, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ps_capture_stop(w, err, sizeof(err)), -1);
	json_of(w, js, sizeof(js));
	cr_assert(strstr(js, "\"running\":false"), "%s", js);
	cr_assert(strstr(js, "\"captured\":50,"), "%s", js);
	cr_assert(strstr(js, "\"requests\":50,"), "%s", js);
	cr_assert(strstr(js, "\"stopped_by\":\"stop\""), "%s", js);
	cr_assert(strstr(js, "\"pdump\":\"unavailable: test\""), "%s", js);

	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640);
	cr_assert_eq(st.st_size, 24 + 50 * (16 + 1000));
	uint8_t h[40];
	int fd = open(path, O_RDONLY);
	cr_assert_eq(read(fd, h, 40), 40);
	close(fd);
	uint32_t magic, link_type, incl, orig;
	memcpy(&magic, h, 4);
	memcpy(&link_type, h + 20, 4);
	memcpy(&incl, h + 32, 4);
	memcpy(&orig, h + 36, 4);
	cr_assert_eq(magic, 0xa1b2c3d4u);
	cr_assert_eq(link_type, 1u);
	cr_assert_eq(incl, 1000u);
	cr_assert_eq(orig, 1000u);

	/* the project's own reader (what plan whatif reads with) */
	struct ps_pcap pc;
	static uint8_t rec[2048], want[1000];
	uint64_t ts, prev = 0;
	int got, records = 0;
	frame(want, sizeof(want), 0);
	cr_assert_eq(ps_pcap_open(&pc, path), 0);
	while ((got = ps_pcap_next(&pc, rec, sizeof(rec), &ts)) > 0) {
		cr_assert_eq(got, 1000);
		cr_assert_arr_eq(rec, want, 1000);
		cr_assert_geq(ts, prev, "in time order");
		cr_assert_gt(ts, 1700000000ull * 1000000, "wall clock, in us");
		prev = ts;
		records++;
	}
	cr_assert_eq(got, 0, "ends cleanly");
	cr_assert_eq(records, 50);
	fclose(pc.fp);

	__atomic_store_n(&ws.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ps_capture_writer_free(w);
	ps_capture_free(cap);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(capture_writer, max_mb_stops_it_by_itself)
{
	struct ps_capture *cap = ring_of(2048);
	struct worker_sim ws = { .r = &cap->rings[0], .frames = 1500 };
	pthread_t th;
	char path[128], err[512], js[4096];
	tmpdir();
	struct ps_capture_writer *w = ps_capture_writer_new(cap, "x");
	pthread_create(&th, NULL, simulate, &ws);
	snprintf(path, sizeof(path), "%s/max.pcap", dir);
	struct ps_capture_opts o = { .path = path, .max_mb = 1, .sample = 1 };
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < 5000; i++) {
		json_of(w, js, sizeof(js));
		if (strstr(js, "\"running\":false"))
			break;
		usleep(1000);
	}
	cr_assert(strstr(js, "\"stopped_by\":\"max-mb\""), "%s", js);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_leq(st.st_size, 1 << 20);
	cr_assert_gt(st.st_size, (1 << 20) - 1016);
	/* 1032 records of 1016 bytes fit in 1 MB after the header */
	cr_assert(strstr(js, "\"captured\":1032,"), "%s", js);
	__atomic_store_n(&ws.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ps_capture_writer_free(w);
	ps_capture_free(cap);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(capture_ring, two_workers_each_follow_totals_add_up)
{
	memset(cnt, 0, sizeof(cnt));
	struct ps_capture *c = ps_capture_new(2, 8, cnt, 1000000000ull);
	struct ps_capture_totals t;
	uint8_t f[64] = { 0 };
	cr_assert_not_null(c);
	cnt[1].answered[PS_ANS_DECISION] = 500;
	ps_capture_arm(c, 1);
	cr_assert_eq(follow(&c->rings[0]), 1);
	cr_assert_not(ps_capture_acked(c), "worker 1 has not followed");
	cnt[1].answered[PS_ANS_DECISION] += 3;  /* worker 1 not on yet */
	cr_assert_eq(follow(&c->rings[1]), 1);
	cr_assert(ps_capture_acked(c));
	for (int w = 0; w < 2; w++)
		for (int i = 0; i < 5 + w; i++) {
			ps_capture_offer(&c->rings[w], f, 60);
			cnt[w].answered[PS_ANS_ACK]++;
		}
	ps_capture_disarm(c);
	follow(&c->rings[0]);
	cnt[1].answered[PS_ANS_ACK]++;          /* before worker 1 follows */
	ps_capture_offer(&c->rings[1], f, 60);
	follow(&c->rings[1]);
	ps_capture_totals(c, &t);
	cr_assert_eq(t.requests, 5 + 7, "each worker between its snapshots");
	cr_assert_eq(t.pushed + t.ring_full + t.sampled_out, t.requests);
	ps_capture_free(c);
}

/* ------------------------------------------------ the daemon's commands */

static int run(const struct ps_ctl_ctx *x, unsigned cmd, int n,
	       const char *const *argv, char *ans, size_t an)
{
	struct ps_out body, o;
	ps_out_init(&body);
	ps_out_init(&o);
	for (int i = 0; i < n; i++)
		ps_ctl_args(&body, argv[i]);
	int st = ps_ctl_run(x, cmd, (const uint8_t *)body.buf, body.len, &o);
	snprintf(ans, an, "%s", o.buf ? o.buf : "");
	ps_out_free(&body);
	ps_out_free(&o);
	return st;
}

Test(capture_commands, bad_arguments_clear_errors_one_at_a_time)
{
	struct ps_capture *cap = ring_of(64);
	struct worker_sim ws = { .r = &cap->rings[0] };
	pthread_t th;
	char ans[4096], path[128];
	tmpdir();
	struct ps_capture_writer *w = ps_capture_writer_new(cap, "unavailable: t");
	struct ps_ctl_daemon d = { .capture = w };
	struct ps_ctl_ctx x = { .d = &d };
	pthread_create(&th, NULL, simulate, &ws);
	snprintf(path, sizeof(path), "%s/c.pcap", dir);

	const char *rel[] = { "c.pcap", "0", "1", "1" };
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 4, rel, ans, sizeof(ans)),
		     PS_CTL_ERR_USAGE);
	cr_assert(strstr(ans, "absolute"), "%s", ans);
	const char *three[] = { path, "0", "1" };
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 3, three, ans, sizeof(ans)),
		     PS_CTL_ERR_USAGE);
	const char *dur[] = { path, "ten", "1", "1" };
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 4, dur, ans, sizeof(ans)),
		     PS_CTL_ERR_USAGE);
	cr_assert(strstr(ans, "DURATION_S"), "%s", ans);
	/* decimal digits only: no sign, no blank, no wrap-around */
	const char *const odd[][4] = { { path, " 5", "1", "1" },
				       { path, "+5", "1", "1" },
				       { path, "0", "1", "-18446744073709551615" },
				       { path, "0", "18446744073709551617", "1" } };
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 4, odd[i], ans,
				 sizeof(ans)), PS_CTL_ERR_USAGE, "%s %s %s: %s",
			     odd[i][1], odd[i][2], odd[i][3], ans);
		cr_assert(strstr(ans, "must be a number"), "%s", ans);
	}
	const char *k0[] = { path, "0", "1", "0" };
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 4, k0, ans, sizeof(ans)),
		     PS_CTL_ERR_USAGE);
	cr_assert(strstr(ans, "--sample"), "%s", ans);
	const char *mb[] = { path, "0", "2000000", "1" };
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 4, mb, ans, sizeof(ans)),
		     PS_CTL_ERR_USAGE);
	cr_assert_eq(access(path, F_OK), -1, "nothing created");

	const char *ok[] = { path, "0", "1", "1" };
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 4, ok, ans, sizeof(ans)),
		     PS_CTL_OK, "%s", ans);
	cr_assert(strstr(ans, "\"running\":true"), "%s", ans);
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_START, 4, ok, ans, sizeof(ans)),
		     PS_CTL_ERR_REFUSED);
	cr_assert(strstr(ans, "already running"), "%s", ans);
	const char *one[] = { "x" };
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_STATUS, 1, one, ans, sizeof(ans)),
		     PS_CTL_ERR_USAGE);
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_STATUS, 0, NULL, ans, sizeof(ans)),
		     PS_CTL_OK);
	cr_assert(strstr(ans, "\"pdump\":\"unavailable: t\""), "%s", ans);
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_STOP, 0, NULL, ans, sizeof(ans)),
		     PS_CTL_OK);
	cr_assert(strstr(ans, "\"stopped_by\":\"stop\""), "%s", ans);
	cr_assert_eq(run(&x, PS_CTL_CAPTURE_STOP, 0, NULL, ans, sizeof(ans)),
		     PS_CTL_ERR_REFUSED);
	cr_assert(strstr(ans, "no capture is running"), "%s", ans);

	/* a daemon without capture support says so */
	struct ps_ctl_daemon none = { 0 };
	struct ps_ctl_ctx y = { .d = &none };
	cr_assert_eq(run(&y, PS_CTL_CAPTURE_STATUS, 0, NULL, ans, sizeof(ans)),
		     PS_CTL_ERR_REFUSED);
	cr_assert(strstr(ans, "not available"), "%s", ans);

	__atomic_store_n(&ws.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ps_capture_writer_free(w);
	ps_capture_free(cap);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ------------------------------------------------------ review findings */

/* A worker that misses a stop's 2 s stays on and keeps handing frames to
 * its ring until it follows. Those frames belong to no capture: the next
 * capture must not write them into its file, nor count them as its own
 * (they were never among its requests). */
Test(capture_writer, late_worker_leftovers_not_in_next_capture, .timeout = 30)
{
	struct ps_capture *cap = ring_of(64);
	struct ps_capture_ring *r = &cap->rings[0];
	struct worker_sim ws = { .r = r, .frames = 10 };
	pthread_t th;
	char path[128], err[512], js[4096];
	uint8_t f[100];
	tmpdir();
	struct ps_capture_writer *w = ps_capture_writer_new(cap, "x");
	pthread_create(&th, NULL, simulate, &ws);
	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	struct ps_capture_opts o = { .path = path, .max_mb = 1, .sample = 1 };
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)), 0, "%s", err);
	while (__atomic_load_n(&ws.frames, __ATOMIC_RELAXED) > 0)
		usleep(1000);
	/* the worker stalls: it will not follow the stop in time */
	__atomic_store_n(&ws.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	cr_assert_eq(ps_capture_stop(w, err, sizeof(err)), 0, "%s", err);
	json_of(w, js, sizeof(js));
	cr_assert(strstr(js, "\"captured\":10,"), "%s", js);
	cr_assert(strstr(js, "\"workers_followed\":false"), "%s", js);
	/* still on, it hands over 5 more frames, then follows the stop */
	frame(f, 60, 7);
	for (int i = 0; i < 5; i++) {
		ps_capture_offer(r, f, 60);
		cnt[0].answered[PS_ANS_DECISION]++;
	}
	cr_assert_eq(follow(r), 0);
	/* the next capture, the worker following again, and no traffic */
	ws.stop = 0;
	ws.frames = 0;
	pthread_create(&th, NULL, simulate, &ws);
	snprintf(path, sizeof(path), "%s/b.pcap", dir);
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)), 0, "%s", err);
	usleep(50000);
	cr_assert_eq(ps_capture_stop(w, err, sizeof(err)), 0, "%s", err);
	json_of(w, js, sizeof(js));
	cr_assert(strstr(js, "\"workers_followed\":true"), "%s", js);
	cr_assert(strstr(js, "\"requests\":0,"), "%s", js);
	cr_assert(strstr(js, "\"captured\":0,"), "none of the last capture's "
		  "frames: %s", js);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 24, "the header only");
	__atomic_store_n(&ws.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ps_capture_writer_free(w);
	ps_capture_free(cap);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* Two workers play: both rings hold frames when the writer first looks;
 * worker 0's at TSC 1, 3, 5, worker 1's at 2, 4, 6 (us at 1 GHz). */
struct two_sim {
	struct ps_capture *cap;
	int stop;
};

static void *two_workers(void *arg)
{
	struct two_sim *t = arg;
	struct ps_capture_ring *r0 = &t->cap->rings[0], *r1 = &t->cap->rings[1];
	uint8_t f[64];
	/* the arm: worker 0 follows and both fill their rings before
	 * worker 1 follows, so the writer (started once both have) finds
	 * both rings holding frames */
	while (!ps_capture_poll(r0, 0))
		usleep(100);
	ps_capture_switch_over(r0);
	for (unsigned i = 0; i < 3; i++) {
		frame(f, 60, (uint8_t)(2 * i + 1));
		r0->tsc = (2 * i + 1) * 1000ull;
		ps_capture_offer(r0, f, 60);
		frame(f, 60, (uint8_t)(2 * i + 2));
		r1->tsc = (2 * i + 2) * 1000ull;
		ps_capture_offer(r1, f, 60);
	}
	ps_capture_switch_over(r1);
	/* then follow whatever comes (the stop) */
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < 2; i++) {
			struct ps_capture_ring *r = &t->cap->rings[i];
			if (__atomic_load_n(&r->sw->gen, __ATOMIC_ACQUIRE) !=
			    r->local_gen)
				ps_capture_switch_over(r);
		}
		usleep(100);
	}
	return NULL;
}

/* The file is in time order whatever worker a frame came from: the writer
 * takes the oldest of the rings' next frames, not one ring after the
 * other (plan whatif replays a capture in its order). */
Test(capture_writer, records_in_time_order_across_workers, .timeout = 30)
{
	memset(cnt, 0, sizeof(cnt));
	struct ps_capture *cap = ps_capture_new(2, 64, cnt, 1000000000ull);
	cr_assert_not_null(cap);
	struct two_sim t = { .cap = cap };
	pthread_t th;
	char path[128], err[512];
	tmpdir();
	struct ps_capture_writer *w = ps_capture_writer_new(cap, "x");
	pthread_create(&th, NULL, two_workers, &t);
	snprintf(path, sizeof(path), "%s/order.pcap", dir);
	struct ps_capture_opts o = { .path = path, .max_mb = 1, .sample = 1 };
	cr_assert_eq(ps_capture_start(w, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ps_capture_stop(w, err, sizeof(err)), 0, "%s", err);
	__atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	struct ps_pcap pc;
	static uint8_t rec[2048];
	uint64_t ts, prev = 0;
	int got, records = 0;
	cr_assert_eq(ps_pcap_open(&pc, path), 0);
	while ((got = ps_pcap_next(&pc, rec, sizeof(rec), &ts)) > 0) {
		records++;
		cr_assert_eq(rec[0], records, "frame %d in time order, not "
			     "%u", records, rec[0]);
		cr_assert_geq(ts, prev, "timestamps never go back");
		prev = ts;
	}
	cr_assert_eq(records, 6);
	fclose(pc.fp);
	ps_capture_writer_free(w);
	ps_capture_free(cap);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* The worker's per-frame fields (head, slots, mask) and the writer's
 * per-frame field (tail) never share a cache line: the writer releasing
 * each slot must not take the line the worker reads for every frame. */
Test(capture_ring, worker_and_writer_fields_on_separate_lines)
{
	size_t tail = offsetof(struct ps_capture_ring, tail) / 64;
	cr_assert_neq(offsetof(struct ps_capture_ring, head) / 64, tail);
	cr_assert_neq(offsetof(struct ps_capture_ring, slots) / 64, tail,
		      "slots is read by the worker for every frame");
	cr_assert_neq(offsetof(struct ps_capture_ring, mask) / 64, tail,
		      "mask is read by the worker for every frame");
	cr_assert_neq(offsetof(struct ps_capture_ring, countdown) / 64, tail);
}
