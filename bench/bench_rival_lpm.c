/* bench_rival_lpm.c: the rivals of the route table: the plan's prefixes in
 * DPDK's rte_lpm6 and rte_fib6 (a region's 12 decimal digits as BCD
 * nibbles of an IPv6 address), looked up in bulk bursts of 32. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <rte_fib6.h>
#include <rte_lpm6.h>
#include <rte_memory.h>

#include "plan_bench.h"

static void region_to_ip6(uint64_t v, unsigned digits, uint8_t ip[16])
{
	memset(ip, 0, 16);
	uint64_t pad = ps_region_pad(v, digits);
	for (int d = 11; d >= 0; d--) {
		unsigned nib = (unsigned)(pad % 10);
		pad /= 10;
		ip[d / 2] |= (uint8_t)(d & 1 ? nib : nib << 4);
	}
}

void lpm_rivals_build(struct lpm_rivals *t, const struct ps_plan_src *s,
		      const struct keys *k)
{
	struct rte_lpm6_config lc = { .max_rules = (uint32_t)s->n_routes + 16,
				      .number_tbl8s = 1u << 17 };
	struct rte_fib6_conf fc = { .type = RTE_FIB6_TRIE, .default_nh = 0,
				    .max_routes = (int)s->n_routes + 16,
				    .trie = { .nh_sz = RTE_FIB6_TRIE_4B,
					      .num_tbl8 = 1u << 17 } };
	char name[64];
	static int seq;
	snprintf(name, sizeof(name), "lpm6_%d", seq);
	t->lpm6 = rte_lpm6_create(name, SOCKET_ID_ANY, &lc);
	snprintf(name, sizeof(name), "fib6_%d", seq++);
	t->fib6 = rte_fib6_create(name, SOCKET_ID_ANY, &fc);
	for (size_t i = 0; i < s->n_routes; i++) {
		uint8_t ip[16];
		const struct ps_route_src *r = &s->routes[i];
		region_to_ip6(r->prefix, r->digits, ip);
		if (t->lpm6 && rte_lpm6_add(t->lpm6, ip, (uint8_t)(4 * r->digits),
					    (uint32_t)(i + 1) & 0x1fffff)) {
			rte_lpm6_free(t->lpm6);
			t->lpm6 = NULL;
		}
		if (t->fib6 && rte_fib6_add(t->fib6, ip, (uint8_t)(4 * r->digits),
					    i + 1)) {
			rte_fib6_free(t->fib6);
			t->fib6 = NULL;
		}
	}
	t->ip = malloc((size_t)NKEYS * 16);
	if (!t->ip) {
		fprintf(stderr, "bench: out of memory for the IPv6 keys\n");
		exit(1);
	}
	for (uint32_t i = 0; i < NKEYS; i++)
		region_to_ip6(k->s[i].region, 12, t->ip[i]);
}

double lpm_rivals_run_lpm6(struct lpm_rivals *t)
{
	int32_t nh[BURST];
	uint64_t c0 = bench_tsc(), acc = 0;
	for (uint32_t i = 0; i < NKEYS; i += BURST) {
		rte_lpm6_lookup_bulk_func(t->lpm6, t->ip + i, nh, BURST);
		acc += (uint64_t)nh[0];
	}
	bench_sink = acc;
	return bench_ns_per(c0, NKEYS);
}

double lpm_rivals_run_fib6(struct lpm_rivals *t)
{
	uint64_t nh[BURST];
	uint64_t c0 = bench_tsc(), acc = 0;
	for (uint32_t i = 0; i < NKEYS; i += BURST) {
		rte_fib6_lookup_bulk(t->fib6, t->ip + i, nh, BURST);
		acc += nh[0];
	}
	bench_sink = acc;
	return bench_ns_per(c0, NKEYS);
}

void lpm_rivals_free(struct lpm_rivals *t)
{
	rte_lpm6_free(t->lpm6);
	rte_fib6_free(t->fib6);
	free(t->ip);
}
