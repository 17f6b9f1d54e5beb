/* l1vh-hook: device injection internals, exposed for the unit tests
 * (the action itself is declared in actions.h). */
#ifndef L1VH_DEVICE_H
#define L1VH_DEVICE_H

#include <stddef.h>
#include <sys/types.h>

/* Split an absolute device path into its parent directory (copied into
 * dir) and its last component (*base points into path).  Refuses a
 * relative path and ".", ".." or empty components: < 0. */
int l1vh_device_split_path(const char *path, char *dir, size_t dir_size, const char **base);
/* "a symlink", "a regular file", ... for messages. */
const char *l1vh_device_describe(mode_t mode);

#endif
