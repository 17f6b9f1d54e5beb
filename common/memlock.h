/* l1vh: RLIMIT_MEMLOCK for the VM's processes: when and how much
 * (docs/memlock.md).  The hook sets it on the container's first process at
 * prestart, so the libvirt daemon and qemu inherit it; this replaces what
 * KubeVirt's virt-handler does from outside with prlimit. */
#ifndef L1VH_MEMLOCK_H
#define L1VH_MEMLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "error.h"
#include "overhead.h"
#include "spec.h"

/* Pod annotations (VMI annotations are copied onto the launcher pod).
 * Asking for locked memory, and its size: "auto", "unlimited", a quantity,
 * or "true" (the node's memlock.size). */
#define L1VH_ANN_MEMLOCK "l1vh.kubevirt.io/memlock"
#define L1VH_ANN_REALTIME "l1vh.kubevirt.io/realtime" /* "true": spec.domain.cpu.realtime */
#define L1VH_ANN_SEV "l1vh.kubevirt.io/sev"           /* "true": SEV launch security */
/* The VM's shape, for `auto` (each maps to a term of KubeVirt's estimate). */
#define L1VH_ANN_GUEST_MEMORY "l1vh.kubevirt.io/guest-memory"         /* requests.memory */
#define L1VH_ANN_MAX_GUEST_MEMORY "l1vh.kubevirt.io/max-guest-memory" /* memory.maxGuest */
#define L1VH_ANN_VCPUS "l1vh.kubevirt.io/vcpus"                       /* sockets x cores x threads */
#define L1VH_ANN_VIDEO "l1vh.kubevirt.io/video"                       /* "false": no graphics device */
#define L1VH_ANN_TPM "l1vh.kubevirt.io/tpm"                           /* "true" */
#define L1VH_ANN_DEDICATED_CPUS "l1vh.kubevirt.io/dedicated-cpus"     /* "true": or guaranteed QoS */
#define L1VH_ANN_EXEC_PROBES "l1vh.kubevirt.io/exec-probes"           /* 0, 1 or 2 */
#define L1VH_ANN_DOWNWARD_METRICS "l1vh.kubevirt.io/downward-metrics" /* "true" */
#define L1VH_ANN_ADDED_OVERHEAD "l1vh.kubevirt.io/added-overhead"     /* reservedOverhead.addedOverhead */
#define L1VH_ANN_OVERHEAD_RATIO "l1vh.kubevirt.io/overhead-ratio"     /* additionalGuestMemoryOverheadRatio */

#define L1VH_MAX_VCPUS 16384

struct l1vh_memlock_plan {
  bool set;           /* the hook sets RLIMIT_MEMLOCK */
  bool unlimited;     /* RLIM_INFINITY rather than bytes */
  uint64_t bytes;
  char source[200];   /* where the value comes from */
  char reason[480];   /* why it is (not) set, and the conflict when there is one */
  bool conflict;      /* the spec lists another RLIMIT_MEMLOCK: runc would overwrite the hook's value */
  uint64_t spec_soft, spec_hard; /* that entry, when conflict */

  /* `auto` from a known guest memory: the value is
   * overhead.total + base_memory + vfio_extra. */
  bool have_overhead;
  struct l1vh_overhead overhead;
  char ratio[40];          /* the ratio as written, "" when none */
  uint64_t base_memory;    /* max-guest or guest memory, rounded up to kilobytes like KubeVirt */
  unsigned vfio_devices;   /* VFIO group devices in the spec */
  uint64_t vfio_extra;     /* (N-1) x base memory for N > 1 VFIO devices (KubeVirt v1.9) */
  uint64_t kvm_overhead;   /* the same VM's overhead with KubeVirt's KVM qemu estimate */
};

/* Pure: decide from the spec's needs and annotations and the config.
 * Fails (one line) on a malformed annotation or quantity. */
int l1vh_memlock_decide(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                        struct l1vh_memlock_plan *plan, struct l1vh_error *err);
/* dry-run output: human lines (indented) and the JSON object's members. */
void l1vh_memlock_print(const struct l1vh_memlock_plan *plan, FILE *out);
/* Exactly one member, `"memlock":{...}`, no separator around it. */
void l1vh_memlock_print_json(const struct l1vh_memlock_plan *plan, FILE *out);

/* VFIO group devices (under /dev/vfio/, not the /dev/vfio/vfio container)
 * listed in the spec's linux.devices. */
unsigned l1vh_memlock_vfio_devices(const struct l1vh_spec *spec);

#endif
