/* ps_fault.c: test-armed fault points (ps_fault.h). */
#include "ps_fault.h"

#include <errno.h>
#include <stdatomic.h>

struct fault {
	atomic_uint skip, count;
	atomic_int err;
};

static struct fault faults[PS_FAULT_N];

void ps_fault_arm(enum ps_fault_point p, unsigned skip, unsigned count,
		  int err)
{
	atomic_store(&faults[p].count, 0);
	atomic_store(&faults[p].skip, skip);
	atomic_store(&faults[p].err, err ? err : EIO);
	atomic_store(&faults[p].count, count);
}

static int take_one(atomic_uint *c)
{
	unsigned v = atomic_load_explicit(c, memory_order_relaxed);
	while (v && !atomic_compare_exchange_weak(c, &v, v - 1))
		;
	return v != 0;
}

int ps_fault_hit(enum ps_fault_point p)
{
	struct fault *f = &faults[p];
	if (!atomic_load_explicit(&f->count, memory_order_relaxed))
		return 0;
	if (take_one(&f->skip))
		return 0;
	if (!take_one(&f->count))
		return 0;
	errno = atomic_load(&f->err);
	return errno;
}
