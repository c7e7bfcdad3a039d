/* bench_publish.c: publish-to-visible latency of plan commits: 500 commits
 * through the plan store, each timed from its publish to the moment a
 * reader polling on the other core (as a worker does) sees the new plan
 * through RCU. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plan_bench.h"
#include "plan_reader.h"        /* the workers' slot, QSBR readers only */
#include "plan_store.h"

#define MAX_SEEN 4096

struct watcher {
	struct ps_store *s;
	volatile int stop;
	double lat_us[MAX_SEEN];
	unsigned n;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watch(void *arg)
{
	struct watcher *w = arg;
	uint32_t last = 0;
	rcu_register_thread();
	while (!w->stop) {
		struct ps_plan *p = ps_store_plan_rcu(ps_store_dataplane_slot(w->s));
		if (p && p->version != last) {
			uint64_t ns = mono_ns();
			if (last && w->n < MAX_SEEN)
				w->lat_us[w->n++] = (double)(ns - p->published_ns) / 1e3;
			last = p->version;
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

/* Commit the same small plan 501 times, 1 ms apart, while w watches. */
static void commit_many(const char *dir, struct watcher *w)
{
	struct ps_store_cfg cfg = { .state_dir = dir, .no_fsync = 1 };
	struct ps_errors e;
	ps_errors_init(&e);
	struct ps_store *s = ps_store_open(&cfg, &e, NULL, 0);
	if (!s) {
		ps_errors_print(&e, stderr);
		exit(1);
	}
	w->s = s;
	pthread_t t;
	pthread_create(&t, NULL, watch, w);
	const char *plan = "plan p\nsite 1 33\nreject 9\nhub 1 trunk T\n"
			   "route 33 1 5\n";
	for (int i = 0; i < 501; i++) {
		uint32_t v;
		ps_store_load_text(s, plan, strlen(plan), "p", 0, &e, &v);
		usleep(1000);
	}
	w->stop = 1;
	pthread_join(t, NULL);
	ps_store_close(s);
	ps_errors_free(&e);
}

void section_publish(void)
{
	char dir[] = "/tmp/ps-bench-XXXXXX";
	if (!mkdtemp(dir))
		return;
	static struct watcher w;
	commit_many(dir, &w);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	if (!w.n)
		return;
	qsort(w.lat_us, w.n, sizeof(double), bench_cmp_double);
	double p50 = w.lat_us[w.n / 2], p99 = w.lat_us[w.n * 99 / 100],
	       mx = w.lat_us[w.n - 1];
	printf("\n## Publish to visible (RCU pointer exchange to a polling "
	       "reader on the other core)\n\n");
	printf("| publishes | p50 us | p99 us | max us |\n|---:|---:|---:|---:|\n");
	printf("| %u | %.1f | %.1f | %.1f |\n", w.n, p50, p99, mx);
	bench_json_row("publish", "\"n\":%u,\"p50_us\":%.2f,\"p99_us\":%.2f,"
		       "\"max_us\":%.2f", w.n, p50, p99, mx);
}
