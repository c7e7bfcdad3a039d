/* fleet_sign.h: signed fleet items (plans; holds and manifests use the same
 * envelope). Ed25519 with libsodium. An item pushed with --sign ends with
 * one more comment line, after the fleet trailer:
 *   "# parcelsort-signature v1 kind=K site=ID after=R key=PUB sig=SIG"
 * PUB is the signer's public key (64 hex digits), SIG the detached
 * signature (128 hex digits) over
 *   "parcelsort-signature v1\nkind=K\nsite=ID\nafter=R\n" + the item's bytes
 * before the signature line. R is the revision of the site's key the item
 * follows (the latest when it was signed, 0 if none): an item can be
 * applied only at the site it names and only while R is not older than
 * the last revision the site handled, so it cannot be replayed to another
 * site or put back later. docs/fleet.md describes it. */
#ifndef PS_FLEET_SIGN_H
#define PS_FLEET_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "outbuf.h"

#define PS_SIGN_PREFIX "# parcelsort-signature v1 "
#define PS_SIGN_PK 32
#define PS_SIGN_SK 64
#define PS_TRUST_MAX 16

struct ps_trust {
	int n;
	unsigned char pk[PS_TRUST_MAX][PS_SIGN_PK];
};

/* A key pair: OUT holds the secret key (hex, mode 0600), OUT.pub the
 * public key (hex). 0, or -1 with the reason. */
int ps_sign_keygen(const char *out, char *err, size_t errlen);
int ps_sign_load_secret(const char *file, unsigned char sk[PS_SIGN_SK],
			char *err, size_t errlen);
/* Add the public keys of FILE (one hex key a line, # comments) to t. */
int ps_sign_load_trust(const char *file, struct ps_trust *t, char *err,
		       size_t errlen);

/* Append the signature line for the item in o (which must end with a
 * newline). */
void ps_sign_append(struct ps_out *o, const char *kind, const char *site,
		    uint64_t after, const unsigned char sk[PS_SIGN_SK]);

/* Check an item read from the bucket: signed by a trusted key, for this
 * kind and site, following a revision not older than min_after. 0 and
 * *body_len (the bytes before the signature line), or -1 and why. */
int ps_sign_verify(const char *text, size_t len, const char *kind,
		   const char *site, uint64_t min_after,
		   const struct ps_trust *t, size_t *body_len, char *why,
		   size_t whylen);

/* Items whose signature travels apart, in a message header (holds,
 * manifest batches): item is the text the signature covers. The line (no
 * line break) for item of kind for site, after R: 0 or -1. */
int ps_sign_item_line(char *line, size_t n, const struct ps_out *item,
		      const char *kind, const char *site, uint64_t after,
		      const unsigned char sk[PS_SIGN_SK]);
/* Check line (NULL: not signed) against item, as ps_sign_verify does: 0,
 * or -1 and why. */
int ps_sign_item_verify(const char *line, const struct ps_out *item,
			const char *kind, const char *site, uint64_t min_after,
			const struct ps_trust *t, char *why, size_t whylen);

/* Where the signature line starts (len when there is none). */
size_t ps_sign_body_len(const char *text, size_t len);

#endif
