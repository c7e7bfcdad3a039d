/* wi_window.c: the what-if's duplicate window for both plans (see
 * wi_window.h). Each function follows its counterpart in
 * dataplane/dedup.c step for step, minus what only several cores need;
 * the rules that choose are the same code (dataplane/dedup_rules.h). */
#include "wi_window.h"
#include "ps_hugemem.h"

#include <errno.h>

int wi_window_init(struct wi_window *w, uint64_t capacity, uint32_t window_s)
{
	/* the dataplane's buckets and limits (ps_dedup_init): ages are
	 * compared in 23 bits, and a capacity is rounded up to a power of
	 * two of buckets only up to PS_DEDUP_MAX_CAPACITY */
	uint64_t buckets = ps_dedup_buckets(capacity);
	if (window_s > PS_DEDUP_MAX_WINDOW_S || !buckets) {
		errno = EINVAL;
		return -1;
	}
	memset(w, 0, sizeof(*w));
	w->bytes = buckets * sizeof(struct wi_bucket);
	void *m = ps_huge_alloc(w->bytes);
	if (!m)
		return -1;
	w->b = m;
	w->geom.mask = buckets - 1;
	w->capacity = buckets * WI_WAYS;
	w->window_s = window_s;
	return 0;
}

void wi_window_free(struct wi_window *w)
{
	ps_huge_free(w->b, w->bytes);
	w->b = NULL;
}

/* The rules are the dataplane window's own (dataplane/dedup_rules.h). */
static inline int live(const struct wi_window *w, uint32_t t, uint32_t now)
{
	return ps_dedup_live(w->window_s, t, now);
}

static inline unsigned tag_matches(const struct wi_head *h, uint16_t tag)
{
	return ps_dedup_tags_match(h->tag, tag);
}

static inline int same_key(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[3], y[3];
	memcpy(x, a, 24);
	memcpy(y, b, 24);
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]));
}

/* The waybill's live way in bucket b under side, or -1. */
static int find_in(const struct wi_window *w, int side, uint64_t b,
		   uint16_t tag, const uint8_t *wb, uint32_t now)
{
	const struct wi_bucket *k = &w->b[b];
	unsigned m = tag_matches(&k->head[side], tag);
	while (m) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		if (live(w, k->head[side].t[i], now) &&
		    same_key(k->way[i][side].key, wb))
			return i;
	}
	return -1;
}

/* dedup.c's find(): the own bucket, then the second one only when some
 * waybill of the own bucket went there. */
static int find(const struct wi_window *w, int side, uint64_t hash,
		const uint8_t *wb, uint32_t now, uint64_t *bucket)
{
	uint64_t b = ps_dedup_bucket(&w->geom, hash);
	uint16_t tag = ps_dedup_tag(hash);
	int i = find_in(w, side, b, tag, wb, now);
	*bucket = b;
	if (i >= 0 || !w->b[b].head[side].spilled_out)
		return i;
	*bucket = ps_dedup_alt_bucket(&w->geom, hash);
	return find_in(w, side, *bucket, tag, wb, now);
}

int wi_window_find(const struct wi_window *w, int side, uint64_t hash,
		   const uint8_t *wb, uint32_t now_s, struct wi_entry *out)
{
	uint64_t b;
	int i = find(w, side, hash, wb, now_s, &b);
	if (i < 0)
		return 0;
	const struct wi_way *s = &w->b[b].way[i][side];
	out->hub = s->hub;
	out->chute = s->chute;
	out->rounds = s->rounds;
	out->not_discharged = s->not_discharged;
	return 1;
}

static int first_free(const struct wi_window *w, const struct wi_head *h,
		      uint32_t now)
{
	uint32_t t;
	return ps_dedup_first_free(w->window_s, h->t, now, &t);
}

/* A free or expired way (1), else (0) the oldest entry's. */
static int free_or_oldest(const struct wi_window *w, const struct wi_head *h,
			  uint32_t now, int *way)
{
	uint32_t t;
	return ps_dedup_free_or_oldest(w->window_s, h->t, h->ord, h->inserts,
				       now, way, &t);
}

static inline int look_at_alt(const struct wi_head *h)
{
	return ps_dedup_look_at_alt(h->alt_full_run, h->inserts);
}

/* Every change of a head stamps it with the segment's turn: a look-up's
 * sure choice (WI_SURE) holds while its head is not stamped so. */
static inline void changed(const struct wi_window *w, struct wi_head *h)
{
	h->stamp = w->turn;
}

struct choice {
	uint64_t b;
	int i;
	int spill;
};

/* dedup.c's pick_slot(), for a waybill without a live entry. */
static void pick_slot(struct wi_window *w, int side, uint64_t hash,
		      const uint8_t *wb, uint32_t now, struct choice *c)
{
	uint64_t b = ps_dedup_bucket(&w->geom, hash);
	struct wi_bucket *k = &w->b[b];
	struct wi_head *h = &k->head[side];
	unsigned m = tag_matches(h, ps_dedup_tag(hash));
	c->b = b;
	c->spill = 0;
	c->i = -1;
	while (m && c->i < 0) {
		int i = __builtin_ctz(m);
		m &= m - 1;
		if (same_key(k->way[i][side].key, wb))
			c->i = i;
	}
	if (c->i >= 0 || free_or_oldest(w, h, now, &c->i))
		return;
	if (w->geom.mask && look_at_alt(h)) {
		uint64_t a = ps_dedup_alt_bucket(&w->geom, hash);
		int j = first_free(w, &w->b[a].head[side], now);
		changed(w, h);
		h->alt_full_run = j >= 0 ? 0 : (uint8_t)(h->alt_full_run +
				(h->alt_full_run < PS_DEDUP_ALT_FULL_RUN_MAX));
		if (j >= 0) {
			c->b = a;
			c->i = j;
			c->spill = 1;
		}
	}
}

/* dedup.c's spilled_out_add(): stuck at 255 once there. */
static void spilled_out_add(const struct wi_window *w, struct wi_head *h,
			    int delta)
{
	changed(w, h);
	if (h->spilled_out != UINT8_MAX)
		h->spilled_out = (uint8_t)(h->spilled_out + delta);
}

/* dedup.c's write_slot(). */
static void write_slot(struct wi_window *w, int side, uint64_t hash,
		       const struct choice *c, const uint8_t *wb,
		       uint32_t now, uint32_t hub, uint16_t chute)
{
	struct wi_head *h = &w->b[c->b].head[side];
	struct wi_way *o = &w->b[c->b].way[c->i][side];
	uint8_t bit = (uint8_t)(1u << c->i);
	int was_live = live(w, h->t[c->i], now);
	int same = same_key(o->key, wb);
	if (h->spilled_in & bit) {
		h->spilled_in &= (uint8_t)~bit;
		uint64_t ob = ps_dedup_bucket(&w->geom, ps_dedup_hash(o->key));
		spilled_out_add(w, &w->b[ob].head[side], -1);
	}
	if (c->spill) {
		spilled_out_add(w, &w->b[ps_dedup_bucket(&w->geom, hash)]
				    .head[side], 1);
		h->spilled_in |= bit;
	}
	changed(w, h);
	o->rounds = was_live && same ? o->rounds : 0;
	o->not_discharged = 0;
	memcpy(o->key, wb, 24);
	o->hub = hub;
	o->chute = chute;
	h->tag[c->i] = ps_dedup_tag(hash);
	h->t[c->i] = now + 1;
	h->ord[c->i] = h->inserts;
	h->inserts++;
}

int wi_window_insert(struct wi_window *w, int side, uint64_t hash,
		     const uint8_t *wb, uint32_t now_s, uint32_t hub,
		     uint16_t chute, const struct ps_chute_state *cs,
		     uint16_t reject, uint16_t intercept,
		     struct wi_entry *first)
{
	struct choice c;
	uint64_t own = ps_dedup_bucket(&w->geom, hash);
	int i = find(w, side, hash, wb, now_s, &c.b);
	if (i >= 0) {
		const struct wi_way *s = &w->b[c.b].way[i][side];
		if (!s->not_discharged &&
		    ps_chute_usable(cs, s->chute, reject, intercept)) {
			first->hub = s->hub;
			first->chute = s->chute;
			first->rounds = s->rounds;
			first->not_discharged = 0;
			return 1;
		}
		/* replaced where it is */
		c.i = i;
		c.spill = c.b != own;
	} else {
		pick_slot(w, side, hash, wb, now_s, &c);
	}
	write_slot(w, side, hash, &c, wb, now_s, hub, chute);
	return 0;
}

int wi_window_look_slow(const struct wi_window *w, int side, uint64_t hash,
			const uint8_t *wb, uint32_t now_s,
			struct wi_entry *out, uint8_t *hint)
{
	if (wi_window_find(w, side, hash, wb, now_s, out))
		return 1;
	/* not WI_SURE: a tag of the waybill, or a second bucket to read */
	*hint = (uint8_t)wi_window_prefetch_insert(w, side, hash, now_s);
	return 0;
}

int wi_window_prefetch_insert(const struct wi_window *w, int side,
			      uint64_t hash, uint32_t now_s)
{
	const struct wi_bucket *k = &w->b[ps_dedup_bucket(&w->geom, hash)];
	unsigned m = tag_matches(&k->head[side], ps_dedup_tag(hash));
	int i;
	if (m)
		i = __builtin_ctz(m);
	else if (!free_or_oldest(w, &k->head[side], now_s, &i) &&
		 w->geom.mask && look_at_alt(&k->head[side]))
		/* full: the insert reads its second bucket's head */
		__builtin_prefetch(&w->b[ps_dedup_alt_bucket(&w->geom, hash)]
					    .head[side]);
	__builtin_prefetch(&k->way[i][side], 1);
	return i;
}

int wi_window_sort_result(struct wi_window *w, int side, uint64_t hash,
			  const uint8_t *wb, uint32_t now_s, uint8_t status)
{
	uint64_t b;
	int i = find(w, side, hash, wb, now_s, &b);
	if (i < 0)
		return 0;
	struct wi_way *o = &w->b[b].way[i][side];
	if (status == PS_SORT_SORTED) {
		o->not_discharged = 0;
	} else if (status == PS_SORT_LOST) {
		w->b[b].head[side].t[i] = 0;    /* forgotten: an empty way */
		changed(w, &w->b[b].head[side]);
		o->rounds = 0;
		o->not_discharged = 0;
	} else {
		o->rounds = (uint8_t)(o->rounds + (o->rounds < 255));
		o->not_discharged = 1;
	}
	return 1;
}
