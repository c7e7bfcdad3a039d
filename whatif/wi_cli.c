/* wi_cli.c: `parcelsortctl plan whatif` and the fleet's what-if (see
 * wi_cli.h): arguments, loading the two plans, the intercept list, the
 * chute states and the manifest, the daemon's when --against active (its
 * manifest as far as the capture needs it: wi_manifest.h). */
#include "wi_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_cli.h"
#include "ctl_client.h"
#include "ctl_commands.h"
#include "ctl_proto.h"
#include "ctl_table.h"
#include "holds.h"
#include "holds_list.h"
#include "manifest.h"
#include "outbuf.h"
#include "plan.h"
#include "plan_src.h"
#include "whatif.h"
#include "wi_manifest.h"
#include "wi_report.h"

#define WI_HOLD_PAGE "100000"    /* hold list's largest page */
#define WI_FILE_MAX (1ull << 32) /* a hold file bigger is refused */

struct wi_args {
	const char *candidate, *capture, *against, *holds, *manifest;
	int json;
};

/* --------------------------------------------------------------- plans */

static void print_errors(const struct ps_errors *e, const char *what,
			 int json)
{
	if (json) {
		printf("{\"ok\":false,\"refused\":");
		struct ps_out o;
		ps_out_init(&o);
		ps_out_json_str(&o, what);
		printf("%s,\"errors\":[", o.buf ? o.buf : "\"\"");
		ps_out_free(&o);
		for (size_t i = 0; i < e->n; i++) {
			ps_out_init(&o);
			ps_out_json_str(&o, e->msg[i]);
			printf("%s%s", i ? "," : "", o.buf);
			ps_out_free(&o);
		}
		printf("],\"more\":%zu}\n", e->dropped);
	}
	ps_errors_print(e, stderr);
}

/* A plan from its file (text NULL) or its text; NULL after the errors
 * (FILE:LINE: message) were printed. */
static struct ps_plan *load_plan(const char *name, const char *text,
				 size_t len, int json)
{
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	int rc = text ? ps_plan_parse(&src, text, len, name, &e)
		      : ps_plan_parse_file(&src, name, &e);
	struct ps_plan *p = rc ? NULL : ps_plan_compile(&src, 1, &e);
	if (!p) {
		fprintf(stderr, "parcelsortctl: plan %s refused:\n", name);
		print_errors(&e, name, json);
	}
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	return p;
}

/* ---------------------------------------------------- files and daemon */

/* One read-only command to the daemon, its JSON answer in *rep. */
static int ask(const char *ctl, unsigned cmd, const char *a0, const char *a1,
	       struct ps_ctl_reply *rep)
{
	struct ps_out body;
	char err[512];
	ps_out_init(&body);
	if (a0)
		ps_ctl_args(&body, a0);
	if (a1)
		ps_ctl_args(&body, a1);
	int rc = ps_ctl_call(ctl, (uint16_t)cmd, PS_CTL_F_JSON, &body, rep, err,
			     sizeof(err));
	ps_out_free(&body);
	if (rc) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		return EXIT_UNREACHABLE;
	}
	if (rep->status != PS_CTL_OK) {
		fprintf(stderr, "parcelsortctl: the daemon refused %s: %s",
			ps_ctl_cmd_info(cmd)->name, rep->body);
		ps_ctl_reply_free(rep);
		return EXIT_REFUSED;
	}
	return EXIT_DONE;
}

/* The JSON string starting at p (its opening quote) decoded into o;
 * returns the position after its closing quote, NULL when malformed. */
static const char *json_string(const char *p, struct ps_out *o)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			p++;
			switch (*p) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				unsigned u;
				if (sscanf(p + 1, "%4x", &u) != 1 || u > 0x7f)
					return NULL;
				c = (char)u;
				p += 4;
				break;
			}
			case 0: return NULL;
			default: c = *p;
			}
		}
		ps_out_write(o, &c, 1);
	}
	return *p == '"' ? p + 1 : NULL;
}

/* The active plan's text (plan show). */
static int active_plan(const char *ctl, struct ps_out *text)
{
	struct ps_ctl_reply rep;
	int rc = ask(ctl, PS_CTL_PLAN_SHOW, NULL, NULL, &rep);
	if (rc)
		return rc;
	const char *p = strstr(rep.body, "\"text\":");
	if (!p || !json_string(p + 7, text) || text->oom) {
		fprintf(stderr, "parcelsortctl: plan show: an answer I cannot "
			"read\n");
		rc = EXIT_REFUSED;
	}
	ps_ctl_reply_free(&rep);
	return rc;
}

/* The daemon's intercept list, page by page (hold list). */
static int active_holds(const char *ctl, struct ps_hold_list *l)
{
	char after[PS_HOLD_WAYBILL + 1] = "";
	for (;;) {
		struct ps_ctl_reply rep;
		int rc = ask(ctl, PS_CTL_HOLD_LIST, WI_HOLD_PAGE,
			     *after ? after : NULL, &rep);
		if (rc)
			return rc;
		const char *p = rep.body;
		while ((p = strstr(p, "{\"waybill\":"))) {
			struct ps_out w;
			ps_out_init(&w);
			p = json_string(p + 11, &w);
			if (!p || w.len > PS_HOLD_WAYBILL) {
				ps_out_free(&w);
				break;
			}
			uint8_t wb[PS_HOLD_WAYBILL] = { 0 };
			memcpy(wb, w.buf, w.len);
			ps_hold_list_append(l, wb, NULL, 0);
			ps_out_free(&w);
		}
		const char *n = strstr(rep.body, "\"next\":");
		struct ps_out next;
		ps_out_init(&next);
		int more = n && n[7] == '"' && json_string(n + 7, &next) &&
			   next.len && next.len <= PS_HOLD_WAYBILL;
		if (more)
			snprintf(after, sizeof(after), "%.*s", (int)next.len,
				 next.buf);
		ps_out_free(&next);
		ps_ctl_reply_free(&rep);
		if (l->oom) {
			fprintf(stderr, "parcelsortctl: out of memory\n");
			return EXIT_REFUSED;
		}
		if (!more)
			return EXIT_DONE;
	}
}

/* The chutes the operator disabled (chute list). */
static int active_chutes(const char *ctl, struct ps_chute_state *cs)
{
	struct ps_ctl_reply rep;
	int rc = ask(ctl, PS_CTL_CHUTE_LIST, NULL, NULL, &rep);
	if (rc)
		return rc;
	for (const char *p = rep.body; (p = strstr(p, "{\"chute\":")); p++) {
		unsigned ch;
		char en[8];
		if (sscanf(p, "{\"chute\":%u,\"enabled\":%7[a-z]", &ch, en) == 2 &&
		    ch < 65536 && !strcmp(en, "false"))
			ps_chute_disable(cs, (uint16_t)ch);
	}
	ps_ctl_reply_free(&rep);
	return EXIT_DONE;
}

/* A hold file (hold load's form). */
static int file_holds(const char *path, struct ps_hold_list *l, int json)
{
	size_t len;
	char *text = ctl_read_file_max(path, WI_FILE_MAX, &len);
	if (!text)              /* refused like a missing plan or manifest */
		return EXIT_REFUSED;
	struct ps_errors e;
	ps_errors_init(&e);
	ps_hold_parse(l, text, len, path, 1, &e);
	free(text);
	int rc = EXIT_DONE;
	if (e.n || e.dropped) {
		fprintf(stderr, "parcelsortctl: hold file %s refused:\n", path);
		print_errors(&e, path, json);
		rc = EXIT_REFUSED;
	} else if (l->oom) {
		fprintf(stderr, "parcelsortctl: out of memory\n");
		rc = EXIT_REFUSED;
	}
	ps_errors_free(&e);
	return rc;
}

/* The dataplane's set of the list's waybills. */
static struct ps_holds *holds_set(const struct ps_hold_list *l)
{
	uint8_t (*wb)[24] = malloc((l->n + 1) * sizeof(*wb));
	if (!wb)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		memcpy(wb[i], l->e[i].wb, 24);
	struct ps_holds *h = ps_holds_build((const uint8_t (*)[24])wb, l->n);
	free(wb);
	return h;
}

/* A manifest file, in memory only. */
static struct ps_manifest *load_manifest(const char *path, int json)
{
	char err[256];
	struct ps_manifest_cfg cfg = { 0 };
	struct ps_manifest *m = ps_manifest_open(&cfg, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "parcelsortctl: manifest: %s\n", err);
		return NULL;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "parcelsortctl: %s: %s\n", path,
			strerror(errno));
		ps_manifest_close(m);
		return NULL;
	}
	struct ps_errors e;
	struct ps_manifest_load_result res;
	ps_errors_init(&e);
	int rc = ps_manifest_load(m, f, path, 1, &e, &res);
	fclose(f);
	if (rc) {
		fprintf(stderr, "parcelsortctl: manifest %s refused:\n", path);
		print_errors(&e, path, json);
		ps_manifest_close(m);
		m = NULL;
	}
	ps_errors_free(&e);
	return m;
}

/* ----------------------------------------------------------- the run */

static int replay(struct wi_opts *o, const char *capture, int json,
		  unsigned long long *changed)
{
	struct wi_result r;
	char err[512];
	if (wi_run(o, capture, &r, err, sizeof(err))) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		if (json) {
			struct ps_out e;
			ps_out_init(&e);
			ps_out_json_str(&e, err);
			printf("{\"ok\":false,\"error\":%s}\n",
			       e.buf ? e.buf : "\"\"");
			ps_out_free(&e);
		}
		return EXIT_REFUSED;
	}
	if (r.truncated || r.corrupt)
		fprintf(stderr, "parcelsortctl: %s: %s after %llu whole "
			"records; the report covers those\n", capture,
			r.truncated ? "truncated" : "corrupt",
			(unsigned long long)r.frames);
	if (r.cut)
		fprintf(stderr, "parcelsortctl: %s: %llu frames cut short by "
			"the capture's snap length, not replayed\n", capture,
			(unsigned long long)r.cut);
	if (json)
		wi_report_json(&r, stdout);
	else
		wi_report_text(&r, stdout);
	if (changed)
		*changed = r.tally.changed;
	wi_result_free(&r);
	return EXIT_DONE;
}

static int parse_args(int argc, char **argv, struct wi_args *a)
{
	memset(a, 0, sizeof(*a));
	a->against = "active";
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		const char **slot = !strcmp(s, "--capture") ? &a->capture
			: !strcmp(s, "--against") ? &a->against
			: !strcmp(s, "--holds") ? &a->holds
			: !strcmp(s, "--manifest") ? &a->manifest : NULL;
		if (slot && i + 1 < argc) {
			*slot = argv[++i];
		} else if (!strcmp(s, "--json")) {
			a->json = 1;
		} else if (s[0] != '-' && !a->candidate) {
			a->candidate = s;
		} else {
			return -1;
		}
	}
	return a->candidate && a->capture ? 0 : -1;
}

int wi_cli_plan_whatif(int argc, char **argv, int json, const char *ctl)
{
	struct wi_args a;
	if (parse_args(argc, argv, &a))
		return ctl_bad_usage("plan whatif CANDIDATE --capture FILE "
				     "[--against active|PLAN] [--json] "
				     "[--holds FILE] [--manifest FILE]");
	json |= a.json;
	int active = !strcmp(a.against, "active");
	struct ps_plan *cand = load_plan(a.candidate, NULL, 0, json);
	if (!cand)
		return EXIT_REFUSED;
	struct ps_plan *cur = NULL;
	struct ps_hold_list hl;
	struct ps_holds *holds = NULL;
	struct ps_manifest *mf = NULL;
	struct ps_chute_state *cs = NULL;
	struct ps_out text;
	int rc = EXIT_DONE;
	ps_hold_list_init(&hl);
	ps_out_init(&text);
	if (active) {
		cs = malloc(sizeof(*cs));
		if (!cs) {
			rc = EXIT_REFUSED;
			goto out;
		}
		ps_chutes_init(cs);
		if ((rc = active_plan(ctl, &text)) ||
		    (!a.holds && (rc = active_holds(ctl, &hl))) ||
		    (rc = active_chutes(ctl, cs)))
			goto out;
		cur = load_plan("active plan", text.buf, text.len, json);
	} else {
		cur = load_plan(a.against, NULL, 0, json);
	}
	if (!cur) {
		rc = EXIT_REFUSED;
		goto out;
	}
	if (a.holds && (rc = file_holds(a.holds, &hl, json)))
		goto out;
	if (hl.n) {
		ps_hold_list_sort(&hl);
		if (!(holds = holds_set(&hl))) {
			fprintf(stderr, "parcelsortctl: out of memory\n");
			rc = EXIT_REFUSED;
			goto out;
		}
	}
	/* a manifest file, or with --against active the daemon's entries
	 * for the capture's barcode-only waybills */
	if (a.manifest && !(mf = load_manifest(a.manifest, json))) {
		rc = EXIT_REFUSED;
		goto out;
	}
	if (active && !a.manifest &&
	    (rc = wi_manifest_active(ctl, a.capture, &mf)))
		goto out;
	struct wi_opts o = {
		.plan = { cur, cand },
		.name = { active ? "active" : a.against, a.candidate },
		.holds = holds, .chutes = cs, .manifest = mf,
	};
	rc = replay(&o, a.capture, json, NULL);
out:
	ps_plan_free(cand);
	ps_plan_free(cur);
	ps_holds_free(holds);
	ps_hold_list_free(&hl);
	if (mf)
		ps_manifest_close(mf);
	free(cs);
	ps_out_free(&text);
	return rc;
}

int wi_cli_compare(const char *candidate, const char *candidate_text,
		   size_t candidate_len, const char *current_text,
		   size_t current_len, const char *current_name,
		   const char *capture, int json, unsigned long long *changed)
{
	struct ps_plan *cand = load_plan(candidate, candidate_text,
					 candidate_len, json);
	if (!cand)
		return EXIT_REFUSED;
	struct ps_plan *cur = load_plan(current_name, current_text,
					current_len, json);
	int rc = EXIT_REFUSED;
	if (cur) {
		struct wi_opts o = { .plan = { cur, cand },
				     .name = { current_name, candidate } };
		rc = replay(&o, capture, json, changed);
	}
	ps_plan_free(cand);
	ps_plan_free(cur);
	return rc;
}
