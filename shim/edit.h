/* l1vh-shim: the plan written into the spec, where the runtime does the
 * work itself (docs/shim.md, "What the shim writes"). */
#ifndef L1VH_SHIM_EDIT_H
#define L1VH_SHIM_EDIT_H

#include <stdbool.h>
#include <sys/stat.h>

#include "error.h"
#include "hooksd.h"
#include "jsonw.h"
#include "plan.h"

/* linux.devices: the node (type c, numbers, fileMode, uid, gid), replacing
 * entries of the same path; linux.resources.devices: an "rw" allow rule
 * appended after the runtime manager's rules (the last matching rule wins). */
int l1vh_shim_edit_device(struct l1vh_jw *root, const struct l1vh_device_plan *dev,
                          struct l1vh_error *err);
/* process.rlimits: RLIMIT_MEMLOCK soft = hard = the planned value, in place
 * of any listed one. */
int l1vh_shim_edit_memlock(struct l1vh_jw *root, const struct l1vh_memlock_plan *mem,
                           struct l1vh_error *err);

/* The hook entry the shim adds for what only the hook can do. */
#define L1VH_SHIM_HOOK_ENV "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define L1VH_SHIM_HOOK_TIMEOUT 10

/* One hook entry of the runtime spec. */
struct l1vh_shim_hook {
  const char *path;
  const char *const *args;
  size_t n_args;
  bool has_args;
  const char *const *env;
  size_t n_env;
  bool has_env;
  bool has_timeout;
  int64_t timeout;
};

/* Append the entry to hooks.<stage>. */
int l1vh_shim_add_hook(struct l1vh_jw *root, const char *stage, const struct l1vh_shim_hook *h,
                       struct l1vh_error *err);

/* The whole plan: device and memlock when planned, and when the domain
 * rewrite is planned the l1vh-hook at hook_path: a prestart entry with args
 * ["l1vh-hook", "prestart"] (+ "--config", hook_config when not NULL), an
 * explicit env and a timeout, and the same with "poststop" at poststop;
 * each left out when the spec runs that program at that stage already
 * (prestart or createRuntime; CRI-O's hooks.d). */
int l1vh_shim_apply_plan(struct l1vh_jw *root, const struct l1vh_plan *plan, const char *hook_path,
                         const char *hook_config, struct l1vh_error *err);

/* Which hooks of set to inject: those whose `when` matches in, except
 * hooks whose program is skip (the l1vh-hook: the shim adds that one
 * itself, when the plan needs it).  selected has set->n entries; *n counts
 * the selected ones.  Fails only as l1vh_hooksd_match() does. */
int l1vh_shim_hooksd_select(const struct l1vh_hooksd_set *set, const struct l1vh_hooksd_input *in,
                            const struct stat *skip, bool *selected, size_t *n,
                            struct l1vh_error *err);
/* Append the selected hooks at each of their stages, in the set's order. */
int l1vh_shim_inject_hooksd(struct l1vh_jw *root, const struct l1vh_hooksd_set *set,
                            const bool *selected, struct l1vh_error *err);

#endif
