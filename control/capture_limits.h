/* capture_limits.h: the bounds of `capture start`'s options, shared by
 * parcelsortctl (which checks them before sending) and the daemon (which
 * checks them again: the wire is an interface of its own). */
#ifndef PS_CAPTURE_LIMITS_H
#define PS_CAPTURE_LIMITS_H

#define PS_CAPTURE_MAX_MB_DEFAULT 1024u
#define PS_CAPTURE_MAX_MB_LIMIT   1048576u    /* 1 TiB */
#define PS_CAPTURE_MAX_DURATION_S 604800u     /* a week */
#define PS_CAPTURE_MAX_SAMPLE     1000000u    /* --sample 1/K: K at most */

#endif
