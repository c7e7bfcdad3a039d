/* fleet_nkey.c: NATS user nkeys (see fleet_nkey.h). An nkey is base32
 * (RFC 4648, no padding) of prefix bytes, an Ed25519 key and a CRC-16
 * (XMODEM, little-endian) of what precedes it; a user seed starts with
 * the bytes SEED|USER>>5, (USER&31)<<3, a user public key with USER. */
#include "fleet_nkey.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PREFIX_SEED (18 << 3)   /* 'S' */
#define PREFIX_USER (20 << 3)   /* 'U' */
#define SEED_RAW 36             /* 2 prefix + 32 seed + 2 CRC */
#define PUB_RAW 35              /* 1 prefix + 32 key + 2 CRC */
#define CREDS_MAX 16384

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021)
					   : (uint16_t)(crc << 1);
	}
	return crc;
}

static void b32_encode(const uint8_t *p, size_t n, char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 5) {
			out[k++] = B32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[k++] = B32[(acc << (5 - bits)) & 31];
	out[k] = 0;
}

/* Decode exactly n bytes from the text's len digits; -1 if they do not
 * make them. */
static int b32_decode(const char *t, size_t len, uint8_t *out, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		const char *c = t[i] ? strchr(B32, t[i]) : NULL;
		if (!c)
			return -1;
		acc = acc << 5 | (uint32_t)(c - B32);
		bits += 5;
		if (bits >= 8) {
			if (k == n)
				return -1;
			out[k++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return k == n ? 0 : -1;
}

static void encode_public(const uint8_t pk[32], char pub[PS_NKEY_PUB_LEN + 1])
{
	uint8_t raw[PUB_RAW];
	raw[0] = PREFIX_USER;
	memcpy(raw + 1, pk, 32);
	uint16_t crc = crc16(raw, 33);
	raw[33] = (uint8_t)crc;
	raw[34] = (uint8_t)(crc >> 8);
	b32_encode(raw, sizeof(raw), pub);
}

int ps_nkey_public(const char *seed, char pub[PS_NKEY_PUB_LEN + 1])
{
	uint8_t raw[SEED_RAW], pk[32], sk[64];
	if (strlen(seed) != PS_NKEY_SEED_LEN || sodium_init() < 0 ||
	    b32_decode(seed, PS_NKEY_SEED_LEN, raw, sizeof(raw)))
		return -1;
	uint16_t crc = (uint16_t)(raw[34] | raw[35] << 8);
	if (crc != crc16(raw, 34) || (raw[0] & 0xf8) != PREFIX_SEED ||
	    ((raw[0] & 7) << 5 | raw[1] >> 3) != PREFIX_USER)
		return -1;
	crypto_sign_seed_keypair(pk, sk, raw + 2);
	encode_public(pk, pub);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int ps_nkey_generate(char seed[PS_NKEY_SEED_LEN + 1],
		     char pub[PS_NKEY_PUB_LEN + 1])
{
	uint8_t raw[SEED_RAW];
	if (sodium_init() < 0)
		return -1;
	raw[0] = PREFIX_SEED | PREFIX_USER >> 5;
	raw[1] = (uint8_t)((PREFIX_USER & 31) << 3);
	randombytes_buf(raw + 2, 32);
	uint16_t crc = crc16(raw, 34);
	raw[34] = (uint8_t)crc;
	raw[35] = (uint8_t)(crc >> 8);
	b32_encode(raw, sizeof(raw), seed);
	sodium_memzero(raw, sizeof(raw));
	return ps_nkey_public(seed, pub);
}

/* The first line of text that starts with "SU" (leading blanks skipped),
 * as a NUL-terminated token in seed; -1 when none fits. */
static int find_seed(const char *text, char seed[PS_NKEY_SEED_LEN + 1])
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (p[0] != 'S' || p[1] != 'U')
			continue;
		size_t n = strcspn(p, " \t\r\n");
		if (n != PS_NKEY_SEED_LEN)
			return -1;
		memcpy(seed, p, n);
		seed[n] = 0;
		return 0;
	}
	return -1;
}

int ps_creds_read(const char *file, char seed[PS_NKEY_SEED_LEN + 1],
		  char pub[PS_NKEY_PUB_LEN + 1], char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "--nats-creds %s: cannot read it", file);
		return -1;
	}
	struct stat st;
	int open_mode = fstat(fileno(f), &st) == 0 &&
			(st.st_mode & (S_IRWXO | S_IWGRP));
	/* unbuffered: the secret is read into text only, which is wiped,
	 * not left behind in stdio's freed buffer as well */
	setvbuf(f, NULL, _IONBF, 0);
	char *text = calloc(1, CREDS_MAX + 1);
	size_t n = text ? fread(text, 1, CREDS_MAX, f) : 0;
	int more = fgetc(f) != EOF;
	fclose(f);
	int rc = -1;
	if (!text)
		snprintf(err, errlen, "--nats-creds %s: out of memory", file);
	else if (more)
		snprintf(err, errlen, "--nats-creds %s: larger than %d bytes, "
			 "not a credentials file", file, CREDS_MAX);
	else if (strstr(text, "BEGIN NATS USER JWT"))
		rc = PS_CREDS_JWT;
	else if (find_seed(text, seed) == 0 && ps_nkey_public(seed, pub) == 0)
		rc = PS_CREDS_NKEY;
	else
		snprintf(err, errlen, "--nats-creds %s: neither a NATS "
			 "credentials file (user JWT and seed) nor a user nkey "
			 "seed (SU..., 58 characters, with a valid checksum)",
			 file);
	if (rc > 0 && open_mode) {
		/* a credential others may read or replace is no credential */
		snprintf(err, errlen, "--nats-creds %s: mode %04o lets other "
			 "users of the machine read or replace the credential; "
			 "chmod 600 it", file, (unsigned)(st.st_mode & 07777));
		sodium_memzero(seed, PS_NKEY_SEED_LEN + 1);
		rc = -1;
	}
	if (text) {
		sodium_memzero(text, n);
		free(text);
	}
	return rc;
}
