/* l1vh: RLIMIT_MEMLOCK: when and how much (memlock.h, docs/memlock.md).
 *
 * When: KubeVirt locks a VM's memory only for VFIO devices, SEV, realtime
 * and memLock: Required; `memlock.when: kubevirt` reproduces that from what
 * the container shows (the VFIO group devices and /dev/sev the device
 * plugins put in its spec) and from pod annotations.
 * How much: a quantity, unlimited, or `auto`: KubeVirt's own sum (guest
 * memory + its mshv overhead estimate) when the pod tells the guest memory,
 * else the container's memory limit, else unlimited. */
#include "memlock.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "json.h"
#include "quantity.h"

#define VFIO_DIR "/dev/vfio/"
#define VFIO_CONTAINER "/dev/vfio/vfio"
#define SEV_DEVICE "/dev/sev"

/* Append to a fixed buffer; truncation is an error, not a silent cut. */
static int appendf(struct l1vh_error *err, char *buf, size_t size, const char *fmt, ...)
  L1VH_PRINTF(4, 5);
static int appendf(struct l1vh_error *err, char *buf, size_t size, const char *fmt, ...)
{
  size_t used = strnlen(buf, size);
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf + used, size - used, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t) n >= size - used)
    return l1vh_error_setx(err, "memlock: message too long for its buffer: \"%.60s...\"", buf);
  return 0;
}

/* "4Mi" when exact in a binary unit, else "2.28Gi"; for people only. */
static const char *human(uint64_t b, char *buf, size_t size)
{
  static const char *const units[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  unsigned u = 0;
  uint64_t x = b;
  int n;

  while (x >= 1024 && x % 1024 == 0 && u < 6) {
    x /= 1024;
    u++;
  }
  if (x < 1024 || u == 6) {
    n = snprintf(buf, size, "%" PRIu64 "%s", x, units[u]);
  } else {
    double d = (double) b;
    for (u = 0; d >= 1024.0 && u < 6; u++)
      d /= 1024.0;
    n = snprintf(buf, size, "%.2f%s", d, units[u]);
  }
  if (n < 0 || (size_t) n >= size)
    snprintf(buf, size, "?");
  return buf;
}

/* ---- annotations: each malformed one fails with its name ---- */

static int ann_bool(const struct l1vh_spec *spec, const char *key, bool dflt, bool *out,
                    struct l1vh_error *err)
{
  const char *v = l1vh_spec_annotation(spec, key);

  *out = dflt;
  if (!v)
    return 0;
  if (strcmp(v, "true") == 0)
    *out = true;
  else if (strcmp(v, "false") == 0)
    *out = false;
  else
    return l1vh_error_setx(err, "annotation %s=\"%.64s\": expected \"true\" or \"false\"", key, v);
  return 0;
}

static int ann_uint(const struct l1vh_spec *spec, const char *key, uint64_t max, uint64_t *out,
                    struct l1vh_error *err)
{
  const char *v = l1vh_spec_annotation(spec, key);
  uint64_t x = 0;
  size_t i;

  *out = 0;
  if (!v)
    return 0;
  for (i = 0; v[i] >= '0' && v[i] <= '9' && x <= max; i++)
    x = x * 10 + (uint64_t) (v[i] - '0');
  if (i == 0 || v[i] || x > max)
    return l1vh_error_setx(err, "annotation %s=\"%.64s\": expected an integer from 0 to %" PRIu64,
                           key, v, max);
  *out = x;
  return 0;
}

static int ann_quantity(const struct l1vh_spec *spec, const char *key, bool *present,
                        uint64_t *out, struct l1vh_error *err)
{
  const char *v = l1vh_spec_annotation(spec, key);

  *present = v != NULL;
  *out = 0;
  if (v && l1vh_quantity_parse(v, out, err) < 0)
    return l1vh_error_wrap(err, "annotation %s", key);
  return 0;
}

/* ---- when ---- */

unsigned l1vh_memlock_vfio_devices(const struct l1vh_spec *spec)
{
  unsigned n = 0;

  for (size_t i = 0; i < spec->n_devices; i++) {
    const char *p = spec->devices[i].path;
    if (p && strncmp(p, VFIO_DIR, strlen(VFIO_DIR)) == 0 && p[strlen(VFIO_DIR)] &&
        strcmp(p, VFIO_CONTAINER) != 0)
      n++;
  }
  return n;
}

static bool has_device(const struct l1vh_spec *spec, const char *path)
{
  for (size_t i = 0; i < spec->n_devices; i++)
    if (spec->devices[i].path && strcmp(spec->devices[i].path, path) == 0)
      return true;
  return false;
}

/* One reason to lock memory, appended to the list in plan->reason. */
static int need_item(struct l1vh_memlock_plan *plan, bool *need, const char *what1,
                     const char *what2, struct l1vh_error *err)
{
  if (appendf(err, plan->reason, sizeof(plan->reason), "%s%s%s", *need ? ", " : "", what1,
              what2) < 0)
    return -1;
  *need = true;
  return 0;
}

/* Is there one of KubeVirt's reasons to lock memory?  Lists them in reason. */
static int kubevirt_need(const struct l1vh_spec *spec, struct l1vh_memlock_plan *plan, bool *need,
                         struct l1vh_error *err)
{
  bool realtime, sev_ann;
  char n[48];

  *need = false;
  if (ann_bool(spec, L1VH_ANN_REALTIME, false, &realtime, err) < 0 ||
      ann_bool(spec, L1VH_ANN_SEV, false, &sev_ann, err) < 0 ||
      appendf(err, plan->reason, sizeof(plan->reason), "KubeVirt would lock memory: ") < 0)
    return -1;
  /* fits: at most 10 digits */
  snprintf(n, sizeof(n), "%u VFIO device%s", plan->vfio_devices, plan->vfio_devices > 1 ? "s" : "");
  if ((plan->vfio_devices && need_item(plan, need, n, " in the spec", err) < 0) ||
      (has_device(spec, SEV_DEVICE) && need_item(plan, need, SEV_DEVICE, " in the spec", err) < 0) ||
      (sev_ann && need_item(plan, need, "annotation ", L1VH_ANN_SEV, err) < 0) ||
      (realtime && need_item(plan, need, "annotation ", L1VH_ANN_REALTIME, err) < 0) ||
      (l1vh_spec_annotation(spec, L1VH_ANN_MEMLOCK) &&
       need_item(plan, need, "annotation ", L1VH_ANN_MEMLOCK, err) < 0))
    return -1;
  if (*need)
    return 0;
  plan->reason[0] = '\0';
  return appendf(err, plan->reason, sizeof(plan->reason),
                 "not needed: no VFIO device or " SEV_DEVICE " in the spec, no %s, %s or %s "
                 "annotation (KubeVirt would not lock memory either)",
                 L1VH_ANN_MEMLOCK, L1VH_ANN_REALTIME, L1VH_ANN_SEV);
}

/* ---- how much ---- */

static int vmi_shape(const struct l1vh_spec *spec, const struct l1vh_memlock_plan *plan,
                     uint64_t guest, struct l1vh_vmi_shape *s, struct l1vh_error *err)
{
  uint64_t probes;
  bool present;

  memset(s, 0, sizeof(*s));
  s->memory = guest;
  s->vfio = plan->vfio_devices > 0;
  s->arch = l1vh_overhead_host_arch(); /* KubeVirt: runtime.GOARCH of virt-handler */
  s->ratio = l1vh_spec_annotation(spec, L1VH_ANN_OVERHEAD_RATIO);
  if (ann_uint(spec, L1VH_ANN_VCPUS, L1VH_MAX_VCPUS, &s->vcpus, err) < 0 ||
      ann_bool(spec, L1VH_ANN_VIDEO, true, &s->video, err) < 0 ||
      ann_bool(spec, L1VH_ANN_SEV, false, &s->sev, err) < 0 ||
      ann_bool(spec, L1VH_ANN_TPM, false, &s->tpm, err) < 0 ||
      ann_bool(spec, L1VH_ANN_DEDICATED_CPUS, false, &s->dedicated_cpus, err) < 0 ||
      ann_bool(spec, L1VH_ANN_DOWNWARD_METRICS, false, &s->downward_metrics, err) < 0 ||
      ann_uint(spec, L1VH_ANN_EXEC_PROBES, 2, &probes, err) < 0 ||
      ann_quantity(spec, L1VH_ANN_ADDED_OVERHEAD, &present, &s->added_overhead, err) < 0)
    return -1;
  s->exec_probes = (unsigned) probes;
  s->sev = s->sev || has_device(spec, SEV_DEVICE);
  return 0;
}

/* KubeVirt's value: overhead + base memory (+ (N-1) x base for N VFIO devices). */
static int auto_from_guest(const struct l1vh_spec *spec, struct l1vh_memlock_plan *plan,
                           const char *origin, uint64_t guest, struct l1vh_error *err)
{
  struct l1vh_vmi_shape shape;
  struct l1vh_overhead kvm;
  uint64_t max_guest, base, total;
  bool has_max;
  char h[32];

  if (vmi_shape(spec, plan, guest, &shape, err) < 0 ||
      ann_quantity(spec, L1VH_ANN_MAX_GUEST_MEMORY, &has_max, &max_guest, err) < 0)
    return -1;
  if (shape.ratio && l1vh_overhead_ratio_parse(shape.ratio, &plan->overhead.ratio, err) < 0)
    return l1vh_error_wrap(err, "annotation %s", L1VH_ANN_OVERHEAD_RATIO);
  if (l1vh_overhead_compute(&shape, &plan->overhead, err) < 0)
    return l1vh_error_wrap(err, "memlock size auto from annotation %s=%s", L1VH_ANN_GUEST_MEMORY,
                           l1vh_spec_annotation(spec, L1VH_ANN_GUEST_MEMORY));
  shape.hypervisor = L1VH_HYPERVISOR_KVM;
  if (l1vh_overhead_compute(&shape, &kvm, err) < 0)
    return l1vh_error_wrap(err, "memlock size auto from annotation %s=%s", L1VH_ANN_GUEST_MEMORY,
                           l1vh_spec_annotation(spec, L1VH_ANN_GUEST_MEMORY));
  plan->kvm_overhead = kvm.total;
  if (shape.ratio && snprintf(plan->ratio, sizeof(plan->ratio), "%s", shape.ratio) >=
                       (int) sizeof(plan->ratio))
    return l1vh_error_setx(err, "annotation %s: too long", L1VH_ANN_OVERHEAD_RATIO); /* parse caps it */
  plan->have_overhead = true;
  base = has_max ? max_guest : guest;
  if (!l1vh_round_up_kilo(base, &plan->base_memory) ||
      (plan->vfio_devices > 1 &&
       __builtin_mul_overflow(plan->base_memory, (uint64_t) (plan->vfio_devices - 1),
                              &plan->vfio_extra)) ||
      __builtin_add_overflow(plan->overhead.total, plan->base_memory, &total) ||
      __builtin_add_overflow(total, plan->vfio_extra, &total))
    return l1vh_error_setx(err, "memlock size auto: guest memory %s (annotation %s) overflows 64 bits",
                           l1vh_spec_annotation(spec, has_max ? L1VH_ANN_MAX_GUEST_MEMORY
                                                              : L1VH_ANN_GUEST_MEMORY),
                           has_max ? L1VH_ANN_MAX_GUEST_MEMORY : L1VH_ANN_GUEST_MEMORY);
  plan->bytes = total;
  return appendf(err, plan->source, sizeof(plan->source),
                 "%s=auto: %s memory %s (annotation %s) + KubeVirt's MSHV overhead%s", origin,
                 has_max ? "max guest" : "guest", human(base, h, sizeof(h)),
                 has_max ? L1VH_ANN_MAX_GUEST_MEMORY : L1VH_ANN_GUEST_MEMORY,
                 plan->vfio_devices > 1 ? " + (N-1) x base memory for N VFIO devices" : "");
}

static int auto_size(const struct l1vh_spec *spec, struct l1vh_memlock_plan *plan,
                     const char *origin, struct l1vh_error *err)
{
  uint64_t guest;
  bool has_guest;

  if (ann_quantity(spec, L1VH_ANN_GUEST_MEMORY, &has_guest, &guest, err) < 0)
    return -1;
  if (has_guest)
    return auto_from_guest(spec, plan, origin, guest, err);
  if (spec->has_memory_limit) {
    /* KubeVirt sets the compute container's limit to guest memory +
     * overhead, when it sets one: the same sum, seen from the pod. */
    plan->bytes = (uint64_t) spec->memory_limit;
    return appendf(err, plan->source, sizeof(plan->source),
                   "%s=auto: the container's memory limit (linux.resources.memory.limit)",
                   origin);
  }
  plan->unlimited = true;
  return appendf(err, plan->source, sizeof(plan->source),
                 "%s=auto: unlimited (no %s annotation, no container memory limit)", origin,
                 L1VH_ANN_GUEST_MEMORY);
}

static int resolve_size(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                        struct l1vh_memlock_plan *plan, struct l1vh_error *err)
{
  const char *ann = l1vh_spec_annotation(spec, L1VH_ANN_MEMLOCK);
  const char *size = cfg->memlock.size ? cfg->memlock.size : "auto";
  const char *origin = "config memlock.size";

  /* The pod's own size wins; "true" only asks, with the node's size. */
  if (ann && strcmp(ann, "true") != 0) {
    size = ann;
    origin = "annotation " L1VH_ANN_MEMLOCK;
  }
  if (strcmp(size, "unlimited") == 0) {
    plan->unlimited = true;
    return appendf(err, plan->source, sizeof(plan->source), "%s=unlimited", origin);
  }
  if (strcmp(size, "auto") == 0)
    return auto_size(spec, plan, origin, err);
  if (l1vh_quantity_parse(size, &plan->bytes, err) < 0)
    return l1vh_error_wrap(err, "%s: expected \"auto\", \"unlimited\" or a quantity", origin);
  return appendf(err, plan->source, sizeof(plan->source), "%s=%s", origin, size);
}

/* runc applies process.rlimits after the prestart hooks: a listed
 * RLIMIT_MEMLOCK other than ours would replace the hook's value.  The same
 * value (the shim writes it there) is no conflict. */
static int check_conflict(const struct l1vh_spec *spec, struct l1vh_memlock_plan *plan,
                          struct l1vh_error *err)
{
  const struct l1vh_spec_rlimit *rl = l1vh_spec_rlimit(spec, "RLIMIT_MEMLOCK");
  uint64_t want = plan->unlimited ? UINT64_MAX : plan->bytes;
  char hs[32], hh[32];

  if (!rl)
    return 0;
  if (rl->soft == want && rl->hard == want)
    return appendf(err, plan->reason, sizeof(plan->reason),
                   "; the spec's process.rlimits lists the same RLIMIT_MEMLOCK");
  plan->conflict = true;
  plan->spec_soft = rl->soft;
  plan->spec_hard = rl->hard;
  return appendf(err, plan->reason, sizeof(plan->reason),
                 "; conflict: the spec's process.rlimits sets RLIMIT_MEMLOCK soft %s hard %s, "
                 "which runc applies after prestart hooks, replacing this value",
                 rl->soft == UINT64_MAX ? "unlimited" : human(rl->soft, hs, sizeof(hs)),
                 rl->hard == UINT64_MAX ? "unlimited" : human(rl->hard, hh, sizeof(hh)));
}

int l1vh_memlock_decide(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                        struct l1vh_memlock_plan *plan, struct l1vh_error *err)
{
  bool need = true;

  memset(plan, 0, sizeof(*plan));
  plan->vfio_devices = l1vh_memlock_vfio_devices(spec);
  switch (cfg->memlock.when) {
  case L1VH_MEMLOCK_NEVER:
    return appendf(err, plan->reason, sizeof(plan->reason), "memlock.when is never");
  case L1VH_MEMLOCK_ALWAYS:
    if (appendf(err, plan->reason, sizeof(plan->reason), "memlock.when is always") < 0)
      return -1;
    break;
  case L1VH_MEMLOCK_KUBEVIRT:
  default:
    if (kubevirt_need(spec, plan, &need, err) < 0)
      return -1;
    if (!need)
      return 0;
  }
  if (resolve_size(spec, cfg, plan, err) < 0 || check_conflict(spec, plan, err) < 0) {
    struct l1vh_memlock_plan empty;
    memset(&empty, 0, sizeof(empty));
    *plan = empty; /* no half-decided plan escapes a failure */
    return -1;
  }
  plan->set = true;
  return 0;
}

/* ---- dry-run ---- */

static void print_row(FILE *out, const char *indent, const char *name, const char *sign,
                      uint64_t bytes)
{
  char h[32];
  fprintf(out, "%s%-24s %s%" PRIu64 " (%s)\n", indent, name, sign, bytes,
          human(bytes, h, sizeof(h)));
}

static void print_breakdown(const struct l1vh_memlock_plan *plan, FILE *out)
{
  const struct l1vh_overhead *o = &plan->overhead;
  char name[64], h[32];

  fprintf(out, "    overhead (KubeVirt's mshv GetMemoryOverhead):\n");
  for (size_t i = 0; i < o->n_terms; i++)
    print_row(out, "      ", o->terms[i].name, "", o->terms[i].bytes);
  if (plan->ratio[0]) {
    print_row(out, "      ", "sum", "", o->sum);
    if (snprintf(name, sizeof(name), "x ratio %s", plan->ratio) >= (int) sizeof(name))
      snprintf(name, sizeof(name), "x ratio");
    print_row(out, "      ", name, "+", o->ratio_added);
  }
  print_row(out, "      ", "overhead", "", o->total);
  print_row(out, "    ", "base memory", "+", plan->base_memory);
  if (plan->vfio_extra) {
    if (snprintf(name, sizeof(name), "(%u-1) VFIO x base", plan->vfio_devices) >= (int) sizeof(name))
      snprintf(name, sizeof(name), "(N-1) VFIO x base");
    print_row(out, "    ", name, "+", plan->vfio_extra);
  }
  print_row(out, "    ", "limit", "", plan->bytes);
  if (o->total > plan->kvm_overhead)
    fprintf(out,
            "    note: stock KubeVirt sizes the pod with its KVM estimate (qemu 30Mi, not 50Mi): "
            "%s less overhead than this; additionalGuestMemoryOverheadRatio adds margin\n",
            human(o->total - plan->kvm_overhead, h, sizeof(h)));
}

void l1vh_memlock_print(const struct l1vh_memlock_plan *plan, FILE *out)
{
  char h[32];

  if (!plan->set)
    fprintf(out, "  memlock: not set\n");
  else if (plan->unlimited)
    fprintf(out, "  memlock: RLIMIT_MEMLOCK soft=hard=unlimited\n");
  else
    fprintf(out, "  memlock: RLIMIT_MEMLOCK soft=hard=%" PRIu64 " (%s)\n", plan->bytes,
            human(plan->bytes, h, sizeof(h)));
  if (plan->source[0])
    fprintf(out, "    source: %s\n", plan->source);
  fprintf(out, "    reason: %s\n", plan->reason);
  if (plan->have_overhead)
    print_breakdown(plan, out);
}

static void print_overhead_json(const struct l1vh_memlock_plan *plan, FILE *out)
{
  const struct l1vh_overhead *o = &plan->overhead;

  fprintf(out, ",\"overhead\":{\"terms\":{");
  for (size_t i = 0; i < o->n_terms; i++) {
    fprintf(out, "%s", i ? "," : "");
    l1vh_json_fput_string(o->terms[i].name, out);
    fprintf(out, ":%" PRIu64, o->terms[i].bytes);
  }
  fprintf(out, "},\"sum\":%" PRIu64 ",\"ratio\":", o->sum);
  l1vh_json_fput_string(plan->ratio[0] ? plan->ratio : "1", out);
  fprintf(out,
          ",\"ratioAdded\":%" PRIu64 ",\"total\":%" PRIu64 ",\"baseMemory\":%" PRIu64
          ",\"vfioDevices\":%u,\"vfioExtra\":%" PRIu64 ",\"kvmTotal\":%" PRIu64 "}",
          o->ratio_added, o->total, plan->base_memory, plan->vfio_devices, plan->vfio_extra,
          plan->kvm_overhead);
}

/* An rlimit value: bytes, or "unlimited" for RLIM_INFINITY (2^64-1). */
static void print_limit_json(uint64_t v, FILE *out)
{
  if (v == UINT64_MAX)
    fprintf(out, "\"unlimited\"");
  else
    fprintf(out, "%" PRIu64, v);
}

void l1vh_memlock_print_json(const struct l1vh_memlock_plan *plan, FILE *out)
{
  fprintf(out, "\"memlock\":{\"set\":%s,\"bytes\":", plan->set ? "true" : "false");
  if (plan->set && plan->unlimited)
    fprintf(out, "\"unlimited\"");
  else
    fprintf(out, "%" PRIu64, plan->set ? plan->bytes : 0);
  fprintf(out, ",\"source\":");
  l1vh_json_fput_string(plan->source, out);
  fprintf(out, ",\"reason\":");
  l1vh_json_fput_string(plan->reason, out);
  fprintf(out, ",\"conflict\":%s", plan->conflict ? "true" : "false");
  if (plan->conflict) {
    fprintf(out, ",\"specSoft\":");
    print_limit_json(plan->spec_soft, out);
    fprintf(out, ",\"specHard\":");
    print_limit_json(plan->spec_hard, out);
  }
  if (plan->have_overhead)
    print_overhead_json(plan, out);
  fprintf(out, "}");
}
