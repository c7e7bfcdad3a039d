/* wi_manifest.h: the daemon's manifest as far as a capture needs it, for
 * `plan whatif --against active` (docs/whatif.md). The daemon's manifest
 * may hold 16 M entries: it is never dumped. The capture is read once for
 * the distinct waybills of its barcode-only records (region 0), the daemon
 * is asked for exactly those (`manifest get`, PS_CTL_MANIFEST_GET_MAX a
 * request), and its answers become an in-memory manifest. Compiled into
 * parcelsortctl. */
#ifndef PS_WI_MANIFEST_H
#define PS_WI_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

/* The distinct 24-byte waybill fields of the barcode-only records of the
 * scan batches in the capture at path, sorted; only waybills a manifest
 * can hold (ps_manifest_waybill). 0 with *wbs (free it) and *n, or -1 when
 * out of memory. A capture that cannot be read gives none (the replay
 * reports why). */
int wi_barcode_only(const char *path, uint8_t (**wbs)[24], size_t *n);

/* The daemon's entries for those waybills (*out NULL when none of them
 * is in its manifest, or the capture has no barcode-only record). Returns
 * an exit code (ctl_cli.h), the reason printed when it is not 0. */
int wi_manifest_active(const char *ctl, const char *capture,
		       struct ps_manifest **out);

#endif
