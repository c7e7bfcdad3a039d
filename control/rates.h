/* rates.h: the control plane's view of the dataplane counters: the sums
 * less the baseline `stats reset` keeps, and the rates over the last
 * second, sampled by the control thread. The workers' counters are never
 * written. */
#ifndef PS_RATES_H
#define PS_RATES_H

#include "counters.h"

struct ps_rates {
	double rx_pps, tx_pps, records_ps, drops_ps;
};

typedef void ps_sum_counters_fn(void *arg, struct ps_counters *out);

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

#endif
