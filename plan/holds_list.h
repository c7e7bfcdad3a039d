/* holds_list.h: the intercept list as the control plane keeps it: every
 * held waybill with its note, sorted by waybill (so listing pages by a
 * cursor and a load's repeats collapse), the notes in one arena. Parsing
 * the file form (docs/control.md, "Holds"), merging adds and removals, and
 * writing the list back as that same file form. Knows nothing of the store
 * or the dataplane: holds_store.c builds the dataplane's set (holds.h) from
 * it and saves it. */
#ifndef PS_HOLDS_LIST_H
#define PS_HOLDS_LIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ps_errors.h"

#define PS_HOLD_WAYBILL 24          /* bytes, NUL-padded, as on the wire */
#define PS_HOLD_NOTE_MAX 100        /* printable characters of a note */
#define PS_HOLDS_MAX 4000000u       /* waybills on the list at most */
/* The largest hold file parcelsortctl reads (hold load, fleet hold load):
 * room for PS_HOLDS_MAX holds with full notes; sent in parts or chunks. */
#define PS_HOLDS_FILE_MAX_BYTES (600ull << 20)

struct ps_hold_ent {
	uint8_t wb[PS_HOLD_WAYBILL];
	uint32_t note;              /* offset in the arena; 0: no note */
};

struct ps_hold_list {
	struct ps_hold_ent *e;
	size_t n, cap;
	char *arena;                /* arena[0] is the empty note */
	size_t arena_len, arena_cap;
	int oom;                    /* an append ran out of memory */
};

void ps_hold_list_init(struct ps_hold_list *l);
void ps_hold_list_free(struct ps_hold_list *l);
/* Append one waybill (24 bytes) with its note (NULL or "": none). */
void ps_hold_list_append(struct ps_hold_list *l, const uint8_t *wb,
			 const char *note, size_t note_len);
const char *ps_hold_note(const struct ps_hold_list *l, size_t i);
/* Sort by waybill; of repeats the one appended last stays. */
void ps_hold_list_sort(struct ps_hold_list *l);
/* Index of wb in a sorted list, or -1. */
long ps_hold_list_find(const struct ps_hold_list *l, const uint8_t *wb);
/* The first index whose waybill is after wb (a listing cursor). */
size_t ps_hold_list_after(const struct ps_hold_list *l, const uint8_t *wb);

/* A new sorted list: old (sorted) with add's entries (sorted) put in or
 * replacing theirs, then del's waybills (sorted; NULL: none) taken out.
 * Returns 0, or -1 when out of memory (out then holds nothing). */
int ps_hold_list_merge(struct ps_hold_list *out, const struct ps_hold_list *old,
		       const struct ps_hold_list *add,
		       const struct ps_hold_list *del);

/* A waybill typed or read from a file, as the 24 wire bytes: 0 when it is
 * valid as protocol step 5 wants it (ps_waybill_check), else -1 and why. */
int ps_hold_waybill(const char *s, size_t len, uint8_t wb[PS_HOLD_WAYBILL],
		    const char **why);
/* A note: 0..PS_HOLD_NOTE_MAX printable ASCII characters. 0 or -1. */
int ps_hold_note_ok(const char *s, size_t len);

/* Parse the file form (one WAYBILL[,NOTE] a line; '#' comment lines and
 * blank lines ignored) appending to l; line numbers start at first_line.
 * Every bad line goes to errs as NAME:LINE: message. Returns the lines
 * read. */
size_t ps_hold_parse(struct ps_hold_list *l, const char *text, size_t len,
		     const char *name, uint32_t first_line,
		     struct ps_errors *errs);

/* Write the list in the file form (WAYBILL or WAYBILL,NOTE a line). */
int ps_hold_list_write(const struct ps_hold_list *l, FILE *f);

#endif
