/* The port of KubeVirt's mshv GetMemoryOverhead against VMI shapes whose
 * values were worked out by hand from the formula (docs/memlock.md,
 * ../shared/docs/facts.md), one row per term.
 *
 * The reference VMI: 1Gi of memory, 1 vCPU, graphics on, amd64, no ratio:
 *   pagetables  ceil(1073741824 / 1000) = 1073742 kB; 1073742000 / 512
 *               = 2097152.34 -> 2097152 (2Mi)
 *   fixed       25Mi + 100Mi + 25Mi + 40Mi + 50Mi (qemu, mshv) = 240Mi = 251658240
 *   vcpus       1 x 8Mi = 8388608
 *   iothread    8Mi = 8388608
 *   video       32Mi = 33554432
 *   total       2Mi + 240Mi + 8Mi + 8Mi + 32Mi = 290Mi = 304087040
 * Without page tables, the constant part is 288Mi = 301989888. */
#include <stdint.h>
#include <string.h>

#include "overhead.h"
#include "unit.h"

#define MI (1024ULL * 1024ULL)
#define GI (1024ULL * MI)
#define REF 304087040ULL /* 290Mi */

/* The reference shape, changed by one field per row. */
static struct l1vh_vmi_shape ref(void)
{
  struct l1vh_vmi_shape s;
  memset(&s, 0, sizeof(s));
  s.memory = GI;
  s.vcpus = 1;
  s.video = true;
  s.arch = "amd64";
  s.hypervisor = L1VH_HYPERVISOR_MSHV;
  return s;
}

enum change {
  C_NONE, C_VCPUS4, C_VCPUS0, C_VFIO, C_SEV, C_TPM, C_DEDICATED, C_PROBE1, C_PROBE2,
  C_RATIO15, C_RATIO2, C_RATIO11, C_ARM64, C_NOVIDEO, C_DOWNWARD, C_KVM, C_MEM2GI, C_MEM1G,
  C_MEM1B, C_MEM0, C_ADDED1GI, C_ALL,
};

static const struct {
  const char *name;
  enum change change;
  uint64_t total;
} rows[] = {
  {"reference", C_NONE, REF},
  /* 4 vCPUs: 3 more x 8Mi = 25165824 */
  {"vcpus=4", C_VCPUS4, REF + 25165824ULL},
  /* no vCPU count counts as 1 (KubeVirt: vcpus < 1 -> 1) */
  {"vcpus=0", C_VCPUS0, REF},
  /* VFIO: + 1Gi = 1073741824 -> 1377828864 */
  {"vfio", C_VFIO, 1377828864ULL},
  /* SEV: + 256Mi = 268435456 -> 572522496 */
  {"sev", C_SEV, 572522496ULL},
  /* TPM (swtpm): + 53Mi = 55574528 -> 359661568 */
  {"tpm", C_TPM, 359661568ULL},
  /* dedicated CPUs / guaranteed QoS: + 100Mi = 104857600 -> 408944640 */
  {"dedicated-cpus", C_DEDICATED, 408944640ULL},
  /* one exec probe: 10Mi + 100Mi once = 115343360 -> 419430400 (400Mi) */
  {"exec-probes=1", C_PROBE1, 419430400ULL},
  /* two: 2 x 10Mi + 100Mi = 125829120 -> 429916160 */
  {"exec-probes=2", C_PROBE2, 429916160ULL},
  /* ratio 1.5: ceil(304087040 / 1000) = 304088 kB; 304088 x 0.5 = 152044
   * -> + 152044000 -> 456131040 */
  {"ratio=1.5", C_RATIO15, 456131040ULL},
  /* ratio 2: 304088 x 1.0 = 304088 -> + 304088000 -> 608175040 */
  {"ratio=2", C_RATIO2, 608175040ULL},
  /* ratio 1.1: 1.1 - 1.0 is 0.10000000000000009 in float64;
   * 304088 x that = 30408.8000... -> truncated 30408 -> + 30408000 -> 334495040 */
  {"ratio=1.1", C_RATIO11, 334495040ULL},
  /* arm64 UEFI pflash: + 128Mi = 134217728 -> 438304768 */
  {"arm64", C_ARM64, 438304768ULL},
  /* autoattachGraphicsDevice false: - 32Mi -> 270532608 */
  {"no video", C_NOVIDEO, 270532608ULL},
  /* downward metrics disk: + 1Mi = 1048576 -> 305135616 */
  {"downward-metrics", C_DOWNWARD, 305135616ULL},
  /* KubeVirt's KVM backend: qemu 30Mi, not 50Mi: - 20971520 -> 283115520 */
  {"kvm", C_KVM, 283115520ULL},
  /* 2Gi: ceil(2147483648 / 1000) = 2147484 kB; 2147484000 / 512 = 4194304.69
   * -> 4194304; 301989888 + 4194304 = 306184192 */
  {"memory=2Gi", C_MEM2GI, 306184192ULL},
  /* 1G (decimal): 1000000 kB exactly; 1000000000 / 512 = 1953125;
   * 301989888 + 1953125 = 303943013 */
  {"memory=1G", C_MEM1G, 303943013ULL},
  /* 1 byte: rounds up to 1 kB = 1000 bytes; 1000 / 512 = 1 -> 301989889 */
  {"memory=1", C_MEM1B, 301989889ULL},
  /* no memory: no page tables -> 301989888 */
  {"memory=0", C_MEM0, 301989888ULL},
  /* reservedOverhead.addedOverhead 1Gi: + 1073741824 -> 1377828864 */
  {"added-overhead=1Gi", C_ADDED1GI, 1377828864ULL},
  /* everything at once, 2 vCPUs, ratio 2:
   *   REF 304087040 + 8Mi (2nd vCPU) 8388608 + vfio 1073741824 + downward 1048576
   *   + probes 125829120 + sev 268435456 + tpm 55574528 + dedicated 104857600
   *   + arm64 134217728 = 2076180480 (sum)
   *   ceil(2076180480 / 1000) = 2076181 kB x 1.0 -> + 2076181000 -> 4152361480 */
  {"all terms, ratio 2", C_ALL, 4152361480ULL},
};

static void apply_change(struct l1vh_vmi_shape *s, enum change c)
{
  switch (c) {
  case C_NONE: break;
  case C_VCPUS4: s->vcpus = 4; break;
  case C_VCPUS0: s->vcpus = 0; break;
  case C_VFIO: s->vfio = true; break;
  case C_SEV: s->sev = true; break;
  case C_TPM: s->tpm = true; break;
  case C_DEDICATED: s->dedicated_cpus = true; break;
  case C_PROBE1: s->exec_probes = 1; break;
  case C_PROBE2: s->exec_probes = 2; break;
  case C_RATIO15: s->ratio = "1.5"; break;
  case C_RATIO2: s->ratio = "2"; break;
  case C_RATIO11: s->ratio = "1.1"; break;
  case C_ARM64: s->arch = "arm64"; break;
  case C_NOVIDEO: s->video = false; break;
  case C_DOWNWARD: s->downward_metrics = true; break;
  case C_KVM: s->hypervisor = L1VH_HYPERVISOR_KVM; break;
  case C_MEM2GI: s->memory = 2 * GI; break;
  case C_MEM1G: s->memory = 1000000000ULL; break;
  case C_MEM1B: s->memory = 1; break;
  case C_MEM0: s->memory = 0; break;
  case C_ADDED1GI: s->added_overhead = GI; break;
  case C_ALL:
    s->vcpus = 2;
    s->vfio = s->sev = s->tpm = s->dedicated_cpus = s->downward_metrics = true;
    s->exec_probes = 2;
    s->arch = "arm64";
    s->ratio = "2";
    break;
  }
}

L1VH_TEST(overhead_table)
{
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    struct l1vh_vmi_shape s = ref();
    struct l1vh_overhead o;
    struct l1vh_error err = L1VH_ERROR_INIT;
    uint64_t sum = 0;

    apply_change(&s, rows[i].change);
    if (l1vh_overhead_compute(&s, &o, &err) < 0 || o.total != rows[i].total) {
      printf("# %s: got %llu (%s), expected %llu\n", rows[i].name,
             (unsigned long long) o.total, err.msg ? err.msg : "ok",
             (unsigned long long) rows[i].total);
      l1vh_error_clear(&err);
      return UNIT_FAIL;
    }
    /* The breakdown adds up. */
    for (size_t t = 0; t < o.n_terms; t++)
      sum += o.terms[t].bytes;
    CHECK(sum == o.sum && o.sum + o.ratio_added == o.total);
  }
  return UNIT_PASS;
}

static uint64_t term(const struct l1vh_overhead *o, const char *name)
{
  for (size_t i = 0; i < o->n_terms; i++)
    if (strcmp(o->terms[i].name, name) == 0)
      return o->terms[i].bytes;
  return 0;
}

L1VH_TEST(overhead_breakdown_terms)
{
  struct l1vh_vmi_shape s = ref();
  struct l1vh_overhead o;
  struct l1vh_error err = L1VH_ERROR_INIT;

  s.vcpus = 3;
  s.ratio = "1.5";
  CHECK(l1vh_overhead_compute(&s, &o, &err) == 0);
  CHECK(term(&o, "pagetables") == 2097152);
  CHECK(term(&o, "virt-launcher-monitor") == 25 * MI);
  CHECK(term(&o, "virt-launcher") == 100 * MI);
  CHECK(term(&o, "virtlogd") == 25 * MI);
  CHECK(term(&o, "virtqemud") == 40 * MI);
  CHECK(term(&o, "qemu") == 50 * MI);
  CHECK(term(&o, "vcpus") == 24 * MI);
  CHECK(term(&o, "iothread") == 8 * MI);
  CHECK(term(&o, "video") == 32 * MI);
  CHECK(term(&o, "vfio") == 0); /* absent terms are not listed */
  CHECK(o.n_terms == 9);
  CHECK(strcmp(o.terms[0].name, "pagetables") == 0); /* KubeVirt's order */
  /* REF + 2 more vCPUs = 320864256 -> 320865 kB x 0.5 = 160432.5 -> 160432 kB */
  CHECK(o.sum == REF + 16 * MI && o.ratio_added == 160432000ULL);
  return UNIT_PASS;
}

L1VH_TEST(overhead_ratio_parse)
{
  static const char *const ok[] = {"1", "1.0", "1.5", "2", "1.123", "1000"};
  static const char *const bad[] = {"",    "0.999", "0",   "-1.3", "abc",  "1.fd3ggx", "inf",
                                    "nan", "1e3",   "0x2", " 1.5", "1.5 ", "1001",     "1,5",
                                    "."};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    double r;
    CHECK(l1vh_overhead_ratio_parse(ok[i], &r, &err) == 0 && r >= 1.0);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    double r;
    if (l1vh_overhead_ratio_parse(bad[i], &r, &err) == 0) {
      printf("# ratio \"%s\" accepted\n", bad[i]);
      return UNIT_FAIL;
    }
    CHECK_HAS(err.msg, "ratio");
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

L1VH_TEST(overhead_bad_ratio_fails_compute)
{
  struct l1vh_vmi_shape s = ref();
  struct l1vh_overhead o;
  struct l1vh_error err = L1VH_ERROR_INIT;

  s.ratio = "0.5";
  CHECK(l1vh_overhead_compute(&s, &o, &err) < 0);
  CHECK_HAS(err.msg, "\"0.5\"");
  l1vh_error_clear(&err);
  s.ratio = ""; /* empty: no ratio, as in KubeVirt */
  CHECK(l1vh_overhead_compute(&s, &o, &err) == 0 && o.total == REF);
  return UNIT_PASS;
}

L1VH_TEST(overhead_overflow)
{
  struct l1vh_vmi_shape s = ref();
  struct l1vh_overhead o;
  struct l1vh_error err = L1VH_ERROR_INIT;

  s.memory = UINT64_MAX; /* rounding up to kB overflows */
  CHECK(l1vh_overhead_compute(&s, &o, &err) < 0);
  CHECK_HAS(err.msg, "overflow");
  l1vh_error_clear(&err);
  s = ref();
  s.vcpus = UINT64_MAX;
  CHECK(l1vh_overhead_compute(&s, &o, &err) < 0);
  CHECK_HAS(err.msg, "overflow");
  l1vh_error_clear(&err);
  s = ref();
  s.added_overhead = UINT64_MAX - 100 * MI;
  CHECK(l1vh_overhead_compute(&s, &o, &err) < 0);
  CHECK_HAS(err.msg, "overflow");
  l1vh_error_clear(&err);
  s = ref();
  s.added_overhead = 1ULL << 62; /* fits, but x ratio 1000 does not */
  s.ratio = "1000";
  CHECK(l1vh_overhead_compute(&s, &o, &err) < 0);
  CHECK_HAS(err.msg, "overflow");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

L1VH_TEST(overhead_round_up_kilo)
{
  uint64_t out;
  CHECK(l1vh_round_up_kilo(0, &out) && out == 0);
  CHECK(l1vh_round_up_kilo(1, &out) && out == 1000);
  CHECK(l1vh_round_up_kilo(1000, &out) && out == 1000);
  CHECK(l1vh_round_up_kilo(1073741824ULL, &out) && out == 1073742000ULL);
  CHECK(!l1vh_round_up_kilo(UINT64_MAX, &out));
  return UNIT_PASS;
}
