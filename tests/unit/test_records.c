/* The decision records (hook/records.c) and the metrics file
 * (hook/metrics.c): bounds, ids, round trips, and counts that survive
 * concurrent writers. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "records.h"
#include "unit.h"

/* A fresh directory under $TMPDIR; the caller removes it with rm_tree. */
static char *temp_dir(void)
{
  const char *tmp = getenv("TMPDIR");
  char *path = NULL;

  if (asprintf(&path, "%s/l1vh-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
    abort();
  if (!mkdtemp(path)) {
    free(path);
    return NULL;
  }
  return path;
}

static void rm_tree(char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *de;

  while (d && (de = readdir(d))) {
    char *p = NULL;
    if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
      continue;
    if (asprintf(&p, "%s/%s", dir, de->d_name) >= 0)
      unlink(p);
    free(p);
  }
  if (d)
    closedir(d);
  rmdir(dir);
  free(dir);
}

static size_t count_files(const char *dir, const char *suffix)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  size_t n = 0, sl = strlen(suffix);

  while (d && (de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (de->d_name[0] != '.' && l > sl && strcmp(de->d_name + l - sl, suffix) == 0)
      n++;
  }
  if (d)
    closedir(d);
  return n;
}

static void applied_plan(struct l1vh_plan *plan)
{
  memset(plan, 0, sizeof(*plan));
  plan->match = plan->apply = true;
  plan->container = "compute";
  plan->pod = "virt-launcher-vm1-abcde";
  plan->vm = "vm1";
  snprintf(plan->reason, sizeof(plan->reason), "L1VH applies");
  plan->device.inject = true;
  plan->device.path = "/dev/mshv";
  plan->memlock.set = true;
  plan->memlock.bytes = 4194304;
  plan->domain.rewrite = true;
  plan->domain.type = "hyperv";
  plan->domain.strategy = L1VH_DOMAIN_XML;
}

L1VH_TEST(record_round_trip)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *dir = temp_dir(), *sub = NULL;
  struct l1vh_state st = {.id = "c0ffee01"};
  struct l1vh_plan plan;
  struct l1vh_record *recs = NULL;
  size_t n = 0;
  struct stat sb;

  CHECK(dir);
  /* The state dir is created, private. */
  CHECK(asprintf(&sub, "%s/state", dir) > 0);
  applied_plan(&plan);
  CHECK(l1vh_record_write(sub, &st, &plan, L1VH_OUTCOME_APPLIED, NULL, &err) == 0);
  CHECK(stat(sub, &sb) == 0 && (sb.st_mode & 0777) == 0700);
  CHECK(l1vh_records_read(sub, &recs, &n, NULL, NULL, &err) == 0);
  CHECK(n == 1);
  CHECK_STR(recs[0].id, "c0ffee01");
  CHECK_STR(recs[0].outcome, "applied");
  CHECK_STR(recs[0].pod, "virt-launcher-vm1-abcde");
  CHECK(recs[0].device && recs[0].memlock && recs[0].domain);
  CHECK_STR(recs[0].memlock_value, "4194304");
  CHECK_STR(recs[0].domain_strategy, "xml");
  l1vh_records_free(recs, n);

  /* Rewriting replaces; removing removes; removing again is fine. */
  CHECK(l1vh_record_write(sub, &st, &plan, L1VH_OUTCOME_FALLBACK, NULL, &err) == 0);
  CHECK(l1vh_records_read(sub, &recs, &n, NULL, NULL, &err) == 0);
  CHECK(n == 1);
  CHECK_STR(recs[0].outcome, "fallback");
  CHECK(!recs[0].device); /* nothing counts as applied in a fallback */
  l1vh_records_free(recs, n);
  CHECK(l1vh_record_remove(sub, "c0ffee01", &err) == 0);
  CHECK(l1vh_record_remove(sub, "c0ffee01", &err) == 0);
  CHECK(count_files(sub, ".json") == 0);

  /* A failed start's record outlives the container's poststop. */
  CHECK(l1vh_record_write(sub, &st, &plan, L1VH_OUTCOME_FAILED, "apply: boom \"quoted\"\n", &err) == 0);
  CHECK(l1vh_record_remove(sub, "c0ffee01", &err) == 0);
  CHECK(l1vh_records_read(sub, &recs, &n, NULL, NULL, &err) == 0);
  CHECK(n == 1);
  CHECK_STR(recs[0].id, "c0ffee01");
  CHECK_STR(recs[0].outcome, "failed");
  CHECK_STR(recs[0].detail, "apply: boom \"quoted\"?");
  l1vh_records_free(recs, n);
  rm_tree(sub);
  rmdir(dir);
  free(dir);
  return UNIT_PASS;
}

L1VH_TEST(record_refuses_bad_ids_and_foreign_dirs)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *dir = temp_dir();
  struct l1vh_plan plan;
  char long_id[200];
  const char *bad[] = {"", "../etc", "a/b", ".hidden", long_id, "sp ace"};

  CHECK(dir);
  applied_plan(&plan);
  memset(long_id, 'a', sizeof(long_id) - 1);
  long_id[sizeof(long_id) - 1] = '\0';
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct l1vh_state st = {.id = (char *) bad[i]};
    CHECK(l1vh_record_write(dir, &st, &plan, L1VH_OUTCOME_APPLIED, NULL, &err) < 0);
    CHECK_HAS(err.msg, "cannot name a record file");
    CHECK(l1vh_record_remove(dir, bad[i], &err) < 0);
    l1vh_error_clear(&err);
  }
  CHECK(count_files(dir, "") == 0);

  /* A state dir others may write into is refused. */
  CHECK(chmod(dir, 0777) == 0);
  struct l1vh_state st = {.id = "ok-id"};
  CHECK(l1vh_record_write(dir, &st, &plan, L1VH_OUTCOME_APPLIED, NULL, &err) < 0);
  CHECK_HAS(err.msg, "not writable by others");
  l1vh_error_clear(&err);
  rm_tree(dir);
  return UNIT_PASS;
}

L1VH_TEST(record_size_is_bounded)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *dir = temp_dir(), *big = malloc(100000), *path = NULL;
  struct l1vh_state st = {.id = "big"};
  struct l1vh_plan plan;
  struct l1vh_record *recs = NULL;
  size_t n = 0;
  struct stat sb;

  CHECK(dir && big);
  /* Quotes double when escaped: the worst case for the size. */
  memset(big, '"', 99999);
  big[99999] = '\0';
  applied_plan(&plan);
  plan.pod = plan.vm = plan.container = big;
  memset(plan.reason, '\\', sizeof(plan.reason) - 1);
  memset(plan.memlock.reason, '"', sizeof(plan.memlock.reason) - 1);
  CHECK(l1vh_record_write(dir, &st, &plan, L1VH_OUTCOME_FALLBACK, big, &err) == 0);
  CHECK(asprintf(&path, "%s/big.json", dir) > 0);
  CHECK(stat(path, &sb) == 0);
  CHECK(sb.st_size <= L1VH_RECORD_MAX_BYTES);
  CHECK((sb.st_mode & 0777) == 0600);
  CHECK(l1vh_records_read(dir, &recs, &n, NULL, NULL, &err) == 0);
  CHECK(n == 1);
  CHECK(strlen(recs[0].pod) == 253);
  l1vh_records_free(recs, n);
  free(path);
  free(big);
  rm_tree(dir);
  return UNIT_PASS;
}

L1VH_TEST(records_are_bounded_in_number_oldest_go)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *dir = temp_dir(), *path = NULL;
  struct l1vh_plan plan;
  char id[32];

  CHECK(dir);
  applied_plan(&plan);
  for (int i = 0; i < L1VH_RECORDS_MAX + 20; i++) {
    struct l1vh_state st = {.id = id};
    snprintf(id, sizeof(id), "c%04d", i);
    CHECK(l1vh_record_write(dir, &st, &plan, L1VH_OUTCOME_APPLIED, NULL, &err) == 0);
    /* Distinct mtimes without sleeping: set them. */
    struct timespec ts[2] = {{.tv_sec = 1000000 + i}, {.tv_sec = 1000000 + i}};
    char name[48];
    snprintf(name, sizeof(name), "%s.json", id);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0 && utimensat(dfd, name, ts, 0) == 0);
    close(dfd);
  }
  CHECK(count_files(dir, ".json") == L1VH_RECORDS_MAX);

  /* A failed start's record expires after L1VH_FAILED_RECORD_TTL. */
  {
    struct l1vh_state st = {.id = "gone"};
    struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(l1vh_record_write(dir, &st, &plan, L1VH_OUTCOME_FAILED, "x", &err) == 0);
    CHECK(dfd >= 0 && utimensat(dfd, "failed@gone.json", old, 0) == 0);
    st.id = "next";
    CHECK(l1vh_record_write(dir, &st, &plan, L1VH_OUTCOME_APPLIED, NULL, &err) == 0);
    CHECK(faccessat(dfd, "failed@gone.json", F_OK, 0) < 0 && errno == ENOENT);
    close(dfd);
  }
  CHECK(asprintf(&path, "%s/c0000.json", dir) > 0);
  CHECK(access(path, F_OK) < 0 && errno == ENOENT);
  free(path);
  CHECK(asprintf(&path, "%s/c%04d.json", dir, L1VH_RECORDS_MAX + 19) > 0);
  CHECK(access(path, F_OK) == 0);
  free(path);
  rm_tree(dir);
  return UNIT_PASS;
}

/* ---- metrics ---- */

static unsigned long long metric(const char *path, const char *series)
{
  FILE *f = fopen(path, "re");
  char line[256];
  unsigned long long v = ~0ULL;
  size_t n = strlen(series);

  while (f && fgets(line, sizeof(line), f))
    if (strncmp(line, series, n) == 0 && line[n] == ' ')
      v = strtoull(line + n + 1, NULL, 10);
  if (f)
    fclose(f);
  return v;
}

L1VH_TEST(metrics_count_and_label)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *dir = temp_dir(), *path = NULL;
  struct l1vh_plan plan;
  struct l1vh_metrics_event applied = {.plan = &plan, .applied = true, .fallback = L1VH_FALLBACK_NONE};
  struct l1vh_metrics_event gate = {.fallback = L1VH_FALLBACK_GATE_OFF};
  struct l1vh_metrics_event warn = {.fallback = L1VH_FALLBACK_ON_ERROR_WARN, .error_step = "apply"};
  struct l1vh_metrics_event odd = {.fallback = L1VH_FALLBACK_NONE, .error_step = "read state"};
  struct l1vh_metrics_event junk = {.fallback = L1VH_FALLBACK_NONE, .error_step = "x\"} 1\n"};
  struct stat sb;

  CHECK(dir);
  CHECK(asprintf(&path, "%s/l1vh.prom", dir) > 0);
  applied_plan(&plan);
  plan.memlock.set = false;
  CHECK(l1vh_metrics_add(path, &applied, &err) == 0);
  CHECK(l1vh_metrics_add(path, &applied, &err) == 0);
  CHECK(l1vh_metrics_add(path, &gate, &err) == 0);
  CHECK(l1vh_metrics_add(path, &warn, &err) == 0);
  CHECK(l1vh_metrics_add(path, &odd, &err) == 0);
  CHECK(l1vh_metrics_add(path, &junk, &err) == 0);
  CHECK(metric(path, "l1vh_plans_applied_total") == 2);
  CHECK(metric(path, "l1vh_actions_applied_total{action=\"device\"}") == 2);
  CHECK(metric(path, "l1vh_actions_applied_total{action=\"memlock\"}") == 0);
  CHECK(metric(path, "l1vh_actions_applied_total{action=\"domain\"}") == 2);
  CHECK(metric(path, "l1vh_fallbacks_total{reason=\"gate_off\"}") == 1);
  CHECK(metric(path, "l1vh_fallbacks_total{reason=\"on_error_warn\"}") == 1);
  CHECK(metric(path, "l1vh_errors_total{step=\"apply\"}") == 1);
  CHECK(metric(path, "l1vh_errors_total{step=\"read_state\"}") == 1);
  /* Free text never becomes a label. */
  CHECK(metric(path, "l1vh_errors_total{step=\"other\"}") == 1);
  CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644);
  free(path);
  rm_tree(dir);
  return UNIT_PASS;
}

L1VH_TEST(metrics_survive_a_garbled_file)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *dir = temp_dir(), *path = NULL;
  struct l1vh_metrics_event gate = {.fallback = L1VH_FALLBACK_GATE_OFF};
  FILE *f;

  CHECK(dir);
  CHECK(asprintf(&path, "%s/l1vh.prom", dir) > 0);
  f = fopen(path, "w");
  CHECK(f);
  fputs("garbage\nl1vh_fallbacks_total{reason=\"gate_off\"} 41\n"
        "l1vh_plans_applied_total -5\nl1vh_errors_total{step=\"apply\"} 1x\n", f);
  fclose(f);
  CHECK(l1vh_metrics_add(path, &gate, &err) == 0);
  CHECK(metric(path, "l1vh_fallbacks_total{reason=\"gate_off\"}") == 42);
  CHECK(metric(path, "l1vh_plans_applied_total") == 0);
  CHECK(metric(path, "l1vh_errors_total{step=\"apply\"}") == 0);
  free(path);
  rm_tree(dir);
  return UNIT_PASS;
}

/* Many processes add at once: the flock makes every count land. */
L1VH_TEST(metrics_lose_no_count_under_concurrency)
{
  enum { PROCS = 16, EACH = 40 };
  char *dir = temp_dir(), *path = NULL;
  pid_t pids[PROCS];

  CHECK(dir);
  CHECK(asprintf(&path, "%s/l1vh.prom", dir) > 0);
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    CHECK(pids[p] >= 0);
    if (pids[p] == 0) {
      struct l1vh_metrics_event ev = {.fallback = L1VH_FALLBACK_NO_DEVICE};
      struct l1vh_error err = L1VH_ERROR_INIT;
      for (int i = 0; i < EACH; i++)
        if (l1vh_metrics_add(path, &ev, &err) < 0)
          _exit(1);
      _exit(0);
    }
  }
  for (int p = 0; p < PROCS; p++) {
    int status;
    CHECK(waitpid(pids[p], &status, 0) == pids[p]);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CHECK(metric(path, "l1vh_fallbacks_total{reason=\"no_device\"}") == PROCS * EACH);
  free(path);
  rm_tree(dir);
  return UNIT_PASS;
}

L1VH_TEST(fallback_labels_follow_the_decision)
{
  struct l1vh_config cfg;
  struct l1vh_spec spec = {0};
  struct l1vh_facts facts = {.arch = "x86_64", .device_present = true};
  struct l1vh_plan plan;
  struct l1vh_kv ann[] = {{L1VH_ANN_HYPERVISOR, "kvm"}};

  l1vh_config_defaults(&cfg);
  memset(&plan, 0, sizeof(plan));
  plan.match = true;
  CHECK(l1vh_fallback_classify(&plan, &cfg, &spec, &facts) == L1VH_FALLBACK_GATE_OFF);
  cfg.gate = true;
  spec.annotations = ann;
  spec.n_annotations = 1;
  CHECK(l1vh_fallback_classify(&plan, &cfg, &spec, &facts) == L1VH_FALLBACK_OPTED_OUT);
  spec.n_annotations = 0;
  facts.arch = "aarch64";
  CHECK(l1vh_fallback_classify(&plan, &cfg, &spec, &facts) == L1VH_FALLBACK_ARCH);
  facts.arch = "x86_64";
  facts.device_present = false;
  CHECK(l1vh_fallback_classify(&plan, &cfg, &spec, &facts) == L1VH_FALLBACK_NO_DEVICE);
  CHECK_STR(l1vh_fallback_label(L1VH_FALLBACK_NO_DEVICE), "no_device");
  plan.apply = true;
  CHECK(l1vh_fallback_classify(&plan, &cfg, &spec, &facts) == L1VH_FALLBACK_NONE);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}
