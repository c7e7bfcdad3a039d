/* main.c: parcelsort-gen, the scan-traffic generator: writes a pcap of
 * request datagrams, sends them live to a dataplane and counts replies, or
 * plays the sorter controller against a live dataplane (--sorter). */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "ps_pcap.h"
#include "regions.h"
#include "sorter_live.h"
#include "traffic.h"

struct opts {
	struct ps_gen_cfg cfg;
	const char *regions;
	const char *pcap;
	struct ps_live_opts live;
	struct ps_sorter_cfg sorter;
	int sorter_mode;
	const char *sorter_from;
	const char *hold_out;   /* --hold-out: write waybills to hold, exit */
	unsigned hold_every;
	uint64_t datagrams;
	int verify;
	int quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: parcelsort-gen [OPTIONS] (--pcap FILE | --send HOST:PORT)\n"
"Generate realistic parcel scan traffic (parcelsort wire protocol v1),\n"
"reproducible from a seed.\n"
"\n"
"Output:\n"
"  --pcap FILE          write Ethernet/IP/UDP request frames to a pcap\n"
"  --send HOST:PORT     send over a UDP socket ([IPV6]:PORT for IPv6) and\n"
"                       count the replies by reason\n"
"  --datagrams N        datagrams to generate (default 1000; live: 0 = use\n"
"                       --duration)\n"
"  --rate N             live: datagrams per second (default 0 = flat out)\n"
"  --duration S         live: seconds to send for\n"
"  --wait S             live: seconds to wait for late replies (default 1)\n"
"  --json               live: print the summary as JSON\n"
"  --verify             pcap: read the file back, parse every frame and\n"
"                       check it decodes to the records generated\n"
"  --quiet              no summary\n"
"\n"
"Sorter controller (with --send; docs/generator.md):\n"
"  --sorter             induct parcels, discharge each decided one, send sort\n"
"                       results and chute reports, re-scan what went round\n"
"  --sorter-from ADDR   local address of the sorter controller's socket\n"
"  --parcels N          parcels to induct (default 1000; 0 = use --duration)\n"
"  --rate N             new parcels per second (default 500, 0 = window)\n"
"  --duration S         induct for S seconds\n"
"  --full F             share of discharges CHUTE_FULL (default 0.03), each\n"
"                       reported FULL (kind 3) unless our report is in force\n"
"  --failed F           DISCHARGE_FAILED (default 0.02)\n"
"  --lost F             LOST (default 0.002)\n"
"  --missort F          SORTED into another chute (default 0)\n"
"  --transit-ms N       decision to discharge (default 50)\n"
"  --round-ms N         a lap before the re-scan (default 300)\n"
"  --hold S             hold_s of a FULL report, 1..3600 (default 3)\n"
"  --max-rounds N       the sorter gives up after N laps (default 20)\n"
"  --batch-ms N         longest a result waits for a fuller batch (default 10)\n"
"  --window N           parcels on the sorter at once, 1..65536 (default 4096)\n"
"  --wait S             a scan or report unanswered for S s is missing\n"
"                       (default 1)\n"
"  --hold-out FILE      send nothing: write the waybills of every K-th parcel\n"
"                       the same run would induct, for parcelsortctl hold load\n"
"  --hold-every K       K for --hold-out (default 50)\n"
"\n"
"Traffic model:\n"
"  --seed N             random seed (default 1); same seed, same bytes\n"
"  --records N|MIN-MAX  records per datagram, 1..22 (default 1-22)\n"
"  --zipf S             destination popularity skew (default 1.0, 0 = uniform)\n"
"  --home PREFIX        a region prefix (2/4/6/9/12 digits) for local traffic\n"
"  --home-share F       share of destinations inside --home (default 0)\n"
"  --noread F           share of unreadable scans (default 0.02)\n"
"  --invalid F          share of invalid waybills (default 0.01)\n"
"  --rescan F           share of re-scans of a recent waybill (default 0.05)\n"
"  --unknown F          share of records with region 0 (default 0.005)\n"
"  --devices N          scanner ids 1..N (default 32)\n"
"  --site N             sender site id in the header (default 3307820)\n"
"  --regions FILE       region table (default: the bundled one)\n"
"\n"
"Framing (pcap):\n"
"  --ipv6 F             share of datagrams over IPv6 (default 0)\n"
"  --src-mac MAC --dst-mac MAC\n"
"  --src-ip A --dst-ip A --src-ip6 A --dst-ip6 A\n"
"  --sport N --dport N  (default 40000 -> 7100)\n"
"  --vlan N             802.1Q tag (default none)\n");
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		m[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_prefix(const char *s, uint64_t *p, unsigned *digits)
{
	size_t n = strlen(s);
	if (n != 2 && n != 4 && n != 6 && n != 9 && n != 12)
		return -1;
	if (strspn(s, "0123456789") != n)
		return -1;
	*p = strtoull(s, NULL, 10);
	*digits = (unsigned)n;
	return 0;
}

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "parcelsort-gen: --%s '%s': %s\n", opt, val, why);
	return -1;
}

static int apply(struct opts *o, const char *name, const char *v)
{
	struct ps_gen_cfg *c = &o->cfg;
	double d;
	unsigned a, b;
	char tail;
	if (!strcmp(name, "seed"))
		return parse_num(v, 0, 1.8e19, &d) ? bad(name, v, "not a number")
						   : (c->seed = strtoull(v, 0, 10), 0);
	if (!strcmp(name, "records")) {
		int k = sscanf(v, "%u-%u%c", &a, &b, &tail);
		if (k == 1)
			b = a;
		if ((k != 1 && k != 2) || a < 1 || b > 22 || a > b)
			return bad(name, v, "want N or MIN-MAX within 1..22");
		c->rec_min = a;
		c->rec_max = b;
		return 0;
	}
	struct { const char *n; double *dst; double lo, hi; } shares[] = {
		{ "zipf", &c->zipf_s, 0, 10 },
		{ "home-share", &c->home_share, 0, 1 },
		{ "noread", &c->noread_share, 0, 1 },
		{ "invalid", &c->invalid_share, 0, 1 },
		{ "rescan", &c->rescan_share, 0, 1 },
		{ "unknown", &c->unknown_share, 0, 1 },
		{ "ipv6", &c->ipv6_share, 0, 1 },
		{ "rate", &o->live.rate, 0, 1e9 },
		{ "duration", &o->live.duration_s, 0, 1e6 },
		{ "wait", &o->live.wait_s, 0, 3600 },
		{ "full", &o->sorter.full_p, 0, 1 },
		{ "failed", &o->sorter.failed_p, 0, 1 },
		{ "lost", &o->sorter.lost_p, 0, 1 },
		{ "missort", &o->sorter.missort_p, 0, 1 },
	};
	for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++)
		if (!strcmp(name, shares[i].n))
			return parse_num(v, shares[i].lo, shares[i].hi,
					 shares[i].dst)
				       ? bad(name, v, "out of range")
				       : 0;
	struct { const char *n; unsigned *dst; double lo, hi; } counts[] = {
		{ "transit-ms", &o->sorter.transit_ms, 0, 600000 },
		{ "round-ms", &o->sorter.round_ms, 0, 600000 },
		{ "hold", &o->sorter.hold_s, 1, PS_HOLD_MAX_S },
		{ "max-rounds", &o->sorter.max_rounds, 1, 255 },
		{ "batch-ms", &o->sorter.batch_ms, 0, 60000 },
		{ "window", &o->sorter.window, 1, 65536 },
		{ "hold-every", &o->hold_every, 1, 1000000 },
	};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (!strcmp(name, counts[i].n)) {
			if (parse_num(v, counts[i].lo, counts[i].hi, &d) ||
			    d != (double)(unsigned)d)
				return bad(name, v, "out of range");
			*counts[i].dst = (unsigned)d;
			return 0;
		}
	if (!strcmp(name, "parcels"))
		return parse_num(v, 0, 1e12, &d) ? bad(name, v, "not a count")
						 : (o->sorter.parcels = (uint64_t)d, 0);
	if (!strcmp(name, "home"))
		return parse_prefix(v, &c->home_prefix, &c->home_digits)
			       ? bad(name, v, "want 2, 4, 6, 9 or 12 digits")
			       : 0;
	if (!strcmp(name, "datagrams"))
		return parse_num(v, 0, 1e12, &d) ? bad(name, v, "not a count")
						 : (o->datagrams = (uint64_t)d, 0);
	if (!strcmp(name, "devices"))
		return parse_num(v, 1, 65535, &d) ? bad(name, v, "want 1..65535")
						  : (c->devices = (unsigned)d, 0);
	if (!strcmp(name, "site"))
		return parse_num(v, 0, 4294967295.0, &d)
			       ? bad(name, v, "want 0..4294967295")
			       : (c->site = (uint32_t)d, 0);
	if (!strcmp(name, "sport") || !strcmp(name, "dport")) {
		if (parse_num(v, 1, 65535, &d))
			return bad(name, v, "want 1..65535");
		uint16_t *p4 = name[0] == 's' ? &c->ep4.sport : &c->ep4.dport;
		uint16_t *p6 = name[0] == 's' ? &c->ep6.sport : &c->ep6.dport;
		*p4 = *p6 = (uint16_t)d;
		return 0;
	}
	if (!strcmp(name, "vlan")) {
		if (parse_num(v, 1, 4094, &d))
			return bad(name, v, "want 1..4094");
		c->ep4.vlan = c->ep6.vlan = (uint16_t)d;
		return 0;
	}
	if (!strcmp(name, "src-mac") || !strcmp(name, "dst-mac")) {
		uint8_t m[6];
		if (parse_mac(v, m))
			return bad(name, v, "want a MAC like 02:00:00:00:00:01");
		memcpy(name[0] == 's' ? c->ep4.src_mac : c->ep4.dst_mac, m, 6);
		memcpy(name[0] == 's' ? c->ep6.src_mac : c->ep6.dst_mac, m, 6);
		return 0;
	}
	if (!strcmp(name, "src-ip") || !strcmp(name, "dst-ip"))
		return inet_pton(AF_INET, v, name[0] == 's' ? c->ep4.src_ip
							   : c->ep4.dst_ip) != 1
			       ? bad(name, v, "not an IPv4 address")
			       : 0;
	if (!strcmp(name, "src-ip6") || !strcmp(name, "dst-ip6"))
		return inet_pton(AF_INET6, v, name[0] == 's' ? c->ep6.src_ip
							    : c->ep6.dst_ip) != 1
			       ? bad(name, v, "not an IPv6 address")
			       : 0;
	return bad(name, v, "unknown option");
}

/* Generate into a pcap; with verify, read it back and compare. */
static int write_pcap(struct opts *o, struct ps_gen *g)
{
	struct ps_pcap pc;
	uint8_t frame[2048];
	struct ps_gen_rec recs[PS_MAX_RECORDS];
	uint64_t records = 0, by_class[5] = { 0 };
	if (ps_pcap_create(&pc, o->pcap)) {
		perror(o->pcap);
		return 1;
	}
	for (uint64_t i = 0; i < o->datagrams; i++) {
		unsigned n;
		size_t len = ps_gen_frame(g, frame, sizeof(frame), recs, &n);
		if (ps_pcap_write(&pc, recs[0].scan.ts_ms * 1000, frame, len)) {
			perror(o->pcap);
			ps_pcap_close(&pc);
			return 1;
		}
		records += n;
		for (unsigned k = 0; k < n; k++) {
			struct ps_scan s;
			uint8_t enc[PS_SCAN_LEN];
			ps_scan_encode(enc, &recs[k].scan);
			by_class[ps_scan_decode(enc, &s)]++;
		}
	}
	if (ps_pcap_close(&pc)) {
		perror(o->pcap);
		return 1;
	}
	if (!o->quiet) {
		printf("wrote %llu datagrams, %llu records to %s\n",
		       (unsigned long long)o->datagrams,
		       (unsigned long long)records, o->pcap);
		printf("  sortable %llu, track-only %llu, noread %llu, "
		       "bad barcode %llu, malformed %llu\n",
		       (unsigned long long)by_class[PS_CLASS_SORTABLE],
		       (unsigned long long)by_class[PS_CLASS_TRACK_ONLY],
		       (unsigned long long)by_class[PS_CLASS_NOREAD],
		       (unsigned long long)by_class[PS_CLASS_BAD_BARCODE],
		       (unsigned long long)by_class[PS_CLASS_MALFORMED]);
	}
	return 0;
}

static int verify_pcap(struct opts *o, struct ps_gen *g)
{
	struct ps_pcap pc;
	uint8_t frame[2048];
	struct ps_gen_rec recs[PS_MAX_RECORDS];
	uint64_t frames = 0, records = 0;
	if (ps_pcap_open(&pc, o->pcap)) {
		perror(o->pcap);
		return 1;
	}
	int len;
	while ((len = ps_pcap_next(&pc, frame, sizeof(frame), NULL)) > 0) {
		struct ps_frame f;
		struct ps_header h;
		struct ps_scan s[PS_MAX_RECORDS];
		unsigned n;
		uint8_t want[2048];
		size_t wlen = ps_gen_frame(g, want, sizeof(want), recs, &n);
		if (ps_frame_parse(frame, (size_t)len, &f) != PS_FRAME_UDP ||
		    ps_header_check(frame + f.payload_off, f.payload_len, &h) !=
			    PS_HDR_OK ||
		    h.count != n || wlen != (size_t)len ||
		    memcmp(want, frame, wlen) != 0) {
			fprintf(stderr, "verify: frame %llu differs\n",
				(unsigned long long)frames);
			ps_pcap_close(&pc);
			return 1;
		}
		ps_scan_decode_burst(frame + f.payload_off, &h, s);
		for (unsigned i = 0; i < n; i++)
			if (memcmp(s[i].waybill, recs[i].wb, PS_WAYBILL_LEN) ||
			    s[i].region != recs[i].scan.region ||
			    s[i].event_seq != recs[i].scan.event_seq) {
				fprintf(stderr, "verify: record differs\n");
				ps_pcap_close(&pc);
				return 1;
			}
		frames++;
		records += n;
	}
	ps_pcap_close(&pc);
	if (len < 0 || frames != o->datagrams) {
		fprintf(stderr, "verify: %s is truncated or corrupt\n", o->pcap);
		return 1;
	}
	if (!o->quiet)
		printf("verified %llu frames, %llu records: every frame parses "
		       "and decodes to the records generated\n",
		       (unsigned long long)frames, (unsigned long long)records);
	return 0;
}

static int was_set(const char **set, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(set[i], name))
			return 1;
	return 0;
}

/* Check the options against the mode and carry the shared ones (rate,
 * duration, wait, records, seed) into the sorter's configuration. */
static int sorter_options(struct opts *o, const char **set, unsigned n,
			  int dgrams_set)
{
	static const char *const own[] = {
		"sorter-from", "parcels", "full", "failed", "lost", "missort",
		"transit-ms", "round-ms", "hold", "max-rounds", "batch-ms",
		"window", "hold-out", "hold-every",
	};
	if (!o->sorter_mode) {
		for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
			if ((i == 0 && o->sorter_from) ||
			    (!strcmp(own[i], "hold-out") && o->hold_out) ||
			    was_set(set, n, own[i])) {
				fprintf(stderr, "parcelsort-gen: --%s needs "
					"--sorter\n", own[i]);
				return -1;
			}
		return 0;
	}
	if (!o->live.target || dgrams_set) {
		fprintf(stderr, "parcelsort-gen: --sorter needs --send HOST:PORT "
				"and counts --parcels, not --datagrams\n");
		return -1;
	}
	struct ps_sorter_cfg *c = &o->sorter;
	if (was_set(set, n, "rate"))
		c->rate = o->live.rate;
	c->duration_ms = (uint64_t)(o->live.duration_s * 1000);
	if (c->duration_ms && !was_set(set, n, "parcels"))
		c->parcels = 0;
	c->reply_ms = (unsigned)(o->live.wait_s * 1000);
	if (!c->reply_ms)
		c->reply_ms = 1;
	c->rec_max = o->cfg.rec_max;
	c->seed = o->cfg.seed;
	if (o->hold_out && !c->parcels && (!c->duration_ms || c->rate <= 0)) {
		fprintf(stderr, "parcelsort-gen: --hold-out needs --parcels N, "
				"or --duration with a --rate\n");
		return -1;
	}
	if (c->full_p + c->failed_p + c->lost_p + c->missort_p > 1) {
		fprintf(stderr, "parcelsort-gen: --full, --failed, --lost and "
				"--missort add up to more than 1\n");
		return -1;
	}
	return 0;
}

/* --hold-out: the waybills of every K-th parcel among those the run with
 * the same options inducts (by duration: rate x duration + 1, the most the
 * induction pace lets in). */
static int write_holds(struct opts *o, struct ps_sorter *s)
{
	const struct ps_sorter_cfg *c = &o->sorter;
	uint64_t n = c->parcels;
	if (!n)
		n = (uint64_t)(c->rate * (double)c->duration_ms / 1000.0) + 1;
	FILE *f = fopen(o->hold_out, "w");
	long w = f ? ps_sorter_write_holds(s, n, o->hold_every, f) : -1;
	if (f && fclose(f))
		w = -1;
	if (w < 0) {
		perror(o->hold_out);
		return 1;
	}
	if (!o->quiet)
		printf("parcelsort-gen: %ld waybills to hold (every %u-th of the "
		       "first %llu parcels) written to %s\n", w, o->hold_every,
		       (unsigned long long)n, o->hold_out);
	return 0;
}

static int run_sorter(struct opts *o, struct ps_gen *g)
{
	static struct ps_sorter s;
	char err[256];
	if (ps_sorter_init(&s, &o->sorter, g, err, sizeof(err))) {
		fprintf(stderr, "parcelsort-gen: %s\n", err);
		return 2;
	}
	if (o->hold_out) {
		int rc = write_holds(o, &s);
		ps_sorter_free(&s);
		return rc;
	}
	int rc = ps_sorter_live_run(&s, o->live.target, o->sorter_from) ? 1 : 0;
	if (!rc && !o->quiet)
		ps_sorter_print(&s, o->live.json);
	ps_sorter_free(&s);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pcap", 1, 0, 'p' },   { "send", 1, 0, 's' },
		{ "json", 0, 0, 'j' },   { "verify", 0, 0, 'V' },
		{ "quiet", 0, 0, 'q' },  { "regions", 1, 0, 'R' },
		{ "help", 0, 0, 'h' },   { "version", 0, 0, 'v' },
		{ "seed", 1, 0, 0 },     { "records", 1, 0, 0 },
		{ "zipf", 1, 0, 0 },     { "home", 1, 0, 0 },
		{ "home-share", 1, 0, 0 }, { "noread", 1, 0, 0 },
		{ "invalid", 1, 0, 0 },  { "rescan", 1, 0, 0 },
		{ "unknown", 1, 0, 0 },  { "devices", 1, 0, 0 },
		{ "site", 1, 0, 0 },     { "ipv6", 1, 0, 0 },
		{ "src-mac", 1, 0, 0 },  { "dst-mac", 1, 0, 0 },
		{ "src-ip", 1, 0, 0 },   { "dst-ip", 1, 0, 0 },
		{ "src-ip6", 1, 0, 0 },  { "dst-ip6", 1, 0, 0 },
		{ "sport", 1, 0, 0 },    { "dport", 1, 0, 0 },
		{ "vlan", 1, 0, 0 },     { "datagrams", 1, 0, 0 },
		{ "rate", 1, 0, 0 },     { "duration", 1, 0, 0 },
		{ "wait", 1, 0, 0 },     { "sorter", 0, 0, 'S' },
		{ "sorter-from", 1, 0, 'F' }, { "parcels", 1, 0, 0 },
		{ "full", 1, 0, 0 },     { "failed", 1, 0, 0 },
		{ "lost", 1, 0, 0 },     { "missort", 1, 0, 0 },
		{ "transit-ms", 1, 0, 0 }, { "round-ms", 1, 0, 0 },
		{ "hold", 1, 0, 0 },     { "max-rounds", 1, 0, 0 },
		{ "batch-ms", 1, 0, 0 }, { "window", 1, 0, 0 },
		{ "hold-out", 1, 0, 'H' }, { "hold-every", 1, 0, 0 },
		{ 0, 0, 0, 0 },
	};
	struct opts o;
	memset(&o, 0, sizeof(o));
	ps_gen_cfg_defaults(&o.cfg);
	o.datagrams = 1000;
	o.hold_every = 50;
	o.live.wait_s = 1.0;
	ps_sorter_cfg_defaults(&o.sorter);
	o.regions = ps_regions_default_path();
	int c, idx, dgrams_set = 0;
	const char *set[64];
	unsigned n_set = 0;
	while ((c = getopt_long(argc, argv, "h", lo, &idx)) != -1) {
		switch (c) {
		case 'p': o.pcap = optarg; break;
		case 's': o.live.target = optarg; break;
		case 'j': o.live.json = 1; break;
		case 'V': o.verify = 1; break;
		case 'q': o.quiet = 1; break;
		case 'R': o.regions = optarg; break;
		case 'S': o.sorter_mode = 1; break;
		case 'F': o.sorter_from = optarg; break;
		case 'H': o.hold_out = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'v': printf("parcelsort-gen %s\n", PARCELSORT_VERSION); return 0;
		case 0:
			if (!strcmp(lo[idx].name, "datagrams"))
				dgrams_set = 1;
			if (n_set < 64)
				set[n_set++] = lo[idx].name;
			if (apply(&o, lo[idx].name, optarg))
				return 2;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (!o.pcap == !o.live.target)) {
		fprintf(stderr, "parcelsort-gen: give exactly one of --pcap FILE "
				"or --send HOST:PORT (--help for more)\n");
		return 2;
	}
	if (sorter_options(&o, set, n_set, dgrams_set))
		return 2;
	struct ps_regions reg;
	char err[512];
	if (ps_regions_load(&reg, o.regions, err, sizeof(err))) {
		fprintf(stderr, "parcelsort-gen: region table: %s\n", err);
		return 2;
	}
	static struct ps_gen g;
	if (ps_gen_init(&g, &o.cfg, &reg, err, sizeof(err))) {
		fprintf(stderr, "parcelsort-gen: %s\n", err);
		ps_regions_free(&reg);
		return 2;
	}
	int rc;
	if (o.sorter_mode) {
		rc = run_sorter(&o, &g);
	} else if (o.pcap) {
		rc = write_pcap(&o, &g);
		if (!rc && o.verify) {
			ps_gen_free(&g);
			ps_gen_init(&g, &o.cfg, &reg, err, sizeof(err));
			rc = verify_pcap(&o, &g);
		}
	} else {
		o.live.datagrams = dgrams_set || o.live.duration_s == 0
					   ? o.datagrams : 0;
		struct ps_live_result res;
		rc = ps_live_run(&g, &o.live, &res) ? 1 : 0;
		if (!rc && !o.quiet)
			ps_live_print(&res, o.live.json);
	}
	ps_gen_free(&g);
	ps_regions_free(&reg);
	return rc;
}
