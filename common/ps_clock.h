/* ps_clock.h: the two clocks: wall time in milliseconds (what operators
 * schedule against and what history records) and CLOCK_MONOTONIC in
 * nanoseconds (durations, publish latency). */
#ifndef PS_CLOCK_H
#define PS_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME, milliseconds since the epoch. */
uint64_t ps_now_ms(void);
/* CLOCK_MONOTONIC, nanoseconds. */
uint64_t ps_mono_ns(void);

#endif
