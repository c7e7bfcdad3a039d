/* plan_bench.h: the pieces of bench/plan_bench, one file per thing it
 * measures: the inputs they share (plans and keys made from the real region
 * table), parse and compile (bench_build.c), decisions and route look-ups
 * (bench_decide.c, against DPDK's rte_lpm6/rte_fib6 in bench_rival_lpm.c),
 * override rules (bench_rules.c, against rte_acl in bench_rival_acl.c) and
 * publish-to-visible through the plan store (bench_publish.c). */
#ifndef PS_PLAN_BENCH_H
#define PS_PLAN_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "bench_harness.h"
#include "plan.h"
#include "regions.h"

struct rte_lpm6;
struct rte_fib6;
struct rte_acl_ctx;

#define NKEYS (1u << 20)
#define BURST 32

/* ------------------------------------------------ inputs (bench_inputs.c) */

/* Plan text from the region table: province trunk routes, then counties,
 * townships and villages until `routes` routes (0 = national). */
struct bench_text bench_plan_text(const struct ps_regions *reg,
				  size_t routes);

/* NKEYS pre-decoded scans to real villages, uniform (zipf_s 0) or Zipf. */
struct keys {
	struct ps_scan *s;
	uint8_t (*wb)[24];
	const struct ps_scan **sp;
};
void make_keys(struct keys *k, const struct ps_regions *reg, double zipf_s,
	       uint64_t seed);
void free_keys(struct keys *k);

/* ------------------------------------------ parse and compile (bench_build.c) */

struct built {
	const char *name;
	struct ps_plan_src src;
	struct ps_plan *plan;
	size_t lines, bytes;
	double parse_ms, compile_ms;
};
/* Parse and compile a plan of `routes` routes bench_runs times (medians). */
void build_plan(struct built *b, const struct ps_regions *reg, size_t routes);
void section_build(struct built *plans, unsigned n);

/* ------------------------------------------------- decisions (bench_decide.c) */

void section_decide(struct built *plans, unsigned n,
		    const struct ps_regions *reg);

/* The same prefixes in DPDK's rte_lpm6 and rte_fib6 (bench_rival_lpm.c). A
 * table that cannot hold the plan is left NULL. */
struct lpm_rivals {
	struct rte_lpm6 *lpm6;
	struct rte_fib6 *fib6;
	uint8_t (*ip)[16];       /* the keys as IPv6 addresses */
};
void lpm_rivals_build(struct lpm_rivals *t, const struct ps_plan_src *s,
		      const struct keys *k);
double lpm_rivals_run_lpm6(struct lpm_rivals *t);
double lpm_rivals_run_fib6(struct lpm_rivals *t);
void lpm_rivals_free(struct lpm_rivals *t);

/* --------------------------------------- the intercept list (bench_holds.c) */

void section_holds(const struct built *b, const struct ps_regions *reg);

/* ---------------------------------------------- override rules (bench_rules.c) */

void section_rules(const struct ps_regions *reg);

/* The same rules in rte_acl (bench_rival_acl.c); order is the rules by
 * priority. NULL when rte_acl cannot build them. */
struct rte_acl_ctx *acl_rival_build(const struct ps_plan_src *src,
				    const uint32_t *order);
/* ns per record for the first n scans; out_first[i] (i < n_out) gets the
 * first matching rule's index in priority order, or -1. */
double acl_rival_run(struct rte_acl_ctx *ctx, const struct ps_scan *s,
		     uint32_t n, int *out_first, uint32_t n_out);
void acl_rival_free(struct rte_acl_ctx *ctx);

/* ------------------------------------------- publish (bench_publish.c) */

void section_publish(void);

#endif
