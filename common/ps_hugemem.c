/* ps_hugemem.c: large zeroed tables on 2 MB pages (see ps_hugemem.h). */
#include "ps_hugemem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t whole_pages(size_t bytes)
{
	return (bytes + PS_HUGE_PAGE - 1) & ~(PS_HUGE_PAGE - 1);
}

void *ps_huge_alloc(size_t bytes)
{
	if (!bytes) {
		errno = EINVAL;
		return NULL;
	}
	if (bytes < PS_HUGE_PAGE) {             /* a plain mapping */
		void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return m == MAP_FAILED ? NULL : m;
	}
	size_t len = whole_pages(bytes);
	if (len < bytes || len + PS_HUGE_PAGE < len) {
		errno = ENOMEM;
		return NULL;
	}
	/* one huge page more than asked, to cut an aligned range out of */
	char *m = mmap(NULL, len + PS_HUGE_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *a = (char *)(((uintptr_t)m + PS_HUGE_PAGE - 1) &
			   ~(uintptr_t)(PS_HUGE_PAGE - 1));
	size_t head = (size_t)(a - m), tail = PS_HUGE_PAGE - head;
	/* a cut can fail (the process at vm.max_map_count): then nothing
	 * is kept rather than pieces no free would find */
	if ((head && munmap(m, head)) || (tail && munmap(a + len, tail))) {
		int e = errno;
		munmap(m, len + PS_HUGE_PAGE);
		errno = e;
		return NULL;
	}
	madvise(a, len, MADV_HUGEPAGE);      /* a hint: 4 KB pages else */
	return a;
}

void ps_huge_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes < PS_HUGE_PAGE ? bytes : whole_pages(bytes));
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23           /* Linux 5.14; Debian 12 has 6.1 */
#endif

int ps_huge_populate(void *p, size_t bytes)
{
	return madvise(p, bytes < PS_HUGE_PAGE ? bytes : whole_pages(bytes),
		       MADV_POPULATE_WRITE);
}

int ps_huge_supported(void)
{
	return access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
}

/* Calls fn(line, ctx) for each smaps line of the mappings that overlap
 * [lo, hi); stops when it returns nonzero. -1 when smaps cannot be read. */
static int smaps_lines(uintptr_t lo, uintptr_t hi,
		       int (*fn)(const char *line, void *ctx), void *ctx)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	char line[512];
	int in = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {   /* a mapping's line */
			in = s < hi && e > lo;
			continue;
		}
		if (in && fn(line, ctx))
			break;
	}
	fclose(f);
	return 0;
}

static int add_huge_kb(const char *line, void *ctx)
{
	size_t v;
	if (sscanf(line, "AnonHugePages: %zu kB", &v) == 1)
		*(size_t *)ctx += v;
	return 0;
}

size_t ps_huge_kb(const void *p, size_t len)
{
	size_t kb = 0;
	smaps_lines((uintptr_t)p, (uintptr_t)p + len, add_huge_kb, &kb);
	return kb;
}

static int vm_flags_hg(const char *line, void *ctx)
{
	if (strncmp(line, "VmFlags:", 8))
		return 0;
	*(int *)ctx = strstr(line + 8, " hg") != NULL;
	return 1;
}

int ps_huge_advised(const void *p)
{
	int hg = 0;
	smaps_lines((uintptr_t)p, (uintptr_t)p + 1, vm_flags_hg, &hg);
	return hg;
}
