/* l1vh-hook: the capability of each step, raised only while it runs.
 * docs/security.md has the same table with how each entry is tested. */
#define _GNU_SOURCE
#include "caps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "confine.h"
#include "log.h"

#define MAX_STEP_CAPS 4
#define MAX_DEPTH 8

static const struct {
  const char *name;
  cap_value_t caps[MAX_STEP_CAPS];
  size_t n;
} table[L1VH_STEP_COUNT] = {
  /* The image's directories are the image's: root may not own them. */
  [L1VH_STEP_PROBE] = {"probe", {CAP_DAC_READ_SEARCH}, 1},
  /* /proc/PID/ns/mnt of the runtime's init, which is not dumpable while
   * it sets up: a ptrace access (mode read). */
  [L1VH_STEP_PID] = {"pid", {CAP_SYS_PTRACE}, 1},
  /* setns(CLONE_NEWNS) wants CAP_SYS_ADMIN and CAP_SYS_CHROOT, both ways. */
  [L1VH_STEP_ENTER] = {"enter", {CAP_SYS_ADMIN, CAP_SYS_CHROOT}, 2},
  [L1VH_STEP_MKNOD] = {"mknod", {CAP_MKNOD}, 1},
  /* The node is the hook's (root's): giving it to 107 is a chown. */
  [L1VH_STEP_CHOWN] = {"chown", {CAP_CHOWN}, 1},
  /* The devices controller checks CAP_SYS_ADMIN on every write. */
  [L1VH_STEP_CGROUP_V1] = {"cgroup-v1", {CAP_SYS_ADMIN}, 1},
  /* bpf(2): BPF_PROG_GET_FD_BY_ID wants CAP_SYS_ADMIN, which also covers
   * loading a device program (CAP_BPF + CAP_NET_ADMIN otherwise) and
   * querying and attaching.  (A program the JIT blinded,
   * net.core.bpf_jit_harden=2, dumps only with CAP_SYSLOG, and what it
   * dumps cannot be loaded again: not kept, it would buy nothing.) */
  [L1VH_STEP_CGROUP_V2] = {"cgroup-v2", {CAP_SYS_ADMIN}, 1},
  /* Only to raise the hard limit, or for a container in a user namespace:
   * lowering a limit of a process of the same uid needs nothing. */
  [L1VH_STEP_MEMLOCK] = {"memlock", {CAP_SYS_RESOURCE}, 1},
  /* open_tree, mount_setattr, fsopen, fsmount, move_mount, umount2; the
   * image's binaries are opened in directories root may not own. */
  [L1VH_STEP_DOMAIN] = {"domain", {CAP_SYS_ADMIN, CAP_DAC_READ_SEARCH}, 2},
  /* state.dir and state.metrics are the operator's: a textfile
   * collector's directory is often its own user's. */
  [L1VH_STEP_RECORD] = {"record", {CAP_DAC_OVERRIDE}, 1},
};

static bool active;
/* The effective sets before each raise, restored by each lower. */
static cap_t saved[MAX_DEPTH];
static size_t depth;

static bool has(cap_t c, cap_value_t v, cap_flag_t flag)
{
  cap_flag_value_t set = CAP_CLEAR;
  return cap_get_flag(c, v, flag, &set) == 0 && set == CAP_SET;
}

/* The permitted set: the union of the steps' capabilities that cur has. */
static cap_t permitted_for(cap_t cur, const struct l1vh_steps *steps)
{
  cap_t next = cap_init();

  if (!next)
    abort();
  for (size_t s = 0; s < L1VH_STEP_COUNT; s++) {
    if (!steps->need[s])
      continue;
    for (size_t i = 0; i < table[s].n; i++) {
      cap_value_t v = table[s].caps[i];
      if (has(cur, v, CAP_PERMITTED) && cap_set_flag(next, CAP_PERMITTED, 1, &v, CAP_SET) < 0)
        abort();
    }
  }
  return next;
}

int l1vh_caps_init(const struct l1vh_steps *steps, struct l1vh_error *err)
{
  cleanup_cap cap_t cur = cap_get_proc();
  cleanup_cap cap_t next = NULL;

  if (!cur)
    return l1vh_error_set(err, errno, "read the hook's capabilities");
  next = permitted_for(cur, steps); /* inheritable and effective empty */
  if (l1vh_confine_caps(cur, next, err) < 0)
    return -1;
  active = true;
  return 0;
}

int l1vh_caps_limit(const struct l1vh_steps *steps, struct l1vh_error *err)
{
  cleanup_cap cap_t cur = NULL;
  cleanup_cap cap_t next = NULL;

  if (!active)
    return 0;
  if (!(cur = cap_get_proc()))
    return l1vh_error_set(err, errno, "read the hook's capabilities");
  next = permitted_for(cur, steps);
  if (cap_set_proc(next) < 0)
    return l1vh_error_set(err, errno, "reduce the hook's capabilities to the plan's");
  return 0;
}

void l1vh_caps_raise(enum l1vh_step step)
{
  int saved_errno = errno;
  cleanup_cap cap_t next = NULL;
  cap_t cur;

  if (!active)
    return;
  if (depth == MAX_DEPTH || (unsigned) step >= L1VH_STEP_COUNT)
    abort(); /* a raise without its lower: a bug */
  if (!(cur = cap_get_proc()) || !(next = cap_dup(cur)))
    abort();
  saved[depth++] = cur;
  for (size_t i = 0; i < table[step].n; i++) {
    cap_value_t v = table[step].caps[i];
    if (!has(cur, v, CAP_PERMITTED)) {
      char *name = cap_to_name(v);
      l1vh_log(L1VH_LOG_DEBUG, "step %s: %s is not permitted (the runtime did not give it)",
               table[step].name, name ? name : "?");
      cap_free(name);
      continue;
    }
    if (cap_set_flag(next, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0)
      abort();
  }
  /* Raising what is permitted cannot fail but for lack of memory; should
   * it fail, the step meets its own EPERM. */
  if (cap_set_proc(next) < 0)
    l1vh_log(L1VH_LOG_WARN, "step %s: raise capabilities: %s", table[step].name, strerror(errno));
  errno = saved_errno;
}

void l1vh_caps_lower(void)
{
  int saved_errno = errno;
  cap_t prev;

  if (!active)
    return;
  if (depth == 0)
    abort(); /* a lower without its raise: a bug */
  prev = saved[--depth];
  saved[depth] = NULL;
  /* Going on with a step's capabilities still raised is not an option. */
  if (cap_set_proc(prev) < 0)
    abort();
  cap_free(prev);
  errno = saved_errno;
}
