/* l1vh-hook: the container's mount namespace and rootfs, by fd only.
 *
 * At prestart the runtime has mounted the rootfs (and /dev, /proc, ...) in
 * the container's own mount namespace but has not yet pivoted into it, so
 * the rootfs is reachable at its absolute host path only from inside that
 * namespace.  We enter it with setns(CLONE_NEWNS) on an fd opened up front,
 * open the root once, and resolve everything below it with openat2 so that
 * neither a symlink nor ".." in the image can name a host path. */
#define _GNU_SOURCE
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

/* openat2 may fail with EAGAIN when a rename or mount raced the lookup. */
#define OPENAT2_RETRIES 16

static bool same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* The hook is single-threaded, so setns(CLONE_NEWNS) is allowed; after the
 * switch we compare the namespace we are in with the one we asked for. */
static int switch_mntns(int nsfd, const char *what, struct l1vh_error *err)
{
  struct stat want, now;

  if (setns(nsfd, CLONE_NEWNS) < 0)
    return l1vh_error_set(err, errno, "setns into %s mount namespace", what);
  if (fstat(nsfd, &want) < 0)
    return l1vh_error_set(err, errno, "stat %s mount namespace", what);
  if (stat("/proc/self/ns/mnt", &now) < 0)
    return l1vh_error_set(err, errno, "stat /proc/self/ns/mnt after setns");
  if (!same_file(&want, &now))
    return l1vh_error_setx(err, "setns into %s mount namespace: still in another namespace", what);
  return 0;
}

int l1vh_ns_enter(pid_t pid, const char *root_path, struct l1vh_ns *ns, struct l1vh_error *err)
{
  cleanup_close int target = -1;
  char path[64];
  int n;

  ns->host_mntns = ns->root_fd = ns->cwd_fd = -1;
  if (pid <= 0)
    return l1vh_error_setx(err, "enter container mount namespace: no container pid");
  if (!root_path || root_path[0] != '/')
    return l1vh_error_setx(err, "enter container mount namespace: rootfs path \"%s\" is not absolute",
                           root_path ? root_path : "");

  n = snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid);
  if (n < 0 || (size_t) n >= sizeof(path))
    return l1vh_error_setx(err, "enter container mount namespace: pid %d: path too long", (int) pid);
  /* Both namespace fds are opened before any switch: once inside, the
   * host's /proc may not be reachable. */
  target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0)
    return l1vh_error_set(err, errno, "open %s", path);
  ns->host_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (ns->host_mntns < 0)
    return l1vh_error_set(err, errno, "open /proc/self/ns/mnt");
  /* setns(CLONE_NEWNS) moves the working directory to the namespace's root;
   * keep ours to restore it. */
  ns->cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ns->cwd_fd < 0) {
    l1vh_error_set(err, errno, "open the working directory");
    close_fd(&ns->host_mntns);
    return -1;
  }

  if (switch_mntns(target, "the container's", err) < 0)
    goto fail;
  ns->root_fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ns->root_fd < 0) {
    l1vh_error_set(err, errno, "open container rootfs %s", root_path);
    goto fail;
  }
  return 0;

fail: {
  /* Going back matters more than the first error: report both. */
  struct l1vh_error leave_err = L1VH_ERROR_INIT;
  if (l1vh_ns_leave(ns, &leave_err) < 0) {
    cleanup_free char *first = err->msg;
    err->msg = NULL;
    l1vh_error_setx(err, "%s; then %s", first ? first : "unknown error", l1vh_error_msg(&leave_err));
  }
  l1vh_error_clear(&leave_err);
  return -1;
}
}

int l1vh_ns_leave(struct l1vh_ns *ns, struct l1vh_error *err)
{
  int ret = 0;

  close_fd(&ns->root_fd);
  if (ns->host_mntns >= 0) {
    if (switch_mntns(ns->host_mntns, "the host", err) < 0)
      ret = -1;
    close_fd(&ns->host_mntns);
  }
  if (ns->cwd_fd >= 0) {
    if (ret == 0 && fchdir(ns->cwd_fd) < 0)
      ret = l1vh_error_set(err, errno, "return to the working directory");
    close_fd(&ns->cwd_fd);
  }
  return ret;
}

static int open_beneath(int root_fd, const char *path, int flags, mode_t mode, uint64_t resolve,
                        struct l1vh_error *err)
{
  struct open_how how;
  int fd = -1, i;

  if (root_fd < 0 || !path)
    return l1vh_error_setx(err, "open %s in the container: no rootfs", path ? path : "(null)");
  memset(&how, 0, sizeof(how));
  how.flags = (uint64_t) (unsigned) (flags | O_CLOEXEC);
  /* openat2 rejects a mode without O_CREAT/O_TMPFILE. */
  how.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  for (i = 0; i < OPENAT2_RETRIES; i++) {
    fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN)
      break;
  }
  if (fd >= 0)
    return fd;
  if (errno == ENOSYS)
    return l1vh_error_set(err, errno, "open %s in the container: openat2 needs Linux 5.6", path);
  if (errno == ELOOP && (resolve & RESOLVE_NO_SYMLINKS))
    return l1vh_error_setx(err, "open %s in the container: a path component is a symlink", path);
  return l1vh_error_set(err, errno, "open %s in the container", path);
}

int l1vh_open_in_root(int root_fd, const char *path, int flags, mode_t mode, struct l1vh_error *err)
{
  return open_beneath(root_fd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, err);
}

int l1vh_open_in_root_nosymlinks(int root_fd, const char *path, int flags, mode_t mode,
                                 struct l1vh_error *err)
{
  return open_beneath(root_fd, path, flags, mode,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS, err);
}
