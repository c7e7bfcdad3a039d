/* ctl_render.c: text renderers of the control answers (see ctl_render.h).
 * The JSON reader is jansson's. */
#include "ctl_render.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ctl_proto.h"

typedef void render_fn(json_t *j, struct ps_out *o);

/* ------------------------------------------------------------ helpers */

static unsigned long long num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (unsigned long long)json_integer_value(v)
				  : 0;
}

static double real(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int truth(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static void fmt_time(char *buf, size_t n, unsigned long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void line(struct ps_out *o, const char *s)
{
	ps_out_printf(o, "%s\n", s);
}

/* ------------------------------------------------------------- errors */

static void render_error(json_t *j, struct ps_out *o)
{
	json_t *list = json_object_get(j, "errors"), *v;
	size_t i;
	if (json_is_string(json_object_get(j, "error")))
		line(o, str(j, "error"));
	json_array_foreach(list, i, v)
		line(o, json_string_value(v) ? json_string_value(v) : "?");
	if (num(j, "more"))
		ps_out_printf(o, "... and %llu more errors\n", num(j, "more"));
}

/* ----------------------------------------------------------- commands */

static void render_status(json_t *j, struct ps_out *o)
{
	unsigned long long up = num(j, "uptime_s"), w = num(j, "workers");
	json_t *ports = json_object_get(j, "ports"), *p;
	json_t *plan = json_object_get(j, "plan");
	json_t *sched = json_object_get(j, "scheduled");
	json_t *rt = json_object_get(j, "rates");
	json_t *mem = json_object_get(j, "memory");
	json_t *dd = json_object_get(j, "dedup");
	size_t i;
	char t[64];
	ps_out_printf(o, "parcelsortd %s, up %lluh %02llum %02llus, %llu "
		      "worker%s\n", str(j, "version"), up / 3600, up / 60 % 60,
		      up % 60, w, w == 1 ? "" : "s");
	json_array_foreach(ports, i, p) {
		unsigned long long q = num(p, "queues");
		ps_out_printf(o, "port %zu:    %s, %s, %llu queue%s\n", i,
			      str(p, "name"), str(p, "mac"), q,
			      q == 1 ? "" : "s");
	}
	if (json_is_object(plan)) {
		fmt_time(t, sizeof(t), num(plan, "committed_ms"));
		ps_out_printf(o, "plan:      %s v%llu, committed %s (%s), "
			      "%.1f MB\n", str(plan, "name"), num(plan, "version"),
			      t, *str(plan, "origin") ? str(plan, "origin") : "?",
			      (double)num(plan, "bytes") / 1048576.0);
	} else {
		line(o, "plan:      none (every sortable record gets NO_PLAN)");
	}
	if (json_is_object(sched)) {
		fmt_time(t, sizeof(t), num(sched, "at_ms"));
		ps_out_printf(o, "scheduled: %s at %s\n", str(sched, "name"), t);
		unsigned long long fails = num(sched, "failed_attempts");
		if (fails) {
			fmt_time(t, sizeof(t), num(sched, "next_try_ms"));
			ps_out_printf(o, "           activation failed %llu "
				      "time%s, next try at %s: %s\n", fails,
				      fails == 1 ? "" : "s", t,
				      str(sched, "last_error"));
		}
	}
	if (truth(j, "transaction_open"))
		line(o, "staged:    a transaction is open (commit or abort)");
	ps_out_printf(o, "rates:     rx %.3f Mpps, tx %.3f Mpps, %.3f M "
		      "records/s, %.0f drops/s\n", real(rt, "rx_pps") / 1e6,
		      real(rt, "tx_pps") / 1e6,
		      real(rt, "records_per_s") / 1e6, real(rt, "drops_per_s"));
	ps_out_printf(o, "memory:    jemalloc %.1f MB allocated, %.1f MB "
		      "resident; duplicate window %.0f MB (%llu waybills, "
		      "%llu s)\n", (double)num(mem, "jemalloc_allocated") / 1048576.0,
		      (double)num(mem, "jemalloc_resident") / 1048576.0,
		      (double)num(mem, "dedup_bytes") / 1048576.0,
		      num(dd, "capacity"), num(dd, "window_s"));
}

static void render_plan_load(json_t *j, struct ps_out *o)
{
	if (json_object_get(j, "scheduled_at_ms")) {
		char t[64];
		fmt_time(t, sizeof(t), num(j, "scheduled_at_ms"));
		ps_out_printf(o, "scheduled: takes effect at %s\n", t);
	} else {
		ps_out_printf(o, "committed version %llu\n", num(j, "version"));
	}
}

static void diff_lines(json_t *list, char mark, struct ps_out *o)
{
	json_t *v;
	size_t i;
	json_array_foreach(list, i, v) {
		if (json_is_integer(v))
			ps_out_printf(o, "%c chute %llu\n", mark,
				      (unsigned long long)json_integer_value(v));
		else
			ps_out_printf(o, "%c %s\n", mark,
				      json_string_value(v) ? json_string_value(v)
							   : "?");
	}
}

static void render_plan_diff(json_t *j, struct ps_out *o)
{
	static const char *const kinds[] = { "hubs", "routes", "rules" };
	for (int k = 0; k < 3; k++) {
		json_t *kd = json_object_get(j, kinds[k]);
		diff_lines(json_object_get(kd, "added"), '+', o);
		diff_lines(json_object_get(kd, "removed"), '-', o);
		diff_lines(json_object_get(kd, "changed"), '~', o);
	}
	diff_lines(json_object_get(j, "settings"), '~', o);
	json_t *ch = json_object_get(j, "chutes");
	diff_lines(json_object_get(ch, "added"), '+', o);
	diff_lines(json_object_get(ch, "removed"), '-', o);
	unsigned long long n = num(j, "differences");
	unsigned long long v = num(j, "active_version");
	if (n == 0)
		ps_out_printf(o, "no difference from the active plan (v%llu)\n",
			      v);
	else
		ps_out_printf(o, "%llu difference%s from the active plan "
			      "(v%llu)\n", n, n == 1 ? "" : "s", v);
}

static void render_plan_show(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "# active plan, version %llu\n", num(j, "version"));
	ps_out_write(o, str(j, "text"), strlen(str(j, "text")));
}

static void render_plan_history(json_t *j, struct ps_out *o)
{
	json_t *h;
	size_t i;
	ps_out_printf(o, "%-8s %-20s %-24s %8s %6s %5s  %s\n", "version",
		      "committed", "name", "routes", "rules", "hubs", "origin");
	json_array_foreach(j, i, h) {
		char t[64];
		fmt_time(t, sizeof(t), num(h, "committed_ms"));
		ps_out_printf(o, "%c%-7llu %-20s %-24s %8llu %6llu %5llu  %s\n",
			      truth(h, "active") ? '*' : ' ', num(h, "version"),
			      t, str(h, "name"), num(h, "routes"),
			      num(h, "rules"), num(h, "hubs"), str(h, "origin"));
	}
}

static void render_plan_rollback(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "committed version %llu (the content of an earlier "
		      "plan)\n", num(j, "version"));
}

static void render_begin(json_t *j, struct ps_out *o)
{
	(void)j;
	line(o, "transaction open: stage edits, then commit or abort");
}

static void render_edit(json_t *j, struct ps_out *o)
{
	(void)j;
	line(o, "staged");
}

static void render_delete(json_t *j, struct ps_out *o)
{
	render_edit(j, o);
}

static void render_commit(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "committed version %llu\n", num(j, "version"));
}

static void render_abort(json_t *j, struct ps_out *o)
{
	(void)j;
	line(o, "staged edits thrown away");
}

static void render_route_get(json_t *j, struct ps_out *o)
{
	json_t *chutes = json_object_get(j, "chutes"), *c;
	json_t *d = json_object_get(j, "decision");
	int have_plan = truth(j, "have_plan");
	size_t i;
	json_t *mf = json_object_get(j, "manifest");
	if (json_is_object(mf) && truth(mf, "found"))
		ps_out_printf(o, "manifest:   %s -> region %012llu\n",
			      str(mf, "waybill"), num(mf, "region"));
	else if (json_is_object(mf))
		ps_out_printf(o, "manifest:   %s has no entry (region 0)\n",
			      str(mf, "waybill"));
	ps_out_printf(o, "decided by: %s\n", str(j, "decided_by"));
	if (have_plan && num(j, "hub"))
		ps_out_printf(o, "next hop:   hub %llu (%s), %s\n", num(j, "hub"),
			      str(j, "hub_name"), str(j, "tier"));
	if (json_array_size(chutes)) {
		ps_out_printf(o, "chutes:    ");
		json_array_foreach(chutes, i, c)
			ps_out_printf(o, " %llu%s", num(c, "chute"),
				      truth(c, "enabled") ? "" : " (disabled)");
		ps_out_write(o, "\n", 1);
	}
	if (have_plan)
		ps_out_printf(o, "decision:   %s, chute %llu (plan v%llu, for "
			      "waybill %s)\n", str(d, "reason"), num(d, "chute"),
			      num(j, "plan_version"), str(j, "waybill"));
}

static void render_chute_list(json_t *j, struct ps_out *o)
{
	json_t *c;
	size_t i;
	char sorter[32];
	ps_out_printf(o, "%-6s %-9s %-13s %14s %10s %9s %9s %9s\n", "chute",
		      "state", "sorter", "records", "sorted", "missorted",
		      "not_disch", "pieces/h");
	json_array_foreach(j, i, c) {
		if (num(c, "sorter_secs_left"))
			snprintf(sorter, sizeof(sorter), "%s %llus",
				 str(c, "sorter"), num(c, "sorter_secs_left"));
		else
			snprintf(sorter, sizeof(sorter), "%s",
				 *str(c, "sorter") ? str(c, "sorter") : "OPEN");
		ps_out_printf(o, "%-6llu %-9s %-13s %14llu %10llu %9llu %9llu "
			      "%9.0f%s%s\n", num(c, "chute"),
			      truth(c, "enabled") ? "enabled" : "disabled",
			      sorter, num(c, "records"), num(c, "sorted"),
			      num(c, "missorted"), num(c, "not_discharged"),
			      real(c, "per_hour"),
			      truth(c, "reject") ? "  reject" : "",
			      truth(c, "in_plan") ? "" : "  (not in the plan)");
	}
}

static void render_chute_set(json_t *j, struct ps_out *o)
{
	line(o, truth(j, "enabled") ? "enabled" : "disabled");
}

/* " name count" for every non-zero member of an object of counts; from
 * member `from` on. The daemon writes them in its counters' order. */
static void counts(json_t *obj, size_t from, int zeros, struct ps_out *o)
{
	const char *k;
	json_t *v;
	size_t i = 0;
	json_object_foreach(obj, k, v) {
		if (i++ >= from && (zeros || json_integer_value(v)))
			ps_out_printf(o, " %s %llu", k,
				      (unsigned long long)json_integer_value(v));
	}
}

/* The sorter loop's lines of `stats`, after the lines of old. */
static void render_sorter_loop(json_t *j, struct ps_out *o)
{
	static const char *const st[] = { "sorted", "chute_full",
		"chute_blocked", "discharge_failed", "no_destination", "lost" };
	char key[32];
	ps_out_printf(o, "sort results");
	for (unsigned i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		snprintf(key, sizeof(key), "sort_%s", st[i]);
		ps_out_printf(o, " %s %llu", st[i], num(j, key));
	}
	ps_out_printf(o, "\n          missorts %llu  unknown %llu  held %llu  "
		      "invalid %llu  rounds %llu  intercepts %llu\n",
		      num(j, "sort_missorts"), num(j, "sort_unknown"),
		      num(j, "sort_held"),
		      num(j, "sort_invalid_waybill") + num(j, "sort_invalid_chute")
		      + num(j, "sort_invalid_status") +
		      num(j, "sort_invalid_reserved"),
		      num(j, "rounds"), num(j, "intercepts"));
	ps_out_printf(o, "chute states  %llu applied, %llu invalid\n",
		      num(j, "chute_states"),
		      num(j, "chute_states_invalid_chute") +
		      num(j, "chute_states_invalid_state") +
		      num(j, "chute_states_invalid_hold") +
		      num(j, "chute_states_invalid_reserved"));
}

static void render_stats(json_t *j, struct ps_out *o)
{
	json_t *rt = json_object_get(j, "rates");
	json_t *drops = json_object_get(j, "drops"), *v;
	json_t *reasons = json_object_get(j, "reasons");
	json_t *dd = json_object_get(j, "dedup");
	json_t *ex = json_object_get(j, "export");
	unsigned long long dropped = 0;
	const char *k;
	json_object_foreach(drops, k, v)
		dropped += (unsigned long long)json_integer_value(v);
	ps_out_printf(o, "rates     rx %.3f Mpps  tx %.3f Mpps  %.3f M "
		      "records/s  %.0f drops/s  workers %.1f%% busy\n",
		      real(rt, "rx_pps") / 1e6, real(rt, "tx_pps") / 1e6,
		      real(rt, "records_per_s") / 1e6, real(rt, "drops_per_s"),
		      real(j, "busy_percent"));
	ps_out_printf(o, "frames    rx %llu (%llu bytes)  tx %llu (%llu "
		      "bytes)  dropped %llu\n", num(j, "rx_frames"),
		      num(j, "rx_bytes"), num(j, "tx_frames"),
		      num(j, "tx_bytes"), dropped);
	ps_out_printf(o, "records   %llu\n", num(j, "records"));
	json_object_foreach(reasons, k, v)
		if (json_integer_value(v))
			ps_out_printf(o, "  %-18s %14llu\n", k,
				      (unsigned long long)json_integer_value(v));
	ps_out_printf(o, "tiers    ");
	counts(json_object_get(j, "tiers"), 1, 1, o);
	ps_out_printf(o, "\ndrops    ");
	counts(drops, 0, 0, o);
	ps_out_printf(o, "\nduplicate window: %llu remembered, %llu hits, "
		      "%llu evicted\n", num(dd, "inserts"), num(dd, "hits"),
		      num(dd, "evictions"));
	if (truth(ex, "enabled"))
		ps_out_printf(o, "export    %llu events, %llu dropped; %llu "
			      "stored in %llu blocks, %llu refused by a full "
			      "spool, spool %.1f MB\n", num(ex, "events"),
			      num(ex, "dropped"), num(ex, "written"),
			      num(ex, "blocks"), num(ex, "spool_overflow"),
			      (double)num(ex, "spool_bytes") / 1048576.0);
	render_sorter_loop(j, o);
}

static void render_stats_reset(json_t *j, struct ps_out *o)
{
	(void)j;
	line(o, "counters reset (a baseline; the workers' counters keep "
	     "counting)");
}

static void render_hold_add(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "held; %llu waybill%s on the list (revision %llu)\n",
		      num(j, "count"), num(j, "count") == 1 ? "" : "s",
		      num(j, "revision"));
}

static void render_hold_del(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "released %llu (%llu not held); %llu waybill%s on the "
		      "list (revision %llu)\n", num(j, "removed"),
		      num(j, "not_held"), num(j, "count"),
		      num(j, "count") == 1 ? "" : "s", num(j, "revision"));
}

static void render_hold_list(json_t *j, struct ps_out *o)
{
	json_t *holds = json_object_get(j, "holds"), *h;
	size_t i;
	char t[64] = "never";
	if (num(j, "changed_ms"))
		fmt_time(t, sizeof(t), num(j, "changed_ms"));
	ps_out_printf(o, "%llu waybill%s held, revision %llu, changed %s%s\n",
		      num(j, "count"), num(j, "count") == 1 ? "" : "s",
		      num(j, "revision"), t,
		      truth(j, "loading") ? " (a load is under way)" : "");
	json_array_foreach(holds, i, h) {
		const char *note = str(h, "note");
		ps_out_printf(o, "%-24s%s%s\n", str(h, "waybill"),
			      *note ? "  " : "", note);
	}
	if (json_is_string(json_object_get(j, "next")))
		ps_out_printf(o, "... %zu shown; the next page: hold list "
			      "--after %s\n", json_array_size(holds),
			      str(j, "next"));
}

static void render_hold_load(json_t *j, struct ps_out *o)
{
	if (json_object_get(j, "revision"))
		ps_out_printf(o, "hold list replaced: %llu waybill%s held "
			      "(revision %llu)\n", num(j, "count"),
			      num(j, "count") == 1 ? "" : "s",
			      num(j, "revision"));
	else
		line(o, "done");
}

static void render_hold_clear(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "hold list cleared (revision %llu)\n",
		      num(j, "revision"));
}

static void render_device_list(json_t *j, struct ps_out *o)
{
	json_t *devs = json_object_get(j, "devices"), *d;
	size_t i;
	ps_out_printf(o, "%-7s %14s %8s %8s %10s %10s %10s\n", "device",
		      "records", "noread%", "bad%", "malformed", "duplicates",
		      "heard");
	json_array_foreach(devs, i, d) {
		char heard[32] = "never";
		if (json_is_integer(json_object_get(d, "last_heard_s_ago")))
			snprintf(heard, sizeof(heard), "%llus ago",
				 num(d, "last_heard_s_ago"));
		ps_out_printf(o, "%-7llu %14llu %8.2f %8.2f %10llu %10llu %10s\n",
			      num(d, "device"), num(d, "records"),
			      real(d, "noread_percent"), real(d, "bad_percent"),
			      num(d, "malformed"), num(d, "duplicates"), heard);
	}
	if (num(j, "shown") < num(j, "count"))
		ps_out_printf(o, "... %llu of %llu devices shown (by %s)\n",
			      num(j, "shown"), num(j, "count"), str(j, "sort"));
}

/* capture start, stop and status: one text of the capture's state */
static void render_capture_status(json_t *j, struct ps_out *o)
{
	json_t *file = json_object_get(j, "file");
	if (!json_is_string(file)) {
		line(o, "capture: none since the daemon started");
	} else {
		if (truth(j, "running"))
			ps_out_printf(o, "capture: running for %.1f s into %s\n",
				      real(j, "elapsed_s"), str(j, "file"));
		else
			ps_out_printf(o, "capture: stopped by %s after %.1f s, "
				      "%s\n", str(j, "stopped_by"),
				      real(j, "elapsed_s"), str(j, "file"));
		ps_out_printf(o, "frames:  %llu captured (%.1f MB in the "
			      "file), %llu dropped (%llu ring full, %llu at "
			      "the limit), %llu sampled out\n",
			      num(j, "captured"),
			      (double)num(j, "bytes") / 1048576.0,
			      num(j, "dropped"), num(j, "dropped_ring_full"),
			      num(j, "dropped_at_limit"),
			      num(j, "sampled_out"));
		ps_out_printf(o, "         of %llu request frames answered "
			      "while it ran", num(j, "requests"));
		if (num(j, "in_flight"))
			ps_out_printf(o, " (%llu on their way to the file)",
				      num(j, "in_flight"));
		ps_out_write(o, "\n", 1);
		ps_out_printf(o, "limits:  ");
		if (num(j, "duration_s"))
			ps_out_printf(o, "%llu s, ", num(j, "duration_s"));
		ps_out_printf(o, "%llu MB, sample 1/%llu\n",
			      num(j, "max_mb"), num(j, "sample"));
		if (json_is_false(json_object_get(j, "workers_followed")))
			line(o, "warning: a worker did not follow a start or "
			     "stop in time: the counts may not add up");
	}
	ps_out_printf(o, "pdump:   %s\n", str(j, "pdump"));
}

static void render_capture_start(json_t *j, struct ps_out *o)
{
	render_capture_status(j, o);
}

static void render_capture_stop(json_t *j, struct ps_out *o)
{
	render_capture_status(j, o);
}

/* ---------------------------------------------------------- manifest */

static void render_manifest_load(json_t *j, struct ps_out *o)
{
	if (json_object_get(j, "entries"))
		ps_out_printf(o, "manifest loaded: %llu line%s, %llu added, "
			      "%llu replaced; %llu entr%s\n", num(j, "lines"),
			      num(j, "lines") == 1 ? "" : "s", num(j, "added"),
			      num(j, "replaced"), num(j, "entries"),
			      num(j, "entries") == 1 ? "y" : "ies");
	else
		line(o, "done");
}

static void render_manifest_add(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "%s -> %012llu (%s); %llu entr%s\n",
		      str(j, "waybill"), num(j, "region"),
		      truth(j, "replaced") ? "replaced" : "added",
		      num(j, "entries"), num(j, "entries") == 1 ? "y" : "ies");
}

static void render_manifest_del(json_t *j, struct ps_out *o)
{
	ps_out_printf(o, "removed %llu (%llu not in the manifest); %llu "
		      "entr%s\n", num(j, "removed"), num(j, "absent"),
		      num(j, "entries"), num(j, "entries") == 1 ? "y" : "ies");
}

static void render_manifest_entry(json_t *j, struct ps_out *o)
{
	unsigned long long s = num(j, "expires_in_s");
	if (truth(j, "found"))
		ps_out_printf(o, "%s -> %012llu (lapses in %lluh %02llum)\n",
			      str(j, "waybill"), num(j, "region"), s / 3600,
			      s / 60 % 60);
	else
		ps_out_printf(o, "%s is not in the manifest\n",
			      str(j, "waybill"));
}

/* One waybill's entry, or {"entries":[...]} for several: a line each. */
static void render_manifest_get(json_t *j, struct ps_out *o)
{
	json_t *all = json_object_get(j, "entries");
	size_t i;
	json_t *e;
	if (!json_is_array(all)) {
		render_manifest_entry(j, o);
		return;
	}
	json_array_foreach(all, i, e)
		render_manifest_entry(e, o);
}

static void render_manifest_stats(json_t *j, struct ps_out *o)
{
	unsigned long long hits = num(j, "hits"), miss = num(j, "misses");
	char t[64] = "none";
	if (num(j, "oldest_added_ms"))
		fmt_time(t, sizeof(t), num(j, "oldest_added_ms"));
	ps_out_printf(o, "entries:      %llu of %llu (%.1f MB)\n",
		      num(j, "entries"), num(j, "capacity"),
		      (double)num(j, "bytes") / 1048576.0);
	ps_out_printf(o, "ttl:          %lluh\n", num(j, "ttl_s") / 3600);
	ps_out_printf(o, "oldest entry: %s\n", t);
	ps_out_printf(o, "barcode-only: %llu resolved, %llu with no entry "
		      "(%.2f%% resolved)\n", hits, miss,
		      hits + miss ? 100.0 * (double)hits /
				    (double)(hits + miss) : 0.0);
	ps_out_printf(o, "changes:      %llu adds, %llu removals, %llu loads "
		      "(%llu replacing), %llu lapsed, %llu refused as full\n",
		      num(j, "adds"), num(j, "dels"), num(j, "loads"),
		      num(j, "replaces"), num(j, "lapsed"),
		      num(j, "refused_full"));
	json_t *l = json_object_get(j, "loading");
	if (json_is_object(l))
		ps_out_printf(o, "loading:      '%s', its last part (or begin) "
			      "%.1f s ago (another load is refused until it "
			      "is done, or 60 s idle)\n", str(l, "name"),
			      (double)num(l, "idle_ms") / 1000.0);
}

static render_fn *const renderers[PS_CTL_CMD_MAX] = {
#define ROW(id, fn, access, name, forms, help) [PS_CTL_##id] = render_##fn,
	PS_CTL_COMMANDS(ROW)
#undef ROW
};

int ps_ctl_render(unsigned cmd, int status, const char *body, size_t len,
		  struct ps_out *o)
{
	json_t *j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
	if (!j) {
		ps_out_write(o, body, len);
		return -1;
	}
	if (status != PS_CTL_OK)
		render_error(j, o);
	else if (cmd >= 1 && cmd < PS_CTL_CMD_MAX)
		renderers[cmd](j, o);
	else
		ps_out_write(o, body, len);
	json_decref(j);
	return 0;
}
