/* wi_capture.h: the what-if's reader of a capture: a classic pcap file
 * (microsecond or nanosecond timestamps, either byte order) of Ethernet
 * frames, mapped into memory and walked record by record. A foreign file
 * (not pcap, another link type) is refused with a clear reason; a file cut
 * short mid-record ends the walk at the last whole record and says so; a
 * frame cut short by the capture's snap length (captured < original
 * length) is not what the dataplane received: it is skipped and counted. */
#ifndef PS_WI_CAPTURE_H
#define PS_WI_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define WI_LINKTYPE_ETHERNET 1u
#define WI_FRAME_MAX 65535u      /* longer records: a corrupt file */

struct wi_capture {
	const uint8_t *map;      /* the whole file */
	size_t size;
	size_t off;              /* next record header */
	int swapped;             /* written in the other byte order */
	int nanos;               /* nanosecond timestamps */
	uint64_t records;        /* whole records read so far */
	uint64_t cut;            /* of which frames cut by the snap length,
				  * skipped */
	int truncated;           /* the file ended inside a record */
	int corrupt;             /* a record longer than WI_FRAME_MAX */
	int owned;               /* map is ours to unmap */
};

/* Open and check the global header. Returns 0, or -1 with a reason in
 * err ("not a pcap file", "link type 113, not Ethernet", ...). */
int wi_capture_open(struct wi_capture *c, const char *path, char *err,
		    size_t errlen);
/* The same over bytes in memory (tests); the bytes must outlive c. */
int wi_capture_open_mem(struct wi_capture *c, const uint8_t *data,
			size_t size, char *err, size_t errlen);
void wi_capture_close(struct wi_capture *c);

/* The next whole frame: 1 with *frame, *len and *ts_us set; 0 at the end
 * (or at a cut: c->truncated; or a corrupt length: c->corrupt). Records
 * of a frame cut by the snap length are passed over (c->cut). */
int wi_capture_next(struct wi_capture *c, const uint8_t **frame,
		    uint32_t *len, uint64_t *ts_us);

#endif
