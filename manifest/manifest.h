/* manifest.h: the site's manifest of pre-advised waybills (docs/manifest.md):
 * waybill -> region, read lock-free by every worker, changed by one writer
 * at a time (a mutex among writers), saved in the state directory, entries
 * lapsing a TTL after they were last added or replaced. EAL-free: the
 * fuzzers and an offline what-if can hold one without a state directory. */
#ifndef PS_MANIFEST_H
#define PS_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "manifest_table.h"
#include "ps_errors.h"

#define PS_MANIFEST_DEFAULT_CAPACITY (16ull << 20)
#define PS_MANIFEST_DEFAULT_TTL_MS (72ull * 3600 * 1000)

struct ps_manifest_cfg {
	uint64_t capacity;          /* 0 = the default, 16 Mi entries */
	uint64_t ttl_ms;            /* 0 = the default, 72 h */
	const char *state_dir;      /* NULL = kept in memory only */
	int no_fsync;               /* tests only */
	uint64_t (*now_ms)(void);   /* wall clock; NULL = ps_now_ms */
	/* Called after a replace swapped tables, before the old one is freed:
	 * must return once no reader can still hold it (the daemon passes
	 * synchronize_rcu). NULL = no concurrent readers. */
	void (*wait_readers)(void);
};

struct ps_manifest;

/* Open, restoring the saved manifest when there is a state directory.
 * NULL with err when the saved files are damaged or unwritable. */
struct ps_manifest *ps_manifest_open(const struct ps_manifest_cfg *cfg,
				     char *err, size_t errlen);
void ps_manifest_close(struct ps_manifest *m);

/* ---- readers: any thread, no lock, no syscall ---- */
/* The region of the 24-byte waybill field, 0 if absent or lapsed. */
uint64_t ps_manifest_get(const struct ps_manifest *m, const uint8_t *wb,
			 uint64_t now_ms);
/* The same, and when the entry lapses (0 when absent or lapsed). */
uint64_t ps_manifest_get_expiry(const struct ps_manifest *m,
				const uint8_t *wb, uint64_t now_ms,
				uint64_t *expires_ms);
/* No entry at all: the dataplane skips its look-ups (an empty manifest
 * costs a burst one load). */
int ps_manifest_empty(const struct ps_manifest *m);
/* Start bringing wb's bucket into the cache for a look-up soon after. */
void ps_manifest_prefetch(const struct ps_manifest *m, const uint8_t *wb);
/* n lookups, prefetched; regions[i] = 0 when absent or lapsed. */
void ps_manifest_get_burst(const struct ps_manifest *m,
			   const uint8_t *const *wbs, unsigned n,
			   uint64_t now_ms, uint64_t *regions);

/* ---- writers: every change is saved before it is applied; a change
 * refused (full, disk error) leaves the manifest as it was ---- */
enum ps_manifest_rc {
	PS_MF_OK = 0,
	PS_MF_FULL = -1,            /* would exceed the capacity */
	PS_MF_INVALID = -2,         /* bad waybill, region or file */
	PS_MF_DISK = -3,            /* could not be saved */
	PS_MF_NOMEM = -4,
	PS_MF_BUSY = -5,            /* another load in parts is under way */
};
int ps_manifest_add(struct ps_manifest *m, const uint8_t *wb,
		    uint64_t region, char *err, size_t errlen);
/* Remove n waybills; *removed gets how many were present. */
int ps_manifest_del(struct ps_manifest *m, const uint8_t *const *wbs,
		    unsigned n, unsigned *removed, char *err, size_t errlen);

struct ps_manifest_load_result {
	uint64_t lines;             /* entry lines read */
	uint64_t added;             /* waybills new to the manifest */
	uint64_t replaced;          /* waybills that were there */
	uint64_t entries;           /* entries after the load */
};
/* Load a file (name for the messages): add its entries, or with replace
 * make it the whole manifest at once. A bad line, a capacity exceeded or
 * a disk error refuses it whole (errs: FILE:LINE: message). */
int ps_manifest_load(struct ps_manifest *m, FILE *f, const char *name,
		     int replace, struct ps_errors *errs,
		     struct ps_manifest_load_result *res);

/* The same in parts (a file far larger than one control request): one
 * load in parts at a time. A begin while another load is under way is
 * refused, PS_MF_BUSY with err naming that load and how long ago its
 * last part came, unless that load had no part or commit for
 * PS_MANIFEST_STAGE_BUSY_MS (its client went away): then the begin drops
 * it. One with no part or commit for PS_MANIFEST_STAGE_IDLE_MS is
 * dropped too, at its next use or by ps_manifest_expire. Each part is
 * whole lines, its first numbered first_line; it is parsed and staged
 * (at most capacity distinct waybills: more refuses the load), its errors
 * kept for the commit. The commit puts the staged entries in force as
 * ps_manifest_load does (all or nothing; with replace, the whole manifest
 * at once) or refuses them with every error; either way the stage goes.
 * A token that is not the stage's: PS_MF_INVALID with an error. */
#define PS_MANIFEST_STAGE_BUSY_MS (60ull * 1000)
#define PS_MANIFEST_STAGE_IDLE_MS (15ull * 60 * 1000)
int ps_manifest_stage_begin(struct ps_manifest *m, const char *name,
			    int replace, uint64_t *token, char *err,
			    size_t errlen);
int ps_manifest_stage_part(struct ps_manifest *m, uint64_t token,
			   const char *text, size_t len, uint32_t first_line,
			   uint64_t *lines, struct ps_errors *errs);
int ps_manifest_stage_commit(struct ps_manifest *m, uint64_t token,
			     struct ps_errors *errs,
			     struct ps_manifest_load_result *res);
void ps_manifest_stage_abort(struct ps_manifest *m, uint64_t token);

/* Remove the lapsed entries now (they are already as if absent), and
 * drop an idle load in parts. */
uint64_t ps_manifest_expire(struct ps_manifest *m);
/* The same unless a load or a change holds the manifest (a 16 M-entry
 * load's commit holds it for seconds): then -1 at once, nothing done.
 * The daemon's main loop, which also feeds the systemd watchdog, calls
 * this one. 0 with *n the entries removed. */
int ps_manifest_try_expire(struct ps_manifest *m, uint64_t *n);

struct ps_manifest_stats {
	uint64_t entries;
	uint64_t capacity;
	uint64_t bytes;             /* allocated entries plus reserved index */
	uint64_t ttl_ms;
	uint64_t oldest_added_ms;   /* 0 when empty */
	uint64_t generation;        /* snapshot generation, 0 = not saved */
	uint64_t log_bytes;
	uint64_t refused_full;      /* changes refused for capacity */
	uint64_t adds, dels, loads, replaces, lapsed;
};
void ps_manifest_stats(struct ps_manifest *m, struct ps_manifest_stats *st);

/* The load in parts under way, for operators: 1 with its name and how
 * long ago its last part (or begin) came, 0 when there is none. Waits for
 * a part being parsed. */
int ps_manifest_loading(struct ps_manifest *m, char *name, size_t len,
			uint64_t *idle_ms);

#endif
