/* wi_tally.c: counting pairs of decisions (see wi_tally.h). */
#include "wi_tally.h"

#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- map */

static inline uint64_t mix(uint64_t k1, uint64_t k2)
{
	uint64_t h = k1 * 0x9E3779B97F4A7C15ull ^ k2 * 0xC2B2AE3D27D4EB4Full;
	h ^= h >> 33;                /* murmur3's finaliser: every bit of */
	h *= 0xFF51AFD7ED558CCDull;  /* the keys reaches the low bits the */
	h ^= h >> 33;                /* table is indexed by */
	h *= 0xC4CEB9FE1A85EC53ull;
	return h ^ (h >> 33);
}

int wi_map_init(struct wi_map *m, size_t slots)
{
	size_t n = 16;
	while (n < slots)
		n <<= 1;
	m->s = calloc(n, sizeof(*m->s));
	m->mask = n - 1;
	m->used = 0;
	return m->s ? 0 : -1;
}

void wi_map_free(struct wi_map *m)
{
	free(m->s);
	m->s = NULL;
}

static struct wi_slot *find(const struct wi_map *m, uint64_t k1, uint64_t k2)
{
	size_t i = mix(k1, k2) & m->mask;
	while (m->s[i].n && (m->s[i].k1 != k1 || m->s[i].k2 != k2))
		i = (i + 1) & m->mask;
	return &m->s[i];
}

static int grow(struct wi_map *m)
{
	struct wi_map g;
	if (wi_map_init(&g, (m->mask + 1) * 2))
		return -1;
	for (size_t i = 0; i <= m->mask; i++)
		if (m->s[i].n) {
			*find(&g, m->s[i].k1, m->s[i].k2) = m->s[i];
			g.used++;
		}
	free(m->s);
	*m = g;
	return 0;
}

int wi_map_add(struct wi_map *m, uint64_t k1, uint64_t k2, uint64_t n)
{
	struct wi_slot *s = find(m, k1, k2);
	if (s->n) {
		s->n += n;
		return 0;
	}
	if (!n)
		return 0;
	if ((m->used + 1) * 2 > m->mask + 1) {
		if (grow(m))
			return -1;
		s = find(m, k1, k2);
	}
	s->k1 = k1;
	s->k2 = k2;
	s->n = n;
	m->used++;
	return 0;
}

uint64_t wi_map_get(const struct wi_map *m, uint64_t k1, uint64_t k2)
{
	return find(m, k1, k2)->n;
}

/* --------------------------------------------------------------- tally */

int wi_tally_init(struct wi_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (int s = 0; s < 2; s++) {
		t->per_chute[s] = calloc(WI_CHUTES, sizeof(uint64_t));
		t->win_bucket[s] = calloc(WI_CHUTES, sizeof(uint64_t));
		t->win_count[s] = calloc(WI_CHUTES, sizeof(uint32_t));
		if (!t->per_chute[s] || !t->win_bucket[s] || !t->win_count[s])
			goto fail;
	}
	if (wi_map_init(&t->groups, 1024) || wi_map_init(&t->windows, 4096))
		goto fail;
	return 0;
fail:
	wi_tally_free(t);
	return -1;
}

void wi_tally_free(struct wi_tally *t)
{
	for (int s = 0; s < 2; s++) {
		free(t->per_chute[s]);
		free(t->win_bucket[s]);
		free(t->win_count[s]);
		t->per_chute[s] = NULL;
		t->win_bucket[s] = NULL;
		t->win_count[s] = NULL;
	}
	wi_map_free(&t->groups);
	wi_map_free(&t->windows);
}

/* A closed window's records into the map, unless the map is full and
 * does not have it yet (then it is left out of the peaks, and counted). */
static void close_window(struct wi_tally *t, int side, uint32_t chute,
			 uint64_t w, uint64_t n)
{
	uint64_t k1 = (uint64_t)side << 16 | chute;
	if (t->windows.used >= WI_WINDOWS_MAX &&
	    !wi_map_get(&t->windows, k1, w)) {
		t->windows_left_out++;
		return;
	}
	if (wi_map_add(&t->windows, k1, w, n))
		t->oom = 1;
}

void wi_tally_move_window(struct wi_tally *t, int side, uint16_t chute,
			  uint64_t w)
{
	uint64_t prev = t->win_bucket[side][chute];
	if (prev)
		close_window(t, side, chute, prev, t->win_count[side][chute]);
	t->win_bucket[side][chute] = w;
	t->win_count[side][chute] = 0;
}

void wi_tally_change(struct wi_tally *t, const struct wi_dec *d0,
		     const struct wi_dec *d1)
{
	t->changed++;
	if (wi_map_add(&t->groups, (uint64_t)d0->hub << 16 | d0->chute,
		       (uint64_t)d1->hub << 16 | d1->chute, 1))
		t->oom = 1;
}

static int by_records(const void *a, const void *b)
{
	const struct wi_group *x = a, *y = b;
	if (x->records != y->records)
		return x->records < y->records ? 1 : -1;
	if (x->hub[0] != y->hub[0])
		return x->hub[0] < y->hub[0] ? -1 : 1;
	if (x->chute[0] != y->chute[0])
		return x->chute[0] < y->chute[0] ? -1 : 1;
	if (x->hub[1] != y->hub[1])
		return x->hub[1] < y->hub[1] ? -1 : 1;
	return x->chute[1] < y->chute[1] ? -1 : x->chute[1] > y->chute[1];
}

static uint64_t delta(const struct wi_chute *c)
{
	return c->records[0] > c->records[1] ? c->records[0] - c->records[1]
					     : c->records[1] - c->records[0];
}

static int by_delta(const void *a, const void *b)
{
	const struct wi_chute *x = a, *y = b;
	uint64_t dx = delta(x), dy = delta(y);
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return x->chute < y->chute ? -1 : x->chute > y->chute;
}

int wi_tally_finish(struct wi_tally *t, struct wi_summary *s)
{
	memset(s, 0, sizeof(*s));
	/* close every running window */
	for (int side = 0; side < 2; side++)
		for (uint32_t c = 1; c < WI_CHUTES; c++)
			if (t->win_bucket[side][c]) {
				close_window(t, side, c,
					     t->win_bucket[side][c],
					     t->win_count[side][c]);
				t->win_bucket[side][c] = 0;
				t->win_count[side][c] = 0;
			}
	if (t->oom)
		return -1;
	s->groups = calloc(t->groups.used + 1, sizeof(*s->groups));
	size_t n_ch = 0;
	for (uint32_t c = 1; c < WI_CHUTES; c++)
		n_ch += t->per_chute[0][c] != t->per_chute[1][c];
	s->chutes = calloc(n_ch + 1, sizeof(*s->chutes));
	uint32_t *idx = calloc(WI_CHUTES, sizeof(uint32_t));
	if (!s->groups || !s->chutes || !idx) {
		free(idx);
		wi_summary_free(s);
		return -1;
	}
	for (size_t i = 0; i <= t->groups.mask; i++) {
		const struct wi_slot *m = &t->groups.s[i];
		if (!m->n)
			continue;
		struct wi_group *g = &s->groups[s->n_groups++];
		g->hub[0] = (uint32_t)(m->k1 >> 16);
		g->chute[0] = (uint16_t)m->k1;
		g->hub[1] = (uint32_t)(m->k2 >> 16);
		g->chute[1] = (uint16_t)m->k2;
		g->records = m->n;
	}
	qsort(s->groups, s->n_groups, sizeof(*s->groups), by_records);
	for (uint32_t c = 1; c < WI_CHUTES; c++) {
		if (t->per_chute[0][c] == t->per_chute[1][c])
			continue;
		struct wi_chute *k = &s->chutes[s->n_chutes];
		idx[c] = (uint32_t)++s->n_chutes;
		k->chute = (uint16_t)c;
		k->records[0] = t->per_chute[0][c];
		k->records[1] = t->per_chute[1][c];
	}
	for (size_t i = 0; i <= t->windows.mask; i++) {
		const struct wi_slot *m = &t->windows.s[i];
		uint32_t c = (uint32_t)(m->k1 & 0xffff);
		if (!m->n || !idx[c])
			continue;
		struct wi_chute *k = &s->chutes[idx[c] - 1];
		int side = (int)(m->k1 >> 16);
		if (m->n > k->peak[side])
			k->peak[side] = m->n;
	}
	free(idx);
	qsort(s->chutes, s->n_chutes, sizeof(*s->chutes), by_delta);
	return 0;
}

void wi_summary_free(struct wi_summary *s)
{
	free(s->groups);
	free(s->chutes);
	s->groups = NULL;
	s->chutes = NULL;
}
