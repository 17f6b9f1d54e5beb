/* l1vh: capabilities handed over and seccomp filters (common/confine.h). */
#define _GNU_SOURCE
#include "confine.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const l1vh_confine_never[] = {
  "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
  "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
  "reboot", "open_by_handle_at", "pivot_root", "chroot", "swapon", "swapoff",
  "iopl", "ioperm", "acct",
};
const size_t l1vh_confine_n_never = sizeof(l1vh_confine_never) / sizeof(l1vh_confine_never[0]);

static bool effective(cap_t c, cap_value_t v)
{
  cap_flag_value_t f = CAP_CLEAR;

  return cap_get_flag(c, v, CAP_EFFECTIVE, &f) == 0 && f == CAP_SET;
}

int l1vh_confine_caps(cap_t cur, cap_t next, struct l1vh_error *err)
{
  /* Without CAP_SETPCAP the bounding set cannot change, and with no exec
   * ahead it matters little. */
  if (effective(cur, CAP_SETPCAP))
    for (int v = 0; v < cap_max_bits(); v++)
      if (cap_drop_bound((cap_value_t) v) < 0 && errno != EINVAL)
        return l1vh_error_set(err, errno, "drop capability %d from the bounding set", v);
  /* EINVAL: a kernel without ambient capabilities has none to clear. */
  if (cap_reset_ambient() < 0 && errno != EINVAL)
    return l1vh_error_set(err, errno, "clear the ambient capabilities");
  if (cap_set_proc(next) < 0)
    return l1vh_error_set(err, errno, "reduce the capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return l1vh_error_set(err, errno, "set no_new_privs");
  return 0;
}

/* Kill the process; a kernel before 4.14 (or a seccomp(2) that is not
 * there: libseccomp falls back to prctl) knows only "kill the thread",
 * which for a single-threaded process is the same. */
static uint32_t kill_action(void)
{
  return seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
}

static void release(scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release(*ctx);
}

static int allow(scmp_filter_ctx ctx, const char *name, int nr)
{
  if (strcmp(name, "socket") == 0) /* syslog's /dev/log */
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
  if (strcmp(name, "tgkill") == 0) /* abort() signals itself */
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t) getpid()));
  if (strcmp(name, "mknodat") == 0) /* the device node: a character device */
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                            SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t) S_IFMT, (scmp_datum_t) S_IFCHR));
  return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

int l1vh_confine_seccomp(const char *const *allowed, size_t n_allowed, const char *const *killed,
                         size_t n_killed, struct l1vh_error *err)
{
  __attribute__((cleanup(release))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  int r, nr;

  if (!ctx)
    return l1vh_error_setx(err, "seccomp: cannot make a filter");
  /* The lists are this architecture's names: another ABI kills. */
  if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill_action())) < 0)
    return l1vh_error_set(err, -r, "seccomp: set the action for other ABIs");
  for (size_t i = 0; i < n_allowed; i++) {
    if ((nr = seccomp_syscall_resolve_name(allowed[i])) == __NR_SCMP_ERROR)
      continue;
    if ((r = allow(ctx, allowed[i], nr)) < 0)
      return l1vh_error_set(err, -r, "seccomp: allow %s", allowed[i]);
  }
  for (size_t i = 0; i < n_killed; i++) {
    if ((nr = seccomp_syscall_resolve_name(killed[i])) == __NR_SCMP_ERROR)
      continue;
    if ((r = seccomp_rule_add(ctx, kill_action(), nr, 0)) < 0)
      return l1vh_error_set(err, -r, "seccomp: kill on %s", killed[i]);
  }
  if ((r = seccomp_load(ctx)) < 0)
    return l1vh_error_set(err, -r, "seccomp: load the filter");
  return 0;
}
