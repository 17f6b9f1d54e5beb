/* l1vh-hook: RLIMIT_MEMLOCK on the container's init, soft = hard, as
 * KubeVirt's virt-handler sets it with prlimit on virtqemud and qemu.  Set
 * at prestart, before the container's process runs, so everything it
 * starts (the libvirt daemon, qemu) inherits it.  Messages leave out the
 * container id: the hook's log prefix carries it. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>

#include "actions.h"
#include "caps.h"

static const char *limit_str(rlim_t v, char *buf, size_t size)
{
  int n;

  if (v == RLIM_INFINITY)
    return "unlimited";
  n = snprintf(buf, size, "%" PRIu64, (uint64_t) v);
  if (n < 0 || (size_t) n >= size)
    return "?";
  return buf;
}

int l1vh_memlock_apply(const struct l1vh_target *t, const struct l1vh_memlock_plan *plan,
                       struct l1vh_error *err)
{
  struct rlimit want, old;
  char ws[24], hs[24];
  int r;

  if (!plan->set)
    return 0;
  /* prlimit(0, ...) is the hook itself: never let a missing pid land there. */
  if (t->pid <= 0)
    return l1vh_error_setx(err, "set RLIMIT_MEMLOCK: the state has no container pid");
  want.rlim_cur = want.rlim_max = plan->unlimited ? RLIM_INFINITY : (rlim_t) plan->bytes;
  limit_str(want.rlim_max, ws, sizeof(ws));
  if (prlimit(t->pid, RLIMIT_MEMLOCK, NULL, &old) < 0)
    return l1vh_error_set(err, errno, "set RLIMIT_MEMLOCK of pid %d to %s: read its limit",
                          (int) t->pid, ws);
  l1vh_caps_raise(L1VH_STEP_MEMLOCK);
  r = prlimit(t->pid, RLIMIT_MEMLOCK, &want, NULL);
  l1vh_caps_lower();
  if (r == 0)
    return 0;
  if (errno == EPERM && want.rlim_max > old.rlim_max)
    return l1vh_error_set(err, errno,
                          "set RLIMIT_MEMLOCK of pid %d to %s: raising the hard limit above %s "
                          "needs CAP_SYS_RESOURCE",
                          (int) t->pid, ws, limit_str(old.rlim_max, hs, sizeof(hs)));
  return l1vh_error_set(err, errno, "set RLIMIT_MEMLOCK of pid %d to %s", (int) t->pid, ws);
}
