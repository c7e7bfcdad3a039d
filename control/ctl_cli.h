/* ctl_cli.h: what parcelsortctl's command files share: exit codes, usage
 * errors, reading a plan file, the offline plan check (ctl_cli.c). */
#ifndef PS_CTL_CLI_H
#define PS_CTL_CLI_H

#include <stddef.h>

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

int ctl_bad_usage(const char *msg);
/* A regular file of one request's worth at most, NUL-terminated; NULL
 * after a message. */
char *ctl_read_file(const char *path, size_t *len);
/* The same, for a file of at most max bytes. */
char *ctl_read_file_max(const char *path, unsigned long long max,
			size_t *len);
/* A list file's text sent in parts (hold load, manifest load, fleet hold
 * load) cannot carry a NUL byte: the control protocol ends arguments
 * with one. Returns 0 when text (its first line numbered first) has none;
 * else prints "path:LINE: a NUL byte in the line" as the daemon reports a
 * bad line, and returns EXIT_REFUSED. */
int ctl_refuse_nul(const char *path, const char *text, size_t len,
		   unsigned long first);
/* Parse and compile the plan at path; print what was found (JSON when
 * json; nothing on success when quiet_ok). EXIT_DONE or EXIT_REFUSED. */
int ctl_plan_check(const char *path, int json, int quiet_ok);
/* The same for a plan's text already read (name for its messages). */
int ctl_plan_check_text(const char *name, const char *text, size_t len,
			int json, int quiet_ok);

#endif
