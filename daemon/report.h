/* report.h: what parcelsortd prints on stdout: the start description, the
 * periodic rates line (--stats N) and the final summary. */
#ifndef PS_REPORT_H
#define PS_REPORT_H

#include "daemon.h"

/* Workers, ports, sockets, UDP port, duplicate window and plan. */
void ps_report_start(const struct ps_daemon *d);
/* One line of rates since *prev over dt seconds; *prev becomes now. */
void ps_report_rates(const struct ps_daemon *d, struct ps_counters *prev,
		     double dt);
/* What a scheduled activation did (r: ps_store_tick's answer, not 0):
 * activated on stdout, or on stderr which attempt failed, why, and when
 * the next one is (issue #12.7). */
void ps_report_schedule(const struct ps_daemon *d, int r,
			const struct ps_errors *errs);
/* The final counters after secs seconds of running. */
void ps_report_summary(const struct ps_daemon *d, double secs);

#endif
