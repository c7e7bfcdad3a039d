/* fleet.h: what the fleet's programs share about NATS JetStream: the
 * names of the buckets and the stream, connecting with the cluster's
 * addresses, creating or binding the buckets and the stream, site ids, the
 * trailer a pushed plan carries, and small JSON helpers for the status
 * records. parcelsortctl's fleet commands and parcelsort-agent link it;
 * parcelsortd never does. docs/fleet.md describes the design. */
#ifndef PS_FLEET_H
#define PS_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "outbuf.h"

#define PS_FLEET_PLANS   "PARCELSORT_PLANS"     /* KV: site.ID -> plan text */
#define PS_FLEET_STATUS  "PARCELSORT_STATUS"    /* KV: site.ID -> JSON */
#define PS_FLEET_EVENTS  "PARCELSORT_EVENTS"    /* stream */
#define PS_FLEET_SUBJECT "parcelsort.events."   /* + site id */
#define PS_FLEET_PLAN_HISTORY 16
#define PS_FLEET_DUP_WINDOW_S 3600              /* de-duplication window */
#define PS_FLEET_SITE_MAX 64

struct ps_fleet {
	natsConnection *nc;
	jsCtx *js;
	kvStore *plans, *status;
	char nkey_seed[64];       /* --nats-creds with an nkey seed: signs
				   * the server's nonce at each (re)connect */
};

/* TLS and credentials (all optional; none: plain TCP, no user, as
 * before). docs/fleet.md, "Security". */
struct ps_fleet_sec {
	const char *ca;           /* --nats-ca: trust only this CA, verify */
	const char *cert, *key;   /* --nats-cert/--nats-key: client cert */
	const char *tls_name;     /* --nats-tls-name: the name the servers'
				   * certificates must carry (default: the
				   * host of the first URL) */
	const char *creds;        /* --nats-creds: a NATS creds file */
	const char *user;         /* --nats-user */
	const char *password_file;/* --nats-password-file */
	const char *inbox;        /* reply subjects' prefix (default _INBOX) */
};

/* The security options for getopt_long tables (ids from 1000), shared by
 * parcelsortctl fleet and parcelsort-agent. */
#define PS_FLEET_SEC_OPTIONS \
	{ "nats-ca", required_argument, 0, 1000 }, \
	{ "nats-cert", required_argument, 0, 1001 }, \
	{ "nats-key", required_argument, 0, 1002 }, \
	{ "nats-tls-name", required_argument, 0, 1003 }, \
	{ "nats-creds", required_argument, 0, 1004 }, \
	{ "nats-user", required_argument, 0, 1005 }, \
	{ "nats-password-file", required_argument, 0, 1006 }, \
	{ "nats-inbox", required_argument, 0, 1007 }
/* 1 when id was one of them (stored in c), else 0. */
int ps_fleet_sec_option(struct ps_fleet_sec *c, int id, const char *arg);
/* Their lines in a usage text. */
extern const char ps_fleet_sec_usage[];

struct ps_fleet_opts {
	const char *servers;      /* "nats://h:p,nats://h:p" */
	const char *name;         /* connection name */
	int replicas;             /* for buckets and the stream it creates */
	int persistent;           /* keep trying to connect, reconnect forever */
	volatile int *stop;       /* a persistent client gives up when set */
	struct ps_fleet_sec sec;
	int holds;                /* bind (create) the hold stream too: the
				   * commands do; a site's agent does not,
				   * its hold thread finds the stream itself */
	jsPubAckErrHandler on_pub_error;
	void *on_pub_error_arg;
};

/* Connect, then bind the buckets and the stream, creating those missing.
 * 0, or -1 with the reason. */
int ps_fleet_open(struct ps_fleet *f, const struct ps_fleet_opts *o,
		  char *err, size_t errlen);
void ps_fleet_close(struct ps_fleet *f);
/* Bind the stream name on subject, creating it when missing (file
 * storage; max_age_s 0: no age limit). */
natsStatus ps_fleet_bind_stream(struct ps_fleet *f, const char *name,
				const char *subject, int replicas,
				int64_t dup_window_s, int64_t max_age_s,
				bool allow_direct);
/* The NATS error behind status s, as text. */
const char *ps_fleet_error(natsStatus s);

/* Site ids: 1..64 of [A-Za-z0-9_-]. */
int ps_fleet_site_ok(const char *site);
void ps_fleet_key(char *out, size_t n, const char *site);   /* "site.ID" */

/* A pushed plan ends with a comment line naming its file and push time,
 * so line numbers stay those of the file:
 *   "# parcelsort-fleet file=NAME pushed_ms=MS" */
void ps_fleet_trailer(struct ps_out *o, const char *file, uint64_t ms);
/* Read it back (file "fleet" and 0 when absent). */
void ps_fleet_trailer_parse(const char *text, size_t len, char *file,
			    size_t file_len, uint64_t *pushed_ms);

/* Minimal JSON reading for the status records this code writes: the
 * number or string value of a top-level or nested "key" (first match). */
int ps_json_u64(const char *json, const char *key, uint64_t *v);
int ps_json_str(const char *json, const char *key, char *out, size_t n);
/* The strings of the array "key", decoded, one per line, into o. */
int ps_json_str_array(const char *json, const char *key, struct ps_out *o);

/* A message header's value: as a number in base (at most max), or as a
 * string that fits n bytes (with its NUL). 0, or -1 when absent or bad. */
int ps_fleet_header_num(natsMsg *m, const char *key, int base, uint64_t max,
			uint64_t *v);
int ps_fleet_header_str(natsMsg *m, const char *key, char *out, size_t n);

/* The most event blocks an agent has in flight (--window 1..256). */
#define PS_FLEET_WINDOW_MAX 256

/* At its start, an agent asks the stream for the last event block it
 * holds, (last_boot, last_seq), and skips the spool's blocks the stream
 * is sure to have. A block is published only after every block of the
 * windows before its own was acknowledged, so the stream holds every
 * block up to last_seq - PS_FLEET_WINDOW_MAX (and every block of an
 * earlier boot); a block of the last window may be missing (a publish
 * that failed while a later one of the same window was stored, then the
 * agent died): those are sent again, and the stream's de-duplication
 * (Nats-Msg-Id) drops the ones it has. 1: skip the block. */
static inline int ps_fleet_block_stored(uint64_t last_boot, uint64_t last_seq,
					uint64_t boot, uint64_t seq)
{
	return boot < last_boot ||
	       (boot == last_boot && seq + PS_FLEET_WINDOW_MAX <= last_seq);
}

uint64_t ps_fleet_now_ms(void);

#endif
