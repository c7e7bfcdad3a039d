/* ctl_cmds_manifest.c: the manifest commands as the daemon runs them
 * (ctl_cmds_manifest.h): a load in parts (begin NAME REPLACE, part TOKEN
 * FIRST_LINE TEXT, commit TOKEN, abort TOKEN), add, del, get, stats, and
 * the manifest's part of route get. Answers are JSON. */
#include "ctl_cmds_manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "manifest_parse.h"
#include "ps_clock.h"
#include "rates.h"

static int fail(struct ps_out *o, int st, const char *msg)
{
	ps_out_write(o, "{\"error\":", 9);
	ps_out_json_str(o, msg);
	ps_out_write(o, "}\n", 2);
	return st;
}

static int usage(struct ps_out *o, const char *msg)
{
	return fail(o, PS_CTL_ERR_USAGE, msg);
}

/* {"errors":[...],"more":N} (at most PS_CTL_MAX_ERRORS_SHOWN shown). */
static int refused(struct ps_out *o, struct ps_errors *e)
{
	char m[PS_CTL_MAX_ERROR_TEXT];
	size_t shown = e->n < PS_CTL_MAX_ERRORS_SHOWN ? e->n
						      : PS_CTL_MAX_ERRORS_SHOWN;
	ps_out_write(o, "{\"errors\":[", 11);
	for (size_t i = 0; i < shown; i++) {
		if (i)
			ps_out_write(o, ",", 1);
		snprintf(m, sizeof(m), "%s", e->msg[i]);
		ps_out_json_str(o, m);
	}
	ps_out_printf(o, "],\"more\":%zu}\n", e->n - shown + e->dropped);
	ps_errors_free(e);
	return PS_CTL_ERR_REFUSED;
}

/* The daemon's manifest, or NULL after a refusal written to o. */
static struct ps_manifest *manifest_of(const struct ps_ctl_ctx *x,
				       struct ps_out *o)
{
	if (!x->d->manifest)
		fail(o, PS_CTL_ERR_REFUSED, "this daemon keeps no manifest");
	return x->d->manifest;
}

/* A waybill argument into its 24-byte field; 0, or a usage error. */
static int waybill_arg(struct ps_out *o, const char *cmd, const char *v,
		       size_t len, uint8_t *wb)
{
	const char *why = "waybill longer than 24 characters";
	if (len <= PS_MANIFEST_MAX_LINE && !ps_manifest_waybill(v, wb, &why))
		return 0;
	char msg[160];
	snprintf(msg, sizeof(msg), "%s: '%.40s': %s", cmd, v, why);
	return usage(o, msg);
}

static void waybill_json(struct ps_out *o, const uint8_t *wb)
{
	char t[PS_WB_BYTES + 1];
	snprintf(t, sizeof(t), "%.24s", (const char *)wb);
	ps_out_json_str(o, t);
}

/* ------------------------------------------------------------- load */

static int token_arg(struct ps_out *o, const char *v, uint64_t *token)
{
	char *end;
	*token = strtoull(v, &end, 10);
	return *end || !*v ? usage(o, "manifest load: TOKEN is a number")
			   : PS_CTL_OK;
}

static int load_begin(struct ps_manifest *m, const struct ps_ctl_args *a,
		      struct ps_out *o)
{
	uint64_t token;
	if (!ps_ctl_printable(a->v[1], a->len[1], PS_CTL_MAX_NAME))
		return usage(o, "manifest load: NAME must be 1..255 printable "
			     "characters");
	if (strcmp(a->v[2], "0") && strcmp(a->v[2], "1"))
		return usage(o, "manifest load: REPLACE is 0 or 1");
	char err[PS_CTL_MAX_ERROR_TEXT];
	int rc = ps_manifest_stage_begin(m, a->v[1], a->v[2][0] == '1',
					 &token, err, sizeof(err));
	if (rc == PS_MF_BUSY) {         /* {"error":"...","busy":true} */
		ps_out_write(o, "{\"error\":", 9);
		ps_out_json_str(o, err);
		ps_out_printf(o, ",\"busy\":true}\n");
		return PS_CTL_ERR_REFUSED;
	}
	if (rc)
		return fail(o, PS_CTL_ERR_INTERNAL, "out of memory");
	ps_out_printf(o, "{\"token\":\"%" PRIu64 "\"}\n", token);
	return PS_CTL_OK;
}

static int load_part(struct ps_manifest *m, const struct ps_ctl_args *a,
		     struct ps_out *o)
{
	uint64_t token, lines = 0;
	struct ps_errors e;
	char *end;
	if (token_arg(o, a->v[1], &token))
		return PS_CTL_ERR_USAGE;
	unsigned long first = strtoul(a->v[2], &end, 10);
	if (*end || first < 1 || first > UINT32_MAX / 2)
		return usage(o, "manifest load: FIRST_LINE is a line number");
	ps_errors_init(&e);
	if (ps_manifest_stage_part(m, token, a->v[3], a->len[3],
				   (uint32_t)first, &lines, &e))
		return refused(o, &e);
	ps_errors_free(&e);
	ps_out_printf(o, "{\"lines\":%" PRIu64 "}\n", lines);
	return PS_CTL_OK;
}

static int load_commit(struct ps_manifest *m, const struct ps_ctl_args *a,
		       struct ps_out *o)
{
	uint64_t token;
	struct ps_errors e;
	struct ps_manifest_load_result res;
	if (token_arg(o, a->v[1], &token))
		return PS_CTL_ERR_USAGE;
	ps_errors_init(&e);
	if (ps_manifest_stage_commit(m, token, &e, &res))
		return refused(o, &e);
	ps_errors_free(&e);
	ps_out_printf(o, "{\"lines\":%" PRIu64 ",\"added\":%" PRIu64
		      ",\"replaced\":%" PRIu64 ",\"entries\":%" PRIu64 "}\n",
		      res.lines, res.added, res.replaced, res.entries);
	return PS_CTL_OK;
}

/* begin NAME REPLACE | part TOKEN FIRST_LINE TEXT | commit TOKEN |
 * abort TOKEN */
int ps_ctl_manifest_load(const struct ps_ctl_ctx *x,
			 const struct ps_ctl_args *a, struct ps_out *o)
{
	struct ps_manifest *m = manifest_of(x, o);
	uint64_t token;
	if (!m)
		return PS_CTL_ERR_REFUSED;
	if (a->n == 3 && !strcmp(a->v[0], "begin"))
		return load_begin(m, a, o);
	if (a->n == 4 && !strcmp(a->v[0], "part"))
		return load_part(m, a, o);
	if (a->n == 2 && !strcmp(a->v[0], "commit"))
		return load_commit(m, a, o);
	if (a->n == 2 && !strcmp(a->v[0], "abort")) {
		if (token_arg(o, a->v[1], &token))
			return PS_CTL_ERR_USAGE;
		ps_manifest_stage_abort(m, token);
		ps_out_printf(o, "{\"done\":true}\n");
		return PS_CTL_OK;
	}
	return usage(o, "manifest load: begin NAME REPLACE | part TOKEN "
		     "FIRST_LINE TEXT | commit TOKEN | abort TOKEN");
}

/* ------------------------------------------------- add, del, get */

/* A refused change: full, disk, invalid (the library's message). */
static int change_refused(struct ps_out *o, int rc, const char *err)
{
	return fail(o, rc == PS_MF_NOMEM ? PS_CTL_ERR_INTERNAL
					 : PS_CTL_ERR_REFUSED, err);
}

/* WAYBILL REGION */
int ps_ctl_manifest_add(const struct ps_ctl_ctx *x,
			const struct ps_ctl_args *a, struct ps_out *o)
{
	struct ps_manifest *m = manifest_of(x, o);
	uint8_t wb[PS_WB_BYTES];
	uint64_t region;
	const char *why;
	char err[256], msg[160];
	if (!m)
		return PS_CTL_ERR_REFUSED;
	if (a->n != 2)
		return usage(o, "manifest add: WAYBILL REGION");
	if (waybill_arg(o, "manifest add", a->v[0], a->len[0], wb))
		return PS_CTL_ERR_USAGE;
	if (a->len[1] > 12 || ps_manifest_region(a->v[1], &region, &why)) {
		snprintf(msg, sizeof(msg), "manifest add: '%.20s': %s",
			 a->v[1], a->len[1] > 12 ? "region must be 12 digits"
						 : why);
		return usage(o, msg);
	}
	/* held (and not lapsed) before this add: a replacement */
	int had = ps_manifest_get(m, wb, ps_now_ms()) != 0;
	int rc = ps_manifest_add(m, wb, region, err, sizeof(err));
	if (rc)
		return change_refused(o, rc, err);
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	ps_out_printf(o, "{\"waybill\":");
	waybill_json(o, wb);
	ps_out_printf(o, ",\"region\":%" PRIu64 ",\"replaced\":%s,"
		      "\"entries\":%" PRIu64 "}\n", region,
		      had ? "true" : "false", st.entries);
	return PS_CTL_OK;
}

/* WAYBILL... (at most 63) */
int ps_ctl_manifest_del(const struct ps_ctl_ctx *x,
			const struct ps_ctl_args *a, struct ps_out *o)
{
	struct ps_manifest *m = manifest_of(x, o);
	uint8_t wb[PS_CTL_MAX_ARGS][PS_WB_BYTES];
	const uint8_t *p[PS_CTL_MAX_ARGS];
	unsigned removed;
	char err[256];
	if (!m)
		return PS_CTL_ERR_REFUSED;
	if (a->n < 1)
		return usage(o, "manifest del: at least one WAYBILL");
	for (unsigned i = 0; i < a->n; i++) {
		if (waybill_arg(o, "manifest del", a->v[i], a->len[i], wb[i]))
			return PS_CTL_ERR_USAGE;
		p[i] = wb[i];
	}
	int rc = ps_manifest_del(m, p, a->n, &removed, err, sizeof(err));
	if (rc)
		return change_refused(o, rc, err);
	struct ps_manifest_stats st;
	ps_manifest_stats(m, &st);
	ps_out_printf(o, "{\"removed\":%u,\"absent\":%u,\"entries\":%" PRIu64
		      "}\n", removed, a->n - removed, st.entries);
	return PS_CTL_OK;
}

/* The next waybill of an argument holding one or more, separated by
 * blanks (space, tab, newline): 1 with *w and *len set, 0 at its end. */
static int next_waybill(const char **p, const char *end, const char **w,
			size_t *len)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' ||
			   *s == '\r'))
		s++;
	const char *e = s;
	while (e < end && *e != ' ' && *e != '\t' && *e != '\n' &&
	       *e != '\r')
		e++;
	*p = e;
	*w = s;
	*len = (size_t)(e - s);
	return e > s;
}

/* One waybill's entry: {"waybill":W,"found":B,"region":R|null,
 * "expires_ms":T|null,"expires_in_s":S|null} */
static void entry_json(struct ps_out *o, struct ps_manifest *m,
		       const uint8_t *wb, uint64_t now)
{
	uint64_t exp;
	uint64_t region = ps_manifest_get_expiry(m, wb, now, &exp);
	ps_out_printf(o, "{\"waybill\":");
	waybill_json(o, wb);
	if (region)
		ps_out_printf(o, ",\"found\":true,\"region\":%" PRIu64
			      ",\"expires_ms\":%" PRIu64 ",\"expires_in_s\":%"
			      PRIu64 "}", region, exp, (exp - now) / 1000);
	else
		ps_out_printf(o, ",\"found\":false,\"region\":null,"
			      "\"expires_ms\":null,\"expires_in_s\":null}");
}

/* WAYBILL... (each argument one waybill or several separated by blanks;
 * at most PS_CTL_MANIFEST_GET_MAX in all). One waybill: its entry; more:
 * {"entries":[entry,...]} in the order asked. A bad waybill refuses the
 * whole request, naming it. */
int ps_ctl_manifest_get(const struct ps_ctl_ctx *x,
			const struct ps_ctl_args *a, struct ps_out *o)
{
	struct ps_manifest *m = manifest_of(x, o);
	uint8_t wb[PS_WB_BYTES];
	char t[PS_MANIFEST_MAX_LINE + 1];
	const char *p, *w;
	size_t len;
	unsigned n = 0;
	if (!m)
		return PS_CTL_ERR_REFUSED;
	/* first every waybill checked and counted: all or nothing */
	for (unsigned i = 0; i < a->n; i++)
		for (p = a->v[i]; next_waybill(&p, a->v[i] + a->len[i], &w,
					       &len); n++) {
			if (n == PS_CTL_MANIFEST_GET_MAX) {
				char msg[96];
				snprintf(msg, sizeof(msg), "manifest get: at "
					 "most %u waybills a request",
					 PS_CTL_MANIFEST_GET_MAX);
				return usage(o, msg);
			}
			snprintf(t, sizeof(t), "%.*s", (int)(len < sizeof(t)
				 ? len : sizeof(t) - 1), w);
			if (waybill_arg(o, "manifest get", t, len, wb))
				return PS_CTL_ERR_USAGE;
		}
	if (!n)
		return usage(o, "manifest get: WAYBILL...");
	uint64_t now = ps_now_ms();
	if (n > 1)
		ps_out_printf(o, "{\"entries\":[");
	unsigned k = 0;
	for (unsigned i = 0; i < a->n; i++)
		for (p = a->v[i]; next_waybill(&p, a->v[i] + a->len[i], &w,
					       &len); k++) {
			snprintf(t, sizeof(t), "%.*s", (int)len, w);
			ps_manifest_waybill(t, wb, &(const char *){ NULL });
			if (k)
				ps_out_write(o, ",", 1);
			entry_json(o, m, wb, now);
		}
	ps_out_printf(o, n > 1 ? "]}\n" : "\n");
	return PS_CTL_OK;
}

/* ------------------------------------------------------------ stats */

/* ,"loading":{"name":...,"idle_ms":N}} or ,"loading":null}: the load in
 * parts under way, which a begin meanwhile is refused for (busy). */
static void loading_json(struct ps_manifest *m, struct ps_out *o)
{
	char name[256];
	uint64_t idle;
	if (!ps_manifest_loading(m, name, sizeof(name), &idle)) {
		ps_out_printf(o, ",\"loading\":null}\n");
		return;
	}
	ps_out_printf(o, ",\"loading\":{\"name\":");
	ps_out_json_str(o, name);
	ps_out_printf(o, ",\"idle_ms\":%" PRIu64 "}}\n", idle);
}

int ps_ctl_manifest_stats(const struct ps_ctl_ctx *x,
			  const struct ps_ctl_args *a, struct ps_out *o)
{
	static struct ps_counters c;    /* large: the control thread's */
	struct ps_manifest *m = manifest_of(x, o);
	struct ps_manifest_stats st;
	if (!m)
		return PS_CTL_ERR_REFUSED;
	if (a->n)
		return usage(o, "manifest stats: takes no arguments");
	ps_manifest_stats(m, &st);
	ps_view_counters(x->view, &c);
	uint64_t now = ps_now_ms();
	ps_out_printf(o, "{\"entries\":%" PRIu64 ",\"capacity\":%" PRIu64
		      ",\"bytes\":%" PRIu64 ",\"ttl_s\":%" PRIu64
		      ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
		      ",\"oldest_added_ms\":", st.entries, st.capacity,
		      st.bytes, st.ttl_ms / 1000,
		      (uint64_t)c.manifest_resolved, (uint64_t)c.manifest_missed);
	if (st.oldest_added_ms)
		ps_out_printf(o, "%" PRIu64 ",\"oldest_age_s\":%" PRIu64,
			      st.oldest_added_ms, now > st.oldest_added_ms ?
			      (now - st.oldest_added_ms) / 1000 : 0);
	else
		ps_out_printf(o, "null,\"oldest_age_s\":null");
	ps_out_printf(o, ",\"refused_full\":%" PRIu64 ",\"adds\":%" PRIu64
		      ",\"dels\":%" PRIu64 ",\"loads\":%" PRIu64
		      ",\"replaces\":%" PRIu64 ",\"lapsed\":%" PRIu64
		      ",\"generation\":%" PRIu64 ",\"log_bytes\":%" PRIu64
		      , st.refused_full, st.adds, st.dels, st.loads,
		      st.replaces, st.lapsed, st.generation, st.log_bytes);
	loading_json(m, o);
	return PS_CTL_OK;
}

/* -------------------------------------------------------- route get */

void ps_ctl_manifest_route(const struct ps_ctl_ctx *x, struct ps_scan *sc,
			   int *looked, int *found)
{
	*looked = *found = 0;
	if (sc->region || !x->d->manifest)
		return;
	*looked = 1;
	sc->region = ps_manifest_get(x->d->manifest, sc->waybill, ps_now_ms());
	*found = sc->region != 0;
}

void ps_ctl_manifest_route_json(struct ps_out *o, const struct ps_scan *sc,
				int looked, int found)
{
	if (!looked) {
		ps_out_printf(o, ",\"manifest\":null");
		return;
	}
	ps_out_printf(o, ",\"manifest\":{\"waybill\":");
	waybill_json(o, sc->waybill);
	if (found)
		ps_out_printf(o, ",\"found\":true,\"region\":%" PRIu64 "}",
			      sc->region);
	else
		ps_out_printf(o, ",\"found\":false,\"region\":null}");
}
