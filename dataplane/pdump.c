/* pdump.c: rte_pdump registration and its report (see pdump.h). */
#include "pdump.h"

#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

static int registered;

int ps_pdump_register(char *report, size_t n)
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		snprintf(report, n, "unavailable: not the primary process");
		return -1;
	}
	if (!rte_eal_has_hugepages()) {
		snprintf(report, n, "unavailable: no hugepages (--no-huge): "
			 "no secondary process such as dpdk-dumpcap can "
			 "attach");
		return -1;
	}
	if (rte_pdump_init() < 0) {
		int e = rte_errno;
		snprintf(report, n, "unavailable: rte_pdump_init: %s%s",
			 rte_strerror(e), e == ENOTSUP
			 ? " (multi-process support is off: --no-shconf or "
			   "--in-memory)" : "");
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
