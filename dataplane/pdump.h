/* pdump.h: registering DPDK's packet capture framework (rte_pdump), so
 * that dpdk-dumpcap, a secondary process, can capture the daemon's ports.
 * It needs DPDK's multi-process support: hugepages and shared
 * configuration files; a daemon run with --no-huge or --no-shconf cannot
 * have secondary processes, and says so (docs/dataplane.md, "Capture"). */
#ifndef PS_PDUMP_H
#define PS_PDUMP_H

#include <stddef.h>

/* Register rte_pdump; writes "registered" or "unavailable: <why>" into
 * report (n bytes). Returns 0 when registered. After rte_eal_init. */
int ps_pdump_register(char *report, size_t n);
/* Undo a registration (no-op when there was none). */
void ps_pdump_unregister(void);

#endif
