/* ctl_cmds_manifest.h: the daemon's side of the manifest commands
 * (manifest load, add, del, get, stats) and the manifest's part of
 * `route get`; ctl_cmds.c dispatches to them. Each writes its answer as
 * JSON and returns a status (ctl_proto.h). */
#ifndef PS_CTL_CMDS_MANIFEST_H
#define PS_CTL_CMDS_MANIFEST_H

#include <stdint.h>

#include "ctl_cmds.h"
#include "ctl_proto.h"
#include "ps_wire.h"

int ps_ctl_manifest_load(const struct ps_ctl_ctx *x,
			 const struct ps_ctl_args *a, struct ps_out *o);
int ps_ctl_manifest_add(const struct ps_ctl_ctx *x,
			const struct ps_ctl_args *a, struct ps_out *o);
int ps_ctl_manifest_del(const struct ps_ctl_ctx *x,
			const struct ps_ctl_args *a, struct ps_out *o);
int ps_ctl_manifest_get(const struct ps_ctl_ctx *x,
			const struct ps_ctl_args *a, struct ps_out *o);
int ps_ctl_manifest_stats(const struct ps_ctl_ctx *x,
			  const struct ps_ctl_args *a, struct ps_out *o);

/* route get: a scan of region 0 takes its waybill's manifest region, as
 * the dataplane does (step 8). *looked is set when the manifest was
 * consulted, *found when it had the waybill. */
void ps_ctl_manifest_route(const struct ps_ctl_ctx *x, struct ps_scan *sc,
			   int *looked, int *found);
/* ,"manifest":{...} or ,"manifest":null for route get's answer. */
void ps_ctl_manifest_route_json(struct ps_out *o, const struct ps_scan *sc,
				int looked, int found);

#endif
