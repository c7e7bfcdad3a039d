/* plan_persist.h: crash-safe files of the plan state directory: every file
 * is written to a temporary name, fsync'd and renamed into place, and plan
 * files end with a length and CRC-32 trailer so a damaged file is refused
 * whole, never half-read. */
#ifndef PS_PLAN_PERSIST_H
#define PS_PLAN_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "plan_history.h"
#include "plan_src.h"

int ps_persist_write_plan(const char *dir, const char *fname,
			  const struct ps_plan_src *src,
			  const struct ps_history_entry *meta, uint64_t at_ms,
			  int no_fsync, char *err, size_t errlen);
/* Read, check the trailer, parse. Returns 0, or -1 with errs. */
int ps_persist_read_plan(const char *path, struct ps_plan_src *src,
			 struct ps_history_entry *meta, uint64_t *at_ms,
			 struct ps_errors *errs);
/* Only the metadata header (history listing), trailer checked. */
int ps_persist_read_meta(const char *path, struct ps_history_entry *meta);

/* Any file with the checksum trailer: buf (malloc'd, len bytes; taken
 * and freed) gets the trailer and is written as ps_persist_write_small
 * does. Returns 0, or -1 with err. */
int ps_persist_write_checked(const char *dir, const char *fname, char *buf,
			     size_t len, int no_fsync, char *err,
			     size_t errlen);
/* Read a whole file and check its trailer: the body (malloc'd, NUL in
 * place of the trailer) in *out and its length, or -1 with why. */
long ps_persist_read_checked(const char *path, char **out, char *why,
			     size_t wl);

/* Write a file atomically: temporary name, fsync, rename, fsync of the
 * directory. Returns 0, or -1 with err when any step failed, the directory
 * fsync included (the rename may then not survive a crash, so the caller
 * must not count the file as saved). */
int ps_persist_write_small(const char *dir, const char *fname,
			   const char *content, size_t len, int no_fsync,
			   char *err, size_t errlen);
/* Read a small file into buf (NUL-terminated). Returns length or -1. */
long ps_persist_read_small(const char *path, char *buf, size_t cap);

#endif
