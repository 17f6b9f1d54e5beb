/* l1vh-hook status: the recent decisions on this node, from the records the
 * hook keeps under the state dir (hook/records.h).  Reads only. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd_ops.h"
#include "config.h"
#include "json.h"
#include "records.h"

static void report(void *ctx, const char *msg)
{
  (void) ctx;
  fprintf(stderr, "l1vh-hook: status: skipped %s\n", msg);
}

static void utc(int64_t t, char *buf, size_t size)
{
  time_t tt = (time_t) t;
  struct tm tm;

  if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(buf, size, "%lld", (long long) t);
}

/* What was applied, or why not. */
static void print_what(const struct l1vh_record *r)
{
  const char *sep = "";

  if (strcmp(r->outcome, "applied") != 0) {
    printf("%s%s%s", r->reason, r->reason[0] && r->detail[0] ? "; " : "", r->detail);
    return;
  }
  if (r->device) {
    printf("device %s", r->device_path);
    sep = ", ";
  }
  if (r->memlock) {
    printf("%smemlock %s", sep, r->memlock_value);
    sep = ", ";
  }
  if (r->domain)
    printf("%sdomain %s (%s)", sep, r->domain_type, r->domain_strategy);
}

static void print_human(const char *dir, const struct l1vh_record *recs, size_t n)
{
  size_t counts[3] = {0};

  for (size_t i = 0; i < n; i++) {
    const struct l1vh_record *r = &recs[i];
    char when[32];

    utc(r->time, when, sizeof(when));
    printf("%s %-12.12s %-8s pod %s vm %s: ", when, r->id, r->outcome, r->pod[0] ? r->pod : "-",
           r->vm[0] ? r->vm : "-");
    print_what(r);
    putchar('\n');
    for (size_t k = 0; k < 3; k++)
      if (strcmp(r->outcome, l1vh_outcome_name((enum l1vh_outcome) k)) == 0)
        counts[k]++;
  }
  printf("%zu record%s in %s: %zu applied, %zu fallback, %zu failed\n", n, n == 1 ? "" : "s", dir,
         counts[0], counts[1], counts[2]);
}

static void member(const char *key, const char *value, bool first)
{
  printf("%s\"%s\":", first ? "" : ",", key);
  l1vh_json_fput_string(value, stdout);
}

static void print_json(const char *dir, const struct l1vh_record *recs, size_t n)
{
  fputs("{", stdout);
  member("dir", dir, true);
  fputs(",\"records\":[", stdout);
  for (size_t i = 0; i < n; i++) {
    const struct l1vh_record *r = &recs[i];
    char when[32];

    utc(r->time, when, sizeof(when));
    fputs(i ? ",{" : "{", stdout);
    member("id", r->id, true);
    printf(",\"time\":%lld", (long long) r->time);
    member("utc", when, false);
    member("container", r->container, false);
    member("pod", r->pod, false);
    member("vm", r->vm, false);
    member("outcome", r->outcome, false);
    member("reason", r->reason, false);
    member("detail", r->detail, false);
    printf(",\"device\":{\"applied\":%s", r->device ? "true" : "false");
    member("path", r->device_path, false);
    printf("},\"memlock\":{\"applied\":%s", r->memlock ? "true" : "false");
    member("value", r->memlock_value, false);
    printf("},\"domain\":{\"applied\":%s", r->domain ? "true" : "false");
    member("type", r->domain_type, false);
    member("strategy", r->domain_strategy, false);
    fputs("}}", stdout);
  }
  fputs("]}\n", stdout);
}

int l1vh_cmd_status(const struct l1vh_opts *opts)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_config cfg;
  struct l1vh_record *recs = NULL;
  size_t n = 0;
  int rc = L1VH_EXIT_OK;

  if (l1vh_config_load(l1vh_config_path(opts->config), &cfg, &err) < 0) {
    fprintf(stderr, "l1vh-hook: status: read config: %s\n", l1vh_error_msg(&err));
    rc = L1VH_EXIT_FAIL;
  } else if (l1vh_records_read(cfg.state.dir, &recs, &n, report, NULL, &err) < 0) {
    fprintf(stderr, "l1vh-hook: status: %s\n", l1vh_error_msg(&err));
    rc = L1VH_EXIT_FAIL;
  } else if (opts->json) {
    print_json(cfg.state.dir, recs, n);
  } else {
    print_human(cfg.state.dir, recs, n);
  }
  l1vh_records_free(recs, n);
  l1vh_error_clear(&err);
  l1vh_config_free(&cfg);
  return rc;
}
