/* ctl_fleet_hold.h: parcelsortctl fleet hold add|del|load (ctl_fleet_hold.c):
 * hold operations for sites, through the NATS cluster. */
#ifndef PS_CTL_FLEET_HOLD_H
#define PS_CTL_FLEET_HOLD_H

#include "fleet.h"
#include "outbuf.h"

struct ctl_fleet_hold_args {
	const char *nats;
	const char *site, *sites;       /* --site / --sites */
	int all;                        /* --all */
	const char *note;               /* --note (add) */
	int replicas, json;
	int n_pos;
	char **pos;                     /* add|del|load and its arguments */
	struct ps_fleet_sec sec;        /* TLS and credentials, as for push */
	const char *sign;               /* --sign KEY */
};

int ctl_fleet_hold(const struct ctl_fleet_hold_args *h);

/* The sites a fleet hold or manifest command goes to. */
#define CTL_FLEET_MAX_SITES 1024
struct ctl_fleet_targets {
	char *id[CTL_FLEET_MAX_SITES];
	int n;
};
/* --site ID / --sites ID,ID...: 0 or an exit code (said). */
int ctl_fleet_targets_named(const char *site, const char *sites,
			    struct ctl_fleet_targets *t);
/* --all: every site with a record in the status bucket. */
int ctl_fleet_targets_all(struct ps_fleet *f, struct ctl_fleet_targets *t);
void ctl_fleet_targets_free(struct ctl_fleet_targets *t);
void ctl_fleet_hold_help(struct ps_out *o);

#endif
