/* l1vh: RLIMIT_MEMLOCK for the VM's processes: when and how much.
 * (Placeholder interface; the memlock work fills it in.) */
#ifndef L1VH_MEMLOCK_H
#define L1VH_MEMLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "error.h"
#include "spec.h"

struct l1vh_memlock_plan {
  bool set;           /* the hook sets RLIMIT_MEMLOCK */
  bool unlimited;     /* RLIM_INFINITY rather than bytes */
  uint64_t bytes;
  char source[160];   /* where the value comes from */
  char reason[200];   /* why it is (not) set */
  bool conflict;      /* the spec lists RLIMIT_MEMLOCK: runc would overwrite the hook's value */
};

/* Pure: decide from the spec's needs and annotations and the config.
 * Fails (one line) on a malformed annotation or quantity. */
int l1vh_memlock_decide(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                        struct l1vh_memlock_plan *plan, struct l1vh_error *err);
/* dry-run output: human lines (indented) and the JSON object's members. */
void l1vh_memlock_print(const struct l1vh_memlock_plan *plan, FILE *out);
void l1vh_memlock_print_json(const struct l1vh_memlock_plan *plan, FILE *out);

#endif
