/* ps_wire.h: the parcelsort wire protocol v1, revision 2 (docs/protocol.md).
 *
 * Layout constants, the decoded forms of header, scan record, decision
 * record, chute state entry and sort result entry, and the codec: validation
 * of every field the spec constrains, decoding in place (a decoded scan or
 * sort result points at the waybill bytes inside the datagram; nothing is
 * allocated or copied), and encoding. Shared by the dataplane, the
 * generator, the tests and the benchmarks. */
#ifndef PS_WIRE_H
#define PS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define PS_MAGIC          0x5053u  /* "PS" */
#define PS_VERSION        1u
#define PS_KIND_SCAN      1u
#define PS_KIND_DECISION  2u
#define PS_KIND_CHUTE_STATE 3u /* chute states, from the sorter controller */
#define PS_KIND_ACK         4u /* acknowledgement of a kind 3 or 5 */
#define PS_KIND_SORT_RESULT 5u /* sort results, from the sorter controller */
#define PS_KIND_MAX         5u
#define PS_DEFAULT_PORT   7100u

#define PS_HDR_LEN        16u
#define PS_SCAN_LEN       64u
#define PS_DECISION_LEN   48u
#define PS_MAX_RECORDS    22u
#define PS_WAYBILL_LEN    24u
#define PS_WAYBILL_MIN    8u
#define PS_MAX_REQUEST    (PS_HDR_LEN + PS_SCAN_LEN * PS_MAX_RECORDS)

/* The sorter loop (revision 2). Every request still fits PS_MAX_REQUEST:
 * 16 + 8 * 176 = 1424, 16 + 48 * 29 = 1408. */
#define PS_CHUTE_STATE_LEN  8u
#define PS_SORT_RESULT_LEN  48u
#define PS_MAX_CHUTE_STATES 176u   /* kind 3 count 1..176 */
#define PS_MAX_SORT_RESULTS 29u    /* kind 5 count 1..29 */
#define PS_MAX_ACK_COUNT    176u   /* kind 4 count 0..176 */
#define PS_HOLD_MAX_S       3600u  /* hold_s of a FULL/BLOCKED/FAULT report */

#define PS_REGION_MIN     110000000000ull
#define PS_REGION_MAX     999999999999ull

/* scan_type values */
enum ps_scan_type {
	PS_SCAN_INDUCT = 1,
	PS_SCAN_DWS = 2,
	PS_SCAN_LOAD = 3,
	PS_SCAN_ARRIVE = 4,
	PS_SCAN_DISPATCH = 5,
	PS_SCAN_SIGN = 6,
	PS_SCAN_NOREAD = 7,
	PS_SCAN_EXCEPTION = 8,
};
#define PS_SCAN_TYPE_MAX 8

/* service flag bits */
#define PS_SVC_COLD_CHAIN     0x01u
#define PS_SVC_BULKY          0x02u
#define PS_SVC_FRAGILE        0x04u
#define PS_SVC_INTERNATIONAL  0x08u
#define PS_SVC_TIME_DEFINITE  0x10u
#define PS_SVC_COD            0x20u
#define PS_SVC_RETURN         0x40u
#define PS_SVC_RESERVED       0x80u

/* tier values of a decision */
enum ps_tier {
	PS_TIER_NONE = 0,
	PS_TIER_TRUNK = 1,
	PS_TIER_COUNTY = 2,
	PS_TIER_TOWNSHIP = 3,
	PS_TIER_VILLAGE = 4,
	PS_TIER_SPECIAL = 5,
};
#define PS_TIER_COUNT 6

/* reason values of a decision */
enum ps_reason {
	PS_R_ROUTED = 0,
	PS_R_OVERRIDE = 1,
	PS_R_DEFAULT = 2,
	PS_R_DUPLICATE = 3,
	PS_R_TRACK_ONLY = 4,
	PS_R_NO_ROUTE = 5,
	PS_R_NOREAD = 6,
	PS_R_BAD_BARCODE = 7,
	PS_R_MALFORMED_RECORD = 8,
	PS_R_CHUTE_UNAVAILABLE = 9,
	PS_R_NO_PLAN = 10,
	PS_R_INTERCEPTED = 11,    /* revision 2: the waybill is held */
	PS_R_RECIRC_LIMIT = 12,   /* revision 2: went round too often */
};
#define PS_REASON_COUNT 13

/* state of a chute state entry (kind 3) */
enum ps_chute_report_state {
	PS_CHUTE_OPEN = 0,
	PS_CHUTE_FULL = 1,
	PS_CHUTE_BLOCKED = 2,
	PS_CHUTE_FAULT = 3,
};
#define PS_CHUTE_STATE_COUNT 4

/* status of a sort result entry (kind 5) */
enum ps_sort_status {
	PS_SORT_SORTED = 1,
	PS_SORT_CHUTE_FULL = 2,
	PS_SORT_CHUTE_BLOCKED = 3,
	PS_SORT_DISCHARGE_FAILED = 4,
	PS_SORT_NO_DESTINATION = 5,
	PS_SORT_LOST = 6,
};
#define PS_SORT_STATUS_MAX 6

/* Why a request datagram was refused by the header checks. */
enum ps_hdr_status {
	PS_HDR_OK = 0,
	PS_HDR_SHORT,     /* fewer than 16 bytes */
	PS_HDR_MAGIC,
	PS_HDR_VERSION,
	PS_HDR_KIND,      /* kind not accepted (see the check functions) */
	PS_HDR_COUNT,     /* count outside the kind's range (1..22 for kind 1) */
	PS_HDR_FLAGS,     /* reserved flags not zero */
	PS_HDR_LENGTH,    /* payload length is not 16 + entry size * count */
};
#define PS_HDR_STATUS_COUNT 8

/* What the codec concludes about one scan record before any plan is consulted:
 * steps 1, 2, 4 and 5 of the decision order (step 3, NO_PLAN, sits between
 * and belongs to the caller). */
enum ps_scan_class {
	PS_CLASS_SORTABLE = 0, /* INDUCT or DWS with a valid waybill */
	PS_CLASS_MALFORMED,    /* step 1 */
	PS_CLASS_TRACK_ONLY,   /* step 2 */
	PS_CLASS_NOREAD,       /* step 4 */
	PS_CLASS_BAD_BARCODE,  /* step 5 */
};

/* Which record rule a malformed record broke (first one found). */
enum ps_malformed_cause {
	PS_MAL_NONE = 0,
	PS_MAL_REGION,     /* non-zero region outside 110000000000..999999999999 */
	PS_MAL_SCAN_TYPE,  /* scan_type outside 1..8 */
	PS_MAL_SERVICE,    /* reserved service bit 0x80 set */
	PS_MAL_RESERVED,   /* reserved field not zero */
};

/* Why an entry of a kind 3 or kind 5 request is not valid (first rule
 * broken, in field order). An invalid entry is skipped, not the datagram. */
enum ps_entry_cause {
	PS_ENT_VALID = 0,
	PS_ENT_WAYBILL,    /* kind 5: waybill not valid (as for BAD_BARCODE) */
	PS_ENT_CHUTE,      /* kind 3: chute 0; kind 5: SORTED with chute 0 */
	PS_ENT_STATE,      /* kind 3: state outside 0..3 */
	PS_ENT_HOLD,       /* kind 3: OPEN with hold_s not 0, else not 1..3600 */
	PS_ENT_STATUS,     /* kind 5: status outside 1..6 */
	PS_ENT_RESERVED,   /* a reserved field not zero */
};
#define PS_ENT_CAUSE_COUNT 7

struct ps_header {
	uint16_t magic;
	uint8_t version;
	uint8_t kind;
	uint16_t count;
	uint16_t flags;
	uint32_t site;
	uint32_t seq;
};

/* A decoded scan record. waybill points at the 24 bytes inside the datagram
 * (decode) or at the caller's 24 bytes (encode); it is never copied. */
struct ps_scan {
	const uint8_t *waybill;
	uint64_t region;
	uint64_t ts_ms;
	uint32_t weight_g;
	uint16_t length_mm;
	uint16_t width_mm;
	uint16_t height_mm;
	uint16_t device;
	uint8_t scan_type;
	uint8_t service;
	uint16_t carrier;      /* two ASCII letters, first letter in the high byte */
	uint32_t event_seq;
	uint32_t reserved;
	/* filled by ps_scan_decode */
	uint8_t waybill_len;   /* characters before the NUL padding */
	uint8_t klass;         /* enum ps_scan_class */
	uint8_t malformed;     /* enum ps_malformed_cause */
	uint8_t pad_;
};

struct ps_decision {
	uint32_t event_seq;
	uint16_t chute;
	uint8_t tier;
	uint8_t reason;
	uint32_t hub;
	uint32_t plan_version;
	uint64_t matched_prefix;
};

/* A decoded chute state entry (kind 3, 8 bytes). */
struct ps_chute_report {
	uint16_t chute;
	uint8_t state;         /* enum ps_chute_report_state */
	uint8_t reserved1;     /* byte 3 */
	uint16_t hold_s;
	uint16_t reserved2;    /* bytes 6-7 */
	/* filled by ps_chute_report_decode */
	uint8_t invalid;       /* enum ps_entry_cause */
};

/* A decoded sort result entry (kind 5, 48 bytes). waybill points at the 24
 * bytes inside the datagram (decode) or at the caller's (encode). */
struct ps_sort_result {
	const uint8_t *waybill;
	uint32_t event_seq;
	uint16_t chute;
	uint8_t status;        /* enum ps_sort_status */
	uint8_t reserved1;     /* byte 31 */
	uint64_t ts_ms;
	uint32_t plan_version;
	uint32_t reserved2;    /* bytes 44-47 */
	/* filled by ps_sort_result_decode */
	uint8_t waybill_len;
	uint8_t waybill_status; /* enum ps_waybill_status */
	uint8_t invalid;        /* enum ps_entry_cause */
};

/* ---- header ---- */
/* The dataplane's check of a scan batch: everything ps_header_check_kind
 * and ps_header_check_body check, with kind 1 the only kind accepted
 * (kinds 3 and 5 get PS_HDR_KIND until the sorter loop handles them). */
enum ps_hdr_status ps_header_check(const uint8_t *payload, size_t len,
				   struct ps_header *out);
/* Revision 2's checks in the spec's two stages, so that the sender's
 * allow-list for the kind can be checked between them. First: length
 * >= 16, magic, version, and kind 1, 3 or 5 (2 and 4 are replies); every
 * header field is loaded into out. */
enum ps_hdr_status ps_header_check_kind(const uint8_t *payload, size_t len,
					struct ps_header *out);
/* Second, for a header that passed the first: count in the kind's range
 * (1..22, 1..176, 1..29), flags 0, and len exactly 16 + 64, 8 or 48 times
 * count. */
enum ps_hdr_status ps_header_check_body(const struct ps_header *h, size_t len);
/* The dataplane's fast check of the common request: a scan batch (kind 1)
 * whose header passes both stages (magic, version, kind; count 1..22,
 * flags 0, len exactly 16 + 64 x count). Returns 1 with every field loaded
 * into out, as ps_header_check_kind loads them; 0 for anything else, which
 * the two stages then check (and say why). */
static inline int ps_header_scan_ok(const uint8_t *p, size_t len,
				    struct ps_header *out)
{
	if (len < PS_HDR_LEN + PS_SCAN_LEN || p[0] != (PS_MAGIC >> 8) ||
	    p[1] != (PS_MAGIC & 0xffu) || p[2] != PS_VERSION ||
	    p[3] != PS_KIND_SCAN || p[6] || p[7])
		return 0;
	unsigned count = (unsigned)p[4] << 8 | p[5];
	if (count < 1 || count > PS_MAX_RECORDS ||
	    len != PS_HDR_LEN + (size_t)PS_SCAN_LEN * count)
		return 0;
	out->magic = PS_MAGIC;
	out->version = PS_VERSION;
	out->kind = PS_KIND_SCAN;
	out->count = (uint16_t)count;
	out->flags = 0;
	out->site = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
		    (uint32_t)p[10] << 8 | p[11];
	out->seq = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 |
		   (uint32_t)p[14] << 8 | p[15];
	return 1;
}
/* Entry size and largest count of a request kind (1, 3, 5); 0 otherwise. */
unsigned ps_kind_entry_len(unsigned kind);
unsigned ps_kind_max_count(unsigned kind);
void ps_header_encode(uint8_t *out, const struct ps_header *h);

/* ---- waybill ---- */
/* Result of checking a waybill's 24 bytes against the validity rules. */
enum ps_waybill_status {
	PS_WB_VALID = 0,
	PS_WB_EMPTY,      /* all NUL: nothing read */
	PS_WB_LENGTH,     /* fewer than 8 characters */
	PS_WB_CHARSET,    /* a character outside [0-9A-Z-] */
	PS_WB_PADDING,    /* a non-NUL byte after the first NUL */
	PS_WB_S10,        /* UPU S10 form with a wrong check digit */
};
enum ps_waybill_status ps_waybill_check(const uint8_t *wb,
					uint8_t *len_out);
/* The same checks byte by byte (the reference the tests compare with). */
enum ps_waybill_status ps_waybill_check_bytes(const uint8_t *wb,
					      uint8_t *len_out);
/* UPU S10 check digit of eight ASCII digits. */
unsigned ps_s10_check_digit(const char *digits);
/* Stable 32-bit hash of the 24 waybill bytes (docs/protocol.md). */
uint32_t ps_waybill_hash(const uint8_t *wb);

/* ---- scan record ---- */
/* Decode one 64-byte record in place and classify it (sets klass, malformed,
 * waybill_len). Returns the class. */
enum ps_scan_class ps_scan_decode(const uint8_t *rec, struct ps_scan *out);
/* Decode all records of a checked request; returns the count. */
unsigned ps_scan_decode_burst(const uint8_t *payload,
			      const struct ps_header *h,
			      struct ps_scan *out);
void ps_scan_encode(uint8_t *out, const struct ps_scan *s);

/* ---- decision record ---- */
void ps_decision_encode(uint8_t *out,
			const uint8_t *waybill,
			const struct ps_decision *d);
/* Decode a decision; the waybill is copied into wb_out if not NULL. */
void ps_decision_decode(const uint8_t *rec, struct ps_decision *d,
			uint8_t *wb_out);

/* Turn a checked request, whose records were decoded into scans[] (waybill
 * pointers into this same payload) and whose header req was loaded from
 * this payload, into its reply in place: the header becomes kind 2 with
 * the given site (its other bytes stay), then one decision per record. Returns the reply's
 * payload length (16 + 48 * count), always smaller than the request's. */
size_t ps_reply_build_inplace(uint8_t *payload, const struct ps_header *req,
			      uint32_t site, const struct ps_scan *scans,
			      const struct ps_decision *dec);

/* ---- chute state entry (kind 3) ---- */
/* Decode one 8-byte entry and check it (sets invalid). Returns the cause. */
enum ps_entry_cause ps_chute_report_decode(const uint8_t *e,
					  struct ps_chute_report *out);
/* Decode all entries of a checked kind 3 request; returns how many are
 * valid (each entry's invalid says which). */
unsigned ps_chute_report_decode_burst(const uint8_t *payload,
				     const struct ps_header *h,
				     struct ps_chute_report *out);
void ps_chute_report_encode(uint8_t *e, const struct ps_chute_report *s);

/* ---- sort result entry (kind 5) ---- */
/* Decode one 48-byte entry in place and check it (sets invalid,
 * waybill_len, waybill_status). Returns the cause. */
enum ps_entry_cause ps_sort_result_decode(const uint8_t *e,
					  struct ps_sort_result *out);
/* The same with every rule but the waybill's (waybill_status is set to
 * PS_WB_VALID unchecked, waybill_len to 0): for a caller that checks the
 * waybill only when it must (the dataplane: a waybill its duplicate window
 * knows passed the check when it was scanned); ps_sort_result_decode then
 * gives the full verdict. */
enum ps_entry_cause ps_sort_result_decode_unchecked(const uint8_t *e,
						    struct ps_sort_result *out);
/* Decode all entries of a checked kind 5 request; returns how many are
 * valid. */
unsigned ps_sort_result_decode_burst(const uint8_t *payload,
				     const struct ps_header *h,
				     struct ps_sort_result *out);
void ps_sort_result_encode(uint8_t *e, const struct ps_sort_result *r);

/* ---- acknowledgement (kind 4) ---- */
/* Write the 16-byte acknowledgement of request req: kind 4, count =
 * applied, flags 0, the given site, req's seq. out may be the request's
 * own payload (the reply is its first 16 bytes). Returns 16. */
size_t ps_ack_encode(uint8_t *out, const struct ps_header *req,
		     uint32_t site, uint16_t applied);
/* The receiver's check of an acknowledgement: length >= 16, magic,
 * version, kind 4, count 0..176, flags 0, length exactly 16. */
enum ps_hdr_status ps_ack_check(const uint8_t *payload, size_t len,
				struct ps_header *out);

/* ---- names (for tools, logs and docs) ---- */
const char *ps_reason_name(unsigned reason);
const char *ps_tier_name(unsigned tier);
const char *ps_scan_type_name(unsigned t);
const char *ps_hdr_status_name(unsigned s);
const char *ps_malformed_name(unsigned c);
const char *ps_kind_name(unsigned kind);
const char *ps_chute_state_name(unsigned state);
const char *ps_sort_status_name(unsigned status);
const char *ps_entry_cause_name(unsigned cause);

/* Region code helpers: a prefix of k digits padded to 12 digits. */
uint64_t ps_region_pad(uint64_t prefix, unsigned digits);

#endif
