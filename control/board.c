/* board.c: the sorter board's resources (see board.h). Every figure comes
 * from a read-only control command run as the control socket runs it
 * (ps_ctl_execute, JSON), so the board and parcelsortctl never disagree;
 * nothing here changes the daemon. */
#include "board.h"

#include <string.h>

#include "ctl_client.h"
#include "metrics.h"
#include "rates.h"

void ps_board_init(struct ps_board *b, struct ps_ctl_server *ctl)
{
	memset(b, 0, sizeof(*b));
	b->ctl = ctl;
}

void ps_board_tick(struct ps_board *b, uint64_t now_ms)
{
	uint64_t s = now_ms / 1000;
	if (b->n && s == b->last_s)
		return;
	struct ps_rates r;
	ps_ctl_rates(b->ctl, &r);
	b->last_s = s;
	if (b->n < PS_BOARD_RATE_SECONDS) {
		b->rate[(b->head + b->n++) % PS_BOARD_RATE_SECONDS] =
			r.records_ps;
	} else {
		b->rate[b->head] = r.records_ps;
		b->head = (b->head + 1) % PS_BOARD_RATE_SECONDS;
	}
}

/* A control command's JSON answer, without its final newline; -1 when
 * another thread's command still runs after PS_BOARD_WAIT_MS. */
static int command(struct ps_board *b, uint16_t cmd, const char *args,
		   size_t args_len, struct ps_out *o)
{
	struct ps_out j;
	ps_out_init(&j);
	if (ps_ctl_execute_within(b->ctl, PS_BOARD_WAIT_MS, cmd, PS_CTL_F_JSON,
				  (const uint8_t *)args, args_len, &j) ==
	    PS_CTL_BUSY) {
		ps_out_free(&j);
		return -1;
	}
	size_t n = j.len;
	while (n && (j.buf[n - 1] == '\n' || j.buf[n - 1] == 0))
		n--;
	if (n)
		ps_out_write(o, j.buf, n);
	else
		ps_out_write(o, "null", 4);
	ps_out_free(&j);
	return 0;
}

static void nic_json(struct ps_board *b, struct ps_out *o)
{
	const struct ps_ctl_daemon *d = ps_ctl_daemon(b->ctl);
	struct ps_nic_stats s[PS_MAX_NIC_PORTS];
	unsigned n = d->nic_stats ? d->nic_stats(d->arg, s, PS_MAX_NIC_PORTS)
				  : 0;
	ps_out_write(o, "[", 1);
	for (unsigned i = 0; i < n; i++) {
		ps_out_printf(o, "%s{\"port\":%u,\"name\":", i ? "," : "", i);
		ps_out_json_str(o, s[i].name);
		ps_out_printf(o, ",\"rx_packets\":%llu,\"rx_missed\":%llu,"
			      "\"rx_nombuf\":%llu,\"rx_errors\":%llu,"
			      "\"tx_errors\":%llu}",
			      (unsigned long long)s[i].ipackets,
			      (unsigned long long)s[i].imissed,
			      (unsigned long long)s[i].rx_nombuf,
			      (unsigned long long)s[i].ierrors,
			      (unsigned long long)s[i].oerrors);
	}
	ps_out_write(o, "]", 1);
}

/* {"status":..,"stats":..,"commits":{..},"nic":[..]} */
static int summary(struct ps_board *b, struct ps_out *o)
{
	uint64_t c[PS_CTL_COMMIT_OUTCOMES];
	ps_out_write(o, "{\"status\":", 10);
	if (command(b, PS_CTL_STATUS, NULL, 0, o))
		return -1;
	ps_out_write(o, ",\"stats\":", 9);
	if (command(b, PS_CTL_STATS, NULL, 0, o))
		return -1;
	ps_ctl_commit_counts(b->ctl, c);
	ps_out_write(o, ",\"commits\":{", 12);
	for (unsigned k = 0; k < PS_CTL_COMMIT_OUTCOMES; k++)
		ps_out_printf(o, "%s\"%s\":%llu", k ? "," : "",
			      ps_ctl_commit_outcome_name(k),
			      (unsigned long long)c[k]);
	ps_out_write(o, "},\"nic\":", 8);
	nic_json(b, o);
	ps_out_write(o, "}\n", 2);
	return 0;
}

/* {"interval_s":1,"records_per_s":[oldest..newest]} */
static void rate(struct ps_board *b, struct ps_out *o)
{
	ps_out_printf(o, "{\"interval_s\":1,\"records_per_s\":[");
	for (unsigned i = 0; i < b->n; i++)
		ps_out_printf(o, "%s%.1f", i ? "," : "",
			      b->rate[(b->head + i) % PS_BOARD_RATE_SECONDS]);
	ps_out_write(o, "]}\n", 3);
}

/* The device list's arguments: sorted by NOREAD rate, the first few. */
static int scanners(struct ps_board *b, struct ps_out *o)
{
	struct ps_out a;
	char limit[16];
	snprintf(limit, sizeof(limit), "%u", PS_BOARD_SCANNERS);
	ps_out_init(&a);
	ps_ctl_args(&a, "noread");
	ps_ctl_args(&a, limit);
	int rc = command(b, PS_CTL_DEVICE_LIST, a.buf, a.len, o);
	ps_out_write(o, "\n", 1);
	ps_out_free(&a);
	return rc;
}

static const char *const api_paths[] = {
	"/api/v1/summary", "/api/v1/chutes", "/api/v1/scanners", "/api/v1/rate"
};

/* The asset served at path ("/": the page), or NULL. */
static const struct ps_board_asset *asset(const char *path)
{
	const char *want = strcmp(path, "/") ? path : "/index.html";
	for (unsigned i = 0; i < ps_board_n_assets; i++)
		if (!strcmp(want, ps_board_assets[i].path))
			return &ps_board_assets[i];
	return NULL;
}

int ps_board_knows(const char *path)
{
	for (unsigned i = 0; i < sizeof(api_paths) / sizeof(api_paths[0]); i++)
		if (!strcmp(path, api_paths[i]))
			return 1;
	return asset(path) != NULL;
}

int ps_board_get(struct ps_board *b, const char *path, struct ps_out *o,
		 const char **type)
{
	int busy = 0;
	*type = "application/json";
	if (!strcmp(path, "/api/v1/summary")) {
		busy = summary(b, o);
	} else if (!strcmp(path, "/api/v1/chutes")) {
		busy = command(b, PS_CTL_CHUTE_LIST, NULL, 0, o);
		ps_out_write(o, "\n", 1);
	} else if (!strcmp(path, "/api/v1/scanners")) {
		busy = scanners(b, o);
	} else if (!strcmp(path, "/api/v1/rate")) {
		rate(b, o);
	} else {
		const struct ps_board_asset *a = asset(path);
		if (!a)
			return -1;
		*type = a->type;
		ps_out_write(o, a->body, a->len);
	}
	return busy ? 1 : 0;
}
