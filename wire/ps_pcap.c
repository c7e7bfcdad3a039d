/* ps_pcap.c: classic pcap file reader and writer. */
#include "ps_pcap.h"

#include <errno.h>
#include <string.h>

#define PCAP_MAGIC        0xa1b2c3d4u
#define PCAP_MAGIC_SWAP   0xd4c3b2a1u
#define LINKTYPE_ETHERNET 1u
#define PCAP_SNAPLEN      65535u

struct pcap_global {
	uint32_t magic;
	uint16_t vmajor, vminor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec {
	uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

static uint32_t sw32(uint32_t v, int swap)
{
	return swap ? __builtin_bswap32(v) : v;
}

int ps_pcap_create(struct ps_pcap *pc, const char *path)
{
	struct pcap_global g = { PCAP_MAGIC, 2, 4, 0, 0, PCAP_SNAPLEN,
				 LINKTYPE_ETHERNET };
	pc->fp = fopen(path, "wb");
	pc->swapped = 0;
	pc->snaplen = PCAP_SNAPLEN;
	if (!pc->fp)
		return -1;
	if (fwrite(&g, sizeof(g), 1, pc->fp) != 1) {
		fclose(pc->fp);
		pc->fp = NULL;
		return -1;
	}
	return 0;
}

int ps_pcap_write(struct ps_pcap *pc, uint64_t ts_us, const uint8_t *frame,
		  size_t len)
{
	struct pcap_rec r = { (uint32_t)(ts_us / 1000000u),
			      (uint32_t)(ts_us % 1000000u), (uint32_t)len,
			      (uint32_t)len };
	if (len > pc->snaplen) {
		errno = EMSGSIZE;
		return -1;
	}
	if (fwrite(&r, sizeof(r), 1, pc->fp) != 1 ||
	    fwrite(frame, 1, len, pc->fp) != len)
		return -1;
	return 0;
}

int ps_pcap_close(struct ps_pcap *pc)
{
	int rc = 0;
	if (pc->fp && fclose(pc->fp) != 0)
		rc = -1;
	pc->fp = NULL;
	return rc;
}

int ps_pcap_open(struct ps_pcap *pc, const char *path)
{
	struct pcap_global g;
	pc->fp = fopen(path, "rb");
	if (!pc->fp)
		return -1;
	if (fread(&g, sizeof(g), 1, pc->fp) != 1 ||
	    (g.magic != PCAP_MAGIC && g.magic != PCAP_MAGIC_SWAP)) {
		fclose(pc->fp);
		pc->fp = NULL;
		errno = EINVAL;
		return -1;
	}
	pc->swapped = g.magic == PCAP_MAGIC_SWAP;
	pc->snaplen = sw32(g.snaplen, pc->swapped);
	if (sw32(g.linktype, pc->swapped) != LINKTYPE_ETHERNET) {
		fclose(pc->fp);
		pc->fp = NULL;
		errno = EPROTONOSUPPORT;
		return -1;
	}
	return 0;
}

int ps_pcap_next(struct ps_pcap *pc, uint8_t *buf, size_t cap,
		 uint64_t *ts_us)
{
	struct pcap_rec r;
	size_t n = fread(&r, 1, sizeof(r), pc->fp);
	if (n == 0)
		return 0;
	if (n != sizeof(r))
		return -1;
	uint32_t len = sw32(r.incl_len, pc->swapped);
	if (len == 0 || len > cap || len > 0x7fffffff)
		return -1;
	if (fread(buf, 1, len, pc->fp) != len)
		return -1;
	if (ts_us)
		*ts_us = (uint64_t)sw32(r.ts_sec, pc->swapped) * 1000000u +
			 sw32(r.ts_usec, pc->swapped);
	return (int)len;
}
