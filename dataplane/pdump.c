/* pdump.c: rte_pdump registration and its report (see pdump.h). */
#include "pdump.h"

#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#define PROBE "ps_ipc_probe"

static int registered;

static int probe_action(const struct rte_mp_msg *msg, const void *peer)
{
	(void)msg;
	(void)peer;
	return 0;
}

/* Whether DPDK's multi-process messaging works: it is off with
 * --no-shconf or --in-memory (rte_pdump_init then succeeds all the same,
 * and no dpdk-dumpcap could ever reach it). */
static int ipc_on(void)
{
	if (rte_mp_action_register(PROBE, probe_action) == 0) {
		rte_mp_action_unregister(PROBE);
		return 1;
	}
	return rte_errno != ENOTSUP;
}

int ps_pdump_register(char *report, size_t n)
{
	static const char tail[] = ": no secondary process such as "
				   "dpdk-dumpcap can attach";
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		snprintf(report, n, "unavailable: not the primary process");
		return -1;
	}
	int huge = rte_eal_has_hugepages(), ipc = ipc_on();
	if (!huge || !ipc) {
		snprintf(report, n, "unavailable: %s%s%s%s",
			 huge ? "" : "no hugepages (--no-huge)",
			 !huge && !ipc ? " and " : "",
			 ipc ? "" : "no multi-process messaging (--no-shconf "
			 "or --in-memory)", tail);
		return -1;
	}
	if (rte_pdump_init() < 0) {
		snprintf(report, n, "unavailable: rte_pdump_init: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	registered = 1;
	snprintf(report, n, "registered");
	return 0;
}

void ps_pdump_unregister(void)
{
	if (registered)
		rte_pdump_uninit();
	registered = 0;
}
