/* ctl_fleet.c: parcelsortctl's fleet commands, against the NATS cluster
 * rather than one daemon (docs/fleet.md):
 *   fleet init [--replicas N]        create the buckets and the stream
 *   fleet push FILE --site ID | --sites ID,ID... [--no-check]
 *              [--whatif CAPTURE [--yes]]
 *                                    check the plan offline, then put it in
 *                                    the plan bucket under each site's key;
 *                                    with --whatif, first replay the capture
 *                                    through it and each site's active plan
 *                                    and ask before pushing
 *   fleet status [--site ID]         per site: revision pushed and handled,
 *                                    outcome, plan version, when, refusals
 *   fleet events --site ID           audit the stream: every event of the
 *                                    site once? (doubled, missing)
 *   fleet keygen OUT                 an Ed25519 key pair to sign pushes
 *   fleet permissions --site ID | ops | reader
 *                                    the NATS permission block of a role
 * push --sign KEY signs what it pushes (fleet_sign.h); --nats-ca and the
 * other security options (fleet.h) set TLS and the credential.
 * --nats URLS (or $PARCELSORT_NATS) names the cluster. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_cli.h"
#include "ctl_fleet.h"
#include "ctl_fleet_hold.h"
#include "ctl_fleet_manifest.h"
#include "fleet.h"
#include "fleet_sign.h"
#include "fleet_holds.h"
#include "fleet_manifest.h"
#include "outbuf.h"
#include "wi_cli.h"

struct fleet_args {
	const char *nats;
	const char *site;       /* --site */
	const char *sites;      /* --sites */
	int replicas;
	int json;
	int no_check;
	int all;                /* --all (fleet hold) */
	const char *note;       /* --note (fleet hold add) */
	int n_pos;
	char **pos;             /* positional arguments after the subcommand */
	struct ps_fleet_sec sec;
	const char *sign;       /* --sign KEY */
	const char *whatif;     /* --whatif CAPTURE (fleet push) */
	int yes;                /* --yes: push after the what-if unasked */
};

static int parse(int argc, char **argv, struct fleet_args *fa)
{
	static const struct option lo[] = {
		{ "nats", required_argument, 0, 'n' },
		{ "site", required_argument, 0, 's' },
		{ "sites", required_argument, 0, 'S' },
		{ "replicas", required_argument, 0, 'r' },
		{ "no-check", no_argument, 0, 'x' },
		{ "json", no_argument, 0, 'j' },
		{ "sign", required_argument, 0, 'g' },
		PS_FLEET_SEC_OPTIONS,
		{ "all", no_argument, 0, 'a' },
		{ "note", required_argument, 0, 'N' },
		{ "whatif", required_argument, 0, 'W' },
		{ "yes", no_argument, 0, 'y' },
		{ 0, 0, 0, 0 },
	};
	int o;
	optind = 0;      /* a fresh scan: the main options were parsed before */
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 'n')
			fa->nats = optarg;
		else if (o == 's')
			fa->site = optarg;
		else if (o == 'S')
			fa->sites = optarg;
		else if (o == 'r')
			fa->replicas = atoi(optarg);
		else if (o == 'x')
			fa->no_check = 1;
		else if (o == 'j')
			fa->json = 1;
		else if (o == 'g')
			fa->sign = optarg;
		else if (o == 'a')
			fa->all = 1;
		else if (o == 'N')
			fa->note = optarg;
		else if (o == 'W')
			fa->whatif = optarg;
		else if (o == 'y')
			fa->yes = 1;
		else if (!ps_fleet_sec_option(&fa->sec, o, optarg))
			return -1;
	}
	fa->n_pos = argc - optind;
	fa->pos = argv + optind;
	return 0;
}

static int open_fleet(struct ps_fleet *f, const struct fleet_args *fa)
{
	char err[512];
	struct ps_fleet_opts o = { .holds = 1, .servers = fa->nats,
				   .name = "parcelsortctl",
				   .replicas = fa->replicas, .sec = fa->sec };
	if (ps_fleet_open(f, &o, err, sizeof(err))) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		return -1;
	}
	return 0;
}

static void close_fleet(struct ps_fleet *f)
{
	ps_fleet_close(f);
	nats_Close();
}

/* ---------------------------------------------------------------- init */

static int fleet_init(const struct fleet_args *fa)
{
	struct ps_fleet f;
	if (fa->replicas < 1 || fa->replicas > 5)
		return ctl_bad_usage("fleet init: --replicas 1..5");
	if (open_fleet(&f, fa))
		return EXIT_UNREACHABLE;
	printf("fleet ready at %s: buckets %s (history %d) and %s, stream %s "
	       "(%s>, de-duplication window %d s), stream %s (%s>); "
	       "replicas %d for what was created now\n", fa->nats,
	       PS_FLEET_PLANS, PS_FLEET_PLAN_HISTORY, PS_FLEET_STATUS,
	       PS_FLEET_EVENTS, PS_FLEET_SUBJECT, PS_FLEET_DUP_WINDOW_S,
	       PS_FLEET_HOLDS, PS_FLEET_HOLDS_SUBJECT, fa->replicas);
	close_fleet(&f);
	return EXIT_DONE;
}

/* ---------------------------------------------------------------- push */

static int push_one(struct ps_fleet *f, const char *site, const char *text,
		    size_t len, int json, int first)
{
	char key[PS_FLEET_SITE_MAX + 8];
	uint64_t rev = 0;
	ps_fleet_key(key, sizeof(key), site);
	/* while the cluster elects a new leader for the bucket (a node just
	 * died) a put times out or finds no responder: try again, for up to
	 * about 20 s in all */
	natsStatus s;
	int tries = 0;
	while ((s = kvStore_Put(&rev, f->plans, key, text, (int)len)) != NATS_OK &&
	       (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) && ++tries < 4)
		nats_Sleep(500);
	if (s != NATS_OK) {
		fprintf(stderr, "parcelsortctl: site %s: not pushed: %s\n",
			site, ps_fleet_error(s));
		if (json)
			printf("%s{\"site\":\"%s\",\"pushed\":false}",
			       first ? "" : ",", site);
		return -1;
	}
	if (json)
		printf("%s{\"site\":\"%s\",\"pushed\":true,\"revision\":%"
		       PRIu64 "}", first ? "" : ",", site, rev);
	else
		printf("site %s: revision %" PRIu64 "\n", site, rev);
	return 0;
}

/* The plan signed for one site, following the key's latest revision
 * (fleet_sign.h): valid there only, and only until a newer revision of
 * the key is handled. */
static int sign_for(struct ps_fleet *f, const char *site,
		    const struct ps_out *plan, const unsigned char *sk,
		    struct ps_out *out)
{
	char key[PS_FLEET_SITE_MAX + 8];
	kvEntry *e = NULL;
	uint64_t after = 0;
	ps_fleet_key(key, sizeof(key), site);
	natsStatus s = kvStore_Get(&e, f->plans, key);
	if (s == NATS_OK && e) {
		after = kvEntry_Revision(e);
		kvEntry_Destroy(e);
	} else if (s != NATS_NOT_FOUND) {
		fprintf(stderr, "parcelsortctl: site %s: not pushed: cannot "
			"read its key to sign: %s\n", site, ps_fleet_error(s));
		return -1;
	}
	ps_out_init(out);
	ps_out_write(out, plan->buf, plan->len);
	ps_sign_append(out, "plan", site, after, sk);
	return out->oom ? -1 : 0;
}

/* push_one, signing first with --sign. */
static int push_signed(struct ps_fleet *f, const char *site,
		       const struct ps_out *plan, const unsigned char *sk,
		       int json, int first)
{
	struct ps_out o;
	if (!sk)
		return push_one(f, site, plan->buf, plan->len, json, first);
	if (sign_for(f, site, plan, sk, &o)) {
		ps_out_free(&o);
		return -1;
	}
	int rc = push_one(f, site, o.buf, o.len, json, first);
	ps_out_free(&o);
	return rc;
}

/* The site's active plan as the fleet knows it: the revision of its key
 * that its agent last handled, when the outcome was "active". NULL with
 * the reason in why otherwise (never reported, refused, deleted...: the
 * plan the site decides with is then not in the bucket's view). */
static char *site_active_plan(struct ps_fleet *f, const char *site,
			      size_t *len, uint64_t *rev, char *why,
			      size_t whylen)
{
	char key[PS_FLEET_SITE_MAX + 8], outcome[32] = "";
	kvEntry *e = NULL;
	ps_fleet_key(key, sizeof(key), site);
	*rev = 0;
	if (kvStore_Get(&e, f->status, key) != NATS_OK || !e) {
		snprintf(why, whylen, "the site never reported a status");
		return NULL;
	}
	const char *st = kvEntry_ValueString(e);
	ps_json_u64(st, "revision", rev);
	ps_json_str(st, "outcome", outcome, sizeof(outcome));
	kvEntry_Destroy(e);
	if (strcmp(outcome, "active") || !*rev) {
		snprintf(why, whylen, "its last revision handled (%" PRIu64
			 ") is %s, not active: the plan it decides with is "
			 "not known to the fleet", *rev,
			 *outcome ? outcome : "unknown");
		return NULL;
	}
	e = NULL;
	natsStatus s = kvStore_GetRevision(&e, f->plans, key, *rev);
	if (s != NATS_OK || !e || kvEntry_Operation(e) != kvOp_Put) {
		snprintf(why, whylen, "revision %" PRIu64 " is no longer in "
			 "the plan bucket (%s)", *rev,
			 s == NATS_OK ? "deleted" : ps_fleet_error(s));
		if (e)
			kvEntry_Destroy(e);
		return NULL;
	}
	*len = (size_t)kvEntry_ValueLen(e);
	char *text = malloc(*len + 1);
	if (text) {
		memcpy(text, kvEntry_Value(e), *len);
		text[*len] = 0;
	}
	kvEntry_Destroy(e);
	if (!text)
		snprintf(why, whylen, "out of memory");
	return text;
}

/* --whatif: the capture replayed through the plan (its text, the bytes
 * to be pushed) and each site's active plan, the reports printed; 0 when
 * every site had one, else the number of sites without one (-1: the
 * candidate or the capture refused). */
static int push_whatif(struct ps_fleet *f, const struct fleet_args *fa,
		       const char *cand, size_t cand_len, char **ids, int n)
{
	int missing = 0;
	if (fa->json)
		printf("{\"whatif\":[");
	for (int i = 0; i < n; i++) {
		char why[256], name[160];
		size_t len = 0;
		uint64_t rev;
		char *text = site_active_plan(f, ids[i], &len, &rev, why,
					      sizeof(why));
		if (fa->json)
			printf("%s{\"site\":\"%s\",\"revision\":%" PRIu64 ","
			       "\"report\":", i ? "," : "", ids[i], rev);
		else
			printf("%s== site %s\n", i ? "\n" : "", ids[i]);
		fflush(stdout);
		if (!text) {
			missing++;
			fprintf(stderr, "parcelsortctl: site %s: no what-if: "
				"%s\n", ids[i], why);
			if (fa->json) {
				struct ps_out o;
				ps_out_init(&o);
				ps_out_json_str(&o, why);
				printf("null,\"why\":%s}", o.buf ? o.buf : "\"\"");
				ps_out_free(&o);
			} else {
				printf("no what-if: %s\n", why);
			}
			continue;
		}
		snprintf(name, sizeof(name), "site %s revision %" PRIu64,
			 ids[i], rev);
		int rc = wi_cli_compare(fa->pos[0], cand, cand_len, text, len,
					name, fa->whatif, fa->json, NULL);
		free(text);
		fflush(stdout);
		if (fa->json)
			printf("}");
		if (rc != EXIT_DONE) {
			if (fa->json)
				printf("]}\n");
			return -1;
		}
	}
	if (fa->json)
		printf("],\"push\":");
	fflush(stdout);
	return missing;
}

/* After the what-if: --yes, or y on a terminal. */
static int push_confirmed(const struct fleet_args *fa, int n)
{
	if (fa->yes)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "parcelsortctl: not pushed: after --whatif the "
			"push needs a y on a terminal, or --yes\n");
		return 0;
	}
	char line[16] = "";
	fprintf(stderr, "push %s to %d site%s? [y/N] ", fa->pos[0], n,
		n == 1 ? "" : "s");
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin) ||
	    (strcmp(line, "y\n") && strcmp(line, "yes\n") &&
	     strcmp(line, "Y\n"))) {
		fprintf(stderr, "parcelsortctl: not pushed\n");
		return 0;
	}
	return 1;
}

static int fleet_push(const struct fleet_args *fa)
{
	unsigned char sk[PS_SIGN_SK];
	char serr[512];
	if (fa->sign && ps_sign_load_secret(fa->sign, sk, serr, sizeof(serr))) {
		fprintf(stderr, "parcelsortctl: --sign: %s\n", serr);
		return EXIT_USAGE;
	}
	if (fa->n_pos != 1 || (!fa->site == !fa->sites))
		return ctl_bad_usage("fleet push FILE --site ID | --sites "
				     "ID,ID...");
	if (fa->yes && !fa->whatif)
		return ctl_bad_usage("fleet push: --yes goes with --whatif");
	char list[4096];
	snprintf(list, sizeof(list), "%s", fa->site ? fa->site : fa->sites);
	char *save = NULL, *ids[256];
	int n = 0;
	for (char *t = strtok_r(list, ",", &save); t && n < 256;
	     t = strtok_r(NULL, ",", &save)) {
		if (!ps_fleet_site_ok(t))
			return ctl_bad_usage("a site id is 1..64 of A-Z a-z "
					     "0-9 _ -");
		ids[n++] = t;
	}
	if (!n)
		return ctl_bad_usage("fleet push: no site");
	/* the file is read once: the check, the what-if and the push are
	 * about the same bytes, whatever happens to the file meanwhile */
	size_t len;
	char *text = ctl_read_file(fa->pos[0], &len);
	if (!text) {
		if (fa->no_check)
			return EXIT_USAGE;
		fprintf(stderr, "parcelsortctl: %s refused; nothing pushed\n",
			fa->pos[0]);
		return EXIT_REFUSED;
	}
	/* a plan with errors never reaches the bucket, unless ops say it was
	 * checked elsewhere (another parcelsort version than this one's):
	 * then the site's own check is the one that counts */
	if (!fa->no_check && ctl_plan_check_text(fa->pos[0], text, len,
						 fa->json, fa->json)
			     != EXIT_DONE) {
		fprintf(stderr, "parcelsortctl: %s refused; nothing pushed\n",
			fa->pos[0]);
		free(text);
		return EXIT_REFUSED;
	}
	struct ps_out o;
	ps_out_init(&o);
	ps_out_write(&o, text, len);
	ps_fleet_trailer(&o, fa->pos[0], ps_fleet_now_ms());
	struct ps_fleet f;
	if (o.oom || open_fleet(&f, fa)) {
		free(text);
		ps_out_free(&o);
		return EXIT_UNREACHABLE;
	}
	if (fa->whatif) {
		int w = push_whatif(&f, fa, text, len, ids, n);
		if (w < 0 || !push_confirmed(fa, n)) {
			if (fa->json && w >= 0)
				printf("null}\n");
			free(text);
			ps_out_free(&o);
			memset(sk, 0, sizeof(sk));
			close_fleet(&f);
			return EXIT_REFUSED;
		}
	}
	int bad = 0;
	if (fa->json)
		printf("[");
	for (int i = 0; i < n; i++)
		bad += push_signed(&f, ids[i], &o, fa->sign ? sk : NULL,
				   fa->json, i == 0) != 0;
	if (fa->json)
		printf(fa->whatif ? "]}\n" : "]\n");
	free(text);
	ps_out_free(&o);
	memset(sk, 0, sizeof(sk));
	close_fleet(&f);
	return bad ? EXIT_REFUSED : EXIT_DONE;
}

/* -------------------------------------------------------------- status */

/* The sites named in either bucket, sorted, appended to *v. */
static void add_keys(kvStore *kv, char ***v, int *n)
{
	kvKeysList l = { 0 };
	if (kvStore_Keys(&l, kv, NULL) != NATS_OK)
		return;
	for (int i = 0; i < l.Count; i++) {
		const char *site = l.Keys[i] + 5;     /* after "site." */
		int dup = 0;
		for (int k = 0; k < *n && !dup; k++)
			dup = !strcmp((*v)[k], site);
		if (dup || strncmp(l.Keys[i], "site.", 5))
			continue;
		char **nv = realloc(*v, (size_t)(*n + 1) * sizeof(**v));
		if (!nv)
			break;
		*v = nv;
		(*v)[(*n)++] = strdup(site);
	}
	kvKeysList_Destroy(&l);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fmt_ms(char *out, size_t n, uint64_t ms)
{
	if (!ms) {
		snprintf(out, n, "-");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

struct site_view {
	uint64_t pushed_rev, pushed_ms;
	char file[128];
	char *status;           /* JSON from the agent, or NULL */
};

static void read_site(struct ps_fleet *f, const char *site,
		      struct site_view *sv)
{
	char key[PS_FLEET_SITE_MAX + 8];
	kvEntry *e = NULL;
	memset(sv, 0, sizeof(*sv));
	snprintf(sv->file, sizeof(sv->file), "-");
	ps_fleet_key(key, sizeof(key), site);
	if (kvStore_Get(&e, f->plans, key) == NATS_OK && e) {
		sv->pushed_rev = kvEntry_Revision(e);
		if (kvEntry_Operation(e) == kvOp_Put)
			ps_fleet_trailer_parse(kvEntry_Value(e),
					       (size_t)kvEntry_ValueLen(e),
					       sv->file, sizeof(sv->file),
					       &sv->pushed_ms);
		kvEntry_Destroy(e);
	}
	e = NULL;
	if (kvStore_Get(&e, f->status, key) == NATS_OK && e) {
		sv->status = strdup(kvEntry_ValueString(e));
		kvEntry_Destroy(e);
	}
}

/* The site's last hold operation, when it was refused: why. */
static void print_hold_refusal(const char *st)
{
	char outcome[32] = "";
	uint64_t hr = 0;
	if (!st || ps_json_str(st, "hold_outcome", outcome, sizeof(outcome)) ||
	    strcmp(outcome, "refused"))
		return;
	ps_json_u64(st, "hold_revision", &hr);
	printf("    hold revision %" PRIu64 " refused; the site keeps its "
	       "list:\n", hr);
	struct ps_out o;
	ps_out_init(&o);
	if (ps_json_str_array(st, "hold_errors", &o) == 0 && o.len) {
		ps_out_write(&o, "", 1);
		for (char *l = o.buf, *nl; (nl = strchr(l, '\n')); l = nl + 1)
			printf("      %.*s\n", (int)(nl - l), l);
	}
	ps_out_free(&o);
}

/* The site's manifest line, when its agent reports one: the last
 * revision handled, batches and entries applied, refusals, lag; and a
 * refusal's reasons, or, busy, the load the daemon is busy with. */
static void print_manifest(const char *st)
{
	char outcome[32] = "", name[128] = "";
	uint64_t rev = 0, b = 0, e = 0, r = 0, lag = 0, lag_ms = 0, d = 0;
	if (!st || ps_json_str(st, "manifest_outcome", outcome, sizeof(outcome)))
		return;
	ps_json_str(st, "manifest_name", name, sizeof(name));
	ps_json_u64(st, "manifest_revision", &rev);
	ps_json_u64(st, "manifest_batches", &b);
	ps_json_u64(st, "manifest_entries", &e);
	ps_json_u64(st, "manifest_refused", &r);
	ps_json_u64(st, "manifest_lag", &lag);
	ps_json_u64(st, "manifest_lag_ms", &lag_ms);
	ps_json_u64(st, "daemon_manifest_entries", &d);
	printf("    manifest: revision %" PRIu64 " (%s) %s; %" PRIu64 " batches, "
	       "%" PRIu64 " entries applied, %" PRIu64 " refused; %" PRIu64
	       " batches behind, last %.1f s after its push; the site holds %"
	       PRIu64 " entries\n", rev, *name ? name : "-", outcome, b, e, r,
	       lag, (double)lag_ms / 1000.0, d);
	if (strcmp(outcome, "refused") && strcmp(outcome, "busy"))
		return;         /* busy: the daemon's word on the other load */
	struct ps_out o;
	ps_out_init(&o);
	if (ps_json_str_array(st, "manifest_errors", &o) == 0 && o.len) {
		ps_out_write(&o, "", 1);
		for (char *l = o.buf, *nl; (nl = strchr(l, '\n')); l = nl + 1)
			printf("      %.*s\n", (int)(nl - l), l);
	}
	ps_out_free(&o);
}

static void print_site_text(const char *site, const struct site_view *sv)
{
	uint64_t rev = 0, ver = 0, at = 0, lat = 0, pub = 0, backlog = 0,
		 beat = 0;
	char outcome[32] = "no agent", when[32], lat_s[24];
	const char *st = sv->status;
	if (st) {
		ps_json_u64(st, "revision", &rev);
		ps_json_str(st, "outcome", outcome, sizeof(outcome));
		ps_json_u64(st, "plan_version", &ver);
		ps_json_u64(st, "applied_ms", &at);
		ps_json_u64(st, "published", &pub);
		ps_json_u64(st, "backlog_bytes", &backlog);
		ps_json_u64(st, "heartbeat_ms", &beat);
	}
	fmt_ms(when, sizeof(when), at);
	if (st && ps_json_u64(st, "latency_ms", &lat) == 0)
		snprintf(lat_s, sizeof(lat_s), "%" PRIu64 " ms", lat);
	else
		snprintf(lat_s, sizeof(lat_s), "-");
	uint64_t now = ps_fleet_now_ms();
	char seen[24] = "never";
	if (beat)
		snprintf(seen, sizeof(seen), "%.0f s ago",
			 (double)(now - beat) / 1000.0);
	char hold_rev[24] = "-", hold_count[24] = "-";
	uint64_t hr, hc;
	if (st && ps_json_u64(st, "hold_revision", &hr) == 0 &&
	    ps_json_u64(st, "hold_count", &hc) == 0) {
		snprintf(hold_rev, sizeof(hold_rev), "%" PRIu64, hr);
		snprintf(hold_count, sizeof(hold_count), "%" PRIu64, hc);
	}
	printf("%-16s %7" PRIu64 " %7" PRIu64 " %-9s %7" PRIu64 "  %-19s "
	       "%8s %12" PRIu64 " %9.1f %10s %9s %9s%s\n", site,
	       sv->pushed_rev, rev, outcome, ver, when, lat_s, pub,
	       backlog / 1048576.0, seen, hold_rev, hold_count,
	       sv->pushed_rev > rev ? "  (pending)" : "");
	print_hold_refusal(st);
	print_manifest(st);
	if (st && !strcmp(outcome, "refused")) {
		struct ps_out o;
		ps_out_init(&o);
		char file[128] = "?";
		ps_json_str(st, "file", file, sizeof(file));
		printf("    revision %" PRIu64 " (%s) refused; the site keeps "
		       "plan version %" PRIu64 ":\n", rev, file, ver);
		if (ps_json_str_array(st, "errors", &o) == 0 && o.len) {
			ps_out_write(&o, "", 1);
			for (char *l = o.buf, *nl; *l; l = nl + 1) {
				nl = strchr(l, '\n');
				if (!nl)
					break;
				printf("      %.*s\n", (int)(nl - l), l);
			}
		}
		ps_out_free(&o);
	}
}

static int fleet_status(const struct fleet_args *fa)
{
	struct ps_fleet f;
	if (fa->site && !ps_fleet_site_ok(fa->site))
		return ctl_bad_usage("a site id is 1..64 of A-Z a-z 0-9 _ -");
	if (open_fleet(&f, fa))
		return EXIT_UNREACHABLE;
	char **sites = NULL;
	int n = 0;
	if (fa->site) {
		sites = malloc(sizeof(*sites));
		sites[n++] = strdup(fa->site);
	} else {
		add_keys(f.plans, &sites, &n);
		add_keys(f.status, &sites, &n);
		qsort(sites, (size_t)n, sizeof(*sites), by_name);
	}
	if (fa->json)
		printf("[");
	else
		printf("%-16s %7s %7s %-9s %7s  %-19s %8s %12s %9s %10s "
		       "%9s %9s\n", "site", "pushed", "handled", "outcome",
		       "version", "since", "push->on", "events", "backlog MB",
		       "seen", "hold rev", "holds");
	for (int i = 0; i < n; i++) {
		struct site_view sv;
		read_site(&f, sites[i], &sv);
		if (fa->json) {
			printf("%s{\"site\":\"%s\",\"pushed_revision\":%" PRIu64
			       ",\"pushed_file\":\"%s\",\"pushed_ms\":%" PRIu64
			       ",\"status\":%s}", i ? "," : "", sites[i],
			       sv.pushed_rev, sv.file, sv.pushed_ms,
			       sv.status ? sv.status : "null");
		} else {
			print_site_text(sites[i], &sv);
		}
		free(sv.status);
		free(sites[i]);
	}
	if (fa->json)
		printf("]\n");
	else if (!n)
		printf("(no sites yet)\n");
	free(sites);
	close_fleet(&f);
	return EXIT_DONE;
}

/* -------------------------------------------------------------- events */

struct range {
	uint64_t boot, first, count;
};

static int by_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	if (x->boot != y->boot)
		return x->boot < y->boot ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static uint64_t header(natsMsg *m, const char *key, int base, int *ok)
{
	const char *v = NULL;
	if (natsMsgHeader_Get(m, key, &v) != NATS_OK || !v) {
		*ok = 0;
		return 0;
	}
	return strtoull(v, NULL, base);
}

static uint64_t count_lines(const char *p, int n)
{
	uint64_t k = 0;
	for (int i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* Read every message of the site's subject with an ordered consumer. */
static int collect(struct ps_fleet *f, const char *site, struct range **out,
		   size_t *n, uint64_t *malformed)
{
	char subject[PS_FLEET_SITE_MAX + 32];
	snprintf(subject, sizeof(subject), PS_FLEET_SUBJECT "%s", site);
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Ordered = true;
	natsSubscription *sub = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_SubscribeSync(&sub, f->js, subject, NULL, &so, &jerr);
	if (s != NATS_OK) {
		fprintf(stderr, "parcelsortctl: %s: %s\n", subject,
			ps_fleet_error(s));
		return -1;
	}
	size_t cap = 0;
	natsMsg *m = NULL;
	while (natsSubscription_NextMsg(&m, sub, 3000) == NATS_OK) {
		int ok = 1;
		struct range r = {
			header(m, "Parcelsort-Boot", 16, &ok),
			header(m, "Parcelsort-First", 10, &ok),
			header(m, "Parcelsort-Count", 10, &ok),
		};
		if (!ok || count_lines(natsMsg_GetData(m),
				       natsMsg_GetDataLength(m)) != r.count)
			(*malformed)++;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			struct range *nv = realloc(*out, cap * sizeof(**out));
			if (!nv)
				break;
			*out = nv;
		}
		(*out)[(*n)++] = r;
		jsMsgMetaData *meta = NULL;
		uint64_t pending = 1;
		if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
			pending = meta->NumPending;
			jsMsgMetaData_Destroy(meta);
		}
		natsMsg_Destroy(m);
		if (!pending)
			break;
	}
	natsSubscription_Destroy(sub);
	return 0;
}

static int fleet_events(const struct fleet_args *fa)
{
	if (!fa->site || !ps_fleet_site_ok(fa->site))
		return ctl_bad_usage("fleet events --site ID");
	struct ps_fleet f;
	if (open_fleet(&f, fa))
		return EXIT_UNREACHABLE;
	struct range *r = NULL;
	size_t n = 0;
	uint64_t malformed = 0;
	if (collect(&f, fa->site, &r, &n, &malformed)) {
		close_fleet(&f);
		return EXIT_REFUSED;
	}
	qsort(r, n, sizeof(*r), by_range);
	uint64_t events = 0, doubled = 0, missing = 0, boots = 0, next = 1;
	/* the first gaps, to tell where the missing events were (boot, the
	 * first and last event number missing) */
	struct gap { uint64_t boot, first, last; } gap[8];
	unsigned n_gap = 0;
	/* next, at the end: one past the last event number of the last boot;
	 * events refused after it by a full spool are not gaps, the daemon's
	 * counters tell them */
	for (size_t i = 0; i < n; i++) {
		/* next: the first event number of this boot not yet seen */
		if (!i || r[i - 1].boot != r[i].boot) {
			boots++;
			next = 1;
		}
		uint64_t end = r[i].first + r[i].count;
		events += r[i].count;
		if (r[i].first < next)
			doubled += (end < next ? end : next) - r[i].first;
		else if (r[i].first > next) {
			missing += r[i].first - next;
			if (n_gap < sizeof(gap) / sizeof(gap[0]))
				gap[n_gap++] = (struct gap){
					r[i].boot, next, r[i].first - 1 };
		}
		next = end > next ? end : next;
	}
	if (fa->json)
		printf("{\"site\":\"%s\",\"messages\":%zu,\"events\":%" PRIu64
		       ",\"boots\":%" PRIu64 ",\"doubled\":%" PRIu64
		       ",\"missing\":%" PRIu64 ",\"malformed\":%" PRIu64
		       ",\"last\":%" PRIu64 ",\"gaps\":[", fa->site, n, events,
		       boots, doubled, missing, malformed, n ? next - 1 : 0);
	for (unsigned g = 0; fa->json && g < n_gap; g++)
		printf("%s{\"boot\":\"%016" PRIx64 "\",\"first\":%" PRIu64
		       ",\"last\":%" PRIu64 "}", g ? "," : "", gap[g].boot,
		       gap[g].first, gap[g].last);
	if (fa->json)
		printf("]}\n");
	else
		printf("site %s: %zu messages, %" PRIu64 " events from %" PRIu64
		       " daemon start%s (the last up to event %" PRIu64 "); %"
		       PRIu64 " doubled, %" PRIu64 " missing, %" PRIu64
		       " malformed messages\n", fa->site, n, events, boots,
		       boots == 1 ? "" : "s", n ? next - 1 : 0, doubled,
		       missing, malformed);
	for (unsigned g = 0; !fa->json && g < n_gap; g++)
		printf("  missing: events %" PRIu64 " to %" PRIu64
		       " of daemon start %016" PRIx64 "\n", gap[g].first,
		       gap[g].last, gap[g].boot);
	free(r);
	close_fleet(&f);
	return doubled || malformed ? EXIT_REFUSED : EXIT_DONE;
}

/* ---------------------------------------------------- keys, permissions */

static int fleet_keygen(const struct fleet_args *fa)
{
	char err[512];
	if (fa->n_pos != 1)
		return ctl_bad_usage("fleet keygen OUT");
	if (ps_sign_keygen(fa->pos[0], err, sizeof(err))) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		return EXIT_USAGE;
	}
	printf("secret key %s (mode 0600: keep it with ops), public key "
	       "%s.pub (give it to the agents: --trust)\n", fa->pos[0],
	       fa->pos[0]);
	return EXIT_DONE;
}

/* The lines that let a site's agent run its durable pull consumer
 * agent-SITE on STREAM, filtered on SUBJECT+SITE, and nothing else there:
 * its info, delete and create (the create subject names the filter, so the
 * server refuses a consumer of that name on another site's subject), the
 * next-message requests and the acks. */
static void print_consumer_permissions(const char *stream, const char *subject,
				       const char *site)
{
	printf(
"    \"$JS.API.CONSUMER.INFO.%s.agent-%s\",\n"
"    \"$JS.API.CONSUMER.DELETE.%s.agent-%s\",\n"
"    \"$JS.API.CONSUMER.CREATE.%s.agent-%s.%s%s\",\n"
"    \"$JS.API.CONSUMER.MSG.NEXT.%s.agent-%s\",\n"
"    \"$JS.ACK.%s.agent-%s.>\"",
	       stream, site, stream, site, stream, site, subject, site, stream,
	       site, stream, site);
}

/* The permission block of one user of the cluster, in nats-server's
 * configuration syntax (docs/fleet.md, "Security", says why each line). */
static void print_site_permissions(const char *site)
{
	printf(
"# site %s's agent: its own keys and subject, nothing else\n"
"# (run it with --no-watch; it uses the reply prefix _INBOX_site_%s)\n"
"permissions: {\n"
"  publish: { allow: [\n"
"    \"$JS.API.STREAM.INFO.KV_" PS_FLEET_PLANS "\",\n"
"    \"$JS.API.STREAM.INFO.KV_" PS_FLEET_STATUS "\",\n"
"    \"$JS.API.STREAM.INFO." PS_FLEET_EVENTS "\",\n"
"    \"$JS.API.DIRECT.GET.KV_" PS_FLEET_PLANS ".$KV." PS_FLEET_PLANS ".*.%s\",\n"
"    \"$JS.API.DIRECT.GET." PS_FLEET_EVENTS "." PS_FLEET_SUBJECT "%s\",\n"
"    \"$KV." PS_FLEET_STATUS ".site.%s\",\n"
"    \"" PS_FLEET_SUBJECT "%s\",\n", site, site, site, site, site, site);
	print_consumer_permissions(PS_FLEET_HOLDS, PS_FLEET_HOLDS_SUBJECT, site);
	printf(",\n");
	char stream[PS_FLEET_SITE_MAX + 32];
	ps_man_stream(stream, sizeof(stream), site);
	print_consumer_permissions(stream, PS_FLEET_MANIFEST_SUBJECT, site);
	printf("\n"
"  ] }\n"
"  subscribe: { allow: [ \"_INBOX_site_%s.>\" ] }\n"
"}\n", site);
}

static void print_role_permissions(const char *role)
{
	if (!strcmp(role, "ops"))
		printf(
"# ops: push plans, read status and events, create the buckets and the\n"
"# stream (fleet init), push hold operations and manifests;\n"
"# use --nats-inbox _INBOX_ops\n"
"permissions: {\n"
"  publish: { allow: [ \"$JS.API.>\", \"$KV." PS_FLEET_PLANS ".>\",\n"
"                      \"" PS_FLEET_HOLDS_SUBJECT ">\",\n"
"                      \"" PS_FLEET_MANIFEST_SUBJECT ">\", \"$JS.FC.>\" ] }\n"
"  subscribe: { allow: [ \"_INBOX_ops.>\" ] }\n"
"}\n");
	else
		printf(
"# an events reader (fleet events): reads the stream, writes nothing;\n"
"# use --nats-inbox _INBOX_reader\n"
"permissions: {\n"
"  publish: { allow: [\n"
"    \"$JS.API.STREAM.INFO.>\", \"$JS.API.STREAM.NAMES\",\n"
"    \"$JS.API.CONSUMER.CREATE." PS_FLEET_EVENTS "\",\n"
"    \"$JS.API.CONSUMER.DELETE." PS_FLEET_EVENTS ".*\",\n"
"    \"$JS.FC." PS_FLEET_EVENTS ".>\"\n"
"  ] }\n"
"  subscribe: { allow: [ \"_INBOX_reader.>\" ] }\n"
"}\n");
}

static int fleet_permissions(const struct fleet_args *fa)
{
	if (fa->site && fa->n_pos == 0 && ps_fleet_site_ok(fa->site)) {
		print_site_permissions(fa->site);
		return EXIT_DONE;
	}
	if (!fa->site && fa->n_pos == 1 &&
	    (!strcmp(fa->pos[0], "ops") || !strcmp(fa->pos[0], "reader"))) {
		print_role_permissions(fa->pos[0]);
		return EXIT_DONE;
	}
	return ctl_bad_usage("fleet permissions --site ID | ops | reader");
}

int ctl_fleet(int argc, char **argv, int json)
{
	struct fleet_args fa = { .replicas = 1, .json = json };
	fa.nats = getenv("PARCELSORT_NATS");
	if (!fa.nats || !*fa.nats)
		fa.nats = "nats://127.0.0.1:4222";
	if (parse(argc, argv, &fa))
		return ctl_bad_usage("fleet: unknown option");
	if (fa.n_pos < 1)
		return ctl_bad_usage("fleet init|push|status|events|hold");
	const char *sub = fa.pos[0];
	fa.pos++;
	fa.n_pos--;
	if (!strcmp(sub, "init") && fa.n_pos == 0)
		return fleet_init(&fa);
	if (!strcmp(sub, "push"))
		return fleet_push(&fa);
	if (!strcmp(sub, "status") && fa.n_pos == 0)
		return fleet_status(&fa);
	if (!strcmp(sub, "events") && fa.n_pos == 0)
		return fleet_events(&fa);
	if (!strcmp(sub, "keygen"))
		return fleet_keygen(&fa);
	if (!strcmp(sub, "permissions"))
		return fleet_permissions(&fa);
	if (!strcmp(sub, "hold")) {
		struct ctl_fleet_hold_args h = {
			.nats = fa.nats, .site = fa.site, .sites = fa.sites,
			.all = fa.all, .note = fa.note, .replicas = fa.replicas,
			.json = fa.json, .n_pos = fa.n_pos, .pos = fa.pos,
			.sec = fa.sec, .sign = fa.sign,
		};
		return ctl_fleet_hold(&h);
	}
	if (!strcmp(sub, "manifest")) {
		struct ctl_fleet_hold_args h = {
			.nats = fa.nats, .site = fa.site, .sites = fa.sites,
			.all = fa.all, .note = fa.note, .replicas = fa.replicas,
			.json = fa.json, .n_pos = fa.n_pos, .pos = fa.pos,
			.sec = fa.sec, .sign = fa.sign,
		};
		return ctl_fleet_manifest(&h);
	}
	return ctl_bad_usage("fleet init|push|status|events|keygen|"
			     "permissions|hold|manifest");
}

void ctl_fleet_help(struct ps_out *o)
{
	ps_out_printf(o, "\nFleet commands talk to the NATS cluster (--nats URLS "
		      "or $PARCELSORT_NATS,\ndefault nats://127.0.0.1:4222), not "
		      "to one daemon (docs/fleet.md):\n");
	ps_out_printf(o,
"  fleet init [--replicas N]       create the plan and status buckets and\n"
"                                  the event stream\n"
"  fleet push FILE --site ID | --sites ID,ID... [--no-check]\n"
"                                  check a plan offline (unless --no-check:\n"
"                                  then only the sites check it), then hand\n"
"                                  it to the sites' agents\n"
"    [--whatif CAPTURE [--yes]]    first replay CAPTURE through it and each\n"
"                                  site's active plan, show the reports and\n"
"                                  ask y/N (--yes: push unasked)\n"
"  fleet status [--site ID]        per site: revision pushed and handled,\n"
"                                  outcome, plan version, refusals, events\n"
"  fleet events --site ID          audit the site's events in the stream\n"
"  fleet keygen OUT                an Ed25519 key pair (OUT, OUT.pub) to\n"
"                                  sign pushes: fleet push ... --sign OUT\n"
"  fleet permissions --site ID | ops | reader\n"
"                                  the NATS permissions of that user\n");
	ctl_fleet_hold_help(o);
	ctl_fleet_manifest_help(o);
	ps_out_printf(o, "Fleet security options (docs/fleet.md, \"Security\"):\n%s",
		      ps_fleet_sec_usage);
}
