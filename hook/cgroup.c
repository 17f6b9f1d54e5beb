/* l1vh-hook: finding a container's device cgroup and choosing v1 or v2.
 *
 * /proc/PID/cgroup says which cgroup the container's init is in on each
 * hierarchy; the mount table says which hierarchies this (the runtime's)
 * mount namespace can see.  On a hybrid host both a v1 devices hierarchy
 * and the unified one exist and runc uses v1 for devices, so a mounted v1
 * devices hierarchy wins. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "io.h"

static void free_table(struct libmnt_table **tb)
{
  if (*tb)
    mnt_unref_table(*tb);
}

static void free_iter(struct libmnt_iter **it)
{
  if (*it)
    mnt_free_iter(*it);
}

#define cleanup_mnt_table __attribute__((cleanup(free_table)))
#define cleanup_mnt_iter __attribute__((cleanup(free_iter)))

void l1vh_cgroup_change_init(struct l1vh_cgroup_change *chg)
{
  size_t i;

  memset(chg, 0, sizeof(*chg));
  chg->v1_dir_fd = -1;
  chg->v2_cgroup_fd = -1;
  for (i = 0; i < L1VH_DEVPROG_MAX_PROGS; i++)
    chg->v2_old_fd[i] = chg->v2_new_fd[i] = -1;
}

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

void l1vh_cgroup_change_release(struct l1vh_cgroup_change *chg)
{
  size_t i;

  close_fd(&chg->v1_dir_fd);
  close_fd(&chg->v2_cgroup_fd);
  for (i = 0; i < L1VH_DEVPROG_MAX_PROGS; i++) {
    close_fd(&chg->v2_old_fd[i]);
    close_fd(&chg->v2_new_fd[i]);
  }
  chg->v2_n = 0;
  chg->changed = false;
}

/* The path comes from the kernel, but it is joined to a host path: refuse
 * anything but a plain absolute path. */
static bool cgroup_path_safe(const char *p)
{
  if (p[0] != '/')
    return false;
  while (*p) {
    size_t len;
    while (*p == '/')
      p++;
    len = strcspn(p, "/");
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return false;
    p += len;
  }
  return true;
}

static bool has_token(const char *list, size_t len, const char *token)
{
  size_t tlen = strlen(token);
  const char *end = list + len;

  while (list < end) {
    const char *comma = memchr(list, ',', (size_t) (end - list));
    size_t n = comma ? (size_t) (comma - list) : (size_t) (end - list);
    if (n == tlen && memcmp(list, token, n) == 0)
      return true;
    list += n + 1;
  }
  return false;
}

int l1vh_cgroup_proc_path(const char *text, const char *controller, char *path, size_t size,
                          struct l1vh_error *err)
{
  const char *line = text;

  while (line && *line) {
    const char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t) (eol - line) : strlen(line);
    const char *c1 = memchr(line, ':', len), *c2, *p;
    size_t plen;
    bool match;

    if (!c1 || !(c2 = memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - line))))
      return l1vh_error_setx(err, "malformed /proc/PID/cgroup line \"%.*s\"", (int) len, line);
    if (controller)
      match = !(c1 - line == 1 && line[0] == '0') && has_token(c1 + 1, (size_t) (c2 - c1 - 1), controller);
    else
      match = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
    if (match) {
      p = c2 + 1;
      plen = len - (size_t) (p - line);
      if (plen + 1 > size)
        return l1vh_error_setx(err, "cgroup path too long in /proc/PID/cgroup");
      memcpy(path, p, plen);
      path[plen] = '\0';
      if (!cgroup_path_safe(path))
        return l1vh_error_setx(err, "refusing cgroup path \"%s\" from /proc/PID/cgroup", path);
      return 1;
    }
    line = eol ? eol + 1 : NULL;
  }
  return 0;
}

/* The cgroup path relative to a mount of its hierarchy whose root (the
 * mountinfo root field) is root; false when the mount does not show it. */
static bool relative_to_mount(const char *cgpath, const char *root, char *rel, size_t size)
{
  size_t rlen;

  if (!root || strcmp(root, "/") == 0) {
    rlen = 0;
  } else {
    rlen = strlen(root);
    if (strncmp(cgpath, root, rlen) != 0 || (cgpath[rlen] != '/' && cgpath[rlen] != '\0'))
      return false;
  }
  cgpath += rlen;
  while (*cgpath == '/')
    cgpath++;
  if (strlen(cgpath) + 1 > size)
    return false;
  strcpy(rel, cgpath);
  return true;
}

/* First mount of fstype (carrying option when not NULL) that shows cgpath. */
static int find_mount(const char *mountinfo, const char *fstype, const char *option, const char *cgpath,
                      struct l1vh_cgroup_place *place, struct l1vh_error *err)
{
  cleanup_mnt_table struct libmnt_table *tb = mnt_new_table_from_file(mountinfo);
  cleanup_mnt_iter struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
  struct libmnt_fs *fs;

  if (!tb)
    return l1vh_error_setx(err, "read the mount table %s", mountinfo);
  if (!it)
    abort();
  while (mnt_table_next_fs(tb, it, &fs) == 0) {
    const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);
    if (!type || !target || strcmp(type, fstype) != 0)
      continue;
    if (option && mnt_fs_get_option(fs, option, NULL, NULL) != 0)
      continue;
    if (!relative_to_mount(cgpath, mnt_fs_get_root(fs), place->rel, sizeof(place->rel)))
      continue;
    if (strlen(target) + 1 > sizeof(place->mount))
      continue;
    strcpy(place->mount, target);
    return 1;
  }
  return 0;
}

int l1vh_cgroup_locate(const char *proc_cgroup, const char *mountinfo,
                       struct l1vh_cgroup_place *place, struct l1vh_error *err)
{
  char cgpath[PATH_MAX];
  int r;

  memset(place, 0, sizeof(*place));
  r = l1vh_cgroup_proc_path(proc_cgroup, "devices", cgpath, sizeof(cgpath), err);
  if (r < 0)
    return r;
  if (r > 0) {
    r = find_mount(mountinfo, "cgroup", "devices", cgpath, place, err);
    if (r < 0)
      return r;
    if (r > 0) {
      place->version = L1VH_CGROUP_V1;
      return 0;
    }
  }
  r = l1vh_cgroup_proc_path(proc_cgroup, NULL, cgpath, sizeof(cgpath), err);
  if (r < 0)
    return r;
  if (r > 0) {
    r = find_mount(mountinfo, "cgroup2", NULL, cgpath, place, err);
    if (r < 0)
      return r;
    if (r > 0) {
      place->version = L1VH_CGROUP_V2;
      return 0;
    }
  }
  return l1vh_error_setx(err, "no mounted devices cgroup: neither a cgroup v1 devices hierarchy nor "
                              "cgroup2 shows the container's cgroup");
}

int l1vh_cgroup_open_dir(const struct l1vh_cgroup_place *place, int flags, struct l1vh_error *err)
{
  cleanup_close int mfd = open(place->mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct open_how how;
  struct statfs sfs;
  int fd;

  if (mfd < 0)
    return l1vh_error_set(err, errno, "open cgroup mount %s", place->mount);
  /* The mount table is the runtime's, but check we are on a cgroup fs
   * before writing into it. */
  if (fstatfs(mfd, &sfs) < 0)
    return l1vh_error_set(err, errno, "statfs %s", place->mount);
  if (sfs.f_type != (place->version == L1VH_CGROUP_V2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
    return l1vh_error_setx(err, "%s is not a cgroup%s file system", place->mount,
                           place->version == L1VH_CGROUP_V2 ? "2" : "");
  memset(&how, 0, sizeof(how));
  how.flags = (uint64_t) (unsigned) (flags | O_DIRECTORY | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  fd = (int) syscall(SYS_openat2, mfd, place->rel[0] ? place->rel : ".", &how, sizeof(how));
  if (fd < 0)
    return l1vh_error_set(err, errno, "open cgroup %s/%s", place->mount, place->rel);
  return fd;
}

static int read_proc_cgroup(pid_t pid, char **text, struct l1vh_error *err)
{
  char path[64];
  cleanup_close int dfd = -1;
  size_t len;
  int n = snprintf(path, sizeof(path), "/proc/%d", (int) pid);

  if (n < 0 || (size_t) n >= sizeof(path))
    return l1vh_error_setx(err, "pid %d: path too long", (int) pid);
  dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return l1vh_error_set(err, errno, "open %s", path);
  if (l1vh_read_file_capped(dfd, "cgroup", L1VH_PROC_CGROUP_MAX_BYTES, text, &len, err) < 0)
    return l1vh_error_wrap(err, "read %s", path);
  return 0;
}

static int with_caps(const struct l1vh_cgroup_place *place, unsigned maj, unsigned min,
                     struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  bool v1 = place->version == L1VH_CGROUP_V1;
  int r;

  l1vh_caps_raise(v1 ? L1VH_STEP_CGROUP_V1 : L1VH_STEP_CGROUP_V2);
  r = v1 ? l1vh_cgroup_v1_allow(place, maj, min, chg, err) : l1vh_cgroup_v2_allow(place, maj, min, chg, err);
  l1vh_caps_lower();
  return r;
}

int l1vh_cgroup_allow(pid_t pid, const char *mountinfo, dev_t rdev, struct l1vh_cgroup_change *chg,
                      struct l1vh_error *err)
{
  cleanup_free char *text = NULL;
  struct l1vh_cgroup_place place;
  unsigned maj = major(rdev), min = minor(rdev);
  int n;

  l1vh_cgroup_change_init(chg);
  if (read_proc_cgroup(pid, &text, err) < 0)
    return -1;
  if (l1vh_cgroup_locate(text, mountinfo ? mountinfo : "/proc/self/mountinfo", &place, err) < 0)
    return -1;
  chg->version = place.version;
  chg->major = maj;
  chg->minor = min;
  n = snprintf(chg->where, sizeof(chg->where), "%s/%s", place.mount, place.rel);
  if (n < 0 || (size_t) n >= sizeof(chg->where))
    return l1vh_error_setx(err, "cgroup path too long");
  /* No container runs in a root cgroup, and a root cgroup's rules are
   * the whole node's. */
  if (place.rel[0] == '\0')
    return l1vh_error_setx(err, "pid %d is in the root cgroup of %s: not a container's cgroup, not "
                                "changing it", (int) pid, place.mount);
  return with_caps(&place, maj, min, chg, err);
}

int l1vh_cgroup_revert(struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  int ret = 0;

  if (chg->changed) {
    if (chg->version == L1VH_CGROUP_V1) {
      l1vh_caps_raise(L1VH_STEP_CGROUP_V1);
      ret = l1vh_cgroup_v1_revert(chg, err);
      l1vh_caps_lower();
    } else if (chg->version == L1VH_CGROUP_V2) {
      l1vh_caps_raise(L1VH_STEP_CGROUP_V2);
      ret = l1vh_cgroup_v2_revert(chg, err);
      l1vh_caps_lower();
    }
  }
  l1vh_cgroup_change_release(chg);
  return ret;
}
