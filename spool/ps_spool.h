/* ps_spool.h: the event spool between parcelsortd and the fleet agent.
 *
 * The daemon's export thread appends blocks of events (JSON lines) to
 * segment files in a directory; the agent, a separate process, reads them
 * in order, publishes each block to JetStream and deletes a segment once
 * every block in it is acknowledged. The spool is bounded: when the
 * segments still on disk reach the bound, new blocks are refused (the
 * caller counts their events as overflow) until the agent catches up.
 *
 * Segment files are named BOOT-SEGMENT.spool, both in fixed-width hex, so
 * that names sort in writing order: BOOT is the daemon start's id, SEGMENT
 * counts from 0. Boot ids only ever grow: a boot takes the clock's reading
 * in ns if that is past the last boot's id, else the last id + 1, where the
 * last id is the higher of the file "last-boot" in the directory (written
 * and fsynced before the boot's first segment) and the highest segment
 * name (segments of versions before that file, named by the start time).
 * So a restart whose clock reads earlier still sorts after the boots
 * before it, and a spool of the older version is read first.
 *
 * A block is a 32-byte header
 *   "PSB1", payload length u32, block number u64 (from 1 in a boot),
 *   first event number u64 (from 1 in a boot), event count u32,
 *   CRC-32 of the payload u32          (all little-endian)
 * followed by the payload. Each block is written with one write(2); a
 * write that fails part-way is cut off again (the segment truncated back
 * to its last whole block, or sealed if that fails too), its block lost
 * and reported as an error, never as written. A block cut short by a crash
 * is recognised by its length or CRC and skipped; whole blocks after torn
 * bytes (spools of the older version) are found again by their magic and
 * CRC. (BOOT, block number) names a block uniquely: the agent publishes it
 * with that as its de-duplication id. */
#ifndef PS_SPOOL_H
#define PS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define PS_SPOOL_HDR 32
#define PS_SPOOL_MAX_PAYLOAD (1u << 20)
#define PS_SPOOL_NAME 40

/* ----------------------------------------------------------- writer */

struct ps_spool_writer;

/* Open dir (created if missing) for a new boot; max_bytes bounds the
 * segments on disk, seg_bytes is where a segment is closed, clock_ns is the
 * real-time clock's reading (the boot id unless that would not be past the
 * last boot's id). */
struct ps_spool_writer *ps_spool_open(const char *dir, uint64_t max_bytes,
				      uint64_t seg_bytes, uint64_t clock_ns,
				      char *err, size_t errlen);
/* Append one block of count events. 0 done; 1 refused, the spool is full;
 * -1 write error (errno): nothing of the block stays in the spool, its
 * number goes to the next block, its event numbers are a gap. */
int ps_spool_append(struct ps_spool_writer *w, const void *payload,
		    uint32_t len, uint32_t count);
/* This boot's id, as the reader reports it in ps_spool_block.boot. */
uint64_t ps_spool_boot(const struct ps_spool_writer *w);
/* Bytes of segments still on disk (as of the last append). */
uint64_t ps_spool_bytes(const struct ps_spool_writer *w);
void ps_spool_close(struct ps_spool_writer *w);

/* ----------------------------------------------------------- reader */

/* Where the reader stands: a segment and the offset of the next block. */
struct ps_spool_pos {
	char segment[PS_SPOOL_NAME];    /* "" before the first segment */
	uint64_t offset;
};

struct ps_spool_block {
	uint64_t boot, seq, first_event;
	uint32_t count, len;
	const char *payload;            /* valid until the next read */
	struct ps_spool_pos end;        /* position after this block */
};

struct ps_spool_reader;

struct ps_spool_reader *ps_spool_reader_open(const char *dir, char *err,
					     size_t errlen);
/* Continue from pos (a position of an earlier block's end). */
void ps_spool_seek(struct ps_spool_reader *r, const struct ps_spool_pos *pos);
/* The next complete block: 1, 0 when none is there yet. Torn bytes are
 * skipped and counted once a whole block follows them in their segment or
 * a newer segment exists; a block whose bytes are not all there in the
 * newest segment is one being written, waited for (0), never searched. */
int ps_spool_read(struct ps_spool_reader *r, struct ps_spool_block *b);
/* Every block before pos is published: delete the segments before its own. */
void ps_spool_release(struct ps_spool_reader *r,
		      const struct ps_spool_pos *pos);
uint64_t ps_spool_torn(const struct ps_spool_reader *r);
/* Bytes in the spool from pos on (the agent's backlog). */
uint64_t ps_spool_backlog(struct ps_spool_reader *r,
			  const struct ps_spool_pos *pos);
void ps_spool_reader_close(struct ps_spool_reader *r);

/* Position <-> "SEGMENT OFFSET" text, for the agent's cursor file. */
int ps_spool_pos_parse(const char *s, struct ps_spool_pos *pos);

#endif
