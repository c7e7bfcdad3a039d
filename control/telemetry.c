/* telemetry.c: DPDK telemetry commands of parcelsortd:
 *   /parcelsort/status   version, uptime, workers, plan
 *   /parcelsort/stats    every scalar counter of counters.h's list
 *                        (frames, bytes, records, duplicate window,
 *                        export, cycles), and answered decisions
 *   /parcelsort/reasons  records by reason
 *   /parcelsort/drops    dropped frames by cause
 *   /parcelsort/latency  bursts by RX-to-TX time */
#include "telemetry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

/* DPDK's telemetry thread lives until rte_eal_cleanup and its commands
 * cannot be unregistered: they answer under this lock, and only while
 * the_ctl is set (ps_telemetry_unregister clears it before the server and
 * the store go away). */
static pthread_mutex_t the_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ps_ctl_server *the_ctl;

static int tel_status(const char *cmd, const char *params,
		      struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const struct ps_ctl_daemon *dm = ps_ctl_daemon(the_ctl);
	struct ps_plan_info pi;
	ps_store_info(dm->store, &pi);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", PARCELSORT_VERSION);
	rte_tel_data_add_dict_u64(d, "uptime_s",
				  (ps_now_ms() - dm->start_ms) / 1000);
	rte_tel_data_add_dict_u64(d, "workers", dm->n_workers);
	rte_tel_data_add_dict_string(d, "plan_name", pi.name);
	rte_tel_data_add_dict_u64(d, "plan_version", pi.version);
	return 0;
}

static int with_counters(struct rte_tel_data *d, int what)
{
	struct ps_counters *c = malloc(sizeof(*c));
	if (!c)
		return -1;
	const struct ps_ctl_daemon *dm = ps_ctl_daemon(the_ctl);
	dm->sum_counters(dm->arg, c);
	rte_tel_data_start_dict(d);
	if (what == 0) {
		for (unsigned i = 0; i < PS_CNT_COUNT; i++) {
			const struct ps_counter_desc *k = &ps_counter_descs[i];
			rte_tel_data_add_dict_u64(d, k->name,
						  ps_counter_value(c, k));
		}
		rte_tel_data_add_dict_u64(d, "answered", c->answered[PS_ANS_DECISION]);
	} else if (what == 3) {
		char name[32];
		for (unsigned i = 0; i < PS_LAT_BUCKETS; i++) {
			if (!c->lat_hist[i])
				continue;
			snprintf(name, sizeof(name), "le_%llu_ns",
				 (unsigned long long)ps_lat_upper(i));
			rte_tel_data_add_dict_u64(d, name, c->lat_hist[i]);
		}
	} else if (what == 1) {
		for (unsigned i = 0; i < PS_REASON_COUNT; i++)
			rte_tel_data_add_dict_u64(d, ps_reason_name(i),
						  c->records_by_reason[i]);
	} else {
		for (unsigned i = 0; i < PS_DROP_COUNT; i++)
			rte_tel_data_add_dict_u64(d, ps_drop_name(i),
						  c->drops[i]);
	}
	free(c);
	return 0;
}

/* /parcelsort/stats, /reasons, /latency, /drops: the summed counters. */
static int tel_counters(const char *cmd, const char *params,
			struct rte_tel_data *d)
{
	static const char *const which[] = { "/parcelsort/stats",
					     "/parcelsort/reasons",
					     "/parcelsort/drops",
					     "/parcelsort/latency" };
	(void)params;
	for (int i = 0; i < 4; i++)
		if (!strcmp(cmd, which[i]))
			return with_counters(d, i);
	return -1;
}

int ps_telemetry_answer(const char *cmd, const char *params,
			struct rte_tel_data *d)
{
	pthread_mutex_lock(&the_lock);
	int rc = !the_ctl ? -1
		 : !strcmp(cmd, "/parcelsort/status") ? tel_status(cmd, params, d)
		 : tel_counters(cmd, params, d);
	pthread_mutex_unlock(&the_lock);
	return rc;
}

void ps_telemetry_unregister(void)
{
	pthread_mutex_lock(&the_lock);
	the_ctl = NULL;
	pthread_mutex_unlock(&the_lock);
}

int ps_telemetry_register(struct ps_ctl_server *ctl)
{
	pthread_mutex_lock(&the_lock);
	the_ctl = ctl;
	pthread_mutex_unlock(&the_lock);
	int rc = rte_telemetry_register_cmd("/parcelsort/status",
					    ps_telemetry_answer,
					    "parcelsortd status. No parameters");
	rc |= rte_telemetry_register_cmd("/parcelsort/stats", ps_telemetry_answer,
					 "Frame, record and duplicate-window "
					 "counters. No parameters");
	rc |= rte_telemetry_register_cmd("/parcelsort/reasons", ps_telemetry_answer,
					 "Records by reason. No parameters");
	rc |= rte_telemetry_register_cmd("/parcelsort/latency", ps_telemetry_answer,
					 "Bursts by RX-to-TX time: upper bound "
					 "in ns -> count. No parameters");
	rc |= rte_telemetry_register_cmd("/parcelsort/drops", ps_telemetry_answer,
					 "Dropped frames by cause. No parameters");
	return rc;
}
