/* holds_store.c: the store's intercept list (see holds_store.h): commit
 * (build the set, save, publish by RCU, free after the grace period),
 * add, remove, replace, the load in parts, listing, and restoring the
 * list at open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holds.h"
#include "holds_store.h"
#include "plan_persist.h"
#include "plan_store_int.h"

#include <urcu-qsbr.h>

#define HOLDS_FILE "holds"

struct ps_hold_stage {
	uint64_t token;
	char name[256];
	struct ps_hold_list l;
	struct ps_errors errs;
};

/* ------------------------------------------------------------- saving */

/* The list in the file form with its header (revision, time). */
static int save_list(struct ps_store *s, const struct ps_hold_list *l,
		     uint64_t rev, uint64_t changed_ms, char *err,
		     size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "# parcelsort holds: do not edit, checksummed\n"
		   "# revision %llu\n# changed-ms %llu\n# count %zu\n",
		(unsigned long long)rev, (unsigned long long)changed_ms, l->n);
	int werr = ps_hold_list_write(l, f);
	if (fclose(f) || werr) {
		free(buf);
		snprintf(err, errlen, "out of memory writing the holds");
		return -1;
	}
	return ps_persist_write_checked(s->dir, HOLDS_FILE, buf, len,
					s->no_fsync, err, errlen);
}

/* The revision the file on disk holds, 0 when none or unreadable. */
static uint64_t saved_revision(const struct ps_store *s)
{
	char path[2200], head[256];
	unsigned long long r = 0;
	snprintf(path, sizeof(path), "%s/" HOLDS_FILE, s->dir);
	if (ps_persist_read_small(path, head, sizeof(head)) < 0)
		return 0;
	const char *p = strstr(head, "\n# revision ");
	if (p)
		sscanf(p, "\n# revision %llu", &r);
	return r;
}

/* ------------------------------------------------------------- commit */

/* The dataplane's set of l (NULL for an empty list); -1 out of memory. */
static int build_set(const struct ps_hold_list *l, struct ps_holds **out)
{
	*out = NULL;
	if (!l->n)
		return 0;
	uint8_t (*wb)[24] = malloc(l->n * 24);
	if (!wb)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		memcpy(wb[i], l->e[i].wb, 24);
	*out = ps_holds_build((const uint8_t (*)[24])wb, l->n);
	free(wb);
	return *out ? 0 : -1;
}

/* The one way the list changes; lock held. neu is taken on success. */
static int commit_list(struct ps_store *s, struct ps_hold_list *neu,
		       struct ps_errors *errs, uint64_t *revision)
{
	char err[768];
	struct ps_holds *set;
	uint64_t rev = s->hold_rev + 1, now = ps_now_ms();
	if (neu->oom || build_set(neu, &set)) {
		ps_errors_add(errs, "holds", 0, "refused, the list in force "
			      "stays: out of memory");
		return -1;
	}
	/* save first: if the disk refuses, nothing changes */
	if (save_list(s, neu, rev, now, err, sizeof(err))) {
		ps_holds_free(set);
		/* the rename may have happened (the directory's fsync
		 * failed): put the list in force back on disk */
		if (saved_revision(s) == rev) {
			char err2[512];
			if (save_list(s, &s->hold_list, s->hold_rev,
				      s->hold_changed_ms, err2, sizeof(err2))) {
				size_t k = strlen(err);
				snprintf(err + k, sizeof(err) - k, "; the state "
					 "directory could not be put back to "
					 "the list in force");
			}
		}
		ps_errors_add(errs, "holds", 0, "refused, the list in force "
			      "stays: %s", err);
		return -1;
	}
	/* from here on nothing can fail */
	ps_hold_list_free(&s->hold_list);
	s->hold_list = *neu;
	ps_hold_list_init(neu);
	s->hold_rev = rev;
	s->hold_changed_ms = now;
	struct ps_holds *old = rcu_xchg_pointer(&s->holds, set);
	synchronize_rcu();                 /* every core has moved on */
	ps_holds_free(old);
	if (revision)
		*revision = rev;
	return 0;
}

int ps_store_hold_add(struct ps_store *s, const struct ps_hold_list *add,
		      struct ps_errors *errs, uint64_t *revision)
{
	struct ps_hold_list neu;
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	if (ps_hold_list_merge(&neu, &s->hold_list, add, NULL))
		ps_errors_add(errs, "holds", 0, "refused: out of memory");
	else if (neu.n > PS_HOLDS_MAX)
		ps_errors_add(errs, "holds", 0, "refused: more than %u holds",
			      PS_HOLDS_MAX);
	else
		rc = commit_list(s, &neu, errs, revision);
	ps_hold_list_free(&neu);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ps_store_hold_del(struct ps_store *s, const struct ps_hold_list *del,
		      size_t *removed, struct ps_errors *errs,
		      uint64_t *revision)
{
	struct ps_hold_list neu;
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	size_t before = s->hold_list.n;
	if (ps_hold_list_merge(&neu, &s->hold_list, NULL, del)) {
		ps_errors_add(errs, "holds", 0, "refused: out of memory");
	} else {
		size_t gone = before - neu.n;
		rc = commit_list(s, &neu, errs, revision);
		if (!rc && removed)
			*removed = gone;
	}
	ps_hold_list_free(&neu);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ps_store_hold_replace(struct ps_store *s, struct ps_hold_list *l,
			  struct ps_errors *errs, uint64_t *revision)
{
	pthread_mutex_lock(&s->lock);
	int rc = commit_list(s, l, errs, revision);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ------------------------------------------------------ load in parts */

static void stage_drop(struct ps_store *s)
{
	if (!s->hold_stage)
		return;
	ps_hold_list_free(&s->hold_stage->l);
	ps_errors_free(&s->hold_stage->errs);
	free(s->hold_stage);
	s->hold_stage = NULL;
}

int ps_store_hold_load_begin(struct ps_store *s, const char *name,
			     uint64_t *token)
{
	struct ps_hold_stage *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	snprintf(g->name, sizeof(g->name), "%s", name);
	ps_hold_list_init(&g->l);
	ps_errors_init(&g->errs);
	pthread_mutex_lock(&s->lock);
	stage_drop(s);                     /* an abandoned load goes */
	g->token = ((uint64_t)ps_now_ms() << 16) ^ ++s->hold_tokens;
	s->hold_stage = g;
	*token = g->token;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The stage of token, or NULL with errs; lock held. */
static struct ps_hold_stage *stage_of(struct ps_store *s, uint64_t token,
				      struct ps_errors *errs)
{
	if (s->hold_stage && s->hold_stage->token == token)
		return s->hold_stage;
	ps_errors_add(errs, "holds", 0, "no such hold load under way (another "
		      "load began since, or the daemon restarted): begin "
		      "again");
	return NULL;
}

int ps_store_hold_load_part(struct ps_store *s, uint64_t token,
			    const char *text, size_t len, uint32_t first_line,
			    size_t *lines, struct ps_errors *errs)
{
	pthread_mutex_lock(&s->lock);
	struct ps_hold_stage *g = stage_of(s, token, errs);
	if (g)
		*lines = ps_hold_parse(&g->l, text, len, g->name, first_line,
				       &g->errs);
	pthread_mutex_unlock(&s->lock);
	return g ? 0 : -1;
}

/* The stage's errors become errs (a caller's errs start empty). */
static void move_errors(struct ps_errors *to, struct ps_errors *from)
{
	ps_errors_free(to);
	*to = *from;
	ps_errors_init(from);
}

int ps_store_hold_load_commit(struct ps_store *s, uint64_t token,
			      struct ps_errors *errs, uint64_t *revision,
			      size_t *count)
{
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	struct ps_hold_stage *g = stage_of(s, token, errs);
	if (!g)
		goto out;
	if (g->errs.n || g->errs.dropped) {
		move_errors(errs, &g->errs);
	} else {
		ps_hold_list_sort(&g->l);
		rc = commit_list(s, &g->l, errs, revision);
		if (!rc && count)
			*count = s->hold_list.n;
	}
	stage_drop(s);                     /* refused or done: it goes */
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void ps_store_hold_load_abort(struct ps_store *s, uint64_t token)
{
	pthread_mutex_lock(&s->lock);
	if (s->hold_stage && s->hold_stage->token == token)
		stage_drop(s);
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------ reading */

static void info_locked(struct ps_store *s, struct ps_holds_info *out)
{
	out->revision = s->hold_rev;
	out->count = s->hold_list.n;
	out->changed_ms = s->hold_changed_ms;
	out->loading = s->hold_stage != NULL;
}

void ps_store_holds_info(struct ps_store *s, struct ps_holds_info *out)
{
	pthread_mutex_lock(&s->lock);
	info_locked(s, out);
	pthread_mutex_unlock(&s->lock);
}

int ps_store_hold_has(struct ps_store *s, const uint8_t *wb)
{
	pthread_mutex_lock(&s->lock);
	int r = ps_hold_list_find(&s->hold_list, wb) >= 0;
	pthread_mutex_unlock(&s->lock);
	return r;
}

int ps_store_hold_page(struct ps_store *s, const uint8_t *after,
		       size_t limit, struct ps_hold_list *out,
		       struct ps_holds_info *info)
{
	ps_hold_list_init(out);
	pthread_mutex_lock(&s->lock);
	const struct ps_hold_list *l = &s->hold_list;
	size_t i = after ? ps_hold_list_after(l, after) : 0;
	for (size_t k = 0; k < limit && i < l->n; k++, i++) {
		const char *note = ps_hold_note(l, i);
		ps_hold_list_append(out, l->e[i].wb, note, strlen(note));
	}
	int more = i < l->n;
	info_locked(s, info);
	pthread_mutex_unlock(&s->lock);
	return more;
}

/* ------------------------------------------------------ open and close */

void ps_store_load_holds(struct ps_store *s, char *warn, size_t warn_len)
{
	char path[2200], why[256], *b;
	snprintf(path, sizeof(path), "%s/" HOLDS_FILE, s->dir);
	FILE *probe = fopen(path, "r");
	if (!probe)
		return;                    /* never saved: the list is empty */
	fclose(probe);
	long n = ps_persist_read_checked(path, &b, why, sizeof(why));
	struct ps_errors e;
	struct ps_hold_list l;
	ps_errors_init(&e);
	ps_hold_list_init(&l);
	if (n >= 0)
		ps_hold_parse(&l, b, (size_t)n, path, 1, &e);
	else
		ps_errors_add(&e, path, 0, "%s", why);
	struct ps_holds *set = NULL;
	if (!e.n && !e.dropped) {
		ps_hold_list_sort(&l);
		if (l.oom || build_set(&l, &set))
			ps_errors_add(&e, path, 0, "out of memory");
	}
	if (e.n || e.dropped) {
		size_t k = warn ? strlen(warn) : 0;
		if (warn && k + 1 < warn_len)
			snprintf(warn + k, warn_len - k, "%sthe hold list is "
				 "not restored, starting with none: %s",
				 k ? "; " : "", e.n ? e.msg[0] : "bad lines");
		ps_hold_list_free(&l);
	} else {
		unsigned long long r = 0, ms = 0;
		const char *p = strstr(b, "\n# revision ");
		if (p)
			sscanf(p, "\n# revision %llu", &r);
		if ((p = strstr(b, "\n# changed-ms ")))
			sscanf(p, "\n# changed-ms %llu", &ms);
		s->hold_list = l;
		s->hold_rev = r;
		s->hold_changed_ms = ms;
		rcu_assign_pointer(s->holds, set);
	}
	if (n >= 0)
		free(b);
	ps_errors_free(&e);
}

void ps_store_free_holds(struct ps_store *s)
{
	stage_drop(s);
	ps_hold_list_free(&s->hold_list);
}
