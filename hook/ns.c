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

#include "caps.h"
#include "cleanup.h"
#include "io.h"

/* openat2 may fail with EAGAIN when a rename or mount raced the lookup. */
#define OPENAT2_RETRIES 16
/* A container's mount table: a few hundred lines. */
#define MOUNTINFO_MAX_BYTES (16 << 20)

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
  int r;

  l1vh_caps_raise(L1VH_STEP_ENTER);
  r = setns(nsfd, CLONE_NEWNS);
  l1vh_caps_lower();
  if (r < 0)
    return l1vh_error_set(err, errno, "setns into %s mount namespace", what);
  if (fstat(nsfd, &want) < 0)
    return l1vh_error_set(err, errno, "stat %s mount namespace", what);
  if (stat("/proc/self/ns/mnt", &now) < 0)
    return l1vh_error_set(err, errno, "stat /proc/self/ns/mnt after setns");
  if (!same_file(&want, &now))
    return l1vh_error_setx(err, "setns into %s mount namespace: still in another namespace", what);
  return 0;
}

/* The pid must be a container's init at prestart: in a mount namespace
 * of its own (pid 1, or any process of the host, shares the runtime's),
 * where the runtime has made the rootfs a mount of its own (pivot_root and
 * MS_MOVE both need that).  A pid that is gone, recycled, or another
 * container's fails one of the two. */
static int check_target(pid_t pid, int target, int host, struct l1vh_error *err)
{
  struct stat t, h;

  if (fstat(target, &t) < 0 || fstat(host, &h) < 0)
    return l1vh_error_set(err, errno, "stat the mount namespaces");
  if (same_file(&t, &h))
    return l1vh_error_setx(err, "pid %d is in the runtime's own mount namespace: not a container "
                                "being created (a wrong or recycled pid in the state?)", (int) pid);
  return 0;
}

static int open_ns_of(pid_t pid, struct l1vh_error *err)
{
  char path[64];
  int n = snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid), fd;

  if (n < 0 || (size_t) n >= sizeof(path))
    return l1vh_error_setx(err, "pid %d: path too long", (int) pid);
  /* The runtime's init is not dumpable while it sets up: reading its
   * namespace links is a ptrace access. */
  l1vh_caps_raise(L1VH_STEP_PID);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  l1vh_caps_lower();
  if (fd < 0)
    return l1vh_error_set(err, errno, "open %s", path);
  return fd;
}

/* A mountinfo mount point field equals path, its \ooo escapes undone. */
static bool mountpoint_is(const char *f, size_t len, const char *path)
{
  size_t i = 0;

  while (i < len) {
    char c = f[i];
    if (c == '\\' && i + 3 < len && f[i + 1] >= '0' && f[i + 1] <= '3') {
      c = (char) (((f[i + 1] - '0') << 6) | ((f[i + 2] - '0') << 3) | (f[i + 3] - '0'));
      i += 4;
    } else {
      i++;
    }
    if (*path == '\0' || *path++ != c)
      return false;
  }
  return *path == '\0';
}

static int check_root_mounted(pid_t pid, const char *root_path, struct l1vh_error *err)
{
  cleanup_free char *info = NULL, *real = NULL;
  char path[64];
  size_t len;
  int n = snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int) pid), r;

  if (n < 0 || (size_t) n >= sizeof(path))
    return l1vh_error_setx(err, "pid %d: path too long", (int) pid);
  /* The kernel shows the mount point with symlinks resolved (a bundle
   * under a symlinked /var/lib); the host resolves root_path the same way. */
  if (!(real = realpath(root_path, NULL)))
    return l1vh_error_set(err, errno, "container rootfs %s", root_path);
  l1vh_caps_raise(L1VH_STEP_PID);
  r = l1vh_read_file_capped(AT_FDCWD, path, MOUNTINFO_MAX_BYTES, &info, &len, err);
  l1vh_caps_lower();
  if (r < 0)
    return l1vh_error_wrap(err, "read %s", path);
  /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." */
  for (char *line = info, *next; line && *line; line = next) {
    const char *f = line;
    size_t flen;
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    for (int field = 0; field < 4 && f; field++)
      if ((f = strchr(f, ' ')))
        f++;
    if (!f)
      continue;
    flen = strcspn(f, " ");
    if (mountpoint_is(f, flen, real))
      return 0;
  }
  return l1vh_error_setx(err, "rootfs %s is not a mount in the mount namespace of pid %d: "
                              "not this container's init", root_path, (int) pid);
}

int l1vh_ns_check_pid(pid_t pid, const char *root_path, struct l1vh_error *err)
{
  cleanup_close int target = -1, self = -1;

  if (pid <= 0)
    return l1vh_error_setx(err, "the state has no container pid");
  if ((target = open_ns_of(pid, err)) < 0)
    return -1;
  if ((self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0)
    return l1vh_error_set(err, errno, "open /proc/self/ns/mnt");
  if (check_target(pid, target, self, err) < 0)
    return -1;
  return check_root_mounted(pid, root_path, err);
}

static int check_root_is_mount(pid_t pid, int root_fd, const char *root_path, struct l1vh_error *err)
{
  struct statx stx;

  if (statx(root_fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0)
    return l1vh_error_set(err, errno, "statx container rootfs %s", root_path);
  /* STATX_ATTR_MOUNT_ROOT: Linux 5.8; an older kernel cannot tell. */
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    return l1vh_error_setx(err, "rootfs %s is not a mount in the mount namespace of pid %d: "
                                "not this container's init", root_path, (int) pid);
  return 0;
}

int l1vh_ns_enter(pid_t pid, const char *root_path, struct l1vh_ns *ns, struct l1vh_error *err)
{
  cleanup_close int target = -1;

  ns->host_mntns = ns->root_fd = ns->cwd_fd = -1;
  if (pid <= 0)
    return l1vh_error_setx(err, "enter container mount namespace: no container pid");
  if (!root_path || root_path[0] != '/')
    return l1vh_error_setx(err, "enter container mount namespace: rootfs path \"%s\" is not absolute",
                           root_path ? root_path : "");

  /* Both namespace fds are opened before any switch: once inside, the
   * host's /proc may not be reachable. */
  if ((target = open_ns_of(pid, err)) < 0)
    return -1;
  ns->host_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (ns->host_mntns < 0)
    return l1vh_error_set(err, errno, "open /proc/self/ns/mnt");
  if (check_target(pid, target, ns->host_mntns, err) < 0) {
    close_fd(&ns->host_mntns);
    return -1;
  }
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
  if (check_root_is_mount(pid, ns->root_fd, root_path, err) < 0)
    goto fail;
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
