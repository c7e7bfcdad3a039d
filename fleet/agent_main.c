/* agent_main.c: parcelsort-agent's command line and lifecycle (see
 * agent.h). SIGINT/SIGTERM: finish the window in flight, save the cursor,
 * report, exit 0. Bad arguments: exit 2. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"

static struct agent agent;

static void on_signal(int sig)
{
	(void)sig;
	agent.stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: parcelsort-agent --site ID --ctl SOCKET --state DIR [options]\n"
"\n"
"The fleet's site agent, beside one parcelsortd: commits the plans pushed\n"
"for the site (parcelsortctl fleet push) through the daemon's control\n"
"socket, reports to the fleet's status bucket, and publishes the daemon's\n"
"event spool to the stream parcelsort.events.ID; applies the hold\n"
"operations for the site (parcelsortctl fleet hold) and its manifest\n"
"batches (parcelsortctl fleet manifest push) in order, once each.\n"
"\n"
"  --site ID          the site (1..64 of A-Z a-z 0-9 _ -)\n"
"  --nats URLS        the NATS cluster, comma-separated\n"
"                     (default $PARCELSORT_NATS or nats://127.0.0.1:4222)\n"
"  --ctl SOCKET       parcelsortd's control socket\n"
"  --state DIR        the agent's own state (last revision, spool cursor)\n"
"  --spool DIR        the daemon's --export-spool directory (default: no\n"
"                     event export)\n"
"  --window N         blocks in flight before waiting for acks (default 64)\n"
"  --replicas N       replicas of buckets and stream it has to create\n"
"                     (default 1; `parcelsortctl fleet init` sets them)\n"
"  --trust FILE       take only plans, hold operations and manifest\n"
"                     batches signed by a\n"
"                     key of FILE (public keys, one a line; may be\n"
"                     given more than once)\n"
"  --no-watch         read the site's key every 250 ms instead of\n"
"                     watching it (the least-privilege permissions\n"
"                     of docs/fleet.md allow no consumer on the bucket)\n"
"%s"
"  --help\n"
"  --version\n", ps_fleet_sec_usage);
}

static int parse(int argc, char **argv, const char **nats, int *replicas,
		 struct ps_fleet_sec *sec)
{
	char err[512];
	static const struct option lo[] = {
		{ "site", required_argument, 0, 's' },
		{ "nats", required_argument, 0, 'n' },
		{ "ctl", required_argument, 0, 'c' },
		{ "state", required_argument, 0, 'd' },
		{ "spool", required_argument, 0, 'p' },
		{ "window", required_argument, 0, 'w' },
		{ "replicas", required_argument, 0, 'r' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'v' },
		{ "trust", required_argument, 0, 't' },
		{ "no-watch", no_argument, 0, 'W' },
		PS_FLEET_SEC_OPTIONS,
		{ 0, 0, 0, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			snprintf(agent.site, sizeof(agent.site), "%s", optarg);
			if (!ps_fleet_site_ok(optarg))
				goto bad_site;
			break;
		case 'n': *nats = optarg; break;
		case 'c': agent.ctl = optarg; break;
		case 'd':
			snprintf(agent.state_dir, sizeof(agent.state_dir), "%s",
				 optarg);
			break;
		case 'p': agent.spool_dir = optarg; break;
		case 'w': agent.window = (unsigned)atoi(optarg); break;
		case 'r': *replicas = atoi(optarg); break;
		case 'W': agent.no_watch = 1; break;
		case 't':
			if (ps_sign_load_trust(optarg, &agent.trust, err,
					       sizeof(err))) {
				fprintf(stderr, "parcelsort-agent: --trust: "
					"%s\n", err);
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		case 'v': printf("parcelsort-agent %s\n", PARCELSORT_VERSION); exit(0);
		default:
			if (!ps_fleet_sec_option(sec, c, optarg))
				return -1;
		}
	}
	if (!agent.site[0] || !agent.ctl || !agent.state_dir[0] ||
	    optind != argc) {
		fprintf(stderr, "parcelsort-agent: --site, --ctl and --state "
			"are needed\n");
		return -1;
	}
	if (agent.window < 1 || agent.window > PS_FLEET_WINDOW_MAX ||
	    *replicas < 1 ||
	    *replicas > 5) {
		fprintf(stderr, "parcelsort-agent: --window 1..256, "
			"--replicas 1..5\n");
		return -1;
	}
	return 0;
bad_site:
	fprintf(stderr, "parcelsort-agent: --site: 1..64 of A-Z a-z 0-9 _ -\n");
	return -1;
}

int main(int argc, char **argv)
{
	const char *nats = getenv("PARCELSORT_NATS");
	int replicas = 1;
	char err[512];
	agent.window = 64;
	ps_out_init(&agent.status_extra);
	ps_out_init(&agent.holds_status);
	ps_out_init(&agent.manifest_status);
	pthread_mutex_init(&agent.holds_lock, NULL);
	if (!nats)
		nats = "nats://127.0.0.1:4222";
	struct ps_fleet_sec sec = { 0 };
	char inbox[PS_FLEET_SITE_MAX + 16];
	if (parse(argc, argv, &nats, &replicas, &sec)) {
		usage(stderr);
		return 2;
	}
	if (mkdir(agent.state_dir, 0750) && errno != EEXIST) {
		fprintf(stderr, "parcelsort-agent: %s: %s\n", agent.state_dir,
			strerror(errno));
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	agent.started_ms = ps_fleet_now_ms();
	char name[96];
	snprintf(name, sizeof(name), "parcelsort-agent %s", agent.site);
	snprintf(inbox, sizeof(inbox), "_INBOX_site_%s", agent.site);
	if (!sec.inbox)
		sec.inbox = inbox;
	struct ps_fleet_opts o = {
		.servers = nats, .name = name, .replicas = replicas, .sec = sec,
		.persistent = 1, .stop = &agent.stop, .on_pub_error = agent_on_pub_error,
		.on_pub_error_arg = &agent,
	};
	if (ps_fleet_open(&agent.fleet, &o, err, sizeof(err))) {
		fprintf(stderr, "parcelsort-agent: %s\n", err);
		return 1;
	}
	printf("parcelsort-agent: site %s connected to %s%s%s\n", agent.site,
	       nats, sec.ca ? " (TLS)" : "", agent.trust.n
	       ? "; only signed plans and holds" : "");
	agent_plans_init(&agent, err, sizeof(err));
	pthread_t ev;
	int have_ev = agent.spool_dir &&
		      pthread_create(&ev, NULL, agent_events_run, &agent) == 0;
	pthread_t ho;
	int have_ho = pthread_create(&ho, NULL, agent_holds_run, &agent) == 0;
	pthread_t ma;
	int have_ma = pthread_create(&ma, NULL, agent_manifest_run, &agent) == 0;
	agent_plans_run(&agent);
	if (have_ev)
		pthread_join(ev, NULL);
	if (have_ho)
		pthread_join(ho, NULL);
	if (have_ma)
		pthread_join(ma, NULL);
	printf("parcelsort-agent: site %s stopped; %llu events published in "
	       "%llu blocks, %llu retries\n", agent.site,
	       (unsigned long long)agent.ev_published,
	       (unsigned long long)agent.ev_blocks,
	       (unsigned long long)agent.ev_retries);
	ps_fleet_close(&agent.fleet);
	ps_out_free(&agent.status_extra);
	ps_out_free(&agent.holds_status);
	ps_out_free(&agent.manifest_status);
	nats_Close();
	return 0;
}
