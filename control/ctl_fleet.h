/* ctl_fleet.h: parcelsortctl's fleet commands (ctl_fleet.c), against the
 * NATS cluster rather than one daemon. */
#ifndef PS_CTL_FLEET_H
#define PS_CTL_FLEET_H

#include "outbuf.h"

/* parcelsortctl fleet ...: argv[0] is "fleet"; options may come before or
 * after the subcommand. */
int ctl_fleet(int argc, char **argv, int json);
/* The fleet commands' lines of `parcelsortctl --help`. */
void ctl_fleet_help(struct ps_out *o);

#endif
