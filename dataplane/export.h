/* export.h: event export for the tracking platform (off by default). Each
 * worker hands its events to its own bounded single-producer ring; one
 * writer thread drains the rings, formats JSON lines into blocks, and
 * writes each block to a file and/or to the spool the fleet agent
 * publishes from (spool/ps_spool.h). When a ring is full the events are
 * dropped and counted: the dataplane never waits. A full spool refuses
 * blocks, counted as overflow; the writer thread never waits either. */
#ifndef PS_EXPORT_H
#define PS_EXPORT_H

#include <stdint.h>

#include "counters.h"
#include "pipeline.h"

struct ps_exporter;

struct ps_export_cfg {
	const char *path;        /* JSON lines file, "-" stdout, NULL none */
	const char *spool_dir;   /* spool directory, NULL none */
	uint64_t spool_max_bytes;
	unsigned n_workers;
	unsigned ring_size;      /* events per worker ring, a power of two */
};

struct ps_exporter *ps_export_start(const struct ps_export_cfg *cfg,
				    char *err, size_t errlen);
/* The pipeline callback of worker w: ctx is from ps_export_ctx. */
void ps_export_push(void *ctx, const struct ps_event *ev, unsigned n);
void *ps_export_ctx(struct ps_exporter *x, unsigned worker,
		    struct ps_counters *cnt);
/* Drain what is left, stop the thread, close the file and the spool; the
 * final totals go to *final (if not NULL). */
void ps_export_stop(struct ps_exporter *x, struct ps_export_totals *final);
/* The writer's totals (a snapshot). */
void ps_export_totals(const struct ps_exporter *x, struct ps_export_totals *t);

#endif
