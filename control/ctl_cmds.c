/* ctl_cmds.c: the control commands as the daemon runs them: status, plans
 * (load, diff, show, history, rollback), staged edits, route get, chutes,
 * stats, holds, devices, capture (the manifest's are in
 * ctl_cmds_manifest.c). Each handler writes its answer as JSON only (the
 * wire form of every answer) and returns a status (ctl_proto.h); the
 * dispatch is the command table's handler view. */
#include "ctl_cmds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmds_manifest.h"
#include "ctl_proto.h"
#include "plan_diff.h"


struct req {
	const struct ps_ctl_ctx *x;
	struct ps_store *st;
	const struct ps_ctl_args *a;
	struct ps_out *o;
};

typedef int handler_fn(struct req *r);

/* {"error":"msg"} with status st. */
static int fail(struct req *r, int st, const char *msg)
{
	ps_out_write(r->o, "{\"error\":", 9);
	ps_out_json_str(r->o, msg);
	ps_out_write(r->o, "}\n", 2);
	return st;
}

static int usage(struct req *r, const char *msg)
{
	return fail(r, PS_CTL_ERR_USAGE, msg);
}

/* {"errors":[...],"more":N}: at most PS_CTL_MAX_ERRORS_SHOWN errors of at
 * most PS_CTL_MAX_ERROR_TEXT bytes each; the others are counted in more,
 * so that an answer of refusals stays small whatever the plan. */
static int refused(struct req *r, const struct ps_errors *e)
{
	char m[PS_CTL_MAX_ERROR_TEXT];
	size_t shown = e->n < PS_CTL_MAX_ERRORS_SHOWN ? e->n
						      : PS_CTL_MAX_ERRORS_SHOWN;
	ps_out_write(r->o, "{\"errors\":[", 11);
	for (size_t i = 0; i < shown; i++) {
		if (i)
			ps_out_write(r->o, ",", 1);
		snprintf(m, sizeof(m), "%s", e->msg[i]);
		ps_out_json_str(r->o, m);
	}
	ps_out_printf(r->o, "],\"more\":%zu}\n", e->n - shown + e->dropped);
	return PS_CTL_ERR_REFUSED;
}

/* The outcome of a store call that fills e: refused, or ok. */
static int outcome(struct req *r, int rc, struct ps_errors *e)
{
	if (rc)
		rc = refused(r, e);
	ps_errors_free(e);
	return rc ? rc : PS_CTL_OK;
}

static int done(struct req *r)
{
	ps_out_printf(r->o, "{\"done\":true}\n");
	return PS_CTL_OK;
}

static int no_args(struct req *r)
{
	return r->a->n ? usage(r, "this command takes no arguments")
		       : PS_CTL_OK;
}

/* ----------------------------------------------------------- status */

/* jemalloc's control interface; weak, so that the sanitizer and fuzzing
 * builds (which keep the sanitizers' allocator) still link. */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
		   size_t newlen) __attribute__((weak));

static void jemalloc_stats(size_t *allocated, size_t *resident)
{
	*allocated = *resident = 0;
	if (!mallctl)
		return;
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	mallctl("epoch", &epoch, &sz, &epoch, sz);
	sz = sizeof(size_t);
	mallctl("stats.allocated", allocated, &sz, NULL, 0);
	sz = sizeof(size_t);
	mallctl("stats.resident", resident, &sz, NULL, 0);
}

static void plan_json(struct ps_out *o, const struct ps_plan_info *pi)
{
	if (!pi->have) {
		ps_out_write(o, "null", 4);
		return;
	}
	ps_out_printf(o, "{\"name\":");
	ps_out_json_str(o, pi->name);
	ps_out_printf(o, ",\"version\":%u,\"committed_ms\":%llu,\"origin\":",
		      pi->version, (unsigned long long)pi->committed_ms);
	ps_out_json_str(o, pi->origin);
	ps_out_printf(o, ",\"bytes\":%zu}", pi->bytes);
}

/* The pending schedule, and why its activation failed so far (#12.7). */
static void schedule_json(struct ps_out *o, const struct ps_schedule_info *si)
{
	if (!si->pending) {
		ps_out_write(o, "null", 4);
		return;
	}
	ps_out_printf(o, "{\"name\":");
	ps_out_json_str(o, si->name);
	ps_out_printf(o, ",\"at_ms\":%llu,\"failed_attempts\":%u",
		      (unsigned long long)si->at_ms, si->attempts);
	if (si->attempts) {
		ps_out_printf(o, ",\"next_try_ms\":%llu,\"last_error\":",
			      (unsigned long long)si->next_try_ms);
		ps_out_json_str(o, si->last_error);
	}
	ps_out_write(o, "}", 1);
}

static int cmd_status(struct req *r)
{
	const struct ps_ctl_daemon *d = r->x->d;
	struct ps_rates rt;
	struct ps_plan_info pi;
	struct ps_schedule_info si;
	size_t alloc, res;
	ps_view_rates(r->x->view, &rt);
	ps_store_info(r->st, &pi);
	jemalloc_stats(&alloc, &res);
	ps_store_schedule_info(r->st, &si);
	ps_out_printf(r->o, "{\"version\":\"%s\",\"uptime_s\":%llu,"
		      "\"workers\":%u,\"ports\":", PARCELSORT_VERSION,
		      (unsigned long long)((ps_now_ms() - d->start_ms) / 1000),
		      d->n_workers);
	d->describe_ports(d->arg, r->o, 1);
	ps_out_write(r->o, ",\"plan\":", 8);
	plan_json(r->o, &pi);
	ps_out_printf(r->o, ",\"scheduled\":");
	schedule_json(r->o, &si);
	ps_out_printf(r->o, ",\"rates\":{\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
		      "\"records_per_s\":%.1f,\"drops_per_s\":%.1f},"
		      "\"memory\":{\"jemalloc_allocated\":%zu,"
		      "\"jemalloc_resident\":%zu,\"dedup_bytes\":%llu},"
		      "\"dedup\":{\"window_s\":%u,\"capacity\":%llu},"
		      "\"transaction_open\":%s,",
		      rt.rx_pps, rt.tx_pps, rt.records_ps, rt.drops_ps,
		      alloc, res, (unsigned long long)d->dedup_bytes,
		      d->dedup_window, (unsigned long long)d->dedup_capacity,
		      ps_txn_open(r->st) ? "true" : "false");
	/* rte_pdump: whether dpdk-dumpcap can capture (capture_writer.h) */
	ps_out_write(r->o, "\"pdump\":", 8);
	ps_out_json_str(r->o, d->capture ? ps_capture_pdump(d->capture)
					 : "unavailable: no capture support");
	ps_out_write(r->o, "}\n", 2);
	return PS_CTL_OK;
}

/* ------------------------------------------------------------- plans */

/* The NAME argument labels every error of the plan (FILE:LINE: ...):
 * bounded, so that a huge name cannot multiply into a huge answer. */
static int check_name(struct req *r, const char *cmd)
{
	if (ps_ctl_printable(r->a->v[0], r->a->len[0], PS_CTL_MAX_NAME))
		return PS_CTL_OK;
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: NAME must be 1..%u printable "
		 "characters", cmd, PS_CTL_MAX_NAME);
	return usage(r, msg);
}

static int cmd_plan_load(struct req *r)
{
	const struct ps_ctl_args *a = r->a;
	if (a->n < 2 || a->n > 4)
		return usage(r, "plan load: NAME TEXT [AT_MS [ORIGIN]]");
	if (check_name(r, "plan load"))
		return PS_CTL_ERR_USAGE;
	uint64_t at = a->n >= 3 ? strtoull(a->v[2], NULL, 10) : 0;
	const char *origin = a->n == 4 ? a->v[3] : NULL;
	if (origin && !ps_ctl_printable(origin, a->len[3], 100))
		return usage(r, "plan load: ORIGIN must be 1..100 printable "
			     "characters");
	struct ps_errors e;
	uint32_t v;
	ps_errors_init(&e);
	int rc = outcome(r, ps_store_load_text_as(r->st, a->v[1], a->len[1],
						  a->v[0], origin, at, &e, &v),
			 &e);
	if (rc)
		return rc;
	if (v == 0)
		ps_out_printf(r->o, "{\"scheduled_at_ms\":%llu}\n",
			      (unsigned long long)at);
	else
		ps_out_printf(r->o, "{\"version\":%u}\n", v);
	return PS_CTL_OK;
}

static int cmd_plan_diff(struct req *r)
{
	if (r->a->n != 2)
		return usage(r, "plan diff: NAME TEXT");
	if (check_name(r, "plan diff"))
		return PS_CTL_ERR_USAGE;
	struct ps_plan_src cur, neu;
	struct ps_errors e;
	struct ps_out d;
	uint32_t v = 0;
	ps_errors_init(&e);
	ps_plan_src_init(&neu);
	int rc = outcome(r, ps_plan_parse(&neu, r->a->v[1], r->a->len[1],
					  r->a->v[0], &e), &e);
	if (rc) {
		ps_plan_src_free(&neu);
		return rc;
	}
	if (ps_store_active_src(r->st, &cur, &v))
		ps_plan_src_init(&cur);   /* no plan: everything is added */
	ps_out_init(&d);
	long n = ps_plan_diff(&cur, &neu, &d, 1);
	ps_plan_src_free(&cur);
	ps_plan_src_free(&neu);
	if (n < 0 || d.oom || d.len < 2) {
		ps_out_free(&d);
		return fail(r, PS_CTL_ERR_INTERNAL, "out of memory");
	}
	/* the diff's object, with the version it was taken against */
	ps_out_write(r->o, d.buf, d.len - 1);
	ps_out_printf(r->o, ",\"active_version\":%u}\n", v);
	ps_out_free(&d);
	return PS_CTL_OK;
}

static int cmd_plan_show(struct req *r)
{
	struct ps_plan_src cur;
	uint32_t v;
	if (ps_store_active_src(r->st, &cur, &v))
		return fail(r, PS_CTL_ERR_REFUSED, "no plan is active");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		ps_plan_write(&cur, f);
		fclose(f);
	}
	ps_plan_src_free(&cur);
	if (!buf)
		return fail(r, PS_CTL_ERR_INTERNAL, "out of memory");
	ps_out_printf(r->o, "{\"version\":%u,\"text\":", v);
	ps_out_json_str(r->o, buf);
	ps_out_write(r->o, "}\n", 2);
	free(buf);
	return PS_CTL_OK;
}

static int cmd_plan_history(struct req *r)
{
	struct ps_history_entry h[PS_HISTORY];
	unsigned n = ps_store_history(r->st, h);
	struct ps_plan_info pi;
	ps_store_info(r->st, &pi);
	ps_out_write(r->o, "[", 1);
	for (unsigned i = 0; i < n; i++) {
		int active = pi.have && pi.version == h[i].version;
		ps_out_printf(r->o, "%s{\"version\":%u,\"committed_ms\":%llu,"
			      "\"name\":", i ? "," : "", h[i].version,
			      (unsigned long long)h[i].committed_ms);
		ps_out_json_str(r->o, h[i].name);
		ps_out_printf(r->o, ",\"routes\":%u,\"rules\":%u,\"hubs\":%u,"
			      "\"active\":%s,\"origin\":", h[i].routes,
			      h[i].rules, h[i].hubs, active ? "true" : "false");
		ps_out_json_str(r->o, h[i].origin);
		ps_out_write(r->o, "}", 1);
	}
	ps_out_write(r->o, "]\n", 2);
	return PS_CTL_OK;
}

static int cmd_plan_rollback(struct req *r)
{
	if (r->a->n > 1)
		return usage(r, "plan rollback [VERSION]");
	char *end;
	unsigned long v = r->a->n ? strtoul(r->a->v[0], &end, 10) : 0;
	if (r->a->n && (*end || !r->a->v[0][0]))
		return usage(r, "plan rollback: VERSION is a number");
	struct ps_errors e;
	uint32_t nv;
	ps_errors_init(&e);
	int rc = outcome(r, ps_store_rollback(r->st, (uint32_t)v, &e, &nv), &e);
	if (!rc)
		ps_out_printf(r->o, "{\"version\":%u}\n", nv);
	return rc;
}

/* ------------------------------------------------------ staged edits */

static int cmd_begin(struct req *r)
{
	struct ps_errors e;
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	ps_errors_init(&e);
	int rc = outcome(r, ps_txn_begin(r->st, &e), &e);
	return rc ? rc : done(r);
}

static int cmd_abort(struct req *r)
{
	struct ps_errors e;
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	ps_errors_init(&e);
	int rc = outcome(r, ps_txn_abort(r->st, &e), &e);
	return rc ? rc : done(r);
}

static int cmd_edit(struct req *r)
{
	struct ps_errors e;
	if (r->a->n != 1)
		return usage(r, "edit: one plan line");
	ps_errors_init(&e);
	int rc = outcome(r, ps_txn_apply(r->st, r->a->v[0], &e), &e);
	return rc ? rc : done(r);
}

static int cmd_delete(struct req *r)
{
	static const char *const kinds[] = { "route", "rule", "hub", "default" };
	struct ps_errors e;
	if (r->a->n < 1 || r->a->n > 2)
		return usage(r, "delete: KIND [KEY]");
	for (int k = 0; k < 4; k++) {
		if (strcmp(r->a->v[0], kinds[k]))
			continue;
		ps_errors_init(&e);
		int rc = outcome(r, ps_txn_delete(r->st, (enum ps_txn_del)k,
						  r->a->n > 1 ? r->a->v[1] : "",
						  &e), &e);
		return rc ? rc : done(r);
	}
	return usage(r, "delete: KIND is route, rule, hub or default");
}

static int cmd_commit(struct req *r)
{
	struct ps_errors e;
	uint32_t v = 0;
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	ps_errors_init(&e);
	int rc = outcome(r, ps_txn_commit(r->st, &e, &v), &e);
	if (!rc)
		ps_out_printf(r->o, "{\"version\":%u}\n", v);
	return rc;
}

/* --------------------------------------------------------- route get */

static int parse_scan_args(struct req *r, struct ps_scan *sc, uint8_t *wb)
{
	const struct ps_ctl_args *a = r->a;
	char *end;
	if (a->n < 1)
		return usage(r, "route get: REGION [carrier=XY] [service=F] "
			     "[weight=G] [size=MM] [device=N] [waybill=W]");
	memset(sc, 0, sizeof(*sc));
	memset(wb, 0, PS_WAYBILL_LEN);
	memcpy(wb, "ROUTEGET0000", 12);
	sc->waybill = wb;
	sc->scan_type = PS_SCAN_INDUCT;
	sc->region = strtoull(a->v[0], &end, 10);
	if (*end || !a->v[0][0] || (sc->region &&
	    (sc->region < PS_REGION_MIN || sc->region > PS_REGION_MAX)))
		return usage(r, "route get: REGION is a 12-digit region code "
			     "(or 0)");
	for (unsigned i = 1; i < a->n; i++) {
		const char *v = strchr(a->v[i], '=');
		if (!v)
			return usage(r, "route get: options are KEY=VALUE");
		size_t k = (size_t)(v - a->v[i]);
		v++;
		unsigned long long x = strtoull(v, &end, 10);
		int num_ok = *v && !*end;
		if (!strncmp(a->v[i], "carrier", k) && k == 7 && strlen(v) == 2) {
			sc->carrier = (uint16_t)((uint8_t)v[0] << 8 | (uint8_t)v[1]);
		} else if (!strncmp(a->v[i], "service", k) && k == 7) {
			struct ps_cond c;
			char cond[64];
			const char *why;
			snprintf(cond, sizeof(cond), "service=%s", v);
			if (ps_parse_cond(cond, strlen(cond), &c, &why))
				return usage(r, why);
			sc->service |= (uint8_t)c.value;
		} else if (!strncmp(a->v[i], "weight", k) && k == 6 && num_ok &&
			   x <= UINT32_MAX) {
			sc->weight_g = (uint32_t)x;
		} else if (!strncmp(a->v[i], "size", k) && k == 4 && num_ok &&
			   x <= 65535) {
			sc->length_mm = (uint16_t)x;
		} else if (!strncmp(a->v[i], "device", k) && k == 6 && num_ok &&
			   x <= 65535) {
			sc->device = (uint16_t)x;
		} else if (!strncmp(a->v[i], "waybill", k) && k == 7 &&
			   strlen(v) <= PS_WAYBILL_LEN) {
			memset(wb, 0, PS_WAYBILL_LEN);
			memcpy(wb, v, strlen(v));
		} else {
			char msg[160];
			snprintf(msg, sizeof(msg), "route get: bad option '%s'",
				 a->v[i]);
			return usage(r, msg);
		}
	}
	return PS_CTL_OK;
}

static uint32_t dataplane_now(const struct ps_ctl_daemon *d);

static int cmd_route_get(struct req *r)
{
	struct ps_scan sc;
	uint8_t wb[PS_WAYBILL_LEN + 1] = { 0 };
	int rc = parse_scan_args(r, &sc, wb);
	if (rc)
		return rc;
	int mf_looked, mf_found;
	ps_ctl_manifest_route(r->x, &sc, &mf_looked, &mf_found);
	/* the sorter reports past their time cleared first, as a worker
	 * does before its next decision (with no traffic none has run) */
	ps_chutes_lapse((struct ps_chute_state *)ps_store_chutes(r->st),
			dataplane_now(r->x->d));
	struct ps_explain e;
	ps_store_explain(r->st, &sc, &e);
	char why[700], pf[16];
	if (!e.have_plan)
		snprintf(why, sizeof(why), "no plan is active (NO_PLAN)");
	else if (e.rule_priority >= 0)
		snprintf(why, sizeof(why), "rule %d (%s)", e.rule_priority,
			 e.rule);
	else if (e.route_digits) {
		ps_format_prefix(pf, sizeof(pf), e.route_prefix,
				 (uint8_t)e.route_digits);
		snprintf(why, sizeof(why), "route %s (longest prefix of %012llu)",
			 pf, (unsigned long long)sc.region);
	} else if (e.is_default)
		snprintf(why, sizeof(why), "the default (no route matches)");
	else
		snprintf(why, sizeof(why), "nothing: no route and no default");
	if (e.held)
		snprintf(why, sizeof(why), "the intercept list (the waybill "
			 "is held)");
	ps_out_printf(r->o, "{\"plan_version\":%u,\"have_plan\":%s,"
		      "\"held\":%s,\"decided_by\":", e.version,
		      e.have_plan ? "true" : "false",
		      e.held ? "true" : "false");
	ps_out_json_str(r->o, why);
	ps_out_printf(r->o, ",\"rule\":%d,\"route\":", e.rule_priority);
	if (e.route_digits)
		ps_out_json_str(r->o, pf);
	else
		ps_out_write(r->o, "null", 4);
	ps_out_printf(r->o, ",\"hub\":%u,\"hub_name\":", e.hub);
	ps_out_json_str(r->o, e.hub_name);
	ps_out_printf(r->o, ",\"tier\":\"%s\",\"chutes\":[",
		      ps_tier_name(e.tier));
	for (unsigned i = 0; i < e.n_chutes; i++)
		ps_out_printf(r->o, "%s{\"chute\":%u,\"enabled\":%s}",
			      i ? "," : "", e.chutes[i],
			      e.enabled[i] ? "true" : "false");
	ps_out_printf(r->o, "],\"decision\":{\"reason\":\"%s\",\"chute\":%u,"
		      "\"matched_prefix\":%llu},\"waybill\":",
		      e.have_plan ? ps_reason_name(e.d.reason) : "NO_PLAN",
		      e.d.chute, (unsigned long long)e.d.matched_prefix);
	ps_out_json_str(r->o, (const char *)wb);
	ps_ctl_manifest_route_json(r->o, &sc, mf_looked, mf_found);
	ps_out_write(r->o, "}\n", 2);
	return PS_CTL_OK;
}

/* ------------------------------------------------------------ chutes */

void ps_ctl_chutes_in_plan(struct ps_store *st, uint8_t *used)
{
	struct ps_plan_src cur;
	uint32_t v;
	memset(used, 0, 65536);
	if (ps_store_active_src(st, &cur, &v))
		return;
	for (size_t i = 0; i < cur.n_routes; i++)
		for (uint16_t k = 0; k < cur.routes[i].chutes.n; k++)
			used[ps_plan_chutes(&cur, cur.routes[i].chutes)[k]] = 1;
	for (size_t i = 0; i < cur.n_rules; i++)
		for (uint16_t k = 0; k < cur.rules[i].chutes.n; k++)
			used[ps_plan_chutes(&cur, cur.rules[i].chutes)[k]] = 1;
	if (cur.has_default)
		for (uint16_t k = 0; k < cur.default_chutes.n; k++)
			used[ps_plan_chutes(&cur, cur.default_chutes)[k]] = 1;
	used[cur.reject] = 2;
	ps_plan_src_free(&cur);
}

/* The dataplane clock (sorter reports, devices' last heard). */
static uint32_t dataplane_now(const struct ps_ctl_daemon *d)
{
	return d->dataplane_now_s ? d->dataplane_now_s(d->arg) : 0;
}

static int chute_listed(const struct ps_counters *c,
			const struct ps_loop_counters *l, const uint8_t *used,
			int en, uint8_t sorter, unsigned ch)
{
	const struct ps_chute_sort_counters *k = &l->chute[ch];
	return used[ch] || !en || sorter != PS_CHUTE_OPEN || c->chute[ch] ||
	       k->sorted || k->missorted || k->not_discharged;
}

static int cmd_chute_list(struct req *r)
{
	static struct ps_counters c;
	static struct ps_loop_counters l;
	static uint8_t used[65536];
	const struct ps_chute_state *cs = ps_store_chutes(r->st);
	uint32_t now = dataplane_now(r->x->d);
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	ps_view_counters(r->x->view, &c);
	ps_view_loop(r->x->view, &l);
	ps_ctl_chutes_in_plan(r->st, used);
	ps_out_write(r->o, "[", 1);
	int first = 1;
	for (unsigned ch = 1; ch < 65536; ch++) {
		int en = ps_chute_enabled(cs, (uint16_t)ch);
		uint32_t left = 0;
		uint8_t st = ps_chute_sorter_state(cs, (uint16_t)ch, now, &left);
		if (!chute_listed(&c, &l, used, en, st, ch))
			continue;
		const struct ps_chute_sort_counters *k = &l.chute[ch];
		ps_out_printf(r->o, "%s{\"chute\":%u,\"enabled\":%s,"
			      "\"operator\":\"%s\",\"sorter\":\"%s\","
			      "\"sorter_secs_left\":%u,\"reject\":%s,"
			      "\"in_plan\":%s,\"records\":%llu,\"decided\":%llu,"
			      "\"sorted\":%llu,\"missorted\":%llu,"
			      "\"not_discharged\":%llu,\"per_hour\":%.0f}",
			      first ? "" : ",", ch, en ? "true" : "false",
			      en ? "open" : "disabled", ps_chute_state_name(st),
			      left, used[ch] == 2 ? "true" : "false",
			      used[ch] ? "true" : "false",
			      (unsigned long long)c.chute[ch],
			      (unsigned long long)c.chute[ch],
			      (unsigned long long)k->sorted,
			      (unsigned long long)k->missorted,
			      (unsigned long long)k->not_discharged,
			      ps_view_per_hour(r->x->view, (uint16_t)ch));
		first = 0;
	}
	ps_out_write(r->o, "]\n", 2);
	return PS_CTL_OK;
}

static int cmd_chute_set(struct req *r)
{
	const struct ps_ctl_args *a = r->a;
	uint16_t ch[PS_CTL_MAX_ARGS];
	if (a->n < 2 || (strcmp(a->v[0], "enable") && strcmp(a->v[0], "disable")))
		return usage(r, "chute enable|disable N [N...]");
	int enable = !strcmp(a->v[0], "enable");
	for (unsigned i = 1; i < a->n; i++) {
		char *end;
		unsigned long v = strtoul(a->v[i], &end, 10);
		if (*end || !a->v[i][0] || v < 1 || v > 65535) {
			char msg[128];
			snprintf(msg, sizeof(msg), "chute: '%.40s' is not a "
				 "chute 1..65535", a->v[i]);
			return usage(r, msg);
		}
		ch[i - 1] = (uint16_t)v;
	}
	struct ps_errors e;
	ps_errors_init(&e);
	int rc = outcome(r, ps_store_chute_set(r->st, ch, a->n - 1, enable, &e),
			 &e);
	if (!rc)
		ps_out_printf(r->o, "{\"done\":true,\"enabled\":%s}\n",
			      enable ? "true" : "false");
	return rc;
}

/* ------------------------------------------------------------- stats */

/* ,"NAME":{"a":1,"b":2} over a counter array and its names, in order. */
static void json_counts(struct ps_out *o, const char *name,
			const char *(*label)(unsigned), const uint64_t *v,
			unsigned n)
{
	ps_out_printf(o, ",\"%s\":{", name);
	for (unsigned i = 0; i < n; i++)
		ps_out_printf(o, "%s\"%s\":%llu", i ? "," : "", label(i),
			      (unsigned long long)v[i]);
	ps_out_write(o, "}", 1);
}

/* The scalar counters of counters.h's list go where `stats` has always
 * shown them: "dedup_hits" as "hits" in the "dedup" object, "export_events"
 * as "events" in "export", the others at the top. */
static const char *const stats_groups[] = { "dedup", "export" };
#define STATS_GROUPS (sizeof(stats_groups) / sizeof(stats_groups[0]))

/* The group of a counter's name (STATS_GROUPS: none) and its key there. */
static unsigned stats_group(const char *name, const char **key)
{
	for (unsigned g = 0; g < STATS_GROUPS; g++) {
		size_t n = strlen(stats_groups[g]);
		if (!strncmp(name, stats_groups[g], n) && name[n] == '_') {
			*key = name + n + 1;
			return g;
		}
	}
	*key = name;
	return STATS_GROUPS;
}

/* "KEY":VALUE for every counter of the list in group g, comma-led after
 * the first unless *first. */
static void json_group(struct ps_out *o, const struct ps_counters *c,
		       unsigned g, int first)
{
	for (unsigned i = 0; i < PS_CNT_COUNT; i++) {
		const struct ps_counter_desc *k = &ps_counter_descs[i];
		const char *key;
		if (stats_group(k->name, &key) != g)
			continue;
		ps_out_printf(o, "%s\"%s\":%llu", first ? "" : ",", key,
			      (unsigned long long)ps_counter_value(c, k));
		first = 0;
	}
}

static int cmd_stats(struct req *r)
{
	static struct ps_counters c;
	const struct ps_ctl_daemon *dm = r->x->d;
	struct ps_export_totals et = { 0 };
	struct ps_rates rt;
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	ps_view_counters(r->x->view, &c);
	ps_view_rates(r->x->view, &rt);
	if (dm->export_totals)
		dm->export_totals(dm->arg, &et);
	double busy = c.busy_cycles + c.idle_cycles
			      ? 100.0 * (double)c.busy_cycles /
					(double)(c.busy_cycles + c.idle_cycles)
			      : 0;
	ps_out_write(r->o, "{", 1);
	json_group(r->o, &c, STATS_GROUPS, 1);
	ps_out_printf(r->o, ",\"busy_percent\":%.1f,"
		      "\"rates\":{\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
		      "\"records_per_s\":%.1f,\"drops_per_s\":%.1f}", busy,
		      rt.rx_pps, rt.tx_pps, rt.records_ps, rt.drops_ps);
	json_counts(r->o, "reasons", ps_reason_name, c.records_by_reason,
		    PS_REASON_COUNT);
	/* the sorter loop's: records held (INTERCEPTED) */
	ps_out_printf(r->o, ",\"intercepts\":%llu", (unsigned long long)
		      c.records_by_reason[PS_R_INTERCEPTED]);
	json_counts(r->o, "tiers", ps_tier_name, c.records_by_tier,
		    PS_TIER_COUNT);
	json_counts(r->o, "drops", ps_drop_name, c.drops, PS_DROP_COUNT);
	json_counts(r->o, "answered", ps_answer_name, c.answered, PS_ANS_COUNT);
	ps_out_write(r->o, ",\"dedup\":{", 10);
	json_group(r->o, &c, 0, 1);
	ps_out_printf(r->o, "},\"export\":{\"enabled\":%s",
		      dm->export_totals ? "true" : "false");
	json_group(r->o, &c, 1, 0);
	/* the exporter's own totals (struct ps_export_totals) */
	ps_out_printf(r->o, ",\"written\":%llu,\"blocks\":%llu,"
		      "\"spool_overflow\":%llu,\"spool_errors\":%llu,"
		      "\"spool_bytes\":%llu}}\n",
		      (unsigned long long)et.written,
		      (unsigned long long)et.blocks,
		      (unsigned long long)et.spool_overflow,
		      (unsigned long long)et.spool_errors,
		      (unsigned long long)et.spool_bytes);
	return PS_CTL_OK;
}

static int cmd_stats_reset(struct req *r)
{
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	ps_view_reset(r->x->view);
	return done(r);
}

/* ----------------------------------------------------------- devices */

enum dev_sort { DEV_RECORDS, DEV_NOREAD, DEV_BAD };

static const struct ps_loop_counters *dev_loop;
static enum dev_sort dev_by;

/* x as a percentage of records (0 for a device without records). */
static double dev_rate(uint64_t x, uint64_t records)
{
	return records ? 100.0 * (double)x / (double)records : 0;
}

static double dev_key(uint16_t id)
{
	const struct ps_device_counters *d = &dev_loop->device[id];
	switch (dev_by) {
	case DEV_NOREAD:
		return dev_rate(d->noread, d->records);
	case DEV_BAD:
		return dev_rate(d->bad_barcode, d->records);
	default:
		return (double)d->records;
	}
}

/* Highest first; ties by device id. */
static int dev_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	double kx = dev_key(x), ky = dev_key(y);
	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (dev_by != DEV_RECORDS) {
		uint64_t rx = dev_loop->device[x].records;
		uint64_t ry = dev_loop->device[y].records;
		if (rx != ry)
			return rx > ry ? -1 : 1;
	}
	return x < y ? -1 : x > y;
}

/* [SORT [LIMIT]]: SORT records (default), noread or bad; LIMIT 1..65536
 * (none: every device). */
static int device_args(struct req *r, enum dev_sort *by, unsigned long *limit)
{
	const struct ps_ctl_args *a = r->a;
	*by = DEV_RECORDS;
	*limit = 0;
	if (a->n > 2)
		return usage(r, "device list: [SORT [LIMIT]]");
	if (a->n >= 1) {
		if (!strcmp(a->v[0], "noread"))
			*by = DEV_NOREAD;
		else if (!strcmp(a->v[0], "bad"))
			*by = DEV_BAD;
		else if (strcmp(a->v[0], "records"))
			return usage(r, "device list: --sort is records, noread "
				     "or bad");
	}
	if (a->n == 2) {
		char *end;
		*limit = strtoul(a->v[1], &end, 10);
		if (*end || !a->v[1][0] || !*limit || *limit > 65536)
			return usage(r, "device list: --limit is 1..65536");
	}
	return PS_CTL_OK;
}

static int cmd_device_list(struct req *r)
{
	static struct ps_loop_counters l;
	static uint16_t ids[65536];
	static const char *const sorts[] = { "records", "noread", "bad" };
	enum dev_sort by;
	unsigned long limit;
	if (device_args(r, &by, &limit))
		return PS_CTL_ERR_USAGE;
	ps_view_loop(r->x->view, &l);
	uint32_t now = dataplane_now(r->x->d);
	unsigned n = 0;
	for (unsigned id = 0; id < 65536; id++)
		if (l.device[id].last_heard_s || l.device[id].records)
			ids[n++] = (uint16_t)id;
	dev_loop = &l;
	dev_by = by;
	qsort(ids, n, sizeof(ids[0]), dev_cmp);
	unsigned shown = limit && limit < n ? (unsigned)limit : n;
	ps_out_printf(r->o, "{\"count\":%u,\"shown\":%u,\"sort\":\"%s\","
		      "\"devices\":[", n, shown, sorts[by]);
	for (unsigned i = 0; i < shown; i++) {
		const struct ps_device_counters *d = &l.device[ids[i]];
		ps_out_printf(r->o, "%s{\"device\":%u,\"records\":%llu,"
			      "\"noread\":%llu,\"noread_percent\":%.2f,"
			      "\"bad_barcode\":%llu,\"bad_percent\":%.2f,"
			      "\"malformed\":%llu,\"duplicates\":%llu,"
			      "\"manifest_resolved\":%llu,"
			      "\"manifest_missed\":%llu,"
			      "\"last_heard_s_ago\":", i ? "," : "", ids[i],
			      (unsigned long long)d->records,
			      (unsigned long long)d->noread,
			      dev_rate(d->noread, d->records),
			      (unsigned long long)d->bad_barcode,
			      dev_rate(d->bad_barcode, d->records),
			      (unsigned long long)d->malformed,
			      (unsigned long long)d->duplicates,
			      (unsigned long long)d->manifest_resolved,
			      (unsigned long long)d->manifest_missed);
		if (d->last_heard_s)
			ps_out_printf(r->o, "%llu}", (unsigned long long)
				      (now + 1 >= d->last_heard_s
					       ? now + 1 - d->last_heard_s : 0));
		else
			ps_out_write(r->o, "null}", 5);
	}
	ps_out_write(r->o, "]}\n", 3);
	return PS_CTL_OK;
}

/* ------------------------------------------------------------- holds */

/* The waybills v[from..n) as a sorted list (note for each); a bad one
 * is a usage error naming it, and nothing is changed. */
static int hold_args(struct req *r, unsigned from, const char *note,
		     const char *cmd, struct ps_hold_list *l)
{
	ps_hold_list_init(l);
	if (r->a->n <= from)
		return usage(r, "hold: at least one WAYBILL");
	for (unsigned i = from; i < r->a->n; i++) {
		uint8_t wb[PS_HOLD_WAYBILL];
		const char *why;
		if (ps_hold_waybill(r->a->v[i], r->a->len[i], wb, &why)) {
			char msg[160];
			snprintf(msg, sizeof(msg), "%s: '%.40s': %s", cmd,
				 r->a->v[i], why);
			ps_hold_list_free(l);
			return usage(r, msg);
		}
		ps_hold_list_append(l, wb, note, note ? strlen(note) : 0);
	}
	ps_hold_list_sort(l);
	if (l->oom) {
		ps_hold_list_free(l);
		return fail(r, PS_CTL_ERR_INTERNAL, "out of memory");
	}
	return PS_CTL_OK;
}

static void hold_revision(struct req *r, uint64_t rev, const char *extra)
{
	struct ps_holds_info hi;
	ps_store_holds_info(r->st, &hi);
	ps_out_printf(r->o, "{\"revision\":%llu,\"count\":%zu%s}\n",
		      (unsigned long long)rev, hi.count, extra);
}

/* NOTE ("" for none) WAYBILL... */
static int cmd_hold_add(struct req *r)
{
	struct ps_hold_list l;
	struct ps_errors e;
	uint64_t rev;
	if (r->a->n < 2)
		return usage(r, "hold add: NOTE WAYBILL...");
	if (ps_hold_note_ok(r->a->v[0], r->a->len[0]))
		return usage(r, "hold add: --note takes up to 100 printable "
			     "ASCII characters");
	/* without the blanks at its ends, as the saved list gives it back
	 * after a restart (a hold file's note is trimmed) */
	char note[PS_HOLD_NOTE_MAX + 1];
	const char *n0 = r->a->v[0];
	size_t nl = r->a->len[0];
	while (nl && *n0 == ' ') {
		n0++;
		nl--;
	}
	while (nl && n0[nl - 1] == ' ')
		nl--;
	memcpy(note, n0, nl);
	note[nl] = 0;
	int rc = hold_args(r, 1, note, "hold add", &l);
	if (rc)
		return rc;
	ps_errors_init(&e);
	rc = outcome(r, ps_store_hold_add(r->st, &l, &e, &rev), &e);
	ps_hold_list_free(&l);
	if (!rc)
		hold_revision(r, rev, "");
	return rc;
}

static int cmd_hold_del(struct req *r)
{
	struct ps_hold_list l;
	struct ps_errors e;
	uint64_t rev;
	size_t removed = 0;
	int rc = hold_args(r, 0, NULL, "hold del", &l);
	if (rc)
		return rc;
	ps_errors_init(&e);
	rc = outcome(r, ps_store_hold_del(r->st, &l, &removed, &e, &rev), &e);
	if (!rc) {
		char extra[64];
		snprintf(extra, sizeof(extra), ",\"removed\":%zu,\"not_held\":%zu",
			 removed, l.n - removed);
		hold_revision(r, rev, extra);
	}
	ps_hold_list_free(&l);
	return rc;
}

/* [LIMIT [AFTER]] */
static int cmd_hold_list(struct req *r)
{
	const struct ps_ctl_args *a = r->a;
	unsigned long limit = PS_CTL_HOLD_LIST_DEFAULT;
	uint8_t after[PS_HOLD_WAYBILL];
	char *end;
	if (a->n > 2)
		return usage(r, "hold list: [LIMIT [AFTER]]");
	if (a->n >= 1) {
		limit = strtoul(a->v[0], &end, 10);
		if (*end || !a->v[0][0] || limit > PS_CTL_HOLD_LIST_MAX)
			return usage(r, "hold list: --limit is 0..100000");
	}
	if (a->n == 2) {
		if (a->len[1] > PS_HOLD_WAYBILL)
			return usage(r, "hold list: --after is a waybill");
		memset(after, 0, sizeof(after));
		memcpy(after, a->v[1], a->len[1]);
	}
	struct ps_hold_list page;
	struct ps_holds_info hi;
	int more = ps_store_hold_page(r->st, a->n == 2 ? after : NULL, limit,
				      &page, &hi);
	if (page.oom) {
		ps_hold_list_free(&page);
		return fail(r, PS_CTL_ERR_INTERNAL, "out of memory");
	}
	ps_out_printf(r->o, "{\"revision\":%llu,\"count\":%zu,"
		      "\"changed_ms\":%llu,\"loading\":%s,\"holds\":[",
		      (unsigned long long)hi.revision, hi.count,
		      (unsigned long long)hi.changed_ms,
		      hi.loading ? "true" : "false");
	char wb[PS_HOLD_WAYBILL + 1];
	for (size_t i = 0; i < page.n; i++) {
		snprintf(wb, sizeof(wb), "%.24s", (const char *)page.e[i].wb);
		ps_out_write(r->o, i ? ",{\"waybill\":" : "{\"waybill\":",
			     i ? 12 : 11);
		ps_out_json_str(r->o, wb);
		ps_out_write(r->o, ",\"note\":", 8);
		ps_out_json_str(r->o, ps_hold_note(&page, i));
		ps_out_write(r->o, "}", 1);
	}
	ps_out_write(r->o, "],\"next\":", 9);
	/* more after this page: the cursor for the next one */
	if (page.n && more) {
		snprintf(wb, sizeof(wb), "%.24s",
			 (const char *)page.e[page.n - 1].wb);
		ps_out_json_str(r->o, wb);
	} else {
		ps_out_write(r->o, "null", 4);
	}
	ps_out_write(r->o, "}\n", 2);
	ps_hold_list_free(&page);
	return PS_CTL_OK;
}

static int token_arg(struct req *r, unsigned i, uint64_t *token)
{
	char *end;
	*token = strtoull(r->a->v[i], &end, 10);
	return *end || !r->a->v[i][0]
		       ? usage(r, "hold load: TOKEN is a number") : PS_CTL_OK;
}

/* begin NAME | part TOKEN FIRST_LINE TEXT | commit TOKEN | abort TOKEN */
static int cmd_hold_load(struct req *r)
{
	const struct ps_ctl_args *a = r->a;
	struct ps_errors e;
	uint64_t token;
	if (a->n == 2 && !strcmp(a->v[0], "begin")) {
		if (!ps_ctl_printable(a->v[1], a->len[1], PS_CTL_MAX_NAME))
			return usage(r, "hold load: NAME must be 1..255 "
				     "printable characters");
		if (ps_store_hold_load_begin(r->st, a->v[1], &token))
			return fail(r, PS_CTL_ERR_INTERNAL, "out of memory");
		ps_out_printf(r->o, "{\"token\":\"%llu\"}\n",
			      (unsigned long long)token);
		return PS_CTL_OK;
	}
	if (a->n == 4 && !strcmp(a->v[0], "part")) {
		char *end;
		unsigned long first = strtoul(a->v[2], &end, 10);
		size_t lines = 0;
		if (token_arg(r, 1, &token))
			return PS_CTL_ERR_USAGE;
		if (*end || first < 1 || first > UINT32_MAX / 2)
			return usage(r, "hold load: FIRST_LINE is a line number");
		ps_errors_init(&e);
		int rc = outcome(r, ps_store_hold_load_part(r->st, token,
			a->v[3], a->len[3], (uint32_t)first, &lines, &e), &e);
		if (!rc)
			ps_out_printf(r->o, "{\"lines\":%zu}\n", lines);
		return rc;
	}
	if (a->n == 2 && !strcmp(a->v[0], "commit")) {
		uint64_t rev;
		size_t count = 0;
		if (token_arg(r, 1, &token))
			return PS_CTL_ERR_USAGE;
		ps_errors_init(&e);
		int rc = outcome(r, ps_store_hold_load_commit(r->st, token, &e,
							       &rev, &count), &e);
		if (!rc)
			ps_out_printf(r->o, "{\"revision\":%llu,\"count\":%zu}\n",
				      (unsigned long long)rev, count);
		return rc;
	}
	if (a->n == 2 && !strcmp(a->v[0], "abort")) {
		if (token_arg(r, 1, &token))
			return PS_CTL_ERR_USAGE;
		ps_store_hold_load_abort(r->st, token);
		return done(r);
	}
	return usage(r, "hold load: begin NAME | part TOKEN FIRST_LINE TEXT | "
		     "commit TOKEN | abort TOKEN");
}

static int cmd_hold_clear(struct req *r)
{
	struct ps_hold_list empty;
	struct ps_errors e;
	uint64_t rev;
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	ps_hold_list_init(&empty);
	ps_errors_init(&e);
	int rc = outcome(r, ps_store_hold_replace(r->st, &empty, &e, &rev), &e);
	ps_hold_list_free(&empty);
	if (!rc)
		hold_revision(r, rev, "");
	return rc;
}

/* ----------------------------------------------------------- capture */

static int no_capture(struct req *r)
{
	return fail(r, PS_CTL_ERR_REFUSED, "capture: not available in this "
		    "daemon");
}

static int capture_answer(struct req *r)
{
	ps_capture_status_json(r->x->d->capture, r->o);
	ps_out_write(r->o, "\n", 1);
	return PS_CTL_OK;
}

/* One number of `capture start`: 0..max, decimal digits only (strtoull
 * alone would take a sign and leading blanks). */
static int capture_number(struct req *r, unsigned i, uint32_t max,
			  const char *what, uint32_t *v)
{
	char *end, msg[128];
	const char *s = r->a->v[i];
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (*end || s[0] < '0' || s[0] > '9' || errno || x > max) {
		snprintf(msg, sizeof(msg), "capture start: %s must be a number "
			 "0..%u", what, max);
		return usage(r, msg);
	}
	*v = (uint32_t)x;
	return PS_CTL_OK;
}

/* FILE DURATION_S MAX_MB SAMPLE_K (parcelsortctl sends all four) */
static int cmd_capture_start(struct req *r)
{
	const struct ps_ctl_args *a = r->a;
	struct ps_capture_opts co = { 0 };
	char err[512];
	if (!r->x->d->capture)
		return no_capture(r);
	if (a->n != 4)
		return usage(r, "capture start: FILE DURATION_S MAX_MB SAMPLE_K");
	if (!ps_ctl_printable(a->v[0], a->len[0], 4095))
		return usage(r, "capture start: FILE must be 1..4095 printable "
			     "characters");
	co.path = a->v[0];
	if (capture_number(r, 1, PS_CAPTURE_MAX_DURATION_S, "DURATION_S",
			   &co.duration_s) ||
	    capture_number(r, 2, PS_CAPTURE_MAX_MB_LIMIT, "MAX_MB",
			   &co.max_mb) ||
	    capture_number(r, 3, PS_CAPTURE_MAX_SAMPLE, "SAMPLE_K",
			   &co.sample))
		return PS_CTL_ERR_USAGE;
	int rc = ps_capture_start(r->x->d->capture, &co, err, sizeof(err));
	if (rc)
		return fail(r, rc == PS_CAPTURE_BAD_OPTION ? PS_CTL_ERR_USAGE
							   : PS_CTL_ERR_REFUSED,
			    err);
	return capture_answer(r);
}

static int cmd_capture_stop(struct req *r)
{
	char err[512];
	if (!r->x->d->capture)
		return no_capture(r);
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	if (ps_capture_stop(r->x->d->capture, err, sizeof(err)))
		return fail(r, PS_CTL_ERR_REFUSED, err);
	return capture_answer(r);
}

static int cmd_capture_status(struct req *r)
{
	if (!r->x->d->capture)
		return no_capture(r);
	if (no_args(r))
		return PS_CTL_ERR_USAGE;
	return capture_answer(r);
}

/* ---------------------------------------------------------- manifest */

#define MANIFEST_CMD(fn) \
	static int cmd_manifest_##fn(struct req *r) \
	{ \
		return ps_ctl_manifest_##fn(r->x, r->a, r->o); \
	}
MANIFEST_CMD(load)
MANIFEST_CMD(add)
MANIFEST_CMD(del)
MANIFEST_CMD(get)
MANIFEST_CMD(stats)
#undef MANIFEST_CMD

/* ---------------------------------------------------------- dispatch */

static handler_fn *const handlers[PS_CTL_CMD_MAX] = {
#define ROW(id, fn, access, name, forms, help) [PS_CTL_##id] = cmd_##fn,
	PS_CTL_COMMANDS(ROW)
#undef ROW
};

int ps_ctl_run(const struct ps_ctl_ctx *x, unsigned cmd, const uint8_t *body,
	       size_t len, struct ps_out *o)
{
	struct ps_ctl_args a;
	const char *why;
	struct req r = { x, x->d->store, &a, o };
	if (ps_ctl_args_parse(body, len, &a, &why))
		return usage(&r, why);
	if (cmd < 1 || cmd >= PS_CTL_CMD_MAX)
		return usage(&r, "unknown command");
	return handlers[cmd](&r);
}
