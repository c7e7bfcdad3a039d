/* config.c: read parcelsortd's configuration (see config.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "config.h"

void ps_config_usage(FILE *f)
{
	fprintf(f,
"usage: parcelsortd [EAL options] -- [options]\n"
"The parcelsort dataplane: decides parcel scan events on DPDK ports.\n"
"\n"
"Options (each overrides the same key of --config):\n"
"  --config FILE           site configuration (INI, see docs/dataplane.md)\n"
"  --ip ADDR4              the dataplane's IPv4 address      [dataplane] ip\n"
"  --ip6 ADDR6             its IPv6 address (optional)       [dataplane] ip6\n"
"  --port N                UDP port (default 7100)            [dataplane] port\n"
"  --allow P[,P...]        IPv4/IPv6 prefixes of scanners allowed to send;\n"
"                          none given: every sender            [dataplane] allow\n"
"  --sorter-allow P[,P...] IPv4/IPv6 prefixes of sorter controllers allowed\n"
"                          to send chute states and sort results; none\n"
"                          given: nobody (0.0.0.0/0,::/0: all)\n"
"                                                      [dataplane] sorter_allow\n"
"  --mac MAC               set the ports' MAC address          [dataplane] mac\n"
"  --site N                site id of replies before a plan    [dataplane] site\n"
"  --mbufs N               mbuf pool size (default: enough for the queues;\n"
"                          net_pcap with infinite_rx needs one per packet\n"
"                          of its file on top)                [dataplane] mbufs\n"
"  --plan FILE             initial plan when the state directory holds none\n"
"                                                              [plan] file\n"
"  --state-dir DIR         committed plans, history, chute state\n"
"                          (default /var/lib/parcelsort)       [plan] state_dir\n"
"  --ctl PATH              control socket\n"
"                          (default /run/parcelsort/ctl.sock)  [control] socket\n"
"  --metrics ADDR:PORT     Prometheus /metrics over HTTP (default\n"
"                          127.0.0.1:9110; \"off\": none)      [metrics] listen\n"
"  --dedup-window S        duplicate window in seconds (default 600)\n"
"                                                              [dedup] window\n"
"  --dedup-capacity N      waybills remembered (default 1048576)\n"
"                                                              [dedup] capacity\n"
"  --manifest-capacity N   waybills of pre-advice the manifest holds\n"
"                          (default 16777216; docs/manifest.md)\n"
"                                                           [manifest] capacity\n"
"  --manifest-ttl D        a manifest entry lapses D after it was added\n"
"                          (default 72h; 90s, 30m, 72h, 3d)  [manifest] ttl\n"
"  --export FILE           write every decision and track-only scan as JSON\n"
"                          lines (\"-\": stdout; default off)     [export] file\n"
"  --export-ring N         events buffered per worker (default 65536)\n"
"                                                              [export] ring\n"
"  --export-spool DIR      write the events into a bounded spool of blocks\n"
"                          for the fleet agent (docs/fleet.md)  [export] spool\n"
"  --spool-max-mb N        spool bound (default 256 MB); past it, blocks are\n"
"                          dropped and counted           [export] spool_max_mb\n"
"  --idle-sleep-us N       a worker that polled nothing 64 times in a row\n"
"                          sleeps N us (default 0: always poll; for small\n"
"                          stations and shared machines) [dataplane] idle_sleep_us\n"
"  --duration S            stop after S seconds (default: run until a signal)\n"
"  --stats S               print rates every S seconds (default 0: never)\n"
"  --no-summary            do not print the final counters\n"
"  --help                  this text\n"
"  --version               the version\n"
"\n"
"Every DPDK port is used (a NIC or a --vdev); each worker lcore (all but\n"
"the main lcore) gets one RX/TX queue pair on every port, spread by RSS.\n"
"SIGINT or SIGTERM stops RX, flushes TX, prints the counters, exits 0.\n"
"Invalid configuration: a message naming the key, exit code 2.\n");
}

static void defaults(struct ps_dp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->net.port = 7100;
	c->net.allow = c->allow;
	c->net.sorter_allow = c->sorter_allow;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/parcelsort");
	snprintf(c->ctl, sizeof(c->ctl), "/run/parcelsort/ctl.sock");
	snprintf(c->metrics, sizeof(c->metrics), "127.0.0.1:9110");
	c->dedup_window = 600;
	c->dedup_capacity = 1048576;
	c->manifest_capacity = 16ull << 20;
	c->manifest_ttl_ms = 72ull * 3600 * 1000;
	c->export_ring = 65536;
	c->spool_max_mb = 256;
	c->summary = 1;
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
			if (apply(c, key, e[k].value, msg, sizeof(msg))) {
				snprintf(err, n, "%s: [%s] %s", path, ptrs[i],
					 msg);
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
	static const struct {
		const char *opt, *key;
	} map[] = {
		{ "ip", "dataplane.ip" }, { "ip6", "dataplane.ip6" },
		{ "port", "dataplane.port" }, { "allow", "dataplane.allow" },
		{ "sorter-allow", "dataplane.sorter_allow" },
		{ "mac", "dataplane.mac" }, { "site", "dataplane.site" },
		{ "mbufs", "dataplane.mbufs" },
		{ "plan", "plan.file" }, { "state-dir", "plan.state_dir" },
		{ "ctl", "control.socket" }, { "metrics", "metrics.listen" },
		{ "dedup-window", "dedup.window" },
		{ "dedup-capacity", "dedup.capacity" },
		{ "manifest-capacity", "manifest.capacity" },
		{ "manifest-ttl", "manifest.ttl" },
		{ "export", "export.file" }, { "export-ring", "export.ring" },
		{ "export-spool", "export.spool" },
		{ "spool-max-mb", "export.spool_max_mb" },
		{ "idle-sleep-us", "dataplane.idle_sleep_us" },
		{ "duration", "run.duration" }, { "stats", "run.stats" },
	};
	enum { N_MAP = sizeof(map) / sizeof(map[0]) };
	struct option lo[N_MAP + 5];
	for (int i = 0; i < N_MAP; i++)
		lo[i] = (struct option){ map[i].opt, required_argument, 0, i };
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
		if (o == 'c' && load_file(c, optarg, err, n))
			return -1;
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
			if (apply(c, map[o].key, optarg, msg, sizeof(msg))) {
				snprintf(err, n, "--%s: %s", map[o].opt, msg);
				return -1;
			}
		} else if (o == 's') {
			c->summary = 0;
		}
	}
	if (!c->net.has_ip4 && !c->net.has_ip6) {
		snprintf(err, n, "dataplane.ip: the dataplane needs an address "
			 "(--ip or --ip6, or [dataplane] ip in --config)");
		return -1;
	}
	if (c->plan[0]) {
		FILE *f = fopen(c->plan, "r");
		if (!f) {
			snprintf(err, n, "plan.file = '%s': %s", c->plan,
				 strerror(errno));
			return -1;
		}
		fclose(f);
	}
	ps_net_cfg_finish(&c->net);
	return 0;
}
