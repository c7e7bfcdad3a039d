/* ps_hugemem.h: large zeroed tables on 2 MB pages where the kernel gives
 * them. From 2 MB up the mapping is aligned to 2 MB and asks for
 * transparent huge pages (MADV_HUGEPAGE; with THP "madvise" or "always"
 * each 2 MB that is touched then takes one TLB entry instead of 512);
 * smaller tables get a plain mapping. Taken from mmap, not from the
 * allocator: memory an allocator hands back may already be faulted in
 * as 4 KB pages, which the advice does not change at once. Pages are
 * resident only once touched. */
#ifndef PS_HUGEMEM_H
#define PS_HUGEMEM_H

#include <stddef.h>

#define PS_HUGE_PAGE ((size_t)2 << 20)

/* bytes of zeroed memory; from PS_HUGE_PAGE up rounded up to whole 2 MB
 * pages, 2 MB aligned and advised. NULL (errno set) when the system has
 * no room. */
void *ps_huge_alloc(size_t bytes);
/* Give back what ps_huge_alloc(bytes) gave (the same bytes; NULL p: no-op). */
void ps_huge_free(void *p, size_t bytes);
/* Make every page of what ps_huge_alloc(bytes) gave resident now (its
 * contents stay zero), so that the path that reads the table does not
 * take the first faults (MADV_POPULATE_WRITE, Linux 5.14). The pages are
 * not locked: reclaim can still take them back. 0, or -1 with errno
 * (ENOMEM: the memory is not there). */
int ps_huge_populate(void *p, size_t bytes);
/* The kB the kernel backs with huge pages now in the mappings that hold
 * [p, p + len) (/proc/self/smaps; a mapping merged with a neighbour
 * counts whole; 0 where it cannot tell): for benchmarks. */
size_t ps_huge_kb(const void *p, size_t len);
/* Does the mapping that holds p ask for huge pages (smaps' VmFlags "hg")?
 * For tests: the advice is there whether or not the kernel had pages. */
int ps_huge_advised(const void *p);
/* Can this kernel be asked at all (built with transparent huge pages)? */
int ps_huge_supported(void);

#endif
