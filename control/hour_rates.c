/* hour_rates.c: the per-chute ring of minutes behind pieces per hour (see
 * hour_rates.h). A slot holds only the chutes whose count moved in its
 * minute, so the ring costs what the active chutes need; the running sum
 * per chute is kept as slots come and go, so a reading is one look. */
#include "hour_rates.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint32_t n, cap;
	uint16_t *chute;
	uint64_t *inc;
};

struct ps_hour_ring {
	uint64_t last[PS_HOUR_CHUTES];   /* the counts at the last slot */
	uint64_t sum[PS_HOUR_CHUTES];    /* the increments in the ring */
	struct slot slot[PS_HOUR_SLOTS];
	unsigned head;                   /* the next slot to fill */
	unsigned filled;
	uint64_t last_ms;
	int started;
};

struct ps_hour_ring *ps_hour_ring_new(void)
{
	return calloc(1, sizeof(struct ps_hour_ring));
}

void ps_hour_ring_free(struct ps_hour_ring *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < PS_HOUR_SLOTS; i++) {
		free(r->slot[i].chute);
		free(r->slot[i].inc);
	}
	free(r);
}

/* Take the oldest slot out of the sums and make it the current one. */
static struct slot *next_slot(struct ps_hour_ring *r)
{
	struct slot *s = &r->slot[r->head];
	for (uint32_t i = 0; i < s->n; i++)
		r->sum[s->chute[i]] -= s->inc[i];
	s->n = 0;
	r->head = (r->head + 1) % PS_HOUR_SLOTS;
	if (r->filled < PS_HOUR_SLOTS)
		r->filled++;
	return s;
}

/* Append an increment; on no memory it is left out of the ring (a rate a
 * little low, never a wrong chute). */
static void slot_add(struct slot *s, uint16_t chute, uint64_t inc)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		uint16_t *c = realloc(s->chute, cap * sizeof(*c));
		if (c)
			s->chute = c;
		uint64_t *v = c ? realloc(s->inc, cap * sizeof(*v)) : NULL;
		if (!v)
			return;
		s->inc = v;
		s->cap = cap;
	}
	s->chute[s->n] = chute;
	s->inc[s->n++] = inc;
}

void ps_hour_ring_sample(struct ps_hour_ring *r, uint64_t now_ms,
			 const uint64_t *decided)
{
	if (!r->started) {
		memcpy(r->last, decided, sizeof(r->last));
		r->last_ms = now_ms;
		r->started = 1;
		return;
	}
	if (now_ms < r->last_ms || now_ms - r->last_ms < PS_HOUR_SLOT_MS)
		return;
	uint64_t minutes = (now_ms - r->last_ms) / PS_HOUR_SLOT_MS;
	r->last_ms += minutes * PS_HOUR_SLOT_MS;
	for (uint64_t m = 1; m < minutes && m < PS_HOUR_SLOTS; m++)
		next_slot(r);                  /* minutes nobody sampled */
	struct slot *s = next_slot(r);
	for (unsigned ch = 0; ch < PS_HOUR_CHUTES; ch++) {
		uint64_t inc = decided[ch] > r->last[ch]
				       ? decided[ch] - r->last[ch] : 0;
		r->last[ch] = decided[ch];
		if (!inc)
			continue;
		uint32_t before = s->n;
		slot_add(s, (uint16_t)ch, inc);
		if (s->n > before)
			r->sum[ch] += inc;
	}
}

unsigned ps_hour_ring_minutes(const struct ps_hour_ring *r)
{
	return r->filled;
}

uint64_t ps_hour_ring_count(const struct ps_hour_ring *r, uint16_t chute)
{
	return r->sum[chute];
}

double ps_hour_ring_per_hour(const struct ps_hour_ring *r, uint16_t chute)
{
	if (!r->filled)
		return 0;
	return (double)r->sum[chute] * PS_HOUR_SLOTS / (double)r->filled;
}
