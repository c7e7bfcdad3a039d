/* traffic.h: the scan-traffic model of parcelsort-gen: a county sorting
 * centre's mix of scan types, carriers, destinations (Zipf-skewed over the
 * real region table), service flags, weights, sizes, NOREADs, invalid
 * barcodes and re-scans; reproducible from a seed. */
#ifndef PS_TRAFFIC_H
#define PS_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "ps_frame.h"
#include "ps_wire.h"
#include "regions.h"
#include "rng.h"

struct ps_gen_cfg {
	uint64_t seed;
	double zipf_s;          /* skew of destination popularity (0 = uniform) */
	double noread_share;    /* records with nothing read */
	double invalid_share;   /* records with an invalid waybill */
	double rescan_share;    /* records re-scanning a recent waybill */
	double unknown_share;   /* records with region 0 */
	double ipv6_share;      /* datagrams sent over IPv6 (pcap mode) */
	double home_share;      /* destinations drawn inside home_prefix */
	uint64_t home_prefix;   /* 0 = none */
	unsigned home_digits;
	unsigned rec_min;       /* records per datagram, 1..22 */
	unsigned rec_max;
	unsigned devices;       /* scanner ids 1..devices */
	uint32_t site;          /* sender's site id in the header */
	uint64_t start_ms;      /* ts_ms of the first scan */
	struct ps_endpoints ep4;
	struct ps_endpoints ep6;
};

/* One generated record: its waybill bytes and decoded fields. */
struct ps_gen_rec {
	uint8_t wb[PS_WAYBILL_LEN];
	struct ps_scan scan;    /* scan.waybill points at wb */
};

struct zipf_table {
	uint64_t *code;         /* regions in popularity order */
	double *cdf;
	size_t n;
};

#define PS_GEN_RECENT 4096u

struct ps_gen {
	struct ps_gen_cfg cfg;
	struct ps_rng rng;
	struct zipf_table all;
	struct zipf_table home;
	struct ps_gen_rec recent[PS_GEN_RECENT]; /* for re-scans */
	size_t n_recent;
	uint32_t seq;
	uint32_t event_seq;
	uint64_t now_ms;
};

void ps_gen_cfg_defaults(struct ps_gen_cfg *c);
/* Build the generator over a region table. Returns 0 or -1 with err set. */
int ps_gen_init(struct ps_gen *g, const struct ps_gen_cfg *cfg,
		const struct ps_regions *reg, char *err, size_t errlen);
void ps_gen_free(struct ps_gen *g);

/* Draw one record. */
void ps_gen_record(struct ps_gen *g, struct ps_gen_rec *out);
/* Draw one request datagram: fills recs (n of them, 1..22) and writes the
 * UDP payload into buf; returns its length. */
size_t ps_gen_datagram(struct ps_gen *g, uint8_t *buf,
		       struct ps_gen_rec *recs, unsigned *n);
/* Draw one datagram and frame it (IPv4 or IPv6 by ipv6_share); returns the
 * frame length. payload_len, if not NULL, receives the UDP payload length. */
size_t ps_gen_frame(struct ps_gen *g, uint8_t *frame, size_t cap,
		    struct ps_gen_rec *recs, unsigned *n);

#endif
