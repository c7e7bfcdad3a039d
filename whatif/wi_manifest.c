/* wi_manifest.c: the daemon's manifest entries for a capture's
 * barcode-only waybills (see wi_manifest.h). */
#include "wi_manifest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cli.h"
#include "ctl_client.h"
#include "ctl_proto.h"
#include "manifest_parse.h"
#include "outbuf.h"
#include "ps_frame.h"
#include "ps_wire.h"
#include "wi_capture.h"

typedef uint8_t wb_t[24];

struct wb_set {
	wb_t *wb;
	size_t n, cap;
	int oom;
};

static int wb_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(wb_t));
}

/* Sort and drop the repeated ones. */
static void wb_unique(struct wb_set *s)
{
	if (!s->n)
		return;
	qsort(s->wb, s->n, sizeof(wb_t), wb_cmp);
	size_t k = 1;
	for (size_t i = 1; i < s->n; i++)
		if (memcmp(s->wb[i], s->wb[k - 1], sizeof(wb_t)))
			memcpy(s->wb[k++], s->wb[i], sizeof(wb_t));
	s->n = k;
}

/* Append one; when full, the repeats go first (a capture is mostly
 * rescans of few waybills), then it grows. */
static void wb_add(struct wb_set *s, const uint8_t *wb)
{
	if (s->n == s->cap) {
		wb_unique(s);
		if (!s->cap || s->n > s->cap / 2) {
			size_t cap = s->cap ? s->cap * 2 : 4096;
			wb_t *b = realloc(s->wb, cap * sizeof(wb_t));
			if (!b) {
				s->oom = 1;
				return;
			}
			s->wb = b;
			s->cap = cap;
		}
	}
	memcpy(s->wb[s->n++], wb, sizeof(wb_t));
}

/* The waybill as a manifest holds it: its text, checked, gives back the
 * same 24 bytes. */
static int manifest_waybill(const uint8_t *field)
{
	char t[25];
	uint8_t wb[24];
	const char *why;
	memcpy(t, field, 24);
	t[24] = 0;
	return !ps_manifest_waybill(t, wb, &why) && !memcmp(wb, field, 24);
}

/* The barcode-only records of one frame, if it is a scan batch. */
static void frame_waybills(struct wb_set *s, const uint8_t *f, uint32_t len)
{
	struct ps_frame fr;
	if (ps_frame_parse(f, len, &fr) != PS_FRAME_UDP ||
	    fr.payload_len < PS_HDR_LEN)
		return;
	const uint8_t *p = f + fr.payload_off;
	unsigned count = (unsigned)p[4] << 8 | p[5];
	if (p[0] != 0x50 || p[1] != 0x53 || p[2] != 1 ||
	    p[3] != PS_KIND_SCAN || !count || count > PS_MAX_RECORDS ||
	    fr.payload_len != PS_HDR_LEN + PS_SCAN_LEN * count)
		return;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *r = p + PS_HDR_LEN + PS_SCAN_LEN * i;
		static const uint8_t zero[8];
		if (!memcmp(r + PS_WAYBILL_LEN, zero, 8) &&
		    manifest_waybill(r))
			wb_add(s, r);
	}
}

int wi_barcode_only(const char *path, uint8_t (**wbs)[24], size_t *n)
{
	struct wi_capture cap;
	struct wb_set s = { 0 };
	char err[256];
	const uint8_t *f;
	uint32_t len;
	uint64_t ts;
	*wbs = NULL;
	*n = 0;
	if (wi_capture_open(&cap, path, err, sizeof(err)))
		return 0;
	while (!s.oom && wi_capture_next(&cap, &f, &len, &ts))
		frame_waybills(&s, f, len);
	wi_capture_close(&cap);
	if (s.oom) {
		free(s.wb);
		return -1;
	}
	wb_unique(&s);
	*wbs = s.wb;
	*n = s.n;
	return 0;
}

/* One entry of the answer into m when found. 0, or -1 (said why). */
static int take_entry(struct ps_manifest *m, json_t *e)
{
	json_t *w = json_object_get(e, "waybill");
	json_t *r = json_object_get(e, "region");
	uint8_t wb[24];
	const char *why;
	char err[256];
	if (!json_is_true(json_object_get(e, "found")))
		return 0;
	if (!json_is_string(w) || !json_is_integer(r) ||
	    ps_manifest_waybill(json_string_value(w), wb, &why)) {
		fprintf(stderr, "parcelsortctl: manifest get: an answer I "
			"cannot read\n");
		return -1;
	}
	if (ps_manifest_add(m, wb, (uint64_t)json_integer_value(r), err,
			    sizeof(err))) {
		fprintf(stderr, "parcelsortctl: manifest: %s\n", err);
		return -1;
	}
	return 0;
}

/* Ask for n waybills (one request) and keep the found ones in m. */
static int ask_batch(const char *ctl, const wb_t *wb, size_t n,
		     struct ps_manifest *m)
{
	struct ps_out body, list;
	struct ps_ctl_reply rep;
	char err[512] = "";
	ps_out_init(&body);
	ps_out_init(&list);
	for (size_t i = 0; i < n; i++)
		ps_out_printf(&list, "%s%.24s", i ? "\n" : "",
			      (const char *)wb[i]);
	int rc = list.oom ? -1 : 0;
	if (!rc) {
		ps_ctl_args(&body, list.buf);
		rc = ps_ctl_call(ctl, PS_CTL_MANIFEST_GET, PS_CTL_F_JSON, &body,
				 &rep, err, sizeof(err));
	}
	ps_out_free(&list);
	ps_out_free(&body);
	if (rc) {
		fprintf(stderr, "parcelsortctl: %s\n", rc == -1 && !*err ?
			"out of memory" : err);
		return EXIT_UNREACHABLE;
	}
	if (rep.status != PS_CTL_OK) {
		fprintf(stderr, "parcelsortctl: the daemon refused manifest "
			"get: %s", rep.body);
		ps_ctl_reply_free(&rep);
		return EXIT_REFUSED;
	}
	json_t *j = json_loadb(rep.body, rep.len, 0, NULL);
	json_t *all = j ? json_object_get(j, "entries") : NULL;
	rc = EXIT_DONE;
	if (!j) {
		fprintf(stderr, "parcelsortctl: manifest get: an answer I "
			"cannot read\n");
		rc = EXIT_REFUSED;
	} else if (json_is_array(all)) {
		size_t i;
		json_t *e;
		json_array_foreach(all, i, e)
			if (take_entry(m, e)) {
				rc = EXIT_REFUSED;
				break;
			}
	} else if (take_entry(m, j)) {
		rc = EXIT_REFUSED;
	}
	json_decref(j);
	ps_ctl_reply_free(&rep);
	return rc;
}

int wi_manifest_active(const char *ctl, const char *capture,
		       struct ps_manifest **out)
{
	wb_t *wb;
	size_t n;
	char err[256];
	*out = NULL;
	if (wi_barcode_only(capture, &wb, &n)) {
		fprintf(stderr, "parcelsortctl: out of memory\n");
		return EXIT_REFUSED;
	}
	if (!n) {
		free(wb);
		return EXIT_DONE;
	}
	struct ps_manifest_cfg cfg = { .capacity = n };
	struct ps_manifest *m = ps_manifest_open(&cfg, err, sizeof(err));
	int rc = EXIT_DONE;
	if (!m) {
		fprintf(stderr, "parcelsortctl: manifest: %s\n", err);
		rc = EXIT_REFUSED;
	}
	for (size_t i = 0; !rc && i < n; i += PS_CTL_MANIFEST_GET_MAX)
		rc = ask_batch(ctl, wb + i, n - i < PS_CTL_MANIFEST_GET_MAX ?
			       n - i : PS_CTL_MANIFEST_GET_MAX, m);
	free(wb);
	struct ps_manifest_stats st;
	if (!rc)
		ps_manifest_stats(m, &st);
	if (rc || !st.entries) {
		if (m)
			ps_manifest_close(m);
		return rc;
	}
	*out = m;
	return EXIT_DONE;
}
