/* ctl_table.h: the command table (the rows of ctl_commands.h) as data:
 * names, access, the CLI's spellings and help, and matching what an
 * operator typed against the spellings. */
#ifndef PS_CTL_TABLE_H
#define PS_CTL_TABLE_H

#include "ctl_proto.h"
#include "outbuf.h"

enum ps_ctl_access { PS_CTL_RO, PS_CTL_RW };

struct ps_ctl_cmd_info {
	const char *name;
	enum ps_ctl_access access;
	const char *forms;       /* '|'-separated spellings with synopses */
	const char *help;
};

/* The row of cmd, NULL for a number that is no command. */
const struct ps_ctl_cmd_info *ps_ctl_cmd_info(unsigned cmd);
const char *ps_ctl_cmd_name(unsigned cmd);
int ps_ctl_cmd_readonly(unsigned cmd);

/* The command one of whose spellings' words begin argv (the spelling with
 * the most words wins): its number, the spelling's index in *form and the
 * number of words it took in *used; 0 when none matches. */
unsigned ps_ctl_cmd_match(int argc, char *const *argv, unsigned *form,
			  int *used);
/* The words of spelling `form` of cmd ("route add"), in buf. */
void ps_ctl_cmd_words(unsigned cmd, unsigned form, char *buf, size_t n);

/* One help line per spelling: "  FORM   help", wrapped at 78 columns. */
void ps_ctl_help_line(struct ps_out *o, const char *form, const char *help);
void ps_ctl_help(struct ps_out *o);

#endif
