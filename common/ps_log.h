/* ps_log.h: the daemons' log: one line per message, at a level (syslog's
 * numbers), to stderr, to a file (reopened after a rotation), or to the
 * journal when systemd started the program: then every line carries its
 * priority as a "<N>" prefix (sd-daemon.h's SD_ERR ...), which journald
 * reads from the stream. Never called on the worker path. */
#ifndef PS_LOG_H
#define PS_LOG_H

#include <stddef.h>

enum {
	PS_LOG_ERR = 3,
	PS_LOG_WARNING = 4,
	PS_LOG_NOTICE = 5,
	PS_LOG_INFO = 6,
	PS_LOG_DEBUG = 7,
};

/* "err", "warning", "notice", "info", "debug" or a digit 3..7; -1 else. */
int ps_log_level_parse(const char *s);
const char *ps_log_level_name(int level);
void ps_log_set_level(int level);
int ps_log_level(void);
/* The program's name at the start of every line ("parcelsortd"). */
void ps_log_set_ident(const char *ident);

/* Log to path (appended; stderr, and stdout when also_stdout, are
 * pointed at it too, so that whatever else the program prints lands
 * there) or, with NULL or "", to stderr as it is. -1 with the reason in
 * err. */
int ps_log_open(const char *path, int also_stdout, char *err, size_t n);
/* Open the file again (after logrotate moved it); 0 when logging to
 * stderr. */
int ps_log_reopen(char *err, size_t n);
/* Whether stderr is the journal's stream (JOURNAL_STREAM names its
 * device and inode). */
int ps_log_to_journal(void);

void ps_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text that already ends its lines (DPDK's log): each line at level. */
void ps_log_text(int level, const char *text, size_t len);
/* The same whatever the log level (text its source filtered already). */
void ps_log_text_any(int level, const char *text, size_t len);

#endif
