/* l1vh: KubeVirt's estimate of a VM's memory overhead (GetMemoryOverhead of
 * its mshv hypervisor backend, kubevirt/kubevirt pkg/hypervisor/mshv), the
 * part of RLIMIT_MEMLOCK above the guest's own memory.  docs/memlock.md
 * lists the terms side by side with KubeVirt's. */
#ifndef L1VH_OVERHEAD_H
#define L1VH_OVERHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define L1VH_MIB (1024ULL * 1024ULL)

enum l1vh_hypervisor { L1VH_HYPERVISOR_MSHV, L1VH_HYPERVISOR_KVM };

/* What of a VMI the estimate looks at (KubeVirt reads the VMI spec; the
 * hook reads annotations and the container spec, see memlock.c). */
struct l1vh_vmi_shape {
  uint64_t memory;          /* requests.memory, bytes: the page tables */
  uint64_t vcpus;           /* sockets x cores x threads; 0 counts as 1 */
  bool video;               /* autoattachGraphicsDevice is not false */
  bool vfio;                /* host devices, GPUs or SR-IOV interfaces */
  bool downward_metrics;    /* a downwardMetrics volume */
  unsigned exec_probes;     /* exec liveness and readiness probes: 0, 1 or 2 */
  bool sev;                 /* SEV, SEV-ES or SEV-SNP launch security */
  bool tpm;                 /* a TPM device (a swtpm process) */
  bool dedicated_cpus;      /* dedicatedCpuPlacement or guaranteed QoS */
  uint64_t added_overhead;  /* memory.reservedOverhead.addedOverhead, bytes */
  const char *arch;         /* "amd64", "arm64", ... (Go's GOARCH names) */
  const char *ratio;        /* additionalGuestMemoryOverheadRatio, NULL: none */
  enum l1vh_hypervisor hypervisor; /* qemu's own estimate differs */
};

#define L1VH_OVERHEAD_MAX_TERMS 20

struct l1vh_overhead_term {
  const char *name; /* "pagetables", "qemu", "vcpus", ... (static) */
  uint64_t bytes;
};

struct l1vh_overhead {
  struct l1vh_overhead_term terms[L1VH_OVERHEAD_MAX_TERMS]; /* non-zero terms, in KubeVirt's order */
  size_t n_terms;
  uint64_t sum;         /* of the terms */
  double ratio;         /* 1.0 when none */
  uint64_t ratio_added; /* what the ratio adds to sum */
  uint64_t total;       /* sum + ratio_added: GetMemoryOverhead's result */
};

/* The overhead of shape.  Fails (one line) on a malformed or too small
 * ratio and on 64-bit overflow; pure otherwise. */
int l1vh_overhead_compute(const struct l1vh_vmi_shape *shape, struct l1vh_overhead *out,
                          struct l1vh_error *err);

/* additionalGuestMemoryOverheadRatio: a plain decimal >= 1 ("1.5"), as
 * KubeVirt's webhook admits it. */
int l1vh_overhead_ratio_parse(const char *s, double *ratio, struct l1vh_error *err);

/* Kubernetes' Quantity.ScaledValue(Kilo) x 1000: bytes rounded up to whole
 * kilobytes (10^3), the rounding KubeVirt applies to the memory it adds.
 * False when that overflows. */
bool l1vh_round_up_kilo(uint64_t bytes, uint64_t *out);

/* GOARCH of the machine l1vh was built for: KubeVirt passes
 * runtime.GOARCH of virt-handler, the node's architecture. */
const char *l1vh_overhead_host_arch(void);

#endif
