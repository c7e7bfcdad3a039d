/* manifest_persist.h: the manifest in the state directory. A snapshot
 * manifest-GEN.snap (every entry, CRC-32 trailer, written to a temporary
 * name, fsync'd, renamed, the directory fsync'd) and an append log
 * manifest-GEN.log of the changes since, one record per change or per
 * loaded file (all its entries or none: a record is applied only when its
 * CRC checks). Restore takes the highest generation's snapshot and replays
 * its log up to the first torn record, which is cut off. */
#ifndef PS_MANIFEST_PERSIST_H
#define PS_MANIFEST_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "manifest_table.h"

struct ps_mlog;

/* Write t as generation gen's snapshot and start its empty log. 0, or -1
 * with err (the directory fsync included; then nothing of gen stays). */
int ps_mpersist_snapshot(const char *dir, uint64_t gen,
			 const struct ps_mtable *t, int no_fsync,
			 char *err, size_t errlen);
/* Remove every manifest file of a generation other than gen. */
void ps_mpersist_drop_others(const char *dir, uint64_t gen);

/* Restore into t (empty, big enough): the newest generation, entries
 * lapsed at now_ms skipped. *gen_out gets the generation, *log_bytes the
 * log's length after any torn tail was cut. 0, or -1 with err. */
int ps_mpersist_restore(const char *dir, struct ps_mtable *t,
			uint64_t now_ms, uint64_t *gen_out,
			uint64_t *log_bytes, char *err, size_t errlen);

/* One log record: begin with its count of operations, add them, commit
 * (CRC, fsync). A record not committed is as if never written. */
struct ps_mlog *ps_mlog_begin(const char *dir, uint64_t gen, uint64_t n_ops,
			      int no_fsync, char *err, size_t errlen);
void ps_mlog_put(struct ps_mlog *l, const uint8_t *wb, uint64_t region,
		 uint64_t expires_ms);
void ps_mlog_del(struct ps_mlog *l, const uint8_t *wb);
/* 0, or -1 with err (the record is then cut off again). *bytes gets the
 * log's length. */
int ps_mlog_commit(struct ps_mlog *l, uint64_t *bytes, char *err,
		   size_t errlen);
void ps_mlog_abort(struct ps_mlog *l);

#endif
