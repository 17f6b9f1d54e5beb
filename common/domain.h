/* l1vh: rewriting the libvirt domain type inside the container.
 * (Placeholder interface; the domain work fills it in.) */
#ifndef L1VH_DOMAIN_H
#define L1VH_DOMAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "error.h"
#include "spec.h"

/* What the container image holds, found without executing anything. */
struct l1vh_domain_facts {
  int libvirt_version; /* major*1000+minor (11010 = 11.10), -1 when not found */
  char libvirt_lib[256];
};

struct l1vh_domain_plan {
  bool rewrite;
  enum l1vh_domain_strategy strategy; /* xml or emulator once decided */
  const char *type;  /* config's target type */
  const char *accel; /* config's target accelerator */
  char reason[200];
};

/* Look for the libvirt library in the container rootfs (rootfd: its root). */
int l1vh_domain_probe(int rootfd, struct l1vh_domain_facts *facts, struct l1vh_error *err);
/* Pure. */
int l1vh_domain_decide(const struct l1vh_domain_facts *facts, const struct l1vh_config *cfg,
                       struct l1vh_domain_plan *plan, struct l1vh_error *err);
void l1vh_domain_print(const struct l1vh_domain_plan *plan, FILE *out);
void l1vh_domain_print_json(const struct l1vh_domain_plan *plan, FILE *out);

#endif
