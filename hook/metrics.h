/* l1vh-hook: counters in a Prometheus text file, for node_exporter's
 * textfile collector (docs/operate.md).  Off unless the config names a file.
 *
 *   l1vh_plans_applied_total                     VM containers whose plan was applied
 *   l1vh_actions_applied_total{action=...}       device | memlock | domain
 *   l1vh_fallbacks_total{reason=...}             started without L1VH, and why
 *   l1vh_errors_total{step=...}                  hook errors, by step
 *
 * Every label takes a value from a fixed set, never free text, so the
 * series stay few.  Each update is a read-modify-write under an exclusive
 * flock on "<file>.lock", and the new file is written to "<file>.tmp" and
 * renamed over the old one: concurrent hooks never lose a count and the
 * collector never reads half a file. */
#ifndef L1VH_METRICS_H
#define L1VH_METRICS_H

#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "plan.h"
#include "spec.h"

#define L1VH_METRICS_MAX_BYTES (64 * 1024)

/* Why a VM container started without L1VH: the `reason` label. */
enum l1vh_fallback {
  L1VH_FALLBACK_NONE = -1,
  L1VH_FALLBACK_GATE_OFF,      /* "gate_off": featureGates lacks HyperVL1VH */
  L1VH_FALLBACK_OPTED_OUT,     /* "opted_out": l1vh.kubevirt.io/hypervisor: kvm */
  L1VH_FALLBACK_ARCH,          /* "arch": not x86_64 */
  L1VH_FALLBACK_NO_DEVICE,     /* "no_device": device.path missing or not a char device */
  L1VH_FALLBACK_ON_ERROR_WARN, /* "on_error_warn": an error, and onError is warn */
  L1VH_FALLBACK_OTHER,         /* "other" */
  L1VH_FALLBACK_COUNT,
};

/* The label of a decided, matching, not applied plan (plan->match &&
 * !plan->apply), from the same inputs the decision had. */
enum l1vh_fallback l1vh_fallback_classify(const struct l1vh_plan *plan,
                                          const struct l1vh_config *cfg,
                                          const struct l1vh_spec *spec,
                                          const struct l1vh_facts *facts);
const char *l1vh_fallback_label(enum l1vh_fallback fallback);

/* What one hook run adds. */
struct l1vh_metrics_event {
  const struct l1vh_plan *plan; /* with applied: its actions are counted */
  bool applied;                 /* the plan was applied */
  enum l1vh_fallback fallback;  /* L1VH_FALLBACK_NONE when none */
  /* NULL, or the step that failed: "read state", "read spec", "read
   * config", "decide", "device", "memlock", "domain", "apply" (spaces or
   * underscores); anything else counts as "other". */
  const char *error_step;
};

/* Add ev to the counters in path (created when missing; its directory
 * must exist). */
int l1vh_metrics_add(const char *path, const struct l1vh_metrics_event *ev,
                     struct l1vh_error *err);

#endif
