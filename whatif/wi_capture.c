/* wi_capture.c: a pcap file mapped and walked (see wi_capture.h). */
#include "wi_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
#define GLOBAL_LEN 24u
#define RECORD_LEN 16u
#define WI_POPULATE_MAX (1ull << 30)

static uint32_t rd32(const uint8_t *p, int swapped)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

int wi_capture_open_mem(struct wi_capture *c, const uint8_t *data,
			size_t size, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->map = data;
	c->size = size;
	if (size < GLOBAL_LEN) {
		snprintf(err, errlen, "not a pcap file (%zu bytes, shorter "
			 "than a pcap header)", size);
		return -1;
	}
	uint32_t m = rd32(data, 0);
	if (m == MAGIC_US || m == MAGIC_NS) {
		c->swapped = 0;
	} else if (m == __builtin_bswap32(MAGIC_US) ||
		   m == __builtin_bswap32(MAGIC_NS)) {
		c->swapped = 1;
		m = __builtin_bswap32(m);
	} else {
		snprintf(err, errlen, "not a pcap file (magic %08x; pcapng "
			 "and other formats are not read: convert with "
			 "editcap -F pcap)", rd32(data, 0));
		return -1;
	}
	c->nanos = m == MAGIC_NS;
	uint32_t link = rd32(data + 20, c->swapped) & 0x0fffffffu;
	if (link != WI_LINKTYPE_ETHERNET) {
		snprintf(err, errlen, "link type %u, not Ethernet (1): not a "
			 "capture of the dataplane's frames", link);
		return -1;
	}
	c->off = GLOBAL_LEN;
	return 0;
}

int wi_capture_open(struct wi_capture *c, const char *path, char *err,
		    size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	memset(c, 0, sizeof(*c));
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path,
			 fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	const uint8_t *map = NULL;
	if (size) {
		/* read in one call rather than a fault every few pages, when
		 * it is small enough to be held whole (it is read whole) */
		int populate = size <= WI_POPULATE_MAX ? MAP_POPULATE : 0;
		void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | populate,
			       fd, 0);
		if (p == MAP_FAILED) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		madvise(p, size, MADV_SEQUENTIAL);
		map = p;
	}
	close(fd);
	char why[200];
	if (wi_capture_open_mem(c, map, size, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		if (map)
			munmap((void *)map, size);
		c->map = NULL;
		return -1;
	}
	c->owned = 1;
	return 0;
}

void wi_capture_close(struct wi_capture *c)
{
	if (c->owned && c->map)
		munmap((void *)c->map, c->size);
	c->map = NULL;
	c->owned = 0;
}

int wi_capture_next(struct wi_capture *c, const uint8_t **frame,
		    uint32_t *len, uint64_t *ts_us)
{
	for (;;) {
		if (c->off == c->size)
			return 0;
		if (c->size - c->off < RECORD_LEN) {
			c->truncated = 1;
			return 0;
		}
		const uint8_t *h = c->map + c->off;
		uint32_t sec = rd32(h, c->swapped);
		uint32_t frac = rd32(h + 4, c->swapped);
		uint32_t incl = rd32(h + 8, c->swapped);
		uint32_t orig = rd32(h + 12, c->swapped);
		if (incl > WI_FRAME_MAX) {
			c->corrupt = 1;
			return 0;
		}
		if (c->size - c->off - RECORD_LEN < incl) {
			c->truncated = 1;
			return 0;
		}
		c->off += RECORD_LEN + incl;
		c->records++;
		if (incl < orig) {       /* cut by the snap length */
			c->cut++;
			continue;
		}
		*frame = h + RECORD_LEN;
		*len = incl;
		*ts_us = (uint64_t)sec * 1000000u +
			 (c->nanos ? frac / 1000u : frac);
		return 1;
	}
}
