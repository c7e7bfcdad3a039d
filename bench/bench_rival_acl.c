/* bench_rival_acl.c: the rival of the rule index: the plan's override
 * rules as DPDK rte_acl rules (service bits, carrier, device, weight and
 * size ranges, the region as township and village ranges), classified in
 * bursts of 32 with the keys built per burst as a real caller must. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_acl.h>

#include "plan_bench.h"

struct acl_key {
	uint8_t svc;
	uint8_t pad[3];
	uint16_t carrier;        /* network order, as rte_acl reads input */
	uint16_t device;
	uint32_t weight;
	uint32_t town;           /* region / 1000 */
	uint16_t size;
	uint16_t village;        /* region % 1000 */
};

enum { F_SVC, F_CAR, F_DEV, F_W, F_TOWN, F_SIZE, F_VILL, F_N };

static const struct rte_acl_field_def acl_fields[F_N] = {
	{ RTE_ACL_FIELD_TYPE_BITMASK, 1, F_SVC, 0, offsetof(struct acl_key, svc) },
	{ RTE_ACL_FIELD_TYPE_MASK, 2, F_CAR, 1, offsetof(struct acl_key, carrier) },
	{ RTE_ACL_FIELD_TYPE_MASK, 2, F_DEV, 1, offsetof(struct acl_key, device) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 4, F_W, 2, offsetof(struct acl_key, weight) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 4, F_TOWN, 3, offsetof(struct acl_key, town) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 2, F_SIZE, 4, offsetof(struct acl_key, size) },
	{ RTE_ACL_FIELD_TYPE_RANGE, 2, F_VILL, 4, offsetof(struct acl_key, village) },
};

RTE_ACL_RULE_DEF(acl_rule, F_N);

/* A plan rule's conditions folded into ranges; 0 when they contradict
 * each other (such a rule can never match and is left out). */
struct acl_ranges {
	uint64_t wlo, whi, slo, rlo, rhi;
	int car, dev;
	uint8_t svc;
};

static int fold_conds(const struct ps_plan_src *src,
		      const struct ps_rule_src *r, struct acl_ranges *g)
{
	int impossible = 0;
	*g = (struct acl_ranges){ .whi = 0xffffffffull,
				  .rhi = PS_REGION_MAX + 1,
				  .car = -1, .dev = -1 };
	for (uint16_t k = 0; k < r->n_conds; k++) {
		const struct ps_cond *c = &src->conds[r->cond_off + k];
		uint64_t lo, hi;
		switch (c->kind) {
		case PS_COND_SERVICE: g->svc |= (uint8_t)c->value; break;
		case PS_COND_CARRIER:
			impossible |= g->car >= 0 && g->car != (int)c->value;
			g->car = (int)c->value;
			break;
		case PS_COND_DEVICE:
			impossible |= g->dev >= 0 && g->dev != (int)c->value;
			g->dev = (int)c->value;
			break;
		case PS_COND_WEIGHT_GE:
			g->wlo = c->value > g->wlo ? c->value : g->wlo;
			break;
		case PS_COND_WEIGHT_LT:
			g->whi = c->value ? (c->value - 1 < g->whi ? c->value - 1
								   : g->whi)
					  : 0;
			impossible |= c->value == 0;
			break;
		case PS_COND_SIZE_GE:
			g->slo = c->value > g->slo ? c->value : g->slo;
			break;
		case PS_COND_PREFIX:
			lo = ps_region_pad(c->value, c->digits);
			hi = lo + ps_region_pad(1, c->digits);
			g->rlo = lo > g->rlo ? lo : g->rlo;
			g->rhi = hi < g->rhi ? hi : g->rhi;
			break;
		}
	}
	return !(impossible || g->wlo > g->whi || g->rlo >= g->rhi);
}

static void acl_rule_of(const struct acl_ranges *g, uint16_t priority,
			uint32_t userdata, struct acl_rule *a)
{
	memset(a, 0, sizeof(*a));
	a->data.category_mask = 1;
	a->data.priority = (int32_t)(65536 - priority);
	a->data.userdata = userdata;
	a->field[F_SVC].value.u8 = g->svc;
	a->field[F_SVC].mask_range.u8 = g->svc;
	a->field[F_CAR].value.u16 = g->car >= 0 ? (uint16_t)g->car : 0;
	a->field[F_CAR].mask_range.u16 = g->car >= 0 ? 16 : 0;
	a->field[F_DEV].value.u16 = g->dev >= 0 ? (uint16_t)g->dev : 0;
	a->field[F_DEV].mask_range.u16 = g->dev >= 0 ? 16 : 0;
	a->field[F_W].value.u32 = (uint32_t)g->wlo;
	a->field[F_W].mask_range.u32 = (uint32_t)g->whi;
	a->field[F_SIZE].value.u16 = (uint16_t)g->slo;
	a->field[F_SIZE].mask_range.u16 = 65535;
	/* a decimal prefix of 2-9 digits is a range of townships; of 12
	 * digits one township and one village */
	uint64_t last = g->rhi - 1;
	int one_town = g->rlo / 1000 == last / 1000;
	a->field[F_TOWN].value.u32 = (uint32_t)(g->rlo / 1000);
	a->field[F_TOWN].mask_range.u32 = (uint32_t)(last / 1000);
	a->field[F_VILL].value.u16 = (uint16_t)(one_town ? g->rlo % 1000 : 0);
	a->field[F_VILL].mask_range.u16 = (uint16_t)(one_town ? last % 1000
							      : 999);
}

/* One ACL rule per plan rule (contradictory rules are left out). */
struct rte_acl_ctx *acl_rival_build(const struct ps_plan_src *src,
				    const uint32_t *order)
{
	static int seq;
	char name[32];
	snprintf(name, sizeof(name), "rules%d", seq++);
	struct rte_acl_param prm = { name, SOCKET_ID_ANY,
				     RTE_ACL_RULE_SZ(F_N),
				     (uint32_t)src->n_rules + 1 };
	struct rte_acl_ctx *ctx = rte_acl_create(&prm);
	if (!ctx)
		return NULL;
	for (uint32_t i = 0; i < src->n_rules; i++) {
		const struct ps_rule_src *r = &src->rules[order[i]];
		struct acl_ranges g;
		struct acl_rule a;
		if (!fold_conds(src, r, &g))
			continue;
		acl_rule_of(&g, r->priority, i + 1, &a);
		if (rte_acl_add_rules(ctx, (struct rte_acl_rule *)&a, 1)) {
			rte_acl_free(ctx);
			return NULL;
		}
	}
	struct rte_acl_config cfg = { .num_categories = 1,
				      .num_fields = F_N };
	memcpy(cfg.defs, acl_fields, sizeof(acl_fields));
	if (rte_acl_build(ctx, &cfg)) {
		rte_acl_free(ctx);
		return NULL;
	}
	return ctx;
}

static inline void acl_key_of(const struct ps_scan *s, struct acl_key *k)
{
	uint16_t size = s->length_mm > s->width_mm ? s->length_mm : s->width_mm;
	if (s->height_mm > size)
		size = s->height_mm;
	k->svc = s->service;
	k->carrier = htons(s->carrier);
	k->device = htons(s->device);
	k->weight = htonl(s->weight_g);
	uint64_t town = s->region / 1000;
	k->town = htonl((uint32_t)town);
	k->village = htons((uint16_t)(s->region - town * 1000));
	k->size = htons(size);
}

double acl_rival_run(struct rte_acl_ctx *ctx, const struct ps_scan *s,
		     uint32_t n, int *out_first, uint32_t n_out)
{
	struct acl_key keys[BURST];
	const uint8_t *ptr[BURST];
	uint32_t res[BURST];
	uint64_t c0 = bench_tsc(), acc = 0;
	for (uint32_t i = 0; i < n; i += BURST) {
		for (int k = 0; k < BURST; k++) {
			acl_key_of(&s[i + k], &keys[k]);
			ptr[k] = (const uint8_t *)&keys[k];
		}
		rte_acl_classify(ctx, ptr, res, BURST, 1);
		for (int k = 0; k < BURST; k++) {
			acc += res[k];
			if (i + k < n_out)
				out_first[i + k] = (int)res[k] - 1;
		}
	}
	bench_sink = acc;
	return bench_ns_per(c0, n);
}

void acl_rival_free(struct rte_acl_ctx *ctx)
{
	rte_acl_free(ctx);
}
