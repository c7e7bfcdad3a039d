/* fleet_nkey.h: --nats-creds FILE, read. A NATS credentials file as nsc
 * issues it (a user JWT and its nkey seed: operator-mode clusters) goes to
 * libnats as it is; a file holding only a user nkey seed (`nk -gen user`,
 * a line "SU...", bare or in a "BEGIN USER NKEY SEED" block) is for
 * clusters with `nkey:` users in their plain configuration: the agent
 * derives the public key from the seed and signs the server's nonce with
 * it. docs/fleet.md, "Security". */
#ifndef PS_FLEET_NKEY_H
#define PS_FLEET_NKEY_H

#include <stddef.h>

#define PS_NKEY_SEED_LEN 58     /* "SU" + 56 base32 digits */
#define PS_NKEY_PUB_LEN 56      /* "U" + 55 base32 digits */

enum { PS_CREDS_JWT = 1, PS_CREDS_NKEY = 2 };

/* What FILE holds: PS_CREDS_JWT, or PS_CREDS_NKEY with the seed and its
 * public key (NUL-terminated), or -1 with the reason: not a credential,
 * or one that users other than the owner and its group may read, or that
 * the group may change (like ssh with its keys: chmod 600 or 640). */
int ps_creds_read(const char *file, char seed[PS_NKEY_SEED_LEN + 1],
		  char pub[PS_NKEY_PUB_LEN + 1], char *err, size_t errlen);

/* The user public key of a seed: 0, or -1 when the seed is not a user
 * nkey seed (wrong length, alphabet, kind or checksum). */
int ps_nkey_public(const char *seed, char pub[PS_NKEY_PUB_LEN + 1]);

/* A new user seed and its public key (tests and tools). 0 or -1. */
int ps_nkey_generate(char seed[PS_NKEY_SEED_LEN + 1],
		     char pub[PS_NKEY_PUB_LEN + 1]);

#endif
