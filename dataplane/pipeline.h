/* pipeline.h: the dataplane's work on one burst of received frames, on raw
 * buffers (the worker wraps mbufs around it; the fuzzers and tests call it
 * directly): classify every frame, check every request's header and its
 * sender against its kind's allow-list (while a capture runs, hand a copy
 * of each request, as received, to the worker's capture ring: capture.h);
 * apply chute states (kind 3) and
 * sort results (kind 5) in the burst's order (the scan batches before one
 * are decided first) and turn each into its acknowledgement;
 * decode the scan batches, intercept held waybills, look the sortable
 * records up in the duplicate window, give the barcode-only ones among
 * the rest their region from the manifest (one burst look-up), decide
 * them with one burst call into the plan, remember the new decisions, and rewrite each request
 * frame into its reply in place. */
#ifndef PS_PIPELINE_H
#define PS_PIPELINE_H

#include <stdint.h>

#include "capture.h"
#include "counters.h"
#include "dedup.h"
#include "holds.h"
#include "manifest.h"
#include "pkt.h"
#include "plan.h"

#define PS_BURST 32

enum ps_event_type {
	PS_EVENT_SCAN = 0,       /* a decision or a track-only scan */
	PS_EVENT_SORT_RESULT,    /* a sort result (kind 5 entry) */
};

/* Where the region a record was decided with came from. */
enum ps_region_source {
	PS_REGION_NONE = 0,      /* region 0 (no manifest entry, or not
				  * decided afresh) */
	PS_REGION_SCANNER,       /* the record's own region */
	PS_REGION_MANIFEST,      /* region 0, its waybill's manifest entry */
	PS_REGION_MISSED,        /* (in the pipeline only: region 0, looked
				  * up in vain; exported as NONE) */
};

/* One exported event: a scan with its decision (the whole record, so a
 * replay has it), or a sort result. */
struct ps_event {
	uint8_t waybill[PS_WAYBILL_LEN];
	uint64_t region;         /* the record's, as scanned */
	uint64_t region_used;    /* the region decided with */
	uint64_t matched_prefix;
	uint64_t ts_ms;          /* the scanner's (controller's) time */
	uint32_t event_seq;
	uint32_t hub;
	uint32_t plan_version;
	uint32_t site;           /* sender's site id */
	uint32_t weight_g;
	uint16_t chute;
	uint16_t device;
	uint16_t length_mm, width_mm, height_mm;
	uint16_t carrier;        /* two ASCII letters, first in the high byte */
	uint8_t reason;
	uint8_t tier;
	uint8_t scan_type;
	uint8_t service;
	uint8_t type;            /* enum ps_event_type */
	uint8_t status;          /* sort result: enum ps_sort_status */
	uint8_t missort;         /* sort result: SORTED into a wrong chute */
	uint8_t known;           /* sort result: the waybill was remembered */
	uint8_t region_src;      /* scan: enum ps_region_source */
};

typedef void (*ps_export_fn)(void *ctx, const struct ps_event *ev, unsigned n);

struct ps_pipeline {
	const struct ps_net_cfg *net;
	struct ps_plan **plan_slot;     /* RCU-protected active plan */
	struct ps_holds **holds_slot;   /* RCU-protected intercept list;
					 * NULL: none */
	struct ps_chute_state *chutes;  /* operator and sorter states */
	struct ps_dedup *dedup;
	struct ps_manifest *manifest;   /* NULL: none */
	uint64_t manifest_now_ms;       /* wall clock, refreshed every second
					 * (entries lapse by it) */
	uint32_t site;                  /* reply site id while no plan */
	struct ps_counters *cnt;
	struct ps_loop_counters *loop;  /* per device and chute; NULL: off */
	uint32_t lapse_s;               /* second of the last lapse check */
	ps_export_fn export_fn;         /* NULL: export off */
	void *export_ctx;
	struct ps_capture_ring *capture;/* NULL: no capture running (the
					 * worker sets it, capture.h) */
};

/* A frame buffer: in: data, len, rx_csum; out: verdict and out_len (never
 * more than len: every answer is written within the received bytes) and
 * tx (which checksums the port is to make). */
struct ps_pkt_buf {
	uint8_t *data;
	uint16_t len;
	uint16_t out_len;
	uint8_t send;            /* 1: transmit out_len bytes back, 0: drop */
	uint8_t is_request;
	uint8_t rx_csum;         /* PS_RX_CSUM (pkt.h); 0: check in software */
	struct ps_tx_csum tx;    /* flags 0: every checksum made */
};

/* Process n <= PS_BURST frames at the duplicate window's time now_s
 * (seconds; the workers pass ps_dedup_now). */
void ps_pipeline_run(struct ps_pipeline *pl, struct ps_pkt_buf *pkts,
		     unsigned n, uint32_t now_s);
/* The same for a worker that has just read the TSC (t_in: when the burst
 * arrived, the start of its parse cycles); returns the TSC read when the
 * replies were made (the start of its TX cycles), so that the worker and
 * the pipeline read the clock once at each boundary between them. */
uint64_t ps_pipeline_run_tsc(struct ps_pipeline *pl, struct ps_pkt_buf *pkts,
			     unsigned n, uint32_t now_s, uint64_t t_in);

#endif
