/* l1vh-hook: the Prometheus text file of counters. */
#define _GNU_SOURCE
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"

static const char *const fallback_labels[L1VH_FALLBACK_COUNT] = {
  "gate_off", "opted_out", "arch", "no_device", "on_error_warn", "other",
};
static const char *const action_labels[] = {"device", "memlock", "domain"};
static const char *const step_labels[] = {
  "read_state", "read_spec", "read_config", "decide", "device", "memlock", "domain", "apply", "other",
};

/* The metric families, in file order. */
static const struct family {
  const char *name, *help, *label;
  const char *const *values; /* NULL: one series without labels */
  size_t n_values;
} families[] = {
  {"l1vh_plans_applied_total", "VM containers whose L1VH plan was applied.", NULL, NULL, 1},
  {"l1vh_actions_applied_total", "Actions of applied L1VH plans, by action.", "action",
   action_labels, L1VH_ARRAY_SIZE(action_labels)},
  {"l1vh_fallbacks_total", "VM containers started without L1VH, by reason.", "reason",
   fallback_labels, L1VH_ARRAY_SIZE(fallback_labels)},
  {"l1vh_errors_total", "l1vh-hook errors, by the step that failed.", "step", step_labels,
   L1VH_ARRAY_SIZE(step_labels)},
};

/* Every series, flattened in file order. */
#define N_SERIES (1 + L1VH_ARRAY_SIZE(action_labels) + L1VH_FALLBACK_COUNT + \
                  L1VH_ARRAY_SIZE(step_labels))
enum { SERIES_PLANS = 0, SERIES_ACTIONS = 1, SERIES_FALLBACKS = SERIES_ACTIONS + L1VH_ARRAY_SIZE(action_labels),
       SERIES_ERRORS = SERIES_FALLBACKS + L1VH_FALLBACK_COUNT };

const char *l1vh_fallback_label(enum l1vh_fallback fallback)
{
  return fallback >= 0 && fallback < L1VH_FALLBACK_COUNT ? fallback_labels[fallback] : "none";
}

enum l1vh_fallback l1vh_fallback_classify(const struct l1vh_plan *plan,
                                          const struct l1vh_config *cfg,
                                          const struct l1vh_spec *spec,
                                          const struct l1vh_facts *facts)
{
  const char *hv = spec ? l1vh_spec_annotation(spec, L1VH_ANN_HYPERVISOR) : NULL;

  /* The same order as l1vh_decide()'s checks. */
  if (plan->apply)
    return L1VH_FALLBACK_NONE;
  if (!cfg->gate)
    return L1VH_FALLBACK_GATE_OFF;
  if (hv && strcmp(hv, "kvm") == 0)
    return L1VH_FALLBACK_OPTED_OUT;
  if (facts && facts->arch && strcmp(facts->arch, "x86_64") != 0)
    return L1VH_FALLBACK_ARCH;
  if (facts && !facts->device_present)
    return L1VH_FALLBACK_NO_DEVICE;
  return L1VH_FALLBACK_OTHER;
}

/* "read state" and "read_state" name the same step. */
static size_t step_index(const char *step)
{
  char norm[32];
  size_t i;

  for (i = 0; step[i] && i < sizeof(norm) - 1; i++)
    norm[i] = step[i] == ' ' ? '_' : step[i];
  norm[i] = '\0';
  for (i = 0; i < L1VH_ARRAY_SIZE(step_labels) - 1; i++)
    if (strcmp(norm, step_labels[i]) == 0)
      return i;
  return L1VH_ARRAY_SIZE(step_labels) - 1; /* "other" */
}

/* "name" or "name{label=\"value\"}" of series i. */
static int series_key(size_t i, char *buf, size_t size)
{
  int n = -1;

  for (size_t f = 0; f < L1VH_ARRAY_SIZE(families); f++) {
    if (i < families[f].n_values) {
      n = families[f].label
              ? snprintf(buf, size, "%s{%s=\"%s\"}", families[f].name, families[f].label,
                         families[f].values[i])
              : snprintf(buf, size, "%s", families[f].name);
      break;
    }
    i -= families[f].n_values;
  }
  return n < 0 || (size_t) n >= size ? -1 : 0;
}

/* Take the counts from our own earlier file.  Lines we did not write are
 * ignored; a count that does not parse restarts at 0, which Prometheus
 * reads as a counter reset. */
static void parse_counts(char *buf, uint64_t *counts)
{
  char *save = NULL;

  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *sp = strrchr(line, ' '), *end, key[96];
    unsigned long long v;

    if (line[0] == '#' || !sp)
      continue;
    *sp = '\0';
    errno = 0;
    v = strtoull(sp + 1, &end, 10);
    if (errno || end == sp + 1 || *end || sp[1] == '-')
      continue;
    for (size_t i = 0; i < N_SERIES; i++)
      if (series_key(i, key, sizeof(key)) == 0 && strcmp(key, line) == 0) {
        counts[i] = v;
        break;
      }
  }
}

static void add_event(const struct l1vh_metrics_event *ev, uint64_t *counts)
{
  if (ev->applied && ev->plan) {
    counts[SERIES_PLANS]++;
    if (ev->plan->device.inject || ev->plan->device.in_spec)
      counts[SERIES_ACTIONS + 0]++;
    if (ev->plan->memlock.set)
      counts[SERIES_ACTIONS + 1]++;
    if (ev->plan->domain.rewrite)
      counts[SERIES_ACTIONS + 2]++;
  }
  if (ev->fallback >= 0 && ev->fallback < L1VH_FALLBACK_COUNT)
    counts[SERIES_FALLBACKS + (size_t) ev->fallback]++;
  if (ev->error_step)
    counts[SERIES_ERRORS + step_index(ev->error_step)]++;
}

static int format_counts(const uint64_t *counts, char **out, size_t *len)
{
  char *buf = NULL;
  size_t size = 0, i = 0;
  FILE *f = open_memstream(&buf, &size);

  if (!f)
    abort();
  for (size_t fam = 0; fam < L1VH_ARRAY_SIZE(families); fam++) {
    fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", families[fam].name, families[fam].help,
            families[fam].name);
    for (size_t v = 0; v < families[fam].n_values; v++, i++) {
      char key[96];
      if (series_key(i, key, sizeof(key)) < 0) {
        fclose(f);
        free(buf);
        return -1;
      }
      fprintf(f, "%s %" PRIu64 "\n", key, counts[i]);
    }
  }
  if (fclose(f) != 0) {
    free(buf);
    return -1;
  }
  *out = buf;
  *len = size;
  return 0;
}

static int read_counts(const char *path, uint64_t *counts, struct l1vh_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;

  if (fd < 0 && errno == ENOENT)
    return 0;
  if (fd < 0)
    return l1vh_error_set(err, errno, "metrics %s: open", path);
  if (fstat(fd, &st) < 0)
    return l1vh_error_set(err, errno, "metrics %s: stat", path);
  if (!S_ISREG(st.st_mode))
    return l1vh_error_setx(err, "metrics %s: not a regular file", path);
  if (l1vh_read_fd_capped(fd, L1VH_METRICS_MAX_BYTES, &buf, &len, err) < 0)
    return l1vh_error_wrap(err, "metrics %s", path);
  parse_counts(buf, counts);
  return 0;
}

static int write_counts(const char *path, const char *tmp, const uint64_t *counts,
                        struct l1vh_error *err)
{
  cleanup_free char *buf = NULL;
  cleanup_close int fd = -1;
  size_t len = 0;

  if (format_counts(counts, &buf, &len) < 0)
    return l1vh_error_setx(err, "metrics %s: format", path);
  /* Under the lock the temp name is ours; one left by a hook that died
   * mid-write is removed first. */
  if (unlink(tmp) < 0 && errno != ENOENT)
    return l1vh_error_set(err, errno, "metrics %s: remove", tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return l1vh_error_set(err, errno, "metrics %s: create", tmp);
  /* node_exporter runs as its own user: the file is world-readable. */
  if (fchmod(fd, 0644) < 0 || l1vh_write_all(fd, buf, len) < 0) {
    l1vh_error_set(err, errno, "metrics %s: write", tmp);
    unlink(tmp);
    return -1;
  }
  if (close(fd) < 0) {
    fd = -1;
    l1vh_error_set(err, errno, "metrics %s: write", tmp);
    unlink(tmp);
    return -1;
  }
  fd = -1;
  if (rename(tmp, path) < 0) {
    l1vh_error_set(err, errno, "metrics %s: rename to %s", tmp, path);
    unlink(tmp);
    return -1;
  }
  return 0;
}

int l1vh_metrics_add(const char *path, const struct l1vh_metrics_event *ev,
                     struct l1vh_error *err)
{
  uint64_t counts[N_SERIES] = {0};
  char lock[4096], tmp[4096];
  cleanup_close int lockfd = -1;
  int n1, n2;

  n1 = snprintf(lock, sizeof(lock), "%s.lock", path);
  n2 = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  if (n1 < 0 || (size_t) n1 >= sizeof(lock) || n2 < 0 || (size_t) n2 >= sizeof(tmp))
    return l1vh_error_setx(err, "metrics %s: path too long", path);
  lockfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lockfd < 0)
    return l1vh_error_set(err, errno, "metrics %s: open", lock);
  while (flock(lockfd, LOCK_EX) < 0)
    if (errno != EINTR)
      return l1vh_error_set(err, errno, "metrics %s: lock", lock);
  /* The lock is released when lockfd closes, after the rename. */
  if (read_counts(path, counts, err) < 0)
    return -1;
  add_event(ev, counts);
  return write_counts(path, tmp, counts, err);
}
