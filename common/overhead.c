/* l1vh: the port of KubeVirt's mshv GetMemoryOverhead (see overhead.h).
 *
 * The terms, their order and their rounding follow KubeVirt, so that a
 * limit computed here equals the one virt-handler would set: page tables
 * are computed from the memory rounded up to kilobytes and then divided
 * (truncating) by 512; the ratio multiplies the whole sum, computed in
 * float64 on the sum in (rounded up) kilobytes and truncated to whole
 * kilobytes. */
#include "overhead.h"

#include <stdlib.h>
#include <string.h>

/* The `ps` RSS of each process of a launcher pod, as KubeVirt measured it. */
#define VIRT_LAUNCHER_MONITOR (25 * L1VH_MIB)
#define VIRT_LAUNCHER (100 * L1VH_MIB)
#define VIRTLOGD (25 * L1VH_MIB)
#define VIRTQEMUD (40 * L1VH_MIB)
#define QEMU_MSHV (50 * L1VH_MIB) /* the mshv backend's estimate */
#define QEMU_KVM (30 * L1VH_MIB)  /* the kvm backend's, which stock KubeVirt sizes pods by */
#define PER_VCPU (8 * L1VH_MIB)
#define IOTHREAD (8 * L1VH_MIB)
#define VIDEO (32 * L1VH_MIB)
#define ARM64_PFLASH (128 * L1VH_MIB) /* two 64 MiB UEFI flash devices */
#define VFIO (1024 * L1VH_MIB)        /* MMIO space locked for DMA */
#define DOWNWARD_METRICS (1 * L1VH_MIB)
#define EXEC_PROBE (10 * L1VH_MIB)
#define EXEC_PROBES_ONCE (100 * L1VH_MIB) /* virt-probe itself */
#define SEV (256 * L1VH_MIB)
#define TPM (53 * L1VH_MIB) /* swtpm */
#define DEDICATED_CPUS (100 * L1VH_MIB)

/* Sanity bound on the ratio: KubeVirt has none, but a ratio of thousands
 * is a typo, not a margin. */
#define MAX_RATIO 1000.0

bool l1vh_round_up_kilo(uint64_t bytes, uint64_t *out)
{
  uint64_t kilo = bytes / 1000 + (bytes % 1000 != 0);
  return !__builtin_mul_overflow(kilo, 1000, out);
}

const char *l1vh_overhead_host_arch(void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#else
  return "unknown";
#endif
}

int l1vh_overhead_ratio_parse(const char *s, double *ratio, struct l1vh_error *err)
{
  size_t i = 0, digits = 0;
  char *end;
  double r;

  if (!s || !*s)
    return l1vh_error_setx(err, "empty overhead ratio");
  /* Digits with an optional fraction only: strtod alone would also take
   * "inf", "nan", hex floats and leading blanks. */
  for (; s[i] >= '0' && s[i] <= '9'; i++)
    digits++;
  if (s[i] == '.')
    for (i++; s[i] >= '0' && s[i] <= '9'; i++)
      digits++;
  if (s[i] || digits == 0 || i > 32)
    return l1vh_error_setx(err, "overhead ratio \"%.40s\" is not a decimal number like 1.5", s);
  r = strtod(s, &end);
  if (*end)
    return l1vh_error_setx(err, "overhead ratio \"%s\" is not a decimal number like 1.5", s);
  if (r < 1.0 || r > MAX_RATIO)
    return l1vh_error_setx(err, "overhead ratio \"%s\" is out of range: KubeVirt needs at least 1.0",
                           s);
  *ratio = r;
  return 0;
}

static int add_term(struct l1vh_overhead *o, const char *name, uint64_t bytes,
                    struct l1vh_error *err)
{
  if (bytes == 0)
    return 0;
  if (o->n_terms == L1VH_OVERHEAD_MAX_TERMS)
    return l1vh_error_setx(err, "memory overhead: too many terms"); /* a bug, not input */
  if (__builtin_add_overflow(o->sum, bytes, &o->sum))
    return l1vh_error_setx(err, "memory overhead: %s overflows 64 bits", name);
  o->terms[o->n_terms].name = name;
  o->terms[o->n_terms].bytes = bytes;
  o->n_terms++;
  return 0;
}

/* One bit of page table per 512 bytes of memory, from the memory rounded
 * up to kilobytes (KubeVirt's Quantity arithmetic). */
static int pagetables(uint64_t memory, uint64_t *out, struct l1vh_error *err)
{
  uint64_t kilo;
  if (!l1vh_round_up_kilo(memory, &kilo))
    return l1vh_error_setx(err, "memory overhead: guest memory %llu overflows 64 bits",
                           (unsigned long long) memory);
  *out = kilo / 512;
  return 0;
}

static int fixed_terms(const struct l1vh_vmi_shape *s, struct l1vh_overhead *o,
                       struct l1vh_error *err)
{
  uint64_t pt = 0, vcpus = s->vcpus ? s->vcpus : 1, cpu_bytes;

  if (pagetables(s->memory, &pt, err) < 0 || add_term(o, "pagetables", pt, err) < 0 ||
      add_term(o, "virt-launcher-monitor", VIRT_LAUNCHER_MONITOR, err) < 0 ||
      add_term(o, "virt-launcher", VIRT_LAUNCHER, err) < 0 ||
      add_term(o, "virtlogd", VIRTLOGD, err) < 0 || add_term(o, "virtqemud", VIRTQEMUD, err) < 0 ||
      add_term(o, "qemu", s->hypervisor == L1VH_HYPERVISOR_KVM ? QEMU_KVM : QEMU_MSHV, err) < 0)
    return -1;
  if (__builtin_mul_overflow(vcpus, PER_VCPU, &cpu_bytes))
    return l1vh_error_setx(err, "memory overhead: %llu vCPUs overflow 64 bits",
                           (unsigned long long) vcpus);
  if (add_term(o, "vcpus", cpu_bytes, err) < 0 || add_term(o, "iothread", IOTHREAD, err) < 0)
    return -1;
  return 0;
}

static int optional_terms(const struct l1vh_vmi_shape *s, struct l1vh_overhead *o,
                          struct l1vh_error *err)
{
  unsigned probes = s->exec_probes > 2 ? 2 : s->exec_probes; /* liveness, readiness */

  if ((s->video && add_term(o, "video", VIDEO, err) < 0) ||
      (s->arch && strcmp(s->arch, "arm64") == 0 && add_term(o, "arm64-pflash", ARM64_PFLASH, err) < 0) ||
      (s->vfio && add_term(o, "vfio", VFIO, err) < 0) ||
      (s->downward_metrics && add_term(o, "downward-metrics", DOWNWARD_METRICS, err) < 0) ||
      (probes && add_term(o, "exec-probes", probes * EXEC_PROBE + EXEC_PROBES_ONCE, err) < 0) ||
      (s->sev && add_term(o, "sev", SEV, err) < 0) || (s->tpm && add_term(o, "tpm", TPM, err) < 0) ||
      (s->dedicated_cpus && add_term(o, "dedicated-cpus", DEDICATED_CPUS, err) < 0) ||
      add_term(o, "added-overhead", s->added_overhead, err) < 0)
    return -1;
  return 0;
}

/* KubeVirt's MultiplyMemory: float64(ceil(sum / 1000)) * (ratio - 1),
 * truncated to an integer number of kilobytes. */
static int apply_ratio(struct l1vh_overhead *o, struct l1vh_error *err)
{
  uint64_t kilo_bytes, added_kilo;
  double added;

  if (!l1vh_round_up_kilo(o->sum, &kilo_bytes))
    return l1vh_error_setx(err, "memory overhead overflows 64 bits");
  added = (double) (kilo_bytes / 1000) * (o->ratio - 1.0);
  if (!(added >= 0.0) || added >= 9223372036854775808.0) /* int64 in KubeVirt */
    return l1vh_error_setx(err, "memory overhead x ratio %g overflows", o->ratio);
  added_kilo = (uint64_t) added; /* truncates, like Go's int64() */
  if (__builtin_mul_overflow(added_kilo, 1000, &o->ratio_added) ||
      __builtin_add_overflow(o->sum, o->ratio_added, &o->total))
    return l1vh_error_setx(err, "memory overhead x ratio %g overflows 64 bits", o->ratio);
  return 0;
}

int l1vh_overhead_compute(const struct l1vh_vmi_shape *shape, struct l1vh_overhead *out,
                          struct l1vh_error *err)
{
  struct l1vh_overhead o;

  memset(&o, 0, sizeof(o));
  o.ratio = 1.0;
  if (shape->ratio && *shape->ratio &&
      l1vh_overhead_ratio_parse(shape->ratio, &o.ratio, err) < 0)
    return -1;
  if (fixed_terms(shape, &o, err) < 0 || optional_terms(shape, &o, err) < 0 ||
      apply_ratio(&o, err) < 0)
    return -1;
  *out = o;
  return 0;
}
