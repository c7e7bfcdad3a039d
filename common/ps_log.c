/* ps_log.c: the daemons' log (see ps_log.h). A line is formatted in one
 * buffer and written with one write(2), so lines from the control thread
 * and the main loop never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ps_log.h"

static int log_level = PS_LOG_INFO;
static const char *log_ident = "parcelsortd";
static char log_path[4096];
static int journal = -1;          /* -1: not looked at yet */
static int log_stdout;            /* stdout goes to the file too */

static const char *const names[8] = {
	NULL, NULL, NULL, "err", "warning", "notice", "info", "debug",
};

int ps_log_level_parse(const char *s)
{
	if (s[0] >= '3' && s[0] <= '7' && !s[1])
		return s[0] - '0';
	for (int i = 3; i < 8; i++)
		if (!strcmp(s, names[i]))
			return i;
	if (!strcmp(s, "error"))
		return PS_LOG_ERR;
	if (!strcmp(s, "warn"))
		return PS_LOG_WARNING;
	return -1;
}

const char *ps_log_level_name(int level)
{
	return level >= 3 && level < 8 ? names[level] : "?";
}

void ps_log_set_level(int level)
{
	log_level = level;
}

int ps_log_level(void)
{
	return log_level;
}

void ps_log_set_ident(const char *ident)
{
	log_ident = ident;
}

int ps_log_to_journal(void)
{
	if (journal < 0) {
		const char *e = getenv("JOURNAL_STREAM");
		unsigned long long dev, ino;
		struct stat st;
		journal = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
			  !fstat(STDERR_FILENO, &st) &&
			  (unsigned long long)st.st_dev == dev &&
			  (unsigned long long)st.st_ino == ino;
	}
	return journal;
}

static int open_file(char *err, size_t n)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		      0640);
	if (fd < 0) {
		snprintf(err, n, "log.file = '%s': %s", log_path,
			 strerror(errno));
		return -1;
	}
	if (log_stdout) {
		fflush(stdout);
		dup2(fd, STDOUT_FILENO);
	}
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	journal = 0;
	return 0;
}

int ps_log_open(const char *path, int also_stdout, char *err, size_t n)
{
	log_stdout = also_stdout;
	if (!path || !*path) {
		log_path[0] = 0;
		return 0;
	}
	snprintf(log_path, sizeof(log_path), "%s", path);
	return open_file(err, n);
}

int ps_log_reopen(char *err, size_t n)
{
	return log_path[0] ? open_file(err, n) : 0;
}

static void put_line(int level, const char *text, size_t len)
{
	char line[2048];
	int k = 0;
	if (ps_log_to_journal())
		k = snprintf(line, sizeof(line), "<%d>", level);
	k += snprintf(line + k, sizeof(line) - (size_t)k, "%s: ", log_ident);
	if (len > sizeof(line) - (size_t)k - 1)
		len = sizeof(line) - (size_t)k - 1;
	memcpy(line + k, text, len);
	k += (int)len;
	line[k++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)k);
	(void)w;
}

void ps_log_text(int level, const char *text, size_t len)
{
	if (level <= log_level)
		ps_log_text_any(level, text, len);
}

void ps_log_text_any(int level, const char *text, size_t len)
{
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t l = nl ? (size_t)(nl - text) : len;
		if (l)
			put_line(level, text, l);
		if (!nl)
			break;
		len -= l + 1;
		text = nl + 1;
	}
}

void ps_log(int level, const char *fmt, ...)
{
	char buf[1536];
	if (level > log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	ps_log_text(level, buf, (size_t)k < sizeof(buf) ? (size_t)k
							: sizeof(buf) - 1);
}
