/* l1vh: hooks.d directories, the containers oci-hooks(5) 1.0.0 format.
 *
 * containerd has no hooks.d; the shim reads the same directories CRI-O and
 * podman read and injects the hooks they register, with the same rules:
 *   - only files ending in ".json", format "1.0.0" (the 0.1.0 format is
 *     reported as unsupported);
 *   - a file name in a later directory replaces the same name in an earlier
 *     one; an invalid file is reported and skipped;
 *   - matching hooks are injected in the order of their lower-cased file
 *     names, appended after the hooks the spec already has;
 *   - `when` conditions are ANDed; an empty `when` matches nothing;
 *     `always: false` or `hasBindMounts: false` never match; `annotations`
 *     maps key regex -> value regex and needs one annotation matching both;
 *     `commands` is matched against process.args[0] and, when one matches,
 *     decides on its own once the other conditions held.
 * Regexes are POSIX extended (regcomp), unanchored: the stand-in for Go's
 * RE2 that oci-hooks(5) itself documents.
 *
 * Parsing and matching are pure (the shim and `check` share them); only
 * l1vh_hooksd_read() looks at the file system. */
#ifndef L1VH_HOOKSD_H
#define L1VH_HOOKSD_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

#define L1VH_HOOKSD_VERSION "1.0.0"
#define L1VH_HOOKSD_MAX_FILE_BYTES (64 * 1024)
#define L1VH_HOOKSD_MAX_FILES 256   /* *.json files read per directory */
#define L1VH_HOOKSD_MAX_HOOKS 256   /* hooks kept over all directories */
#define L1VH_HOOKSD_MAX_STRINGS 256 /* args, env, commands, annotations per file */
#define L1VH_HOOKSD_MAX_STAGES 16

enum l1vh_hook_stage {
  L1VH_STAGE_PRESTART,
  L1VH_STAGE_CREATE_RUNTIME,
  L1VH_STAGE_CREATE_CONTAINER,
  L1VH_STAGE_START_CONTAINER,
  L1VH_STAGE_POSTSTART,
  L1VH_STAGE_POSTSTOP,
  L1VH_STAGE_COUNT,
};

/* The spec's name of a stage ("createRuntime"). */
const char *l1vh_hook_stage_name(enum l1vh_hook_stage stage);

struct l1vh_hooksd_annotation {
  char *key_re, *value_re; /* as written */
  regex_t key, value;
};

/* A tri-state for the optional booleans of `when`. */
enum l1vh_hooksd_tri { L1VH_TRI_UNSET, L1VH_TRI_FALSE, L1VH_TRI_TRUE };

struct l1vh_hooksd_hook {
  char *name; /* file name, "10-foo.json" */
  char *dir;  /* directory it was read from, or NULL */

  /* hook: the OCI hook entry to inject */
  char *path;
  char **args;
  size_t n_args;
  bool has_args;
  char **env;
  size_t n_env;
  bool has_env;
  bool has_timeout;
  int64_t timeout;

  /* when */
  enum l1vh_hooksd_tri always, has_bind_mounts;
  struct l1vh_hooksd_annotation *annotations;
  size_t n_annotations;
  char **commands_re;
  regex_t *commands;
  size_t n_commands;

  enum l1vh_hook_stage stages[L1VH_HOOKSD_MAX_STAGES];
  size_t n_stages;
};

/* What `when` looks at, taken from the container's spec. */
struct l1vh_hooksd_input {
  const struct l1vh_kv *annotations;
  size_t n_annotations;
  bool has_process;    /* the spec has a process object */
  const char *command; /* process.args[0], NULL when args is empty */
  bool has_bind_mounts;
};

/* A set of hooks, kept sorted by lower-cased file name. */
struct l1vh_hooksd_set {
  struct l1vh_hooksd_hook *hooks;
  size_t n;
};

/* Parse one file's content; name is the file name (messages, ordering). */
int l1vh_hooksd_parse(const char *buf, size_t len, const char *name, struct l1vh_hooksd_hook *hook,
                      struct l1vh_error *err);
void l1vh_hooksd_hook_free(struct l1vh_hooksd_hook *hook);

/* The match input of a parsed spec (process.args, mounts, annotations). */
int l1vh_hooksd_input_from_spec(const struct l1vh_spec *spec, struct l1vh_hooksd_input *in,
                                struct l1vh_error *err);
/* Does hook's `when` match?  Fails only when `commands` is set and the
 * spec's process has no args (as containers/common does). */
int l1vh_hooksd_match(const struct l1vh_hooksd_hook *hook, const struct l1vh_hooksd_input *in,
                      bool *match, struct l1vh_error *err);

/* Add a hook to the set, taking it over: it replaces a hook of the same
 * file name (a later directory wins); the set stays sorted. */
int l1vh_hooksd_set_add(struct l1vh_hooksd_set *set, struct l1vh_hooksd_hook *hook,
                        struct l1vh_error *err);
void l1vh_hooksd_set_free(struct l1vh_hooksd_set *set);

/* Read the directories in order (later ones override).  A missing
 * directory is skipped silently; an unreadable directory or an invalid file
 * (bad JSON, bad format, hook.path that does not exist) is passed to
 * report() with a one-line message and skipped. */
typedef void (*l1vh_hooksd_report_fn)(void *ctx, const char *msg);
void l1vh_hooksd_read(const char *const *dirs, size_t n_dirs, struct l1vh_hooksd_set *set,
                      l1vh_hooksd_report_fn report, void *ctx);

#endif
