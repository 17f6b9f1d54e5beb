/* l1vh-hook: working inside a container's mount namespace and rootfs
 * without ever resolving a container path as a plain string. */
#ifndef L1VH_NS_H
#define L1VH_NS_H

#include <sys/types.h>

#include "error.h"

struct l1vh_ns {
  int host_mntns; /* to return to */
  int root_fd;    /* O_PATH fd of the container rootfs as the container sees it */
  int cwd_fd;     /* the hook's working directory, restored by l1vh_ns_leave */
};

#define L1VH_NS_INIT {-1, -1, -1}

/* Enter pid's mount namespace (setns with CLONE_NEWNS) and open its rootfs
 * (root_path: absolute, as mounted by the runtime before pivot_root).  On
 * failure the hook is back in the host namespace and *ns holds no fds. */
int l1vh_ns_enter(pid_t pid, const char *root_path, struct l1vh_ns *ns, struct l1vh_error *err);
/* Is pid the init of the container being created?  It must be in a mount
 * namespace other than the hook's (the runtime's), and root_path must be a
 * mount point there (runtimes mount the rootfs on itself before
 * pivot_root).  pid 1, a host process, another process, a recycled pid
 * fail here, before anything is done to them. */
int l1vh_ns_check_pid(pid_t pid, const char *root_path, struct l1vh_error *err);
/* Return to the host mount namespace (checked), restore the working
 * directory and close the fds.  Safe on an L1VH_NS_INIT or already left ns. */
int l1vh_ns_leave(struct l1vh_ns *ns, struct l1vh_error *err);
/* openat2(root_fd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a symlink
 * or ".." in the image cannot lead out of the rootfs.  Returns the fd
 * (O_CLOEXEC is always added). */
int l1vh_open_in_root(int root_fd, const char *path, int flags, mode_t mode, struct l1vh_error *err);
/* The same, but no symlink at all is followed (RESOLVE_NO_SYMLINKS): for
 * paths the runtime creates itself (/dev), where a symlink can only come
 * from the image.  A symlink on the way fails with ELOOP, reported as
 * "a path component is a symlink". */
int l1vh_open_in_root_nosymlinks(int root_fd, const char *path, int flags, mode_t mode,
                                 struct l1vh_error *err);

#endif
