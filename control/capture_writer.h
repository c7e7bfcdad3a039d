/* capture_writer.h: `parcelsortctl capture`, the daemon's side: one
 * capture at a time, its file (classic pcap, Ethernet, microsecond
 * timestamps, created O_EXCL|O_NOFOLLOW mode 0640) and the writer thread
 * that drains the workers' capture rings (dataplane/capture.h) into it,
 * in whole records flushed every 64 KB or 100 ms, until the operator
 * stops it, its --duration or --max-mb is reached, a write fails or the
 * daemon exits. The thread runs off the worker cores (it is started by
 * the control thread and shares its CPUs). */
#ifndef PS_CAPTURE_WRITER_H
#define PS_CAPTURE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "capture_limits.h"
#include "outbuf.h"

/* the block the writer writes at once, and how long a frame may wait in
 * it: what a kill -9 can lose at most */
#define PS_CAPTURE_BLOCK_BYTES    65536u
#define PS_CAPTURE_FLUSH_MS       100u

struct ps_capture_writer;

struct ps_capture_opts {
	const char *path;        /* absolute */
	uint32_t duration_s;     /* 0: until stopped (or --max-mb) */
	uint32_t max_mb;         /* 1..PS_CAPTURE_MAX_MB_LIMIT */
	uint32_t sample;         /* keep every sample-th request frame */
};

/* The writer of the rings of cap; pdump is the rte_pdump report
 * ("registered" or "unavailable: ..."), copied. NULL when out of memory. */
struct ps_capture_writer *ps_capture_writer_new(struct ps_capture *cap,
						const char *pdump);
/* Stops a running capture ("daemon exit") and frees. */
void ps_capture_writer_free(struct ps_capture_writer *w);

/* What ps_capture_start refuses, the reason in err. */
enum {
	PS_CAPTURE_REFUSED = -1,     /* one is running, or the file */
	PS_CAPTURE_BAD_OPTION = -2,  /* a path or limit out of range */
};
/* Start a capture: 0, or one of the above. */
int ps_capture_start(struct ps_capture_writer *w,
		     const struct ps_capture_opts *o, char *err, size_t n);
/* Stop the running capture and wait for its file to be complete; -1 when
 * none runs. */
int ps_capture_stop(struct ps_capture_writer *w, char *err, size_t n);
/* The capture's state as a JSON object (no newline): running, file,
 * limits, elapsed, frames captured / dropped / sampled out, request
 * frames answered while it ran, bytes, why it stopped, pdump. */
void ps_capture_status_json(struct ps_capture_writer *w, struct ps_out *o);
const char *ps_capture_pdump(const struct ps_capture_writer *w);

#endif
