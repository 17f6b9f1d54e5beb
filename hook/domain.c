/* l1vh-hook: action 3, the domain type rewrite pieces in the container
 * (docs/domain.md; the layout is incontainer/layout.h).
 *
 * On the host, before entering the container:
 *   the pieces (l1vh-wrap, l1vh-domxml.so) are opened from the hook's own
 *   directory or LIBEXECDIR, checked (regular, root's, not writable by
 *   others) and cloned as detached read-only, nosuid, nodev mounts
 *   (open_tree): nothing from the host is ever named by a path inside the
 *   container, and nothing is mounted in the host's namespace.
 * In the container's mount namespace, every path resolved from the rootfs
 * fd (RESOLVE_IN_ROOT):
 *   1. the binaries to wrap are found (the emulator, or the libvirt daemon);
 *   2. a private tmpfs goes on /dev/.l1vh (the runtime's own /dev tmpfs,
 *      never the host's /dev), with the config for the pieces;
 *   3. the image's top directory holding them (/usr) is bound read-only at
 *      /dev/.l1vh/root/usr, so the originals stay executable, at a path
 *      whose ../share/qemu still is QEMU's data;
 *   4. l1vh-domxml.so is bound into the tmpfs (xml), l1vh-wrap over each
 *      binary, and the tmpfs is made read-only;
 *   5. each wrapped path is opened again and must now be l1vh-wrap.
 * Any failure undoes the mounts already made, and the start fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../incontainer/layout.h"
#include "actions.h"
#include "caps.h"
#include "cleanup.h"
#include "io.h"
#include "log.h"
#include "ns.h"

#ifndef L1VH_LIBEXECDIR
#define L1VH_LIBEXECDIR "/usr/local/libexec/l1vh"
#endif

/* Where launcher images keep what gets wrapped, most specific first:
 * KubeVirt's (RHEL-based) launcher runs /usr/libexec/qemu-kvm and
 * virtqemud; Debian's libvirt 9.0 is libvirtd. */
static const char *const emulators[] = {"usr/libexec/qemu-kvm", "usr/bin/qemu-system-x86_64",
                                        "usr/bin/qemu-kvm"};
static const char *const daemons[] = {"usr/sbin/virtqemud", "usr/sbin/libvirtd"};
#define MAX_TARGETS 3

#define MOUNTINFO_MAX (16 << 20)

struct target {
  int fd;                        /* O_PATH of the image's binary */
  char path[L1VH_RUN_MAX_PATH];  /* its absolute path inside the rootfs */
  int wrap;                      /* a detached clone of l1vh-wrap, then attached over fd */
  bool mounted;
};

struct install {
  const struct l1vh_domain_plan *plan;
  const char *const *candidates;
  size_t n_candidates;
  const char *what; /* "emulator" or "daemon", as in the config */
  struct stat wrap_st;
  dev_t host_dev; /* the host's /dev, which must never be written */
  int so;         /* detached clone of l1vh-domxml.so (xml), or -1 */
  bool so_mounted;
  struct target t[MAX_TARGETS];
  size_t n;
  char tops[MAX_TARGETS][NAME_MAX + 1]; /* first path components of the targets */
  size_t n_tops;
  int tops_mounted[MAX_TARGETS]; /* attached clones of the tops, or -1 */
  int dev;      /* O_PATH of the container's /dev */
  int run;      /* the tmpfs mount, detached then attached on /dev/.l1vh */
  bool run_dir; /* /dev/.l1vh was created */
  bool run_attached;
};

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void install_init(struct install *ins, const struct l1vh_domain_plan *plan)
{
  memset(ins, 0, sizeof(*ins));
  ins->plan = plan;
  ins->so = ins->dev = ins->run = -1;
  for (size_t i = 0; i < MAX_TARGETS; i++)
    ins->t[i].fd = ins->t[i].wrap = ins->tops_mounted[i] = -1;
  if (plan->strategy == L1VH_DOMAIN_XML) {
    ins->candidates = daemons;
    ins->n_candidates = L1VH_ARRAY_SIZE(daemons);
    ins->what = "daemon";
  } else {
    ins->candidates = emulators;
    ins->n_candidates = L1VH_ARRAY_SIZE(emulators);
    ins->what = "emulator";
  }
}

static void install_close(struct install *ins)
{
  close_fd(&ins->so);
  close_fd(&ins->dev);
  close_fd(&ins->run);
  for (size_t i = 0; i < MAX_TARGETS; i++) {
    close_fd(&ins->t[i].fd);
    close_fd(&ins->t[i].wrap);
    close_fd(&ins->tops_mounted[i]);
  }
}

/* ---- on the host ---- */

/* A piece next to the running hook (a build tree), else in the libexec
 * directory of the prefix it was installed to (BINDIR/../libexec/l1vh, so
 * `make install PREFIX=...` needs no rebuild), else in LIBEXECDIR. */
static int open_piece(const char *name, struct stat *st, struct l1vh_error *err)
{
  char self[PATH_MAX], sibling[PATH_MAX + 32], path[PATH_MAX + 64];
  const char *dirs[3] = {NULL, NULL, L1VH_LIBEXECDIR};
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

  if (n > 0) {
    self[n] = '\0';
    if (strrchr(self, '/'))
      *strrchr(self, '/') = '\0';
    dirs[0] = self;
    n = snprintf(sibling, sizeof(sibling), "%s/../libexec/l1vh", self);
    if (n > 0 && (size_t) n < sizeof(sibling))
      dirs[1] = sibling;
  }
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(dirs); i++) {
    int fd, k;

    if (!dirs[i])
      continue;
    k = snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
    if (k < 0 || (size_t) k >= sizeof(path))
      continue;
    fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      continue;
    if (fstat(fd, st) < 0) {
      l1vh_error_set(err, errno, "stat %s", path);
      close(fd);
      return -1;
    }
    /* It runs inside every VM's container: only root may have written it. */
    if (!S_ISREG(st->st_mode) || (st->st_uid != 0 && st->st_uid != geteuid()) ||
        (st->st_mode & (S_IWGRP | S_IWOTH))) {
      l1vh_error_setx(err, "%s: not a regular file owned by root and writable by root only", path);
      close(fd);
      return -1;
    }
    return fd;
  }
  return l1vh_error_setx(err, "%s not found next to the hook nor in %s (make install puts it there)",
                         name, L1VH_LIBEXECDIR);
}

/* A detached bind mount of fd, with attributes set before it is attached
 * anywhere, and private, so that nothing mounted on or under it propagates. */
static int clone_tree(int fd, uint64_t attrs, bool recursive, struct l1vh_error *err)
{
  struct mount_attr attr = {.attr_set = attrs, .propagation = MS_PRIVATE};
  unsigned rec = recursive ? AT_RECURSIVE : 0;
  int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);

  if (tree < 0)
    return l1vh_error_set(err, errno, "open_tree (clone)");
  if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0) {
    l1vh_error_set(err, errno, "mount_setattr on the clone");
    close(tree);
    return -1;
  }
  return tree;
}

#define PIECE_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

static int prepare_host(struct install *ins, struct l1vh_error *err)
{
  cleanup_close int wrap = -1, so = -1;
  struct stat st;

  if (stat("/dev", &st) < 0)
    return l1vh_error_set(err, errno, "stat the host's /dev");
  ins->host_dev = st.st_dev;
  if ((wrap = open_piece(L1VH_WRAP_NAME, &ins->wrap_st, err)) < 0)
    return -1;
  /* One clone per possible target: a detached mount can be attached once,
   * and it cannot be cloned again from inside the container's namespace. */
  for (size_t i = 0; i < ins->n_candidates && i < MAX_TARGETS; i++)
    if ((ins->t[i].wrap = clone_tree(wrap, PIECE_ATTRS, false, err)) < 0)
      return l1vh_error_wrap(err, "%s", L1VH_WRAP_NAME);
  if (ins->plan->strategy == L1VH_DOMAIN_XML) {
    if ((so = open_piece(L1VH_PRELOAD_NAME, &st, err)) < 0)
      return -1;
    if ((ins->so = clone_tree(so, PIECE_ATTRS, false, err)) < 0)
      return l1vh_error_wrap(err, "%s", L1VH_PRELOAD_NAME);
  }
  return 0;
}

/* ---- in the container's mount namespace ---- */

/* "/proc/self/fd/N": always fits. */
static const char *fd_link(char buf[static 32], int fd)
{
  int n = snprintf(buf, 32, "/proc/self/fd/%d", fd);
  return n > 0 && n < 32 ? buf : "/proc/self/fd/-1";
}

/* The path of fd inside the rootfs: both as the kernel names them. */
static int path_in_root(int root_fd, int fd, char *out, size_t size, struct l1vh_error *err)
{
  char link[32], root[PATH_MAX], path[PATH_MAX];
  ssize_t rn, pn;
  size_t skip;

  if ((rn = readlink(fd_link(link, root_fd), root, sizeof(root) - 1)) <= 0)
    return l1vh_error_set(err, errno, "readlink the rootfs fd");
  root[rn] = '\0';
  if ((pn = readlink(fd_link(link, fd), path, sizeof(path) - 1)) <= 0)
    return l1vh_error_set(err, errno, "readlink %s", link);
  path[pn] = '\0';
  skip = strcmp(root, "/") == 0 ? 0 : (size_t) rn;
  if (strncmp(path, root, skip) != 0 || path[skip] != '/' || strchr(path, '\n') ||
      strlen(path + skip) >= size)
    return l1vh_error_setx(err, "%s is not a plain path below the rootfs %s", path, root);
  strcpy(out, path + skip);
  return 0;
}

/* Step 1: the image's binaries of this strategy, symlinks resolved inside
 * the rootfs, each path once.  Paths, not inodes: a hard link is another
 * name to execute, and must be wrapped as well. */
static int find_targets(const struct l1vh_ns *ns, struct install *ins, struct l1vh_error *err)
{
  char looked[256] = "";

  for (size_t i = 0; i < ins->n_candidates && ins->n < MAX_TARGETS; i++) {
    struct l1vh_error e = L1VH_ERROR_INIT;
    struct target *t = &ins->t[ins->n];
    struct stat st;
    bool seen = false;
    int fd = l1vh_open_in_root(ns->root_fd, ins->candidates[i], O_PATH, 0, &e);
    size_t k = strlen(looked);

    snprintf(looked + k, sizeof(looked) - k, "%s/%s", k ? ", " : "", ins->candidates[i]);
    if (fd < 0) {
      bool absent = e.code == ENOENT || e.code == ENOTDIR;
      if (!absent)
        *err = e;
      else
        l1vh_error_clear(&e);
      if (absent)
        continue;
      return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      continue;
    }
    t->fd = fd;
    if (path_in_root(ns->root_fd, fd, t->path, sizeof(t->path), err) < 0)
      return -1;
    for (size_t j = 0; j < ins->n; j++)
      seen |= strcmp(ins->t[j].path, t->path) == 0;
    if (seen) {
      close_fd(&t->fd);
      continue;
    }
    ins->n++;
  }
  if (ins->n == 0)
    return l1vh_error_setx(err, "no %s to wrap in the image (looked for %s)",
                           ins->plan->strategy == L1VH_DOMAIN_XML ? "libvirt daemon" : "QEMU emulator",
                           looked);
  return 0;
}

/* A mount shared with a peer group would carry our mounts out of the
 * container (to the host, in the worst case): refuse to mount there. */
static int check_not_shared(int fd, const char *what, struct l1vh_error *err)
{
  cleanup_free char *info = NULL;
  struct statx stx;
  size_t len;

  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
    return l1vh_error_set(err, errno, "statx %s", what);
  if (!(stx.stx_mask & STATX_MNT_ID))
    return l1vh_error_setx(err, "statx %s: the kernel reports no mount id", what);
  if (l1vh_read_file_capped(AT_FDCWD, "/proc/thread-self/mountinfo", MOUNTINFO_MAX, &info, &len, err) < 0)
    return l1vh_error_wrap(err, "read the container's mountinfo");
  for (char *line = info, *next; line && *line; line = next) {
    char *end = NULL, *sep, *opt;
    uint64_t id = strtoull(line, &end, 10);

    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (end == line || id != stx.stx_mnt_id)
      continue;
    /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ..." */
    sep = strstr(line, " - ");
    if (sep)
      *sep = '\0';
    opt = line;
    for (int field = 0; field < 6 && opt; field++)
      opt = strchr(opt + 1, ' ');
    if (opt && strstr(opt, " shared:"))
      return l1vh_error_setx(err, "%s is on a shared mount (propagation to its peers): will not mount there",
                             what);
    return 0;
  }
  return l1vh_error_setx(err, "%s: its mount is not in the container's mountinfo", what);
}

static int write_all(int fd, const char *buf, size_t len, struct l1vh_error *err)
{
  while (len) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return l1vh_error_set(err, errno, "write " L1VH_CONFIG_FILE);
    buf += n;
    len -= (size_t) n;
  }
  return 0;
}

static int append(char *buf, size_t size, size_t *len, const char *fmt, ...) L1VH_PRINTF(4, 5);
static int append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf + *len, size - *len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t) n >= size - *len)
    return -1;
  *len += (size_t) n;
  return 0;
}

/* The file l1vh-wrap and l1vh-domxml.so read (incontainer/runconf.h). */
static int write_config(const struct install *ins, struct l1vh_error *err)
{
  char buf[L1VH_RUN_CONFIG_MAX];
  size_t len = 0;
  int r = 0;
  cleanup_close int fd = openat(ins->run, L1VH_CONFIG_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

  if (fd < 0)
    return l1vh_error_set(err, errno, "create " L1VH_CONFIG_FILE);
  r |= append(buf, sizeof(buf), &len, "# l1vh-hook: the domain rewrite of this container (%s strategy)\n",
              l1vh_domain_strategy_name(ins->plan->strategy));
  r |= append(buf, sizeof(buf), &len, "accel %s\ntype %s\nfrom", ins->plan->accel, ins->plan->type);
  for (size_t i = 0; i < ins->plan->n_from; i++)
    r |= append(buf, sizeof(buf), &len, " %s", ins->plan->from[i]);
  r |= append(buf, sizeof(buf), &len, "\n");
  for (size_t i = 0; i < ins->n; i++)
    r |= append(buf, sizeof(buf), &len, "%s %s\n", ins->what, ins->t[i].path);
  if (r < 0)
    return l1vh_error_setx(err, L1VH_CONFIG_FILE ": more than %d bytes", L1VH_RUN_CONFIG_MAX);
  return write_all(fd, buf, len, err);
}

/* The first component of each target path: what gets mirrored. */
static int collect_tops(struct install *ins, struct l1vh_error *err)
{
  for (size_t i = 0; i < ins->n; i++) {
    const char *p = ins->t[i].path + 1;
    size_t n = strcspn(p, "/");
    bool have = false;

    if (n == 0 || n > NAME_MAX || p[n] != '/')
      return l1vh_error_setx(err, "%s: not below a top-level directory", ins->t[i].path);
    for (size_t k = 0; k < ins->n_tops; k++)
      have |= strlen(ins->tops[k]) == n && memcmp(ins->tops[k], p, n) == 0;
    if (!have) {
      memcpy(ins->tops[ins->n_tops], p, n);
      ins->tops[ins->n_tops++][n] = '\0';
    }
  }
  return 0;
}

/* "root/<top>", relative to the tmpfs. */
static int top_dir(char *buf, size_t size, const char *top, struct l1vh_error *err)
{
  int n = snprintf(buf, size, "%s/%s", L1VH_ROOT_NAME, top);
  if (n < 0 || (size_t) n >= size)
    return l1vh_error_setx(err, "%s/%s: name too long", L1VH_ROOT_DIR, top);
  return 0;
}

/* Step 2: a fresh tmpfs, filled while detached, then attached on
 * /dev/.l1vh.  /dev must be the runtime's tmpfs, not the host's /dev. */
static int make_run_dir(const struct l1vh_ns *ns, struct install *ins, struct l1vh_error *err)
{
  cleanup_close int fs = -1, mountpoint = -1, so_file = -1;
  struct statfs sfs;
  struct stat st;

  if ((ins->dev = l1vh_open_in_root_nosymlinks(ns->root_fd, "dev", O_PATH | O_DIRECTORY, 0, err)) < 0)
    return -1;
  if (fstatfs(ins->dev, &sfs) < 0 || fstat(ins->dev, &st) < 0)
    return l1vh_error_set(err, errno, "stat the container's /dev");
  if (sfs.f_type != TMPFS_MAGIC || st.st_dev == ins->host_dev)
    return l1vh_error_setx(err, "the container's /dev is not a tmpfs of its own: will not write there");
  if (check_not_shared(ins->dev, "the container's /dev", err) < 0)
    return -1;

  if ((fs = fsopen("tmpfs", FSOPEN_CLOEXEC)) < 0)
    return l1vh_error_set(err, errno, "fsopen tmpfs");
  if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "1m", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "64", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return l1vh_error_set(err, errno, "configure the tmpfs for " L1VH_RUN_DIR);
  ins->run = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (ins->run < 0)
    return l1vh_error_set(err, errno, "fsmount the tmpfs for " L1VH_RUN_DIR);

  if (write_config(ins, err) < 0)
    return -1;
  if (mkdirat(ins->run, L1VH_ROOT_NAME, 0755) < 0)
    return l1vh_error_set(err, errno, "mkdir " L1VH_ROOT_DIR);
  for (size_t i = 0; i < ins->n_tops; i++) {
    char p[NAME_MAX + 16];
    if (top_dir(p, sizeof(p), ins->tops[i], err) < 0)
      return -1;
    if (mkdirat(ins->run, p, 0755) < 0)
      return l1vh_error_set(err, errno, "mkdir %s/%s", L1VH_ROOT_DIR, ins->tops[i]);
  }
  if (ins->so >= 0) {
    so_file = openat(ins->run, L1VH_PRELOAD_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (so_file < 0)
      return l1vh_error_set(err, errno, "create " L1VH_PRELOAD_FILE);
  }

  if (mkdirat(ins->dev, L1VH_RUN_NAME, 0755) < 0)
    return l1vh_error_set(err, errno, "mkdir " L1VH_RUN_DIR);
  ins->run_dir = true;
  mountpoint = openat(ins->dev, L1VH_RUN_NAME, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (mountpoint < 0)
    return l1vh_error_set(err, errno, "open " L1VH_RUN_DIR);
  if (move_mount(ins->run, "", mountpoint, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return l1vh_error_set(err, errno, "mount the tmpfs on " L1VH_RUN_DIR);
  ins->run_attached = true;
  return 0;
}

/* Step 3: the image's top directories, read-only, under /dev/.l1vh/root,
 * cloned before anything is mounted over the binaries in them. */
static int mirror_tops(const struct l1vh_ns *ns, struct install *ins, struct l1vh_error *err)
{
  for (size_t i = 0; i < ins->n_tops; i++) {
    cleanup_close int src = -1, dst = -1;
    char p[NAME_MAX + 16];
    int tree;

    if ((src = l1vh_open_in_root_nosymlinks(ns->root_fd, ins->tops[i], O_PATH | O_DIRECTORY, 0, err)) < 0)
      return -1;
    if ((tree = clone_tree(src, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, true, err)) < 0)
      return l1vh_error_wrap(err, "/%s", ins->tops[i]);
    ins->tops_mounted[i] = tree;
    if (top_dir(p, sizeof(p), ins->tops[i], err) < 0)
      return -1;
    if ((dst = openat(ins->run, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
      return l1vh_error_set(err, errno, "open %s/%s", L1VH_ROOT_DIR, ins->tops[i]);
    if (move_mount(tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
      close_fd(&ins->tops_mounted[i]);
      return l1vh_error_set(err, errno, "bind /%s on %s/%s", ins->tops[i], L1VH_ROOT_DIR, ins->tops[i]);
    }
  }
  return 0;
}

/* Step 4: the preload library, the wrappers, then the tmpfs read-only. */
static int mount_pieces(struct install *ins, struct l1vh_error *err)
{
  struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};

  if (ins->so >= 0) {
    cleanup_close int dst = openat(ins->run, L1VH_PRELOAD_NAME, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0)
      return l1vh_error_set(err, errno, "open " L1VH_PRELOAD_FILE);
    if (move_mount(ins->so, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return l1vh_error_set(err, errno, "bind %s on " L1VH_PRELOAD_FILE, L1VH_PRELOAD_NAME);
    ins->so_mounted = true;
  }
  for (size_t i = 0; i < ins->n; i++) {
    struct target *t = &ins->t[i];
    if (check_not_shared(t->fd, t->path, err) < 0)
      return -1;
    if (move_mount(t->wrap, "", t->fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return l1vh_error_set(err, errno, "bind %s over %s", L1VH_WRAP_NAME, t->path);
    t->mounted = true;
  }
  if (mount_setattr(ins->run, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
    return l1vh_error_set(err, errno, "make " L1VH_RUN_DIR " read-only");
  return 0;
}

/* Step 5: what the container will execute at each path is l1vh-wrap. */
static int verify(const struct l1vh_ns *ns, const struct install *ins, struct l1vh_error *err)
{
  for (size_t i = 0; i < ins->n; i++) {
    cleanup_close int fd = l1vh_open_in_root(ns->root_fd, ins->t[i].path, O_PATH, 0, err);
    struct stat st;

    if (fd < 0)
      return -1;
    if (fstat(fd, &st) < 0)
      return l1vh_error_set(err, errno, "stat %s", ins->t[i].path);
    if (st.st_dev != ins->wrap_st.st_dev || st.st_ino != ins->wrap_st.st_ino)
      return l1vh_error_setx(err, "%s is not %s after mounting it there", ins->t[i].path, L1VH_WRAP_NAME);
  }
  return 0;
}

static void detach(int fd)
{
  char p[32];
  if (umount2(fd_link(p, fd), MNT_DETACH) < 0)
    l1vh_log(L1VH_LOG_WARN, "domain: undo: umount %s: %s", p, strerror(errno));
}

/* Undo, in the container's namespace, what install() did. */
static void undo(struct install *ins)
{
  for (size_t i = ins->n; i-- > 0;)
    if (ins->t[i].mounted) {
      detach(ins->t[i].wrap);
      ins->t[i].mounted = false;
    }
  /* The tmpfs goes with everything mounted below it. */
  if (ins->run_attached) {
    detach(ins->run);
    ins->run_attached = false;
  }
  if (ins->run_dir && unlinkat(ins->dev, L1VH_RUN_NAME, AT_REMOVEDIR) < 0)
    l1vh_log(L1VH_LOG_WARN, "domain: undo: rmdir " L1VH_RUN_DIR ": %s", strerror(errno));
  ins->run_dir = false;
}

/* A second run of the hook for the same container (hooks.d and a hook the
 * shim added both registered): /dev/.l1vh is there already.  Done when
 * every target already is l1vh-wrap; anything else is a conflict. */
static int already_installed(const struct l1vh_ns *ns, const struct install *ins, struct l1vh_error *err)
{
  struct l1vh_error e = L1VH_ERROR_INIT;
  cleanup_close int dev = l1vh_open_in_root_nosymlinks(ns->root_fd, "dev", O_PATH | O_DIRECTORY, 0, &e);
  struct stat st;

  l1vh_error_clear(&e);
  if (dev < 0 || fstatat(dev, L1VH_RUN_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  for (size_t i = 0; i < ins->n; i++)
    if (fstat(ins->t[i].fd, &st) < 0 || st.st_dev != ins->wrap_st.st_dev || st.st_ino != ins->wrap_st.st_ino)
      return l1vh_error_setx(err, L1VH_RUN_DIR " exists but %s is not %s: installed by something else?",
                             ins->t[i].path, L1VH_WRAP_NAME);
  return 1;
}

static int install(const struct l1vh_ns *ns, struct install *ins, struct l1vh_error *err)
{
  int done;

  if (find_targets(ns, ins, err) < 0 || collect_tops(ins, err) < 0)
    return -1;
  if ((done = already_installed(ns, ins, err)) != 0)
    return done < 0 ? -1 : 0;
  if (make_run_dir(ns, ins, err) < 0 || mirror_tops(ns, ins, err) < 0 || mount_pieces(ins, err) < 0 ||
      verify(ns, ins, err) < 0) {
    undo(ins);
    return -1;
  }
  return 0;
}

static int apply(const struct l1vh_target *t, const struct l1vh_domain_plan *plan,
                 struct l1vh_error *err)
{
  struct l1vh_ns ns = L1VH_NS_INIT;
  struct l1vh_error leave_err = L1VH_ERROR_INIT;
  struct install ins;
  int r;

  if (!plan->rewrite)
    return 0;
  if (plan->strategy != L1VH_DOMAIN_XML && plan->strategy != L1VH_DOMAIN_EMULATOR)
    return l1vh_error_setx(err, "domain rewrite: no strategy decided");
  install_init(&ins, plan);
  if (prepare_host(&ins, err) < 0) {
    install_close(&ins);
    return l1vh_error_wrap(err, "domain rewrite (%s)", l1vh_domain_strategy_name(plan->strategy));
  }
  if (l1vh_ns_enter(t->pid, t->root_path, &ns, err) < 0) {
    install_close(&ins);
    return l1vh_error_wrap(err, "domain rewrite");
  }
  r = install(&ns, &ins, err);
  if (l1vh_ns_leave(&ns, &leave_err) < 0) {
    if (r == 0) {
      free(err->msg);
      *err = leave_err;
    } else {
      l1vh_error_wrap(err, "%s; after", l1vh_error_msg(&leave_err));
      l1vh_error_clear(&leave_err);
    }
    r = -1;
  }
  install_close(&ins);
  if (r < 0)
    return l1vh_error_wrap(err, "domain rewrite (%s)", l1vh_domain_strategy_name(plan->strategy));
  l1vh_log(L1VH_LOG_INFO, "domain: %s strategy installed: %zu %s(s) wrapped", l1vh_domain_strategy_name(plan->strategy),
           ins.n, ins.what);
  return 0;
}

int l1vh_domain_apply(const struct l1vh_target *t, const struct l1vh_domain_plan *plan,
                      struct l1vh_error *err)
{
  int r;

  /* The whole step mounts (entering, cloning, attaching): its
   * capabilities for as long as it runs. */
  l1vh_caps_raise(L1VH_STEP_DOMAIN);
  r = apply(t, plan, err);
  l1vh_caps_lower();
  return r;
}
