/* plan.h: a compiled sort plan, immutable once built and shared read-only by
 * every dataplane core, and the decision API (steps 7-10 of the protocol's
 * decision order) over bursts of decoded scan records.
 *
 * Layout (docs/sort-plan.md explains the choice):
 *  - routes: a decimal DIR table in three strides 6-3-3. Level 1 is indexed
 *    by the first six digits (10^6 entries); an entry is a next hop or a
 *    county node of 1000 township entries; a township entry is a next hop
 *    or says "this township has village routes". 2- and 4-digit routes are
 *    expanded into level 1, 6 digits fill one level-1 entry, 9 digits one
 *    township entry. 12-digit (village) routes live in an exact-match
 *    hash of 64-byte buckets whose slots hold the decision itself: a
 *    village parcel costs one cache line, a hash miss falls back to the
 *    township's entry.
 *  - rules: one bitset per distinct field value or interval (service
 *    combination, carrier, device, weight interval, size interval, region
 *    interval); the rules that match a record are the AND of six bitsets,
 *    and the first match is the lowest set bit (rules sorted by priority).
 *  - next hops: hub, tier, matched prefix and a slice of the chute pool.
 */
#ifndef PS_PLAN_H
#define PS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "chutes.h"
#include "plan_src.h"
#include "ps_wire.h"

/* A next hop: where a route, a rule or the default sends a parcel. 16
 * bytes, four to a cache line. */
struct ps_nh {
	uint64_t pm;              /* matched prefix (bits 0-39, padded to 12
				   * digits; 0 for rules and the default),
				   * tier << 40, reason << 48, the route's
				   * digits << 56 */
	uint32_t hub;
	uint32_t chute_ref;       /* PS_NH_INLINE | chute when it has one
				   * chute; else an offset into chutes[]
				   * where the count precedes the list */
};
#define PS_NH_INLINE      0x80000000u
#define PS_NH_PREFIX_MASK ((1ull << 40) - 1)

static inline uint64_t ps_nh_prefix(const struct ps_nh *nh)
{
	return nh->pm & PS_NH_PREFIX_MASK;
}
static inline uint8_t ps_nh_tier(const struct ps_nh *nh)
{
	return (uint8_t)(nh->pm >> 40);
}
static inline uint8_t ps_nh_reason(const struct ps_nh *nh)
{
	return (uint8_t)(nh->pm >> 48);
}
static inline uint8_t ps_nh_digits(const struct ps_nh *nh)
{
	return (uint8_t)(nh->pm >> 56);
}

/* A village route (12 digits) in the exact-match hash: the region, its
 * next hop, and the decision itself, so that a village parcel is decided
 * from this one cache line without reading its next hop. 16 bytes, four
 * to a 64-byte bucket. */
struct ps_vh_slot {
	uint64_t key_nh;          /* region (bits 0-39) | next hop << 40;
				   * 0: empty */
	uint64_t dec;             /* hub (0-31) | chute (32-47; 0: several,
				   * see the next hop) | tier << 48 |
				   * reason << 56 */
};
#define PS_VH_KEY_MASK ((1ull << 40) - 1)
#define PS_VH_NH_MAX   ((1u << 24) - 1)

/* Field classifiers of the rule set. */
struct ps_rule_index {
	uint32_t n;               /* rules, sorted by priority */
	uint32_t words;           /* 64-bit words per bitset */
	uint32_t *nh;             /* next hop of each rule */
	uint16_t *priority;
	uint64_t *svc;            /* 128 bitsets, by service byte & 0x7f */
	uint16_t *car_key;        /* sorted distinct carriers named */
	uint64_t *car;            /* n_car + 1 bitsets (last: other) */
	uint32_t n_car;
	uint16_t *dev_key;
	uint64_t *dev;
	uint32_t n_dev;
	uint64_t *w_bound;        /* sorted interval starts, w_bound[0] = 0 */
	uint64_t *w;              /* n_w bitsets, one per interval */
	uint32_t n_w;
	uint64_t *s_bound;
	uint64_t *s;
	uint32_t n_s;
	uint64_t *r_bound;
	uint64_t *r;
	uint32_t n_r;
	uint32_t active;          /* PS_RF_* of the fields some rule narrows */
	uint64_t all;             /* up to 64 rules: a bit for each */
	size_t bytes;
};
/* Fields of the rule index: one whose every bitset holds every rule never
 * removes a candidate, and is not looked at. */
#define PS_RF_SVC  0x01u
#define PS_RF_CAR  0x02u
#define PS_RF_DEV  0x04u
#define PS_RF_W    0x08u
#define PS_RF_S    0x10u
#define PS_RF_R    0x20u

#define PS_PLAN_ALLOCS 8
#define PS_BIG_ALLOC (2u << 20)

struct ps_plan {
	uint32_t version;
	uint32_t site;
	uint16_t reject;
	uint16_t intercept;       /* chute of INTERCEPTED (the reject chute
				   * when the plan names none) */
	uint8_t recirculate;      /* rounds before RECIRC_LIMIT; 0: no limit */
	char name[64];
	uint64_t committed_ms;    /* wall clock of the commit */
	uint64_t published_ns;    /* CLOCK_MONOTONIC when it was published */

	uint32_t *l1;             /* 10^6 entries */
	uint32_t *l2;             /* n_l2 county nodes of 1000 entries */
	uint32_t n_l2;
	uint32_t *vbase;          /* per township with village routes: the
				   * entry when the village has none */
	uint32_t n_vbase;
	struct ps_vh_slot *vh;    /* village routes, exact-match hash */
	uint32_t vh_mask;         /* buckets - 1 */
	uint32_t n_vh;

	struct ps_nh *nh;         /* nh[0]: no route */
	uint32_t n_nh;
	uint16_t *chutes;
	uint32_t n_chutes;
	uint32_t default_nh;      /* 0: none */
	struct ps_rule_index rules;

	size_t bytes;             /* memory held by this structure */
	struct {
		void *ptr;
		size_t len;
	} alloc[PS_PLAN_ALLOCS];  /* the tables, for freeing */
	unsigned n_allocs;
};

/* Entry encoding of l1/l2: top two bits say what the rest is. */
#define PS_E_TYPE_SHIFT 30
#define PS_E_LEAF       0u          /* rest: next-hop index (0: none) */
#define PS_E_NODE       1u          /* rest: county node index (l1 only) */
#define PS_E_BLOCK      2u          /* rest: vbase index (l2 only): the
					     * township has village routes */
#define PS_E_INDEX_MAX  ((1u << PS_E_TYPE_SHIFT) - 1)

/* Compile a validated plan model. Returns the plan, or NULL with the reason
 * in errs (e.g. a table larger than the structure can index). */
struct ps_plan *ps_plan_compile(const struct ps_plan_src *src,
				uint32_t version, struct ps_errors *errs);
void ps_plan_free(struct ps_plan *p);

/* Longest-prefix match of a region: next-hop index, 0 when none. */
uint32_t ps_plan_lpm(const struct ps_plan *p, uint64_t region);
/* First matching rule: next-hop index, 0 when none. */
uint32_t ps_plan_rule_match(const struct ps_plan *p, const struct ps_scan *s);

/* Decide records (steps 7-10): for each *scans[i] (a sortable record) fill
 * *dec[i]: chute, tier, reason, hub, plan_version, matched_prefix and
 * event_seq. No allocation, no locks, no syscalls. */
void ps_plan_decide_burst(const struct ps_plan *p,
			  const struct ps_chute_state *cs,
			  const struct ps_scan *const *scans,
			  struct ps_decision *const *dec, unsigned n);
void ps_plan_decide_one(const struct ps_plan *p,
			const struct ps_chute_state *cs,
			const struct ps_scan *s, struct ps_decision *d);
/* Which rule (its priority) or which route decided: for `route get`.
 * Returns the next-hop index used; *rule_prio is -1 when no rule matched. */
uint32_t ps_plan_explain(const struct ps_plan *p, const struct ps_scan *s,
			 int *rule_prio);

/* The chute list of a next hop: returns the count and points *list at it
 * (tmp holds an inline single chute). */
static inline uint16_t ps_nh_chutes(const struct ps_plan *p,
				    const struct ps_nh *nh, uint16_t *tmp,
				    const uint16_t **list)
{
	if (nh->chute_ref & PS_NH_INLINE) {
		*tmp = (uint16_t)nh->chute_ref;
		*list = tmp;
		return 1;
	}
	*list = p->chutes + nh->chute_ref + 1;
	return p->chutes[nh->chute_ref];
}

/* Longest-prefix match of a burst of regions into next-hop indexes, with
 * the levels' memory accesses overlapped across the burst. */
void ps_plan_lpm_burst(const struct ps_plan *p, const uint64_t *region,
		       uint32_t *out, unsigned n);

/* The village hash: the bucket of a region, and the slot of its route
 * (NULL when the region has no village route of its own). */
static inline const struct ps_vh_slot *ps_vh_bucket(const struct ps_plan *p,
						    uint64_t region)
{
	uint64_t h = (region * 0x9e3779b97f4a7c15ull) >> 32;
	return p->vh + ((h & p->vh_mask) << 2);
}

static inline const struct ps_vh_slot *ps_vh_find(const struct ps_plan *p,
						  const struct ps_vh_slot *b,
						  uint64_t region)
{
	for (;;) {          /* ends: the table always has empty slots */
		for (int k = 0; k < 4; k++) {
			uint64_t kn = b[k].key_nh;
			if (!kn)
				return NULL;
			if ((kn & PS_VH_KEY_MASK) == region)
				return &b[k];
		}
		uint32_t next = ((uint32_t)((b - p->vh) >> 2) + 1) & p->vh_mask;
		b = p->vh + ((size_t)next << 2);
	}
}

/* A chute the plan may send a parcel to: available (chutes.h), or the
 * plan's reject or intercept chute, which a sorter report takes out of
 * nothing (only the operator can). */
static inline int ps_plan_chute_available(const struct ps_plan *p,
					  const struct ps_chute_state *cs,
					  uint16_t chute)
{
	return ps_chute_usable(cs, chute, p->reject, p->intercept);
}

/* Pick one available chute of a next hop by the waybill hash; 0 if none. */
uint16_t ps_plan_pick_chute(const struct ps_plan *p,
			    const struct ps_chute_state *cs,
			    const struct ps_nh *nh, uint32_t hash);

#endif
