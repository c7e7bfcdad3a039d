/* port.c: DPDK port and queue set-up (see port.h). */
#include "port.h"

#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>

#define RX_DESC 1024
#define TX_DESC 1024

/* One line per port: which checksums its NIC checks and makes. */
static void say_offloads(const char *name, const struct rte_eth_conf *conf)
{
	uint64_t rx = conf->rxmode.offloads, tx = conf->txmode.offloads;
	printf("parcelsortd: %s checksum offloads: receive %s%s%s, "
	       "transmit %s%s%s\n", name,
	       rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM ? "IPv4 " : "",
	       rx & RTE_ETH_RX_OFFLOAD_UDP_CKSUM ? "UDP " : "",
	       rx ? "(trusted)" : "none (checked in software)",
	       tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM ? "IPv4 " : "",
	       tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM ? "UDP " : "",
	       tx ? "(made by the port)" : "none (made in software)");
}

static int setup_port(struct ps_ports *pp, unsigned idx, uint16_t port,
		      unsigned n_workers, const struct ps_dp_config *cfg,
		      char *err, size_t n)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc) {
		snprintf(err, n, "port %u: no device info (%s)", port,
			 rte_strerror(-rc));
		return -1;
	}
	uint16_t q = (uint16_t)n_workers;
	if (q > info.max_rx_queues)
		q = info.max_rx_queues;
	if (q > info.max_tx_queues)
		q = info.max_tx_queues;
	memset(&conf, 0, sizeof(conf));
	uint64_t rss = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) &
		       info.flow_type_rss_offloads;
	if (q > 1 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss;
	}
	/* checksum offloads where the port offers them (docs/dataplane.md):
	 * received checksums it checked are trusted, replies' are left to it */
	conf.rxmode.offloads = info.rx_offload_capa &
		(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	conf.txmode.offloads = info.tx_offload_capa &
		(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	/* without RSS a port still gets as many queue pairs as it has (a
	 * net_pcap port reads one file per queue); with one queue, the first
	 * worker polls it */
	rc = rte_eth_dev_configure(port, q, q, &conf);
	if (rc) {
		snprintf(err, n, "port %u: configure failed (%s)", port,
			 rte_strerror(-rc));
		return -1;
	}
	uint16_t nrx = RX_DESC, ntx = TX_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	for (uint16_t i = 0; i < q; i++) {
		rc = rte_eth_rx_queue_setup(port, i, nrx,
					    rte_eth_dev_socket_id(port), NULL,
					    pp->pool);
		if (!rc)
			rc = rte_eth_tx_queue_setup(port, i, ntx,
						    rte_eth_dev_socket_id(port),
						    NULL);
		if (rc) {
			snprintf(err, n, "port %u: queue %u set-up failed (%s; a "
				 "net_pcap port replaying a file needs "
				 "--mbufs above its packet count)",
				 port, i, rte_strerror(-rc));
			return -1;
		}
	}
	if (cfg->has_mac) {
		struct rte_ether_addr a;
		memcpy(a.addr_bytes, cfg->mac, 6);
		rte_eth_dev_default_mac_addr_set(port, &a);
	}
	rc = rte_eth_dev_start(port);
	if (rc) {
		snprintf(err, n, "port %u: start failed (%s)", port,
			 rte_strerror(-rc));
		return -1;
	}
	rte_eth_promiscuous_enable(port);
	struct rte_ether_addr mac;
	rte_eth_macaddr_get(port, &mac);
	pp->net[idx] = cfg->net;
	pp->net[idx].tx_udp_csum =
		!!(conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	pp->net[idx].tx_ip_csum =
		!!(conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
	memcpy(pp->net[idx].mac, cfg->has_mac ? cfg->mac : mac.addr_bytes, 6);
	pp->queues[idx] = q;
	pp->id[idx] = port;
	rte_eth_dev_get_name_by_port(port, pp->name[idx]);
	say_offloads(pp->name[idx], &conf);
	return 0;
}

int ps_ports_init(struct ps_ports *pp, unsigned n_workers,
		  const struct ps_dp_config *cfg, char *err, size_t n)
{
	memset(pp, 0, sizeof(*pp));
	uint16_t count = rte_eth_dev_count_avail();
	if (count == 0) {
		snprintf(err, n, "no DPDK port: give a NIC or a --vdev "
			 "(e.g. --vdev net_pcap0,rx_pcap=scans.pcap)");
		return -1;
	}
	unsigned mbufs = count * n_workers * (RX_DESC + TX_DESC + 2048) + 8192;
	if (cfg->mbufs)
		mbufs = cfg->mbufs;
	pp->pool = rte_pktmbuf_pool_create("ps_mbufs", mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   rte_socket_id());
	if (!pp->pool) {
		snprintf(err, n, "cannot create the mbuf pool (%u mbufs): %s",
			 mbufs, rte_strerror(rte_errno));
		return -1;
	}
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port) {
		if (setup_port(pp, pp->n, port, n_workers, cfg, err, n))
			return -1;
		pp->n++;
	}
	return 0;
}

void ps_ports_stop(struct ps_ports *pp)
{
	for (unsigned i = 0; i < pp->n; i++) {
		rte_eth_dev_stop(pp->id[i]);
		rte_eth_dev_close(pp->id[i]);
	}
}
