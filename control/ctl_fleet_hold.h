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
void ctl_fleet_hold_help(struct ps_out *o);

#endif
