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
#include "plan.h"

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
    rc = L1VH_EXIT_FAIL;
    goto out;
  }
  if (l1vh_plan_make(&r->spec, &r->cfg, r->state.bundle, &r->facts, &r->plan, &err) < 0) {
    rc = governed(r, "decide", &err);
    goto out;
  }
  log_plan(&r->plan);
  if (!r->plan.apply)
    goto out;
  if (r->plan.memlock.set && r->plan.memlock.conflict) {
    l1vh_error_setx(&err, "%s", r->plan.memlock.reason);
    rc = governed(r, "memlock", &err);
    if (rc != L1VH_EXIT_OK)
      goto out;
    l1vh_error_clear(&err);
  }
  if (apply(r, &err) < 0)
    rc = governed(r, "apply", &err);
  else
    l1vh_log(L1VH_LOG_INFO, "applied");
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

int l1vh_cmd_poststop(const struct l1vh_opts *opts)
{
  /* Nothing to undo on the host yet: every action lives and dies with the
   * container.  Registered so records kept later can be cleaned here. */
  (void) opts;
  return L1VH_EXIT_OK;
}
