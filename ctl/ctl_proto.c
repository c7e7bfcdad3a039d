/* ctl_proto.c: framing and argument parsing of the control protocol. */
#include "ctl_proto.h"

#include <arpa/inet.h>
#include <string.h>

void ps_ctl_hdr_encode(uint8_t *out, const struct ps_ctl_hdr *h)
{
	uint32_t m = htonl(h->magic), f = htonl(h->flags), l = htonl(h->len);
	uint16_t v = htons(h->version), c = htons(h->code);
	memcpy(out, &m, 4);
	memcpy(out + 4, &v, 2);
	memcpy(out + 6, &c, 2);
	memcpy(out + 8, &f, 4);
	memcpy(out + 12, &l, 4);
}

void ps_ctl_hdr_decode(const uint8_t *in, struct ps_ctl_hdr *h)
{
	uint32_t m, f, l;
	uint16_t v, c;
	memcpy(&m, in, 4);
	memcpy(&v, in + 4, 2);
	memcpy(&c, in + 6, 2);
	memcpy(&f, in + 8, 4);
	memcpy(&l, in + 12, 4);
	h->magic = ntohl(m);
	h->version = ntohs(v);
	h->code = ntohs(c);
	h->flags = ntohl(f);
	h->len = ntohl(l);
}

int ps_ctl_req_check(const struct ps_ctl_hdr *h, const char **why)
{
	if (h->magic != PS_CTL_REQ_MAGIC) {
		*why = "not a parcelsort control request (bad magic)";
		return -1;
	}
	if (h->version != PS_CTL_VERSION) {
		*why = "unsupported control protocol version";
		return -1;
	}
	if (h->code < 1 || h->code >= PS_CTL_CMD_MAX) {
		*why = "unknown command";
		return -1;
	}
	if (h->flags & ~PS_CTL_F_JSON) {
		*why = "unknown request flags";
		return -1;
	}
	if (h->len > PS_CTL_MAX_REQUEST) {
		*why = "request too large";
		return -1;
	}
	return 0;
}

int ps_ctl_args_parse(const uint8_t *body, size_t len, struct ps_ctl_args *a,
		      const char **why)
{
	a->n = 0;
	size_t i = 0;
	while (i < len) {
		const uint8_t *nul = memchr(body + i, 0, len - i);
		if (!nul) {
			*why = "malformed arguments (unterminated)";
			return -1;
		}
		if (a->n == PS_CTL_MAX_ARGS) {
			*why = "too many arguments";
			return -1;
		}
		a->v[a->n] = (const char *)body + i;
		a->len[a->n] = (size_t)(nul - (body + i));
		a->n++;
		i = (size_t)(nul - body) + 1;
	}
	return 0;
}

int ps_ctl_printable(const char *s, size_t len, size_t max)
{
	if (!len || len > max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}
