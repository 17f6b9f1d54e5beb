/* l1vh: the plan, decided once by the same code for hook, shim and dry-run.
 *
 * l1vh_decide() is pure: (state, spec, config, host facts) -> plan, with a
 * reason for every choice.  Everything that looks at the host or the
 * container's files is gathered first, by l1vh_facts_probe(). */
#ifndef L1VH_PLAN_H
#define L1VH_PLAN_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "domain.h"
#include "error.h"
#include "memlock.h"
#include "spec.h"

/* Pod annotations a VM (VMI annotations are copied onto its pod) can set. */
#define L1VH_ANN_HYPERVISOR "l1vh.kubevirt.io/hypervisor"

struct l1vh_facts {
  const char *arch; /* the host's machine name, "x86_64" */
  bool device_present;
  dev_t device_rdev; /* when present */
  char device_problem[200]; /* why it is not present */
  bool have_domain;
  struct l1vh_domain_facts domain;
};

struct l1vh_device_plan {
  bool inject;
  const char *path; /* config's device.path */
  dev_t rdev;
  uid_t uid;
  gid_t gid;
  mode_t mode;
  bool in_spec; /* linux.devices already lists it (the shim did it) */
  char reason[200];
};

struct l1vh_plan {
  bool match;       /* a virt-launcher compute container */
  bool apply;       /* L1VH applies: the three actions below are decided */
  char reason[256]; /* why (not) */
  const char *container; /* container name, or "" */
  const char *pod;       /* pod / sandbox name, or "" */
  const char *vm;        /* kubevirt.io/domain, or "" */
  struct l1vh_device_plan device;
  struct l1vh_memlock_plan memlock;
  struct l1vh_domain_plan domain;
};

/* Step 1, pure and cheap: is this a virt-launcher compute container?
 * Fills plan->match, the names and, when it is not, plan->reason. */
void l1vh_match(const struct l1vh_spec *spec, const struct l1vh_config *cfg, struct l1vh_plan *plan);
/* Gather host and rootfs facts (bundle: to resolve a relative root.path). */
int l1vh_facts_probe(const struct l1vh_config *cfg, const struct l1vh_spec *spec,
                     const char *bundle, struct l1vh_facts *facts, struct l1vh_error *err);
/* Step 2, pure: the whole plan.  Fails only on malformed input (a bad
 * annotation value); every "no" is an empty plan with its reason. */
int l1vh_decide(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                const struct l1vh_facts *facts, struct l1vh_plan *plan, struct l1vh_error *err);

/* The whole flow for hook, shim and dry-run: match, and only for a matching
 * container on a node with the gate on, probe the facts; then decide. */
int l1vh_plan_make(const struct l1vh_spec *spec, const struct l1vh_config *cfg, const char *bundle,
                   struct l1vh_facts *facts, struct l1vh_plan *plan, struct l1vh_error *err);

/* Format a reason into a fixed buffer.  Reasons are for people: one cut
 * short by its buffer ends in "..." and is still a reason, so truncation
 * is accepted here (and only here). */
void l1vh_reason(char *buf, size_t size, const char *fmt, ...) L1VH_PRINTF(3, 4);

/* dry-run's output: human lines, or one JSON object (docs/dry-run.md). */
void l1vh_plan_print(const struct l1vh_plan *plan, FILE *out);
void l1vh_plan_print_json(const struct l1vh_plan *plan, FILE *out);

#endif
