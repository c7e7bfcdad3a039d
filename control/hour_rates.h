/* hour_rates.h: pieces per hour per chute over the last hour. The control
 * thread samples every chute's decided count (the records sent to it)
 * once a minute into a ring of 60 slots, each the increments of its
 * minute (only the chutes that had any); a chute's rate is the sum of the
 * increments in the ring, scaled to an hour while fewer than 60 minutes
 * have been sampled. The clock is the caller's (tests inject one). */
#ifndef PS_HOUR_RATES_H
#define PS_HOUR_RATES_H

#include <stdint.h>

#define PS_HOUR_SLOTS   60
#define PS_HOUR_SLOT_MS 60000u
#define PS_HOUR_CHUTES  65536

struct ps_hour_ring;

struct ps_hour_ring *ps_hour_ring_new(void);
void ps_hour_ring_free(struct ps_hour_ring *r);
/* decided[PS_HOUR_CHUTES]: the monotonic counts at now_ms. The first call
 * keeps them as the starting point; later calls fill a slot for every
 * whole minute since the last one (the increments go in the last of
 * them; minutes the thread missed are empty slots), and do nothing
 * before a minute has passed. */
void ps_hour_ring_sample(struct ps_hour_ring *r, uint64_t now_ms,
			 const uint64_t *decided);
/* Minutes sampled so far, at most PS_HOUR_SLOTS. */
unsigned ps_hour_ring_minutes(const struct ps_hour_ring *r);
/* The chute's decided count over the minutes in the ring; and as pieces
 * per hour (scaled to 60 minutes; 0 before the first minute). */
uint64_t ps_hour_ring_count(const struct ps_hour_ring *r, uint16_t chute);
double ps_hour_ring_per_hour(const struct ps_hour_ring *r, uint16_t chute);

#endif
