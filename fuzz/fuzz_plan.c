/* fuzz_plan.c: libFuzzer harness of the sort plan parser, validator,
 * canonical writer and compiler. A plan that parses must compile, decide,
 * and survive a write/re-parse round trip unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "plan_src.h"

static char *write_plan(const struct ps_plan_src *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f || ps_plan_write(p, f))
		abort();
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_plan_src src;
	struct ps_errors e;
	ps_plan_src_init(&src);
	ps_errors_init(&e);
	int rc = ps_plan_parse(&src, (const char *)data, size, "fuzz", &e);
	if (rc == 0) {
		if (e.n)
			abort();               /* valid plans report no errors */
		struct ps_plan *p = ps_plan_compile(&src, 1, &e);
		if (!p)
			abort();
		struct ps_chute_state cs;
		ps_chutes_init(&cs);
		uint8_t wb[24] = "SF1234567890123";
		for (uint64_t r = 0; r < 8; r++) {
			struct ps_scan s = { .waybill = wb, .scan_type = 1,
					     .region = r ? 110000000000ull +
							   r * 111111111111ull : 0,
					     .weight_g = (uint32_t)(r * 7000),
					     .service = (uint8_t)(1u << r),
					     .carrier = 'S' << 8 | 'F' };
			struct ps_decision d;
			ps_plan_decide_one(p, &cs, &s, &d);
			if (d.plan_version != 1)
				abort();
		}
		ps_plan_free(p);
		size_t l1, l2;
		char *t1 = write_plan(&src, &l1);
		struct ps_plan_src back;
		ps_plan_src_init(&back);
		if (ps_plan_parse(&back, t1, l1, "canonical", &e))
			abort();               /* the writer wrote a bad plan */
		char *t2 = write_plan(&back, &l2);
		if (l1 != l2 || memcmp(t1, t2, l1))
			abort();               /* the round trip changed it */
		free(t1);
		free(t2);
		ps_plan_src_free(&back);
	}
	ps_plan_src_free(&src);
	ps_errors_free(&e);
	return 0;
}
