#define _GNU_SOURCE
#include "create.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bundle.h"
#include "cleanup.h"
#include "config.h"
#include "edit.h"
#include "hooksd.h"
#include "jsonw.h"
#include "log.h"
#include "plan.h"
#include "spec.h"

struct run {
  struct l1vh_shim_args *args;
  char id[13]; /* short container id, printable */
  struct l1vh_shim_spec_file file;
  struct l1vh_spec spec;
  struct l1vh_config cfg;
  const char *cfg_path;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  bool apply; /* plan.apply, and not given up under onError "warn" */
  struct l1vh_hooksd_set hooksd;
  bool *selected;
  size_t n_selected;
  char hook_path[PATH_MAX]; /* the l1vh-hook */
  bool have_hook;
  struct stat hook_st;
};

/* Report a problem with the container's id and the step. */
L1VH_PRINTF(4, 5)
static int say(struct run *r, const char *level, const struct l1vh_error *err, const char *fmt, ...)
{
  char step[256], msg[2048];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(step, sizeof(step), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t) n >= sizeof(step))
    strcpy(step + sizeof(step) - 4, "...");
  n = snprintf(msg, sizeof(msg), "container %s: %s%s%s", r->id, step, err ? ": " : "",
               err ? l1vh_error_msg(err) : "");
  if (n < 0 || (size_t) n >= sizeof(msg))
    strcpy(msg + sizeof(msg) - 4, "...");
  l1vh_shim_report(r->args, level, msg);
  return -1;
}

static void short_id(char *out, const char *id)
{
  size_t n = 0;

  for (; id && id[n] && n < 12; n++)
    out[n] = (unsigned char) id[n] < 0x20 || id[n] == 0x7f ? '?' : id[n];
  out[n] = '\0';
  if (n == 0)
    strcpy(out, "-");
}

/* The l1vh-hook: runtime.hook, else next to this program. */
static int find_hook(struct run *r, struct l1vh_error *err)
{
  char self[PATH_MAX];
  ssize_t n;
  char *slash;
  int len;

  if (r->cfg.runtime.hook) {
    len = snprintf(r->hook_path, sizeof(r->hook_path), "%s", r->cfg.runtime.hook);
  } else {
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0)
      return l1vh_error_set(err, errno, "readlink /proc/self/exe");
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (!slash)
      return l1vh_error_setx(err, "cannot tell the shim's directory from %s", self);
    *slash = '\0';
    len = snprintf(r->hook_path, sizeof(r->hook_path), "%s/l1vh-hook", self);
  }
  if (len < 0 || (size_t) len >= sizeof(r->hook_path))
    return l1vh_error_setx(err, "l1vh-hook path too long");
  if (stat(r->hook_path, &r->hook_st) < 0)
    return l1vh_error_set(err, errno, "l1vh-hook %s", r->hook_path);
  r->have_hook = true;
  return 0;
}

static void report_hooksd(void *ctx, const char *msg)
{
  struct run *r = ctx;
  say(r, "warning", NULL, "%s", msg);
}

/* The plan, as the hook would compute it.  < 0: stop (reported). */
static int decide(struct run *r, bool cfg_broken, const struct l1vh_error *cfg_err)
{
  struct l1vh_error err = L1VH_ERROR_INIT;

  l1vh_match(&r->spec, &r->cfg, &r->plan);
  if (!r->plan.match) {
    if (cfg_broken)
      say(r, "warning", cfg_err, "read config (not a VM container, started as it is)");
    return 0;
  }
  /* A VM's compute container does not start on a config that may have
   * meant "gate on" (docs/config.md). */
  if (cfg_broken)
    return say(r, "error", cfg_err, "read config");
  if (l1vh_plan_make(&r->spec, &r->cfg, r->args->bundle ? r->args->bundle : ".", &r->facts,
                     &r->plan, &err) < 0) {
    if (r->cfg.on_error == L1VH_ON_ERROR_WARN) {
      say(r, "warning", &err, "decide (onError warn: the container starts without l1vh)");
      l1vh_error_clear(&err);
      return 0;
    }
    say(r, "error", &err, "decide");
    l1vh_error_clear(&err);
    return -1;
  }
  r->apply = r->plan.apply;
  if (r->apply && r->plan.domain.rewrite && find_hook(r, &err) < 0) {
    say(r, "error", &err, "the domain rewrite needs the hook");
    l1vh_error_clear(&err);
    return -1;
  }
  return 0;
}

/* hooks.d: which registered hooks this container gets. */
static int select_hooksd(struct run *r)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_hooksd_input in;

  l1vh_hooksd_read((const char *const *) r->cfg.runtime.hooks_dirs, r->cfg.runtime.n_hooks_dirs,
                   &r->hooksd, report_hooksd, r);
  if (r->hooksd.n == 0)
    return 0;
  /* The l1vh-hook is the shim's to add; a hooks.d entry for it (the file
   * CRI-O nodes install) is left out so that it never runs twice. */
  if (!r->have_hook && find_hook(r, &err) < 0)
    l1vh_error_clear(&err); /* not installed: nothing to leave out */
  r->selected = calloc(r->hooksd.n, sizeof(*r->selected));
  if (!r->selected)
    abort();
  if (l1vh_hooksd_input_from_spec(&r->spec, &in, &err) < 0 ||
      l1vh_shim_hooksd_select(&r->hooksd, &in, r->have_hook ? &r->hook_st : NULL, r->selected, &r->n_selected, &err) < 0) {
    say(r, "error", &err, "hooks.d");
    l1vh_error_clear(&err);
    return -1;
  }
  return 0;
}

static int edit(struct run *r, struct l1vh_jw *root, struct l1vh_error *err)
{
  /* The hook's env is explicit: it learns a non-default config from us. */
  const char *env_config = getenv(L1VH_CONFIG_ENV);

  if (r->apply && l1vh_shim_apply_plan(root, &r->plan, r->hook_path,
                                       env_config && *env_config ? r->cfg_path : NULL, err) < 0)
    return -1;
  if (r->n_selected > 0 && l1vh_shim_inject_hooksd(root, &r->hooksd, r->selected, err) < 0)
    return -1;
  return 0;
}

static int write_back(struct run *r)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_jw struct l1vh_jw *root = NULL;
  cleanup_free char *out = NULL;
  size_t len;
  int rc = 0;

  if (l1vh_jw_parse(r->file.buf, r->file.len, &root, &err) < 0 || edit(r, root, &err) < 0 ||
      l1vh_jw_serialize(root, &out, &len, &err) < 0 ||
      l1vh_shim_spec_write(&r->file, out, len, &err) < 0)
    rc = say(r, "error", &err, "write the plan into %s/%s", r->file.dir, r->file.name);
  l1vh_error_clear(&err);
  return rc;
}

static void note(const struct run *r)
{
  const struct l1vh_plan *p = &r->plan;

  if (r->apply)
    l1vh_shim_note("[%s] pod %s vm %s: %s; device: %s; memlock: %s; domain: %s; %zu hooks.d hooks",
                   r->id, p->pod, p->vm, p->reason, p->device.reason, p->memlock.reason,
                   p->domain.reason, r->n_selected);
  else
    l1vh_shim_note("[%s] %s; %zu hooks.d hooks", r->id, p->reason, r->n_selected);
}

static int run_create(struct run *r, int argc, char **argv)
{
  struct l1vh_error err = L1VH_ERROR_INIT, cfg_err = L1VH_ERROR_INIT;
  bool cfg_broken;
  int rc = -1;

  if (l1vh_shim_parse_create(argc, argv, r->args, &err) < 0) {
    say(r, "error", &err, "%s", r->args->cmd);
    goto out;
  }
  short_id(r->id, r->args->id);
  if (l1vh_shim_spec_read(r->args->bundle, r->args->config, &r->file, &err) < 0 ||
      l1vh_spec_parse(r->file.buf, r->file.len, &r->spec, &err) < 0) {
    say(r, "error", &err, "read spec");
    goto out;
  }
  r->cfg_path = l1vh_config_path(NULL);
  cfg_broken = l1vh_config_load(r->cfg_path, &r->cfg, &cfg_err) < 0;
  if (decide(r, cfg_broken, &cfg_err) < 0 || select_hooksd(r) < 0)
    goto out;
  /* Nothing to write: the spec stays byte for byte what the caller wrote. */
  if ((!r->apply && r->n_selected == 0) || write_back(r) == 0)
    rc = 0;
  if (rc == 0)
    note(r);
out:
  l1vh_error_clear(&err);
  l1vh_error_clear(&cfg_err);
  return rc;
}

int l1vh_shim_create(int argc, char **argv, struct l1vh_shim_args *a)
{
  struct run r;
  int rc;

  memset(&r, 0, sizeof(r));
  r.file.dirfd = -1;
  r.args = a;
  strcpy(r.id, "-");
  rc = run_create(&r, argc, argv);
  l1vh_shim_spec_file_free(&r.file);
  l1vh_spec_free(&r.spec);
  l1vh_config_free(&r.cfg);
  l1vh_hooksd_set_free(&r.hooksd);
  free(r.selected);
  return rc;
}
