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
#include "caps.h"
#include "cleanup.h"
#include "cmd.h"
#include "log.h"
#include "metrics.h"
#include "ns.h"
#include "plan.h"
#include "records.h"
#include "seccomp.h"

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

  if (root_path(r, err) < 0)
    return -1;
  /* Nothing is done to a pid that is not the container being created. */
  if (l1vh_ns_check_pid(r->state.pid, r->root, err) < 0)
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
  l1vh_caps_raise(L1VH_STEP_RECORD);
  if (l1vh_record_write(r->cfg.state.dir, &r->state, &r->plan, outcome, step ? line : NULL,
                        &err) < 0) {
    l1vh_log(L1VH_LOG_WARN, "status record: %s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
  }
  if (r->cfg.state.metrics && l1vh_metrics_add(r->cfg.state.metrics, &ev, &err) < 0) {
    l1vh_log(L1VH_LOG_WARN, "metrics: %s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
  }
  l1vh_caps_lower();
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

/* The steps the plan needs: their capabilities stay permitted and their
 * syscalls allowed, nothing else (docs/security.md).  The record is
 * written for every VM container, whatever its plan. */
static void plan_steps(const struct l1vh_plan *plan, bool planned, struct l1vh_steps *s)
{
  memset(s, 0, sizeof(*s));
  s->need[L1VH_STEP_RECORD] = true;
  if (!planned || !plan->apply)
    return;
  /* The container's pid is checked before any action (hook/ns.h). */
  s->need[L1VH_STEP_PID] = true;
  if (plan->device.inject && !plan->device.in_spec) {
    s->need[L1VH_STEP_ENTER] = s->need[L1VH_STEP_MKNOD] = s->need[L1VH_STEP_CHOWN] = true;
    s->need[L1VH_STEP_CGROUP_V1] = s->need[L1VH_STEP_CGROUP_V2] = true;
  }
  if (plan->memlock.set)
    s->need[L1VH_STEP_MEMLOCK] = true;
  if (plan->domain.rewrite)
    s->need[L1VH_STEP_ENTER] = s->need[L1VH_STEP_DOMAIN] = true;
}

/* Once the plan is known: only its capabilities, only its syscalls. */
static int lock_down(const struct l1vh_steps *steps, struct l1vh_error *err)
{
  if (l1vh_caps_limit(steps, err) < 0 || l1vh_seccomp_install(steps, err) < 0)
    return l1vh_error_wrap(err, "drop privileges");
  return 0;
}

/* The same on the way to a failed start, which only writes the record:
 * that record is not worth writing with privileges kept. */
static bool locked_down(const struct l1vh_steps *steps)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  bool ok = lock_down(steps, &err) == 0;

  if (!ok)
    l1vh_log(L1VH_LOG_WARN, "%s (no record written)", l1vh_error_msg(&err));
  l1vh_error_clear(&err);
  return ok;
}

static int prestart(struct run *r, const struct l1vh_opts *opts)
{
  struct l1vh_error err = L1VH_ERROR_INIT, cfg_err = L1VH_ERROR_INIT;
  struct l1vh_steps steps;
  int rc = L1VH_EXIT_OK;
  bool cfg_broken, planned;
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
  if (!r->plan.match) {
    /* Answered: nothing privileged was done, and nothing will be. */
    memset(&steps, 0, sizeof(steps));
    if (l1vh_caps_limit(&steps, &err) < 0)
      l1vh_log(L1VH_LOG_WARN, "%s", l1vh_error_msg(&err));
    goto out;
  }
  if (cfg_broken) {
    l1vh_log_fail("read config", &cfg_err);
    plan_steps(&r->plan, false, &steps);
    if (locked_down(&steps))
      report(r, L1VH_OUTCOME_FAILED, "read config", l1vh_error_msg(&cfg_err));
    rc = L1VH_EXIT_FAIL;
    goto out;
  }
  /* Looking into the image (strategy auto) is the only privileged part. */
  l1vh_caps_raise(L1VH_STEP_PROBE);
  planned = l1vh_plan_make(&r->spec, &r->cfg, r->state.bundle, &r->facts, &r->plan, &err) == 0;
  l1vh_caps_lower();
  plan_steps(&r->plan, planned, &steps);
  if (!planned) {
    rc = governed(r, "decide", &err);
    if (locked_down(&steps))
      report(r, rc == L1VH_EXIT_OK ? L1VH_OUTCOME_FALLBACK : L1VH_OUTCOME_FAILED, "decide",
             l1vh_error_msg(&err));
    goto out;
  }
  if (lock_down(&steps, &err) < 0) {
    /* Nothing is applied without the filter; an empty plan applies nothing anyway. */
    if (!r->plan.apply) {
      l1vh_log(L1VH_LOG_WARN, "%s", l1vh_error_msg(&err));
      goto out;
    }
    rc = governed(r, "harden", &err);
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

/* Every step a start may take: the set the run begins with. */
static void all_steps(struct l1vh_steps *s)
{
  for (size_t i = 0; i < L1VH_STEP_COUNT; i++)
    s->need[i] = true;
}

int l1vh_cmd_prestart(const struct l1vh_opts *opts)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_steps steps;
  struct run r;
  int rc;

  /* Before reading anything a pod author wrote. */
  all_steps(&steps);
  if (l1vh_caps_init(&steps, &err) < 0) {
    l1vh_log_open("-", L1VH_LOG_INFO);
    l1vh_log_fail("drop privileges", &err);
    l1vh_error_clear(&err);
    return L1VH_EXIT_FAIL;
  }
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
  struct l1vh_steps steps = {0};
  struct l1vh_config cfg;

  /* Removing a record is all poststop does. */
  steps.need[L1VH_STEP_RECORD] = true;
  if (l1vh_caps_init(&steps, &err) < 0) {
    l1vh_log_open("-", L1VH_LOG_INFO);
    l1vh_log(L1VH_LOG_WARN, "poststop: drop privileges: %s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
  }
  if (l1vh_state_read(STDIN_FILENO, &state, &err) < 0) {
    l1vh_log_open("-", L1VH_LOG_INFO);
    l1vh_log(L1VH_LOG_WARN, "poststop: read state: %s", l1vh_error_msg(&err));
    goto out_state;
  }
  /* A broken config still names the default state dir. */
  if (l1vh_config_load(l1vh_config_path(opts->config), &cfg, &err) < 0)
    l1vh_error_clear(&err);
  l1vh_log_open(state.id, cfg.log_level);
  if (l1vh_seccomp_install(&steps, &err) < 0) {
    l1vh_log(L1VH_LOG_WARN, "poststop: drop privileges: %s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
  }
  l1vh_caps_raise(L1VH_STEP_RECORD);
  if (l1vh_record_remove(cfg.state.dir, state.id, &err) < 0)
    l1vh_log(L1VH_LOG_WARN, "poststop: %s", l1vh_error_msg(&err));
  l1vh_caps_lower();
  l1vh_config_free(&cfg);
out_state:
  l1vh_error_clear(&err);
  l1vh_state_free(&state);
  return L1VH_EXIT_OK;
}
