/* traffic.c: the generator's traffic model (see traffic.h). */
#include "traffic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill.h"

void ps_gen_cfg_defaults(struct ps_gen_cfg *c)
{
	static const struct ps_endpoints ep4 = {
		.src_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
		.dst_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },
		.ip_ver = 4,
		.src_ip = { 198, 18, 0, 1 },
		.dst_ip = { 198, 18, 0, 2 },
		.sport = 40000,
		.dport = PS_DEFAULT_PORT,
	};
	static const struct ps_endpoints ep6 = {
		.src_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
		.dst_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },
		.ip_ver = 6,
		.src_ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		.dst_ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
		.sport = 40000,
		.dport = PS_DEFAULT_PORT,
	};
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->zipf_s = 1.0;
	c->noread_share = 0.02;
	c->invalid_share = 0.01;
	c->rescan_share = 0.05;
	c->unknown_share = 0.005;
	c->rec_min = 1;
	c->rec_max = PS_MAX_RECORDS;
	c->devices = 32;
	c->site = 3307820;
	c->start_ms = 1794326400000ull; /* 2026-11-11 00:00 +08:00, Singles' Day */
	c->ep4 = ep4;
	c->ep6 = ep6;
}

/* Zipf table over codes[] in a seeded random popularity order. */
static int zipf_build(struct zipf_table *z, const uint64_t *codes, size_t n,
		      double s, struct ps_rng *rng)
{
	z->n = n;
	z->code = malloc(n * sizeof(*z->code));
	z->cdf = malloc(n * sizeof(*z->cdf));
	if (!z->code || !z->cdf)
		return -1;
	memcpy(z->code, codes, n * sizeof(*codes));
	for (size_t i = n; i > 1; i--) {          /* Fisher-Yates */
		size_t j = ps_rng_below(rng, i);
		uint64_t t = z->code[i - 1];
		z->code[i - 1] = z->code[j];
		z->code[j] = t;
	}
	double acc = 0;
	for (size_t i = 0; i < n; i++) {
		acc += s == 0 ? 1.0 : pow((double)(i + 1), -s);
		z->cdf[i] = acc;
	}
	for (size_t i = 0; i < n; i++)
		z->cdf[i] /= acc;
	return 0;
}

static uint64_t zipf_draw(const struct zipf_table *z, struct ps_rng *rng)
{
	double u = ps_rng_unit(rng);
	size_t lo = 0, hi = z->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (z->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return z->code[lo];
}

static void zipf_free(struct zipf_table *z)
{
	free(z->code);
	free(z->cdf);
	memset(z, 0, sizeof(*z));
}

int ps_gen_init(struct ps_gen *g, const struct ps_gen_cfg *cfg,
		const struct ps_regions *reg, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	if (cfg->rec_min < 1 || cfg->rec_max > PS_MAX_RECORDS ||
	    cfg->rec_min > cfg->rec_max) {
		snprintf(err, errlen, "records per datagram must be within 1..%u",
			 PS_MAX_RECORDS);
		return -1;
	}
	if (cfg->devices < 1 || cfg->devices > 65535) {
		snprintf(err, errlen, "devices must be within 1..65535");
		return -1;
	}
	ps_rng_seed(&g->rng, cfg->seed);
	g->now_ms = cfg->start_ms;
	if (zipf_build(&g->all, reg->code, reg->n, cfg->zipf_s, &g->rng))
		goto oom;
	if (cfg->home_prefix && cfg->home_share > 0) {
		uint64_t lo = ps_region_pad(cfg->home_prefix, cfg->home_digits);
		uint64_t hi = lo + ps_region_pad(1, cfg->home_digits);
		size_t a = 0, b;
		while (a < reg->n && reg->code[a] < lo)
			a++;
		for (b = a; b < reg->n && reg->code[b] < hi; b++)
			;
		if (a == b) {
			snprintf(err, errlen, "no region in the home prefix");
			ps_gen_free(g);
			return -1;
		}
		if (zipf_build(&g->home, reg->code + a, b - a, cfg->zipf_s,
			       &g->rng))
			goto oom;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory building the region tables");
	ps_gen_free(g);
	return -1;
}

void ps_gen_free(struct ps_gen *g)
{
	zipf_free(&g->all);
	zipf_free(&g->home);
}

static uint8_t draw_scan_type(struct ps_rng *r)
{
	/* a county sorting centre: mostly induction and DWS scans */
	static const struct { uint8_t type; double p; } mix[] = {
		{ PS_SCAN_INDUCT, 0.55 }, { PS_SCAN_DWS, 0.27 },
		{ PS_SCAN_LOAD, 0.06 },   { PS_SCAN_ARRIVE, 0.05 },
		{ PS_SCAN_SIGN, 0.04 },   { PS_SCAN_DISPATCH, 0.02 },
		{ PS_SCAN_EXCEPTION, 0.01 },
	};
	double u = ps_rng_unit(r), acc = 0;
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		acc += mix[i].p;
		if (u < acc)
			return mix[i].type;
	}
	return PS_SCAN_INDUCT;
}

static uint8_t draw_service(struct ps_rng *r, uint32_t weight_g)
{
	static const struct { uint8_t flag; double p; } f[] = {
		{ PS_SVC_COLD_CHAIN, 0.02 },    { PS_SVC_FRAGILE, 0.05 },
		{ PS_SVC_INTERNATIONAL, 0.01 }, { PS_SVC_TIME_DEFINITE, 0.08 },
		{ PS_SVC_COD, 0.03 },           { PS_SVC_RETURN, 0.04 },
	};
	uint8_t s = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (ps_rng_unit(r) < f[i].p)
			s |= f[i].flag;
	if (weight_g >= 20000)
		s |= PS_SVC_BULKY;
	return s;
}

/* Weight: most parcels are light e-commerce parcels, a long tail is heavy. */
static uint32_t draw_weight(struct ps_rng *r)
{
	double u = ps_rng_unit(r);
	if (u < 0.70)
		return 50 + (uint32_t)ps_rng_below(r, 1950);
	if (u < 0.95)
		return 2000 + (uint32_t)ps_rng_below(r, 13000);
	return 15000 + (uint32_t)ps_rng_below(r, 45000);
}

static void draw_sizes(struct ps_rng *r, uint32_t w, struct ps_scan *s)
{
	unsigned base = 80 + (unsigned)(cbrt((double)w) * 18.0);
	s->length_mm = (uint16_t)(base + ps_rng_below(r, base / 2 + 1));
	s->width_mm = (uint16_t)(base * 2 / 3 + ps_rng_below(r, base / 3 + 1));
	s->height_mm = (uint16_t)(base / 3 + ps_rng_below(r, base / 3 + 1));
}

static uint64_t draw_region(struct ps_gen *g)
{
	struct ps_rng *r = &g->rng;
	if (ps_rng_unit(r) < g->cfg.unknown_share)
		return 0;
	if (g->home.n && ps_rng_unit(r) < g->cfg.home_share)
		return zipf_draw(&g->home, r);
	return zipf_draw(&g->all, r);
}

static void remember(struct ps_gen *g, const struct ps_gen_rec *rec)
{
	size_t slot = g->n_recent < PS_GEN_RECENT
			      ? g->n_recent++
			      : ps_rng_below(&g->rng, PS_GEN_RECENT);
	g->recent[slot] = *rec;
	g->recent[slot].scan.waybill = g->recent[slot].wb;
}

static int draw_rescan(struct ps_gen *g, struct ps_gen_rec *out)
{
	if (!g->n_recent || ps_rng_unit(&g->rng) >= g->cfg.rescan_share)
		return 0;
	*out = g->recent[ps_rng_below(&g->rng, g->n_recent)];
	out->scan.waybill = out->wb;
	out->scan.scan_type = PS_SCAN_INDUCT;
	out->scan.device = (uint16_t)(1 + ps_rng_below(&g->rng, g->cfg.devices));
	return 1;
}

void ps_gen_record(struct ps_gen *g, struct ps_gen_rec *out)
{
	struct ps_rng *r = &g->rng;
	struct ps_scan *s = &out->scan;

	g->now_ms += ps_rng_below(r, 4);
	if (!draw_rescan(g, out)) {
		memset(out, 0, sizeof(*out));
		enum ps_carrier_id c = ps_carrier_draw(r);
		double u = ps_rng_unit(r);
		if (u < g->cfg.noread_share) {
			s->scan_type = ps_rng_below(r, 2) ? PS_SCAN_NOREAD
							  : PS_SCAN_INDUCT;
		} else {
			s->scan_type = draw_scan_type(r);
			s->carrier = ps_carrier_field(c);
			if (u < g->cfg.noread_share + g->cfg.invalid_share)
				ps_waybill_make_invalid(r, out->wb);
			else
				ps_waybill_make(r, c, out->wb);
		}
		s->region = draw_region(g);
		s->device = (uint16_t)(1 + ps_rng_below(r, g->cfg.devices));
		if (s->scan_type == PS_SCAN_DWS || ps_rng_below(r, 3) == 0) {
			s->weight_g = draw_weight(r);
			draw_sizes(r, s->weight_g, s);
		}
		s->service = draw_service(r, s->weight_g);
		s->waybill = out->wb;
		uint8_t len;
		if ((s->scan_type == PS_SCAN_INDUCT ||
		     s->scan_type == PS_SCAN_DWS) &&
		    ps_waybill_check(out->wb, &len) == PS_WB_VALID)
			remember(g, out);
	}
	s->waybill = out->wb;
	s->ts_ms = g->now_ms;
	s->event_seq = ++g->event_seq;
}

size_t ps_gen_datagram(struct ps_gen *g, uint8_t *buf, struct ps_gen_rec *recs,
		       unsigned *n)
{
	unsigned span = g->cfg.rec_max - g->cfg.rec_min + 1;
	unsigned count = g->cfg.rec_min + (unsigned)ps_rng_below(&g->rng, span);
	struct ps_header h = {
		.magic = PS_MAGIC, .version = PS_VERSION,
		.kind = PS_KIND_SCAN, .count = (uint16_t)count, .flags = 0,
		.site = g->cfg.site, .seq = ++g->seq,
	};
	ps_header_encode(buf, &h);
	for (unsigned i = 0; i < count; i++) {
		ps_gen_record(g, &recs[i]);
		ps_scan_encode(buf + PS_HDR_LEN + i * PS_SCAN_LEN,
			       &recs[i].scan);
	}
	*n = count;
	return PS_HDR_LEN + (size_t)PS_SCAN_LEN * count;
}

size_t ps_gen_frame(struct ps_gen *g, uint8_t *frame, size_t cap,
		    struct ps_gen_rec *recs, unsigned *n)
{
	uint8_t payload[PS_MAX_REQUEST];
	int v6 = g->cfg.ipv6_share > 0 &&
		 ps_rng_unit(&g->rng) < g->cfg.ipv6_share;
	size_t plen = ps_gen_datagram(g, payload, recs, n);
	return ps_frame_build_udp(frame, cap, v6 ? &g->cfg.ep6 : &g->cfg.ep4,
				  payload, plen);
}
