/* export.h: event export for the tracking platform (off by default). Each
 * worker hands its events to its own bounded single-producer ring; one
 * writer thread drains the rings and writes JSON lines. When a ring is
 * full the events are dropped and counted: the dataplane never waits. */
#ifndef PS_EXPORT_H
#define PS_EXPORT_H

#include <stdint.h>

#include "counters.h"
#include "pipeline.h"

struct ps_exporter;

/* rings: one per worker, ring_size events each (a power of two). */
struct ps_exporter *ps_export_start(const char *path, unsigned n_workers,
				    unsigned ring_size, char *err,
				    size_t errlen);
/* The pipeline callback of worker w: ctx is from ps_export_ctx. */
void ps_export_push(void *ctx, const struct ps_event *ev, unsigned n);
void *ps_export_ctx(struct ps_exporter *x, unsigned worker,
		    struct ps_counters *cnt);
/* Drain what is left, stop the thread, close the file. */
void ps_export_stop(struct ps_exporter *x);
uint64_t ps_export_written(const struct ps_exporter *x);

#endif
