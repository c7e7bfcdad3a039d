/* ctl_cmds.h: the daemon's side of the control commands: one handler per
 * row of ctl_commands.h, each writing its answer as JSON (the wire form;
 * text is rendered from it by the control library). */
#ifndef PS_CTL_CMDS_H
#define PS_CTL_CMDS_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_daemon.h"
#include "rates.h"

/* Errors shown in one answer at most; the rest are counted ("more"). */
#define PS_CTL_MAX_ERRORS_SHOWN 100u
#define PS_CTL_MAX_ERROR_TEXT   1024u
/* hold list: holds shown by default, and at most (an answer of at most
 * ~15 MB, under PS_CTL_MAX_ANSWER) */
#define PS_CTL_HOLD_LIST_DEFAULT 1000u
#define PS_CTL_HOLD_LIST_MAX     100000u

struct ps_ctl_ctx {
	const struct ps_ctl_daemon *d;
	struct ps_counters_view *view;
};

/* used[65536]: 1 for a chute of the active plan, 2 for its reject chute,
 * else 0 (chute list, /metrics). */
void ps_ctl_chutes_in_plan(struct ps_store *st, uint8_t *used);

/* Run request cmd with its argument body; the JSON answer goes to o.
 * Returns the status (enum ps_ctl_status). */
int ps_ctl_run(const struct ps_ctl_ctx *x, unsigned cmd, const uint8_t *body,
	       size_t len, struct ps_out *o);

#endif
