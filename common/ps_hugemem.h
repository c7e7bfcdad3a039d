/* ps_hugemem.h: large zeroed tables on 2 MB pages where the kernel gives
 * them. The mapping is aligned to 2 MB and asks for transparent huge
 * pages (MADV_HUGEPAGE; with THP "madvise" or "always" each 2 MB that is
 * touched then takes one TLB entry instead of 512). Taken from mmap, not
 * from the allocator: memory an allocator hands back may already be
 * faulted in as 4 KB pages, which no later advice changes. Pages are
 * resident only once touched. */
#ifndef PS_HUGEMEM_H
#define PS_HUGEMEM_H

#include <stddef.h>

#define PS_HUGE_PAGE ((size_t)2 << 20)

/* bytes of zeroed memory (rounded up to whole 2 MB pages), 2 MB aligned.
 * NULL (errno set) when the system has no room. */
void *ps_huge_alloc(size_t bytes);
/* Give back what ps_huge_alloc(bytes) gave (the same bytes; NULL p: no-op). */
void ps_huge_free(void *p, size_t bytes);
/* Of [p, p + len), the kB the kernel backs with huge pages now
 * (/proc/self/smaps; 0 where it cannot tell): for benchmarks and tests. */
size_t ps_huge_kb(const void *p, size_t len);
/* Does the mapping that holds p ask for huge pages (smaps' VmFlags "hg")?
 * For tests: the advice is there whether or not the kernel had pages. */
int ps_huge_advised(const void *p);

#endif
