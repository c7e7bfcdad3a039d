/* ctl_cmds.c: the control commands: status, plans (load, diff, show,
 * history, rollback), staged edits, route get, chutes, stats. Each writes
 * its answer as text or JSON and returns a status (ctl_proto.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_server.h"
#include "plan_diff.h"

#define VERSION_STRING PARCELSORT_VERSION

struct req {
	struct ps_ctl_server *s;
	struct ps_store *st;
	const struct ps_ctl_args *a;
	int json;
	struct ps_out *o;
};

static int usage(struct req *r, const char *msg)
{
	ps_out_printf(r->o, "%s\n", msg);
	return PS_CTL_ERR_USAGE;
}

/* Every error of errs, one per line; in JSON an object with the list. */
static int refused(struct req *r, const struct ps_errors *e)
{
	if (r->json) {
		ps_out_write(r->o, "{\"errors\":[", 11);
		for (size_t i = 0; i < e->n; i++) {
			if (i)
				ps_out_write(r->o, ",", 1);
			ps_out_json_str(r->o, e->msg[i]);
		}
		ps_out_printf(r->o, "],\"more\":%zu}\n", e->dropped);
	} else {
		for (size_t i = 0; i < e->n; i++)
			ps_out_printf(r->o, "%s\n", e->msg[i]);
		if (e->dropped)
			ps_out_printf(r->o, "... and %zu more errors\n",
				      e->dropped);
	}
	return PS_CTL_ERR_REFUSED;
}

static void fmt_time(char *buf, size_t n, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static int done(struct req *r, const char *text, const char *json_fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int done(struct req *r, const char *text, const char *json_fmt, ...)
{
	if (r->json) {
		va_list ap;
		char buf[1024];
		va_start(ap, json_fmt);
		vsnprintf(buf, sizeof(buf), json_fmt, ap);
		va_end(ap);
		ps_out_printf(r->o, "%s\n", buf);
	} else {
		ps_out_printf(r->o, "%s\n", text);
	}
	return PS_CTL_OK;
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

static int cmd_status(struct req *r)
{
	const struct ps_ctl_daemon *d = ps_ctl_daemon(r->s);
	struct ps_rates rt;
	ps_ctl_rates(r->s, &rt);
	struct ps_plan_info pi;
	ps_store_info(r->st, &pi);
	uint64_t up = (ps_now_ms() - d->start_ms) / 1000, at;
	size_t alloc, res, plan_bytes = pi.bytes;
	char when[64] = "", sname[64] = "";
	jemalloc_stats(&alloc, &res);
	int sched = ps_store_scheduled(r->st, &at, sname, sizeof(sname));
	if (pi.have)
		fmt_time(when, sizeof(when), pi.committed_ms);
	if (r->json) {
		ps_out_printf(r->o, "{\"version\":\"%s\",\"uptime_s\":%llu,"
			      "\"workers\":%u,\"ports\":", VERSION_STRING,
			      (unsigned long long)up, d->n_workers);
		d->describe_ports(d->arg, r->o, 1);
		ps_out_write(r->o, ",\"plan\":", 8);
		if (pi.have) {
			ps_out_printf(r->o, "{\"name\":");
			ps_out_json_str(r->o, pi.name);
			ps_out_printf(r->o, ",\"version\":%u,\"committed_ms\":%llu,"
				      "\"origin\":", pi.version,
				      (unsigned long long)pi.committed_ms);
			ps_out_json_str(r->o, pi.origin);
			ps_out_printf(r->o, ",\"bytes\":%zu}", plan_bytes);
		} else {
			ps_out_write(r->o, "null", 4);
		}
		ps_out_printf(r->o, ",\"scheduled\":");
		if (sched) {
			ps_out_printf(r->o, "{\"name\":");
			ps_out_json_str(r->o, sname);
			ps_out_printf(r->o, ",\"at_ms\":%llu}", (unsigned long long)at);
		} else {
			ps_out_write(r->o, "null", 4);
		}
		ps_out_printf(r->o, ",\"rates\":{\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
			      "\"records_per_s\":%.1f,\"drops_per_s\":%.1f},"
			      "\"memory\":{\"jemalloc_allocated\":%zu,"
			      "\"jemalloc_resident\":%zu,\"dedup_bytes\":%llu},"
			      "\"dedup\":{\"window_s\":%u,\"capacity\":%llu},"
			      "\"transaction_open\":%s}\n",
			      rt.rx_pps, rt.tx_pps, rt.records_ps, rt.drops_ps,
			      alloc, res, (unsigned long long)d->dedup_bytes,
			      d->dedup_window,
			      (unsigned long long)d->dedup_capacity,
			      ps_txn_open(r->st) ? "true" : "false");
		return PS_CTL_OK;
	}
	ps_out_printf(r->o, "parcelsortd %s, up %lluh %02llum %02llus, %u "
		      "worker%s\n", VERSION_STRING,
		      (unsigned long long)(up / 3600),
		      (unsigned long long)(up / 60 % 60),
		      (unsigned long long)(up % 60), d->n_workers,
		      d->n_workers == 1 ? "" : "s");
	d->describe_ports(d->arg, r->o, 0);
	if (pi.have)
		ps_out_printf(r->o, "plan:      %s v%u, committed %s (%s), "
			      "%.1f MB\n", pi.name, pi.version, when,
			      pi.origin[0] ? pi.origin : "?",
			      plan_bytes / 1048576.0);
	else
		ps_out_printf(r->o, "plan:      none (every sortable record "
			      "gets NO_PLAN)\n");
	if (sched) {
		char t[64];
		fmt_time(t, sizeof(t), at);
		ps_out_printf(r->o, "scheduled: %s at %s\n", sname, t);
	}
	if (ps_txn_open(r->st))
		ps_out_printf(r->o, "staged:    a transaction is open "
			      "(commit or abort)\n");
	ps_out_printf(r->o, "rates:     rx %.3f Mpps, tx %.3f Mpps, %.3f M "
		      "records/s, %.0f drops/s\n", rt.rx_pps / 1e6,
		      rt.tx_pps / 1e6, rt.records_ps / 1e6, rt.drops_ps);
	ps_out_printf(r->o, "memory:    jemalloc %.1f MB allocated, %.1f MB "
		      "resident; duplicate window %.0f MB (%llu waybills, "
		      "%u s)\n", alloc / 1048576.0, res / 1048576.0,
		      (double)d->dedup_bytes / 1048576.0,
		      (unsigned long long)d->dedup_capacity, d->dedup_window);
	return PS_CTL_OK;
}

/* ------------------------------------------------------------- plans */

static int printable(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int cmd_plan_load(struct req *r)
{
	const struct ps_ctl_args *a = r->a;
	if (a->n < 2 || a->n > 4)
		return usage(r, "plan load: NAME TEXT [AT_MS [ORIGIN]]");
	uint64_t at = a->n >= 3 ? strtoull(a->v[2], NULL, 10) : 0;
	const char *origin = a->n == 4 ? a->v[3] : NULL;
	if (origin && !printable(origin, 100))
		return usage(r, "plan load: ORIGIN must be 1..100 printable "
			     "characters");
	struct ps_errors e;
	uint32_t v;
	ps_errors_init(&e);
	int rc = ps_store_load_text_as(r->st, a->v[1], a->len[1], a->v[0],
				       origin, at, &e, &v);
	if (rc) {
		rc = refused(r, &e);
		ps_errors_free(&e);
		return rc;
	}
	ps_errors_free(&e);
	if (v == 0) {
		char t[64];
		fmt_time(t, sizeof(t), at);
		if (r->json)
			ps_out_printf(r->o, "{\"scheduled_at_ms\":%llu}\n",
				      (unsigned long long)at);
		else
			ps_out_printf(r->o, "scheduled: takes effect at %s\n", t);
		return PS_CTL_OK;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "committed version %u", v);
	return done(r, msg, "{\"version\":%u}", v);
}

static int cmd_plan_diff(struct req *r)
{
	if (r->a->n != 2)
		return usage(r, "plan diff: NAME TEXT");
	struct ps_plan_src cur, neu;
	struct ps_errors e;
	uint32_t v = 0;
	ps_errors_init(&e);
	ps_plan_src_init(&neu);
	if (ps_plan_parse(&neu, r->a->v[1], r->a->len[1], r->a->v[0], &e)) {
		int rc = refused(r, &e);
		ps_errors_free(&e);
		ps_plan_src_free(&neu);
		return rc;
	}
	ps_errors_free(&e);
	if (ps_store_active_src(r->st, &cur, &v))
		ps_plan_src_init(&cur);   /* no plan: everything is added */
	long n = ps_plan_diff(&cur, &neu, r->o, r->json);
	if (r->json)
		ps_out_write(r->o, "\n", 1);
	else if (n == 0)
		ps_out_printf(r->o, "no difference from the active plan "
			      "(v%u)\n", v);
	else
		ps_out_printf(r->o, "%ld difference%s from the active plan "
			      "(v%u)\n", n, n == 1 ? "" : "s", v);
	ps_plan_src_free(&cur);
	ps_plan_src_free(&neu);
	return n < 0 ? PS_CTL_ERR_INTERNAL : PS_CTL_OK;
}

static int cmd_plan_show(struct req *r)
{
	struct ps_plan_src cur;
	uint32_t v;
	if (ps_store_active_src(r->st, &cur, &v)) {
		ps_out_printf(r->o, "no plan is active\n");
		return PS_CTL_ERR_REFUSED;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		if (!r->json)
			fprintf(f, "# active plan, version %u\n", v);
		ps_plan_write(&cur, f);
		fclose(f);
	}
	if (r->json) {
		ps_out_printf(r->o, "{\"version\":%u,\"text\":", v);
		ps_out_json_str(r->o, buf ? buf : "");
		ps_out_write(r->o, "}\n", 2);
	} else if (buf) {
		ps_out_write(r->o, buf, len);
	}
	free(buf);
	ps_plan_src_free(&cur);
	return PS_CTL_OK;
}

static int cmd_plan_history(struct req *r)
{
	struct ps_history_entry h[PS_HISTORY];
	unsigned n = ps_store_history(r->st, h);
	struct ps_plan_info pi;
	ps_store_info(r->st, &pi);
	if (r->json)
		ps_out_write(r->o, "[", 1);
	else
		ps_out_printf(r->o, "%-8s %-20s %-24s %8s %6s %5s  %s\n",
			      "version", "committed", "name", "routes", "rules",
			      "hubs", "origin");
	for (unsigned i = 0; i < n; i++) {
		char t[64];
		fmt_time(t, sizeof(t), h[i].committed_ms);
		int active = pi.have && pi.version == h[i].version;
		if (r->json) {
			ps_out_printf(r->o, "%s{\"version\":%u,\"committed_ms\":"
				      "%llu,\"name\":", i ? "," : "",
				      h[i].version,
				      (unsigned long long)h[i].committed_ms);
			ps_out_json_str(r->o, h[i].name);
			ps_out_printf(r->o, ",\"routes\":%u,\"rules\":%u,\"hubs\":"
				      "%u,\"active\":%s,\"origin\":",
				      h[i].routes, h[i].rules, h[i].hubs,
				      active ? "true" : "false");
			ps_out_json_str(r->o, h[i].origin);
			ps_out_write(r->o, "}", 1);
		} else {
			ps_out_printf(r->o, "%c%-7u %-20s %-24s %8u %6u %5u  %s\n",
				      active ? '*' : ' ', h[i].version, t,
				      h[i].name, h[i].routes, h[i].rules,
				      h[i].hubs, h[i].origin);
		}
	}
	if (r->json)
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
	if (ps_store_rollback(r->st, (uint32_t)v, &e, &nv)) {
		int rc = refused(r, &e);
		ps_errors_free(&e);
		return rc;
	}
	ps_errors_free(&e);
	char msg[128];
	snprintf(msg, sizeof(msg), "committed version %u (the content of an "
		 "earlier plan)", nv);
	return done(r, msg, "{\"version\":%u}", nv);
}

/* ------------------------------------------------------ staged edits */

static int txn_result(struct req *r, int rc, struct ps_errors *e,
		      const char *ok)
{
	if (rc) {
		rc = refused(r, e);
		ps_errors_free(e);
		return rc;
	}
	ps_errors_free(e);
	return done(r, ok, "{\"done\":true}");
}

static int cmd_txn(struct req *r, uint16_t cmd)
{
	struct ps_errors e;
	ps_errors_init(&e);
	uint32_t v = 0;
	switch (cmd) {
	case PS_CTL_BEGIN:
		return txn_result(r, ps_txn_begin(r->st, &e), &e,
				  "transaction open: stage edits, then commit "
				  "or abort");
	case PS_CTL_ABORT:
		return txn_result(r, ps_txn_abort(r->st, &e), &e,
				  "staged edits thrown away");
	case PS_CTL_EDIT:
		if (r->a->n != 1)
			return usage(r, "edit: one plan line");
		return txn_result(r, ps_txn_apply(r->st, r->a->v[0], &e), &e,
				  "staged");
	case PS_CTL_DELETE: {
		static const char *const kinds[] = { "route", "rule", "hub",
						     "default" };
		if (r->a->n < 1 || r->a->n > 2)
			return usage(r, "delete: KIND [KEY]");
		for (int k = 0; k < 4; k++)
			if (!strcmp(r->a->v[0], kinds[k]))
				return txn_result(
					r, ps_txn_delete(r->st, (enum ps_txn_del)k,
							 r->a->n > 1 ? r->a->v[1] : "",
							 &e),
					&e, "staged");
		return usage(r, "delete: KIND is route, rule, hub or default");
	}
	default: {
		int rc = ps_txn_commit(r->st, &e, &v);
		if (rc)
			return txn_result(r, rc, &e, "");
		ps_errors_free(&e);
		char msg[64];
		snprintf(msg, sizeof(msg), "committed version %u", v);
		return done(r, msg, "{\"version\":%u}", v);
	}
	}
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

static int cmd_route_get(struct req *r)
{
	struct ps_scan sc;
	uint8_t wb[PS_WAYBILL_LEN + 1] = { 0 };
	int rc = parse_scan_args(r, &sc, wb);
	if (rc)
		return rc;
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
	if (r->json) {
		ps_out_printf(r->o, "{\"plan_version\":%u,\"decided_by\":",
			      e.version);
		ps_out_json_str(r->o, why);
		ps_out_printf(r->o, ",\"rule\":%d,\"route\":", e.rule_priority);
		if (e.route_digits) {
			ps_out_json_str(r->o, pf);
		} else {
			ps_out_write(r->o, "null", 4);
		}
		ps_out_printf(r->o, ",\"hub\":%u,\"hub_name\":", e.hub);
		ps_out_json_str(r->o, e.hub_name);
		ps_out_printf(r->o, ",\"tier\":\"%s\",\"chutes\":[",
			      ps_tier_name(e.tier));
		for (unsigned i = 0; i < e.n_chutes; i++)
			ps_out_printf(r->o, "%s{\"chute\":%u,\"enabled\":%s}",
				      i ? "," : "", e.chutes[i],
				      e.enabled[i] ? "true" : "false");
		ps_out_printf(r->o, "],\"decision\":{\"reason\":\"%s\","
			      "\"chute\":%u,\"matched_prefix\":%llu}}\n",
			      e.have_plan ? ps_reason_name(e.d.reason) : "NO_PLAN",
			      e.d.chute, (unsigned long long)e.d.matched_prefix);
		return PS_CTL_OK;
	}
	ps_out_printf(r->o, "decided by: %s\n", why);
	if (e.have_plan && e.hub)
		ps_out_printf(r->o, "next hop:   hub %u (%s), %s\n", e.hub,
			      e.hub_name, ps_tier_name(e.tier));
	if (e.n_chutes) {
		ps_out_printf(r->o, "chutes:    ");
		for (unsigned i = 0; i < e.n_chutes; i++)
			ps_out_printf(r->o, " %u%s", e.chutes[i],
				      e.enabled[i] ? "" : " (disabled)");
		ps_out_write(r->o, "\n", 1);
	}
	if (e.have_plan)
		ps_out_printf(r->o, "decision:   %s, chute %u (plan v%u, for "
			      "waybill %s)\n", ps_reason_name(e.d.reason),
			      e.d.chute, e.version, (char *)wb);
	return PS_CTL_OK;
}

/* ------------------------------------------------------------ chutes */

static int cmd_chute_list(struct req *r)
{
	static struct ps_counters c;
	static uint8_t used[65536];
	struct ps_plan_src cur;
	uint32_t v;
	const struct ps_chute_state *cs = ps_store_chutes(r->st);
	ps_ctl_counters(r->s, &c);
	memset(used, 0, sizeof(used));
	if (ps_store_active_src(r->st, &cur, &v) == 0) {
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
	if (r->json)
		ps_out_write(r->o, "[", 1);
	else
		ps_out_printf(r->o, "%-6s %-9s %14s\n", "chute", "state",
			      "records");
	int first = 1;
	for (unsigned ch = 1; ch < 65536; ch++) {
		int en = ps_chute_enabled(cs, (uint16_t)ch);
		if (!used[ch] && en && !c.chute[ch])
			continue;
		const char *state = en ? "enabled" : "disabled";
		if (r->json) {
			ps_out_printf(r->o, "%s{\"chute\":%u,\"enabled\":%s,"
				      "\"reject\":%s,\"in_plan\":%s,"
				      "\"records\":%llu}", first ? "" : ",",
				      ch, en ? "true" : "false",
				      used[ch] == 2 ? "true" : "false",
				      used[ch] ? "true" : "false",
				      (unsigned long long)c.chute[ch]);
		} else {
			ps_out_printf(r->o, "%-6u %-9s %14llu%s%s\n", ch, state,
				      (unsigned long long)c.chute[ch],
				      used[ch] == 2 ? "  reject" : "",
				      used[ch] ? "" : "  (not in the plan)");
		}
		first = 0;
	}
	if (r->json)
		ps_out_write(r->o, "]\n", 2);
	return PS_CTL_OK;
}

static int cmd_chute_set(struct req *r)
{
	const struct ps_ctl_args *a = r->a;
	uint16_t ch[PS_CTL_MAX_ARGS];
	int enable;
	if (a->n < 2 || (strcmp(a->v[0], "enable") && strcmp(a->v[0], "disable")))
		return usage(r, "chute enable|disable N [N...]");
	enable = !strcmp(a->v[0], "enable");
	for (unsigned i = 1; i < a->n; i++) {
		char *end;
		unsigned long v = strtoul(a->v[i], &end, 10);
		if (*end || !a->v[i][0] || v < 1 || v > 65535) {
			char msg[128];
			snprintf(msg, sizeof(msg), "chute: '%s' is not a chute "
				 "1..65535", a->v[i]);
			return usage(r, msg);
		}
		ch[i - 1] = (uint16_t)v;
	}
	struct ps_errors e;
	ps_errors_init(&e);
	int rc = ps_store_chute_set(r->st, ch, a->n - 1, enable, &e);
	if (rc) {
		rc = refused(r, &e);
		ps_errors_free(&e);
		return rc;
	}
	ps_errors_free(&e);
	return done(r, enable ? "enabled" : "disabled", "{\"done\":true}");
}

/* ------------------------------------------------------------- stats */

/* "NAME":{"a":1,"b":2} over a counter array and its names. */
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

static int cmd_stats(struct req *r)
{
	static struct ps_counters c;
	struct ps_rates rt;
	ps_ctl_counters(r->s, &c);
	ps_ctl_rates(r->s, &rt);
	struct ps_export_totals et = { 0 };
	const struct ps_ctl_daemon *dm = ps_ctl_daemon(r->s);
	if (dm->export_totals)
		dm->export_totals(dm->arg, &et);
	uint64_t drops = 0;
	for (int i = 0; i < PS_DROP_COUNT; i++)
		drops += c.drops[i];
	double busy = c.busy_cycles + c.idle_cycles
			      ? 100.0 * c.busy_cycles /
					(double)(c.busy_cycles + c.idle_cycles)
			      : 0;
	if (r->json) {
		ps_out_printf(r->o, "{\"rx_frames\":%llu,\"rx_bytes\":%llu,"
			      "\"tx_frames\":%llu,\"tx_bytes\":%llu,"
			      "\"records\":%llu,\"busy_percent\":%.1f,"
			      "\"rates\":{\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
			      "\"records_per_s\":%.1f,\"drops_per_s\":%.1f}",
			      (unsigned long long)c.rx_frames,
			      (unsigned long long)c.rx_bytes,
			      (unsigned long long)c.tx_frames,
			      (unsigned long long)c.tx_bytes,
			      (unsigned long long)c.records, busy, rt.rx_pps,
			      rt.tx_pps, rt.records_ps, rt.drops_ps);
		json_counts(r->o, "reasons", ps_reason_name,
			    c.records_by_reason, PS_REASON_COUNT);
		json_counts(r->o, "tiers", ps_tier_name, c.records_by_tier,
			    PS_TIER_COUNT);
		json_counts(r->o, "drops", ps_drop_name, c.drops, PS_DROP_COUNT);
		json_counts(r->o, "answered", ps_answer_name, c.answered,
			    PS_ANS_COUNT);
		ps_out_printf(r->o, ",\"dedup\":{\"inserts\":%llu,\"hits\":%llu,"
			      "\"evictions\":%llu,\"busy\":%llu},"
			      "\"export\":{\"events\":%llu,\"dropped\":%llu,"
			      "\"written\":%llu,\"blocks\":%llu,"
			      "\"spool_overflow\":%llu,\"spool_errors\":%llu,"
			      "\"spool_bytes\":%llu}}\n",
			      (unsigned long long)c.dedup_inserts,
			      (unsigned long long)c.dedup_hits,
			      (unsigned long long)c.dedup_evictions,
			      (unsigned long long)c.dedup_busy,
			      (unsigned long long)c.export_events,
			      (unsigned long long)c.export_dropped,
			      (unsigned long long)et.written,
			      (unsigned long long)et.blocks,
			      (unsigned long long)et.spool_overflow,
			      (unsigned long long)et.spool_errors,
			      (unsigned long long)et.spool_bytes);
		return PS_CTL_OK;
	}
	ps_out_printf(r->o, "rates     rx %.3f Mpps  tx %.3f Mpps  %.3f M "
		      "records/s  %.0f drops/s  workers %.1f%% busy\n",
		      rt.rx_pps / 1e6, rt.tx_pps / 1e6, rt.records_ps / 1e6,
		      rt.drops_ps, busy);
	ps_out_printf(r->o, "frames    rx %llu (%llu bytes)  tx %llu (%llu "
		      "bytes)  dropped %llu\n", (unsigned long long)c.rx_frames,
		      (unsigned long long)c.rx_bytes,
		      (unsigned long long)c.tx_frames,
		      (unsigned long long)c.tx_bytes,
		      (unsigned long long)drops);
	ps_out_printf(r->o, "records   %llu\n", (unsigned long long)c.records);
	for (int i = 0; i < PS_REASON_COUNT; i++)
		if (c.records_by_reason[i])
			ps_out_printf(r->o, "  %-18s %14llu\n",
				      ps_reason_name((unsigned)i),
				      (unsigned long long)c.records_by_reason[i]);
	ps_out_printf(r->o, "tiers    ");
	for (int i = 1; i < PS_TIER_COUNT; i++)
		ps_out_printf(r->o, " %s %llu", ps_tier_name((unsigned)i),
			      (unsigned long long)c.records_by_tier[i]);
	ps_out_printf(r->o, "\ndrops    ");
	for (int i = 0; i < PS_DROP_COUNT; i++)
		if (c.drops[i])
			ps_out_printf(r->o, " %s %llu", ps_drop_name((unsigned)i),
				      (unsigned long long)c.drops[i]);
	ps_out_printf(r->o, "\nduplicate window: %llu remembered, %llu hits, "
		      "%llu evicted\n", (unsigned long long)c.dedup_inserts,
		      (unsigned long long)c.dedup_hits,
		      (unsigned long long)c.dedup_evictions);
	if (dm->export_totals)
		ps_out_printf(r->o, "export    %llu events, %llu dropped; "
			      "%llu stored in %llu blocks, %llu refused by a "
			      "full spool, spool %.1f MB\n",
			      (unsigned long long)c.export_events,
			      (unsigned long long)c.export_dropped,
			      (unsigned long long)et.written,
			      (unsigned long long)et.blocks,
			      (unsigned long long)et.spool_overflow,
			      et.spool_bytes / 1048576.0);
	return PS_CTL_OK;
}

/* ---------------------------------------------------------- dispatch */

int ps_ctl_execute(struct ps_ctl_server *s, uint16_t cmd, uint32_t flags,
		   const uint8_t *body, size_t len, struct ps_out *o)
{
	struct ps_ctl_args a;
	const char *why;
	struct req r = { s, ps_ctl_daemon(s)->store, &a,
			 (flags & PS_CTL_F_JSON) != 0, o };
	if (ps_ctl_args_parse(body, len, &a, &why))
		return usage(&r, why);
	switch (cmd) {
	case PS_CTL_STATUS: return cmd_status(&r);
	case PS_CTL_PLAN_LOAD: return cmd_plan_load(&r);
	case PS_CTL_PLAN_DIFF: return cmd_plan_diff(&r);
	case PS_CTL_PLAN_SHOW: return cmd_plan_show(&r);
	case PS_CTL_PLAN_HISTORY: return cmd_plan_history(&r);
	case PS_CTL_PLAN_ROLLBACK: return cmd_plan_rollback(&r);
	case PS_CTL_BEGIN:
	case PS_CTL_EDIT:
	case PS_CTL_DELETE:
	case PS_CTL_COMMIT:
	case PS_CTL_ABORT: return cmd_txn(&r, cmd);
	case PS_CTL_ROUTE_GET: return cmd_route_get(&r);
	case PS_CTL_CHUTE_LIST: return cmd_chute_list(&r);
	case PS_CTL_CHUTE_SET: return cmd_chute_set(&r);
	case PS_CTL_STATS: return cmd_stats(&r);
	case PS_CTL_STATS_RESET:
		ps_ctl_reset_baseline(s);
		return done(&r, "counters reset (a baseline; the workers' "
			    "counters keep counting)", "{\"done\":true}");
	}
	return usage(&r, "unknown command");
}
