/* wi_report.h: the what-if's report (docs/whatif.md), as text for the
 * operator or as one JSON object: the capture read, records by reason
 * under each plan, the decisions that change grouped by (old hub, chute)
 * -> (new hub, chute) (the top WI_TOP_GROUPS), the chutes that gain or
 * lose records with their peak records per 5 minutes under each plan, the
 * records that become NO_ROUTE or CHUTE_UNAVAILABLE, and a verdict. */
#ifndef PS_WI_REPORT_H
#define PS_WI_REPORT_H

#include <stdio.h>

#include "whatif.h"

#define WI_TOP_GROUPS 10
#define WI_TOP_CHUTES 20         /* in text; JSON lists every one */

/* The one-line verdict, e.g. "12,345 of 1,000,000 records change chute;
 * 0 become NO_ROUTE, 0 become CHUTE_UNAVAILABLE". */
void wi_verdict(const struct wi_result *r, char *out, size_t n);
void wi_report_text(const struct wi_result *r, FILE *f);
void wi_report_json(const struct wi_result *r, FILE *f);

#endif
