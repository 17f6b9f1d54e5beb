/* l1vh-hook: the three actions of the plan, applied to a live container at
 * prestart.  Each either does all of its work or undoes what it did and
 * fails with one line naming the step and the cause. */
#ifndef L1VH_ACTIONS_H
#define L1VH_ACTIONS_H

#include <sys/types.h>

#include "error.h"
#include "plan.h"
#include "spec.h"

struct l1vh_target {
  const char *id;        /* container id (state) */
  pid_t pid;             /* the container's init (state) */
  const char *bundle;    /* bundle dir (state) */
  const char *root_path; /* absolute path of the container rootfs */
  const struct l1vh_spec *spec;
};

/* 1. /dev/mshv: node, owner, device cgroup v1 and v2 (hook/device.c). */
int l1vh_device_apply(const struct l1vh_target *t, const struct l1vh_device_plan *plan,
                      struct l1vh_error *err);
/* Undo l1vh_device_apply (when a later action fails). */
void l1vh_device_undo(const struct l1vh_target *t, const struct l1vh_device_plan *plan);
/* 2. RLIMIT_MEMLOCK on the container's init (hook/memlock.c). */
int l1vh_memlock_apply(const struct l1vh_target *t, const struct l1vh_memlock_plan *plan,
                       struct l1vh_error *err);
/* 3. The domain type rewrite pieces, mounted into the container (hook/domain.c). */
int l1vh_domain_apply(const struct l1vh_target *t, const struct l1vh_domain_plan *plan,
                      struct l1vh_error *err);

#endif
