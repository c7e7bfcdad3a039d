/* board.h: the sorter board on the HTTP listener (metrics_http.c): the
 * page at / (HTML, CSS, JavaScript, built into the binary from board/) and
 * its read-only JSON API under /api/v1/, whose figures are the control
 * commands' own answers (status, stats, chute list, device list), plus the
 * records/s of the last ten minutes, sampled once a second. */
#ifndef PS_BOARD_H
#define PS_BOARD_H

#include <stdint.h>

#include "ctl_server.h"
#include "outbuf.h"

/* Seconds of records/s the board keeps (its chart's width). */
#define PS_BOARD_RATE_SECONDS 600
/* Scanners the board lists (the worst NOREAD rates first). */
#define PS_BOARD_SCANNERS 50

struct ps_board {
	struct ps_ctl_server *ctl;
	double rate[PS_BOARD_RATE_SECONDS];  /* a ring, oldest at head */
	unsigned head, n;
	uint64_t last_s;                     /* second of the last sample */
};

void ps_board_init(struct ps_board *b, struct ps_ctl_server *ctl);
/* Take the second's sample of records/s once a second has passed. */
void ps_board_tick(struct ps_board *b, uint64_t now_ms);

/* How long an API request waits for a command another thread runs (the
 * control socket's: a plan's load, a manifest part) before the
 * listener answers 503 and goes on serving /metrics. */
#define PS_BOARD_WAIT_MS 200

/* The resource at path, if the board has one: its body into o, its
 * Content-Type into *type; returns 0, -1 for a path it does not know, 1
 * when a command ran too long on another thread (o then holds a part). */
int ps_board_get(struct ps_board *b, const char *path, struct ps_out *o,
		 const char **type);

/* 1 for a path ps_board_get answers. */
int ps_board_knows(const char *path);

/* The assets, generated from board/ at build time (board_assets.c). */
struct ps_board_asset {
	const char *path;
	const char *type;
	const char *body;
	unsigned long len;
};
extern const struct ps_board_asset ps_board_assets[];
extern const unsigned ps_board_n_assets;

#endif
