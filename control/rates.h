/* rates.h: the control plane's view of the dataplane counters: the sums
 * less the baseline `stats reset` keeps, the rates over the last second
 * and the chutes' pieces per hour over the last hour, sampled by the
 * control thread. The workers' counters are never
 * written. */
#ifndef PS_RATES_H
#define PS_RATES_H

#include "counters.h"

struct ps_rates {
	double rx_pps, tx_pps, records_ps, drops_ps;
};

typedef void ps_sum_counters_fn(void *arg, struct ps_counters *out);
typedef void ps_sum_loop_fn(void *arg, struct ps_loop_counters *out);

struct ps_counters_view;

struct ps_counters_view *ps_view_new(ps_sum_counters_fn *sum, void *arg);
void ps_view_free(struct ps_counters_view *v);
/* The counters as they are now, less the baseline of the last reset. */
void ps_view_counters(struct ps_counters_view *v, struct ps_counters *out);
/* `stats reset`: keep the counters as they are now as the baseline. */
void ps_view_reset(struct ps_counters_view *v);
/* Take a sample if a second has passed since the last one. */
void ps_view_sample(struct ps_counters_view *v);
void ps_view_rates(struct ps_counters_view *v, struct ps_rates *r);

/* The sorter loop's per device and per chute figures (the daemon's
 * sum_loop; NULL: none), with the same baseline as the counters. */
void ps_view_set_loop(struct ps_counters_view *v, ps_sum_loop_fn *sum_loop);
/* The figures now less the baseline (last_heard_s as it is); -1 without
 * a sum_loop (out is zeroed). */
int ps_view_loop(struct ps_counters_view *v, struct ps_loop_counters *out);
/* Pieces per hour decided into a chute over the last hour, and the
 * minutes sampled (hour_rates.h; ps_view_sample samples a minute). */
double ps_view_per_hour(struct ps_counters_view *v, uint16_t chute);
unsigned ps_view_hour_minutes(struct ps_counters_view *v);

#endif
