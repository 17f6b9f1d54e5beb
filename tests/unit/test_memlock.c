/* RLIMIT_MEMLOCK: when and how much (l1vh_memlock_decide), the dry-run
 * output, and l1vh_memlock_apply on a live child process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions.h"
#include "json.h"
#include "memlock.h"
#include "unit.h"

#define MI (1024ULL * 1024ULL)
#define GI (1024ULL * MI)

/* ---- helpers ---- */

struct ml {
  struct l1vh_spec spec;
  struct l1vh_config cfg;
  struct l1vh_memlock_plan plan;
  struct l1vh_error err;
  int rc;
};

/* Decide for a spec with the given annotations (a JSON object body), the
 * members of its "linux" object and further top-level members, with
 * memlock.when and memlock.size. */
static void ml_run(struct ml *m, enum l1vh_memlock_when when, const char *size,
                   const char *annotations, const char *linux_, const char *extra)
{
  char text[8192];
  int n;

  memset(m, 0, sizeof(*m));
  l1vh_config_defaults(&m->cfg);
  m->cfg.memlock.when = when;
  free(m->cfg.memlock.size);
  m->cfg.memlock.size = strdup(size);
  n = snprintf(text, sizeof(text),
               "{\"root\":{\"path\":\"rootfs\"},\"annotations\":{%s},\"linux\":{%s}%s}",
               annotations, linux_, extra ? extra : "");
  if (n < 0 || (size_t) n >= sizeof(text) || l1vh_spec_parse(text, (size_t) n, &m->spec, &m->err) < 0) {
    printf("# spec: %s\n", l1vh_error_msg(&m->err));
    abort();
  }
  m->rc = l1vh_memlock_decide(&m->spec, &m->cfg, &m->plan, &m->err);
}

static void ml_free(struct ml *m)
{
  l1vh_spec_free(&m->spec);
  l1vh_config_free(&m->cfg);
  l1vh_error_clear(&m->err);
}

#define DEV(p) "{\"path\":\"" p "\",\"type\":\"c\",\"major\":243,\"minor\":0}"
#define DEVICES(list) "\"devices\":[" list "]"
#define VFIO2 DEVICES(DEV("/dev/vfio/vfio") "," DEV("/dev/vfio/12") "," DEV("/dev/vfio/13"))
#define RLIMIT(soft, hard)                                                                 \
  ",\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":1024}," \
  "{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":" soft ",\"hard\":" hard "}]}"
#define MEMLIMIT(n) "\"resources\":{\"memory\":{\"limit\":" n "}}"

/* ---- when ---- */

L1VH_TEST(memlock_never)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_NEVER, "4Mi", "\"l1vh.kubevirt.io/memlock\":\"8Mi\"", VFIO2, NULL);
  CHECK(m.rc == 0 && !m.plan.set);
  CHECK_HAS(m.plan.reason, "never");
  ml_free(&m);
  return UNIT_PASS;
}

L1VH_TEST(memlock_kubevirt_not_needed)
{
  struct ml m;
  /* /dev/vfio/vfio alone is the VFIO container, not a device */
  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi", "\"l1vh.kubevirt.io/realtime\":\"false\"",
         DEVICES(DEV("/dev/vfio/vfio") "," DEV("/dev/kvm")), NULL);
  CHECK(m.rc == 0 && !m.plan.set && !m.plan.conflict);
  CHECK_HAS(m.plan.reason, "not needed");
  ml_free(&m);
  return UNIT_PASS;
}

L1VH_TEST(memlock_kubevirt_vfio)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi", "", VFIO2, NULL);
  CHECK(m.rc == 0 && m.plan.set && !m.plan.unlimited && m.plan.bytes == 4 * MI);
  CHECK(m.plan.vfio_devices == 2);
  CHECK_HAS(m.plan.reason, "2 VFIO devices in the spec");
  CHECK_STR(m.plan.source, "config memlock.size=4Mi");
  CHECK(!m.plan.have_overhead);
  ml_free(&m);
  return UNIT_PASS;
}

L1VH_TEST(memlock_kubevirt_sev_realtime_annotation)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "unlimited", "", DEVICES(DEV("/dev/sev")), NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.unlimited);
  CHECK_HAS(m.plan.reason, "/dev/sev in the spec");
  CHECK_STR(m.plan.source, "config memlock.size=unlimited");
  ml_free(&m);

  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi", "\"l1vh.kubevirt.io/realtime\":\"true\"", "", NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.bytes == 4 * MI);
  CHECK_HAS(m.plan.reason, "annotation l1vh.kubevirt.io/realtime");
  ml_free(&m);

  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi", "\"l1vh.kubevirt.io/sev\":\"true\"", "", NULL);
  CHECK(m.rc == 0 && m.plan.set);
  CHECK_HAS(m.plan.reason, "annotation l1vh.kubevirt.io/sev");
  ml_free(&m);
  return UNIT_PASS;
}

L1VH_TEST(memlock_annotation_wins)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi", "\"l1vh.kubevirt.io/memlock\":\"16Mi\"", "", NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.bytes == 16 * MI);
  CHECK_STR(m.plan.source, "annotation l1vh.kubevirt.io/memlock=16Mi");
  CHECK_HAS(m.plan.reason, "annotation l1vh.kubevirt.io/memlock");
  ml_free(&m);
  /* "true" asks, with the node's size */
  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi", "\"l1vh.kubevirt.io/memlock\":\"true\"", "", NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.bytes == 4 * MI);
  CHECK_STR(m.plan.source, "config memlock.size=4Mi");
  ml_free(&m);
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "4Mi", "\"l1vh.kubevirt.io/memlock\":\"unlimited\"", "", NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.unlimited);
  CHECK_HAS(m.plan.reason, "always");
  ml_free(&m);
  return UNIT_PASS;
}

L1VH_TEST(memlock_always_without_need)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "4Mi", "", "", NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.bytes == 4 * MI);
  ml_free(&m);
  return UNIT_PASS;
}

/* ---- how much: auto ---- */

/* 1Gi guest, 2 VFIO devices (KubeVirt v1.9's (N-1) x base):
 *   overhead: 290Mi reference (test_overhead.c) + 1Gi VFIO = 1377828864
 *   base:     1Gi rounded up to kB = 1073742000
 *   extra:    (2-1) x 1073742000
 *   limit:    1377828864 + 1073742000 + 1073742000 = 3525312864
 *   KVM:      qemu 30Mi, not 50Mi: 1377828864 - 20971520 = 1356857344 */
L1VH_TEST(memlock_auto_guest_memory_vfio)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "auto", "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\"", VFIO2,
         NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.have_overhead);
  CHECK(m.plan.overhead.total == 1377828864ULL);
  CHECK(m.plan.base_memory == 1073742000ULL);
  CHECK(m.plan.vfio_extra == 1073742000ULL);
  CHECK(m.plan.bytes == 3525312864ULL);
  CHECK(m.plan.kvm_overhead == 1356857344ULL);
  CHECK_HAS(m.plan.source, "config memlock.size=auto: guest memory 1Gi");
  CHECK_HAS(m.plan.source, "(N-1)");
  ml_free(&m);
  return UNIT_PASS;
}

/* 1Gi guest, 2 vCPUs, realtime, ratio 1.5:
 *   overhead: 290Mi + 8Mi = 312475648; ceil(/1000) = 312476 kB x 0.5 = 156238
 *             -> + 156238000 = 468713648
 *   limit:    468713648 + 1073742000 = 1542455648 */
L1VH_TEST(memlock_auto_ratio_vcpus)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi",
         "\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/realtime\":\"true\","
         "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\",\"l1vh.kubevirt.io/vcpus\":\"2\","
         "\"l1vh.kubevirt.io/overhead-ratio\":\"1.5\"",
         "", NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.have_overhead);
  CHECK(m.plan.overhead.sum == 312475648ULL && m.plan.overhead.ratio_added == 156238000ULL);
  CHECK(m.plan.bytes == 1542455648ULL);
  CHECK(m.plan.vfio_extra == 0);
  CHECK_STR(m.plan.ratio, "1.5");
  CHECK_HAS(m.plan.source, "annotation l1vh.kubevirt.io/memlock=auto");
  ml_free(&m);
  return UNIT_PASS;
}

/* Every shape annotation reaches its term:
 *   290Mi + tpm 53Mi + dedicated 100Mi + probes 120Mi + downward 1Mi - video 32Mi
 *   + sev 256Mi + added 64Mi = 852Mi = 893386752; base 1073742000 -> 1967128752 */
L1VH_TEST(memlock_auto_shape_annotations)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "auto",
         "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\",\"l1vh.kubevirt.io/tpm\":\"true\","
         "\"l1vh.kubevirt.io/dedicated-cpus\":\"true\",\"l1vh.kubevirt.io/exec-probes\":\"2\","
         "\"l1vh.kubevirt.io/downward-metrics\":\"true\",\"l1vh.kubevirt.io/video\":\"false\","
         "\"l1vh.kubevirt.io/added-overhead\":\"64Mi\"",
         DEVICES(DEV("/dev/sev")), NULL);
  CHECK(m.rc == 0 && m.plan.set);
  CHECK(m.plan.overhead.total == 852 * MI);
  CHECK(m.plan.bytes == 852 * MI + 1073742000ULL);
  ml_free(&m);
  return UNIT_PASS;
}

/* maxGuest is the base; the page tables still come from guest memory. */
L1VH_TEST(memlock_auto_max_guest)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "auto",
         "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\",\"l1vh.kubevirt.io/max-guest-memory\":\"2Gi\"",
         "", NULL);
  CHECK(m.rc == 0 && m.plan.set);
  CHECK(m.plan.overhead.total == 304087040ULL); /* 290Mi: from 1Gi */
  CHECK(m.plan.base_memory == 2147484000ULL);
  CHECK(m.plan.bytes == 304087040ULL + 2147484000ULL);
  CHECK_HAS(m.plan.source, "max guest memory 2Gi");
  ml_free(&m);
  return UNIT_PASS;
}

L1VH_TEST(memlock_auto_fallbacks)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "auto", "", MEMLIMIT("2147483648"), NULL);
  CHECK(m.rc == 0 && m.plan.set && !m.plan.unlimited && m.plan.bytes == 2 * GI);
  CHECK_HAS(m.plan.source, "memory limit");
  CHECK(!m.plan.have_overhead);
  ml_free(&m);
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "auto", "", "", NULL);
  CHECK(m.rc == 0 && m.plan.set && m.plan.unlimited);
  CHECK_HAS(m.plan.source, "auto: unlimited");
  ml_free(&m);
  return UNIT_PASS;
}

/* ---- malformed annotations: one line naming the annotation ---- */

L1VH_TEST(memlock_malformed_annotations)
{
  static const struct {
    const char *ann;
    const char *name;
  } cases[] = {
    {"\"l1vh.kubevirt.io/memlock\":\"lots\"", "l1vh.kubevirt.io/memlock"},
    {"\"l1vh.kubevirt.io/memlock\":\"-4Mi\"", "l1vh.kubevirt.io/memlock"},
    {"\"l1vh.kubevirt.io/memlock\":\"99999999999999999999Ki\"", "l1vh.kubevirt.io/memlock"},
    {"\"l1vh.kubevirt.io/realtime\":\"yes\"", "l1vh.kubevirt.io/realtime"},
    {"\"l1vh.kubevirt.io/sev\":\"1\"", "l1vh.kubevirt.io/sev"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"1Gx\"",
     "l1vh.kubevirt.io/guest-memory"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"1Gi\","
     "\"l1vh.kubevirt.io/vcpus\":\"many\"",
     "l1vh.kubevirt.io/vcpus"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"1Gi\","
     "\"l1vh.kubevirt.io/vcpus\":\"99999999999999999999999\"",
     "l1vh.kubevirt.io/vcpus"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"1Gi\","
     "\"l1vh.kubevirt.io/exec-probes\":\"3\"",
     "l1vh.kubevirt.io/exec-probes"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"1Gi\","
     "\"l1vh.kubevirt.io/tpm\":\"on\"",
     "l1vh.kubevirt.io/tpm"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"1Gi\","
     "\"l1vh.kubevirt.io/added-overhead\":\"-1\"",
     "l1vh.kubevirt.io/added-overhead"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"1Gi\","
     "\"l1vh.kubevirt.io/max-guest-memory\":\"x\"",
     "l1vh.kubevirt.io/max-guest-memory"},
    {"\"l1vh.kubevirt.io/memlock\":\"auto\",\"l1vh.kubevirt.io/guest-memory\":\"17179869180Gi\"",
     "l1vh.kubevirt.io/guest-memory"},
    {"\"l1vh.kubevirt.io/memlock\":\"bad\\nline\"", "l1vh.kubevirt.io/memlock"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct ml m;
    ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "4Mi", cases[i].ann, "", NULL);
    if (m.rc >= 0 || !m.err.msg || !strstr(m.err.msg, cases[i].name) || strchr(m.err.msg, '\n') ||
        m.plan.set) {
      printf("# %s: rc %d, \"%s\"\n", cases[i].ann, m.rc, l1vh_error_msg(&m.err));
      ml_free(&m);
      return UNIT_FAIL;
    }
    ml_free(&m);
  }
  return UNIT_PASS;
}

/* The overhead ratio's annotation is named; so is the guest memory when the estimate overflows. */
L1VH_TEST(memlock_malformed_ratio)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "auto",
         "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\",\"l1vh.kubevirt.io/overhead-ratio\":\"0.5\"",
         "", NULL);
  CHECK(m.rc < 0);
  CHECK_HAS(m.err.msg, "annotation l1vh.kubevirt.io/overhead-ratio: overhead ratio \"0.5\"");
  ml_free(&m);
  /* overflow inside the estimate names the guest memory */
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "auto",
         "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\",\"l1vh.kubevirt.io/added-overhead\":\"15Ei\","
         "\"l1vh.kubevirt.io/overhead-ratio\":\"2\"",
         "", NULL);
  CHECK(m.rc < 0);
  CHECK_HAS(m.err.msg, "annotation l1vh.kubevirt.io/guest-memory=1Gi");
  CHECK_HAS(m.err.msg, "overflow");
  ml_free(&m);
  return UNIT_PASS;
}

/* ---- conflict with process.rlimits ---- */

L1VH_TEST(memlock_conflict)
{
  struct ml m;
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "4Mi", "", "", RLIMIT("65536", "65536"));
  CHECK(m.rc == 0 && m.plan.set && m.plan.conflict);
  CHECK(m.plan.spec_soft == 65536 && m.plan.spec_hard == 65536);
  CHECK_HAS(m.plan.reason, "conflict");
  CHECK_HAS(m.plan.reason, "process.rlimits");
  CHECK_HAS(m.plan.reason, "runc");
  ml_free(&m);
  /* the same value (the shim wrote it): no conflict */
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "4Mi", "", "", RLIMIT("4194304", "4194304"));
  CHECK(m.rc == 0 && m.plan.set && !m.plan.conflict);
  CHECK_HAS(m.plan.reason, "same");
  ml_free(&m);
  /* unlimited in the spec is 2^64-1 */
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "unlimited", "", "",
         RLIMIT("18446744073709551615", "18446744073709551615"));
  CHECK(m.rc == 0 && m.plan.set && !m.plan.conflict);
  ml_free(&m);
  /* no memlock, no conflict */
  ml_run(&m, L1VH_MEMLOCK_NEVER, "4Mi", "", "", RLIMIT("65536", "65536"));
  CHECK(m.rc == 0 && !m.plan.set && !m.plan.conflict);
  ml_free(&m);
  return UNIT_PASS;
}

/* ---- dry-run output ---- */

static char *capture(const struct l1vh_memlock_plan *plan, bool json)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    abort();
  if (json) {
    fputc('{', f);
    l1vh_memlock_print_json(plan, f);
    fputc('}', f);
  } else {
    l1vh_memlock_print(plan, f);
  }
  fclose(f);
  return buf;
}

static const struct l1vh_json *get(const struct l1vh_json *n, const char *path)
{
  char key[64];
  const char *dot;
  while ((dot = strchr(path, '.'))) {
    snprintf(key, sizeof(key), "%.*s", (int) (dot - path), path);
    n = l1vh_json_member(n, key);
    path = dot + 1;
  }
  return l1vh_json_member(n, path);
}

L1VH_TEST(memlock_print_json)
{
  struct ml m;
  struct l1vh_json_doc *doc = NULL;
  const struct l1vh_json *root;
  char *out;
  int64_t i;
  bool b;

  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "auto", "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\"", VFIO2,
         RLIMIT("65536", "65536"));
  CHECK(m.rc == 0);
  out = capture(&m.plan, true);
  CHECK(l1vh_json_parse(out, strlen(out), &doc, &m.err) == 0);
  root = l1vh_json_root(doc);
  CHECK(l1vh_json_len(root) == 1); /* exactly one member */
  CHECK(l1vh_json_bool(get(root, "memlock.set"), &b) && b);
  CHECK(l1vh_json_int64(get(root, "memlock.bytes"), &i) && i == 3525312864LL);
  CHECK_HAS(l1vh_json_string(get(root, "memlock.source")), "guest memory 1Gi");
  CHECK(l1vh_json_bool(get(root, "memlock.conflict"), &b) && b);
  CHECK_HAS(l1vh_json_string(get(root, "memlock.reason")), "conflict");
  CHECK(l1vh_json_int64(get(root, "memlock.specHard"), &i) && i == 65536);
  CHECK(l1vh_json_int64(get(root, "memlock.overhead.terms.vfio"), &i) && i == 1073741824LL);
  CHECK(l1vh_json_int64(get(root, "memlock.overhead.terms.qemu"), &i) && i == 52428800LL);
  CHECK(l1vh_json_int64(get(root, "memlock.overhead.total"), &i) && i == 1377828864LL);
  CHECK(l1vh_json_int64(get(root, "memlock.overhead.kvmTotal"), &i) && i == 1356857344LL);
  CHECK(l1vh_json_int64(get(root, "memlock.overhead.vfioDevices"), &i) && i == 2);
  CHECK_STR(l1vh_json_string(get(root, "memlock.overhead.ratio")), "1");
  l1vh_json_doc_free(doc);
  doc = NULL;
  free(out);
  ml_free(&m);

  /* unlimited and not set */
  ml_run(&m, L1VH_MEMLOCK_ALWAYS, "unlimited", "", "", NULL);
  out = capture(&m.plan, true);
  CHECK(l1vh_json_parse(out, strlen(out), &doc, &m.err) == 0);
  CHECK_STR(l1vh_json_string(get(l1vh_json_root(doc), "memlock.bytes")), "unlimited");
  CHECK(!get(l1vh_json_root(doc), "memlock.overhead"));
  l1vh_json_doc_free(doc);
  doc = NULL;
  free(out);
  ml_free(&m);
  ml_run(&m, L1VH_MEMLOCK_NEVER, "4Mi", "", "", NULL);
  out = capture(&m.plan, true);
  CHECK(l1vh_json_parse(out, strlen(out), &doc, &m.err) == 0);
  CHECK(l1vh_json_bool(get(l1vh_json_root(doc), "memlock.set"), &b) && !b);
  CHECK(l1vh_json_int64(get(l1vh_json_root(doc), "memlock.bytes"), &i) && i == 0);
  l1vh_json_doc_free(doc);
  free(out);
  ml_free(&m);
  return UNIT_PASS;
}

L1VH_TEST(memlock_print_human)
{
  struct ml m;
  char *out;

  ml_run(&m, L1VH_MEMLOCK_KUBEVIRT, "auto",
         "\"l1vh.kubevirt.io/guest-memory\":\"1Gi\",\"l1vh.kubevirt.io/overhead-ratio\":\"1.5\"",
         VFIO2, NULL);
  CHECK(m.rc == 0);
  out = capture(&m.plan, false);
  CHECK_HAS(out, "  memlock: RLIMIT_MEMLOCK soft=hard=");
  CHECK_HAS(out, "    source: config memlock.size=auto");
  CHECK_HAS(out, "    reason: KubeVirt would lock memory: 2 VFIO devices");
  CHECK_HAS(out, "pagetables");
  CHECK_HAS(out, "qemu");
  CHECK_HAS(out, "x ratio 1.5");
  CHECK_HAS(out, "(2-1) VFIO x base");
  CHECK_HAS(out, "qemu 30Mi, not 50Mi");
  CHECK_HAS(out, "additionalGuestMemoryOverheadRatio");
  free(out);
  ml_free(&m);
  return UNIT_PASS;
}

/* ---- apply: a live child stands in for the container's init ---- */

struct child {
  pid_t pid;
  int release; /* write end: closing it lets the child exit */
};

/* A child that (optionally) lowers its own hard limit, then waits. */
static int child_start(struct child *c, rlim_t hard)
{
  int ready[2], hold[2];
  char x;

  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
    return -1;
  c->pid = fork();
  if (c->pid < 0)
    return -1;
  if (c->pid == 0) {
    struct rlimit rl = {hard, hard};
    close(ready[0]);
    close(hold[1]);
    if (hard && setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
      _exit(1);
    if (write(ready[1], "r", 1) != 1)
      _exit(1);
    while (read(hold[0], &x, 1) > 0) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  c->release = hold[1];
  if (read(ready[0], &x, 1) != 1) {
    close(ready[0]);
    return -1;
  }
  close(ready[0]);
  return 0;
}

static void child_stop(struct child *c)
{
  int status;
  close(c->release);
  waitpid(c->pid, &status, 0);
}

/* "Max locked memory  SOFT  HARD  bytes" of /proc/PID/limits. */
static int proc_memlock(pid_t pid, char *soft, char *hard, size_t size)
{
  char path[64], line[256];
  FILE *f;
  int found = -1;

  snprintf(path, sizeof(path), "/proc/%d/limits", (int) pid);
  f = fopen(path, "re");
  if (!f)
    return -1;
  while (fgets(line, sizeof(line), f)) {
    if (strncmp(line, "Max locked memory", 17) == 0) {
      char s[32], h[32];
      if (sscanf(line + 17, "%31s %31s", s, h) == 2) {
        snprintf(soft, size, "%s", s);
        snprintf(hard, size, "%s", h);
        found = 0;
      }
    }
  }
  fclose(f);
  return found;
}

L1VH_TEST(memlock_apply_sets_soft_and_hard)
{
  struct child c;
  struct rlimit own;
  struct l1vh_memlock_plan plan;
  struct l1vh_target t = {.id = "test"};
  struct l1vh_error err = L1VH_ERROR_INIT;
  char soft[32], hard[32];
  uint64_t want = 4 * MI;

  CHECK(getrlimit(RLIMIT_MEMLOCK, &own) == 0);
  if (own.rlim_max != RLIM_INFINITY && own.rlim_max < want)
    want = own.rlim_max; /* at or below what this machine lets us set */
  want -= want % 4096 ? want % 4096 : 4096; /* differ from both the default and the hard limit */
  memset(&plan, 0, sizeof(plan));
  plan.set = true;
  plan.bytes = want;
  CHECK(child_start(&c, 0) == 0);
  t.pid = c.pid;
  if (l1vh_memlock_apply(&t, &plan, &err) < 0) {
    printf("# %s\n", l1vh_error_msg(&err));
    child_stop(&c);
    return UNIT_FAIL;
  }
  CHECK(proc_memlock(c.pid, soft, hard, sizeof(soft)) == 0);
  child_stop(&c);
  {
    char w[32];
    snprintf(w, sizeof(w), "%llu", (unsigned long long) want);
    CHECK_STR(soft, w);
    CHECK_STR(hard, w);
  }
  /* not set: nothing happens, even with no pid */
  plan.set = false;
  t.pid = 0;
  CHECK(l1vh_memlock_apply(&t, &plan, &err) == 0);
  return UNIT_PASS;
}

/* pid 0 would be prlimit on the hook itself: refused. */
L1VH_TEST(memlock_apply_refuses_pid_0)
{
  struct l1vh_memlock_plan plan;
  struct l1vh_target t = {.id = "test", .pid = 0};
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct rlimit before, after;

  memset(&plan, 0, sizeof(plan));
  plan.set = true;
  plan.bytes = 4096;
  CHECK(getrlimit(RLIMIT_MEMLOCK, &before) == 0);
  CHECK(l1vh_memlock_apply(&t, &plan, &err) < 0);
  CHECK_HAS(err.msg, "no container pid");
  CHECK(getrlimit(RLIMIT_MEMLOCK, &after) == 0);
  CHECK(before.rlim_cur == after.rlim_cur && before.rlim_max == after.rlim_max);
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

/* Raising past the hard limit without CAP_SYS_RESOURCE: EPERM, one line
 * naming the value and the cause.  The "hook" is a child that drops
 * CAP_SYS_RESOURCE, so the test holds whatever the runner's privileges. */
L1VH_TEST(memlock_apply_eperm_past_hard_limit)
{
  struct child c;
  int msg[2], status;
  char buf[512] = "";
  ssize_t n;
  pid_t hook;

  CHECK(child_start(&c, 1 * MI) == 0); /* its hard limit: 1 MiB */
  CHECK(pipe2(msg, O_CLOEXEC) == 0);
  hook = fork();
  CHECK(hook >= 0);
  if (hook == 0) {
    struct l1vh_memlock_plan plan;
    struct l1vh_target t = {.id = "ctr1", .pid = c.pid};
    struct l1vh_error err = L1VH_ERROR_INIT;
    cap_t caps = cap_get_proc();
    cap_value_t v = CAP_SYS_RESOURCE;

    close(msg[0]);
    if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 ||
        cap_set_proc(caps) < 0)
      _exit(2);
    cap_free(caps);
    memset(&plan, 0, sizeof(plan));
    plan.set = true;
    plan.bytes = 2 * MI;
    if (l1vh_memlock_apply(&t, &plan, &err) == 0)
      _exit(3);
    if (write(msg[1], l1vh_error_msg(&err), strlen(l1vh_error_msg(&err))) < 0)
      _exit(4);
    _exit(err.code == EPERM ? 0 : 5);
  }
  close(msg[1]);
  n = read(msg[0], buf, sizeof(buf) - 1);
  close(msg[0]);
  waitpid(hook, &status, 0);
  child_stop(&c);
  buf[n > 0 ? n : 0] = '\0';
  printf("# %s\n", buf);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_HAS(buf, "RLIMIT_MEMLOCK of pid ");
  CHECK_HAS(buf, "2097152");                  /* the value */
  CHECK_HAS(buf, "above 1048576");            /* the hard limit */
  CHECK_HAS(buf, "CAP_SYS_RESOURCE");         /* the cause */
  CHECK_HAS(buf, "Operation not permitted");
  CHECK(!strchr(buf, '\n'));
  return UNIT_PASS;
}
