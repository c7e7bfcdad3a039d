/* ctl_main.c: parcelsortctl, the operator's command line for parcelsortd:
 * plans, staged edits, route explanations, chutes, statistics and captures
 * over the control socket; `plan check` works offline. The command table
 * (ctl_commands.h) drives the parsing and --help: each row's cli_<fn>
 * below builds its request. Answers come as JSON (the wire form); the
 * control library renders their text unless --json. Exit codes: 0 done,
 * 1 refused, 2 usage, 3 daemon unreachable. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture_limits.h"
#include "ctl_cli.h"
#include "ctl_client.h"
#include "ctl_fleet.h"
#include "ctl_proto.h"
#include "ctl_render.h"
#include "ctl_table.h"
#include "doctor.h"
#include "holds_list.h"
#include "outbuf.h"
#include "wi_cli.h"

static const char *ctl_path = "/run/parcelsort/ctl.sock";
/* hold load, manifest load: the file goes in parts of at most this many
 * bytes */
#define CTL_HOLD_PART (16u << 20)
#define CTL_MANIFEST_PART (16u << 20)
static int json;

/* What a row's builder gets: the spelling typed and the words after it. */
struct typed {
	unsigned cmd, form;
	const char *words;      /* "route add" */
	int argc;
	char **argv;
};

typedef int cli_fn(const struct typed *t);

static void usage(FILE *f)
{
	struct ps_out o;
	ps_out_init(&o);
	ps_out_printf(&o, "usage: parcelsortctl [--ctl PATH] [--json] COMMAND\n"
		      "Operate a running parcelsortd through its control "
		      "socket\n(default /run/parcelsort/ctl.sock).\n\n");
	ps_ctl_help(&o);
	ps_out_printf(&o, "\nOffline (no daemon needed):\n");
	ps_ctl_help_line(&o, "plan check FILE", "check and compile a plan");
	ps_ctl_help_line(&o, "plan whatif CANDIDATE --capture FILE "
			 "[--against active|PLAN]", "decide a capture's records "
			 "under both plans and report what changes (offline "
			 "with --against PLAN; --holds FILE, --manifest FILE, "
			 "--json: docs/whatif.md)");
	ps_ctl_help_line(&o, "doctor [--root DIR] [--state-dir DIR] [--lcores "
			 "LIST]", "is this host ready for parcelsortd: "
			 "hugepages, ports on vfio-pci, IOMMU, isolated "
			 "cores, NUMA, CPU flags, disk (each finding with "
			 "its fix)");
	ctl_fleet_help(&o);
	ps_out_printf(&o, "\nExit codes: 0 done, 1 refused (the reasons are "
		      "printed), 2 usage,\n3 the daemon cannot be reached.\n");
	fputs(o.buf ? o.buf : "", f);
	ps_out_free(&o);
}

/* ------------------------------------------------------------ transport */

/* Send cmd with body (asking for JSON), print the answer: the JSON with
 * --json, else its text; returns the exit code. */
static int call(unsigned cmd, const struct ps_out *body)
{
	struct ps_ctl_reply rep;
	char err[512];
	int rc = ps_ctl_call(ctl_path, (uint16_t)cmd, PS_CTL_F_JSON, body, &rep,
			     err, sizeof(err));
	/* a read-only command is safe to send again if the connection was
	 * lost (a daemon with every client slot taken hands out the slot of
	 * its longest-idle client); a changing one is not */
	if (rc && ps_ctl_cmd_readonly(cmd))
		rc = ps_ctl_call(ctl_path, (uint16_t)cmd, PS_CTL_F_JSON, body,
				 &rep, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		return EXIT_UNREACHABLE;
	}
	FILE *f = rep.status == PS_CTL_OK || json ? stdout : stderr;
	if (json) {
		fputs(rep.body, f);
	} else {
		struct ps_out o;
		ps_out_init(&o);
		ps_ctl_render(cmd, rep.status, rep.body, rep.len, &o);
		fputs(o.buf ? o.buf : "", f);
		ps_out_free(&o);
	}
	rc = rep.status == PS_CTL_OK ? EXIT_DONE
	     : rep.status == PS_CTL_ERR_USAGE ? EXIT_USAGE : EXIT_REFUSED;
	ps_ctl_reply_free(&rep);
	return rc;
}

/* The request of cmd with argv as its arguments. */
static int call_args(unsigned cmd, int argc, char **argv)
{
	struct ps_out body;
	ps_out_init(&body);
	for (int i = 0; i < argc; i++)
		ps_ctl_args(&body, argv[i]);
	int rc = call(cmd, &body);
	ps_out_free(&body);
	return rc;
}

static int wrong(const struct typed *t)
{
	const struct ps_ctl_cmd_info *r = ps_ctl_cmd_info(t->cmd);
	char msg[512];
	snprintf(msg, sizeof(msg), "%s: wrong arguments (%s)", t->words,
		 r->forms);
	return ctl_bad_usage(msg);
}

/* Rows without arguments. */
static int no_args(const struct typed *t)
{
	return t->argc ? wrong(t) : call_args(t->cmd, 0, NULL);
}

#define cli_status no_args
#define cli_plan_show no_args
#define cli_plan_history no_args
#define cli_begin no_args
#define cli_commit no_args
#define cli_abort no_args
#define cli_chute_list no_args
#define cli_stats_reset no_args
#define cli_hold_clear no_args
#define cli_manifest_stats no_args

/* --------------------------------------------------------------- plans */

/* TIME as ms since the epoch; 0 on a bad TIME. */
static uint64_t parse_at(const char *s)
{
	time_t now = time(NULL);
	struct tm tm;
	char unit, tail;
	long long n;
	if (s[0] == '+' && sscanf(s + 1, "%lld%c%c", &n, &unit, &tail) == 2 &&
	    n > 0 && (unit == 's' || unit == 'm' || unit == 'h'))
		return ((uint64_t)now +
			(uint64_t)n * (unit == 's' ? 1 : unit == 'm' ? 60 : 3600)) *
		       1000;
	if (s[0] == '@' && sscanf(s + 1, "%lld%c", &n, &tail) == 1 && n > 0)
		return (uint64_t)n * 1000;
	localtime_r(&now, &tm);
	struct tm t = tm;
	t.tm_sec = 0;
	const char *end;
	if ((end = strptime(s, "%Y-%m-%d %H:%M:%S", &t)) && !*end)
		goto mk;
	t = tm;
	t.tm_sec = 0;
	if ((end = strptime(s, "%Y-%m-%d %H:%M", &t)) && !*end)
		goto mk;
	t = tm;
	t.tm_sec = 0;
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &t)) && !*end)
		goto mk;
	t = tm;
	t.tm_sec = 0;
	if ((end = strptime(s, "%H:%M", &t)) && !*end) {
		t.tm_isdst = -1;
		time_t x = mktime(&t);
		if (x <= now)
			x += 86400;          /* the next time it is HH:MM */
		return (uint64_t)x * 1000;
	}
	return 0;
mk:
	t.tm_isdst = -1;
	return (uint64_t)mktime(&t) * 1000;
}

/* The plan's name for the daemon: its path, or the path's last
 * PS_CTL_MAX_NAME bytes (the daemon takes no longer name). */
static const char *plan_name(const char *path)
{
	size_t n = strlen(path);
	return n > PS_CTL_MAX_NAME ? path + n - PS_CTL_MAX_NAME : path;
}

static int plan_send(unsigned cmd, const char *path, const char *at)
{
	struct ps_out body;
	size_t len;
	uint64_t ms = 0;
	if (at && !(ms = parse_at(at)))
		return ctl_bad_usage("--at: not a time I understand");
	char *text = ctl_read_file(path, &len);
	if (!text)
		return EXIT_USAGE;
	ps_out_init(&body);
	ps_ctl_args(&body, plan_name(path));
	ps_ctl_arg(&body, text, len);
	free(text);
	if (at) {
		char b[32];
		snprintf(b, sizeof(b), "%llu", (unsigned long long)ms);
		ps_ctl_args(&body, b);
	}
	int rc = call(cmd, &body);
	ps_out_free(&body);
	return rc;
}

static int cli_plan_load(const struct typed *t)
{
	if (t->argc == 1)
		return plan_send(t->cmd, t->argv[0], NULL);
	if (t->argc == 3 && !strcmp(t->argv[1], "--at"))
		return plan_send(t->cmd, t->argv[0], t->argv[2]);
	return wrong(t);
}

static int cli_plan_diff(const struct typed *t)
{
	return t->argc == 1 ? plan_send(t->cmd, t->argv[0], NULL) : wrong(t);
}

static int cli_plan_rollback(const struct typed *t)
{
	return t->argc <= 1 ? call_args(t->cmd, t->argc, t->argv) : wrong(t);
}

/* ------------------------------------------------------- staged edits */

/* The synopsis of the spelling typed: how many fields it takes (a last
 * field "X..." takes one or more). */
static void field_counts(const struct typed *t, int *min, int *max)
{
	const char *f = ps_ctl_cmd_info(t->cmd)->forms;
	for (unsigned i = 0; i < t->form; i++)
		f = strchr(f, '|') + 1;
	const char *end = strchr(f, '|');
	if (!end)
		end = f + strlen(f);
	*min = *max = 0;
	for (const char *p = f; p < end; p++) {
		if (*p == ' ' && p + 1 < end && p[1] >= 'A' && p[1] <= 'Z')
			(*min)++;
		if (!strncmp(p, "...", 3))
			*max = -1;
	}
	if (*max == 0)
		*max = *min;
}

/* "route add 3307 100 10,11" -> edit "route 3307 100 10,11" */
static int cli_edit(const struct typed *t)
{
	int min, max;
	field_counts(t, &min, &max);
	if (t->argc < min || (max >= 0 && t->argc > max))
		return wrong(t);
	struct ps_out line;
	ps_out_init(&line);
	ps_out_write(&line, t->words, strcspn(t->words, " "));
	for (int i = 0; i < t->argc; i++) {
		if (strchr(t->argv[i], '\n') || strchr(t->argv[i], '#')) {
			ps_out_free(&line);
			return ctl_bad_usage("a field holds a newline or '#'");
		}
		ps_out_printf(&line, " %s", t->argv[i]);
	}
	char *l = line.buf;
	int rc = call_args(t->cmd, 1, &l);
	ps_out_free(&line);
	return rc;
}

/* "route del 3307" -> delete "route" "3307" */
static int cli_delete(const struct typed *t)
{
	int min, max;
	char kind[16];
	field_counts(t, &min, &max);
	if (t->argc != min)
		return wrong(t);
	snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(t->words, " "),
		 t->words);
	char *a[2] = { kind, min ? t->argv[0] : NULL };
	return call_args(t->cmd, min ? 2 : 1, a);
}

/* ----------------------------------------------------------- route get */

static int cli_route_get(const struct typed *t)
{
	static const char *const opts[] = { "carrier", "service", "weight",
					    "size", "device", "waybill" };
	if (t->argc < 1)
		return wrong(t);
	struct ps_out body;
	ps_out_init(&body);
	ps_ctl_args(&body, t->argv[0]);
	for (int i = 1; i < t->argc; i++) {
		int ok = 0;
		for (int k = 0; k < 6 && !ok; k++)
			if (!strncmp(t->argv[i], "--", 2) &&
			    !strcmp(t->argv[i] + 2, opts[k]) && i + 1 < t->argc) {
				char b[256];
				snprintf(b, sizeof(b), "%s=%s", opts[k],
					 t->argv[++i]);
				ps_ctl_args(&body, b);
				ok = 1;
			}
		if (!ok) {
			ps_out_free(&body);
			return wrong(t);
		}
	}
	int rc = call(t->cmd, &body);
	ps_out_free(&body);
	return rc;
}

/* -------------------------------------------------------------- chutes */

/* "chute disable 10 11" -> chute set "disable" "10" "11" */
static int cli_chute_set(const struct typed *t)
{
	if (t->argc < 1 || t->argc >= (int)PS_CTL_MAX_ARGS)
		return wrong(t);
	struct ps_out body;
	ps_out_init(&body);
	ps_ctl_args(&body, strchr(t->words, ' ') + 1);
	for (int i = 0; i < t->argc; i++)
		ps_ctl_args(&body, t->argv[i]);
	int rc = call(t->cmd, &body);
	ps_out_free(&body);
	return rc;
}

/* --------------------------------------------------------------- holds */

/* "hold add W1 W2 --note TEXT" -> hold add "TEXT" "W1" "W2" */
static int cli_hold_add(const struct typed *t)
{
	const char *note = "";
	char *wb[PS_CTL_MAX_ARGS];
	int n = 0;
	for (int i = 0; i < t->argc; i++) {
		if (!strcmp(t->argv[i], "--note") && i + 1 < t->argc) {
			note = t->argv[++i];
			continue;
		}
		if (!strncmp(t->argv[i], "--", 2) ||
		    n == (int)PS_CTL_MAX_ARGS - 1)
			return n == (int)PS_CTL_MAX_ARGS - 1
				       ? ctl_bad_usage("hold add: at most 63 "
						       "waybills a command (hold "
						       "load for more)")
				       : wrong(t);
		wb[n++] = t->argv[i];
	}
	if (!n)
		return wrong(t);
	struct ps_out body;
	ps_out_init(&body);
	ps_ctl_args(&body, note);
	for (int i = 0; i < n; i++)
		ps_ctl_args(&body, wb[i]);
	int rc = call(t->cmd, &body);
	ps_out_free(&body);
	return rc;
}

static int cli_hold_del(const struct typed *t)
{
	if (t->argc < 1)
		return wrong(t);
	if (t->argc >= (int)PS_CTL_MAX_ARGS)
		return ctl_bad_usage("hold del: at most 63 waybills a command");
	for (int i = 0; i < t->argc; i++)
		if (!strncmp(t->argv[i], "--", 2))
			return wrong(t);
	return call_args(t->cmd, t->argc, t->argv);
}

static int cli_hold_list(const struct typed *t)
{
	const char *limit = "1000", *after = NULL;
	for (int i = 0; i < t->argc; i++) {
		if (i + 1 < t->argc && !strcmp(t->argv[i], "--limit"))
			limit = t->argv[++i];
		else if (i + 1 < t->argc && !strcmp(t->argv[i], "--after"))
			after = t->argv[++i];
		else
			return wrong(t);
	}
	char *a[2] = { (char *)limit, (char *)after };
	return call_args(t->cmd, after ? 2 : 1, a);
}

/* ------------------------------------------------------------- devices */

/* "device list --sort noread --limit 20" -> device list "noread" "20" */
static int cli_device_list(const struct typed *t)
{
	const char *sort = "records", *limit = NULL;
	for (int i = 0; i < t->argc; i++) {
		if (i + 1 < t->argc && !strcmp(t->argv[i], "--sort"))
			sort = t->argv[++i];
		else if (i + 1 < t->argc && !strcmp(t->argv[i], "--limit"))
			limit = t->argv[++i];
		else
			return wrong(t);
	}
	char *a[2] = { (char *)sort, (char *)limit };
	return call_args(t->cmd, limit ? 2 : 1, a);
}

/* ------------------------------------------------------------- capture */

#define cli_capture_stop no_args
#define cli_capture_status no_args

/* A whole number lo..hi in s, else a usage error naming the option. */
static int capture_num(const char *opt, const char *s, unsigned long lo,
		       unsigned long hi, unsigned long *v)
{
	char *end, msg[160];
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (*s && *s != '-' && *s != '+' && !*end && !errno && *v >= lo &&
	    *v <= hi)
		return 0;
	snprintf(msg, sizeof(msg), "capture start: %s takes a whole number "
		 "%lu..%lu, not \"%s\"", opt, lo, hi, s);
	return ctl_bad_usage(msg);
}

/* "capture start FILE --duration 60 --sample 1/10" -> capture start
 * "/abs/FILE" "60" "1024" "10" (the daemon creates the file: an absolute
 * path, from this command's working directory) */
static int cli_capture_start(const struct typed *t)
{
	unsigned long dur = 0, mb = PS_CAPTURE_MAX_MB_DEFAULT, k = 1;
	int seen[3] = { 0, 0, 0 };
	if (t->argc < 1 || !t->argv[0][0] || !strncmp(t->argv[0], "--", 2))
		return wrong(t);
	for (int i = 1; i < t->argc; i++) {
		static const char *const opts[] = { "--duration", "--max-mb",
						    "--sample" };
		int o = 0;
		while (o < 3 && strcmp(t->argv[i], opts[o]))
			o++;
		if (o == 3 || i + 1 == t->argc)
			return wrong(t);
		if (seen[o]++) {
			char msg[64];
			snprintf(msg, sizeof(msg), "capture start: %s given "
				 "twice", opts[o]);
			return ctl_bad_usage(msg);
		}
		const char *v = t->argv[++i];
		int rc;
		if (o == 0)
			rc = capture_num("--duration", v, 1,
					 PS_CAPTURE_MAX_DURATION_S, &dur);
		else if (o == 1)
			rc = capture_num("--max-mb", v, 1,
					 PS_CAPTURE_MAX_MB_LIMIT, &mb);
		else if (strncmp(v, "1/", 2))
			rc = ctl_bad_usage("capture start: --sample is 1/K "
					   "(every K-th request frame), e.g. "
					   "1/10");
		else
			rc = capture_num("--sample", v + 2, 1,
					 PS_CAPTURE_MAX_SAMPLE, &k);
		if (rc)
			return rc;
	}
	char path[4096], cwd[4096], a[3][24];
	const char *f = t->argv[0];
	if (f[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return ctl_bad_usage("capture start: cannot tell the "
					     "working directory for a relative "
					     "FILE");
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", cwd, f) >=
		    sizeof(path))
			return ctl_bad_usage("capture start: FILE is too long");
		f = path;
	}
	snprintf(a[0], sizeof(a[0]), "%lu", dur);
	snprintf(a[1], sizeof(a[1]), "%lu", mb);
	snprintf(a[2], sizeof(a[2]), "%lu", k);
	char *args[4] = { (char *)f, a[0], a[1], a[2] };
	return call_args(t->cmd, 4, args);
}

/* One step of a load in parts, its answer kept in rep; the exit code. */
static int load_step(unsigned cmd, const struct ps_out *body,
		     struct ps_ctl_reply *rep)
{
	char err[512];
	if (ps_ctl_call(ctl_path, (uint16_t)cmd, PS_CTL_F_JSON, body, rep, err,
			sizeof(err))) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		return EXIT_UNREACHABLE;
	}
	if (rep->status == PS_CTL_OK)
		return EXIT_DONE;
	if (json) {
		fputs(rep->body, stdout);
	} else {
		struct ps_out o;
		ps_out_init(&o);
		ps_ctl_render(cmd, rep->status, rep->body, rep->len, &o);
		fputs(o.buf ? o.buf : "", stderr);
		ps_out_free(&o);
	}
	int rc = rep->status == PS_CTL_ERR_USAGE ? EXIT_USAGE : EXIT_REFUSED;
	ps_ctl_reply_free(rep);
	return rc;
}

/* "hold load FILE": begin, the file in parts of at most
 * CTL_HOLD_PART bytes cut at line ends, commit (the list is replaced at
 * once, or not at all). */
static int cli_hold_load(const struct typed *t)
{
	if (t->argc != 1)
		return wrong(t);
	size_t len;
	/* sent in parts: larger than one request */
	char *text = ctl_read_file_max(t->argv[0], PS_HOLDS_FILE_MAX_BYTES,
				       &len);
	if (!text)
		return EXIT_USAGE;
	if (ctl_refuse_nul(t->argv[0], text, len, 1)) {
		free(text);
		return EXIT_REFUSED;
	}
	struct ps_out body;
	struct ps_ctl_reply rep;
	char token[32] = "";
	ps_out_init(&body);
	ps_ctl_args(&body, "begin");
	ps_ctl_args(&body, plan_name(t->argv[0]));
	int rc = load_step(t->cmd, &body, &rep);
	if (!rc) {
		const char *p = strstr(rep.body, "\"token\":\"");
		if (p)
			snprintf(token, sizeof(token), "%.*s",
				 (int)strcspn(p + 9, "\""), p + 9);
		ps_ctl_reply_free(&rep);
	}
	size_t off = 0;
	unsigned long line = 1;
	while (!rc && off < len) {
		size_t n = len - off < CTL_HOLD_PART ? len - off : CTL_HOLD_PART;
		if (off + n < len) {           /* cut after the last newline */
			const char *nl = memrchr(text + off, '\n', n);
			if (nl)
				n = (size_t)(nl - (text + off)) + 1;
		}
		char first[24];
		snprintf(first, sizeof(first), "%lu", line);
		ps_out_free(&body);
		ps_out_init(&body);
		ps_ctl_args(&body, "part");
		ps_ctl_args(&body, token);
		ps_ctl_args(&body, first);
		ps_ctl_arg(&body, text + off, n);
		rc = load_step(t->cmd, &body, &rep);
		if (!rc)
			ps_ctl_reply_free(&rep);
		for (size_t i = 0; i < n; i++)
			line += text[off + i] == '\n';
		off += n;
	}
	free(text);
	ps_out_free(&body);
	ps_out_init(&body);
	ps_ctl_args(&body, rc ? "abort" : "commit");
	ps_ctl_args(&body, token);
	if (rc) {
		if (*token && rc != EXIT_UNREACHABLE &&
		    load_step(t->cmd, &body, &rep) == EXIT_DONE)
			ps_ctl_reply_free(&rep);
	} else {
		rc = call(t->cmd, &body);
	}
	ps_out_free(&body);
	return rc;
}

/* ------------------------------------------------------------ manifest */

/* The token out of a begin's answer {"token":"N"}. */
static void token_of(const struct ps_ctl_reply *rep, char *token, size_t n)
{
	const char *p = strstr(rep->body, "\"token\":\"");
	if (p)
		snprintf(token, n, "%.*s", (int)strcspn(p + 9, "\""), p + 9);
}

/* One part: TEXT (whole lines) from line first on. */
static int manifest_part(unsigned cmd, const char *token, unsigned long first,
			 const char *text, size_t n)
{
	struct ps_out body;
	struct ps_ctl_reply rep;
	char f[24];
	snprintf(f, sizeof(f), "%lu", first);
	ps_out_init(&body);
	ps_ctl_args(&body, "part");
	ps_ctl_args(&body, token);
	ps_ctl_args(&body, f);
	ps_ctl_arg(&body, text, n);
	int rc = load_step(cmd, &body, &rep);
	if (!rc)
		ps_ctl_reply_free(&rep);
	ps_out_free(&body);
	return rc;
}

/* A load interrupted (Ctrl-C, kill, the terminal gone) is aborted before
 * the command exits: left staged, the daemon would refuse every other
 * load (the site agent's too) as busy for 60 s. */
static volatile sig_atomic_t load_interrupted;

static void on_load_signal(int sig)
{
	(void)sig;
	load_interrupted = 1;
}

/* SIGINT, SIGTERM and SIGHUP caught, but one ignored at start (nohup, a
 * shell's background job) stays ignored. */
static void catch_load_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, was;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_load_signal;  /* no SA_RESTART: a read returns */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &was) == 0 &&
		    was.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

static int load_was_interrupted(void)
{
	fprintf(stderr, "parcelsortctl: manifest load interrupted: aborted, "
		"nothing of it loaded\n");
	return EXIT_REFUSED;
}

/* The file read as a stream, sent in parts of at most CTL_MANIFEST_PART
 * bytes cut after a line's end (a file of 500 MB never sits in memory
 * whole). */
static int manifest_parts(unsigned cmd, const char *token, FILE *f,
			  const char *path)
{
	char *buf = malloc(CTL_MANIFEST_PART);
	size_t have = 0;
	unsigned long line = 1;
	int rc = EXIT_DONE;
	if (!buf)
		return ctl_bad_usage("out of memory");
	while (!rc) {
		size_t got = fread(buf + have, 1, CTL_MANIFEST_PART - have, f);
		if (load_interrupted) {
			rc = load_was_interrupted();
			break;
		}
		have += got;
		if (!have)
			break;
		const char *nl = memrchr(buf, '\n', have);
		size_t n = got == 0 || !nl ? have : (size_t)(nl - buf) + 1;
		rc = ctl_refuse_nul(path, buf, n, line);
		if (!rc)
			rc = manifest_part(cmd, token, line, buf, n);
		for (const char *c = buf; (c = memchr(c, '\n', (size_t)(buf + n - c)));
		     c++)
			line++;
		memmove(buf, buf + n, have - n);
		have -= n;
	}
	if (!rc && ferror(f))
		rc = ctl_bad_usage("manifest load: read error");
	free(buf);
	return rc;
}

/* "manifest load FILE [--replace]": begin NAME REPLACE, the file in
 * parts, commit (all or nothing; --replace swaps the whole manifest at
 * once) or abort. */
static int cli_manifest_load(const struct typed *t)
{
	int replace = t->argc == 2 && !strcmp(t->argv[1], "--replace");
	if (t->argc != 1 && !replace)
		return wrong(t);
	FILE *f = fopen(t->argv[0], "r");
	if (!f) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: cannot open", t->argv[0]);
		return ctl_bad_usage(msg);
	}
	struct ps_out body;
	struct ps_ctl_reply rep;
	char token[32] = "";
	catch_load_signals();
	ps_out_init(&body);
	ps_ctl_args(&body, "begin");
	ps_ctl_args(&body, plan_name(t->argv[0]));
	ps_ctl_args(&body, replace ? "1" : "0");
	int rc = load_step(t->cmd, &body, &rep);
	if (!rc) {
		token_of(&rep, token, sizeof(token));
		ps_ctl_reply_free(&rep);
		rc = manifest_parts(t->cmd, token, f, t->argv[0]);
	}
	fclose(f);
	ps_out_free(&body);
	ps_out_init(&body);
	ps_ctl_args(&body, rc ? "abort" : "commit");
	ps_ctl_args(&body, token);
	if (rc) {
		if (*token && rc != EXIT_UNREACHABLE &&
		    load_step(t->cmd, &body, &rep) == EXIT_DONE)
			ps_ctl_reply_free(&rep);
	} else {
		rc = call(t->cmd, &body);
	}
	ps_out_free(&body);
	return rc;
}

static int cli_manifest_add(const struct typed *t)
{
	return t->argc == 2 ? call_args(t->cmd, 2, t->argv) : wrong(t);
}

static int cli_manifest_del(const struct typed *t)
{
	if (t->argc < 1)
		return wrong(t);
	if (t->argc >= (int)PS_CTL_MAX_ARGS)
		return ctl_bad_usage("manifest del: at most 63 waybills a "
				     "command");
	for (int i = 0; i < t->argc; i++)
		if (!strncmp(t->argv[i], "--", 2))
			return wrong(t);
	return call_args(t->cmd, t->argc, t->argv);
}

/* "manifest get WAYBILL...": each waybill an argument, or past the
 * request's 63 arguments all in one, separated by newlines (the daemon
 * takes at most PS_CTL_MANIFEST_GET_MAX a request) */
static int cli_manifest_get(const struct typed *t)
{
	if (t->argc < 1)
		return wrong(t);
	if (t->argc > (int)PS_CTL_MANIFEST_GET_MAX) {
		char msg[96];
		snprintf(msg, sizeof(msg), "manifest get: at most %u waybills "
			 "a command", PS_CTL_MANIFEST_GET_MAX);
		return ctl_bad_usage(msg);
	}
	for (int i = 0; i < t->argc; i++)
		if (!strncmp(t->argv[i], "--", 2))
			return wrong(t);
	if (t->argc < (int)PS_CTL_MAX_ARGS)
		return call_args(t->cmd, t->argc, t->argv);
	struct ps_out all, body;
	ps_out_init(&all);
	ps_out_init(&body);
	for (int i = 0; i < t->argc; i++)
		ps_out_printf(&all, "%s%s", i ? "\n" : "", t->argv[i]);
	int rc;
	if (all.oom) {
		fprintf(stderr, "parcelsortctl: out of memory\n");
		rc = EXIT_REFUSED;
	} else {
		ps_ctl_args(&body, all.buf);
		rc = call(t->cmd, &body);
	}
	ps_out_free(&all);
	ps_out_free(&body);
	return rc;
}

/* --------------------------------------------------------------- stats */

static volatile int stop_watch;

static void on_int(int sig)
{
	(void)sig;
	stop_watch = 1;
}

static int cli_stats(const struct typed *t)
{
	if (t->argc == 0)
		return call_args(t->cmd, 0, NULL);
	if (strcmp(t->argv[0], "--watch") || t->argc > 2)
		return wrong(t);
	long n = t->argc == 2 ? strtol(t->argv[1], NULL, 10) : 0;
	signal(SIGINT, on_int);
	for (long i = 0; !stop_watch && (!n || i < n); i++) {
		if (!json)
			printf("\033[H\033[2J");
		int rc = call_args(t->cmd, 0, NULL);
		fflush(stdout);
		if (rc)
			return rc;
		if (n && i + 1 == n)
			break;
		sleep(1);
	}
	return EXIT_DONE;
}

/* ---------------------------------------------------------------- main */

/* The CLI's view of the command table: a builder per row. */
static cli_fn *const builders[PS_CTL_CMD_MAX] = {
#define ROW(id, fn, access, name, forms, help) [PS_CTL_##id] = cli_##fn,
	PS_CTL_COMMANDS(ROW)
#undef ROW
};

static int run_command(int argc, char **argv)
{
	if (!strcmp(argv[0], "fleet"))
		return ctl_fleet(argc, argv, json);
	if (!strcmp(argv[0], "doctor"))
		return ctl_doctor(argc, argv, json);
	if (argc == 3 && !strcmp(argv[0], "plan") && !strcmp(argv[1], "check"))
		return ctl_plan_check(argv[2], json, 0);
	if (argc >= 2 && !strcmp(argv[0], "plan") && !strcmp(argv[1], "whatif"))
		return wi_cli_plan_whatif(argc - 2, argv + 2, json, ctl_path);
	struct typed t = { 0 };
	int used;
	char words[64];
	t.cmd = ps_ctl_cmd_match(argc, argv, &t.form, &used);
	if (!t.cmd)
		return ctl_bad_usage("unknown command or wrong arguments");
	ps_ctl_cmd_words(t.cmd, t.form, words, sizeof(words));
	t.words = words;
	t.argc = argc - used;
	t.argv = argv + used;
	return builders[t.cmd](&t);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ctl", required_argument, 0, 'c' },
		{ "json", no_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 },
	};
	int o;
	const char *env = getenv("PARCELSORT_CTL");
	if (env && *env)
		ctl_path = env;
	/* options before the command only: the command's own --flags follow */
	while ((o = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (o == 'c')
			ctl_path = optarg;
		else if (o == 'j')
			json = 1;
		else if (o == 'h') {
			usage(stdout);
			return EXIT_DONE;
		} else if (o == 'v') {
			printf("parcelsortctl %s\n", PARCELSORT_VERSION);
			return EXIT_DONE;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return run_command(argc, argv);
}
