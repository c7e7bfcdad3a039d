/* config.c: read parcelsortd's configuration (see config.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "config.h"
#include "ps_errors.h"
#include "ps_log.h"

/* --check-config: errors go here and parsing goes on */
static struct ps_errors *collect;

/* The one table of parcelsortd's keys: the INI file's [section] key, the
 * flag that overrides it, its default, whether SIGHUP applies it to a
 * running daemon (live), and its help. --help, --print-config (the shipped
 * parcelsortd.conf), the defaults and the man page are all views of it. */
const struct ps_config_key ps_config_keys[] = {
	{ "dataplane.ip", "ip", "ADDR4", NULL, 0,
	  "the dataplane's IPv4 address (this or ip6 is required)" },
	{ "dataplane.ip6", "ip6", "ADDR6", NULL, 0,
	  "the dataplane's IPv6 address" },
	{ "dataplane.port", "port", "N", "7100", 0,
	  "the UDP port scanners and sorters send to" },
	{ "dataplane.allow", "allow", "P[,P...]", NULL, 1,
	  "IPv4/IPv6 prefixes of the scanners allowed to send; none given: "
	  "every sender" },
	{ "dataplane.sorter_allow", "sorter-allow", "P[,P...]", NULL, 1,
	  "IPv4/IPv6 prefixes of the sorter controllers allowed to send chute "
	  "states and sort results; none given: nobody (0.0.0.0/0,::/0: all)" },
	{ "dataplane.mac", "mac", "MAC", NULL, 0,
	  "set the ports' MAC address (default: each port's own)" },
	{ "dataplane.site", "site", "N", "0", 0,
	  "the site id of replies before a plan is active" },
	{ "dataplane.mbufs", "mbufs", "N", NULL, 0,
	  "mbuf pool size (default: enough for the queues; net_pcap with "
	  "infinite_rx needs one per packet of its file on top)" },
	{ "dataplane.idle_sleep_us", "idle-sleep-us", "N", "0", 1,
	  "a worker that polled nothing 64 times in a row sleeps N us (0: "
	  "always poll; for small stations and shared machines)" },
	{ "plan.file", "plan", "FILE", NULL, 0,
	  "the initial plan, used when the state directory holds none" },
	{ "plan.state_dir", "state-dir", "DIR", PS_STATE_DIR_DEFAULT, 0,
	  "committed plans, plan history, holds, chute state" },
	{ "control.socket", "ctl", "PATH", PS_CTL_SOCKET_DEFAULT, 0,
	  "the control socket parcelsortctl talks to" },
	{ "metrics.listen", "metrics", "ADDR:PORT", "127.0.0.1:9110", 1,
	  "Prometheus /metrics over HTTP (\"off\": none)" },
	{ "dedup.window", "dedup-window", "S", "600", 1,
	  "the duplicate window in seconds" },
	{ "dedup.capacity", "dedup-capacity", "N", "1048576", 0,
	  "waybills the duplicate window remembers" },
	{ "manifest.capacity", "manifest-capacity", "N", "16777216", 0,
	  "waybills of pre-advice the manifest holds (docs/manifest.md); "
	  "memory is paid as it fills" },
	{ "manifest.ttl", "manifest-ttl", "D", "72h", 0,
	  "a manifest entry lapses D after it was added or replaced (90s, "
	  "30m, 72h, 3d)" },
	{ "export.file", "export", "FILE", NULL, 0,
	  "write every decision and track-only scan as JSON lines (\"-\": "
	  "stdout; default off)" },
	{ "export.ring", "export-ring", "N", "65536", 0,
	  "events buffered per worker (a power of two)" },
	{ "export.spool", "export-spool", "DIR", NULL, 0,
	  "write the events into a bounded spool of blocks for the fleet "
	  "agent (docs/fleet.md)" },
	{ "export.spool_max_mb", "spool-max-mb", "N", "256", 0,
	  "the spool's bound in MB; past it, blocks are dropped and counted" },
	{ "log.level", "log-level", "LEVEL", "info", 1,
	  "err, warning, notice, info or debug (DPDK's own log too)" },
	{ "log.file", "log-file", "FILE", NULL, 0,
	  "append the log to FILE instead of stderr (the journal under "
	  "systemd); SIGHUP reopens it after a rotation" },
	{ "run.duration", "duration", "S", "0", 0,
	  "stop after S seconds (0: run until a signal)" },
	{ "run.stats", "stats", "S", "0", 1,
	  "log the rates every S seconds (0: never)" },
};
const unsigned ps_config_n_keys =
	sizeof(ps_config_keys) / sizeof(ps_config_keys[0]);

/* Print text wrapped at 78 columns, every line indented by ind. */
static void wrap(FILE *f, const char *text, int ind, const char *lead)
{
	int col = 0;
	const char *p = text;
	while (*p) {
		size_t w = strcspn(p, " ");
		if (col && col + 1 + (int)w > 78) {
			fputc('\n', f);
			col = 0;
		}
		if (!col)
			col = fprintf(f, "%*s%s", ind, "", lead);
		else
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", (int)w, p);
		p += w;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

void ps_config_usage(FILE *f)
{
	fprintf(f,
"usage: parcelsortd [EAL options] -- [options]\n"
"The parcelsort dataplane: decides parcel scan events on DPDK ports.\n"
"\n"
"Options (each overrides the same key of --config; [section] key, default,\n"
"and \"live\" when SIGHUP applies it to a running daemon):\n"
"  --config FILE           site configuration (INI, see docs/dataplane.md)\n");
	for (unsigned i = 0; i < ps_config_n_keys; i++) {
		const struct ps_config_key *k = &ps_config_keys[i];
		char head[64], tail[512];
		const char *dot = strchr(k->key, '.');
		snprintf(head, sizeof(head), "--%s %s", k->opt, k->arg);
		fprintf(f, "  %-23s", head);
		if (strlen(head) > 23)
			fprintf(f, "\n%25s", "");
		snprintf(tail, sizeof(tail), "%s [%.*s] %s%s%s%s", k->help,
			 (int)(dot - k->key), k->key, dot + 1,
			 k->def ? ", default " : "", k->def ? k->def : "",
			 k->live ? ", live" : "");
		/* the first line continues the option's line */
		char first[512];
		size_t w = 0, take = 0;
		while (tail[w] && w < 52) {
			size_t s = strcspn(tail + w, " ");
			if (w + s > 52 && take)
				break;
			w += s;
			take = w;
			w += strspn(tail + w, " ");
		}
		snprintf(first, sizeof(first), "%.*s", (int)take, tail);
		fprintf(f, " %s\n", first);
		if (tail[take])
			wrap(f, tail + take + strspn(tail + take, " "), 26, "");
	}
	fprintf(f,
"  --no-summary            do not print the final counters\n"
"  --check-config          read the configuration and the plan, report every\n"
"                          error, start nothing (exit 0: good, 2: not)\n"
"  --print-config          print a configuration file with every key and its\n"
"                          default (the shipped parcelsortd.conf)\n"
"  --keys                  the key table as tab-separated lines (key, option,\n"
"                          argument, default, live, help)\n"
"  --help                  this text\n"
"  --version               the version\n"
"\n"
"Every DPDK port is used (a NIC or a --vdev); each worker lcore (all but\n"
"the main lcore) gets one RX/TX queue pair on every port, spread by RSS.\n"
"SIGINT or SIGTERM stops RX, flushes TX, prints the counters, exits 0.\n"
"SIGHUP reopens the log file and re-reads --config: the live keys change at\n"
"once, the log names the changed keys that need a restart.\n"
"Under systemd (NOTIFY_SOCKET) it says READY=1 once the ports are up and the\n"
"control socket listens, keeps STATUS= and feeds the watchdog.\n"
"Invalid configuration: a message naming the key, exit code 2.\n");
}

void ps_config_print(FILE *f)
{
	fprintf(f,
"# parcelsortd.conf: parcelsortd's site configuration (INI), read with\n"
"# --config (the service: /etc/parcelsort/parcelsortd.conf).\n"
"# Every key is here with its default; a commented key keeps its default.\n"
"# A flag on the command line (shown per key) overrides the file.\n"
"# \"live\": `systemctl reload parcelsortd` (SIGHUP) applies a change at\n"
"# once; the other keys need a restart (the log says which changed).\n"
"# Generated by `parcelsortd --print-config`: edit the key table in\n"
"# dataplane/config.c, not this file's comments.\n");
	const char *section = "";
	size_t slen = 0;
	for (unsigned i = 0; i < ps_config_n_keys; i++) {
		const struct ps_config_key *k = &ps_config_keys[i];
		const char *dot = strchr(k->key, '.');
		if ((size_t)(dot - k->key) != slen ||
		    strncmp(section, k->key, slen)) {
			section = k->key;
			slen = (size_t)(dot - k->key);
			fprintf(f, "\n[%.*s]\n", (int)slen, section);
		}
		wrap(f, k->help, 0, "# ");
		fprintf(f, "# (--%s %s%s)\n", k->opt, k->arg,
			k->live ? "; live" : "");
		fprintf(f, "#%s = %s\n", dot + 1, k->def ? k->def : "");
	}
}

void ps_config_print_keys(FILE *f)
{
	for (unsigned i = 0; i < ps_config_n_keys; i++) {
		const struct ps_config_key *k = &ps_config_keys[i];
		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\n", k->key, k->opt, k->arg,
			k->def ? k->def : "", k->live ? "live" : "restart",
			k->help);
	}
}

const struct ps_config_key *ps_config_key_find(const char *key)
{
	for (unsigned i = 0; i < ps_config_n_keys; i++)
		if (!strcmp(ps_config_keys[i].key, key))
			return &ps_config_keys[i];
	return NULL;
}
static int bad(char *err, size_t n, const char *key, const char *val,
	       const char *why)
{
	snprintf(err, n, "%s = '%s': %s", key, val, why);
	return -1;
}

static int parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*v || *v == '-')
		return -1;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
	char *end;
	double x = strtod(v, &end);
	if (!*v || *end || !(x >= lo && x <= hi))
		return -1;
	*out = x;
	return 0;
}

/* A duration: N with a unit s, m, h or d (seconds without one), 1 s to
 * 365 d, in ms. */
static int parse_duration(const char *v, uint64_t *ms)
{
	char *end;
	errno = 0;
	if (!*v || *v == '-')
		return -1;
	unsigned long long x = strtoull(v, &end, 10);
	uint64_t unit = 1000;
	if (*end == 'm')
		unit = 60000;
	else if (*end == 'h')
		unit = 3600000;
	else if (*end == 'd')
		unit = 86400000;
	if (*end && (*end != 's' && unit == 1000))
		return -1;
	if (errno || end == v || (*end && end[1]) || x == 0 ||
	    x > 365ull * 86400000 / unit)
		return -1;
	*ms = x * unit;
	return 0;
}

/* A prefix list (the scanner or the sorter allow-list). */
static int set_allow(struct ps_prefix *list, unsigned *count, const char *v,
		     const char *key, char *err, size_t n)
{
	char buf[4096], *save = NULL;
	if (strlen(v) >= sizeof(buf))     /* never cut: a cut prefix widens */
		return bad(err, n, key, "...", "longer than 4095 characters");
	snprintf(buf, sizeof(buf), "%s", v);
	*count = 0;
	for (char *t = strtok_r(buf, ", \t", &save); t;
	     t = strtok_r(NULL, ", \t", &save)) {
		if (*count == PS_MAX_ALLOW)
			return bad(err, n, key, v, "more than 64 prefixes");
		if (ps_prefix_parse(t, &list[*count]))
			return bad(err, n, key, t, "not an IPv4/IPv6 prefix "
				   "with its host bits zero (198.18.0.0/15, "
				   "2001:db8::/32)");
		(*count)++;
	}
	return 0;
}

static int set_path(char *dst, size_t cap, const char *key, const char *v,
		    char *err, size_t n)
{
	if (strlen(v) >= cap)
		return bad(err, n, key, v, "path too long");
	snprintf(dst, cap, "%s", v);
	return 0;
}

static int apply(struct ps_dp_config *c, const char *key, const char *v,
		 char *err, size_t n);

void ps_config_free(struct ps_dp_config *c)
{
	for (unsigned i = 0; i < PS_CONFIG_MAX_KEYS; i++) {
		free(c->given[i]);
		c->given[i] = NULL;
	}
}

/* Every key at its default (the table's). */
static void defaults(struct ps_dp_config *c)
{
	char err[256];
	ps_config_free(c);
	memset(c, 0, sizeof(*c));
	c->net.allow = c->allow;
	c->net.sorter_allow = c->sorter_allow;
	c->summary = 1;
	for (unsigned i = 0; i < ps_config_n_keys; i++)
		if (ps_config_keys[i].def &&
		    apply(c, ps_config_keys[i].key, ps_config_keys[i].def, err,
			  sizeof(err)))
			abort();        /* a default the table cannot parse */
	c->log_level_set = 0;
}

/* Apply a value given in the file or as a flag, and remember it. */
static int apply_given(struct ps_dp_config *c, const char *key,
		       const char *v, char *err, size_t n)
{
	int rc = apply(c, key, v, err, n);
	const struct ps_config_key *k = ps_config_key_find(key);
	if (!rc && k) {
		unsigned i = (unsigned)(k - ps_config_keys);
		free(c->given[i]);
		c->given[i] = strdup(v);
	}
	return rc;
}

/* Apply one key; key names are "section.key" as in the INI file. */
static int apply(struct ps_dp_config *c, const char *key, const char *v,
		 char *err, size_t n)
{
	uint64_t u;
	if (!strcmp(key, "dataplane.ip")) {
		if (inet_pton(AF_INET, v, c->net.ip4) != 1)
			return bad(err, n, key, v, "not an IPv4 address");
		c->net.has_ip4 = 1;
	} else if (!strcmp(key, "dataplane.ip6")) {
		if (inet_pton(AF_INET6, v, c->net.ip6) != 1)
			return bad(err, n, key, v, "not an IPv6 address");
		c->net.has_ip6 = 1;
	} else if (!strcmp(key, "dataplane.port")) {
		if (parse_u64(v, 1, 65535, &u))
			return bad(err, n, key, v, "want a UDP port 1..65535");
		c->net.port = (uint16_t)u;
	} else if (!strcmp(key, "dataplane.allow")) {
		return set_allow(c->allow, &c->net.n_allow, v, key, err, n);
	} else if (!strcmp(key, "dataplane.sorter_allow")) {
		return set_allow(c->sorter_allow, &c->net.n_sorter_allow, v,
				 key, err, n);
	} else if (!strcmp(key, "dataplane.mac")) {
		unsigned m[6];
		char tail;
		if (sscanf(v, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3],
			   &m[4], &m[5], &tail) != 6)
			return bad(err, n, key, v, "want a MAC like 02:00:00:00:00:02");
		for (int i = 0; i < 6; i++) {
			if (m[i] > 255)
				return bad(err, n, key, v, "not a MAC address");
			c->mac[i] = (uint8_t)m[i];
		}
		if (c->mac[0] & 1)
			return bad(err, n, key, v, "a multicast MAC");
		c->has_mac = 1;
	} else if (!strcmp(key, "dataplane.mbufs")) {
		if (parse_u64(v, 1024, 1u << 26, &u))
			return bad(err, n, key, v, "want 1024..67108864");
		c->mbufs = (uint32_t)u;
	} else if (!strcmp(key, "dataplane.site")) {
		if (parse_u64(v, 0, UINT32_MAX, &u))
			return bad(err, n, key, v, "want 0..4294967295");
		c->site = (uint32_t)u;
	} else if (!strcmp(key, "plan.file")) {
		return set_path(c->plan, sizeof(c->plan), key, v, err, n);
	} else if (!strcmp(key, "plan.state_dir")) {
		return set_path(c->state_dir, sizeof(c->state_dir), key, v, err, n);
	} else if (!strcmp(key, "control.socket")) {
		return set_path(c->ctl, 108, key, v, err, n);
	} else if (!strcmp(key, "metrics.listen")) {
		return set_path(c->metrics, sizeof(c->metrics), key, v, err, n);
	} else if (!strcmp(key, "dedup.window")) {
		if (parse_u64(v, 1, 86400 * 30, &u))
			return bad(err, n, key, v, "want 1..2592000 seconds");
		c->dedup_window = (uint32_t)u;
	} else if (!strcmp(key, "dedup.capacity")) {
		if (parse_u64(v, 1024, 1ull << 30, &u))
			return bad(err, n, key, v, "want 1024..1073741824 waybills");
		c->dedup_capacity = u;
	} else if (!strcmp(key, "manifest.capacity")) {
		if (parse_u64(v, 1, 1ull << 28, &u))
			return bad(err, n, key, v, "want 1..268435456 waybills");
		c->manifest_capacity = u;
	} else if (!strcmp(key, "manifest.ttl")) {
		if (parse_duration(v, &c->manifest_ttl_ms))
			return bad(err, n, key, v, "want a duration 1s..365d "
				   "(90s, 30m, 72h, 3d)");
	} else if (!strcmp(key, "export.file")) {
		return set_path(c->export_path, sizeof(c->export_path), key, v,
				err, n);
	} else if (!strcmp(key, "export.ring")) {
		if (parse_u64(v, 64, 1u << 24, &u) || (u & (u - 1)))
			return bad(err, n, key, v, "want a power of two "
				   "64..16777216");
		c->export_ring = (uint32_t)u;
	} else if (!strcmp(key, "export.spool")) {
		return set_path(c->spool_dir, sizeof(c->spool_dir), key, v,
				err, n);
	} else if (!strcmp(key, "export.spool_max_mb")) {
		if (parse_u64(v, 1, 1u << 20, &u))
			return bad(err, n, key, v, "want 1..1048576 MB");
		c->spool_max_mb = (uint32_t)u;
	} else if (!strcmp(key, "dataplane.idle_sleep_us")) {
		if (parse_u64(v, 0, 100000, &u))
			return bad(err, n, key, v, "want 0..100000 us");
		c->idle_sleep_us = (uint32_t)u;
	} else if (!strcmp(key, "log.level")) {
		int l = ps_log_level_parse(v);
		if (l < 0)
			return bad(err, n, key, v, "want err, warning, notice, "
				   "info or debug");
		c->log_level = l;
		c->log_level_set = 1;
	} else if (!strcmp(key, "log.file")) {
		return set_path(c->log_file, sizeof(c->log_file), key, v, err, n);
	} else if (!strcmp(key, "run.duration")) {
		if (parse_double(v, 0, 1e9, &c->duration))
			return bad(err, n, key, v, "want seconds >= 0");
	} else if (!strcmp(key, "run.stats")) {
		if (parse_double(v, 0, 1e6, &c->stats_interval))
			return bad(err, n, key, v, "want seconds >= 0");
	} else {
		snprintf(err, n, "unknown key '%s'", key);
		return -1;
	}
	return 0;
}

static int load_file(struct ps_dp_config *c, const char *path, char *err,
		     size_t n)
{
	struct rte_cfgfile_parameters params = { .comment_character = '#' };
	errno = 0;
	struct rte_cfgfile *f = rte_cfgfile_load_with_params(path, 0, &params);
	if (!f) {
		snprintf(err, n, "--config %s: cannot read it as an INI file "
			 "(%s)", path, errno ? strerror(errno) : "syntax");
		return -1;
	}
	int ns = rte_cfgfile_num_sections(f, NULL, 0);
	char (*names)[CFG_NAME_LEN] = calloc((size_t)(ns > 0 ? ns : 1),
					     CFG_NAME_LEN);
	int rc = 0;
	char *ptrs[64];
	for (int i = 0; i < ns && i < 64; i++)
		ptrs[i] = names[i];
	rte_cfgfile_sections(f, ptrs, ns < 64 ? ns : 64);
	for (int i = 0; i < ns && i < 64 && !rc; i++) {
		int ne = rte_cfgfile_section_num_entries(f, ptrs[i]);
		struct rte_cfgfile_entry *e = calloc((size_t)(ne > 0 ? ne : 1),
						     sizeof(*e));
		rte_cfgfile_section_entries(f, ptrs[i], e, ne);
		for (int k = 0; k < ne && !rc; k++) {
			char key[2 * CFG_NAME_LEN + 2], msg[512];
			snprintf(key, sizeof(key), "%s.%s", ptrs[i], e[k].name);
			/* rte_cfgfile keeps CFG_VALUE_LEN - 1 characters of a
			 * value and drops the rest: a value that long may have
			 * been cut (an allow-list's last prefix made wider) */
			int cut = strlen(e[k].value) >= CFG_VALUE_LEN - 1;
			if (cut)
				snprintf(msg, sizeof(msg), "%s: %d characters or "
					 "more, which the file form cuts (give "
					 "it as a flag)", key, CFG_VALUE_LEN - 1);
			if (cut || apply_given(c, key, e[k].value, msg,
					       sizeof(msg))) {
				snprintf(err, n, "%s: [%s] %s", path, ptrs[i],
					 msg);
				if (collect)
					ps_errors_add(collect, "parcelsortd", 0, "%s",
						      err);
				else
					rc = -1;
			}
		}
		free(e);
	}
	free(names);
	rte_cfgfile_close(f);
	return rc;
}

int ps_config_parse(struct ps_dp_config *c, int argc, char **argv, char *err,
		    size_t n)
{
	const int N_MAP = (int)ps_config_n_keys;
	struct option lo[PS_CONFIG_MAX_KEYS + 5];
	for (int i = 0; i < N_MAP; i++)
		lo[i] = (struct option){ ps_config_keys[i].opt,
					 required_argument, 0, i };
	lo[N_MAP] = (struct option){ "config", required_argument, 0, 'c' };
	lo[N_MAP + 1] = (struct option){ "no-summary", no_argument, 0, 's' };
	lo[N_MAP + 2] = (struct option){ "help", no_argument, 0, 'h' };
	lo[N_MAP + 3] = (struct option){ "version", no_argument, 0, 'v' };
	lo[N_MAP + 4] = (struct option){ 0, 0, 0, 0 };
	defaults(c);
	/* first pass: --config, --help, --version; second: the overriding
	 * flags */
	optind = 1;
	opterr = 0;
	int o;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 'h') {
			ps_config_usage(stdout);
			return 1;
		}
		if (o == 'v') {
			printf("parcelsortd %s\n", PARCELSORT_VERSION);
			return 1;
		}
		if (o == 'c') {
			snprintf(c->config_path, sizeof(c->config_path), "%s",
				 optarg);
			if (load_file(c, optarg, err, n)) {
				if (!collect)
					return -1;
				ps_errors_add(collect, "parcelsortd", 0, "%s", err);
			}
		}
		if (o == '?') {
			snprintf(err, n, "unknown option '%s' (--help lists "
				 "them)", argv[optind - 1]);
			return -1;
		}
		if (o == ':') {
			snprintf(err, n, "option '%s' needs a value",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, n, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o >= 0 && o < N_MAP) {
			char msg[512];
			if (apply_given(c, ps_config_keys[o].key, optarg, msg,
					sizeof(msg))) {
				snprintf(err, n, "--%s: %s",
					 ps_config_keys[o].opt, msg);
				if (!collect)
					return -1;
				ps_errors_add(collect, "parcelsortd", 0, "%s", err);
			}
		} else if (o == 's') {
			c->summary = 0;
		}
	}
	if (!c->net.has_ip4 && !c->net.has_ip6) {
		snprintf(err, n, "dataplane.ip: the dataplane needs an address "
			 "(--ip or --ip6, or [dataplane] ip in --config)");
		if (!collect)
			return -1;
		ps_errors_add(collect, "parcelsortd", 0, "%s", err);
	}
	if (c->plan[0]) {
		FILE *f = fopen(c->plan, "r");
		if (!f) {
			snprintf(err, n, "plan.file = '%s': %s", c->plan,
				 strerror(errno));
			if (!collect)
				return -1;
			ps_errors_add(collect, "parcelsortd", 0, "%s", err);
		} else {
			fclose(f);
		}
	}
	ps_net_cfg_finish(&c->net);
	return 0;
}

int ps_config_check_args(struct ps_dp_config *c, int argc, char **argv,
			 struct ps_errors *errs)
{
	char err[1024];
	size_t before = errs->n + errs->dropped;
	collect = errs;
	int rc = ps_config_parse(c, argc, argv, err, sizeof(err));
	collect = NULL;
	if (rc < 0 && errs->n + errs->dropped == before)
		ps_errors_add(errs, "parcelsortd", 0, "%s", err);
	return (int)(errs->n + errs->dropped - before);
}
