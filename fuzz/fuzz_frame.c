/* fuzz_frame.c: libFuzzer harness of the whole receive path, from raw
 * Ethernet frames to replies, with the same functions the workers call
 * (ps_pipeline_run: frame checks, ARP/ND/ping, header and record checks,
 * duplicate window, plan decisions, in-place replies). The input is a burst:
 * frames each preceded by a 2-byte length (little-endian, modulo 2049);
 * its top bit asks for the frame's checksums to be made right first (IPv4
 * header, then UDP, ICMP or ICMPv6), so that a mutated frame gets past the
 * checksum checks to the paths behind them: neighbour discovery (the
 * pipeline owns an IPv6 address; the seeds hold solicitations for it),
 * echo and requests. Asserts that no answer is larger than what was
 * received (no amplification: issue #12.8 was an 86-byte advertisement to
 * a 78-byte solicitation) and that every frame is counted once. Senders in
 * 198.18.0.0/15 are on the sorter allow-list too, so chute states and sort
 * results (kinds 3 and 5, seeded by make-corpus.py) reach the sorter loop:
 * chute reports with their lapse, results on the duplicate window, the
 * intercept list (one held waybill) and acknowledgements, which must be no
 * larger than their requests either. Two more oracles: every frame, under
 * each of the sixteen things a port can say of its checksums, gets the
 * same verdict, cause, description and bytes from the fast path for
 * well-formed IPv4 requests as from the general one (pkt.c); and every
 * UDP or ICMP answer leaves with checksums that verify (a decision
 * reply's IPv4 header checksum is updated, not summed again). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "holds.h"
#include "pipeline.h"
#include "plan_src.h"

static struct ps_pipeline pl;
static struct ps_plan *plan;
static struct ps_plan **slot = &plan;
static struct ps_chute_state cs;
static struct ps_dedup dd;
static struct ps_counters cnt;
static struct ps_loop_counters loop;
static struct ps_holds *holds;
static struct ps_prefix sorters[1];
static struct ps_net_cfg net = {
	.mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1, .ip4 = { 198, 18, 0, 2 },
	.has_ip6 = 1, .ip6 = { 0x20, 1, 0xd, 0xb8, [15] = 2 }, .port = 7100,
};

static const char example[] =
	"plan fuzz\nsite 3307820 330782\nreject 999\nintercept 998\n"
	"recirculate 3\n"
	"hub 100 trunk H\nhub 200 county C\nhub 410 village V\n"
	"hub 900 special S\nroute 33 100 10,11\nroute 330782 200 20\n"
	"route 330782100201 410 41\nrule 10 900 90 service=cold_chain\n"
	"rule 20 900 91 weight>=30000\ndefault 100 10\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	if (ps_plan_parse(&src, example, strlen(example), "fuzz", &e))
		abort();
	plan = ps_plan_compile(&src, 1, &e);
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	ps_chutes_init(&cs);
	ps_chute_disable(&cs, 11);
	ps_dedup_init(&dd, 4096, 600);
	if (ps_prefix_parse("198.18.0.0/15", &sorters[0]))
		abort();
	net.sorter_allow = sorters;
	net.n_sorter_allow = 1;
	ps_net_cfg_finish(&net);
	static const uint8_t held[1][24] = { "JT0000000666" };
	holds = ps_holds_build(held, 1);
	pl.holds_slot = &holds;
	pl.loop = &loop;
	pl.net = &net;
	pl.plan_slot = slot;
	pl.chutes = &cs;
	pl.dedup = &dd;
	pl.cnt = &cnt;
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fix_ipv4_header(uint8_t *fr, size_t len)
{
	size_t l3 = 14;
	unsigned et = (unsigned)(fr[12] << 8 | fr[13]);
	if (et == PS_ETH_P_VLAN && len >= 18) {
		l3 = 18;
		et = (unsigned)(fr[16] << 8 | fr[17]);
	}
	if (et != PS_ETH_P_IPV4 || len < l3 + 20)
		return;
	unsigned ihl = (fr[l3] & 0x0fu) * 4u;
	if (ihl < 20 || l3 + ihl > len)
		return;
	fr[l3 + 10] = fr[l3 + 11] = 0;
	put16(fr + l3 + 10, ps_csum_fold(ps_csum_partial(fr + l3, ihl, 0)));
}

static void fix_checksums(uint8_t *fr, size_t len)
{
	struct ps_frame f;
	if (len < PS_ETH_HLEN)
		return;
	fix_ipv4_header(fr, len);
	enum ps_frame_status st = ps_frame_parse(fr, len, &f);
	if (st != PS_FRAME_PROTO && st != PS_FRAME_UDP &&
	    st != PS_FRAME_UDP_LEN && st != PS_FRAME_UDP_CSUM)
		return;
	uint8_t *l4 = fr + f.l4_off;
	unsigned at = f.proto == PS_IPPROTO_UDP ? 6 : 2;
	if ((f.proto != PS_IPPROTO_UDP && f.proto != PS_IPPROTO_ICMP &&
	     f.proto != PS_IPPROTO_ICMPV6) || f.l4_len < at + 2)
		return;
	l4[at] = l4[at + 1] = 0;
	uint16_t ck = f.proto == PS_IPPROTO_ICMP && f.ip_ver == 4
		? ps_csum_fold(ps_csum_partial(l4, f.l4_len, 0))
		: ps_l4_csum(f.ip_ver, f.src, f.dst, f.proto, l4, f.l4_len);
	if (f.proto == PS_IPPROTO_UDP && ck == 0)
		ck = 0xffff;
	put16(l4 + at, ck);
}

/* The fast path and the general one agree on this frame, whatever the
 * port says of its checksums. */
static void fast_path_agrees(const uint8_t *fr, uint16_t len)
{
	static uint8_t a[2048], b[2048];
	for (unsigned rx = 0; rx < 16; rx++) {
		struct ps_frame fa, fb;
		uint8_t wa = 0, wb = 0;
		uint16_t la = 0, lb = 0;
		memcpy(a, fr, len);
		memcpy(b, fr, len);
		memset(&fa, 0x5a, sizeof(fa));
		memset(&fb, 0x5a, sizeof(fb));
		enum ps_pkt_verdict va = ps_pkt_input_csum(&net, a, len,
							   (uint8_t)rx, &fa,
							   &wa, &la);
		enum ps_pkt_verdict vb = ps_pkt_input_general(&net, b, len,
							      (uint8_t)rx, &fb,
							      &wb, &lb);
		if (va != vb || memcmp(a, b, len))
			abort();
		if (va == PS_PKT_REQUEST ? memcmp(&fa, &fb, sizeof(fa))
					 : wa != wb || la != lb)
			abort();
	}
}

/* An answer's checksums verify: a UDP reply parses whole, an ICMP one gets
 * past the IPv4 header's checksum (ARP has none). */
static void answer_checksums_right(const uint8_t *fr, uint16_t len)
{
	struct ps_frame f;
	enum ps_frame_status st = ps_frame_parse(fr, len, &f);
	if (st == PS_FRAME_ETHERTYPE && f.ethertype == PS_ETH_P_ARP)
		return;
	if (st != PS_FRAME_UDP && st != PS_FRAME_PROTO)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PS_BURST][2048];
	struct ps_pkt_buf b[PS_BURST];
	unsigned n = 0;
	while (size >= 2 && n < PS_BURST) {
		size_t len = (size_t)(data[0] | (data[1] & 0x7f) << 8) % 2049;
		int fix = data[1] & 0x80;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memcpy(buf[n], data, len);
		if (fix)
			fix_checksums(buf[n], len);
		b[n].data = buf[n];
		b[n].len = (uint16_t)len;
		b[n].rx_csum = 0;
		fast_path_agrees(buf[n], (uint16_t)len);
		n++;
		data += len;
		size -= len;
	}
	uint64_t before = cnt.rx_frames, counted = 0;
	for (int i = 0; i < PS_DROP_COUNT; i++)
		counted -= cnt.drops[i];
	for (int i = 0; i < PS_ANS_COUNT; i++)
		counted -= cnt.answered[i];
	ps_pipeline_run(&pl, b, n, (uint32_t)(size & 1023));
	for (unsigned i = 0; i < n; i++)
		if (b[i].send && b[i].out_len > b[i].len)
			abort();               /* amplification */
	for (unsigned i = 0; i < n; i++)
		if (b[i].send)
			answer_checksums_right(b[i].data, b[i].out_len);
	for (int i = 0; i < PS_DROP_COUNT; i++)
		counted += cnt.drops[i];
	for (int i = 0; i < PS_ANS_COUNT; i++)
		counted += cnt.answered[i];
	if (cnt.rx_frames - before != n || counted != n)
		abort();                       /* a frame not counted once */
	return 0;
}
