/* fuzz_frame.c: libFuzzer harness of the whole receive path, from raw
 * Ethernet frames to replies, with the same functions the workers call
 * (ps_pipeline_run: frame checks, ARP/ND/ping, header and record checks,
 * duplicate window, plan decisions, in-place replies). The input is a burst:
 * frames each preceded by a 2-byte length. Asserts that no answer is larger
 * than what was received (no amplification) and that every frame is
 * counted once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "plan_src.h"

static struct ps_pipeline pl;
static struct ps_plan *plan;
static struct ps_plan **slot = &plan;
static struct ps_chute_state cs;
static struct ps_dedup dd;
static struct ps_counters cnt;
static struct ps_net_cfg net = {
	.mac = { 2, 0, 0, 0, 0, 2 }, .has_ip4 = 1, .ip4 = { 198, 18, 0, 2 },
	.has_ip6 = 1, .ip6 = { 0x20, 1, 0xd, 0xb8, [15] = 2 }, .port = 7100,
};

static const char example[] =
	"plan fuzz\nsite 3307820 330782\nreject 999\n"
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
	ps_net_cfg_finish(&net);
	pl.net = &net;
	pl.plan_slot = slot;
	pl.chutes = &cs;
	pl.dedup = &dd;
	pl.cnt = &cnt;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PS_BURST][2048];
	struct ps_pkt_buf b[PS_BURST];
	unsigned n = 0;
	while (size >= 2 && n < PS_BURST) {
		size_t len = (size_t)(data[0] | data[1] << 8) % 2049;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memcpy(buf[n], data, len);
		b[n].data = buf[n];
		b[n].len = (uint16_t)len;
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
	for (int i = 0; i < PS_DROP_COUNT; i++)
		counted += cnt.drops[i];
	for (int i = 0; i < PS_ANS_COUNT; i++)
		counted += cnt.answered[i];
	if (cnt.rx_frames - before != n || counted != n)
		abort();                       /* a frame not counted once */
	return 0;
}
