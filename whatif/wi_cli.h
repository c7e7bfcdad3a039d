/* wi_cli.h: parcelsortctl's `plan whatif` (docs/whatif.md): the plans,
 * holds, chute states and manifest gathered (from files, or from the
 * daemon with --against active), the capture replayed (whatif.h), the
 * report printed (wi_report.h). Compiled into parcelsortctl. */
#ifndef PS_WI_CLI_H
#define PS_WI_CLI_H

#include <stddef.h>

/* `plan whatif CANDIDATE --capture FILE [--against active|PLAN] [--json]
 * [--holds FILE] [--manifest FILE]`; argv holds the words after "plan
 * whatif". Returns the exit code (ctl_cli.h): 0 reported, 1 a plan, hold
 * file, manifest or capture refused (with the reasons), 2 usage, 3 the
 * daemon unreachable. */
int wi_cli_plan_whatif(int argc, char **argv, int json, const char *ctl_path);

/* The fleet's what-if: the candidate's text (as read from its file
 * once: the bytes the fleet pushes; candidate names it) against a site's
 * plan text (as the plan bucket holds it), no holds, all chutes open; the
 * report (text or JSON) on stdout. Returns the exit code as above;
 * *changed gets the records whose chute changes. */
int wi_cli_compare(const char *candidate, const char *candidate_text,
		   size_t candidate_len, const char *current_text,
		   size_t current_len, const char *current_name,
		   const char *capture, int json, unsigned long long *changed);

#endif
