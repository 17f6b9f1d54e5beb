/* l1vh-hook: least privilege (docs/security.md).
 *
 * A runtime runs the hook as root with every capability.  At the start of
 * a run the hook empties its bounding, inheritable and ambient sets, sets
 * PR_SET_NO_NEW_PRIVS and keeps in its permitted set only what some step
 * may need, with nothing effective.  Once the plan is known the permitted
 * set shrinks to the steps of that plan, and each step raises its own
 * capabilities into the effective set for as long as it runs.
 *
 * A capability the runtime did not give the hook (this test machine has no
 * CAP_SYS_RESOURCE) is simply not raised: the step that needs it then fails
 * with its own EPERM and says what it was doing; no other step is affected. */
#ifndef L1VH_CAPS_H
#define L1VH_CAPS_H

#include <stdbool.h>

#include "error.h"

/* The steps of a run that need a capability, in the order they run.  The
 * seccomp allow-list (seccomp.h) is made of the same steps. */
enum l1vh_step {
  L1VH_STEP_PROBE,     /* decide: look for libvirt in the image (domain strategy auto) */
  L1VH_STEP_PID,       /* open the container init's mount namespace (is it a container's?) */
  L1VH_STEP_ENTER,     /* enter that namespace and return */
  L1VH_STEP_MKNOD,     /* create the device node in the container's /dev */
  L1VH_STEP_CHOWN,     /* give the node its owner */
  L1VH_STEP_CGROUP_V1, /* devices.allow / devices.deny */
  L1VH_STEP_CGROUP_V2, /* rebuild the device eBPF program of the container's cgroup */
  L1VH_STEP_MEMLOCK,   /* prlimit(RLIMIT_MEMLOCK) on the container's init */
  L1VH_STEP_DOMAIN,    /* clone the rewrite pieces and mount them in the container */
  L1VH_STEP_RECORD,    /* the decision record and the metrics file */
  L1VH_STEP_COUNT
};

/* The steps a run needs, by plan; true = needed. */
struct l1vh_steps {
  bool need[L1VH_STEP_COUNT];
};

/* Start of a run: bounding, inheritable and ambient sets emptied, the
 * permitted set reduced to what `steps` may need, effective empty,
 * PR_SET_NO_NEW_PRIVS.  Fails only when the kernel refuses to lower a set. */
int l1vh_caps_init(const struct l1vh_steps *steps, struct l1vh_error *err);
/* Shrink the permitted set to what `steps` need (never widens it). */
int l1vh_caps_limit(const struct l1vh_steps *steps, struct l1vh_error *err);
/* Raise the capabilities of step into the effective set (those that are
 * permitted; the others are left out, see above).  Nests: each raise is
 * paired with a l1vh_caps_lower() that restores the set before it.  Both
 * keep errno.  Before l1vh_caps_init (unit tests, dry-run) both do nothing. */
void l1vh_caps_raise(enum l1vh_step step);
void l1vh_caps_lower(void);

#endif
