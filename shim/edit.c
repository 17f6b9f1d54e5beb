#define _GNU_SOURCE
#include "edit.h"

#include <string.h>
#include <sys/sysmacros.h>

/* Remove the objects of arr whose string member key equals value. */
static int remove_where(struct l1vh_jw *arr, const char *where, const char *key, const char *value,
                        struct l1vh_error *err)
{
  for (size_t i = l1vh_jw_len(arr); i-- > 0;) {
    struct l1vh_jw *entry = l1vh_jw_at(arr, i), *m;
    const char *s;

    if (l1vh_jw_type(entry) != L1VH_JSON_OBJECT)
      continue;
    if (l1vh_jw_member(entry, key, where, &m, err) < 0)
      return -1;
    s = l1vh_jw_string(m);
    if (s && strcmp(s, value) == 0)
      l1vh_jw_remove_at(arr, i);
  }
  return 0;
}

int l1vh_shim_edit_device(struct l1vh_jw *root, const struct l1vh_device_plan *dev,
                          struct l1vh_error *err)
{
  struct l1vh_jw *linux_, *devices, *resources, *rules, *node, *rule;

  if (l1vh_jw_member_object(root, "linux", "config.json", &linux_, err) < 0 ||
      l1vh_jw_member_array(linux_, "devices", "linux", &devices, err) < 0 ||
      remove_where(devices, "linux.devices[]", "path", dev->path, err) < 0 ||
      l1vh_jw_member_object(linux_, "resources", "linux", &resources, err) < 0 ||
      l1vh_jw_member_array(resources, "devices", "linux.resources", &rules, err) < 0)
    return -1;

  node = l1vh_jw_new_object();
  l1vh_jw_set(node, "path", l1vh_jw_new_string(dev->path));
  l1vh_jw_set(node, "type", l1vh_jw_new_string("c"));
  l1vh_jw_set(node, "major", l1vh_jw_new_int(major(dev->rdev)));
  l1vh_jw_set(node, "minor", l1vh_jw_new_int(minor(dev->rdev)));
  l1vh_jw_set(node, "fileMode", l1vh_jw_new_int(dev->mode & 07777));
  l1vh_jw_set(node, "uid", l1vh_jw_new_int(dev->uid));
  l1vh_jw_set(node, "gid", l1vh_jw_new_int(dev->gid));
  l1vh_jw_append(devices, node);

  /* Appended: rules apply in order and the runtime manager's list starts
   * with "deny all", so the allow rule has to come after it. */
  rule = l1vh_jw_new_object();
  l1vh_jw_set(rule, "allow", l1vh_jw_new_bool(true));
  l1vh_jw_set(rule, "type", l1vh_jw_new_string("c"));
  l1vh_jw_set(rule, "major", l1vh_jw_new_int(major(dev->rdev)));
  l1vh_jw_set(rule, "minor", l1vh_jw_new_int(minor(dev->rdev)));
  l1vh_jw_set(rule, "access", l1vh_jw_new_string("rw"));
  l1vh_jw_append(rules, rule);
  return 0;
}

int l1vh_shim_edit_memlock(struct l1vh_jw *root, const struct l1vh_memlock_plan *mem,
                           struct l1vh_error *err)
{
  uint64_t value = mem->unlimited ? UINT64_MAX : mem->bytes;
  struct l1vh_jw *process, *rlimits, *entry;

  if (l1vh_jw_member(root, "process", "config.json", &process, err) < 0)
    return -1;
  /* A spec without a process cannot be started: do not invent one. */
  if (l1vh_jw_type(process) != L1VH_JSON_OBJECT)
    return l1vh_error_setx(err, "config.json: process: expected an object");
  if (l1vh_jw_member_array(process, "rlimits", "process", &rlimits, err) < 0 ||
      remove_where(rlimits, "process.rlimits[]", "type", "RLIMIT_MEMLOCK", err) < 0)
    return -1;
  entry = l1vh_jw_new_object();
  l1vh_jw_set(entry, "type", l1vh_jw_new_string("RLIMIT_MEMLOCK"));
  l1vh_jw_set(entry, "hard", l1vh_jw_new_uint(value));
  l1vh_jw_set(entry, "soft", l1vh_jw_new_uint(value));
  l1vh_jw_append(rlimits, entry);
  return 0;
}

int l1vh_shim_add_hook(struct l1vh_jw *root, const char *stage, const struct l1vh_shim_hook *h,
                       struct l1vh_error *err)
{
  struct l1vh_jw *hooks, *list, *entry;

  if (l1vh_jw_member_object(root, "hooks", "config.json", &hooks, err) < 0 ||
      l1vh_jw_member_array(hooks, stage, "hooks", &list, err) < 0)
    return -1;
  entry = l1vh_jw_new_object();
  l1vh_jw_set(entry, "path", l1vh_jw_new_string(h->path));
  if (h->has_args)
    l1vh_jw_set(entry, "args", l1vh_jw_new_strings(h->args, h->n_args));
  if (h->has_env)
    l1vh_jw_set(entry, "env", l1vh_jw_new_strings(h->env, h->n_env));
  if (h->has_timeout)
    l1vh_jw_set(entry, "timeout", l1vh_jw_new_int(h->timeout));
  l1vh_jw_append(list, entry);
  return 0;
}

static bool same_program(const char *a, const char *b)
{
  struct stat sa, sb;

  if (strcmp(a, b) == 0)
    return true;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/* Does the spec run hook_path at one of stages already (CRI-O adds it
 * from hooks.d before calling its runtime, which may be us)? */
static int has_hook(struct l1vh_jw *root, const char *const *stages, size_t n_stages,
                    const char *hook_path, bool *out, struct l1vh_error *err)
{
  struct l1vh_jw *hooks, *list, *path;

  *out = false;
  if (l1vh_jw_member(root, "hooks", "config.json", &hooks, err) < 0)
    return -1;
  if (l1vh_jw_type(hooks) != L1VH_JSON_OBJECT)
    return 0;
  for (size_t s = 0; s < n_stages; s++) {
    if (l1vh_jw_member(hooks, stages[s], "hooks", &list, err) < 0)
      return -1;
    for (size_t i = 0; i < l1vh_jw_len(list); i++) {
      if (l1vh_jw_type(l1vh_jw_at(list, i)) != L1VH_JSON_OBJECT)
        continue;
      if (l1vh_jw_member(l1vh_jw_at(list, i), "path", "hooks[]", &path, err) < 0)
        return -1;
      if (l1vh_jw_string(path) && same_program(l1vh_jw_string(path), hook_path)) {
        *out = true;
        return 0;
      }
    }
  }
  return 0;
}

/* The l1vh-hook at prestart, and at poststop (it removes there the record
 * it wrote at prestart), each unless the spec has it there already. */
static int add_l1vh_hook(struct l1vh_jw *root, const char *hook_path, const char *hook_config,
                         struct l1vh_error *err)
{
  static const char *const start_stages[] = {"prestart", "createRuntime"};
  static const char *const stop_stages[] = {"poststop"};
  const char *args[] = {"l1vh-hook", "prestart", "--config", hook_config};
  const char *env[] = {L1VH_SHIM_HOOK_ENV};
  struct l1vh_shim_hook h = {
    .path = hook_path,
    .args = args,
    .n_args = hook_config ? 4 : 2,
    .has_args = true,
    .env = env,
    .n_env = 1,
    .has_env = true,
    .has_timeout = true,
    .timeout = L1VH_SHIM_HOOK_TIMEOUT,
  };
  bool present;

  if (has_hook(root, start_stages, 2, hook_path, &present, err) < 0 ||
      (!present && l1vh_shim_add_hook(root, "prestart", &h, err) < 0))
    return -1;
  args[1] = "poststop";
  if (has_hook(root, stop_stages, 1, hook_path, &present, err) < 0 ||
      (!present && l1vh_shim_add_hook(root, "poststop", &h, err) < 0))
    return -1;
  return 0;
}

int l1vh_shim_apply_plan(struct l1vh_jw *root, const struct l1vh_plan *plan, const char *hook_path,
                         const char *hook_config, struct l1vh_error *err)
{
  if (plan->device.inject && l1vh_shim_edit_device(root, &plan->device, err) < 0)
    return l1vh_error_wrap(err, "device %s", plan->device.path);
  if (plan->memlock.set && l1vh_shim_edit_memlock(root, &plan->memlock, err) < 0)
    return l1vh_error_wrap(err, "memlock");
  if (plan->domain.rewrite) {
    if (!hook_path)
      return l1vh_error_setx(err, "hook: the domain rewrite needs the l1vh-hook");
    if (add_l1vh_hook(root, hook_path, hook_config, err) < 0)
      return l1vh_error_wrap(err, "hook");
  }
  return 0;
}

static bool is_skipped(const char *path, const struct stat *skip)
{
  struct stat st;

  return skip && stat(path, &st) == 0 && st.st_dev == skip->st_dev && st.st_ino == skip->st_ino;
}

int l1vh_shim_hooksd_select(const struct l1vh_hooksd_set *set, const struct l1vh_hooksd_input *in,
                            const struct stat *skip, bool *selected, size_t *n,
                            struct l1vh_error *err)
{
  *n = 0;
  for (size_t i = 0; i < set->n; i++) {
    if (l1vh_hooksd_match(&set->hooks[i], in, &selected[i], err) < 0)
      return -1;
    if (selected[i] && is_skipped(set->hooks[i].path, skip))
      selected[i] = false;
    *n += selected[i];
  }
  return 0;
}

int l1vh_shim_inject_hooksd(struct l1vh_jw *root, const struct l1vh_hooksd_set *set,
                            const bool *selected, struct l1vh_error *err)
{
  for (size_t i = 0; i < set->n; i++) {
    const struct l1vh_hooksd_hook *hd = &set->hooks[i];
    struct l1vh_shim_hook h = {
      .path = hd->path,
      .args = (const char *const *) hd->args,
      .n_args = hd->n_args,
      .has_args = hd->has_args,
      .env = (const char *const *) hd->env,
      .n_env = hd->n_env,
      .has_env = hd->has_env,
      .has_timeout = hd->has_timeout,
      .timeout = hd->timeout,
    };

    if (!selected[i])
      continue;
    for (size_t s = 0; s < hd->n_stages; s++)
      if (l1vh_shim_add_hook(root, l1vh_hook_stage_name(hd->stages[s]), &h, err) < 0)
        return l1vh_error_wrap(err, "inject hook %s", hd->name);
  }
  return 0;
}
