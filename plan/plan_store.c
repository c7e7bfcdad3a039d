/* plan_store.c: commit path of sort plans (validate, compile, persist,
 * publish by RCU, free after a grace period), history and rollback,
 * scheduled activation, staged edits and chute state. */
#include "plan_store.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plan_persist.h"

struct ps_store {
	pthread_mutex_t lock;
	char dir[2048];
	int no_fsync;
	struct ps_plan *active;            /* RCU-protected */
	struct ps_plan_src active_src;
	int have_src;
	uint32_t next_version;
	struct ps_history_entry hist[PS_HISTORY];  /* newest first */
	unsigned n_hist;
	/* pending schedule */
	int sched;
	uint64_t sched_at;
	struct ps_plan_src sched_src;
	char sched_origin[128];
	/* staged edits */
	int txn;
	struct ps_plan_src txn_src;
	struct ps_chute_state chutes;
};

uint64_t ps_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ps_plan **ps_store_plan_slot(struct ps_store *s)
{
	return &s->active;
}

struct ps_chute_state *ps_store_chutes(struct ps_store *s)
{
	return &s->chutes;
}

static void plan_fname(char *buf, size_t n, uint32_t version)
{
	snprintf(buf, n, "plan-%010u.plan", version);
}

/* ------------------------------------------------------------ history */

static void history_push(struct ps_store *s, const struct ps_history_entry *e)
{
	if (s->n_hist == PS_HISTORY) {
		char f[64], path[2200];
		plan_fname(f, sizeof(f), s->hist[PS_HISTORY - 1].version);
		snprintf(path, sizeof(path), "%s/%s", s->dir, f);
		unlink(path);               /* the 17th plan back goes */
		s->n_hist--;
	}
	memmove(&s->hist[1], &s->hist[0], s->n_hist * sizeof(s->hist[0]));
	s->hist[0] = *e;
	s->n_hist++;
}

/* ------------------------------------------------------------- commit */

/* The one way a plan becomes active. src must be validated. */
static int commit_src(struct ps_store *s, const struct ps_plan_src *src,
		      const char *origin, struct ps_errors *errs,
		      uint32_t *version)
{
	char err[512], f[64];
	uint32_t v = s->next_version;
	struct ps_plan *np = ps_plan_compile(src, v, errs);
	if (!np)
		return -1;
	struct ps_history_entry e = {
		.version = v, .committed_ms = np->committed_ms,
		.hubs = (uint32_t)src->n_hubs,
		.routes = (uint32_t)src->n_routes,
		.rules = (uint32_t)src->n_rules,
	};
	snprintf(e.name, sizeof(e.name), "%s", src->name);
	snprintf(e.origin, sizeof(e.origin), "%s", origin);
	plan_fname(f, sizeof(f), v);
	char active[32];
	int alen = snprintf(active, sizeof(active), "%u\n", v);
	/* persist first: if the disk refuses, nothing changes */
	if (ps_persist_write_plan(s->dir, f, src, &e, 0, s->no_fsync, err,
				  sizeof(err)) ||
	    ps_persist_write_small(s->dir, "active", active, (size_t)alen,
				   s->no_fsync, err, sizeof(err))) {
		char path[2200];
		snprintf(path, sizeof(path), "%s/%s", s->dir, f);
		unlink(path);
		ps_plan_free(np);
		ps_errors_add(errs, "commit", 0, "refused, the plan in force "
			      "stays: %s", err);
		return -1;
	}
	struct ps_plan_src copy;
	if (ps_plan_src_copy(&copy, src) == 0) {
		if (s->have_src)
			ps_plan_src_free(&s->active_src);
		s->active_src = copy;
		s->have_src = 1;
	}
	s->next_version = v + 1;
	history_push(s, &e);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	np->published_ns = (uint64_t)ts.tv_sec * 1000000000u +
			   (uint64_t)ts.tv_nsec;
	struct ps_plan *old = rcu_xchg_pointer(&s->active, np);
	synchronize_rcu();                 /* every core has moved on */
	ps_plan_free(old);
	if (version)
		*version = v;
	return 0;
}

static int schedule_src(struct ps_store *s, const struct ps_plan_src *src,
			const char *origin, uint64_t at_ms,
			struct ps_errors *errs)
{
	char err[512];
	struct ps_history_entry e = { .version = 0 };
	snprintf(e.origin, sizeof(e.origin), "%s", origin);
	/* compile once to be sure it can be built when its time comes */
	struct ps_plan *probe = ps_plan_compile(src, 0, errs);
	if (!probe)
		return -1;
	ps_plan_free(probe);
	if (ps_persist_write_plan(s->dir, "scheduled.plan", src, &e, at_ms,
				  s->no_fsync, err, sizeof(err))) {
		ps_errors_add(errs, "schedule", 0, "refused: %s", err);
		return -1;
	}
	if (s->sched)
		ps_plan_src_free(&s->sched_src);
	if (ps_plan_src_copy(&s->sched_src, src)) {
		s->sched = 0;
		ps_errors_add(errs, "schedule", 0, "out of memory");
		return -1;
	}
	s->sched = 1;
	s->sched_at = at_ms;
	snprintf(s->sched_origin, sizeof(s->sched_origin), "%s", origin);
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
	return commit_src(s, src, origin, errs, version);
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
	char f[64], path[2200], origin[128];
	plan_fname(f, sizeof(f), version);
	snprintf(path, sizeof(path), "%s/%s", s->dir, f);
	struct ps_plan_src src;
	struct ps_history_entry meta;
	if (ps_persist_read_plan(path, &src, &meta, NULL, errs))
		goto out;
	snprintf(origin, sizeof(origin), "rollback to %u", version);
	rc = commit_src(s, &src, origin, errs, new_version);
	ps_plan_src_free(&src);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ps_store_tick(struct ps_store *s, uint64_t now_ms, struct ps_errors *errs)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (s->sched && now_ms >= s->sched_at) {
		char origin[160];
		snprintf(origin, sizeof(origin), "scheduled %s",
			 s->sched_origin);
		origin[127] = 0;
		rc = commit_src(s, &s->sched_src, origin, errs, NULL) ? -1 : 1;
		/* activated or refused: either way the schedule is spent */
		ps_plan_src_free(&s->sched_src);
		s->sched = 0;
		char path[2200];
		snprintf(path, sizeof(path), "%s/scheduled.plan", s->dir);
		unlink(path);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ps_store_scheduled(struct ps_store *s, uint64_t *at_ms, char *name,
		       size_t name_len)
{
	pthread_mutex_lock(&s->lock);
	int r = s->sched;
	if (r) {
		*at_ms = s->sched_at;
		if (name)
			snprintf(name, name_len, "%s", s->sched_src.name);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
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

/* ------------------------------------------------------- staged edits */

int ps_txn_open(struct ps_store *s)
{
	pthread_mutex_lock(&s->lock);
	int r = s->txn;
	pthread_mutex_unlock(&s->lock);
	return r;
}

int ps_txn_src(struct ps_store *s, struct ps_plan_src *out)
{
	pthread_mutex_lock(&s->lock);
	int rc = s->txn ? ps_plan_src_copy(out, &s->txn_src) : -1;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ps_txn_begin(struct ps_store *s, struct ps_errors *errs)
{
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	if (s->txn) {
		ps_errors_add(errs, "begin", 0, "a transaction is already open "
			      "(commit or abort it first)");
	} else if (s->have_src) {
		if (ps_plan_src_copy(&s->txn_src, &s->active_src) == 0) {
			s->txn = 1;
			rc = 0;
		} else {
			ps_errors_add(errs, "begin", 0, "out of memory");
		}
	} else {
		/* no plan yet: edits build one from nothing */
		ps_plan_src_init(&s->txn_src);
		s->txn = 1;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Merge what one parsed line defined into the staged model (replacing an
 * entry with the same key). */
static int merge(struct ps_plan_src *dst, const struct ps_plan_src *add)
{
	if (add->line_plan) {
		memcpy(dst->name, add->name, sizeof(dst->name));
		dst->line_plan = 1;
	}
	if (add->line_site) {
		dst->site = add->site;
		dst->site_prefix = add->site_prefix;
		dst->site_digits = add->site_digits;
		dst->line_site = 1;
	}
	if (add->line_reject) {
		dst->reject = add->reject;
		dst->line_reject = 1;
	}
	if (add->has_default) {
		if (ps_plan_add_chutes(dst, ps_plan_chutes(add,
				       add->default_chutes),
				       add->default_chutes.n,
				       &dst->default_chutes))
			return -1;
		dst->default_hub = add->default_hub;
		dst->has_default = 1;
		dst->line_default = 1;
	}
	for (size_t i = 0; i < add->n_hubs; i++) {
		const struct ps_hub_src *h = &add->hubs[i];
		long k = ps_plan_find_hub(dst, h->id);
		if (k >= 0)
			ps_plan_del_hub(dst, (size_t)k);
		const char *n = ps_plan_hub_name(add, h);
		if (ps_plan_add_hub(dst, h->id, h->tier, n, strlen(n), 0))
			return -1;
	}
	for (size_t i = 0; i < add->n_routes; i++) {
		struct ps_route_src r = add->routes[i];
		long k = ps_plan_find_route(dst, r.prefix, r.digits);
		if (k >= 0)
			ps_plan_del_route(dst, (size_t)k);
		r.line = 0;
		if (ps_plan_add_chutes(dst, ps_plan_chutes(add, r.chutes),
				       r.chutes.n, &r.chutes) ||
		    ps_plan_add_route(dst, &r))
			return -1;
	}
	for (size_t i = 0; i < add->n_rules; i++) {
		struct ps_rule_src r = add->rules[i];
		long k = ps_plan_find_rule(dst, r.priority);
		if (k >= 0)
			ps_plan_del_rule(dst, (size_t)k);
		r.line = 0;
		if (ps_plan_add_chutes(dst, ps_plan_chutes(add, r.chutes),
				       r.chutes.n, &r.chutes) ||
		    ps_plan_add_rule(dst, &r, add->conds + r.cond_off))
			return -1;
	}
	return 0;
}

int ps_txn_apply(struct ps_store *s, const char *line, struct ps_errors *errs)
{
	struct ps_plan_src add;
	int rc = -1;
	ps_plan_src_init(&add);
	pthread_mutex_lock(&s->lock);
	if (!s->txn) {
		ps_errors_add(errs, "edit", 0, "no transaction is open (begin "
			      "one first)");
	} else if (strchr(line, '\n')) {
		ps_errors_add(errs, "edit", 0, "one directive per edit");
	} else if (ps_plan_parse_lines(&add, line, strlen(line), "edit",
				       errs) == 0) {
		rc = merge(&s->txn_src, &add);
		if (rc)
			ps_errors_add(errs, "edit", 0, "out of memory");
	}
	pthread_mutex_unlock(&s->lock);
	ps_plan_src_free(&add);
	return rc;
}

int ps_txn_delete(struct ps_store *s, enum ps_txn_del what, const char *key,
		  struct ps_errors *errs)
{
	int rc = -1;
	uint64_t v;
	uint8_t digits;
	char *end;
	pthread_mutex_lock(&s->lock);
	struct ps_plan_src *p = &s->txn_src;
	long k = -1;
	if (!s->txn) {
		ps_errors_add(errs, "edit", 0, "no transaction is open (begin "
			      "one first)");
		goto out;
	}
	switch (what) {
	case PS_DEL_ROUTE:
		if (ps_parse_prefix(key, strlen(key), &v, &digits)) {
			ps_errors_add(errs, "edit", 0, "bad route prefix '%s'",
				      key);
			goto out;
		}
		k = ps_plan_find_route(p, v, digits);
		if (k >= 0)
			ps_plan_del_route(p, (size_t)k);
		break;
	case PS_DEL_RULE:
	case PS_DEL_HUB:
		errno = 0;
		v = strtoull(key, &end, 10);
		if (!*key || *end || errno ||
		    v > (what == PS_DEL_RULE ? 65535u : UINT32_MAX)) {
			ps_errors_add(errs, "edit", 0, "bad %s '%s'",
				      what == PS_DEL_RULE ? "priority" : "hub id",
				      key);
			goto out;
		}
		k = what == PS_DEL_RULE ? ps_plan_find_rule(p, (uint16_t)v)
					: ps_plan_find_hub(p, (uint32_t)v);
		if (k >= 0 && what == PS_DEL_RULE)
			ps_plan_del_rule(p, (size_t)k);
		else if (k >= 0)
			ps_plan_del_hub(p, (size_t)k);
		break;
	case PS_DEL_DEFAULT:
		k = p->has_default ? 0 : -1;
		p->has_default = 0;
		p->line_default = 0;
		break;
	}
	if (k < 0)
		ps_errors_add(errs, "edit", 0, "nothing to delete: '%s' is not "
			      "in the staged plan", key);
	else
		rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ps_txn_commit(struct ps_store *s, struct ps_errors *errs,
		  uint32_t *version)
{
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	if (!s->txn) {
		ps_errors_add(errs, "commit", 0, "no transaction is open");
	} else if (ps_plan_validate(&s->txn_src, "staged", errs) == 0) {
		rc = commit_src(s, &s->txn_src, "edit", errs, version);
		if (rc == 0) {
			ps_plan_src_free(&s->txn_src);
			s->txn = 0;
		}
	}
	/* a refused commit leaves the transaction open to fix or abort */
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ps_txn_abort(struct ps_store *s, struct ps_errors *errs)
{
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	if (!s->txn) {
		ps_errors_add(errs, "abort", 0, "no transaction is open");
	} else {
		ps_plan_src_free(&s->txn_src);
		s->txn = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ------------------------------------------------------------- chutes */

static int save_chutes(struct ps_store *s, char *err, size_t errlen)
{
	char *buf = malloc(65536 * 7 + 64);
	size_t n = 0;
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n += (size_t)sprintf(buf, "# disabled chutes\n");
	for (uint32_t c = 1; c < 65536; c++)
		if (!ps_chute_enabled(&s->chutes, (uint16_t)c))
			n += (size_t)sprintf(buf + n, "%u\n", c);
	int rc = ps_persist_write_small(s->dir, "chutes", buf, n, s->no_fsync,
					err, errlen);
	free(buf);
	return rc;
}

int ps_store_chute_set(struct ps_store *s, const uint16_t *chutes,
		       unsigned n, int enable, struct ps_errors *errs)
{
	char err[512];
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		if (enable)
			ps_chute_enable(&s->chutes, chutes[i]);
		else
			ps_chute_disable(&s->chutes, chutes[i]);
	}
	int rc = save_chutes(s, err, sizeof(err));
	if (rc)
		ps_errors_add(errs, "chutes", 0, "applied but not saved: %s",
			      err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void load_chutes(struct ps_store *s)
{
	char path[2200];
	snprintf(path, sizeof(path), "%s/chutes", s->dir);
	FILE *f = fopen(path, "r");
	char line[64];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long c = strtoul(line, NULL, 10);
		if (c >= 1 && c <= 65535)
			ps_chute_disable(&s->chutes, (uint16_t)c);
	}
	fclose(f);
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
			char f[64], path[2200];
			plan_fname(f, sizeof(f), all[i].version);
			snprintf(path, sizeof(path), "%s/%s", s->dir, f);
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
			char f[64], path[2200];
			plan_fname(f, sizeof(f), s->hist[i].version);
			snprintf(path, sizeof(path), "%s/%s", s->dir, f);
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
	char f[64];
	plan_fname(f, sizeof(f), (uint32_t)v);
	snprintf(path, sizeof(path), "%s/%s", s->dir, f);
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
	load_chutes(s);
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
	return s;
fail:
	ps_store_close(s);
	return NULL;
}

void ps_store_close(struct ps_store *s)
{
	if (!s)
		return;
	struct ps_plan *old = rcu_xchg_pointer(&s->active, NULL);
	synchronize_rcu();
	ps_plan_free(old);
	if (s->have_src)
		ps_plan_src_free(&s->active_src);
	if (s->sched)
		ps_plan_src_free(&s->sched_src);
	if (s->txn)
		ps_plan_src_free(&s->txn_src);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---------------------------------------------------------- explain */

int ps_store_explain(struct ps_store *s, const struct ps_scan *sc,
		     struct ps_explain *e)
{
	memset(e, 0, sizeof(*e));
	e->rule_priority = -1;
	pthread_mutex_lock(&s->lock);    /* no commit frees the plan meanwhile */
	const struct ps_plan *p = s->active;
	if (!p) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	e->have_plan = 1;
	e->version = p->version;
	snprintf(e->plan_name, sizeof(e->plan_name), "%s", p->name);
	int prio;
	uint32_t nhi = ps_plan_explain(p, sc, &prio);
	ps_plan_decide_one(p, &s->chutes, sc, &e->d);
	if (nhi) {
		const struct ps_nh *nh = &p->nh[nhi];
		e->hub = nh->hub;
		e->tier = ps_nh_tier(nh);
		e->rule_priority = prio;
		e->is_default = nhi == p->default_nh && prio < 0;
		if (prio < 0 && !e->is_default) {
			e->route_digits = ps_nh_digits(nh);
			e->route_prefix = ps_nh_prefix(nh) /
					  ps_region_pad(1, ps_nh_digits(nh));
		}
		uint16_t one;
		const uint16_t *c;
		uint16_t n = ps_nh_chutes(p, nh, &one, &c);
		e->n_chutes = n > 64 ? 64 : n;
		for (uint16_t i = 0; i < e->n_chutes; i++) {
			e->chutes[i] = c[i];
			e->enabled[i] = (uint8_t)ps_chute_enabled(&s->chutes, c[i]);
		}
	}
	if (s->have_src) {
		long h = ps_plan_find_hub(&s->active_src, e->hub);
		if (h >= 0)
			snprintf(e->hub_name, sizeof(e->hub_name), "%s",
				 ps_plan_hub_name(&s->active_src,
						  &s->active_src.hubs[h]));
		long r = prio >= 0 ? ps_plan_find_rule(&s->active_src,
						       (uint16_t)prio) : -1;
		if (r >= 0) {
			const struct ps_rule_src *rs = &s->active_src.rules[r];
			size_t k = 0;
			for (uint16_t i = 0; i < rs->n_conds && k < 400; i++) {
				char cond[64];
				ps_format_cond(cond, sizeof(cond),
					       &s->active_src.conds[rs->cond_off + i]);
				k += (size_t)snprintf(e->rule + k, sizeof(e->rule) - k,
						      "%s%s", i ? " " : "", cond);
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

size_t ps_store_plan_bytes(struct ps_store *s)
{
	pthread_mutex_lock(&s->lock);
	size_t b = s->active ? s->active->bytes : 0;
	pthread_mutex_unlock(&s->lock);
	return b;
}
