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
#define PS_CONFIG_MAX_KEYS 64

/* Installed builds compile meson's paths in; a build tree keeps these. */
#ifndef PS_STATE_DIR_DEFAULT
#define PS_STATE_DIR_DEFAULT "/var/lib/parcelsort"
#endif
#ifndef PS_CTL_SOCKET_DEFAULT
#define PS_CTL_SOCKET_DEFAULT "/run/parcelsort/ctl.sock"
#endif

/* One row of the key table (config.c): "section.key", its flag, the
 * flag's argument, the default (NULL: none, or computed), whether SIGHUP
 * applies it live, the help. */
struct ps_config_key {
	const char *key, *opt, *arg, *def;
	int live;
	const char *help;
};
extern const struct ps_config_key ps_config_keys[];
extern const unsigned ps_config_n_keys;

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
	int log_level;                 /* PS_LOG_* */
	int log_level_set;             /* given (then DPDK's level follows) */
	char log_file[PATH_MAX];       /* empty: stderr */
	char config_path[PATH_MAX];    /* --config, empty: none */
	/* the value given for each key of the table (file or flag), NULL:
	 * its default; compared on SIGHUP to say what changed */
	char *given[PS_CONFIG_MAX_KEYS];
};

/* Parse the application arguments (those after "--"). Returns 0, 1 when
 * --help was printed, or -1 with the message in err. */
int ps_config_parse(struct ps_dp_config *c, int argc, char **argv, char *err,
		    size_t errlen);
void ps_config_usage(FILE *f);
/* Parse like ps_config_parse but go on past errors: every one is added
 * to errs (for --check-config). Returns the number of errors. */
struct ps_errors;
int ps_config_check_args(struct ps_dp_config *c, int argc, char **argv,
			 struct ps_errors *errs);
/* The shipped parcelsortd.conf: every key, commented, with its default. */
void ps_config_print(FILE *f);
/* The table as tab-separated lines (key, option, arg, default,
 * live|restart, help): what the man page is generated from. */
void ps_config_print_keys(FILE *f);
const struct ps_config_key *ps_config_key_find(const char *key);
/* Free the given values (the rest of the struct is plain). */
void ps_config_free(struct ps_dp_config *c);

#endif
