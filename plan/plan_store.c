/* plan_store.c: the commit path of sort plans: validate, compile, persist,
 * publish by RCU, free after a grace period; history and rollback;
 * scheduled activation with retries; open (restore) and close. Staged
 * edits, route get and chute persistence live beside it (plan_txn.c,
 * plan_explain.c, plan_chute_save.c) on the same struct (plan_store_int.h). */
#include "plan_store_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan_persist.h"
#include "plan_reader.h"
#include "ps_fault.h"

struct ps_plan **ps_store_dataplane_slot(struct ps_store *s)
{
	return &s->active;
}

struct ps_holds **ps_store_holds_slot(struct ps_store *s)
{
	return &s->holds;
}

struct ps_chute_state *ps_store_chutes(struct ps_store *s)
{
	return &s->chutes;
}

static void plan_fname(char *buf, size_t n, uint32_t version)
{
	snprintf(buf, n, "plan-%010u.plan", version);
}

static void plan_path(const struct ps_store *s, char *buf, size_t n,
		      uint32_t version)
{
	char f[64];
	plan_fname(f, sizeof(f), version);
	snprintf(buf, n, "%s/%s", s->dir, f);
}

/* ------------------------------------------------------------ history */

static void history_push(struct ps_store *s, const struct ps_history_entry *e)
{
	if (s->n_hist == PS_HISTORY) {
		char path[2200];
		plan_path(s, path, sizeof(path),
			  s->hist[PS_HISTORY - 1].version);
		unlink(path);               /* the 17th plan back goes */
		s->n_hist--;
	}
	memmove(&s->hist[1], &s->hist[0], s->n_hist * sizeof(s->hist[0]));
	s->hist[0] = *e;
	s->n_hist++;
}

/* ------------------------------------------------------------- commit */

/* Point `active` back at the plan in force (or remove it when there is
 * none) after a refused commit may have renamed it; 0 when that is done. */
static int restore_pointer(struct ps_store *s)
{
	char err[512], buf[32], path[2200];
	if (!s->active) {
		snprintf(path, sizeof(path), "%s/active", s->dir);
		return unlink(path) && errno != ENOENT ? -1 : 0;
	}
	int n = snprintf(buf, sizeof(buf), "%u\n", s->active->version);
	return ps_persist_write_small(s->dir, "active", buf, (size_t)n,
				      s->no_fsync, err, sizeof(err));
}

/* Save plan file and `active` pointer, both durable, or neither. */
static int persist_commit(struct ps_store *s, const struct ps_plan_src *src,
			  const struct ps_history_entry *e, char *err,
			  size_t errlen)
{
	char f[64], active[32], path[2200];
	plan_fname(f, sizeof(f), e->version);
	plan_path(s, path, sizeof(path), e->version);
	int alen = snprintf(active, sizeof(active), "%u\n", e->version);
	if (ps_persist_write_plan(s->dir, f, src, e, 0, s->no_fsync, err,
				  errlen)) {
		unlink(path);
		return -1;
	}
	if (ps_persist_write_small(s->dir, "active", active, (size_t)alen,
				   s->no_fsync, err, errlen) == 0)
		return 0;
	/* the pointer may already name the new plan: point it back */
	if (restore_pointer(s) == 0) {
		unlink(path);
		return -1;
	}
	/* the disk may name the refused plan at the next start: keep its
	 * file so that start finds a whole plan, and never reuse its number */
	s->next_version = e->version + 1;
	size_t k = strlen(err);
	snprintf(err + k, errlen - k, "; the state directory could not be "
		 "pointed back at the plan in force");
	return -1;
}

/* A copy of the model for the store: made before anything is published,
 * so the model never lags behind the plan in force. */
static int copy_model(struct ps_plan_src *dst, const struct ps_plan_src *src)
{
	if (ps_fault_hit(PS_FAULT_MODEL_COPY))
		return -1;
	return ps_plan_src_copy(dst, src);
}

int ps_store_commit_src(struct ps_store *s, const struct ps_plan_src *src,
			const char *origin, struct ps_errors *errs,
			uint32_t *version)
{
	char err[768];
	uint32_t v = s->next_version;
	struct ps_plan_src model;
	struct ps_plan *np = ps_plan_compile(src, v, errs);
	if (!np)
		return -1;
	if (copy_model(&model, src)) {
		ps_plan_free(np);
		ps_errors_add(errs, "commit", 0, "refused, the plan in force "
			      "stays: out of memory copying the plan's model");
		return -1;
	}
	struct ps_history_entry e = {
		.version = v, .committed_ms = np->committed_ms,
		.hubs = (uint32_t)src->n_hubs,
		.routes = (uint32_t)src->n_routes,
		.rules = (uint32_t)src->n_rules,
	};
	snprintf(e.name, sizeof(e.name), "%s", src->name);
	snprintf(e.origin, sizeof(e.origin), "%s", origin);
	/* persist first: if the disk refuses, nothing changes */
	if (persist_commit(s, src, &e, err, sizeof(err))) {
		ps_plan_src_free(&model);
		ps_plan_free(np);
		ps_errors_add(errs, "commit", 0, "refused, the plan in force "
			      "stays: %s", err);
		return -1;
	}
	/* from here on nothing can fail */
	if (s->have_src)
		ps_plan_src_free(&s->active_src);
	s->active_src = model;
	s->have_src = 1;
	s->next_version = v + 1;
	history_push(s, &e);
	np->published_ns = ps_mono_ns();
	struct ps_plan *old = rcu_xchg_pointer(&s->active, np);
	synchronize_rcu();                 /* every core has moved on */
	ps_plan_free(old);
	if (version)
		*version = v;
	return 0;
}

/* ----------------------------------------------------------- schedule */

static void schedule_path(const struct ps_store *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s/scheduled.plan", s->dir);
}

static void schedule_reset_attempts(struct ps_store *s)
{
	s->sched_attempts = 0;
	s->sched_next_try = 0;
	s->sched_error[0] = 0;
}

/* Forget the pending schedule and its file. */
static void schedule_drop(struct ps_store *s)
{
	char path[2200];
	if (!s->sched)
		return;
	ps_plan_src_free(&s->sched_src);
	s->sched = 0;
	schedule_reset_attempts(s);
	schedule_path(s, path, sizeof(path));
	unlink(path);
}

static int schedule_save(struct ps_store *s, const struct ps_plan_src *src,
			 const char *origin, uint64_t at_ms, char *err,
			 size_t errlen)
{
	struct ps_history_entry e = { .version = 0 };
	snprintf(e.origin, sizeof(e.origin), "%s", origin);
	return ps_persist_write_plan(s->dir, "scheduled.plan", src, &e, at_ms,
				     s->no_fsync, err, errlen);
}

static int schedule_src(struct ps_store *s, const struct ps_plan_src *src,
			const char *origin, uint64_t at_ms,
			struct ps_errors *errs)
{
	char err[512], path[2200];
	struct ps_plan_src copy;
	/* compile once to be sure it can be built when its time comes */
	struct ps_plan *probe = ps_plan_compile(src, 0, errs);
	if (!probe)
		return -1;
	ps_plan_free(probe);
	if (ps_plan_src_copy(&copy, src)) {
		ps_errors_add(errs, "schedule", 0, "refused: out of memory");
		return -1;
	}
	if (schedule_save(s, src, origin, at_ms, err, sizeof(err))) {
		ps_plan_src_free(&copy);
		ps_errors_add(errs, "schedule", 0, "refused: %s", err);
		/* the file may have been replaced: put the pending one back */
		if (s->sched)
			schedule_save(s, &s->sched_src, s->sched_origin,
				      s->sched_at, err, sizeof(err));
		else {
			schedule_path(s, path, sizeof(path));
			unlink(path);
		}
		return -1;
	}
	if (s->sched)
		ps_plan_src_free(&s->sched_src);
	s->sched_src = copy;
	s->sched = 1;
	s->sched_at = at_ms;
	snprintf(s->sched_origin, sizeof(s->sched_origin), "%s", origin);
	schedule_reset_attempts(s);
	return 0;
}

static int commit_or_schedule(struct ps_store *s,
			      const struct ps_plan_src *src,
			      const char *origin, uint64_t at_ms,
			      struct ps_errors *errs, uint32_t *version)
{
	if (version)
		*version = 0;
	if (at_ms > ps_now_ms())
		return schedule_src(s, src, origin, at_ms, errs);
	return ps_store_commit_src(s, src, origin, errs, version);
}

int ps_store_load_text(struct ps_store *s, const char *text, size_t len,
		       const char *name, uint64_t at_ms,
		       struct ps_errors *errs, uint32_t *version)
{
	return ps_store_load_text_as(s, text, len, name, NULL, at_ms, errs,
				     version);
}

int ps_store_load_text_as(struct ps_store *s, const char *text, size_t len,
			  const char *name, const char *by, uint64_t at_ms,
			  struct ps_errors *errs, uint32_t *version)
{
	struct ps_plan_src src;
	char origin[128];
	ps_plan_src_init(&src);
	pthread_mutex_lock(&s->lock);
	int rc = ps_plan_parse(&src, text, len, name, errs);
	if (rc == 0) {
		if (by)
			snprintf(origin, sizeof(origin), "%s", by);
		else
			snprintf(origin, sizeof(origin), "load %s", name);
		rc = commit_or_schedule(s, &src, origin, at_ms, errs, version);
	}
	pthread_mutex_unlock(&s->lock);
	ps_plan_src_free(&src);
	return rc;
}

int ps_store_load_file(struct ps_store *s, const char *path, uint64_t at_ms,
		       struct ps_errors *errs, uint32_t *version)
{
	struct ps_plan_src src;
	char origin[128];
	ps_plan_src_init(&src);
	pthread_mutex_lock(&s->lock);
	int rc = ps_plan_parse_file(&src, path, errs);
	if (rc == 0) {
		snprintf(origin, sizeof(origin), "load %s", path);
		rc = commit_or_schedule(s, &src, origin, at_ms, errs, version);
	}
	pthread_mutex_unlock(&s->lock);
	ps_plan_src_free(&src);
	return rc;
}

int ps_store_rollback(struct ps_store *s, uint32_t version,
		      struct ps_errors *errs, uint32_t *new_version)
{
	pthread_mutex_lock(&s->lock);
	int rc = -1;
	if (version == 0) {
		if (s->n_hist < 2) {
			ps_errors_add(errs, "rollback", 0, "no earlier plan in "
				      "the history");
			goto out;
		}
		version = s->hist[1].version;
	}
	unsigned i;
	for (i = 0; i < s->n_hist && s->hist[i].version != version; i++)
		;
	if (i == s->n_hist) {
		ps_errors_add(errs, "rollback", 0, "version %u is not among the "
			      "last %d committed plans", version, PS_HISTORY);
		goto out;
	}
	char path[2200], origin[128];
	plan_path(s, path, sizeof(path), version);
	struct ps_plan_src src;
	struct ps_history_entry meta;
	if (ps_persist_read_plan(path, &src, &meta, NULL, errs))
		goto out;
	snprintf(origin, sizeof(origin), "rollback to %u", version);
	rc = ps_store_commit_src(s, &src, origin, errs, new_version);
	ps_plan_src_free(&src);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Remember why an activation failed (errs from index `from` on) and when
 * to try again: 1 s after the first failure, doubling, at most 60 s. */
static void schedule_failed(struct ps_store *s, uint64_t now_ms,
			    const struct ps_errors *errs, size_t from)
{
	size_t k = 0;
	s->sched_error[0] = 0;
	for (size_t i = from; i < errs->n && k + 1 < sizeof(s->sched_error);
	     i++)
		k += (size_t)snprintf(s->sched_error + k,
				      sizeof(s->sched_error) - k, "%s%s",
				      k ? "; " : "", errs->msg[i]);
	if (!s->sched_error[0])
		snprintf(s->sched_error, sizeof(s->sched_error), "activation "
			 "failed");
	unsigned shift = s->sched_attempts < 7 ? s->sched_attempts : 7;
	uint64_t delay = (uint64_t)PS_SCHED_RETRY_MIN_MS << shift;
	if (delay > PS_SCHED_RETRY_MAX_MS)
		delay = PS_SCHED_RETRY_MAX_MS;
	s->sched_attempts++;
	s->sched_next_try = now_ms + delay;
}

int ps_store_tick(struct ps_store *s, uint64_t now_ms, struct ps_errors *errs)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (s->sched && now_ms >= s->sched_at &&
	    now_ms >= s->sched_next_try) {
		char origin[160];
		size_t from = errs->n;
		snprintf(origin, sizeof(origin), "scheduled %s",
			 s->sched_origin);
		origin[127] = 0;
		if (ps_store_commit_src(s, &s->sched_src, origin, errs,
					NULL) == 0) {
			schedule_drop(s);
			rc = 1;
		} else {
			/* stays pending, file and all: retried later */
			schedule_failed(s, now_ms, errs, from);
			ps_errors_add(errs, "scheduled plan", 0, "activation "
				      "attempt %u failed; next try in %llu s",
				      s->sched_attempts, (unsigned long long)
				      (s->sched_next_try - now_ms) / 1000);
			rc = -1;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void ps_store_schedule_info(struct ps_store *s, struct ps_schedule_info *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if (s->sched) {
		out->pending = 1;
		out->at_ms = s->sched_at;
		snprintf(out->name, sizeof(out->name), "%s", s->sched_src.name);
		snprintf(out->origin, sizeof(out->origin), "%s",
			 s->sched_origin);
		out->attempts = s->sched_attempts;
		out->next_try_ms = s->sched_next_try;
		snprintf(out->last_error, sizeof(out->last_error), "%s",
			 s->sched_error);
	}
	pthread_mutex_unlock(&s->lock);
}

int ps_store_scheduled(struct ps_store *s, uint64_t *at_ms, char *name,
		       size_t name_len)
{
	struct ps_schedule_info si;
	ps_store_schedule_info(s, &si);
	if (si.pending) {
		*at_ms = si.at_ms;
		if (name)
			snprintf(name, name_len, "%s", si.name);
	}
	return si.pending;
}

unsigned ps_store_history(struct ps_store *s, struct ps_history_entry *out)
{
	pthread_mutex_lock(&s->lock);
	unsigned n = s->n_hist;
	memcpy(out, s->hist, n * sizeof(*out));
	pthread_mutex_unlock(&s->lock);
	return n;
}

void ps_store_info(struct ps_store *s, struct ps_plan_info *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	const struct ps_plan *p = s->active;
	if (p) {
		out->have = 1;
		out->version = p->version;
		snprintf(out->name, sizeof(out->name), "%s", p->name);
		out->committed_ms = p->committed_ms;
		out->published_ns = p->published_ns;
		out->bytes = p->bytes;
		for (unsigned i = 0; i < s->n_hist; i++) {
			const struct ps_history_entry *h = &s->hist[i];
			if (h->version != p->version)
				continue;
			snprintf(out->origin, sizeof(out->origin), "%s",
				 h->origin);
			out->committed_ms = h->committed_ms;
			out->hubs = h->hubs;
			out->routes = h->routes;
			out->rules = h->rules;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

int ps_store_active_src(struct ps_store *s, struct ps_plan_src *out,
			uint32_t *version)
{
	pthread_mutex_lock(&s->lock);
	int rc = -1;
	if (s->have_src && s->active) {
		rc = ps_plan_src_copy(out, &s->active_src);
		if (version)
			*version = s->active->version;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* -------------------------------------------------------- open, close */

static int by_version_desc(const void *a, const void *b)
{
	const struct ps_history_entry *x = a, *y = b;
	return (x->version < y->version) - (x->version > y->version);
}

/* Read the history from plan-*.plan files; returns the highest version. */
static uint32_t scan_history(struct ps_store *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	struct ps_history_entry *all = NULL;
	size_t n = 0, cap = 0;
	uint32_t max = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned v;
		char tail;
		if (sscanf(de->d_name, "plan-%u.plan%c", &v, &tail) != 1)
			continue;
		char path[2400];
		struct ps_history_entry e;
		snprintf(path, sizeof(path), "%s/%s", s->dir, de->d_name);
		if (v > max)
			max = v;
		if (ps_persist_read_meta(path, &e) || e.version != v)
			continue;                /* damaged: not offered */
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			void *a = realloc(all, cap * sizeof(*all));
			if (!a)
				break;
			all = a;
		}
		all[n++] = e;
	}
	closedir(d);
	if (n)
		qsort(all, n, sizeof(*all), by_version_desc);
	s->n_hist = 0;
	for (size_t i = 0; i < n; i++) {
		if (i < PS_HISTORY) {
			s->hist[s->n_hist++] = all[i];
		} else {
			char path[2200];
			plan_path(s, path, sizeof(path), all[i].version);
			unlink(path);
		}
	}
	free(all);
	return max;
}

/* A plan file newer than the active plan is a commit that was persisted
 * but never activated (the process died in between): it never decided a
 * parcel, so it is removed rather than offered as history. Its version
 * number stays used. */
static void drop_interrupted(struct ps_store *s, uint32_t active)
{
	unsigned k = 0;
	for (unsigned i = 0; i < s->n_hist; i++) {
		if (s->hist[i].version > active) {
			char path[2200];
			plan_path(s, path, sizeof(path), s->hist[i].version);
			unlink(path);
			continue;
		}
		s->hist[k++] = s->hist[i];
	}
	s->n_hist = k;
}

/* Restore the active plan. 0 restored, 1 nothing to restore, -1 damaged. */
static int restore_active(struct ps_store *s, char *why, size_t wl)
{
	char path[2200], buf[64];
	snprintf(path, sizeof(path), "%s/active", s->dir);
	long n = ps_persist_read_small(path, buf, sizeof(buf));
	if (n < 0 && errno == ENOENT)
		return 1;
	char *end;
	unsigned long v = n > 0 ? strtoul(buf, &end, 10) : 0;
	if (n <= 0 || v == 0 || v > UINT32_MAX || *end != '\n') {
		snprintf(why, wl, "state file %s is damaged", path);
		return -1;
	}
	plan_path(s, path, sizeof(path), (uint32_t)v);
	struct ps_errors errs;
	struct ps_history_entry meta;
	struct ps_plan_src src;
	ps_errors_init(&errs);
	if (ps_persist_read_plan(path, &src, &meta, NULL, &errs)) {
		snprintf(why, wl, "%s", errs.n ? errs.msg[0] : path);
		ps_errors_free(&errs);
		return -1;
	}
	struct ps_plan *p = ps_plan_compile(&src, (uint32_t)v, &errs);
	if (!p) {
		snprintf(why, wl, "%s", errs.n ? errs.msg[0] : "compile failed");
		ps_errors_free(&errs);
		ps_plan_src_free(&src);
		return -1;
	}
	ps_errors_free(&errs);
	p->committed_ms = meta.committed_ms;
	s->active_src = src;
	s->have_src = 1;
	rcu_assign_pointer(s->active, p);
	return 0;
}

static void restore_schedule(struct ps_store *s)
{
	char path[2200];
	struct ps_errors errs;
	struct ps_history_entry meta;
	uint64_t at = 0;
	snprintf(path, sizeof(path), "%s/scheduled.plan", s->dir);
	ps_errors_init(&errs);
	if (ps_persist_read_plan(path, &s->sched_src, &meta, &at, &errs) == 0) {
		s->sched = 1;
		s->sched_at = at;
		snprintf(s->sched_origin, sizeof(s->sched_origin), "%s",
			 meta.origin);
	}
	ps_errors_free(&errs);
}

struct ps_store *ps_store_open(const struct ps_store_cfg *cfg,
			       struct ps_errors *errs, char *warn,
			       size_t warn_len)
{
	struct ps_store *s = calloc(1, sizeof(*s));
	if (warn && warn_len)
		warn[0] = 0;
	if (!s) {
		ps_errors_add(errs, "state", 0, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->no_fsync = cfg->no_fsync;
	ps_chutes_init(&s->chutes);
	if (!cfg->state_dir || strlen(cfg->state_dir) >= sizeof(s->dir)) {
		ps_errors_add(errs, "state", 0, "a state directory is required");
		goto fail;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", cfg->state_dir);
	if (mkdir(s->dir, 0750) && errno != EEXIST) {
		ps_errors_add(errs, s->dir, 0, "cannot create the state "
			      "directory: %s", strerror(errno));
		goto fail;
	}
	struct stat st;
	if (stat(s->dir, &st) || !S_ISDIR(st.st_mode)) {
		ps_errors_add(errs, s->dir, 0, "not a directory");
		goto fail;
	}
	s->next_version = scan_history(s) + 1;
	ps_store_load_chutes(s);
	char why[600];
	int r = restore_active(s, why, sizeof(why));
	if (r == 0)
		drop_interrupted(s, s->active->version);
	if (r < 0 && warn)
		snprintf(warn, warn_len, "%s; starting %s", why,
			 cfg->initial_plan ? "from the --plan file"
					   : "with no plan (NO_PLAN)");
	if (r != 0 && cfg->initial_plan) {
		if (ps_store_load_file(s, cfg->initial_plan, 0, errs, NULL))
			goto fail;
	}
	restore_schedule(s);
	ps_store_load_holds(s, warn, warn_len);
	return s;
fail:
	ps_store_close(s);
	return NULL;
}

void ps_store_close(struct ps_store *s)
{
	if (!s)
		return;
	/* both taken out, then one grace period for both, then freed */
	struct ps_plan *old = rcu_xchg_pointer(&s->active, NULL);
	struct ps_holds *old_holds = rcu_xchg_pointer(&s->holds, NULL);
	synchronize_rcu();
	ps_plan_free(old);
	ps_holds_free(old_holds);
	ps_store_free_holds(s);
	if (s->have_src)
		ps_plan_src_free(&s->active_src);
	if (s->sched)
		ps_plan_src_free(&s->sched_src);
	if (s->txn)
		ps_plan_src_free(&s->txn_src);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
