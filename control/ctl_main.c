/* ctl_main.c: parcelsortctl, the operator's command line for parcelsortd:
 * plans, staged edits, route explanations, chutes and statistics over the
 * control socket (ctl_proto.h); `plan check` works offline. Exit codes:
 * 0 done, 1 refused, 2 usage, 3 daemon unreachable. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl_cli.h"
#include "ctl_client.h"
#include "ctl_proto.h"
#include "outbuf.h"
#include "plan.h"
#include "plan_src.h"


static const char *ctl_path = "/run/parcelsort/ctl.sock";
static int json;

static void usage(FILE *f)
{
	fprintf(f,
"usage: parcelsortctl [--ctl PATH] [--json] COMMAND\n"
"Operate a running parcelsortd through its control socket\n"
"(default /run/parcelsort/ctl.sock).\n"
"\n"
"  status                          version, uptime, ports, plan, rates, memory\n"
"  plan check FILE                 check a plan offline (no daemon needed)\n"
"  plan load FILE [--at TIME]      commit a plan now, or at TIME: \"YYYY-MM-DD\n"
"                                  HH:MM[:SS]\", \"HH:MM\" (next), \"+90s\",\n"
"                                  \"+15m\", \"+2h\" or \"@UNIX_SECONDS\"\n"
"  plan diff FILE                  hubs, routes, rules, chutes changed against\n"
"                                  the active plan\n"
"  plan show                       the active plan, as plan text\n"
"  plan history                    the last 16 committed plans\n"
"  plan rollback [VERSION]         re-commit an earlier plan (default: the\n"
"                                  one before the active one)\n"
"  begin                           open a transaction of staged edits\n"
"  route add PREFIX HUB CHUTES     stage a route (replaces one with that prefix)\n"
"  route del PREFIX\n"
"  rule add PRIORITY HUB CHUTES COND...\n"
"  rule del PRIORITY\n"
"  hub add HUB_ID TIER NAME...\n"
"  hub del HUB_ID\n"
"  default set HUB CHUTES | default del\n"
"  commit | abort                  publish the staged edits, or drop them\n"
"  route get REGION [--carrier XY] [--service F] [--weight G] [--size MM]\n"
"            [--device N] [--waybill W]\n"
"                                  which rule, route or default decides, and\n"
"                                  the chute\n"
"  chute list                      every chute: state and records\n"
"  chute disable N [N...] | chute enable N [N...]\n"
"  stats [--watch]                 counters (--watch: refresh every second)\n"
"  stats reset                     start the counters from zero (a baseline)\n"
"\n"
"Fleet commands talk to the NATS cluster (--nats URLS or $PARCELSORT_NATS,\n"
"default nats://127.0.0.1:4222), not to one daemon (docs/fleet.md):\n"
"  fleet init [--replicas N]       create the plan and status buckets and\n"
"                                  the event stream\n"
"  fleet push FILE --site ID | --sites ID,ID... [--no-check]\n"
"                                  check a plan offline (unless --no-check:\n"
"                                  then only the sites check it), then hand\n"
"                                  it to the sites' agents\n"
"  fleet status [--site ID]        per site: revision pushed and handled,\n"
"                                  outcome, plan version, refusals, events\n"
"  fleet events --site ID          audit the site's events in the stream\n"
"\n"
"Exit codes: 0 done, 1 refused (the reasons are printed), 2 usage,\n"
"3 the daemon cannot be reached.\n");
}

int ctl_bad_usage(const char *msg)
{
	fprintf(stderr, "parcelsortctl: %s (--help for the commands)\n", msg);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------ transport */

struct request {
	uint16_t cmd;
	struct ps_out body;
};

static void arg(struct request *r, const char *s, size_t n)
{
	ps_ctl_arg(&r->body, s, n);
}

static void args(struct request *r, const char *s)
{
	ps_ctl_args(&r->body, s);
}

/* Send, receive, print; returns the exit code. */
static int call(struct request *r, int quiet_ok)
{
	struct ps_ctl_reply rep;
	char err[512];
	if (ps_ctl_call(ctl_path, r->cmd, json ? PS_CTL_F_JSON : 0, &r->body,
			&rep, err, sizeof(err))) {
		fprintf(stderr, "parcelsortctl: %s\n", err);
		return EXIT_UNREACHABLE;
	}
	if (rep.status == PS_CTL_OK) {
		if (!quiet_ok)
			fputs(rep.body, stdout);
	} else {
		fputs(rep.body, json ? stdout : stderr);
	}
	int rc = rep.status == PS_CTL_OK ? EXIT_DONE
		 : rep.status == PS_CTL_ERR_USAGE ? EXIT_USAGE : EXIT_REFUSED;
	ps_ctl_reply_free(&rep);
	return rc;
}

static int simple(uint16_t cmd, int argc, char **argv)
{
	struct request r = { .cmd = cmd };
	ps_out_init(&r.body);
	for (int i = 0; i < argc; i++)
		args(&r, argv[i]);
	int rc = call(&r, 0);
	ps_out_free(&r.body);
	return rc;
}

/* --------------------------------------------------------------- plans */

char *ctl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)PS_CTL_MAX_REQUEST - 4096) {
		fprintf(stderr, "parcelsortctl: %s: %s\n", path,
			f ? "not a regular file of a sane size"
			  : strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	char *b = malloc((size_t)st.st_size + 1);
	if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "parcelsortctl: %s: read error\n", path);
		free(b);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)st.st_size;
	b[*len] = 0;
	return b;
}

int ctl_plan_check(const char *path, int json, int quiet_ok)
{
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	int rc = ps_plan_parse_file(&src, path, &e);
	struct ps_plan *p = rc ? NULL : ps_plan_compile(&src, 1, &e);
	if (!p) {
		if (json) {
			printf("{\"ok\":false,\"errors\":[");
			for (size_t i = 0; i < e.n; i++) {
				struct ps_out o;
				ps_out_init(&o);
				ps_out_json_str(&o, e.msg[i]);
				printf("%s%s", i ? "," : "", o.buf);
				ps_out_free(&o);
			}
			printf("],\"more\":%zu}\n", e.dropped);
		} else {
			ps_errors_print(&e, stderr);
		}
		ps_errors_free(&e);
		ps_plan_src_free(&src);
		return EXIT_REFUSED;
	}
	if (quiet_ok)
		goto done;
	if (json)
		printf("{\"ok\":true,\"name\":\"%s\",\"hubs\":%zu,\"routes\":%zu,"
		       "\"rules\":%zu,\"structure_bytes\":%zu}\n", src.name,
		       src.n_hubs, src.n_routes, src.n_rules, p->bytes);
	else
		printf("%s: plan %s is valid: %zu hubs, %zu routes, %zu rules, "
		       "%s; compiles to %.1f MB\n", path, src.name, src.n_hubs,
		       src.n_routes, src.n_rules,
		       src.has_default ? "a default" : "no default",
		       p->bytes / 1048576.0);
done:
	ps_plan_free(p);
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	return EXIT_DONE;
}

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

static int plan_send(uint16_t cmd, const char *path, const char *at)
{
	size_t len;
	char *text = ctl_read_file(path, &len);
	if (!text)
		return EXIT_USAGE;
	struct request r = { .cmd = cmd };
	ps_out_init(&r.body);
	args(&r, path);
	arg(&r, text, len);
	free(text);
	if (at) {
		uint64_t ms = parse_at(at);
		if (!ms) {
			ps_out_free(&r.body);
			return ctl_bad_usage("--at: not a time I understand");
		}
		char b[32];
		snprintf(b, sizeof(b), "%llu", (unsigned long long)ms);
		args(&r, b);
	}
	int rc = call(&r, 0);
	ps_out_free(&r.body);
	return rc;
}

static int cmd_plan(int argc, char **argv)
{
	if (argc < 1)
		return ctl_bad_usage("plan: check, load, diff, show, history or "
				 "rollback");
	const char *sub = argv[0];
	if (!strcmp(sub, "check") && argc == 2)
		return ctl_plan_check(argv[1], json, 0);
	if (!strcmp(sub, "load") && (argc == 2 || (argc == 4 &&
				     !strcmp(argv[2], "--at"))))
		return plan_send(PS_CTL_PLAN_LOAD, argv[1],
				 argc == 4 ? argv[3] : NULL);
	if (!strcmp(sub, "diff") && argc == 2)
		return plan_send(PS_CTL_PLAN_DIFF, argv[1], NULL);
	if (!strcmp(sub, "show") && argc == 1)
		return simple(PS_CTL_PLAN_SHOW, 0, NULL);
	if (!strcmp(sub, "history") && argc == 1)
		return simple(PS_CTL_PLAN_HISTORY, 0, NULL);
	if (!strcmp(sub, "rollback") && argc <= 2)
		return simple(PS_CTL_PLAN_ROLLBACK, argc - 1, argv + 1);
	return ctl_bad_usage("plan: check FILE, load FILE [--at TIME], diff FILE, "
			 "show, history, rollback [VERSION]");
}

/* ------------------------------------------------------- staged edits */

/* "route add 3307 100 10,11" -> edit "route 3307 100 10,11" */
static int edit_line(const char *directive, int argc, char **argv, int min,
		     int max)
{
	if (argc < min || (max && argc > max))
		return ctl_bad_usage("wrong number of fields for this edit");
	struct ps_out line;
	ps_out_init(&line);
	ps_out_printf(&line, "%s", directive);
	for (int i = 0; i < argc; i++) {
		if (strchr(argv[i], '\n') || strchr(argv[i], '#')) {
			ps_out_free(&line);
			return ctl_bad_usage("a field holds a newline or '#'");
		}
		ps_out_printf(&line, " %s", argv[i]);
	}
	char *l = line.buf;
	int rc = simple(PS_CTL_EDIT, 1, &l);
	ps_out_free(&line);
	return rc;
}

static int del(const char *kind, int argc, char **argv, int want)
{
	if (argc != want)
		return ctl_bad_usage("wrong number of fields for this delete");
	char *a[2] = { (char *)kind, want ? argv[0] : NULL };
	return simple(PS_CTL_DELETE, want ? 2 : 1, a);
}

/* ----------------------------------------------------------- route get */

static int route_get(int argc, char **argv)
{
	if (argc < 1)
		return ctl_bad_usage("route get REGION [--carrier XY] ...");
	struct request r = { .cmd = PS_CTL_ROUTE_GET };
	ps_out_init(&r.body);
	args(&r, argv[0]);
	static const char *const opts[] = { "carrier", "service", "weight",
					    "size", "device", "waybill" };
	for (int i = 1; i < argc; i++) {
		int ok = 0;
		for (int k = 0; k < 6 && !ok; k++)
			if (!strncmp(argv[i], "--", 2) &&
			    !strcmp(argv[i] + 2, opts[k]) && i + 1 < argc) {
				char b[256];
				snprintf(b, sizeof(b), "%s=%s", opts[k], argv[++i]);
				args(&r, b);
				ok = 1;
			}
		if (!ok) {
			ps_out_free(&r.body);
			return ctl_bad_usage("route get: options are --carrier, "
					 "--service, --weight, --size, "
					 "--device, --waybill, each with a "
					 "value");
		}
	}
	int rc = call(&r, 0);
	ps_out_free(&r.body);
	return rc;
}

/* --------------------------------------------------------------- stats */

static volatile int stop_watch;

static void on_int(int sig)
{
	(void)sig;
	stop_watch = 1;
}

static int stats(int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "reset"))
		return simple(PS_CTL_STATS_RESET, 0, NULL);
	if (argc == 0)
		return simple(PS_CTL_STATS, 0, NULL);
	if (!strcmp(argv[0], "--watch") && argc <= 2) {
		long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
		signal(SIGINT, on_int);
		for (long i = 0; !stop_watch && (!n || i < n); i++) {
			if (!json)
				printf("\033[H\033[2J");
			int rc = simple(PS_CTL_STATS, 0, NULL);
			fflush(stdout);
			if (rc)
				return rc;
			if (n && i + 1 == n)
				break;
			sleep(1);
		}
		return EXIT_DONE;
	}
	return ctl_bad_usage("stats [--watch] | stats reset");
}

/* ---------------------------------------------------------------- main */

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
	const char *c = argv[0], *s = argc > 1 ? argv[1] : "";
	int n = argc - 2;
	char **rest = argv + 2;
	if (!strcmp(c, "status") && argc == 1)
		return simple(PS_CTL_STATUS, 0, NULL);
	if (!strcmp(c, "plan"))
		return cmd_plan(argc - 1, argv + 1);
	if (!strcmp(c, "begin") && argc == 1)
		return simple(PS_CTL_BEGIN, 0, NULL);
	if (!strcmp(c, "commit") && argc == 1)
		return simple(PS_CTL_COMMIT, 0, NULL);
	if (!strcmp(c, "abort") && argc == 1)
		return simple(PS_CTL_ABORT, 0, NULL);
	if (!strcmp(c, "route") && !strcmp(s, "add"))
		return edit_line("route", n, rest, 3, 3);
	if (!strcmp(c, "route") && !strcmp(s, "del"))
		return del("route", n, rest, 1);
	if (!strcmp(c, "route") && !strcmp(s, "get"))
		return route_get(n, rest);
	if (!strcmp(c, "rule") && !strcmp(s, "add"))
		return edit_line("rule", n, rest, 4, 0);
	if (!strcmp(c, "rule") && !strcmp(s, "del"))
		return del("rule", n, rest, 1);
	if (!strcmp(c, "hub") && !strcmp(s, "add"))
		return edit_line("hub", n, rest, 3, 0);
	if (!strcmp(c, "hub") && !strcmp(s, "del"))
		return del("hub", n, rest, 1);
	if (!strcmp(c, "default") && !strcmp(s, "set"))
		return edit_line("default", n, rest, 2, 2);
	if (!strcmp(c, "default") && !strcmp(s, "del"))
		return del("default", n, rest, 0);
	if (!strcmp(c, "chute") && !strcmp(s, "list") && argc == 2)
		return simple(PS_CTL_CHUTE_LIST, 0, NULL);
	if (!strcmp(c, "chute") && (!strcmp(s, "enable") || !strcmp(s, "disable")) &&
	    argc >= 3)
		return simple(PS_CTL_CHUTE_SET, argc - 1, argv + 1);
	if (!strcmp(c, "stats"))
		return stats(argc - 1, argv + 1);
	if (!strcmp(c, "fleet"))
		return ctl_fleet(argc, argv, json);
	return ctl_bad_usage("unknown command or wrong arguments");
}
