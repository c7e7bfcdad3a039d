/* plan_compile.c: compile a validated sort plan model into the read-only
 * lookup structure of plan.h: next hops and chute pool, the 6-3-3 decimal
 * DIR route table, and the rule index. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "plan.h"
#include "plan_rules.h"
#include "u64map.h"

#define L1_SIZE 1000000u
#define L2_SIZE 1000u

struct builder {
	struct ps_plan *p;
	const struct ps_plan_src *src;
	struct ps_errors *errs;
	uint64_t *village;        /* region << 24 | next hop, for the hash */
	uint32_t n_village;
};

/* Zeroed memory for the tables. Large ones get their own mapping with
 * transparent huge pages requested: random look-ups over tens of MB then
 * miss the TLB far less. Each allocation is recorded for ps_plan_free. */
static void *xcalloc(struct ps_plan *p, size_t n, size_t sz)
{
	size_t len = (n ? n : 1) * sz;
	void *m;
	if (len < PS_BIG_ALLOC) {
		m = calloc(1, len);
	} else {
		len = (len + PS_BIG_ALLOC - 1) & ~(size_t)(PS_BIG_ALLOC - 1);
		m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		madvise(m, len, MADV_HUGEPAGE);
	}
	if (!m)
		return NULL;
	p->bytes += len;
	if (p->n_allocs < PS_PLAN_ALLOCS) {
		p->alloc[p->n_allocs].ptr = m;
		p->alloc[p->n_allocs].len = len;
		p->n_allocs++;
	}
	return m;
}

static void xfree_all(struct ps_plan *p)
{
	for (unsigned i = 0; i < p->n_allocs; i++) {
		if (p->alloc[i].len < PS_BIG_ALLOC)
			free(p->alloc[i].ptr);
		else
			munmap(p->alloc[i].ptr, p->alloc[i].len);
	}
	p->n_allocs = 0;
}

/* Append a next hop with a copy of its chute list; returns its index. */
static uint32_t add_nh(struct builder *b, uint32_t hub_id, uint8_t tier,
		       uint8_t reason, uint64_t prefix12,
		       struct ps_chute_list cl)
{
	struct ps_plan *p = b->p;
	uint32_t i = p->n_nh++;
	struct ps_nh *nh = &p->nh[i];
	nh->hub = hub_id;
	nh->pm = prefix12 | (uint64_t)tier << 40 | (uint64_t)reason << 48;
	const uint16_t *c = ps_plan_chutes(b->src, cl);
	if (cl.n == 1) {
		nh->chute_ref = PS_NH_INLINE | c[0];
		return i;
	}
	nh->chute_ref = p->n_chutes;
	p->chutes[p->n_chutes++] = cl.n;
	memcpy(p->chutes + p->n_chutes, c, cl.n * sizeof(uint16_t));
	p->n_chutes += cl.n;
	return i;
}

static int too_big(struct builder *b, const char *what, size_t n)
{
	if (n <= PS_E_INDEX_MAX)
		return 0;
	ps_errors_add(b->errs, "plan", 0, "cannot build: %zu %s exceed the "
		      "limit of %u of the route table", n, what,
		      PS_E_INDEX_MAX);
	return 1;
}

static int by_digits_then_prefix(const void *a, const void *b)
{
	const struct ps_route_src *x = *(const struct ps_route_src *const *)a;
	const struct ps_route_src *y = *(const struct ps_route_src *const *)b;
	if (x->digits != y->digits)
		return x->digits - y->digits;
	return (x->prefix > y->prefix) - (x->prefix < y->prefix);
}

/* Index of the county node for 6-digit county code c, creating it. */
static uint32_t county_node(struct ps_plan *p, uint32_t c)
{
	uint32_t e = p->l1[c];
	if ((e >> PS_E_TYPE_SHIFT) == PS_E_NODE)
		return e & PS_E_INDEX_MAX;
	uint32_t idx = p->n_l2++;
	uint32_t *node = p->l2 + (size_t)idx * L2_SIZE;
	for (uint32_t i = 0; i < L2_SIZE; i++)
		node[i] = e;                  /* inherit the 2/4/6-digit leaf */
	p->l1[c] = PS_E_NODE << PS_E_TYPE_SHIFT | idx;
	return idx;
}

/* Count the county nodes and the townships with village routes. */
static int count_deep(struct ps_route_src **r, size_t n,
		      uint32_t *n_nodes, uint32_t *n_blocks)
{
	struct ps_u64map counties, towns;
	if (ps_u64map_init(&counties, 1024) || ps_u64map_init(&towns, 1024))
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t pad = ps_region_pad(r[i]->prefix, r[i]->digits);
		if (r[i]->digits < 9)
			continue;
		if (ps_u64map_put(&counties, pad / 1000000u, 0) ==
			    PS_U64MAP_NOMEM ||
		    (r[i]->digits == 12 &&
		     ps_u64map_put(&towns, pad / 1000u, 0) == PS_U64MAP_NOMEM))
			return -1;
	}
	*n_nodes = (uint32_t)counties.n;
	*n_blocks = (uint32_t)towns.n;
	ps_u64map_free(&counties);
	ps_u64map_free(&towns);
	return 0;
}

static int build_routes(struct builder *b)
{
	struct ps_plan *p = b->p;
	const struct ps_plan_src *src = b->src;
	size_t n = src->n_routes, i;
	struct ps_route_src **r = malloc((n ? n : 1) * sizeof(*r));
	if (!r)
		return -1;
	for (i = 0; i < n; i++)
		r[i] = &src->routes[i];
	qsort(r, n, sizeof(*r), by_digits_then_prefix);

	uint32_t n_nodes, n_blocks, n_village = 0;
	if (count_deep(r, n, &n_nodes, &n_blocks))
		goto oom;
	for (i = 0; i < n; i++)
		n_village += r[i]->digits == 12;
	p->l1 = xcalloc(p, L1_SIZE, sizeof(uint32_t));
	p->l2 = xcalloc(p, (size_t)n_nodes * L2_SIZE, sizeof(uint32_t));
	p->vbase = xcalloc(p, n_blocks, sizeof(*p->vbase));
	b->village = malloc((n_village ? n_village : 1) * sizeof(uint64_t));
	if (!p->l1 || !p->l2 || !p->vbase || !b->village)
		goto oom;

	for (i = 0; i < n; i++) {
		const struct ps_route_src *rt = r[i];
		uint64_t pad = ps_region_pad(rt->prefix, rt->digits);
		uint32_t leaf = add_nh(b, rt->hub, 0, PS_R_ROUTED, pad,
				       rt->chutes);
		b->p->nh[leaf].pm |= (uint64_t)rt->digits << 56;
		uint32_t c = (uint32_t)(pad / 1000000u);
		switch (rt->digits) {
		case 2:
		case 4: {
			uint32_t span = rt->digits == 2 ? 10000u : 100u;
			for (uint32_t k = 0; k < span; k++)
				p->l1[c + k] = leaf;
			break;
		}
		case 6:
			p->l1[c] = leaf;
			break;
		case 9: {
			uint32_t node = county_node(p, c);
			uint32_t t = (uint32_t)(pad / 1000u % 1000u);
			p->l2[(size_t)node * L2_SIZE + t] = leaf;
			break;
		}
		case 12: {
			uint32_t node = county_node(p, c);
			uint32_t t = (uint32_t)(pad / 1000u % 1000u);
			uint32_t *e = &p->l2[(size_t)node * L2_SIZE + t];
			if ((*e >> PS_E_TYPE_SHIFT) != PS_E_BLOCK) {
				p->vbase[p->n_vbase] = *e;
				*e = PS_E_BLOCK << PS_E_TYPE_SHIFT |
				     p->n_vbase++;
			}
			b->village[b->n_village++] = pad << 24 | leaf;
			break;
		}
		}
	}
	free(r);
	return 0;
oom:
	free(r);
	ps_errors_add(b->errs, "plan", 0, "out of memory building the route "
		      "table (%zu routes)", n);
	return -1;
}

/* The village routes' exact-match hash: buckets of four 16-byte slots,
 * at most three quarters full on average, so a bucket rarely overflows
 * (an overflow goes on in the next bucket). Built last: a slot holds the
 * decision, tier included. */
static int build_village_hash(struct builder *b)
{
	struct ps_plan *p = b->p;
	if (!b->n_village)
		return 0;
	if (p->n_nh > PS_VH_NH_MAX) {
		ps_errors_add(b->errs, "plan", 0, "cannot build: %u next hops "
			      "exceed the limit of %u of the village table",
			      p->n_nh, PS_VH_NH_MAX);
		return -1;
	}
	uint64_t buckets = 1;
	while (buckets * 3 < b->n_village)
		buckets <<= 1;
	p->vh = xcalloc(p, buckets * 4, sizeof(*p->vh));
	if (!p->vh) {
		ps_errors_add(b->errs, "plan", 0, "out of memory building the "
			      "village table (%u routes)", b->n_village);
		return -1;
	}
	p->vh_mask = (uint32_t)(buckets - 1);
	for (uint32_t i = 0; i < b->n_village; i++) {
		uint64_t region = b->village[i] >> 24;
		uint32_t leaf = (uint32_t)(b->village[i] & PS_VH_NH_MAX);
		const struct ps_nh *nh = &p->nh[leaf];
		struct ps_vh_slot *s = (struct ps_vh_slot *)ps_vh_bucket(p,
									 region);
		while (s->key_nh) {
			s++;
			if (s == p->vh + (buckets * 4))
				s = p->vh;
		}
		s->key_nh = region | (uint64_t)leaf << 40;
		s->dec = nh->hub |
			 (uint64_t)(nh->chute_ref & PS_NH_INLINE
				    ? (uint16_t)nh->chute_ref : 0) << 32 |
			 (uint64_t)ps_nh_tier(nh) << 48 |
			 (uint64_t)ps_nh_reason(nh) << 56;
		p->n_vh++;
	}
	return 0;
}

static int by_priority(const void *a, const void *b)
{
	const struct ps_rule_src *x = *(const struct ps_rule_src *const *)a;
	const struct ps_rule_src *y = *(const struct ps_rule_src *const *)b;
	return x->priority - y->priority;
}

/* Next hops of the rules in priority order, then the rule index. */
static int build_rules(struct builder *b)
{
	const struct ps_plan_src *src = b->src;
	size_t n = src->n_rules;
	const struct ps_rule_src **rs = malloc((n ? n : 1) * sizeof(*rs));
	uint32_t *nh = malloc((n ? n : 1) * sizeof(*nh));
	int rc = -1;
	if (!rs || !nh) {
		ps_errors_add(b->errs, "plan", 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		rs[i] = &src->rules[i];
	qsort(rs, n, sizeof(*rs), by_priority);
	for (size_t i = 0; i < n; i++)
		nh[i] = add_nh(b, rs[i]->hub, 0, PS_R_OVERRIDE, 0,
			       rs[i]->chutes);
	rc = ps_rules_build(&b->p->rules, src, rs, nh, (uint32_t)n, b->errs);
	if (rc == 0)
		b->p->bytes += b->p->rules.bytes;
out:
	free(rs);
	free(nh);
	return rc;
}

static uint8_t hub_tier(const struct ps_u64map *hubs,
			const struct ps_plan_src *src, uint32_t id)
{
	uint32_t i = ps_u64map_get(hubs, id);
	return i == PS_U64MAP_EMPTY ? 0 : src->hubs[i].tier;
}

static void fill_tiers(struct ps_plan *p, const struct ps_plan_src *src,
		       const struct ps_u64map *hubs)
{
	for (uint32_t i = 1; i < p->n_nh; i++)
		p->nh[i].pm |= (uint64_t)hub_tier(hubs, src, p->nh[i].hub) << 40;
}

struct ps_plan *ps_plan_compile(const struct ps_plan_src *src,
				uint32_t version, struct ps_errors *errs)
{
	struct builder b = { .src = src, .errs = errs };
	struct ps_plan *p = calloc(1, sizeof(*p));
	struct ps_u64map hubs = { 0 };
	if (!p) {
		ps_errors_add(errs, "plan", 0, "out of memory");
		return NULL;
	}
	b.p = p;
	p->bytes = sizeof(*p);
	p->version = version;
	p->site = src->site;
	p->reject = src->reject;
	p->intercept = src->intercept ? src->intercept : src->reject;
	p->recirculate = src->recirculate;
	memcpy(p->name, src->name, sizeof(p->name));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	p->committed_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

	size_t n_nh = 1 + src->n_routes + src->n_rules + 1;
	if (too_big(&b, "routes and rules", n_nh))
		goto fail;
	size_t n_ch = src->n_chutes + n_nh;        /* lists and their counts */
	if (n_ch >= PS_NH_INLINE) {
		ps_errors_add(errs, "plan", 0, "cannot build: %zu chute list "
			      "entries exceed the limit of %u", n_ch,
			      PS_NH_INLINE - 1);
		goto fail;
	}
	p->nh = xcalloc(p, n_nh, sizeof(*p->nh));
	p->chutes = xcalloc(p, n_ch, sizeof(uint16_t));
	if (!p->nh || !p->chutes || ps_u64map_init(&hubs, src->n_hubs))
		goto oom;
	for (size_t i = 0; i < src->n_hubs; i++)
		ps_u64map_put(&hubs, src->hubs[i].id, (uint32_t)i);
	p->n_nh = 1;                             /* nh[0]: no route */
	if (build_routes(&b))
		goto fail;
	if (src->has_default)
		p->default_nh = add_nh(&b, src->default_hub, 0, PS_R_DEFAULT, 0,
				       src->default_chutes);
	if (build_rules(&b))
		goto fail;
	fill_tiers(p, src, &hubs);
	if (build_village_hash(&b))
		goto fail;
	ps_u64map_free(&hubs);
	free(b.village);
	return p;
oom:
	ps_errors_add(errs, "plan", 0, "out of memory compiling the plan");
fail:
	ps_u64map_free(&hubs);
	free(b.village);
	ps_plan_free(p);
	return NULL;
}

void ps_plan_free(struct ps_plan *p)
{
	if (!p)
		return;
	/* poison what a reader would touch, so a use after free shows up as
	 * a wrong decision in the tests and not as silence */
	if (p->nh)
		memset(p->nh, 0xff, p->n_nh * sizeof(*p->nh));
	p->version = 0xdeadbeef;
	xfree_all(p);
	ps_rules_free(&p->rules);
	free(p);
}
