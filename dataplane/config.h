/* config.h: parcelsortd's site configuration: an INI file read with DPDK's
 * rte_cfgfile (--config) and command-line flags that override it. Every
 * invalid value is refused with the key and the reason. */
#ifndef PS_CONFIG_H
#define PS_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "pkt.h"

#define PS_MAX_ALLOW 64

struct ps_dp_config {
	struct ps_net_cfg net;
	struct ps_prefix allow[PS_MAX_ALLOW];
	struct ps_prefix sorter_allow[PS_MAX_ALLOW];
	int has_mac;
	uint8_t mac[6];
	uint32_t site;                 /* reply site id before a plan exists */
	uint32_t mbufs;                /* mbuf pool size, 0: sized for the queues */
	char plan[PATH_MAX];           /* initial plan, used if the state has none */
	char state_dir[PATH_MAX];
	char ctl[PATH_MAX];
	char metrics[128];             /* ADDR:PORT of /metrics, "off" */
	uint32_t dedup_window;
	uint64_t dedup_capacity;
	uint64_t manifest_capacity;    /* waybills the manifest holds */
	uint64_t manifest_ttl_ms;      /* an entry lapses this long after its add */
	char export_path[PATH_MAX];    /* empty: export off */
	uint32_t export_ring;
	char spool_dir[PATH_MAX];      /* empty: no spool */
	uint32_t spool_max_mb;
	uint32_t idle_sleep_us;        /* 0: poll without pause */
	double duration;               /* stop after this many seconds (0: never) */
	double stats_interval;         /* print rates every N s (0: never) */
	int summary;                   /* print the final summary */
};

/* Parse the application arguments (those after "--"). Returns 0, 1 when
 * --help was printed, or -1 with the message in err. */
int ps_config_parse(struct ps_dp_config *c, int argc, char **argv, char *err,
		    size_t errlen);
void ps_config_usage(FILE *f);

#endif
