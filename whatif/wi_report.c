/* wi_report.c: the what-if's report in text and JSON (see wi_report.h). */
#include "wi_report.h"

#include <string.h>

#include "ps_wire.h"

/* n with thousands separators. */
static const char *grouped(uint64_t n, char *b, size_t len)
{
	char raw[32];
	int d = snprintf(raw, sizeof(raw), "%llu", (unsigned long long)n);
	size_t o = 0;
	for (int i = 0; i < d && o + 2 < len; i++) {
		if (i && (d - i) % 3 == 0)
			b[o++] = ',';
		b[o++] = raw[i];
	}
	b[o] = 0;
	return b;
}

void wi_verdict(const struct wi_result *r, char *out, size_t n)
{
	char a[32], b[32], c[32], d[32];
	const struct wi_tally *t = &r->tally;
	snprintf(out, n, "%s of %s records change chute; %s become NO_ROUTE, "
		 "%s become CHUTE_UNAVAILABLE",
		 grouped(t->changed, a, sizeof(a)),
		 grouped(t->records, b, sizeof(b)),
		 grouped(t->become_no_route, c, sizeof(c)),
		 grouped(t->become_unavailable, d, sizeof(d)));
}

static void hub_chute(char *b, size_t n, uint32_t hub, uint16_t chute)
{
	if (hub)
		snprintf(b, n, "hub %u chute %u", hub, chute);
	else
		snprintf(b, n, "no hub, chute %u", chute);
}

static void text_capture(const struct wi_result *r, FILE *f)
{
	fprintf(f, "capture %s: %llu frames, %llu scan datagrams, %llu "
		"records, %llu chute state/sort result datagrams, %llu frames "
		"the dataplane drops\n", r->capture,
		(unsigned long long)r->frames,
		(unsigned long long)r->scan_datagrams,
		(unsigned long long)r->tally.records,
		(unsigned long long)r->sorter_datagrams,
		(unsigned long long)r->dropped);
	if (r->truncated || r->corrupt)
		fprintf(f, "warning: the capture is %s after %llu whole "
			"records; those were replayed\n",
			r->truncated ? "truncated" : "corrupt",
			(unsigned long long)r->frames);
	if (r->cut)
		fprintf(f, "warning: %llu frames cut short by the capture's "
			"snap length were not replayed (capture whole frames: "
			"tcpdump -s 0)\n", (unsigned long long)r->cut);
	fprintf(f, "current: %s\ncandidate: %s\n", r->name[0], r->name[1]);
}

static void text_reasons(const struct wi_result *r, FILE *f)
{
	const struct wi_tally *t = &r->tally;
	fprintf(f, "\nrecords by reason   %14s %14s %12s\n", "current",
		"candidate", "change");
	for (unsigned i = 0; i < PS_REASON_COUNT; i++) {
		uint64_t x = t->by_reason[0][i], y = t->by_reason[1][i];
		if (!x && !y)
			continue;
		fprintf(f, "  %-17s %14llu %14llu %+12lld\n", ps_reason_name(i),
			(unsigned long long)x, (unsigned long long)y,
			(long long)(y - x));
	}
}

static void text_groups(const struct wi_result *r, FILE *f)
{
	const struct wi_summary *s = &r->sum;
	fprintf(f, "\ndecisions that change: %llu records in %zu groups",
		(unsigned long long)r->tally.changed, s->n_groups);
	if (!s->n_groups) {
		fprintf(f, "\n");
		return;
	}
	fprintf(f, " (top %u)\n", WI_TOP_GROUPS);
	for (size_t i = 0; i < s->n_groups && i < WI_TOP_GROUPS; i++) {
		const struct wi_group *g = &s->groups[i];
		char a[48], b[48];
		hub_chute(a, sizeof(a), g->hub[0], g->chute[0]);
		hub_chute(b, sizeof(b), g->hub[1], g->chute[1]);
		fprintf(f, "  %12llu  %s -> %s\n",
			(unsigned long long)g->records, a, b);
	}
}

static void text_chutes(const struct wi_result *r, FILE *f)
{
	const struct wi_summary *s = &r->sum;
	fprintf(f, "\nchutes that gain or lose records: %zu\n", s->n_chutes);
	if (!s->n_chutes)
		return;
	fprintf(f, "  %5s %12s %12s %12s %14s %14s\n", "chute", "current",
		"candidate", "change", "peak/5min cur", "peak/5min cand");
	for (size_t i = 0; i < s->n_chutes && i < WI_TOP_CHUTES; i++) {
		const struct wi_chute *c = &s->chutes[i];
		fprintf(f, "  %5u %12llu %12llu %+12lld %14llu %14llu\n",
			c->chute, (unsigned long long)c->records[0],
			(unsigned long long)c->records[1],
			(long long)(c->records[1] - c->records[0]),
			(unsigned long long)c->peak[0],
			(unsigned long long)c->peak[1]);
	}
	if (s->n_chutes > WI_TOP_CHUTES)
		fprintf(f, "  ... %zu more (--json lists every one)\n",
			s->n_chutes - WI_TOP_CHUTES);
	if (r->tally.windows_left_out)
		fprintf(f, "  the peaks are at least these: the records' ts_ms "
			"spread over more than %u chute windows, %llu left "
			"out\n", WI_WINDOWS_MAX,
			(unsigned long long)r->tally.windows_left_out);
}

void wi_report_text(const struct wi_result *r, FILE *f)
{
	char v[200];
	text_capture(r, f);
	text_reasons(r, f);
	text_groups(r, f);
	text_chutes(r, f);
	fprintf(f, "\nbecome NO_ROUTE: %llu; become CHUTE_UNAVAILABLE: %llu\n",
		(unsigned long long)r->tally.become_no_route,
		(unsigned long long)r->tally.become_unavailable);
	wi_verdict(r, v, sizeof(v));
	fprintf(f, "\nverdict: %s\n", v);
}

/* ---------------------------------------------------------------- JSON */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_reasons(const struct wi_tally *t, int side, FILE *f)
{
	fputc('{', f);
	for (unsigned i = 0; i < PS_REASON_COUNT; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", ps_reason_name(i),
			(unsigned long long)t->by_reason[side][i]);
	fputc('}', f);
}

void wi_report_json(const struct wi_result *r, FILE *f)
{
	const struct wi_tally *t = &r->tally;
	const struct wi_summary *s = &r->sum;
	char v[200];
	fprintf(f, "{\"capture\":{\"file\":");
	json_str(f, r->capture);
	fprintf(f, ",\"frames\":%llu,\"truncated\":%s,\"corrupt\":%s,"
		"\"cut\":%llu,\"scan_datagrams\":%llu,\"sorter_datagrams\":%llu,"
		"\"dropped\":%llu,\"records\":%llu,\"first_ms\":%llu,"
		"\"last_ms\":%llu},",
		(unsigned long long)r->frames, r->truncated ? "true" : "false",
		r->corrupt ? "true" : "false", (unsigned long long)r->cut,
		(unsigned long long)r->scan_datagrams,
		(unsigned long long)r->sorter_datagrams,
		(unsigned long long)r->dropped, (unsigned long long)t->records,
		(unsigned long long)r->first_ms,
		(unsigned long long)r->last_ms);
	for (int side = 0; side < 2; side++) {
		fprintf(f, "\"%s\":{\"plan\":", side ? "candidate" : "current");
		json_str(f, r->name[side]);
		fprintf(f, ",\"by_reason\":");
		json_reasons(t, side, f);
		fprintf(f, "},");
	}
	fprintf(f, "\"changed\":%llu,\"groups_total\":%zu,\"groups\":[",
		(unsigned long long)t->changed, s->n_groups);
	for (size_t i = 0; i < s->n_groups && i < WI_TOP_GROUPS; i++) {
		const struct wi_group *g = &s->groups[i];
		fprintf(f, "%s{\"from\":{\"hub\":%u,\"chute\":%u},\"to\":"
			"{\"hub\":%u,\"chute\":%u},\"records\":%llu}",
			i ? "," : "", g->hub[0], g->chute[0], g->hub[1],
			g->chute[1], (unsigned long long)g->records);
	}
	fprintf(f, "],\"chutes\":[");
	for (size_t i = 0; i < s->n_chutes; i++) {
		const struct wi_chute *c = &s->chutes[i];
		fprintf(f, "%s{\"chute\":%u,\"current\":%llu,\"candidate\":%llu,"
			"\"change\":%lld,\"peak_5min_current\":%llu,"
			"\"peak_5min_candidate\":%llu}", i ? "," : "",
			c->chute, (unsigned long long)c->records[0],
			(unsigned long long)c->records[1],
			(long long)(c->records[1] - c->records[0]),
			(unsigned long long)c->peak[0],
			(unsigned long long)c->peak[1]);
	}
	wi_verdict(r, v, sizeof(v));
	fprintf(f, "],\"windows_left_out\":%llu",
		(unsigned long long)t->windows_left_out);
	fprintf(f, ",\"become\":{\"NO_ROUTE\":%llu,\"CHUTE_UNAVAILABLE\":%llu},"
		"\"verdict\":", (unsigned long long)t->become_no_route,
		(unsigned long long)t->become_unavailable);
	json_str(f, v);
	fprintf(f, "}\n");
}
