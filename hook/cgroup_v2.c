/* l1vh-hook: cgroup v2 device control, by raw bpf(2).
 *
 * On cgroup v2 the runtime (runc, crun) attaches a BPF_PROG_TYPE_CGROUP_DEVICE
 * program to the container's cgroup; it returns 1 to allow an access and 0
 * to deny it, and every program attached along the cgroup path must allow.
 * Adding a second program cannot widen what the first one denies, so each
 * program attached to the container's own cgroup is replaced by a copy of
 * itself (its verifier-translated instructions, read back from the kernel)
 * behind a short prologue that allows `c MAJ:MIN` for read and write.  The
 * swap is atomic (BPF_F_REPLACE, the way runc itself replaces programs);
 * the old program stays loaded through our fd until the hook exits, so a
 * revert can put it back.  Any failure before the swap leaves the old
 * program in place. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80 /* sign-extending load, Linux 6.6 */
#endif

#define PROG_NAME "l1vh_devices"
#define VERIFIER_LOG_BYTES (64 * 1024)

static uint64_t ptr_to_u64(const void *p)
{
  return (uint64_t) (uintptr_t) p;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
  return (int) syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* --- the program builder (pure, unit-tested) --- */

struct bpf_insn l1vh_bpf_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  struct bpf_insn i;

  memset(&i, 0, sizeof(i));
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

int l1vh_devprog_check(const struct bpf_insn *insns, size_t n, struct l1vh_error *err)
{
  size_t i;

  if (n == 0)
    return l1vh_error_setx(err, "empty device program");
  if (n > L1VH_DEVPROG_MAX_INSNS)
    return l1vh_error_setx(err, "device program of %zu instructions is larger than the limit of %d", n,
                           L1VH_DEVPROG_MAX_INSNS);
  for (i = 0; i < n; i++) {
    uint8_t code = insns[i].code, cls = BPF_CLASS(code);
    switch (cls) {
    case BPF_LD:
      /* Only a plain 64-bit constant: a pseudo source (map fd or value,
       * BTF id, function) would point at objects we do not own. */
      if (code != (BPF_LD | BPF_IMM | BPF_DW) || insns[i].src_reg != 0 || i + 1 >= n)
        return l1vh_error_setx(err, "device program instruction %zu (code 0x%02x) refers to an object "
                                    "or packet data: cannot copy it", i, code);
      i++; /* the second half of the constant */
      break;
    case BPF_LDX:
      if (BPF_MODE(code) != BPF_MEM && BPF_MODE(code) != BPF_MEMSX)
        return l1vh_error_setx(err, "device program instruction %zu (code 0x%02x): unknown load", i, code);
      break;
    case BPF_ST:
    case BPF_STX:
    case BPF_ALU:
    case BPF_ALU64:
      break;
    case BPF_JMP:
    case BPF_JMP32:
      if (BPF_OP(code) == BPF_CALL)
        return l1vh_error_setx(err, "device program instruction %zu is a call: cannot copy it", i);
      break;
    default:
      return l1vh_error_setx(err, "device program instruction %zu: unknown class 0x%02x", i, cls);
    }
  }
  return 0;
}

/* struct bpf_cgroup_dev_ctx: access_type = (access << 16) | device type,
 * then major, then minor, all u32. */
#define CTX_ACCESS_TYPE 0
#define CTX_MAJOR 4
#define CTX_MINOR 8
#define PROLOGUE_LEN 13

int l1vh_devprog_build(const struct bpf_insn *old, size_t n, unsigned major, unsigned minor,
                       struct bpf_insn **out, size_t *n_out, struct l1vh_error *err)
{
  struct bpf_insn *p;
  size_t k = 0;
  /* "goto old program" from instruction k: the old code starts right after
   * the prologue, its own jumps are relative and stay valid. */
#define TO_OLD ((int16_t) (PROLOGUE_LEN - k - 1))

  if (l1vh_devprog_check(old, n, err) < 0)
    return -1;
  if (major > INT32_MAX || minor > INT32_MAX)
    return l1vh_error_setx(err, "device number %u:%u out of range", major, minor);
  p = calloc(PROLOGUE_LEN + n, sizeof(*p));
  if (!p)
    abort();
  /* r2 = access_type; r3 = device type; only a char device goes on. */
  p[k] = l1vh_bpf_insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, CTX_ACCESS_TYPE, 0), k++;
  p[k] = l1vh_bpf_insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0), k++;
  p[k] = l1vh_bpf_insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff), k++;
  p[k] = l1vh_bpf_insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, TO_OLD, BPF_DEVCG_DEV_CHAR), k++;
  /* Access: read and/or write only; mknod goes to the old program. */
  p[k] = l1vh_bpf_insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16), k++;
  p[k] = l1vh_bpf_insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0,
              (int32_t) (0xffff & ~(BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE))), k++;
  p[k] = l1vh_bpf_insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, TO_OLD, 0), k++;
  p[k] = l1vh_bpf_insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, CTX_MAJOR, 0), k++;
  p[k] = l1vh_bpf_insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, TO_OLD, (int32_t) major), k++;
  p[k] = l1vh_bpf_insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, CTX_MINOR, 0), k++;
  p[k] = l1vh_bpf_insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, TO_OLD, (int32_t) minor), k++;
  p[k] = l1vh_bpf_insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1), k++;
  p[k] = l1vh_bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0), k++;
#undef TO_OLD
  if (k != PROLOGUE_LEN)
    abort(); /* the jump offsets above depend on it */
  /* r1 still holds the context, as the old program expects. */
  memcpy(p + k, old, n * sizeof(*old));
  *out = p;
  *n_out = k + n;
  return 0;
}

/* --- talking to the kernel --- */

static int prog_query(int cg_fd, uint32_t query_flags, uint32_t *ids, uint32_t *cnt,
                      uint32_t *attach_flags, struct l1vh_error *err)
{
  union bpf_attr a;

  memset(&a, 0, sizeof(a));
  a.query.target_fd = (uint32_t) cg_fd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.query_flags = query_flags;
  a.query.prog_ids = ptr_to_u64(ids);
  a.query.prog_cnt = *cnt;
  if (sys_bpf(BPF_PROG_QUERY, &a) < 0) {
    if (errno == ENOSPC)
      return l1vh_error_setx(err, "more than %u device programs attached", *cnt);
    return l1vh_error_set(err, errno, "query device programs (BPF_PROG_QUERY)");
  }
  *cnt = a.query.prog_cnt;
  if (attach_flags)
    *attach_flags = a.query.attach_flags;
  return 0;
}

static int prog_info(int fd, struct bpf_prog_info *info, struct l1vh_error *err)
{
  union bpf_attr a;

  memset(&a, 0, sizeof(a));
  a.info.bpf_fd = (uint32_t) fd;
  a.info.info_len = sizeof(*info);
  a.info.info = ptr_to_u64(info);
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
    return l1vh_error_set(err, errno, "read device program info (BPF_OBJ_GET_INFO_BY_FD)");
  return 0;
}

/* The program's instructions as the kernel runs them (xlated). */
static int prog_insns(int fd, uint32_t id, struct bpf_insn **insns, size_t *n, struct l1vh_error *err)
{
  struct bpf_prog_info info;
  cleanup_free struct bpf_insn *buf = NULL;
  uint32_t len;

  memset(&info, 0, sizeof(info));
  if (prog_info(fd, &info, err) < 0)
    return -1;
  if (info.type != BPF_PROG_TYPE_CGROUP_DEVICE)
    return l1vh_error_setx(err, "program %u is not a device program (type %u)", id, info.type);
  len = info.xlated_prog_len;
  if (len == 0 || len % sizeof(struct bpf_insn) != 0 ||
      len / sizeof(struct bpf_insn) > L1VH_DEVPROG_MAX_INSNS)
    return l1vh_error_setx(err, "device program %u: cannot read %u bytes of instructions", id, len);
  buf = calloc(len / sizeof(struct bpf_insn), sizeof(struct bpf_insn));
  if (!buf)
    abort();
  memset(&info, 0, sizeof(info));
  info.xlated_prog_len = len;
  info.xlated_prog_insns = ptr_to_u64(buf);
  if (prog_info(fd, &info, err) < 0)
    return -1;
  /* The kernel clears the pointer instead of dumping a program its JIT
   * blinded (net.core.bpf_jit_harden=2) to a reader without CAP_SYSLOG;
   * what it would dump then uses the JIT's own register and cannot be
   * loaded again anyway. */
  if (info.xlated_prog_insns == 0)
    return l1vh_error_setx(err, "device program %u: the kernel does not show its instructions: blinded "
                                "by net.core.bpf_jit_harden=2, which the device rule on cgroup v2 cannot "
                                "work with (the shim's linux.devices entry can)", id);
  if (info.xlated_prog_len != len)
    return l1vh_error_setx(err, "device program %u changed size while read", id);
  *insns = buf;
  buf = NULL;
  *n = len / sizeof(struct bpf_insn);
  return 0;
}

static int prog_get_fd(uint32_t id, struct l1vh_error *err)
{
  union bpf_attr a;
  int fd;

  memset(&a, 0, sizeof(a));
  a.prog_id = id;
  fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
  if (fd < 0)
    return l1vh_error_set(err, errno, "open device program %u (BPF_PROG_GET_FD_BY_ID)", id);
  return fd;
}

/* The verifier's last message line says why a program was refused. */
static const char *last_line(char *log)
{
  size_t len = strlen(log);
  char *nl;

  while (len > 0 && log[len - 1] == '\n')
    log[--len] = '\0';
  nl = strrchr(log, '\n');
  return nl ? nl + 1 : log;
}

static int prog_load(const struct bpf_insn *insns, size_t n, struct l1vh_error *err)
{
  static const char license[] = "GPL";
  cleanup_free char *log = NULL;
  union bpf_attr a;
  int fd;

  memset(&a, 0, sizeof(a));
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = ptr_to_u64(insns);
  a.insn_cnt = (uint32_t) n;
  a.license = ptr_to_u64(license);
  memcpy(a.prog_name, PROG_NAME, sizeof(PROG_NAME));
  fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  if (errno != EACCES && errno != EINVAL)
    return l1vh_error_set(err, errno, "load device program (BPF_PROG_LOAD)");
  /* Load again with the verifier log, to say why. */
  log = calloc(1, VERIFIER_LOG_BYTES);
  if (!log)
    abort();
  a.log_level = 1;
  a.log_buf = ptr_to_u64(log);
  a.log_size = VERIFIER_LOG_BYTES;
  fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  return l1vh_error_set(err, errno, "load device program (verifier: %s)", log[0] ? last_line(log) : "no log");
}

static int prog_attach(int cg_fd, int prog_fd, int replace_fd, uint32_t flags, struct l1vh_error *err)
{
  union bpf_attr a;

  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t) cg_fd;
  a.attach_bpf_fd = (uint32_t) prog_fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = flags;
  /* With BPF_F_ALLOW_MULTI the swap names the program it replaces; in the
   * single-program modes attaching replaces the one program by itself. */
  if (flags & BPF_F_ALLOW_MULTI) {
    a.attach_flags |= BPF_F_REPLACE;
    a.replace_bpf_fd = (uint32_t) replace_fd;
  }
  if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
    return l1vh_error_set(err, errno, "attach device program (BPF_PROG_ATTACH)");
  return 0;
}

static int prog_id_of(int fd, uint32_t *id, struct l1vh_error *err)
{
  struct bpf_prog_info info;

  memset(&info, 0, sizeof(info));
  if (prog_info(fd, &info, err) < 0)
    return -1;
  *id = info.id;
  return 0;
}

/* After the swap: every new program attached, none of the old ones. */
static int check_attached(const struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  uint32_t ids[L1VH_DEVPROG_MAX_PROGS], cnt = L1VH_DEVPROG_MAX_PROGS;
  size_t i, j;

  if (prog_query(chg->v2_cgroup_fd, 0, ids, &cnt, NULL, err) < 0)
    return -1;
  for (i = 0; i < chg->v2_n; i++) {
    uint32_t new_id, old_id;
    bool have_new = false, have_old = false;
    if (prog_id_of(chg->v2_new_fd[i], &new_id, err) < 0 || prog_id_of(chg->v2_old_fd[i], &old_id, err) < 0)
      return -1;
    for (j = 0; j < cnt; j++) {
      have_new = have_new || ids[j] == new_id;
      have_old = have_old || ids[j] == old_id;
    }
    if (!have_new || have_old)
      return l1vh_error_setx(err, "device program %u was not replaced by %u", old_id, new_id);
  }
  return 0;
}

/* Put back the old programs of the first `upto` swaps. */
static int put_back(struct l1vh_cgroup_change *chg, size_t upto, struct l1vh_error *err)
{
  int ret = 0;
  size_t i;

  for (i = 0; i < upto; i++) {
    if (chg->v2_new_fd[i] < 0 || chg->v2_old_fd[i] < 0)
      continue;
    if (prog_attach(chg->v2_cgroup_fd, chg->v2_old_fd[i], chg->v2_new_fd[i], chg->v2_attach_flags, err) < 0)
      ret = -1;
  }
  return ret;
}

/* Load the replacement of program id (opened as old_fd). */
static int build_replacement(int old_fd, uint32_t id, unsigned major, unsigned minor, struct l1vh_error *err)
{
  cleanup_free struct bpf_insn *old = NULL;
  cleanup_free struct bpf_insn *prog = NULL;
  size_t n_old = 0, n = 0;

  if (prog_insns(old_fd, id, &old, &n_old, err) < 0)
    return -1;
  if (l1vh_devprog_build(old, n_old, major, minor, &prog, &n, err) < 0)
    return l1vh_error_wrap(err, "device program %u", id);
  return prog_load(prog, n, err);
}

static int v2_allow(const struct l1vh_cgroup_place *place, unsigned major, unsigned minor,
                    struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  uint32_t ids[L1VH_DEVPROG_MAX_PROGS], cnt = L1VH_DEVPROG_MAX_PROGS, flags = 0;
  size_t i;

  /* A real fd: bpf(2) does not accept O_PATH fds as the cgroup. */
  chg->v2_cgroup_fd = l1vh_cgroup_open_dir(place, O_RDONLY, err);
  if (chg->v2_cgroup_fd < 0)
    return -1;
  if (prog_query(chg->v2_cgroup_fd, 0, ids, &cnt, &flags, err) < 0)
    return -1;
  if (cnt == 0) {
    uint32_t eff[L1VH_DEVPROG_MAX_PROGS], ecnt = L1VH_DEVPROG_MAX_PROGS;
    if (prog_query(chg->v2_cgroup_fd, BPF_F_QUERY_EFFECTIVE, eff, &ecnt, NULL, err) < 0)
      return -1;
    if (ecnt == 0)
      return 0; /* no device filter anywhere on the path: nothing to allow */
    /* Programs of ancestors belong to the node's other workloads too. */
    return l1vh_error_setx(err, "the container's cgroup has no device program of its own but its "
                                "ancestors have %u: not changing them", ecnt);
  }
  chg->v2_attach_flags = flags;

  /* Everything is loaded before anything is swapped. */
  for (i = 0; i < cnt; i++) {
    chg->v2_old_fd[i] = prog_get_fd(ids[i], err);
    if (chg->v2_old_fd[i] < 0)
      return -1;
    chg->v2_new_fd[i] = build_replacement(chg->v2_old_fd[i], ids[i], major, minor, err);
    if (chg->v2_new_fd[i] < 0)
      return -1;
  }
  chg->v2_n = cnt;
  for (i = 0; i < cnt; i++) {
    if (prog_attach(chg->v2_cgroup_fd, chg->v2_new_fd[i], chg->v2_old_fd[i], flags, err) < 0) {
      struct l1vh_error ignored = L1VH_ERROR_INIT;
      l1vh_error_wrap(err, "replace device program %u", ids[i]);
      put_back(chg, i, &ignored);
      l1vh_error_clear(&ignored);
      return -1;
    }
  }
  chg->changed = true;
  if (check_attached(chg, err) < 0) {
    struct l1vh_error ignored = L1VH_ERROR_INIT;
    put_back(chg, cnt, &ignored);
    l1vh_error_clear(&ignored);
    chg->changed = false;
    return -1;
  }
  return 0;
}

int l1vh_cgroup_v2_allow(const struct l1vh_cgroup_place *place, unsigned major, unsigned minor,
                         struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  if (v2_allow(place, major, minor, chg, err) < 0) {
    l1vh_cgroup_change_release(chg);
    return l1vh_error_wrap(err, "cgroup v2 %s", chg->where);
  }
  return 0;
}

int l1vh_cgroup_v2_revert(struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  if (!chg->changed)
    return 0;
  if (put_back(chg, chg->v2_n, err) < 0)
    return l1vh_error_wrap(err, "cgroup v2 %s: put back the old device program", chg->where);
  chg->changed = false;
  return 0;
}
