/* l1vh-hook prestart: decide for the container on stdin and apply the plan
 * to it before its process starts.  Nothing is half-applied: an action that
 * fails undoes the earlier ones, and the start fails (onError "fail") or
 * goes on without l1vh (onError "warn"). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "cleanup.h"
#include "cmd.h"
#include "log.h"
#include "metrics.h"
#include "plan.h"
#include "records.h"

struct run {
  struct l1vh_state state;
  struct l1vh_spec spec;
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  char root[PATH_MAX];
};

static void run_free(struct run *r)
{
  l1vh_state_free(&r->state);
  l1vh_spec_free(&r->spec);
  l1vh_config_free(&r->cfg);
}

/* root.path may be relative to the bundle (OCI runtime spec). */
static int root_path(struct run *r, struct l1vh_error *err)
{
  const char *p = r->spec.root_path;
  int n;

  if (!p || !*p)
    return l1vh_error_setx(err, "config.json has no root.path");
  n = p[0] == '/' ? snprintf(r->root, sizeof(r->root), "%s", p)
                  : snprintf(r->root, sizeof(r->root), "%s/%s", r->state.bundle, p);
  if (n < 0 || (size_t) n >= sizeof(r->root))
    return l1vh_error_setx(err, "root.path too long");
  return 0;
}

static int apply(struct run *r, struct l1vh_error *err)
{
  const struct l1vh_plan *plan = &r->plan;
  struct l1vh_target t = {
    .id = r->state.id, .pid = r->state.pid, .bundle = r->state.bundle, .spec = &r->spec,
  };

  if (r->state.pid <= 0)
    return l1vh_error_setx(err, "the state has no container pid");
  if (root_path(r, err) < 0)
    return -1;
  t.root_path = r->root;

  if (plan->device.inject && l1vh_device_apply(&t, &plan->device, err) < 0)
    return -1;
  if ((plan->memlock.set && l1vh_memlock_apply(&t, &plan->memlock, err) < 0) ||
      (plan->domain.rewrite && l1vh_domain_apply(&t, &plan->domain, err) < 0)) {
    if (plan->device.inject)
      l1vh_device_undo(&t, &plan->device);
    return -1;
  }
  return 0;
}

static void log_plan(const struct l1vh_plan *plan)
{
  l1vh_log(L1VH_LOG_INFO, "pod %s vm %s: %s; device: %s; memlock: %s; domain: %s", plan->pod,
           plan->vm, plan->reason, plan->device.reason, plan->memlock.reason, plan->domain.reason);
}

/* The record (l1vh-hook status) and the counters (metrics) of a VM
 * container's start.  step, when set, names a step that failed (detail
 * says how); with outcome "applied" it was a warning.  Neither may change
 * how the start ends: a problem here is only a warning in the log. */
static void report(const struct run *r, enum l1vh_outcome outcome, const char *step,
                   const char *detail)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_metrics_event ev = {
    .plan = &r->plan,
    .applied = outcome == L1VH_OUTCOME_APPLIED,
    .fallback = L1VH_FALLBACK_NONE,
    .error_step = step,
  };
  char line[768] = "";

  if (outcome == L1VH_OUTCOME_FALLBACK)
    ev.fallback = step ? L1VH_FALLBACK_ON_ERROR_WARN
                       : l1vh_fallback_classify(&r->plan, &r->cfg, &r->spec, &r->facts);
  /* The detail is for people: cut, not refused, when long. */
  if (step)
    snprintf(line, sizeof(line), "%s: %s", step, detail ? detail : "");
  if (l1vh_record_write(r->cfg.state.dir, &r->state, &r->plan, outcome, step ? line : NULL,
                        &err) < 0) {
    l1vh_log(L1VH_LOG_WARN, "status record: %s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
  }
  if (r->cfg.state.metrics && l1vh_metrics_add(r->cfg.state.metrics, &ev, &err) < 0) {
    l1vh_log(L1VH_LOG_WARN, "metrics: %s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
  }
}

/* A problem that onError governs: fail the start, or warn and go on. */
static int governed(const struct run *r, const char *step, const struct l1vh_error *err)
{
  if (r->cfg.on_error == L1VH_ON_ERROR_WARN) {
    l1vh_log(L1VH_LOG_WARN, "%s: %s (onError warn: the container starts without l1vh)", step,
             l1vh_error_msg(err));
    return L1VH_EXIT_OK;
  }
  l1vh_log_fail(step, err);
  return L1VH_EXIT_FAIL;
}

static int prestart(struct run *r, const struct l1vh_opts *opts)
{
  struct l1vh_error err = L1VH_ERROR_INIT, cfg_err = L1VH_ERROR_INIT;
  int rc = L1VH_EXIT_OK;
  bool cfg_broken;
  const char *warned = NULL; /* a step that failed under onError warn */

  if (l1vh_state_read(STDIN_FILENO, &r->state, &err) < 0) {
    l1vh_log_open("-", L1VH_LOG_INFO);
    l1vh_log_fail("read state", &err);
    l1vh_error_clear(&err);
    return L1VH_EXIT_FAIL;
  }
  cfg_broken = l1vh_config_load(l1vh_config_path(opts->config), &r->cfg, &cfg_err) < 0;
  l1vh_log_open(r->state.id, r->cfg.log_level);
  if (l1vh_spec_load(r->state.bundle, &r->spec, &err) < 0) {
    l1vh_log_fail("read spec", &err);
    rc = L1VH_EXIT_FAIL;
    goto out;
  }
  /* A broken config still has the default match: other containers start
   * untouched, a VM's compute container does not start on a config that
   * may have meant "gate on" (docs/config.md). */
  l1vh_match(&r->spec, &r->cfg, &r->plan);
  if (!r->plan.match)
    goto out;
  if (cfg_broken) {
    l1vh_log_fail("read config", &cfg_err);
    report(r, L1VH_OUTCOME_FAILED, "read config", l1vh_error_msg(&cfg_err));
    rc = L1VH_EXIT_FAIL;
    goto out;
  }
  if (l1vh_plan_make(&r->spec, &r->cfg, r->state.bundle, &r->facts, &r->plan, &err) < 0) {
    rc = governed(r, "decide", &err);
    report(r, rc == L1VH_EXIT_OK ? L1VH_OUTCOME_FALLBACK : L1VH_OUTCOME_FAILED, "decide",
           l1vh_error_msg(&err));
    goto out;
  }
  log_plan(&r->plan);
  if (!r->plan.apply) {
    report(r, L1VH_OUTCOME_FALLBACK, NULL, NULL);
    goto out;
  }
  if (r->plan.memlock.set && r->plan.memlock.conflict) {
    l1vh_error_setx(&err, "%s", r->plan.memlock.reason);
    rc = governed(r, "memlock", &err);
    if (rc != L1VH_EXIT_OK) {
      report(r, L1VH_OUTCOME_FAILED, "memlock", l1vh_error_msg(&err));
      goto out;
    }
    warned = "memlock";
    l1vh_error_clear(&err);
  }
  if (apply(r, &err) < 0) {
    rc = governed(r, "apply", &err);
    report(r, rc == L1VH_EXIT_OK ? L1VH_OUTCOME_FALLBACK : L1VH_OUTCOME_FAILED, "apply",
           l1vh_error_msg(&err));
  } else {
    l1vh_log(L1VH_LOG_INFO, "applied");
    report(r, L1VH_OUTCOME_APPLIED, warned, warned ? r->plan.memlock.reason : NULL);
  }
out:
  l1vh_error_clear(&err);
  l1vh_error_clear(&cfg_err);
  return rc;
}

int l1vh_cmd_prestart(const struct l1vh_opts *opts)
{
  struct run r;
  int rc;

  memset(&r, 0, sizeof(r));
  rc = prestart(&r, opts);
  run_free(&r);
  return rc;
}

/* Every action lives and dies with the container; what stays on the host
 * is the container's decision record, removed here.  A poststop failure
 * cannot stop anything, so it is logged and the hook exits 0. */
int l1vh_cmd_poststop(const struct l1vh_opts *opts)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_state state = {0};
  struct l1vh_config cfg;

  if (l1vh_state_read(STDIN_FILENO, &state, &err) < 0) {
    l1vh_log_open("-", L1VH_LOG_INFO);
    l1vh_log(L1VH_LOG_WARN, "poststop: read state: %s", l1vh_error_msg(&err));
    goto out_state;
  }
  /* A broken config still names the default state dir. */
  if (l1vh_config_load(l1vh_config_path(opts->config), &cfg, &err) < 0)
    l1vh_error_clear(&err);
  l1vh_log_open(state.id, cfg.log_level);
  if (l1vh_record_remove(cfg.state.dir, state.id, &err) < 0)
    l1vh_log(L1VH_LOG_WARN, "poststop: %s", l1vh_error_msg(&err));
  l1vh_config_free(&cfg);
out_state:
  l1vh_error_clear(&err);
  l1vh_state_free(&state);
  return L1VH_EXIT_OK;
}
