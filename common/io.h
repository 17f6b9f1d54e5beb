/* l1vh: bounded, symlink-refusing reads of small files. */
#ifndef L1VH_IO_H
#define L1VH_IO_H

#include <stddef.h>

#include "error.h"

/* Read all of fd, failing when it holds more than cap bytes.  *buf is
 * NUL-terminated (the terminator is not counted in *len). */
int l1vh_read_fd_capped(int fd, size_t cap, char **buf, size_t *len, struct l1vh_error *err);

/* Open name relative to dirfd without following a final symlink, refuse
 * anything but a regular file (a FIFO must not hang the hook), and read it
 * whole with l1vh_read_fd_capped(). */
int l1vh_read_file_capped(int dirfd, const char *name, size_t cap, char **buf, size_t *len,
                          struct l1vh_error *err);

/* Write all of buf, retrying on EINTR and short writes; -1 with errno set. */
int l1vh_write_all(int fd, const char *buf, size_t len);

#endif
