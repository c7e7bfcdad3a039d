/* cmdlist.c: a build-time tool: the control command table
 * (ctl/ctl_commands.h) as "FORM<TAB>HELP" lines, one per spelling, for
 * the man page and the bash completion (man/mkman.py). A '|' inside
 * brackets belongs to one spelling ("[--sort records|noread|bad]"). */
#include <stdio.h>
#include <string.h>

#include "ctl_commands.h"

static void spellings(const char *forms, const char *help)
{
	char one[512];
	size_t n = 0;
	int depth = 0;
	for (const char *p = forms;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		if (!*p || (*p == '|' && !depth)) {
			one[n] = 0;
			printf("%s\t%s\n", one, help);
			n = 0;
			if (!*p)
				break;
			continue;
		}
		if (n < sizeof(one) - 1)
			one[n++] = *p;
	}
}

int main(void)
{
#define ROW(id, fn, access, name, forms, help) spellings(forms, help);
	PS_CTL_COMMANDS(ROW)
#undef ROW
	return 0;
}
