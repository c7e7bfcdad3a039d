/* counters.c: the names and help of the counters, generated from the lists
 * in counters.h, and summing the workers' copies. */
#include "counters.h"

static const char *const drop_names[PS_DROP_COUNT] = {
#define _(sym, name, help) #name,
	foreach_ps_drop(_)
#undef _
};

static const char *const drop_helps[PS_DROP_COUNT] = {
#define _(sym, name, help) help,
	foreach_ps_drop(_)
#undef _
};

static const char *const answer_names[PS_ANS_COUNT] = {
#define _(sym, name, help) #name,
	foreach_ps_answer(_)
#undef _
};

static const char *const answer_helps[PS_ANS_COUNT] = {
#define _(sym, name, help) help,
	foreach_ps_answer(_)
#undef _
};

const struct ps_counter_desc ps_counter_descs[PS_CNT_COUNT] = {
#define _(field, metric, type, help)					\
	{ #field, metric, PS_PROM_##type, help,				\
	  offsetof(struct ps_counters, field) },
	foreach_ps_counter(_)
#undef _
};

const char *ps_drop_name(unsigned d)
{
	return d < PS_DROP_COUNT ? drop_names[d] : "?";
}

const char *ps_drop_help(unsigned d)
{
	return d < PS_DROP_COUNT ? drop_helps[d] : "?";
}

const char *ps_answer_name(unsigned a)
{
	return a < PS_ANS_COUNT ? answer_names[a] : "?";
}

const char *ps_answer_help(unsigned a)
{
	return a < PS_ANS_COUNT ? answer_helps[a] : "?";
}

void ps_counters_add(struct ps_counters *acc, const struct ps_counters *c)
{
	/* every field is a uint64_t: add them as an array */
	const uint64_t *s = (const uint64_t *)c;
	uint64_t *d = (uint64_t *)acc;
	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

void ps_loop_counters_add(struct ps_loop_counters *acc,
			  const struct ps_loop_counters *c)
{
	for (unsigned i = 0; i < 65536; i++) {
		const struct ps_device_counters *s = &c->device[i];
		struct ps_device_counters *d = &acc->device[i];
		d->records += __atomic_load_n(&s->records, __ATOMIC_RELAXED);
		d->noread += __atomic_load_n(&s->noread, __ATOMIC_RELAXED);
		d->bad_barcode += __atomic_load_n(&s->bad_barcode,
						  __ATOMIC_RELAXED);
		d->malformed += __atomic_load_n(&s->malformed,
						__ATOMIC_RELAXED);
		d->duplicates += __atomic_load_n(&s->duplicates,
						 __ATOMIC_RELAXED);
		d->manifest_resolved += __atomic_load_n(&s->manifest_resolved,
							__ATOMIC_RELAXED);
		d->manifest_missed += __atomic_load_n(&s->manifest_missed,
						      __ATOMIC_RELAXED);
		uint64_t t = __atomic_load_n(&s->last_heard_s, __ATOMIC_RELAXED);
		if (t > d->last_heard_s)
			d->last_heard_s = t;
		const struct ps_chute_sort_counters *x = &c->chute[i];
		struct ps_chute_sort_counters *y = &acc->chute[i];
		y->sorted += __atomic_load_n(&x->sorted, __ATOMIC_RELAXED);
		y->missorted += __atomic_load_n(&x->missorted, __ATOMIC_RELAXED);
		y->not_discharged += __atomic_load_n(&x->not_discharged,
						     __ATOMIC_RELAXED);
	}
}
