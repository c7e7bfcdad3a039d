/* ps_wire.h: the parcelsort wire protocol v1 (docs/protocol.md).
 *
 * Layout constants, the decoded forms of header, scan record and decision
 * record, and the codec: validation of every field the spec constrains,
 * decoding in place (the decoded scan points at the waybill bytes inside the
 * datagram; nothing is allocated or copied), and encoding. Shared by the
 * dataplane, the generator, the tests and the benchmarks. */
#ifndef PS_WIRE_H
#define PS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define PS_MAGIC          0x5053u  /* "PS" */
#define PS_VERSION        1u
#define PS_KIND_SCAN      1u
#define PS_KIND_DECISION  2u
#define PS_DEFAULT_PORT   7100u

#define PS_HDR_LEN        16u
#define PS_SCAN_LEN       64u
#define PS_DECISION_LEN   48u
#define PS_MAX_RECORDS    22u
#define PS_WAYBILL_LEN    24u
#define PS_WAYBILL_MIN    8u
#define PS_MAX_REQUEST    (PS_HDR_LEN + PS_SCAN_LEN * PS_MAX_RECORDS)

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
};
#define PS_REASON_COUNT 11

/* Why a request datagram was refused by the header checks. */
enum ps_hdr_status {
	PS_HDR_OK = 0,
	PS_HDR_SHORT,     /* fewer than 16 bytes */
	PS_HDR_MAGIC,
	PS_HDR_VERSION,
	PS_HDR_KIND,      /* kind is not 1 (scan batch) */
	PS_HDR_COUNT,     /* count outside 1..22 */
	PS_HDR_FLAGS,     /* reserved flags not zero */
	PS_HDR_LENGTH,    /* payload length is not 16 + 64 * count */
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

/* ---- header ---- */
enum ps_hdr_status ps_header_check(const uint8_t *payload, size_t len,
				   struct ps_header *out);
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
 * pointers into this same payload), into its reply in place: header kind 2
 * with the given site, then one decision per record. Returns the reply's
 * payload length (16 + 48 * count), always smaller than the request's. */
size_t ps_reply_build_inplace(uint8_t *payload, const struct ps_header *req,
			      uint32_t site, const struct ps_scan *scans,
			      const struct ps_decision *dec);

/* ---- names (for tools, logs and docs) ---- */
const char *ps_reason_name(unsigned reason);
const char *ps_tier_name(unsigned tier);
const char *ps_scan_type_name(unsigned t);
const char *ps_hdr_status_name(unsigned s);
const char *ps_malformed_name(unsigned c);

/* Region code helpers: a prefix of k digits padded to 12 digits. */
uint64_t ps_region_pad(uint64_t prefix, unsigned digits);

#endif
