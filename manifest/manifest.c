/* manifest.c: the manifest handle (manifest.h): the current table behind
 * an atomic pointer (swapped whole by a replace), the writers' mutex, the
 * save-then-apply order of every change, loads refused whole. */
#include "manifest.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_parse.h"
#include "manifest_persist.h"
#include "ps_clock.h"

/* Compact the log into a new snapshot once it is this large and larger
 * than twice the snapshot would be. */
#define COMPACT_MIN_BYTES (64ull << 20)

/* A load in parts under way (the control commands'): its entries staged
 * in a table of their own, its errors kept until the commit. */
struct stage {
	uint64_t token;
	uint64_t last_ms;           /* begun or last part (wall clock) */
	char name[256];
	int replace;
	int full;                   /* more distinct waybills than capacity */
	struct ps_mtable *t;
	uint64_t expires_ms;        /* staged only: the commit sets its own */
	struct ps_mtable_batch batch;   /* flushed at the end of each part */
	struct ps_mparse parse;
	struct ps_errors errs;
};

struct ps_manifest {
	struct ps_mtable *cur;      /* readers: atomic load, acquire */
	pthread_mutex_t wlock;
	pthread_mutex_t slock;      /* the stage (taken before wlock) */
	struct stage *stage;        /* NULL: no load in parts under way */
	uint64_t tokens;
	struct ps_manifest_cfg cfg;
	char *dir;
	uint64_t gen, log_bytes;
	struct ps_manifest_stats st;
};

static uint64_t now_of(const struct ps_manifest *m)
{
	return m->cfg.now_ms ? m->cfg.now_ms() : ps_now_ms();
}

static struct ps_mtable *current(const struct ps_manifest *m)
{
	return __atomic_load_n(&m->cur, __ATOMIC_ACQUIRE);
}

struct ps_manifest *ps_manifest_open(const struct ps_manifest_cfg *cfg,
				     char *err, size_t errlen)
{
	struct ps_manifest *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	if (!m->cfg.capacity)
		m->cfg.capacity = PS_MANIFEST_DEFAULT_CAPACITY;
	if (!m->cfg.ttl_ms)
		m->cfg.ttl_ms = PS_MANIFEST_DEFAULT_TTL_MS;
	pthread_mutex_init(&m->wlock, NULL);
	pthread_mutex_init(&m->slock, NULL);
	m->cur = ps_mtable_new(m->cfg.capacity);
	if (!m->cur) {
		snprintf(err, errlen, "cannot reserve a manifest of %" PRIu64
			 " entries", m->cfg.capacity);
		goto fail;
	}
	if (!cfg->state_dir)
		return m;
	m->dir = strdup(cfg->state_dir);
	if (!m->dir ||
	    ps_mpersist_restore(m->dir, m->cur, now_of(m), &m->gen,
				&m->log_bytes, err, errlen))
		goto fail;
	if (!m->gen) {
		/* a first snapshot (empty) and its log */
		if (ps_mpersist_snapshot(m->dir, 1, m->cur, m->cfg.no_fsync,
					 err, errlen))
			goto fail;
		m->gen = 1;
	}
	ps_mpersist_drop_others(m->dir, m->gen);
	return m;
fail:
	ps_mtable_free(m->cur);
	free(m->dir);
	pthread_mutex_destroy(&m->wlock);
	pthread_mutex_destroy(&m->slock);
	free(m);
	return NULL;
}

static void stage_drop(struct ps_manifest *m);

void ps_manifest_close(struct ps_manifest *m)
{
	if (!m)
		return;
	stage_drop(m);
	pthread_mutex_destroy(&m->slock);
	ps_mtable_free(m->cur);
	free(m->dir);
	pthread_mutex_destroy(&m->wlock);
	free(m);
}

uint64_t ps_manifest_get(const struct ps_manifest *m, const uint8_t *wb,
			 uint64_t now_ms)
{
	return ps_mtable_get(current(m), wb, now_ms);
}

uint64_t ps_manifest_get_expiry(const struct ps_manifest *m,
				const uint8_t *wb, uint64_t now_ms,
				uint64_t *expires_ms)
{
	return ps_mtable_get_expiry(current(m), wb, now_ms, expires_ms);
}

int ps_manifest_empty(const struct ps_manifest *m)
{
	return ps_mtable_count(current(m)) == 0;
}

void ps_manifest_prefetch(const struct ps_manifest *m, const uint8_t *wb)
{
	ps_mtable_prefetch(current(m), wb);
}

void ps_manifest_get_burst(const struct ps_manifest *m,
			   const uint8_t *const *wbs, unsigned n,
			   uint64_t now_ms, uint64_t *regions)
{
	ps_mtable_get_burst(current(m), wbs, n, now_ms, regions);
}

/* ---- saving ---- */

/* After a log record: fold the log into a new snapshot when it grew
 * large. A failure leaves the log in force (the change is saved). */
static void maybe_compact(struct ps_manifest *m)
{
	char err[256];
	uint64_t snap = ps_mtable_count(m->cur) * 40;
	if (m->log_bytes < COMPACT_MIN_BYTES || m->log_bytes < 2 * snap)
		return;
	if (ps_mpersist_snapshot(m->dir, m->gen + 1, m->cur, m->cfg.no_fsync,
				 err, sizeof(err)))
		return;
	m->gen++;
	m->log_bytes = 0;
	ps_mpersist_drop_others(m->dir, m->gen);
}

static struct ps_mlog *log_begin(struct ps_manifest *m, uint64_t n,
				 char *err, size_t errlen)
{
	return ps_mlog_begin(m->dir, m->gen, n, m->cfg.no_fsync, err, errlen);
}

static int log_commit(struct ps_manifest *m, struct ps_mlog *l, char *err,
		      size_t errlen)
{
	return ps_mlog_commit(l, &m->log_bytes, err, errlen);
}

/* ---- single changes ---- */

/* Room for `incoming` new waybills, lapsed entries removed first. */
static int has_room(struct ps_manifest *m, uint64_t incoming)
{
	struct ps_mtable *t = m->cur;
	if (ps_mtable_count(t) + incoming <= ps_mtable_capacity(t))
		return 1;
	m->st.lapsed += ps_mtable_expire(t, now_of(m));
	return ps_mtable_count(t) + incoming <= ps_mtable_capacity(t);
}

int ps_manifest_add(struct ps_manifest *m, const uint8_t *wb,
		    uint64_t region, char *err, size_t errlen)
{
	int rc = PS_MF_OK;
	pthread_mutex_lock(&m->wlock);
	uint64_t exp = now_of(m) + m->cfg.ttl_ms;
	if (!ps_mtable_has(m->cur, wb) && !has_room(m, 1)) {
		snprintf(err, errlen, "the manifest is full (%" PRIu64
			 " entries)", ps_mtable_capacity(m->cur));
		m->st.refused_full++;
		rc = PS_MF_FULL;
		goto out;
	}
	if (m->dir) {
		struct ps_mlog *l = log_begin(m, 1, err, errlen);
		if (!l) {
			rc = PS_MF_DISK;
			goto out;
		}
		ps_mlog_put(l, wb, region, exp);
		if (log_commit(m, l, err, errlen)) {
			rc = PS_MF_DISK;
			goto out;
		}
	}
	ps_mtable_put(m->cur, wb, region, exp);
	m->st.adds++;
	if (m->dir)
		maybe_compact(m);
out:
	pthread_mutex_unlock(&m->wlock);
	return rc;
}

int ps_manifest_del(struct ps_manifest *m, const uint8_t *const *wbs,
		    unsigned n, unsigned *removed, char *err, size_t errlen)
{
	int rc = PS_MF_OK;
	*removed = 0;
	pthread_mutex_lock(&m->wlock);
	if (m->dir) {
		struct ps_mlog *l = log_begin(m, n, err, errlen);
		if (!l) {
			rc = PS_MF_DISK;
			goto out;
		}
		for (unsigned i = 0; i < n; i++)
			ps_mlog_del(l, wbs[i]);
		if (log_commit(m, l, err, errlen)) {
			rc = PS_MF_DISK;
			goto out;
		}
	}
	for (unsigned i = 0; i < n; i++)
		*removed += (unsigned)ps_mtable_del(m->cur, wbs[i]);
	m->st.dels += *removed;
	if (m->dir)
		maybe_compact(m);
out:
	pthread_mutex_unlock(&m->wlock);
	return rc;
}

/* ---- loads ---- */


struct staging {
	struct ps_mtable *t;
	uint64_t expires_ms;        /* staged only: the commit sets its own */
	struct ps_mtable_batch batch;   /* lines put 16 at a time */
	int full;                   /* more distinct waybills than capacity */
};

/* A line staged; once over capacity the rest of the file is still read,
 * so that every bad line in it is reported with the refusal. */
static int stage_line(void *arg, const uint8_t *wb, uint64_t region,
		      uint32_t line)
{
	struct staging *s = arg;
	(void)line;
	if (!s->full &&
	    ps_mtable_batch_put(&s->batch, wb, region, s->expires_ms))
		s->full = 1;
	return 0;
}

struct count_new {
	const struct ps_mtable *live;
	uint64_t n;
};

static void count_new(void *arg, const uint8_t *wb, uint64_t region,
		      uint64_t exp)
{
	struct count_new *c = arg;
	(void)region;
	(void)exp;
	if (!ps_mtable_has(c->live, wb))
		c->n++;
}

/* The staged entries go into force with the commit's expiry: an entry
 * lapses a TTL after it was added, and a load's entries are added when it
 * is committed, however long its parts took. */
struct at_commit {
	void *to;                   /* a log record, or the live table */
	uint64_t expires_ms;
};

static void log_entry(void *arg, const uint8_t *wb, uint64_t region,
		      uint64_t exp)
{
	struct at_commit *a = arg;
	(void)exp;
	ps_mlog_put(a->to, wb, region, a->expires_ms);
}

static void apply_entry(void *arg, const uint8_t *wb, uint64_t region,
			uint64_t exp)
{
	struct at_commit *a = arg;
	(void)exp;
	ps_mtable_put(a->to, wb, region, a->expires_ms);
}

/* Add the staged entries to the live table (saved first). */
static int load_add(struct ps_manifest *m, struct ps_mtable *staged,
		    uint64_t exp, const char *name, struct ps_errors *errs,
		    struct ps_manifest_load_result *res)
{
	char err[512];
	struct count_new c = { m->cur, 0 };
	ps_mtable_each(staged, count_new, &c);
	if (!has_room(m, c.n)) {
		c.n = 0;
		ps_mtable_each(staged, count_new, &c); /* lapsed ones gone */
	}
	if (!has_room(m, c.n)) {
		ps_errors_add(errs, name, 0, "refused: %" PRIu64 " new waybills "
			      "and %" PRIu64 " entries exceed the capacity %"
			      PRIu64, c.n, ps_mtable_count(m->cur),
			      ps_mtable_capacity(m->cur));
		m->st.refused_full++;
		return PS_MF_FULL;
	}
	if (m->dir) {
		struct ps_mlog *l = log_begin(m, ps_mtable_count(staged), err,
					      sizeof(err));
		if (!l) {
			ps_errors_add(errs, name, 0, "%s", err);
			return PS_MF_DISK;
		}
		struct at_commit to_log = { l, exp };
		ps_mtable_each(staged, log_entry, &to_log);
		if (log_commit(m, l, err, sizeof(err))) {
			ps_errors_add(errs, name, 0, "%s", err);
			return PS_MF_DISK;
		}
	}
	struct at_commit to_live = { m->cur, exp };
	ps_mtable_each(staged, apply_entry, &to_live);
	res->added = c.n;
	res->replaced = ps_mtable_count(staged) - c.n;
	if (m->dir)
		maybe_compact(m);
	return PS_MF_OK;
}

/* Make the staged table the manifest (saved as a new snapshot first). */
static int load_replace(struct ps_manifest *m, struct ps_mtable *staged,
			uint64_t exp, const char *name, struct ps_errors *errs,
			struct ps_manifest_load_result *res)
{
	char err[512];
	ps_mtable_set_expiry_all(staged, exp);  /* no reader has it yet */
	if (m->dir) {
		if (ps_mpersist_snapshot(m->dir, m->gen + 1, staged,
					 m->cfg.no_fsync, err, sizeof(err))) {
			ps_errors_add(errs, name, 0, "%s", err);
			return PS_MF_DISK;
		}
		m->gen++;
		m->log_bytes = 0;
	}
	struct ps_mtable *old = m->cur;
	__atomic_store_n(&m->cur, staged, __ATOMIC_RELEASE);
	if (m->cfg.wait_readers)
		m->cfg.wait_readers();
	ps_mtable_free(old);
	if (m->dir)
		ps_mpersist_drop_others(m->dir, m->gen);
	res->added = ps_mtable_count(staged);
	m->st.replaces++;
	return PS_MF_OK;
}

/* A staged table (every line good) into force, add or replace, its
 * entries lapsing a TTL from now; wlock held. On success a replace's
 * table is taken (*staged = NULL). */
static int commit_staged(struct ps_manifest *m, struct ps_mtable **staged,
			 const char *name, int replace, struct ps_errors *errs,
			 struct ps_manifest_load_result *res)
{
	int rc;
	uint64_t exp = now_of(m) + m->cfg.ttl_ms;
	if (replace) {
		rc = load_replace(m, *staged, exp, name, errs, res);
		if (rc == PS_MF_OK)
			*staged = NULL;
	} else {
		rc = load_add(m, *staged, exp, name, errs, res);
	}
	if (rc == PS_MF_OK)
		m->st.loads++;
	res->entries = ps_mtable_count(m->cur);
	return rc;
}

static void refuse_full(struct ps_manifest *m, const char *name,
			struct ps_errors *errs)
{
	ps_errors_add(errs, name, 0, "refused: more than %" PRIu64
		      " distinct waybills (the capacity)", m->cfg.capacity);
	m->st.refused_full++;
}

int ps_manifest_load(struct ps_manifest *m, FILE *f, const char *name,
		     int replace, struct ps_errors *errs,
		     struct ps_manifest_load_result *res)
{
	struct staging s = { ps_mtable_new(m->cfg.capacity), 0, { 0 }, 0 };
	memset(res, 0, sizeof(*res));
	ps_mtable_batch_init(&s.batch, s.t);
	if (!s.t) {
		ps_errors_add(errs, name, 0, "out of memory");
		return PS_MF_NOMEM;
	}
	/* parsed and staged outside the writers' lock: adds and removals
	 * go on meanwhile */
	s.expires_ms = now_of(m) + m->cfg.ttl_ms;
	int rc = ps_manifest_parse(f, name, stage_line, &s, errs, &res->lines);
	if (!s.full && ps_mtable_batch_flush(&s.batch))
		s.full = 1;
	pthread_mutex_lock(&m->wlock);
	if (rc) {                       /* bad lines, and the capacity too */
		if (s.full)
			refuse_full(m, name, errs);
		rc = PS_MF_INVALID;
	} else if (s.full) {
		refuse_full(m, name, errs);
		rc = PS_MF_FULL;
	} else {
		rc = commit_staged(m, &s.t, name, replace, errs, res);
	}
	res->entries = ps_mtable_count(m->cur);
	pthread_mutex_unlock(&m->wlock);
	ps_mtable_free(s.t);
	return rc;
}

/* ---- loads in parts ---- */

static void stage_drop(struct ps_manifest *m)
{
	struct stage *g = m->stage;
	if (!g)
		return;
	ps_mtable_free(g->t);
	ps_errors_free(&g->errs);
	free(g);
	m->stage = NULL;
}

/* As stage_line: over capacity, the rest is still checked. */
static int stage_line_g(void *arg, const uint8_t *wb, uint64_t region,
			uint32_t line)
{
	struct stage *g = arg;
	(void)line;
	if (!g->full &&
	    ps_mtable_batch_put(&g->batch, wb, region, g->expires_ms))
		g->full = 1;
	return 0;
}

/* How long the stage has had no part or commit. A wall clock stepped
 * back (an NTP correction) restarts the count from now rather than
 * holding it at 0 until the clock is back where it was: a dead load
 * keeps the next waiting the usual time, not an hour more. slock held. */
static uint64_t stage_idle(struct stage *g, uint64_t now)
{
	if (now < g->last_ms)
		g->last_ms = now;
	return now - g->last_ms;
}

/* A begin meets a load under way: 0 when there is none or it is idle
 * past PS_MANIFEST_STAGE_BUSY_MS (dropped: its client went away), else
 * PS_MF_BUSY with err naming it. slock held. */
static int stage_busy(struct ps_manifest *m, uint64_t now, char *err,
		      size_t errlen)
{
	struct stage *g = m->stage;
	uint64_t idle = g ? stage_idle(g, now) : 0;
	if (!g || idle >= PS_MANIFEST_STAGE_BUSY_MS) {
		stage_drop(m);
		return 0;
	}
	if (err)
		snprintf(err, errlen, "another manifest load is under way: "
			 "'%.200s', its last part (or begin) %" PRIu64 ".%"
			 PRIu64 " s ago; try again once it is done (a load "
			 "with no part for %llu s is given up)", g->name,
			 idle / 1000, idle % 1000 / 100,
			 PS_MANIFEST_STAGE_BUSY_MS / 1000);
	return PS_MF_BUSY;
}

int ps_manifest_stage_begin(struct ps_manifest *m, const char *name,
			    int replace, uint64_t *token, char *err,
			    size_t errlen)
{
	struct stage *g = calloc(1, sizeof(*g));
	if (!g)
		return PS_MF_NOMEM;
	g->t = ps_mtable_new(m->cfg.capacity);
	if (!g->t) {
		free(g);
		return PS_MF_NOMEM;
	}
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->replace = replace;
	ps_mtable_batch_init(&g->batch, g->t);
	g->expires_ms = now_of(m) + m->cfg.ttl_ms;
	ps_errors_init(&g->errs);
	ps_mparse_init(&g->parse, g->name, stage_line_g, g, &g->errs);
	pthread_mutex_lock(&m->slock);
	g->last_ms = now_of(m);
	int rc = stage_busy(m, g->last_ms, err, errlen);
	if (rc) {
		pthread_mutex_unlock(&m->slock);
		ps_mtable_free(g->t);
		ps_errors_free(&g->errs);
		free(g);
		return rc;
	}
	g->token = (g->last_ms << 16) ^ ++m->tokens;
	m->stage = g;
	*token = g->token;
	pthread_mutex_unlock(&m->slock);
	return PS_MF_OK;
}

/* Drop the stage if no part came for PS_MANIFEST_STAGE_IDLE_MS (its
 * client went away): its staged entries are not held forever. slock
 * held. */
static void stage_drop_idle(struct ps_manifest *m, uint64_t now)
{
	if (m->stage && stage_idle(m->stage, now) >= PS_MANIFEST_STAGE_IDLE_MS)
		stage_drop(m);
}

/* The stage of token, or NULL with errs; slock held. */
static struct stage *stage_of(struct ps_manifest *m, uint64_t token,
			      struct ps_errors *errs)
{
	uint64_t now = now_of(m);
	stage_drop_idle(m, now);
	if (m->stage && m->stage->token == token) {
		m->stage->last_ms = now;
		return m->stage;
	}
	ps_errors_add(errs, "manifest", 0, "no such manifest load under way "
		      "(it had no part for a minute and another load began, "
		      "it was idle for 15 minutes, or the daemon "
		      "restarted): begin again");
	return NULL;
}

int ps_manifest_stage_part(struct ps_manifest *m, uint64_t token,
			   const char *text, size_t len, uint32_t first_line,
			   uint64_t *lines, struct ps_errors *errs)
{
	pthread_mutex_lock(&m->slock);
	struct stage *g = stage_of(m, token, errs);
	if (g) {
		uint64_t before = g->parse.entries;
		ps_mparse_text(&g->parse, text, len, first_line);
		if (!g->full && ps_mtable_batch_flush(&g->batch))
			g->full = 1;
		*lines = g->parse.entries - before;
		g->last_ms = now_of(m);     /* idle from the part's end */
	}
	pthread_mutex_unlock(&m->slock);
	return g ? PS_MF_OK : PS_MF_INVALID;
}

int ps_manifest_stage_commit(struct ps_manifest *m, uint64_t token,
			     struct ps_errors *errs,
			     struct ps_manifest_load_result *res)
{
	int rc = PS_MF_INVALID;
	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&m->slock);
	struct stage *g = stage_of(m, token, errs);
	if (!g)
		goto out;
	res->lines = g->parse.entries;
	pthread_mutex_lock(&m->wlock);
	if (g->errs.n || g->errs.dropped) {
		ps_errors_free(errs);
		*errs = g->errs;
		ps_errors_init(&g->errs);
		if (g->full)             /* the capacity too, with them */
			refuse_full(m, g->name, errs);
	} else if (g->full) {
		refuse_full(m, g->name, errs);
		rc = PS_MF_FULL;
	} else {
		rc = commit_staged(m, &g->t, g->name, g->replace, errs, res);
	}
	res->entries = ps_mtable_count(m->cur);
	pthread_mutex_unlock(&m->wlock);
	stage_drop(m);                  /* refused or done: it goes */
out:
	pthread_mutex_unlock(&m->slock);
	return rc;
}

void ps_manifest_stage_abort(struct ps_manifest *m, uint64_t token)
{
	pthread_mutex_lock(&m->slock);
	if (m->stage && m->stage->token == token)
		stage_drop(m);
	pthread_mutex_unlock(&m->slock);
}

uint64_t ps_manifest_expire(struct ps_manifest *m)
{
	pthread_mutex_lock(&m->slock);
	stage_drop_idle(m, now_of(m));
	pthread_mutex_unlock(&m->slock);
	pthread_mutex_lock(&m->wlock);
	uint64_t n = ps_mtable_expire(m->cur, now_of(m));
	m->st.lapsed += n;
	pthread_mutex_unlock(&m->wlock);
	return n;
}

int ps_manifest_try_expire(struct ps_manifest *m, uint64_t *n)
{
	*n = 0;
	if (pthread_mutex_trylock(&m->slock))
		return -1;
	stage_drop_idle(m, now_of(m));
	pthread_mutex_unlock(&m->slock);
	if (pthread_mutex_trylock(&m->wlock))
		return -1;
	*n = ps_mtable_expire(m->cur, now_of(m));
	m->st.lapsed += *n;
	pthread_mutex_unlock(&m->wlock);
	return 0;
}

int ps_manifest_loading(struct ps_manifest *m, char *name, size_t len,
			uint64_t *idle_ms)
{
	pthread_mutex_lock(&m->slock);
	struct stage *g = m->stage;
	if (g) {
		snprintf(name, len, "%s", g->name);
		*idle_ms = stage_idle(g, now_of(m));
	}
	pthread_mutex_unlock(&m->slock);
	return g != NULL;
}

void ps_manifest_stats(struct ps_manifest *m, struct ps_manifest_stats *st)
{
	pthread_mutex_lock(&m->wlock);
	*st = m->st;
	st->entries = ps_mtable_count(m->cur);
	st->capacity = ps_mtable_capacity(m->cur);
	st->bytes = ps_mtable_bytes(m->cur);
	st->ttl_ms = m->cfg.ttl_ms;
	uint64_t min_exp = ps_mtable_min_expiry(m->cur);
	st->oldest_added_ms = min_exp > m->cfg.ttl_ms ? min_exp - m->cfg.ttl_ms : 0;
	st->generation = m->dir ? m->gen : 0;
	st->log_bytes = m->log_bytes;
	pthread_mutex_unlock(&m->wlock);
}
