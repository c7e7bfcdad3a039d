/* ps_wire.c: codec of the parcelsort wire protocol v1 (revision 2): header
 * checks, scan record decoding and classification, waybill validity (charset,
 * length, padding, UPU S10 check digit), decision encoding, in-place reply
 * build, and the sorter loop's chute states, sort results and
 * acknowledgements. */
#include "ps_wire.h"

#include <endian.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return be16toh(v);
}
static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}
static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}
static inline void st16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}
static inline void st32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}
static inline void st64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* ---------------------------------------------------------------- header */

/* Entry size and largest count of each request kind (0: not a request). */
static const uint8_t kind_entry_len[PS_KIND_MAX + 1] = {
	[PS_KIND_SCAN] = PS_SCAN_LEN,
	[PS_KIND_CHUTE_STATE] = PS_CHUTE_STATE_LEN,
	[PS_KIND_SORT_RESULT] = PS_SORT_RESULT_LEN,
};
static const uint8_t kind_max_count[PS_KIND_MAX + 1] = {
	[PS_KIND_SCAN] = PS_MAX_RECORDS,
	[PS_KIND_CHUTE_STATE] = PS_MAX_CHUTE_STATES,
	[PS_KIND_SORT_RESULT] = PS_MAX_SORT_RESULTS,
};

unsigned ps_kind_entry_len(unsigned kind)
{
	return kind <= PS_KIND_MAX ? kind_entry_len[kind] : 0;
}

unsigned ps_kind_max_count(unsigned kind)
{
	return kind <= PS_KIND_MAX ? kind_max_count[kind] : 0;
}

/* Load every field; check the length covers a header, magic and version. */
static inline enum ps_hdr_status header_load(const uint8_t *p, size_t len,
					     struct ps_header *h)
{
	if (len < PS_HDR_LEN)
		return PS_HDR_SHORT;
	h->magic = ld16(p);
	h->version = p[2];
	h->kind = p[3];
	h->count = ld16(p + 4);
	h->flags = ld16(p + 6);
	h->site = ld32(p + 8);
	h->seq = ld32(p + 12);
	if (h->magic != PS_MAGIC)
		return PS_HDR_MAGIC;
	if (h->version != PS_VERSION)
		return PS_HDR_VERSION;
	return PS_HDR_OK;
}

/* Count, flags and length of a request of a known request kind. */
static inline enum ps_hdr_status body_check(const struct ps_header *h,
					    size_t len)
{
	if (h->count < 1 || h->count > kind_max_count[h->kind])
		return PS_HDR_COUNT;
	if (h->flags != 0)
		return PS_HDR_FLAGS;
	if (len != PS_HDR_LEN + (size_t)kind_entry_len[h->kind] * h->count)
		return PS_HDR_LENGTH;
	return PS_HDR_OK;
}

enum ps_hdr_status ps_header_check(const uint8_t *p, size_t len,
				   struct ps_header *h)
{
	enum ps_hdr_status st = header_load(p, len, h);
	if (st != PS_HDR_OK)
		return st;
	if (h->kind != PS_KIND_SCAN)
		return PS_HDR_KIND;
	return body_check(h, len);
}

enum ps_hdr_status ps_header_check_kind(const uint8_t *p, size_t len,
					struct ps_header *h)
{
	enum ps_hdr_status st = header_load(p, len, h);
	if (st != PS_HDR_OK)
		return st;
	if (ps_kind_entry_len(h->kind) == 0)
		return PS_HDR_KIND;
	return PS_HDR_OK;
}

enum ps_hdr_status ps_header_check_body(const struct ps_header *h, size_t len)
{
	if (ps_kind_entry_len(h->kind) == 0)
		return PS_HDR_KIND;
	return body_check(h, len);
}

void ps_header_encode(uint8_t *out, const struct ps_header *h)
{
	st16(out, h->magic);
	out[2] = h->version;
	out[3] = h->kind;
	st16(out + 4, h->count);
	st16(out + 6, h->flags);
	st32(out + 8, h->site);
	st32(out + 12, h->seq);
}

/* --------------------------------------------------------------- waybill */

/* 1 for [0-9A-Z-], 0 otherwise */
static const uint8_t wb_char_ok[256] = {
	['-'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
};

static inline int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline int is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }

unsigned ps_s10_check_digit(const char *d)
{
	static const unsigned w[8] = { 8, 6, 4, 2, 3, 5, 9, 7 };
	unsigned sum = 0;
	for (int i = 0; i < 8; i++)
		sum += (unsigned)(d[i] - '0') * w[i];
	unsigned c = 11 - sum % 11;
	if (c == 10)
		c = 0;
	else if (c == 11)
		c = 5;
	return c;
}

/* Two letters, eight digits, one check digit, two letters. */
static int s10_form(const uint8_t *wb)
{
	if (!is_upper(wb[0]) || !is_upper(wb[1]) ||
	    !is_upper(wb[11]) || !is_upper(wb[12]))
		return 0;
	for (int i = 2; i < 11; i++)
		if (!is_digit(wb[i]))
			return 0;
	return 1;
}

/* The order of the verdicts, once where the text ends, whether anything
 * follows it and whether a character is out of [0-9A-Z-] are known. */
static enum ps_waybill_status verdict(const uint8_t *wb, unsigned len,
				      int bad_pad, int bad_char)
{
	if (len == 0 && !bad_pad)
		return PS_WB_EMPTY;
	if (bad_pad)
		return PS_WB_PADDING;
	if (bad_char)
		return PS_WB_CHARSET;
	if (len < PS_WAYBILL_MIN)
		return PS_WB_LENGTH;
	if (len == 13 && s10_form(wb) &&
	    ps_s10_check_digit((const char *)wb + 2) != (unsigned)(wb[10] - '0'))
		return PS_WB_S10;
	return PS_WB_VALID;
}

/* The checks byte by byte: the reference for the word-at-a-time version
 * below (the tests compare them on random waybills). */
enum ps_waybill_status ps_waybill_check_bytes(const uint8_t *wb,
					      uint8_t *len_out)
{
	unsigned len = 0;
	while (len < PS_WAYBILL_LEN && wb[len] != 0)
		len++;
	*len_out = (uint8_t)len;
	unsigned bad_pad = 0, bad_char = 0;
	for (unsigned i = len; i < PS_WAYBILL_LEN; i++)
		bad_pad |= wb[i];
	for (unsigned i = 0; i < len; i++)
		bad_char |= wb_char_ok[wb[i]] ^ 1u;
	return verdict(wb, len, bad_pad != 0, bad_char != 0);
}

#ifdef __SSE2__
/* Sixteen and eight bytes at a time (SSE2, every x86-64 has it): one bit a
 * byte for "is NUL" and "is one of [0-9A-Z-]" (signed compares: a byte
 * >= 0x80 is below '0' and never a character), then where the text ends,
 * that only NULs follow it, and that every character of it is one. */
static inline uint32_t byte_bits(__m128i v)
{
	return (uint32_t)_mm_movemask_epi8(v);
}

static inline __m128i char_ok(__m128i v)
{
	__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
				      _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
	__m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
				      _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
	__m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
	return _mm_or_si128(_mm_or_si128(digit, upper), dash);
}

enum ps_waybill_status ps_waybill_check(const uint8_t *wb, uint8_t *len_out)
{
	const uint32_t all = (1u << PS_WAYBILL_LEN) - 1;
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)wb);
	__m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(wb + 16));
	__m128i zero = _mm_setzero_si128();
	uint32_t nul = (byte_bits(_mm_cmpeq_epi8(a, zero)) |
			byte_bits(_mm_cmpeq_epi8(b, zero)) << 16) & all;
	uint32_t ok = (byte_bits(char_ok(a)) | byte_bits(char_ok(b)) << 16) &
		      all;
	unsigned len = nul ? (unsigned)__builtin_ctz(nul) : PS_WAYBILL_LEN;
	uint32_t text = (1u << len) - 1;
	*len_out = (uint8_t)len;
	return verdict(wb, len, (all & ~text & ~nul) != 0,
		       (text & ~ok) != 0);
}
#else
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* 0x80 in every byte of w (bytes < 0x80) that lies in [lo, hi]. */
static inline uint64_t in_range(uint64_t w, unsigned lo, unsigned hi)
{
	return (w + ONES * (0x80 - lo)) & ~(w + ONES * (0x7f - hi)) & HIGHS;
}

/* 0x80 in the first n bytes of a word (n may be negative or above 8). */
static inline uint64_t first_bytes(int n)
{
	return n <= 0 ? 0 : n >= 8 ? HIGHS : HIGHS >> (64 - 8 * n);
}

/* Eight bytes at a time: where the text ends, that only NULs follow it,
 * and that every character is one of [0-9A-Z-]. */
enum ps_waybill_status ps_waybill_check(const uint8_t *wb, uint8_t *len_out)
{
	uint64_t w[3], zero[3];
	memcpy(w, wb, sizeof(w));
	unsigned len = PS_WAYBILL_LEN;
	for (int k = 2; k >= 0; k--) {
		w[k] = le64toh(w[k]);
		/* 0x80 in every zero byte (exact: no borrow between bytes) */
		zero[k] = ~(((w[k] & ~HIGHS) + ~HIGHS) | w[k]) & HIGHS;
		if (zero[k])
			len = (unsigned)k * 8 + (unsigned)__builtin_ctzll(zero[k]) / 8;
	}
	uint64_t bad_char = 0, bad_pad = 0;
	for (int k = 0; k < 3; k++) {
		uint64_t text = first_bytes((int)len - 8 * k);
		uint64_t ok = (in_range(w[k], '0', '9') | in_range(w[k], 'A', 'Z') |
			       in_range(w[k], '-', '-')) & ~(w[k] & HIGHS);
		bad_char |= text & ~ok;
		bad_pad |= HIGHS & ~text & ~zero[k];
	}
	*len_out = (uint8_t)len;
	return verdict(wb, len, bad_pad != 0, bad_char != 0);
}
#endif

uint32_t ps_waybill_hash(const uint8_t *wb)
{
	/* three 8-byte little-endian words, multiplied independently (they
	 * run in parallel), mixed by the MurmurHash3 finaliser */
	uint64_t w0, w1, w2;
	memcpy(&w0, wb, 8);
	memcpy(&w1, wb + 8, 8);
	memcpy(&w2, wb + 16, 8);
	w0 = le64toh(w0);
	w1 = le64toh(w1);
	w2 = le64toh(w2);
	uint64_t h = w0 * 0x9e3779b97f4a7c15ull;
	uint64_t a = w1 * 0xc2b2ae3d27d4eb4full;
	uint64_t b = w2 * 0x165667b19e3779f9ull;
	h += (a << 31 | a >> 33) + (b << 17 | b >> 47);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)(h >> 32);
}

/* ----------------------------------------------------------- scan record */

static enum ps_malformed_cause record_rules(const struct ps_scan *s)
{
	if (s->region != 0 &&
	    (s->region < PS_REGION_MIN || s->region > PS_REGION_MAX))
		return PS_MAL_REGION;
	if (s->scan_type < 1 || s->scan_type > PS_SCAN_TYPE_MAX)
		return PS_MAL_SCAN_TYPE;
	if (s->service & PS_SVC_RESERVED)
		return PS_MAL_SERVICE;
	if (s->reserved != 0)
		return PS_MAL_RESERVED;
	return PS_MAL_NONE;
}

static enum ps_scan_class classify(struct ps_scan *s)
{
	enum ps_waybill_status wb = ps_waybill_check(s->waybill, &s->waybill_len);

	s->malformed = (uint8_t)record_rules(s);
	if (s->malformed != PS_MAL_NONE)
		return PS_CLASS_MALFORMED;
	switch (s->scan_type) {
	case PS_SCAN_INDUCT:
	case PS_SCAN_DWS:
		break;
	case PS_SCAN_NOREAD:
		return PS_CLASS_NOREAD;
	default:
		return PS_CLASS_TRACK_ONLY;
	}
	if (wb == PS_WB_EMPTY)
		return PS_CLASS_NOREAD;
	if (wb != PS_WB_VALID)
		return PS_CLASS_BAD_BARCODE;
	return PS_CLASS_SORTABLE;
}

enum ps_scan_class ps_scan_decode(const uint8_t *r, struct ps_scan *s)
{
	s->waybill = r;
	s->region = ld64(r + 24);
	s->ts_ms = ld64(r + 32);
	s->weight_g = ld32(r + 40);
	s->length_mm = ld16(r + 44);
	s->width_mm = ld16(r + 46);
	s->height_mm = ld16(r + 48);
	s->device = ld16(r + 50);
	s->scan_type = r[52];
	s->service = r[53];
	s->carrier = ld16(r + 54);
	s->event_seq = ld32(r + 56);
	s->reserved = ld32(r + 60);
	s->pad_ = 0;
	s->klass = (uint8_t)classify(s);
	return (enum ps_scan_class)s->klass;
}

unsigned ps_scan_decode_burst(const uint8_t *payload, const struct ps_header *h,
			      struct ps_scan *out)
{
	const uint8_t *r = payload + PS_HDR_LEN;
	for (unsigned i = 0; i < h->count; i++, r += PS_SCAN_LEN)
		ps_scan_decode(r, &out[i]);
	return h->count;
}

void ps_scan_encode(uint8_t *r, const struct ps_scan *s)
{
	memcpy(r, s->waybill, PS_WAYBILL_LEN);
	st64(r + 24, s->region);
	st64(r + 32, s->ts_ms);
	st32(r + 40, s->weight_g);
	st16(r + 44, s->length_mm);
	st16(r + 46, s->width_mm);
	st16(r + 48, s->height_mm);
	st16(r + 50, s->device);
	r[52] = s->scan_type;
	r[53] = s->service;
	st16(r + 54, s->carrier);
	st32(r + 56, s->event_seq);
	st32(r + 60, s->reserved);
}

/* ------------------------------------------------------- decision record */

void ps_decision_encode(uint8_t *r, const uint8_t *wb,
			const struct ps_decision *d)
{
	memmove(r, wb, PS_WAYBILL_LEN);
	st32(r + 24, d->event_seq);
	st16(r + 28, d->chute);
	r[30] = d->tier;
	r[31] = d->reason;
	st32(r + 32, d->hub);
	st32(r + 36, d->plan_version);
	st64(r + 40, d->matched_prefix);
}

void ps_decision_decode(const uint8_t *r, struct ps_decision *d, uint8_t *wb)
{
	if (wb)
		memcpy(wb, r, PS_WAYBILL_LEN);
	d->event_seq = ld32(r + 24);
	d->chute = ld16(r + 28);
	d->tier = r[30];
	d->reason = r[31];
	d->hub = ld32(r + 32);
	d->plan_version = ld32(r + 36);
	d->matched_prefix = ld64(r + 40);
}

size_t ps_reply_build_inplace(uint8_t *payload, const struct ps_header *req,
			      uint32_t site, const struct ps_scan *scans,
			      const struct ps_decision *dec)
{
	/* Decision i lands at 16 + 48 i, below request record i at 16 + 64 i,
	 * so writing in ascending order never overwrites a record not yet
	 * echoed; the waybill echo may overlap its source (memmove). */
	uint8_t *out = payload + PS_HDR_LEN;
	for (unsigned i = 0; i < req->count; i++, out += PS_DECISION_LEN)
		ps_decision_encode(out, scans[i].waybill, &dec[i]);
	/* the request's header, loaded from these bytes, is left as it is
	 * but for its kind and site */
	payload[3] = PS_KIND_DECISION;
	st32(payload + 8, site);
	return PS_HDR_LEN + (size_t)PS_DECISION_LEN * req->count;
}

/* ---------------------------------------------- chute state entry (kind 3) */

/* The entry's rules in field order; the first broken one is the cause. */
static enum ps_entry_cause chute_report_rules(const struct ps_chute_report *s)
{
	if (s->chute == 0)
		return PS_ENT_CHUTE;
	if (s->state >= PS_CHUTE_STATE_COUNT)
		return PS_ENT_STATE;
	if (s->reserved1 != 0)
		return PS_ENT_RESERVED;
	if (s->state == PS_CHUTE_OPEN ? s->hold_s != 0
	    : s->hold_s < 1 || s->hold_s > PS_HOLD_MAX_S)
		return PS_ENT_HOLD;
	if (s->reserved2 != 0)
		return PS_ENT_RESERVED;
	return PS_ENT_VALID;
}

enum ps_entry_cause ps_chute_report_decode(const uint8_t *e,
					  struct ps_chute_report *s)
{
	s->chute = ld16(e);
	s->state = e[2];
	s->reserved1 = e[3];
	s->hold_s = ld16(e + 4);
	s->reserved2 = ld16(e + 6);
	s->invalid = (uint8_t)chute_report_rules(s);
	return (enum ps_entry_cause)s->invalid;
}

unsigned ps_chute_report_decode_burst(const uint8_t *payload,
				     const struct ps_header *h,
				     struct ps_chute_report *out)
{
	const uint8_t *e = payload + PS_HDR_LEN;
	unsigned valid = 0;
	for (unsigned i = 0; i < h->count; i++, e += PS_CHUTE_STATE_LEN)
		valid += ps_chute_report_decode(e, &out[i]) == PS_ENT_VALID;
	return valid;
}

void ps_chute_report_encode(uint8_t *e, const struct ps_chute_report *s)
{
	st16(e, s->chute);
	e[2] = s->state;
	e[3] = s->reserved1;
	st16(e + 4, s->hold_s);
	st16(e + 6, s->reserved2);
}

/* ---------------------------------------------- sort result entry (kind 5) */

static enum ps_entry_cause sort_result_rules(const struct ps_sort_result *r)
{
	if (r->waybill_status != PS_WB_VALID)
		return PS_ENT_WAYBILL;
	if (r->status < PS_SORT_SORTED || r->status > PS_SORT_STATUS_MAX)
		return PS_ENT_STATUS;
	if (r->status == PS_SORT_SORTED && r->chute == 0)
		return PS_ENT_CHUTE;
	if (r->reserved1 != 0 || r->reserved2 != 0)
		return PS_ENT_RESERVED;
	return PS_ENT_VALID;
}

enum ps_entry_cause ps_sort_result_decode_unchecked(const uint8_t *e,
						    struct ps_sort_result *r)
{
	r->waybill = e;
	r->event_seq = ld32(e + 24);
	r->chute = ld16(e + 28);
	r->status = e[30];
	r->reserved1 = e[31];
	r->ts_ms = ld64(e + 32);
	r->plan_version = ld32(e + 40);
	r->reserved2 = ld32(e + 44);
	r->waybill_len = 0;
	r->waybill_status = PS_WB_VALID;        /* not checked */
	r->invalid = (uint8_t)sort_result_rules(r);
	return (enum ps_entry_cause)r->invalid;
}

enum ps_entry_cause ps_sort_result_decode(const uint8_t *e,
					  struct ps_sort_result *r)
{
	ps_sort_result_decode_unchecked(e, r);
	r->waybill_status = (uint8_t)ps_waybill_check(e, &r->waybill_len);
	r->invalid = (uint8_t)sort_result_rules(r);
	return (enum ps_entry_cause)r->invalid;
}

unsigned ps_sort_result_decode_burst(const uint8_t *payload,
				     const struct ps_header *h,
				     struct ps_sort_result *out)
{
	const uint8_t *e = payload + PS_HDR_LEN;
	unsigned valid = 0;
	for (unsigned i = 0; i < h->count; i++, e += PS_SORT_RESULT_LEN)
		valid += ps_sort_result_decode(e, &out[i]) == PS_ENT_VALID;
	return valid;
}

void ps_sort_result_encode(uint8_t *e, const struct ps_sort_result *r)
{
	memcpy(e, r->waybill, PS_WAYBILL_LEN);
	st32(e + 24, r->event_seq);
	st16(e + 28, r->chute);
	e[30] = r->status;
	e[31] = r->reserved1;
	st64(e + 32, r->ts_ms);
	st32(e + 40, r->plan_version);
	st32(e + 44, r->reserved2);
}

/* ------------------------------------------------ acknowledgement (kind 4) */

size_t ps_ack_encode(uint8_t *out, const struct ps_header *req, uint32_t site,
		     uint16_t applied)
{
	struct ps_header h = {
		.magic = PS_MAGIC, .version = PS_VERSION, .kind = PS_KIND_ACK,
		.count = applied, .flags = 0, .site = site, .seq = req->seq,
	};
	ps_header_encode(out, &h);
	return PS_HDR_LEN;
}

enum ps_hdr_status ps_ack_check(const uint8_t *p, size_t len,
				struct ps_header *h)
{
	enum ps_hdr_status st = header_load(p, len, h);
	if (st != PS_HDR_OK)
		return st;
	if (h->kind != PS_KIND_ACK)
		return PS_HDR_KIND;
	if (h->count > PS_MAX_ACK_COUNT)
		return PS_HDR_COUNT;
	if (h->flags != 0)
		return PS_HDR_FLAGS;
	if (len != PS_HDR_LEN)
		return PS_HDR_LENGTH;
	return PS_HDR_OK;
}

/* ------------------------------------------------------------------ names */

const char *ps_reason_name(unsigned r)
{
	static const char *const n[PS_REASON_COUNT] = {
		"ROUTED", "OVERRIDE", "DEFAULT", "DUPLICATE", "TRACK_ONLY",
		"NO_ROUTE", "NOREAD", "BAD_BARCODE", "MALFORMED_RECORD",
		"CHUTE_UNAVAILABLE", "NO_PLAN", "INTERCEPTED", "RECIRC_LIMIT",
	};
	return r < PS_REASON_COUNT ? n[r] : "?";
}

const char *ps_tier_name(unsigned t)
{
	static const char *const n[PS_TIER_COUNT] = {
		"none", "trunk", "county", "township", "village", "special",
	};
	return t < PS_TIER_COUNT ? n[t] : "?";
}

const char *ps_scan_type_name(unsigned t)
{
	static const char *const n[PS_SCAN_TYPE_MAX + 1] = {
		"?", "INDUCT", "DWS", "LOAD", "ARRIVE", "DISPATCH", "SIGN",
		"NOREAD", "EXCEPTION",
	};
	return t <= PS_SCAN_TYPE_MAX ? n[t] : "?";
}

const char *ps_hdr_status_name(unsigned s)
{
	static const char *const n[PS_HDR_STATUS_COUNT] = {
		"ok", "short", "magic", "version", "kind", "count", "flags",
		"length",
	};
	return s < PS_HDR_STATUS_COUNT ? n[s] : "?";
}

const char *ps_malformed_name(unsigned c)
{
	static const char *const n[] = {
		"none", "region", "scan_type", "service", "reserved",
	};
	return c <= PS_MAL_RESERVED ? n[c] : "?";
}

const char *ps_kind_name(unsigned k)
{
	static const char *const n[PS_KIND_MAX + 1] = {
		"?", "scan batch", "decision batch", "chute states",
		"acknowledgement", "sort results",
	};
	return k <= PS_KIND_MAX ? n[k] : "?";
}

const char *ps_chute_state_name(unsigned s)
{
	static const char *const n[PS_CHUTE_STATE_COUNT] = {
		"OPEN", "FULL", "BLOCKED", "FAULT",
	};
	return s < PS_CHUTE_STATE_COUNT ? n[s] : "?";
}

const char *ps_sort_status_name(unsigned s)
{
	static const char *const n[PS_SORT_STATUS_MAX + 1] = {
		"?", "SORTED", "CHUTE_FULL", "CHUTE_BLOCKED",
		"DISCHARGE_FAILED", "NO_DESTINATION", "LOST",
	};
	return s <= PS_SORT_STATUS_MAX ? n[s] : "?";
}

const char *ps_entry_cause_name(unsigned c)
{
	static const char *const n[PS_ENT_CAUSE_COUNT] = {
		"valid", "waybill", "chute", "state", "hold", "status",
		"reserved",
	};
	return c < PS_ENT_CAUSE_COUNT ? n[c] : "?";
}

uint64_t ps_region_pad(uint64_t prefix, unsigned digits)
{
	static const uint64_t mul[13] = {
		1000000000000ull, 100000000000ull, 10000000000ull,
		1000000000ull, 100000000ull, 10000000ull, 1000000ull,
		100000ull, 10000ull, 1000ull, 100ull, 10ull, 1ull,
	};
	return digits <= 12 ? prefix * mul[digits] : 0;
}
