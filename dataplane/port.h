/* port.h: bring up every DPDK port for the workers: one RX/TX queue pair
 * per worker (RSS over them where the port can), a shared mbuf pool,
 * promiscuous reception (the dataplane filters MACs itself). */
#ifndef PS_PORT_H
#define PS_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "config.h"

struct ps_ports {
	uint16_t n;
	uint16_t id[RTE_MAX_ETHPORTS];
	uint16_t queues[RTE_MAX_ETHPORTS];   /* queue pairs set up */
	struct ps_net_cfg net[RTE_MAX_ETHPORTS];  /* with each port's MAC */
	char name[RTE_MAX_ETHPORTS][RTE_ETH_NAME_MAX_LEN];
	struct rte_mempool *pool;
};

int ps_ports_init(struct ps_ports *pp, unsigned n_workers,
		  const struct ps_dp_config *cfg, char *err, size_t errlen);
void ps_ports_stop(struct ps_ports *pp);

#endif
