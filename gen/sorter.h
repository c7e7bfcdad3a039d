/* sorter.h: parcelsort-gen's sorter controller model (the sorter loop of
 * docs/protocol.md, kinds 1-5 seen from the sorter's side): it inducts
 * parcels (INDUCT scans of fresh waybills), takes each decision, discharges
 * the parcel after a transit with a configured mix of outcomes (SORTED,
 * CHUTE_FULL with a FULL chute report, DISCHARGE_FAILED, LOST, missorts),
 * sends the sort results in batches, checks every acknowledgement, and
 * re-scans what went round until each parcel has its fate.
 *
 * The model owns no socket and no clock: the caller passes the time in
 * milliseconds, takes the datagrams to send and hands back the replies, so
 * that a seed and the same replies give the same bytes (the unit tests). */
#ifndef PS_SORTER_H
#define PS_SORTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "traffic.h"

struct ps_sorter_cfg {
	double full_p;          /* share of discharges CHUTE_FULL */
	double failed_p;        /* DISCHARGE_FAILED */
	double lost_p;          /* LOST */
	double missort_p;       /* SORTED into another chute */
	unsigned transit_ms;    /* decision to discharge */
	unsigned round_ms;      /* one more lap before the re-scan */
	unsigned hold_s;        /* hold_s of a FULL report, 1..3600 */
	unsigned max_rounds;    /* the sorter's own bound on laps, 1..255 */
	unsigned batch_ms;      /* longest a result waits for a fuller batch */
	unsigned reply_ms;      /* a scan or report unanswered this long is missing */
	double rate;            /* new parcels per second, 0 = as the window allows */
	uint64_t parcels;       /* parcels to induct, 0 = by duration */
	uint64_t duration_ms;   /* induct for this long, 0 = by count */
	unsigned window;        /* most parcels on the sorter at once */
	unsigned rec_max;       /* scan records per datagram, 1..22 */
	uint64_t seed;          /* outcome draws (the traffic has its own) */
};

/* What became of a parcel: every inducted parcel ends in exactly one. */
enum ps_fate {
	PS_FATE_SORTED = 0,     /* SORTED into its decided chute */
	PS_FATE_MISSORTED,      /* SORTED into another chute (missort sent) */
	PS_FATE_LOST,           /* LOST sent */
	PS_FATE_RECIRC_LIMIT,   /* decision RECIRC_LIMIT: to the reject chute */
	PS_FATE_INTERCEPTED,    /* decision INTERCEPTED */
	PS_FATE_REJECTED,       /* NO_ROUTE, NOREAD, BAD_BARCODE, MALFORMED,
				   CHUTE_UNAVAILABLE: to the reject chute */
	PS_FATE_NO_CHUTE,       /* NO_PLAN, TRACK_ONLY or chute 0: no action */
	PS_FATE_GAVE_UP,        /* went round max_rounds times */
	PS_FATE_UNANSWERED,     /* its scan got no usable decision in time */
	PS_FATE_COUNT
};

struct ps_sorter_stats {
	uint64_t inducted, scans, rescans, scan_datagrams;
	uint64_t fate[PS_FATE_COUNT];
	uint64_t decisions, by_reason[PS_REASON_COUNT];
	uint64_t went_round;    /* parcels that went round at least once */
	uint64_t rounds;        /* not-discharged results sent */
	uint64_t results, by_status[PS_SORT_STATUS_MAX + 1];
	uint64_t result_datagrams, missorts;
	uint64_t chute_reports, report_datagrams;
	uint64_t acks_ok;       /* count and seq as sent */
	uint64_t acks_short;    /* fewer entries applied than sent */
	uint64_t acks_missing;  /* no acknowledgement within reply_ms */
	uint64_t unexpected;    /* replies matching nothing outstanding */
	uint64_t bad_replies;   /* replies that fail the checks */
	uint64_t send_errors;
};

/* Which socket a datagram leaves from: the scanner's or the sorter's. */
enum ps_sorter_channel { PS_CH_SCANNER = 0, PS_CH_SORTER = 1 };

struct ps_parcel;
struct ps_outstanding;
struct ps_sorter_queue { uint32_t *v; uint32_t head, n, cap; };

struct ps_sorter {
	struct ps_sorter_cfg cfg;
	struct ps_gen *gen;
	struct ps_rng rng;
	struct ps_parcel *parcel;     /* window slots */
	uint32_t *free_list;
	uint32_t n_free;
	struct ps_sorter_queue scan_q; /* parcels whose scan is due */
	struct ps_sorter_queue result_q;
	uint8_t (*result)[PS_SORT_RESULT_LEN]; /* encoded, by result_q slot */
	uint64_t oldest_result_ms;
	uint8_t report[PS_MAX_CHUTE_STATES][PS_CHUTE_STATE_LEN];
	unsigned n_report;
	struct ps_outstanding *out;   /* by seq & PS_SORTER_OUT_MASK */
	uint64_t *hold_until_ms;      /* our FULL reports in force, by chute */
	uint64_t *chute_sorted;       /* SORTED results by chute */
	uint32_t seq;
	uint32_t reject_chute, intercept_chute; /* as seen in decisions */
	uint64_t active;              /* parcels on the sorter */
	unsigned n_out;               /* datagrams awaiting their reply */
	struct ps_sorter_stats st;
};

#define PS_SORTER_OUT_SLOTS 4096u
#define PS_SORTER_OUT_MASK (PS_SORTER_OUT_SLOTS - 1)

void ps_sorter_cfg_defaults(struct ps_sorter_cfg *c);
/* Checks the configuration; returns 0, or -1 with err set. gen draws the
 * parcels (its shares of unreadable, invalid and re-scanned records are
 * not used: every parcel is inducted with a fresh valid waybill). */
int ps_sorter_init(struct ps_sorter *s, const struct ps_sorter_cfg *cfg,
		   struct ps_gen *gen, char *err, size_t errlen);
void ps_sorter_free(struct ps_sorter *s);

/* Time is the caller's, in milliseconds from the start (0). */
/* Move time on to now_ms: discharges, re-scans due, inductions the rate
 * allows, timeouts. */
void ps_sorter_tick(struct ps_sorter *s, uint64_t now_ms);
/* The next datagram to send now, written into buf (PS_MAX_REQUEST bytes):
 * chute reports first, then sort results, then scans. Returns its length
 * and sets *ch, or 0 when nothing is due. */
size_t ps_sorter_next(struct ps_sorter *s, uint64_t now_ms, uint8_t *buf,
		      enum ps_sorter_channel *ch);
/* A reply datagram (a decision batch or an acknowledgement). */
void ps_sorter_receive(struct ps_sorter *s, uint64_t now_ms,
		       const uint8_t *buf, size_t len);
/* 1 once induction is over and every parcel has its fate. */
int ps_sorter_done(const struct ps_sorter *s, uint64_t now_ms);

/* Writes the waybill of every every-th parcel among the first n that a run
 * of this freshly initialised sorter would induct (the same draws, in the
 * same order: a run's new waybills depend on the seed and the traffic
 * options only, never on the replies), one `WAYBILL,NOTE` a line as
 * `parcelsortctl hold load` reads it. Uses up the sorter's traffic draws:
 * initialise a new one to run. Returns the count written, -1 on a write
 * error. */
long ps_sorter_write_holds(struct ps_sorter *s, uint64_t n, unsigned every,
			   FILE *f);

/* Per-chute SORTED counts (results sent, missorts included). */
uint64_t ps_sorter_chute_sorted(const struct ps_sorter *s, unsigned chute);
const char *ps_fate_name(unsigned fate);

#endif
