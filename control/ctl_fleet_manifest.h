/* ctl_fleet_manifest.h: parcelsortctl fleet manifest push
 * (ctl_fleet_manifest.c): a pre-advice manifest for sites, through the
 * NATS cluster. */
#ifndef PS_CTL_FLEET_MANIFEST_H
#define PS_CTL_FLEET_MANIFEST_H

#include "ctl_fleet_hold.h"
#include "outbuf.h"

/* The arguments are those of fleet hold (no --note): pos[0] "push",
 * pos[1] the file. */
int ctl_fleet_manifest(const struct ctl_fleet_hold_args *h);
void ctl_fleet_manifest_help(struct ps_out *o);

#endif
