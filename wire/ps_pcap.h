/* ps_pcap.h: minimal reader and writer of classic pcap files (Ethernet link
 * type, microsecond timestamps), enough for the generator, the tests and the
 * benchmarks; tcpdump and DPDK's net_pcap read what it writes. */
#ifndef PS_PCAP_H
#define PS_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ps_pcap {
	FILE *fp;
	int swapped;       /* reader: file written with the other byte order */
	uint32_t snaplen;
};

/* Writer. Returns 0 on success, -1 with errno set. */
int ps_pcap_create(struct ps_pcap *pc, const char *path);
int ps_pcap_write(struct ps_pcap *pc, uint64_t ts_us, const uint8_t *frame,
		  size_t len);
int ps_pcap_close(struct ps_pcap *pc);

/* Reader. ps_pcap_next returns the captured length (>0), 0 at the end, -1 on
 * a corrupt file. cap is the size of buf; longer frames are an error. */
int ps_pcap_open(struct ps_pcap *pc, const char *path);
int ps_pcap_next(struct ps_pcap *pc, uint8_t *buf, size_t cap,
		 uint64_t *ts_us);

#endif
