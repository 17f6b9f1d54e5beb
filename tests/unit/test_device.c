/* Unit tests for device injection: path handling, rootfs resolution,
 * /proc/PID/cgroup and the mount table, devices.list, and the cgroup v2
 * device program builder (run through a small interpreter of the eBPF
 * subset runtimes use). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../hook/cgroup.h"
#include "../../hook/device.h"
#include "../../hook/ns.h"
#include "cleanup.h"
#include "unit.h"

/* --- device path --- */

L1VH_TEST(device_split_path)
{
  char dir[64];
  const char *base = NULL;

  CHECK(l1vh_device_split_path("/dev/mshv", dir, sizeof(dir), &base) == 0);
  CHECK_STR(dir, "/dev");
  CHECK_STR(base, "mshv");
  CHECK(l1vh_device_split_path("/mshv", dir, sizeof(dir), &base) == 0);
  CHECK_STR(dir, "/");
  CHECK_STR(base, "mshv");
  CHECK(l1vh_device_split_path("/dev/sub/kvm", dir, sizeof(dir), &base) == 0);
  CHECK_STR(dir, "/dev/sub");
  CHECK(l1vh_device_split_path("dev/mshv", dir, sizeof(dir), &base) < 0);
  CHECK(l1vh_device_split_path("/dev/../etc/shadow", dir, sizeof(dir), &base) < 0);
  CHECK(l1vh_device_split_path("/dev/./mshv", dir, sizeof(dir), &base) < 0);
  CHECK(l1vh_device_split_path("/dev/mshv/", dir, sizeof(dir), &base) < 0);
  CHECK(l1vh_device_split_path("/dev//mshv", dir, sizeof(dir), &base) < 0);
  CHECK(l1vh_device_split_path("/dev/..", dir, sizeof(dir), &base) < 0);
  CHECK(l1vh_device_split_path("/", dir, sizeof(dir), &base) < 0);
  CHECK(l1vh_device_split_path("/dev/mshv", dir, 4, &base) < 0);
  return UNIT_PASS;
}

/* --- resolving paths in a rootfs (no namespace needed) --- */

static char *make_tree(void)
{
  static char root[64];
  char path[128];

  snprintf(root, sizeof(root), "/tmp/l1vh-unit-XXXXXX");
  if (!mkdtemp(root))
    return NULL;
  snprintf(path, sizeof(path), "%s/dev", root);
  if (mkdir(path, 0755) < 0)
    return NULL;
  snprintf(path, sizeof(path), "%s/etc", root);
  if (mkdir(path, 0755) < 0)
    return NULL;
  snprintf(path, sizeof(path), "%s/etc/marker", root);
  if (close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0)
    return NULL;
  /* Escapes when followed as a string: absolute, and climbing with "..". */
  snprintf(path, sizeof(path), "%s/abs", root);
  if (symlink("/etc", path) < 0)
    return NULL;
  snprintf(path, sizeof(path), "%s/dev/up", root);
  if (symlink("../../../../../../../etc", path) < 0)
    return NULL;
  return root;
}

static void remove_tree(const char *root)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", root);
}

L1VH_TEST(ns_open_in_root_stays_inside)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  const char *root = make_tree();
  cleanup_close int rfd = -1;
  struct stat st;
  int fd;

  CHECK(root);
  rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK(rfd >= 0);
  /* "/abs" -> "/etc" resolves to the rootfs's etc, which has the marker;
   * the host's /etc has none. */
  fd = l1vh_open_in_root(rfd, "/abs/marker", O_PATH, 0, &err);
  CHECK(fd >= 0);
  close(fd);
  fd = l1vh_open_in_root(rfd, "/dev/up/marker", O_PATH, 0, &err);
  CHECK(fd >= 0);
  close(fd);
  fd = l1vh_open_in_root(rfd, "/../../../etc/passwd", O_PATH, 0, &err);
  CHECK(fd < 0 && err.code == ENOENT);
  CHECK(stat("/etc/passwd", &st) == 0); /* the host has it: the lookup stayed inside */
  l1vh_error_clear(&err);

  /* The strict variant refuses any symlink on the way. */
  fd = l1vh_open_in_root_nosymlinks(rfd, "/abs", O_PATH | O_DIRECTORY, 0, &err);
  CHECK(fd < 0);
  CHECK_HAS(l1vh_error_msg(&err), "open /abs in the container: a path component is a symlink");
  l1vh_error_clear(&err);
  fd = l1vh_open_in_root_nosymlinks(rfd, "/dev", O_PATH | O_DIRECTORY, 0, &err);
  CHECK(fd >= 0);
  close(fd);
  remove_tree(root);
  return UNIT_PASS;
}

L1VH_TEST(ns_enter_refuses_bad_input)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_ns ns = L1VH_NS_INIT;

  CHECK(l1vh_ns_enter(getpid(), "relative/root", &ns, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "is not absolute");
  CHECK(ns.host_mntns < 0 && ns.root_fd < 0 && ns.cwd_fd < 0);
  l1vh_error_clear(&err);
  CHECK(l1vh_ns_enter(0, "/", &ns, &err) < 0);
  l1vh_error_clear(&err);
  CHECK(l1vh_ns_leave(&ns, &err) == 0); /* leaving a never-entered ns is fine */
  return UNIT_PASS;
}

/* A child in a mount namespace of its own, "/" a mount there: what a
 * container's init looks like to the hook at prestart.  It waits for a
 * byte on the pipe (or for the pipe to close). */
static pid_t private_ns_child(int *hold)
{
  int p[2], ready[2];
  pid_t pid;
  char c;

  if (pipe2(p, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
    return -1;
  pid = fork();
  if (pid == 0) {
    close(p[1]);
    close(ready[0]);
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
      _exit(1);
    if (write(ready[1], "r", 1) != 1)
      _exit(1);
    (void) !read(p[0], &c, 1);
    _exit(0);
  }
  close(p[0]);
  close(ready[1]);
  if (pid < 0 || read(ready[0], &c, 1) != 1) {
    close(ready[0]);
    close(p[1]);
    return -1;
  }
  close(ready[0]);
  *hold = p[1];
  return pid;
}

L1VH_TEST(ns_enter_private_namespace_and_back)
{
  /* Needs CAP_SYS_ADMIN: setns, and the child's unshare. */
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_ns ns = L1VH_NS_INIT;
  char before[4096], after[4096];
  int hold = -1, status;
  pid_t child;

  if (geteuid() != 0)
    return UNIT_SKIP;
  CHECK(getcwd(before, sizeof(before)));
  CHECK((child = private_ns_child(&hold)) > 0);
  CHECK(l1vh_ns_enter(child, "/", &ns, &err) == 0);
  CHECK(ns.root_fd >= 0);
  CHECK(l1vh_ns_leave(&ns, &err) == 0);
  CHECK(ns.root_fd < 0 && ns.host_mntns < 0 && ns.cwd_fd < 0);
  CHECK(getcwd(after, sizeof(after)));
  CHECK_STR(after, before);
  CHECK(l1vh_ns_enter(child, "/nonexistent-l1vh", &ns, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "open container rootfs /nonexistent-l1vh");
  l1vh_error_clear(&err);
  /* A directory that is not a mount there: not this container's rootfs. */
  CHECK(l1vh_ns_enter(child, "/etc", &ns, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "rootfs /etc is not a mount in the mount namespace of pid");
  l1vh_error_clear(&err);
  close(hold);
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* Gone: its namespace cannot be opened. */
  CHECK(l1vh_ns_enter(child, "/", &ns, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "No such file or directory");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

L1VH_TEST(ns_enter_refuses_the_runtimes_own_namespace)
{
  /* pid 1, or the hook's own pid: the host's mount namespace is never a
   * container's, whatever the state says. */
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_ns ns = L1VH_NS_INIT;

  if (geteuid() != 0)
    return UNIT_SKIP;
  CHECK(l1vh_ns_enter(getpid(), "/", &ns, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "is in the runtime's own mount namespace");
  CHECK(ns.host_mntns < 0 && ns.root_fd < 0 && ns.cwd_fd < 0);
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

/* --- /proc/PID/cgroup and the mount table --- */

static const char proc_hybrid[] = "9:name=systemd:/kubepods/pod1/abc\n"
                                  "5:devices:/kubepods/pod1/abc\n"
                                  "4:memory,hugetlb:/kubepods/pod1/abc\n"
                                  "0::/kubepods/pod1/abc\n";

L1VH_TEST(cgroup_proc_path)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char path[256];

  CHECK(l1vh_cgroup_proc_path(proc_hybrid, "devices", path, sizeof(path), &err) == 1);
  CHECK_STR(path, "/kubepods/pod1/abc");
  CHECK(l1vh_cgroup_proc_path(proc_hybrid, "hugetlb", path, sizeof(path), &err) == 1);
  CHECK(l1vh_cgroup_proc_path(proc_hybrid, "mem", path, sizeof(path), &err) == 0);
  CHECK(l1vh_cgroup_proc_path(proc_hybrid, NULL, path, sizeof(path), &err) == 1);
  CHECK_STR(path, "/kubepods/pod1/abc");
  CHECK(l1vh_cgroup_proc_path("0::/only\n", "devices", path, sizeof(path), &err) == 0);
  CHECK(l1vh_cgroup_proc_path("5:devices:/x\n", NULL, path, sizeof(path), &err) == 0);
  /* No trailing newline, a colon inside the path. */
  CHECK(l1vh_cgroup_proc_path("0::/a:b", NULL, path, sizeof(path), &err) == 1);
  CHECK_STR(path, "/a:b");

  CHECK(l1vh_cgroup_proc_path("5:devices:/a/../../etc\n", "devices", path, sizeof(path), &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "refusing cgroup path");
  CHECK(l1vh_cgroup_proc_path("0::/..\n", NULL, path, sizeof(path), &err) < 0);
  CHECK(l1vh_cgroup_proc_path("0::relative\n", NULL, path, sizeof(path), &err) < 0);
  CHECK(l1vh_cgroup_proc_path("garbage\n", NULL, path, sizeof(path), &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "malformed");
  CHECK(l1vh_cgroup_proc_path(proc_hybrid, "devices", path, 8, &err) < 0);
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

static int write_tmp(char *path, size_t size, const char *text)
{
  int fd, n = snprintf(path, size, "/tmp/l1vh-unit-mnt-XXXXXX");
  if (n < 0 || (size_t) n >= size)
    return -1;
  fd = mkstemp(path);
  if (fd < 0)
    return -1;
  if (write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
    close(fd);
    return -1;
  }
  return close(fd);
}

static const char mnt_hybrid[] =
  "25 1 0:22 / / rw,relatime - ext4 /dev/vda rw\n"
  "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
  "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
  "33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
  "34 30 0:30 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n";

static const char mnt_v2[] = "25 1 0:22 / / rw,relatime - ext4 /dev/vda rw\n"
                             "40 25 0:40 / /sys/fs/cgroup rw - cgroup2 none rw\n";

/* The devices hierarchy mounted at a sub-cgroup (inside a container). */
static const char mnt_nested[] =
  "25 1 0:22 / / rw,relatime - ext4 /dev/vda rw\n"
  "34 25 0:30 /kubepods /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices,freezer\n";

L1VH_TEST(cgroup_locate)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_cgroup_place place;
  char hybrid[64], v2[64], nested[64];

  CHECK(write_tmp(hybrid, sizeof(hybrid), mnt_hybrid) == 0);
  CHECK(write_tmp(v2, sizeof(v2), mnt_v2) == 0);
  CHECK(write_tmp(nested, sizeof(nested), mnt_nested) == 0);

  /* Hybrid: the v1 devices hierarchy wins, as with runc. */
  CHECK(l1vh_cgroup_locate(proc_hybrid, hybrid, &place, &err) == 0);
  CHECK(place.version == L1VH_CGROUP_V1);
  CHECK_STR(place.mount, "/sys/fs/cgroup/devices");
  CHECK_STR(place.rel, "kubepods/pod1/abc");
  /* Pure v2 mount, although the kernel still lists v1 hierarchies (the
   * private-namespace test setup). */
  CHECK(l1vh_cgroup_locate(proc_hybrid, v2, &place, &err) == 0);
  CHECK(place.version == L1VH_CGROUP_V2);
  CHECK_STR(place.mount, "/sys/fs/cgroup");
  CHECK_STR(place.rel, "kubepods/pod1/abc");
  /* A container in the root cgroup. */
  CHECK(l1vh_cgroup_locate("0::/\n", v2, &place, &err) == 0);
  CHECK_STR(place.rel, "");
  /* Mount root stripped; a cgroup outside the mount is not found. */
  CHECK(l1vh_cgroup_locate(proc_hybrid, nested, &place, &err) == 0);
  CHECK(place.version == L1VH_CGROUP_V1);
  CHECK_STR(place.rel, "pod1/abc");
  CHECK(l1vh_cgroup_locate("5:devices:/system.slice/x\n", nested, &place, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "no mounted devices cgroup");
  l1vh_error_clear(&err);
  /* "/kubepodsX" is not below "/kubepods". */
  CHECK(l1vh_cgroup_locate("5:devices:/kubepodsX/a\n", nested, &place, &err) < 0);
  l1vh_error_clear(&err);
  unlink(hybrid);
  unlink(v2);
  unlink(nested);
  return UNIT_PASS;
}

L1VH_TEST(cgroup_v1_list_allows)
{
  CHECK(l1vh_cgroup_v1_list_allows("a *:* rwm\n", 10, 232));
  CHECK(l1vh_cgroup_v1_list_allows("c 1:3 rwm\nc 10:232 rw\n", 10, 232));
  CHECK(l1vh_cgroup_v1_list_allows("c 10:* rwm\n", 10, 232));
  CHECK(l1vh_cgroup_v1_list_allows("c *:232 wr", 10, 232));
  CHECK(!l1vh_cgroup_v1_list_allows("", 10, 232));
  CHECK(!l1vh_cgroup_v1_list_allows("c 10:232 r\nc 10:232 m\n", 10, 232));
  CHECK(!l1vh_cgroup_v1_list_allows("b 10:232 rwm\n", 10, 232));
  CHECK(!l1vh_cgroup_v1_list_allows("c 10:2320 rwm\nc 100:232 rwm\n", 10, 232));
  CHECK(!l1vh_cgroup_v1_list_allows("c *:* m\nb *:* m\n", 10, 232));
  CHECK(!l1vh_cgroup_v1_list_allows("c 10:232rw\nc10:232 rw\n", 10, 232));
  CHECK(!l1vh_cgroup_v1_list_allows("c 99999999999:232 rw\n", 10, 232));
  return UNIT_PASS;
}

/* --- the v2 device program --- */

#define I l1vh_bpf_insn

#define LDX_W(d, s, o) I(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define ALU32_K(op, d, k) I(BPF_ALU | (op) | BPF_K, d, 0, 0, k)
#define ALU32_X(op, d, s) I(BPF_ALU | (op) | BPF_X, d, s, 0, 0)
#define JNE_K(d, k, o) I(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, k)
#define JNE_X(d, s, o) I(BPF_JMP | BPF_JNE | BPF_X, d, s, o, 0)
#define EXIT() I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The shape runc 1.1 attaches (bpftool prog dump xlated): block and char
 * mknod allowed for any device, then one rule per allowed device, then
 * deny.  Rules here: c 1:3 (null) and c 136:* (pts). */
static const struct bpf_insn *runc_program(size_t *n)
{
  static struct bpf_insn p[32];
  size_t k = 0;

  p[k++] = LDX_W(2, 1, 0);
  p[k++] = ALU32_K(BPF_AND, 2, 0xffff);
  p[k++] = LDX_W(3, 1, 0);
  p[k++] = ALU32_K(BPF_RSH, 3, 16);
  p[k++] = LDX_W(4, 1, 4);
  p[k++] = LDX_W(5, 1, 8);
  p[k++] = JNE_K(2, 1, 5); /* block: mknod only */
  p[k++] = ALU32_X(BPF_MOV, 1, 3);
  p[k++] = ALU32_K(BPF_AND, 1, 1);
  p[k++] = JNE_X(1, 3, 2);
  p[k++] = ALU32_K(BPF_MOV, 0, 1);
  p[k++] = EXIT();
  p[k++] = JNE_K(2, 2, 5); /* char: mknod only */
  p[k++] = ALU32_X(BPF_MOV, 1, 3);
  p[k++] = ALU32_K(BPF_AND, 1, 1);
  p[k++] = JNE_X(1, 3, 2);
  p[k++] = ALU32_K(BPF_MOV, 0, 1);
  p[k++] = EXIT();
  p[k++] = JNE_K(2, 2, 4); /* c 1:3 */
  p[k++] = JNE_K(4, 1, 3);
  p[k++] = JNE_K(5, 3, 2);
  p[k++] = ALU32_K(BPF_MOV, 0, 1);
  p[k++] = EXIT();
  p[k++] = JNE_K(2, 2, 3); /* c 136:* */
  p[k++] = JNE_K(4, 136, 2);
  p[k++] = ALU32_K(BPF_MOV, 0, 1);
  p[k++] = EXIT();
  p[k++] = ALU32_K(BPF_MOV, 0, 0);
  p[k++] = EXIT();
  *n = k;
  return p;
}

/* An interpreter for the instructions above and the prologue: returns the
 * program's r0, or -1 for anything it does not know (a test failure). */
static int64_t run_prog(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t maj,
                        uint32_t min)
{
  uint32_t ctx[3] = {(access << 16) | type, maj, min};
  uint64_t r[11] = {0};
  size_t pc = 0, steps = 0;

  r[1] = 0; /* "pointer" to ctx: loads use the offset */
  while (pc < n && steps++ < 10000) {
    const struct bpf_insn *i = &p[pc++];
    uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
    uint64_t src = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t) (int64_t) i->imm;
    bool taken;

    switch (cls) {
    case BPF_LDX:
      if (i->src_reg != 1 || BPF_SIZE(i->code) != BPF_W || i->off % 4 || i->off < 0 || i->off > 8)
        return -1;
      r[i->dst_reg] = ctx[i->off / 4];
      break;
    case BPF_ALU: {
      uint32_t d = (uint32_t) r[i->dst_reg], s = (uint32_t) src;
      switch (op) {
      case BPF_MOV: d = s; break;
      case BPF_AND: d &= s; break;
      case BPF_OR: d |= s; break;
      case BPF_RSH: d >>= s; break;
      case BPF_LSH: d <<= s; break;
      default: return -1;
      }
      r[i->dst_reg] = d; /* 32-bit ops zero the upper half */
      break;
    }
    case BPF_JMP:
      if (op == BPF_EXIT)
        return (int64_t) r[0];
      switch (op) {
      case BPF_JA: taken = true; break;
      case BPF_JEQ: taken = r[i->dst_reg] == src; break;
      case BPF_JNE: taken = r[i->dst_reg] != src; break;
      default: return -1;
      }
      if (taken)
        pc = (size_t) ((int64_t) pc + i->off);
      break;
    default:
      return -1;
    }
  }
  return -1;
}

#define ACC_M BPF_DEVCG_ACC_MKNOD
#define ACC_R BPF_DEVCG_ACC_READ
#define ACC_W BPF_DEVCG_ACC_WRITE
#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK

L1VH_TEST(devprog_interpreter_matches_runc_semantics)
{
  /* Checks the test's own interpreter on the unmodified program. */
  size_t n;
  const struct bpf_insn *old = runc_program(&n);

  CHECK(run_prog(old, n, CHR, ACC_R | ACC_W, 1, 3) == 1);
  CHECK(run_prog(old, n, CHR, ACC_R | ACC_W, 136, 7) == 1);
  CHECK(run_prog(old, n, CHR, ACC_M, 10, 232) == 1);
  CHECK(run_prog(old, n, CHR, ACC_R | ACC_W, 10, 232) == 0);
  CHECK(run_prog(old, n, BLK, ACC_R, 1, 3) == 0);
  return UNIT_PASS;
}

L1VH_TEST(devprog_build_allows_one_more_device)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_free struct bpf_insn *p = NULL;
  size_t n_old, n;
  const struct bpf_insn *old = runc_program(&n_old);

  CHECK(l1vh_devprog_build(old, n_old, 10, 232, &p, &n, &err) == 0);
  CHECK(n > n_old);
  /* The old program follows the prologue unchanged. */
  CHECK(memcmp(p + (n - n_old), old, n_old * sizeof(*old)) == 0);
  /* The new device: read, write, both; not mknod, not as a block device,
   * not a neighbouring number. */
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 10, 232) == 1);
  CHECK(run_prog(p, n, CHR, ACC_R, 10, 232) == 1);
  CHECK(run_prog(p, n, CHR, ACC_W, 10, 232) == 1);
  /* with mknod the old program decides: it allows mknod alone, not mixed */
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W | ACC_M, 10, 232) == 0);
  CHECK(run_prog(p, n, CHR, ACC_M, 10, 232) == 1);
  CHECK(run_prog(p, n, BLK, ACC_R | ACC_W, 10, 232) == 0);
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 10, 233) == 0);
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 11, 232) == 0);
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 232, 10) == 0);
  /* Everything else as before. */
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 1, 3) == 1);
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 136, 0) == 1);
  CHECK(run_prog(p, n, CHR, ACC_M, 99, 99) == 1);
  CHECK(run_prog(p, n, BLK, ACC_R, 8, 0) == 0);
  CHECK(run_prog(p, n, CHR, ACC_R, 1, 1) == 0);
  return UNIT_PASS;
}

L1VH_TEST(devprog_build_large_numbers)
{
  /* A dynamic minor can be large; major and minor are compared as u32. */
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_free struct bpf_insn *p = NULL;
  size_t n_old, n;
  const struct bpf_insn *old = runc_program(&n_old);

  CHECK(l1vh_devprog_build(old, n_old, 511, 1048575, &p, &n, &err) == 0);
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 511, 1048575) == 1);
  CHECK(run_prog(p, n, CHR, ACC_R | ACC_W, 511, 1048574) == 0);
  return UNIT_PASS;
}

L1VH_TEST(devprog_check_refuses_what_cannot_be_copied)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct bpf_insn call[] = {I(BPF_JMP | BPF_CALL, 0, 0, 0, 1), I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
  struct bpf_insn map[] = {I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 3), I(0, 0, 0, 0, 0),
                           I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
  struct bpf_insn imm64[] = {I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 1), I(0, 0, 0, 0, 0),
                             I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
  struct bpf_insn half[] = {I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 1)};
  struct bpf_insn ldabs[] = {I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0), I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
  cleanup_free struct bpf_insn *p = NULL;
  size_t n_old, n;
  const struct bpf_insn *old = runc_program(&n_old);

  CHECK(l1vh_devprog_check(old, n_old, &err) == 0);
  CHECK(l1vh_devprog_check(imm64, 3, &err) == 0);
  CHECK(l1vh_devprog_check(call, 2, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "is a call");
  CHECK(l1vh_devprog_check(map, 3, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "refers to an object");
  CHECK(l1vh_devprog_check(half, 1, &err) < 0);
  CHECK(l1vh_devprog_check(ldabs, 2, &err) < 0);
  CHECK(l1vh_devprog_check(old, 0, &err) < 0);
  CHECK(l1vh_devprog_build(call, 2, 10, 232, &p, &n, &err) < 0);
  CHECK(p == NULL);
  l1vh_error_clear(&err);
  return UNIT_PASS;
}
