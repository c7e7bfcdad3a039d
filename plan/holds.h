/* holds.h: the intercept list (protocol step 6) as the dataplane reads it:
 * an immutable set of 24-byte waybills, built once and never modified,
 * published to the workers through an RCU slot like a plan (the store's
 * ps_store_holds_slot, plan_reader.h) and replaced whole on every change.
 * An open-addressing hash of the waybills with their 64-bit hashes: a
 * look-up is one hash and, at most half full, about one cache line. */
#ifndef PS_HOLDS_H
#define PS_HOLDS_H

#include <stddef.h>
#include <stdint.h>

struct ps_holds;

/* Build a set of n waybills (24 bytes each, as on the wire; repeats are
 * kept once). Returns NULL when out of memory. */
struct ps_holds *ps_holds_build(const uint8_t (*waybills)[24], size_t n);
void ps_holds_free(struct ps_holds *h);
/* Waybills in the set (NULL: 0). */
size_t ps_holds_count(const struct ps_holds *h);
/* Is the waybill held? NULL h is the empty set. */
int ps_holds_has(const struct ps_holds *h, const uint8_t waybill[24]);
/* Bring the waybill's first slot into the cache ahead of ps_holds_has. */
void ps_holds_prefetch(const struct ps_holds *h, const uint8_t waybill[24]);

#endif
