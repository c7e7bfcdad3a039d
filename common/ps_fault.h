/* ps_fault.h: fault points for the tests. Code that must survive a
 * failure it cannot provoke on demand (a directory fsync refused, an
 * allocation failing at one exact place) asks ps_fault_hit() first; the
 * tests arm a point for a given number of hits. Always compiled in; only
 * the tests arm them, and an unarmed point costs one relaxed atomic load.
 * Never on the dataplane's hot path. */
#ifndef PS_FAULT_H
#define PS_FAULT_H

enum ps_fault_point {
	PS_FAULT_DIR_FSYNC,      /* plan_persist: fsync of the state dir */
	PS_FAULT_MODEL_COPY,     /* plan_store: copy of the committed model */
	PS_FAULT_N
};

/* Tests only: let the next `skip` hits pass, then fail `count` hits with
 * error number err (count 0 disarms). */
void ps_fault_arm(enum ps_fault_point p, unsigned skip, unsigned count,
		  int err);
/* 0 to go on, or the error number to fail with (errno is set to it). */
int ps_fault_hit(enum ps_fault_point p);

#endif
