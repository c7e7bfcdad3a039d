/* fleet_manifest.h: pre-advice manifests through the fleet (parcelsortctl
 * fleet manifest push): one JetStream stream per site,
 * PARCELSORT_MANIFEST_ID on parcelsort.manifest.ID, whose messages are
 * batches of the manifest file's lines, each cut at a line end under the
 * cluster's message size and applied at the site as if on its own (the
 * agent puts the consecutive batches of one push in one fetch into one
 * `manifest load`, a part each, and a load refused goes again batch by
 * batch). A batch carries its push's id,
 * the file's name, its index and the count, the file line its text starts
 * at (so the site's errors say FILE:LINE of the file), the push time and
 * the CRC-32 of its text; signed (--sign), the signature line too (kind
 * manifest, after=R: R the stream sequence of the message the batch is
 * published to follow). docs/fleet.md, "Manifests". */
#ifndef PS_FLEET_MANIFEST_H
#define PS_FLEET_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "fleet_sign.h"
#include "outbuf.h"

#define PS_FLEET_MANIFEST_STREAM  "PARCELSORT_MANIFEST_"  /* + site id */
#define PS_FLEET_MANIFEST_SUBJECT "parcelsort.manifest."  /* + site id */
#define PS_FLEET_MANIFEST_DUP_WINDOW_S 120
/* batches older than this leave the stream (the manifest's entries lapse
 * after 72 h by default: a week covers an agent down for days) */
#define PS_FLEET_MANIFEST_MAX_AGE_S (7 * 24 * 3600)
/* room left in a message for its headers */
#define PS_FLEET_MANIFEST_HEADROOM 4096

#define PS_MAN_H_PUSH    "Parcelsort-Manifest-Push"
#define PS_MAN_H_NAME    "Parcelsort-Manifest-Name"
#define PS_MAN_H_BATCH   "Parcelsort-Manifest-Index"    /* 0-based */
#define PS_MAN_H_BATCHES "Parcelsort-Manifest-Count"
/* (no key begins another: with "...-Batch" and "...-Batches", the agent
 * failed to read the batches whose "...-Batches" came first on the wire) */
#define PS_MAN_H_LINE    "Parcelsort-Manifest-Line"     /* first line */
#define PS_MAN_H_CRC     "Parcelsort-Manifest-Crc"      /* hex */
#define PS_MAN_H_PUSHED  "Parcelsort-Manifest-Sent-Ms"  /* push time */
#define PS_MAN_H_SIG     "Parcelsort-Manifest-Sig"

/* One batch, as its headers say. */
struct ps_man_batch {
	char push[48];
	char name[128];
	uint32_t index, count;
	uint32_t first_line;
	uint32_t crc;            /* of the message's text */
	uint64_t pushed_ms;
};

/* The site's stream and subject names. */
void ps_man_stream(char *out, size_t n, const char *site);
void ps_man_subject(char *out, size_t n, const char *site);

/* The next batch of text from off: the most whole lines that fit in max
 * bytes (the rest of the text when it fits). Its length, 0 when a single
 * line is longer than max; *lines gets its count of line breaks. */
size_t ps_man_cut(const char *text, size_t len, size_t off, size_t max,
		  uint32_t *lines);
/* How many batches ps_man_cut makes of the whole text at max bytes each
 * (0 for an empty text), or 0 when a line is longer than max. */
uint32_t ps_man_batch_count(const char *text, size_t len, size_t max);

/* How many batches the site's agent takes in one fetch and applies as
 * one load: as many as fit in PS_MAN_LOAD_BYTES at the cluster's message
 * size max_payload (8 when unknown: 0 or less), 1 to PS_MAN_LOAD_BATCHES
 * (the messages of a fetch are held until handled). */
#define PS_MAN_LOAD_BYTES   (64 << 20)
#define PS_MAN_LOAD_BATCHES 64
int ps_man_load_batches(int64_t max_payload);

natsStatus ps_man_batch_set(natsMsg *m, const struct ps_man_batch *b);
/* 0, or -1 when a header is missing or bad. */
int ps_man_batch_get(natsMsg *m, struct ps_man_batch *b);

/* What a batch's signature covers:
 *   "push=ID\nname=NAME\nbatch=I\nbatches=N\nline=L\nsize=S\nsha512=HEX\n"
 * (S and HEX: the size and SHA-512 of the text). */
void ps_man_sign_item(struct ps_out *item, const struct ps_man_batch *b,
		      const void *text, size_t len);

/* A signed batch at the site, delivered as stream sequence seq after
 * revision applied was handled: the checks of ps_sign_item_verify (kind
 * manifest, this site, trusted key, after=R not older than applied), and
 * R < seq, since a batch is published to follow R and so lands after it.
 * Without that last check a server forging sequences could deliver a
 * batch as revision R itself, then again (R is not older than R): a
 * replay. 0, or -1 and why. */
int ps_man_verify(const char *sig_line, const struct ps_man_batch *b,
		  const char *text, size_t len, const char *site,
		  uint64_t applied, uint64_t seq, const struct ps_trust *t,
		  char *why, size_t whylen);

#endif
