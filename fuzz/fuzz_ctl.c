/* fuzz_ctl.c: libFuzzer harness of the control-protocol request path: a
 * 16-byte header then a body, checked and executed against a real plan
 * store (in a temporary state directory) exactly as the control server
 * does. Every request must get an answer with a valid status. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_server.h"

static struct ps_ctl_server *srv;
static struct ps_counters zero;
static char dir[] = "/tmp/ps-fuzz-ctl-XXXXXX";

static void remove_state(void)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

static void sum(void *arg, struct ps_counters *out)
{
	(void)arg;
	memcpy(out, &zero, sizeof(*out));
}

static void ports(void *arg, struct ps_out *o, int json)
{
	(void)arg;
	ps_out_printf(o, json ? "[]" : "port 0: fuzz\n");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	atexit(remove_state);
	struct ps_store_cfg cfg = { .state_dir = dir, .no_fsync = 1 };
	struct ps_errors e;
	ps_errors_init(&e);
	struct ps_store *st = ps_store_open(&cfg, &e, NULL, 0);
	if (!st)
		abort();
	const char *plan = "plan p\nsite 1 33\nreject 9\nhub 1 trunk T\n"
			   "route 33 1 5,6\n";
	uint32_t v;
	ps_store_load_text(st, plan, strlen(plan), "seed", 0, &e, &v);
	ps_errors_free(&e);
	struct ps_ctl_daemon d = { .store = st, .sum_counters = sum,
				   .describe_ports = ports, .n_workers = 1,
				   .start_ms = ps_now_ms() };
	srv = ps_ctl_new(&d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 16)
		return 0;
	struct ps_ctl_hdr h;
	const char *why;
	ps_ctl_hdr_decode(data, &h);
	h.len = (uint32_t)(size - 16);     /* the body is what follows */
	if (ps_ctl_req_check(&h, &why))
		return 0;
	struct ps_out o;
	ps_out_init(&o);
	int st = ps_ctl_execute(srv, h.code, h.flags, data + 16, size - 16, &o);
	if (st < PS_CTL_OK || st > PS_CTL_ERR_INTERNAL)
		abort();
	if (st != PS_CTL_OK && o.len == 0)
		abort();                       /* every error says why */
	ps_out_free(&o);
	return 0;
}
