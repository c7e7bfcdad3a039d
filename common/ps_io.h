/* ps_io.h: whole writes to a file descriptor, retried across EINTR and
 * short writes; shared by the plan, hold and manifest persistence. */
#ifndef PS_IO_H
#define PS_IO_H

#include <stddef.h>

/* Write all n bytes of p to fd. 0, or -1 with errno set. */
int ps_write_all(int fd, const void *p, size_t n);

#endif
