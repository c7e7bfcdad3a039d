/* plan_txn.c: staged edits (plan_txn.h): a copy of the active plan's model
 * that edits change line by line, committed through the store's one commit
 * path or thrown away. */
#include "plan_txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan_store_int.h"

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
		rc = ps_store_commit_src(s, &s->txn_src, "edit", errs,
					 version);
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
