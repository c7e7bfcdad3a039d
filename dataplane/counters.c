/* counters.c: names of the counters and summing the workers' copies. */
#include "counters.h"

const char *ps_drop_name(unsigned d)
{
	static const char *const n[PS_DROP_COUNT] = {
		"not_for_us", "l2", "ethertype", "arp", "ip_header",
		"ip_checksum", "fragment", "not_our_ip", "protocol", "icmp",
		"udp_length", "udp_checksum", "port", "not_allowed",
		"hdr_short", "hdr_magic", "hdr_version", "hdr_kind",
		"hdr_count", "hdr_flags", "hdr_length", "tx_full",
	};
	return d < PS_DROP_COUNT ? n[d] : "?";
}

const char *ps_answer_name(unsigned a)
{
	static const char *const n[PS_ANS_COUNT] = {
		"decision", "arp", "nd", "icmp_echo", "icmp6_echo",
	};
	return a < PS_ANS_COUNT ? n[a] : "?";
}

void ps_counters_add(struct ps_counters *acc, const struct ps_counters *c)
{
	/* every field is a uint64_t: add them as an array */
	const uint64_t *s = (const uint64_t *)c;
	uint64_t *d = (uint64_t *)acc;
	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}
