/* ctl_table.c: the command table as data, and matching typed words
 * against its spellings (see ctl_table.h). */
#include "ctl_table.h"

#include <ctype.h>
#include <string.h>

_Static_assert(PS_CTL_STATUS == 1 && PS_CTL_EDIT == 8 &&
	       PS_CTL_STATS_RESET == 16 && PS_CTL_HOLD_ADD == 17 &&
	       PS_CTL_HOLD_CLEAR == 21 && PS_CTL_DEVICE_LIST == 22 &&
	       PS_CTL_MANIFEST_LOAD == 23 && PS_CTL_MANIFEST_STATS == 27 &&
	       PS_CTL_CMD_MAX == 28,
	       "command numbers are the protocol's: append, never reorder");

static const struct ps_ctl_cmd_info rows[PS_CTL_CMD_MAX] = {
#define ROW(id, fn, access, name, forms, help) \
	[PS_CTL_##id] = { name, PS_CTL_##access, forms, help },
	PS_CTL_COMMANDS(ROW)
#undef ROW
};

const struct ps_ctl_cmd_info *ps_ctl_cmd_info(unsigned cmd)
{
	return cmd >= 1 && cmd < PS_CTL_CMD_MAX ? &rows[cmd] : NULL;
}

const char *ps_ctl_cmd_name(unsigned cmd)
{
	const struct ps_ctl_cmd_info *r = ps_ctl_cmd_info(cmd);
	return r ? r->name : "?";
}

int ps_ctl_cmd_readonly(unsigned cmd)
{
	const struct ps_ctl_cmd_info *r = ps_ctl_cmd_info(cmd);
	return r && r->access == PS_CTL_RO;
}

/* Spelling number `form` of forms: [*start, *end). 0, or -1 if none. */
static int spelling(const char *forms, unsigned form, const char **start,
		    const char **end)
{
	const char *s = forms;
	for (unsigned i = 0; i < form; i++) {
		s = strchr(s, '|');
		if (!s)
			return -1;
		s++;
	}
	*start = s;
	*end = strchr(s, '|');
	if (!*end)
		*end = s + strlen(s);
	return 0;
}

/* The next command word of [*p, end): lower-case letters only (a
 * synopsis word is upper case or starts with '[' or '-'). Its length. */
static size_t next_word(const char **p, const char *end)
{
	while (*p < end && **p == ' ')
		(*p)++;
	size_t n = 0;
	while (*p + n < end && (*p)[n] != ' ')
		n++;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)(*p)[i]))
			return 0;
	return n;
}

/* How many words of argv the spelling takes; 0 when it does not match. */
static int match_spelling(const char *s, const char *end, int argc,
			  char *const *argv)
{
	int used = 0;
	size_t n;
	while ((n = next_word(&s, end)) > 0) {
		if (used == argc || strlen(argv[used]) != n ||
		    strncmp(argv[used], s, n))
			return 0;
		used++;
		s += n;
	}
	return used;
}

unsigned ps_ctl_cmd_match(int argc, char *const *argv, unsigned *form,
			  int *used)
{
	unsigned best = 0;
	*used = 0;
	for (unsigned c = 1; c < PS_CTL_CMD_MAX; c++) {
		const char *s, *e;
		for (unsigned f = 0; !spelling(rows[c].forms, f, &s, &e); f++) {
			int u = match_spelling(s, e, argc, argv);
			if (u > *used) {
				best = c;
				*form = f;
				*used = u;
			}
		}
	}
	return best;
}

void ps_ctl_cmd_words(unsigned cmd, unsigned form, char *buf, size_t n)
{
	const char *s, *e;
	size_t len = 0, w;
	buf[0] = 0;
	if (!ps_ctl_cmd_info(cmd) || spelling(rows[cmd].forms, form, &s, &e))
		return;
	while ((w = next_word(&s, e)) > 0) {
		if (len + w + 2 > n)
			break;
		if (len)
			buf[len++] = ' ';
		memcpy(buf + len, s, w);
		len += w;
		buf[len] = 0;
		s += w;
	}
}

void ps_ctl_help_line(struct ps_out *o, const char *form, const char *help)
{
	enum { COL = 34, WIDTH = 78 };
	int col = (int)strlen(form) + 2;
	/* a long synopsis goes on over lines indented under its words */
	while (col > WIDTH) {
		int cut = WIDTH - 2;
		while (cut > 0 && form[cut] != ' ')
			cut--;
		if (cut <= 0)
			break;
		ps_out_printf(o, "  %.*s\n          ", cut, form);
		form += cut + 1;
		col = (int)strlen(form) + 12;
	}
	ps_out_printf(o, col > (int)strlen(form) + 2 ? "%s" : "  %s", form);
	if (!help || !*help) {
		ps_out_write(o, "\n", 1);
		return;
	}
	if (col >= COL) {
		ps_out_write(o, "\n", 1);
		col = 0;
	}
	const char *p = help;
	int first = 1;
	while (*p) {
		const char *sp = strchr(p, ' ');
		int w = sp ? (int)(sp - p) : (int)strlen(p);
		if (!first && col + 1 + w > WIDTH) {
			ps_out_write(o, "\n", 1);
			col = 0;
			first = 1;
		}
		if (first) {
			ps_out_printf(o, "%*s", COL - col, "");
			col = COL;
		} else {
			ps_out_write(o, " ", 1);
			col++;
		}
		ps_out_write(o, p, (size_t)w);
		col += w;
		first = 0;
		p += w;
		while (*p == ' ')
			p++;
	}
	ps_out_write(o, "\n", 1);
}

void ps_ctl_help(struct ps_out *o)
{
	for (unsigned c = 1; c < PS_CTL_CMD_MAX; c++) {
		const char *s, *e;
		for (unsigned f = 0; !spelling(rows[c].forms, f, &s, &e); f++) {
			char form[160];
			size_t n = (size_t)(e - s) < sizeof(form) - 1
					   ? (size_t)(e - s) : sizeof(form) - 1;
			memcpy(form, s, n);
			form[n] = 0;
			ps_ctl_help_line(o, form, f ? NULL : rows[c].help);
		}
	}
}
