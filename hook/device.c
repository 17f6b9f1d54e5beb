/* l1vh-hook: action 1, the hypervisor device (/dev/mshv) in the container.
 *
 * 1. the host node is still the character device the plan was made for;
 * 2. in the container's mount namespace, the node is created in the parent
 *    directory of device.path, found from the rootfs fd without following
 *    any symlink (the runtime makes /dev: a symlink there comes from the
 *    image), and owned and moded through an fd of the new node;
 * 3. the device cgroup allows `c MAJ:MIN rw` (v1 devices.allow, v2 the
 *    rebuilt eBPF program, hook/cgroup*.c).
 * A failure undoes what this action did, so no VM starts with half a
 * device.  docs/device.md describes the behaviour. */
#define _GNU_SOURCE
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "actions.h"
#include "caps.h"
#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "ns.h"

/* What l1vh_device_apply did, for l1vh_device_undo: the hook handles one
 * container per run. */
static struct {
  bool node_created;
  bool cgroup_changed;
  struct l1vh_cgroup_change cg;
} applied;

int l1vh_device_split_path(const char *path, char *dir, size_t dir_size, const char **base)
{
  const char *slash, *p;
  size_t dlen;

  if (!path || path[0] != '/')
    return -1;
  /* No "." or ".." component, no empty one, no trailing slash. */
  for (p = path; *p;) {
    size_t len;
    p++;
    len = strcspn(p, "/");
    if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return -1;
    p += len;
  }
  slash = strrchr(path, '/');
  dlen = (size_t) (slash - path);
  if (dlen == 0)
    dlen = 1; /* the root itself */
  if (dlen + 1 > dir_size)
    return -1;
  memcpy(dir, path, dlen);
  dir[dlen] = '\0';
  *base = slash + 1;
  return 0;
}

const char *l1vh_device_describe(mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFLNK: return "a symlink";
  case S_IFREG: return "a regular file";
  case S_IFDIR: return "a directory";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFIFO: return "a FIFO";
  case S_IFSOCK: return "a socket";
  default: return "an unknown file type";
  }
}

/* Step 1: the plan was made from a stat of the host node; refuse if it is
 * gone or became something else (a module reload gives a new minor). */
static int check_host_device(const struct l1vh_device_plan *plan, struct l1vh_error *err)
{
  struct stat st;

  if (stat(plan->path, &st) < 0)
    return l1vh_error_set(err, errno, "stat host %s", plan->path);
  if (!S_ISCHR(st.st_mode))
    return l1vh_error_setx(err, "host %s is %s, not a character device", plan->path,
                           l1vh_device_describe(st.st_mode));
  if (st.st_rdev != plan->rdev)
    return l1vh_error_setx(err, "host %s changed since the decision: %u:%u, planned %u:%u", plan->path,
                           major(st.st_rdev), minor(st.st_rdev), major(plan->rdev), minor(plan->rdev));
  return 0;
}

/* The parent directory of the device path in the rootfs: no symlink
 * followed, never outside the rootfs, never created. */
static int open_parent(const struct l1vh_ns *ns, const struct l1vh_device_plan *plan, const char **base,
                       struct l1vh_error *err)
{
  char dir[4096];

  if (l1vh_device_split_path(plan->path, dir, sizeof(dir), base) < 0)
    return l1vh_error_setx(err, "device path \"%s\" is not a plain absolute path", plan->path);
  return l1vh_open_in_root_nosymlinks(ns->root_fd, dir, O_PATH | O_DIRECTORY, 0, err);
}

/* Owner and mode through an O_PATH fd of the node itself, so the name
 * cannot be swapped between the checks and the change. */
static int own_node(int dir_fd, const char *base, const struct l1vh_device_plan *plan,
                    struct l1vh_error *err)
{
  cleanup_close int fd = openat(dir_fd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  int r;

  if (fd < 0)
    return l1vh_error_set(err, errno, "open new node");
  if (fstat(fd, &st) < 0)
    return l1vh_error_set(err, errno, "stat new node");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != plan->rdev)
    return l1vh_error_setx(err, "new node was replaced by %s", l1vh_device_describe(st.st_mode));
  l1vh_caps_raise(L1VH_STEP_CHOWN);
  r = fchownat(fd, "", plan->uid, plan->gid, AT_EMPTY_PATH);
  l1vh_caps_lower();
  if (r < 0)
    return l1vh_error_set(err, errno, "chown %u:%u", (unsigned) plan->uid, (unsigned) plan->gid);
  if (fstat(fd, &st) < 0)
    return l1vh_error_set(err, errno, "stat new node");
  /* chown may clear set-id bits, and mknod applied the mode: check both. */
  if (st.st_uid != plan->uid || st.st_gid != plan->gid || (st.st_mode & 07777) != (plan->mode & 07777))
    return l1vh_error_setx(err, "new node is %u:%u mode %04o, wanted %u:%u mode %04o", (unsigned) st.st_uid,
                           (unsigned) st.st_gid, (unsigned) (st.st_mode & 07777), (unsigned) plan->uid,
                           (unsigned) plan->gid, (unsigned) (plan->mode & 07777));
  return 0;
}

/* Remove the node at base if it is still the device we made. */
static int remove_node(int dir_fd, const char *base, const struct l1vh_device_plan *plan,
                       struct l1vh_error *err)
{
  struct stat st;

  if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return 0;
    return l1vh_error_set(err, errno, "remove %s: stat", plan->path);
  }
  if (!S_ISCHR(st.st_mode) || st.st_rdev != plan->rdev)
    return l1vh_error_setx(err, "remove %s: it is %s now, leaving it", plan->path,
                           l1vh_device_describe(st.st_mode));
  if (unlinkat(dir_fd, base, 0) < 0)
    return l1vh_error_set(err, errno, "remove %s", plan->path);
  return 0;
}

/* Inside the container's mount namespace. */
static int make_node_in(const struct l1vh_ns *ns, const struct l1vh_device_plan *plan, bool *created,
                        struct l1vh_error *err)
{
  cleanup_close int dir_fd = -1;
  const char *base;
  struct stat st;
  mode_t old_umask;
  int r;

  *created = false;
  dir_fd = open_parent(ns, plan, &base, err);
  if (dir_fd < 0)
    return -1;
  if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    /* The runtime (linux.devices) or an earlier hook made it: its owner and
     * mode are theirs to decide. */
    if (S_ISCHR(st.st_mode) && st.st_rdev == plan->rdev)
      return 0;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
      return l1vh_error_setx(err, "%s exists in the container as %s %u:%u, not %u:%u", plan->path,
                             l1vh_device_describe(st.st_mode), major(st.st_rdev), minor(st.st_rdev),
                             major(plan->rdev), minor(plan->rdev));
    return l1vh_error_setx(err, "%s exists in the container as %s", plan->path, l1vh_device_describe(st.st_mode));
  }
  if (errno != ENOENT)
    return l1vh_error_set(err, errno, "stat %s in the container", plan->path);

  /* The hook is single-threaded: the umask switch affects only this call. */
  old_umask = umask(0);
  l1vh_caps_raise(L1VH_STEP_MKNOD);
  r = mknodat(dir_fd, base, S_IFCHR | (plan->mode & 0777), plan->rdev);
  l1vh_caps_lower();
  umask(old_umask);
  if (r < 0)
    return l1vh_error_set(err, errno, "mknod %s %u:%u", plan->path, major(plan->rdev), minor(plan->rdev));
  *created = true;
  if (own_node(dir_fd, base, plan, err) < 0) {
    struct l1vh_error ignored = L1VH_ERROR_INIT;
    l1vh_error_wrap(err, "%s", plan->path);
    if (remove_node(dir_fd, base, plan, &ignored) == 0)
      *created = false;
    l1vh_error_clear(&ignored);
    return -1;
  }
  return 0;
}

/* Step 2: enter, make, leave; the return to the host namespace is checked
 * and its failure reported even after a failed step. */
static int with_container_ns(const struct l1vh_target *t, const struct l1vh_device_plan *plan,
                             int (*fn)(const struct l1vh_ns *, const struct l1vh_device_plan *, bool *,
                                       struct l1vh_error *),
                             bool *flag, struct l1vh_error *err)
{
  struct l1vh_ns ns = L1VH_NS_INIT;
  struct l1vh_error leave_err = L1VH_ERROR_INIT;
  int r;

  if (l1vh_ns_enter(t->pid, t->root_path, &ns, err) < 0)
    return -1;
  r = fn(&ns, plan, flag, err);
  if (l1vh_ns_leave(&ns, &leave_err) < 0) {
    /* Still in the container's namespace: nothing else may run here. */
    if (r == 0) {
      free(err->msg);
      *err = leave_err;
      return -1;
    }
    l1vh_error_wrap(err, "%s; after", l1vh_error_msg(&leave_err));
    l1vh_error_clear(&leave_err);
    return -1;
  }
  return r;
}

static int remove_node_in(const struct l1vh_ns *ns, const struct l1vh_device_plan *plan, bool *unused,
                          struct l1vh_error *err)
{
  cleanup_close int dir_fd = -1;
  const char *base;

  (void) unused;
  dir_fd = open_parent(ns, plan, &base, err);
  if (dir_fd < 0)
    return -1;
  return remove_node(dir_fd, base, plan, err);
}

static int undo(const struct l1vh_target *t, const struct l1vh_device_plan *plan, struct l1vh_error *err)
{
  int ret = 0;

  if (applied.cgroup_changed) {
    if (l1vh_cgroup_revert(&applied.cg, err) < 0)
      ret = -1;
    applied.cgroup_changed = false;
  }
  if (applied.node_created) {
    struct l1vh_error node_err = L1VH_ERROR_INIT;
    if (with_container_ns(t, plan, remove_node_in, NULL, &node_err) < 0) {
      if (ret == 0) {
        free(err->msg);
        *err = node_err;
        node_err = (struct l1vh_error) L1VH_ERROR_INIT;
      }
      ret = -1;
    }
    l1vh_error_clear(&node_err);
    applied.node_created = false;
  }
  return ret;
}

static int apply(const struct l1vh_target *t, const struct l1vh_device_plan *plan, struct l1vh_error *err)
{
  if (check_host_device(plan, err) < 0)
    return -1;
  if (with_container_ns(t, plan, make_node_in, &applied.node_created, err) < 0)
    return -1;
  if (l1vh_cgroup_allow(t->pid, NULL, plan->rdev, &applied.cg, err) < 0)
    return l1vh_error_wrap(err, "device cgroup");
  applied.cgroup_changed = applied.cg.changed;
  return 0;
}

int l1vh_device_apply(const struct l1vh_target *t, const struct l1vh_device_plan *plan,
                      struct l1vh_error *err)
{
  if (!plan->inject || plan->in_spec)
    return 0; /* nothing to do, or the runtime did it from linux.devices */
  memset(&applied, 0, sizeof(applied));
  l1vh_cgroup_change_init(&applied.cg);
  if (apply(t, plan, err) < 0) {
    struct l1vh_error undo_err = L1VH_ERROR_INIT;
    if (undo(t, plan, &undo_err) < 0)
      l1vh_log(L1VH_LOG_ERROR, "undo inject %s: %s", plan->path, l1vh_error_msg(&undo_err));
    l1vh_error_clear(&undo_err);
    return l1vh_error_wrap(err, "inject %s", plan->path);
  }
  return 0;
}

void l1vh_device_undo(const struct l1vh_target *t, const struct l1vh_device_plan *plan)
{
  struct l1vh_error err = L1VH_ERROR_INIT;

  if (!plan->inject || plan->in_spec)
    return;
  if (undo(t, plan, &err) < 0)
    l1vh_log(L1VH_LOG_ERROR, "undo inject %s: %s", plan->path, l1vh_error_msg(&err));
  l1vh_error_clear(&err);
  l1vh_cgroup_change_release(&applied.cg);
}
