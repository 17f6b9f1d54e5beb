#define _GNU_SOURCE
#include "hooksd.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bounded_regex.h"
#include "cleanup.h"
#include "io.h"
#include "json.h"
#include "xalloc.h"

static const char *const stage_names[L1VH_STAGE_COUNT] = {
  [L1VH_STAGE_PRESTART] = "prestart",
  [L1VH_STAGE_CREATE_RUNTIME] = "createRuntime",
  [L1VH_STAGE_CREATE_CONTAINER] = "createContainer",
  [L1VH_STAGE_START_CONTAINER] = "startContainer",
  [L1VH_STAGE_POSTSTART] = "poststart",
  [L1VH_STAGE_POSTSTOP] = "poststop",
};

const char *l1vh_hook_stage_name(enum l1vh_hook_stage stage)
{
  return (size_t) stage < L1VH_STAGE_COUNT ? stage_names[stage] : "?";
}

static void free_strings(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

void l1vh_hooksd_hook_free(struct l1vh_hooksd_hook *hook)
{
  free(hook->name);
  free(hook->dir);
  free(hook->path);
  free_strings(hook->args, hook->n_args);
  free_strings(hook->env, hook->n_env);
  for (size_t i = 0; i < hook->n_annotations; i++) {
    free(hook->annotations[i].key_re);
    free(hook->annotations[i].value_re);
    regfree(&hook->annotations[i].key);
    regfree(&hook->annotations[i].value);
  }
  free(hook->annotations);
  for (size_t i = 0; i < hook->n_commands; i++)
    regfree(&hook->commands[i]);
  free(hook->commands);
  free_strings(hook->commands_re, hook->n_commands);
  memset(hook, 0, sizeof(*hook));
}

/* ---- parsing ---- */

static int compile(regex_t *re, const char *src, const char *what, struct l1vh_error *err)
{
  if (l1vh_regex_compile(re, src, err) == 0)
    return 0;
  return l1vh_error_wrap(err, "invalid %s regex \"%.64s\"", what, src);
}

/* An optional array of strings: absent and null leave *has false. */
static int string_array(const struct l1vh_json *v, const char *where, char ***out, size_t *n,
                        bool *has, struct l1vh_error *err)
{
  size_t len = l1vh_json_len(v);

  if (!v || l1vh_json_type(v) == L1VH_JSON_NULL)
    return 0;
  if (l1vh_json_type(v) != L1VH_JSON_ARRAY)
    return l1vh_error_setx(err, "%s: expected an array of strings", where);
  if (len > L1VH_HOOKSD_MAX_STRINGS)
    return l1vh_error_setx(err, "%s: more than %d entries", where, L1VH_HOOKSD_MAX_STRINGS);
  *out = l1vh_xcalloc(len, sizeof(char *));
  for (size_t i = 0; i < len; i++) {
    const char *s = l1vh_json_string(l1vh_json_at(v, i));
    if (!s)
      return l1vh_error_setx(err, "%s: expected an array of strings", where);
    (*out)[i] = l1vh_xstrdup(s);
    *n = i + 1;
  }
  if (has)
    *has = true;
  return 0;
}

static int optional_bool(const struct l1vh_json *v, const char *where, enum l1vh_hooksd_tri *out,
                         struct l1vh_error *err)
{
  bool b;

  if (!v || l1vh_json_type(v) == L1VH_JSON_NULL)
    return 0;
  if (!l1vh_json_bool(v, &b))
    return l1vh_error_setx(err, "%s: expected a boolean", where);
  *out = b ? L1VH_TRI_TRUE : L1VH_TRI_FALSE;
  return 0;
}

static int parse_hook_entry(const struct l1vh_json *h, struct l1vh_hooksd_hook *hook,
                            struct l1vh_error *err)
{
  const struct l1vh_json *timeout = l1vh_json_member(h, "timeout");
  const char *path = l1vh_json_string(l1vh_json_member(h, "path"));

  if (l1vh_json_type(h) != L1VH_JSON_OBJECT)
    return l1vh_error_setx(err, "missing required property: hook");
  if (!path || !*path)
    return l1vh_error_setx(err, "missing required property: hook.path");
  if (path[0] != '/')
    return l1vh_error_setx(err, "hook.path \"%.64s\" is not absolute", path);
  hook->path = l1vh_xstrdup(path);
  if (string_array(l1vh_json_member(h, "args"), "hook.args", &hook->args, &hook->n_args,
                   &hook->has_args, err) < 0 ||
      string_array(l1vh_json_member(h, "env"), "hook.env", &hook->env, &hook->n_env,
                   &hook->has_env, err) < 0)
    return -1;
  if (timeout && l1vh_json_type(timeout) != L1VH_JSON_NULL) {
    /* The runtime spec wants a timeout greater than zero. */
    if (!l1vh_json_int64(timeout, &hook->timeout) || hook->timeout < 1 ||
        hook->timeout > INT32_MAX)
      return l1vh_error_setx(err, "hook.timeout: expected a positive integer");
    hook->has_timeout = true;
  }
  return 0;
}

static int parse_annotations(const struct l1vh_json *v, struct l1vh_hooksd_hook *hook,
                             struct l1vh_error *err)
{
  size_t n = l1vh_json_len(v);

  if (!v || l1vh_json_type(v) == L1VH_JSON_NULL)
    return 0;
  if (l1vh_json_type(v) != L1VH_JSON_OBJECT)
    return l1vh_error_setx(err, "when.annotations: expected an object of strings");
  if (n > L1VH_HOOKSD_MAX_STRINGS)
    return l1vh_error_setx(err, "when.annotations: more than %d entries",
                           L1VH_HOOKSD_MAX_STRINGS);
  hook->annotations = l1vh_xcalloc(n, sizeof(*hook->annotations));
  for (size_t i = 0; i < n; i++) {
    struct l1vh_hooksd_annotation *a = &hook->annotations[i];
    const char *value = l1vh_json_string(l1vh_json_at(v, i));

    if (!value)
      return l1vh_error_setx(err, "when.annotations: expected an object of strings");
    if (compile(&a->key, l1vh_json_key_at(v, i), "annotation key", err) < 0)
      return -1;
    if (compile(&a->value, value, "annotation value", err) < 0) {
      regfree(&a->key);
      return -1;
    }
    a->key_re = l1vh_xstrdup(l1vh_json_key_at(v, i));
    a->value_re = l1vh_xstrdup(value);
    hook->n_annotations = i + 1;
  }
  return 0;
}

static int parse_commands(const struct l1vh_json *v, struct l1vh_hooksd_hook *hook,
                          struct l1vh_error *err)
{
  char **src = NULL;
  size_t n = 0;

  if (string_array(v, "when.commands", &src, &n, NULL, err) < 0) {
    free_strings(src, n);
    return -1;
  }
  hook->commands_re = src;
  hook->commands = l1vh_xcalloc(n, sizeof(*hook->commands));
  for (size_t i = 0; i < n; i++) {
    if (compile(&hook->commands[i], src[i], "command", err) < 0) {
      /* only the compiled ones are freed with the hook */
      for (size_t j = i; j < n; j++)
        free(src[j]);
      return -1;
    }
    hook->n_commands = i + 1;
  }
  return 0;
}

static int parse_when(const struct l1vh_json *w, struct l1vh_hooksd_hook *hook,
                      struct l1vh_error *err)
{
  if (!w || l1vh_json_type(w) == L1VH_JSON_NULL)
    return 0; /* an empty `when`: matches nothing */
  if (l1vh_json_type(w) != L1VH_JSON_OBJECT)
    return l1vh_error_setx(err, "when: expected an object");
  if (optional_bool(l1vh_json_member(w, "always"), "when.always", &hook->always, err) < 0 ||
      optional_bool(l1vh_json_member(w, "hasBindMounts"), "when.hasBindMounts",
                    &hook->has_bind_mounts, err) < 0 ||
      parse_annotations(l1vh_json_member(w, "annotations"), hook, err) < 0 ||
      parse_commands(l1vh_json_member(w, "commands"), hook, err) < 0)
    return -1;
  return 0;
}

static int parse_stages(const struct l1vh_json *v, struct l1vh_hooksd_hook *hook,
                        struct l1vh_error *err)
{
  /* An empty list is missing too, as CRI-O's reader has it: a hook that
   * never runs is a mistake worth a line. */
  if (!v || l1vh_json_type(v) == L1VH_JSON_NULL ||
      (l1vh_json_type(v) == L1VH_JSON_ARRAY && l1vh_json_len(v) == 0))
    return l1vh_error_setx(err, "missing required property: stages");
  if (l1vh_json_type(v) != L1VH_JSON_ARRAY)
    return l1vh_error_setx(err, "stages: expected an array of strings");
  if (l1vh_json_len(v) > L1VH_HOOKSD_MAX_STAGES)
    return l1vh_error_setx(err, "stages: more than %d entries", L1VH_HOOKSD_MAX_STAGES);
  for (size_t i = 0; i < l1vh_json_len(v); i++) {
    const char *s = l1vh_json_string(l1vh_json_at(v, i));
    size_t st;

    if (!s)
      return l1vh_error_setx(err, "stages: expected an array of strings");
    for (st = 0; st < L1VH_STAGE_COUNT; st++)
      if (strcmp(s, stage_names[st]) == 0)
        break;
    if (st == L1VH_STAGE_COUNT)
      return l1vh_error_setx(err, "unknown stage \"%.32s\"", s);
    hook->stages[hook->n_stages++] = (enum l1vh_hook_stage) st;
  }
  return 0;
}

static int parse_doc(const struct l1vh_json *root, struct l1vh_hooksd_hook *hook,
                     struct l1vh_error *err)
{
  const struct l1vh_json *version = l1vh_json_member(root, "version");

  if (l1vh_json_type(root) != L1VH_JSON_OBJECT)
    return l1vh_error_setx(err, "expected an object");
  if (!version)
    return l1vh_error_setx(err, "no \"version\": the 0.1.0 format is not supported, use %s",
                           L1VH_HOOKSD_VERSION);
  if (!l1vh_json_string(version) || strcmp(l1vh_json_string(version), L1VH_HOOKSD_VERSION) != 0)
    return l1vh_error_setx(err, "unsupported hook version %s%.16s%s (expecting %s)",
                           l1vh_json_string(version) ? "\"" : "",
                           l1vh_json_string(version) ? l1vh_json_string(version) : "(not a string)",
                           l1vh_json_string(version) ? "\"" : "", L1VH_HOOKSD_VERSION);
  if (parse_hook_entry(l1vh_json_member(root, "hook"), hook, err) < 0 ||
      parse_when(l1vh_json_member(root, "when"), hook, err) < 0 ||
      parse_stages(l1vh_json_member(root, "stages"), hook, err) < 0)
    return -1;
  return 0;
}

int l1vh_hooksd_parse(const char *buf, size_t len, const char *name, struct l1vh_hooksd_hook *hook,
                      struct l1vh_error *err)
{
  cleanup_json_doc struct l1vh_json_doc *doc = NULL;

  memset(hook, 0, sizeof(*hook));
  if (l1vh_json_parse(buf, len, &doc, err) < 0 || parse_doc(l1vh_json_root(doc), hook, err) < 0) {
    l1vh_hooksd_hook_free(hook);
    return l1vh_error_wrap(err, "hook %s", name);
  }
  hook->name = l1vh_xstrdup(name);
  return 0;
}

/* ---- matching ---- */

static bool bind_mount(const struct l1vh_json *m)
{
  const char *type = l1vh_json_string(l1vh_json_member(m, "type"));
  const struct l1vh_json *options = l1vh_json_member(m, "options");

  if (type && strcmp(type, "bind") == 0)
    return true;
  for (size_t i = 0; i < l1vh_json_len(options); i++) {
    const char *o = l1vh_json_string(l1vh_json_at(options, i));
    if (o && (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0))
      return true;
  }
  return false;
}

int l1vh_hooksd_input_from_spec(const struct l1vh_spec *spec, struct l1vh_hooksd_input *in,
                                struct l1vh_error *err)
{
  const struct l1vh_json *root = l1vh_json_root(spec->doc);
  const struct l1vh_json *process = l1vh_json_member(root, "process");
  const struct l1vh_json *args = l1vh_json_member(process, "args");
  const struct l1vh_json *mounts = l1vh_json_member(root, "mounts");

  memset(in, 0, sizeof(*in));
  in->annotations = spec->annotations;
  in->n_annotations = spec->n_annotations;
  in->has_process = l1vh_json_type(process) == L1VH_JSON_OBJECT;
  if (args && l1vh_json_type(args) != L1VH_JSON_ARRAY)
    return l1vh_error_setx(err, "config.json: process.args must be an array");
  if (l1vh_json_len(args) > 0) {
    in->command = l1vh_json_string(l1vh_json_at(args, 0));
    if (!in->command)
      return l1vh_error_setx(err, "config.json: process.args[0] must be a string");
  }
  if (mounts && l1vh_json_type(mounts) != L1VH_JSON_ARRAY)
    return l1vh_error_setx(err, "config.json: mounts must be an array");
  for (size_t i = 0; i < l1vh_json_len(mounts) && !in->has_bind_mounts; i++)
    in->has_bind_mounts = bind_mount(l1vh_json_at(mounts, i));
  return 0;
}

static bool search(const regex_t *re, const char *s)
{
  return regexec(re, s, 0, NULL, 0) == 0;
}

/* One annotation matches both the key and the value regex. */
static bool annotation_matches(const struct l1vh_hooksd_annotation *a,
                               const struct l1vh_hooksd_input *in)
{
  for (size_t i = 0; i < in->n_annotations; i++)
    if (search(&a->key, in->annotations[i].key) && search(&a->value, in->annotations[i].value))
      return true;
  return false;
}

int l1vh_hooksd_match(const struct l1vh_hooksd_hook *hook, const struct l1vh_hooksd_input *in,
                      bool *match, struct l1vh_error *err)
{
  size_t matches = 0;

  *match = false;
  if (hook->always == L1VH_TRI_FALSE)
    return 0;
  if (hook->always == L1VH_TRI_TRUE)
    matches++;
  if (hook->has_bind_mounts != L1VH_TRI_UNSET) {
    if (hook->has_bind_mounts == L1VH_TRI_FALSE || !in->has_bind_mounts)
      return 0;
    matches++;
  }
  for (size_t i = 0; i < hook->n_annotations; i++) {
    if (!annotation_matches(&hook->annotations[i], in))
      return 0;
    matches++;
  }
  /* commands decide on their own once everything above held; without a
   * process object they are not looked at (containers/common does so). */
  if (in->has_process && hook->n_commands > 0) {
    if (!in->command)
      return l1vh_error_setx(err, "hook %s: process.args must have at least one entry",
                             hook->name);
    for (size_t i = 0; i < hook->n_commands; i++)
      if (search(&hook->commands[i], in->command)) {
        *match = true;
        return 0;
      }
    return 0;
  }
  *match = matches > 0;
  return 0;
}

/* ---- sets and directories ---- */

/* Order by lower-cased name; names equal but for case by their bytes, so
 * the order never depends on the order of reading. */
static int name_cmp(const char *a, const char *b)
{
  const unsigned char *x = (const unsigned char *) a, *y = (const unsigned char *) b;

  for (; *x && tolower(*x) == tolower(*y); x++, y++)
    ;
  if (tolower(*x) != tolower(*y))
    return tolower(*x) - tolower(*y);
  return strcmp(a, b);
}

int l1vh_hooksd_set_add(struct l1vh_hooksd_set *set, struct l1vh_hooksd_hook *hook,
                        struct l1vh_error *err)
{
  size_t i;
  struct l1vh_hooksd_hook *bigger;

  for (i = 0; i < set->n; i++) {
    int c = name_cmp(hook->name, set->hooks[i].name);
    if (c == 0) {
      l1vh_hooksd_hook_free(&set->hooks[i]);
      set->hooks[i] = *hook;
      memset(hook, 0, sizeof(*hook));
      return 0;
    }
    if (c < 0)
      break;
  }
  if (set->n == L1VH_HOOKSD_MAX_HOOKS)
    return l1vh_error_setx(err, "hook %s: more than %d hooks", hook->name, L1VH_HOOKSD_MAX_HOOKS);
  bigger = realloc(set->hooks, (set->n + 1) * sizeof(*set->hooks));
  if (!bigger)
    abort();
  set->hooks = bigger;
  memmove(&set->hooks[i + 1], &set->hooks[i], (set->n - i) * sizeof(*set->hooks));
  set->hooks[i] = *hook;
  memset(hook, 0, sizeof(*hook));
  set->n++;
  return 0;
}

void l1vh_hooksd_set_free(struct l1vh_hooksd_set *set)
{
  for (size_t i = 0; i < set->n; i++)
    l1vh_hooksd_hook_free(&set->hooks[i]);
  free(set->hooks);
  memset(set, 0, sizeof(*set));
}

L1VH_PRINTF(3, 4)
static void reportf(l1vh_hooksd_report_fn report, void *ctx, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (n >= (int) sizeof(msg) && sizeof(msg) > 4)
    strcpy(msg + sizeof(msg) - 4, "..."); /* a cut report is still a report */
  report(ctx, msg);
}

static bool json_name(const char *name)
{
  size_t len = strlen(name);
  return len > 5 && strcmp(name + len - 5, ".json") == 0;
}

/* Read one file of dir into hook; the hook's program must exist.  The
 * directories belong to the node's operator: a symlinked file is followed,
 * as CRI-O and podman do, but only a regular file is read. */
static int read_one(int dirfd, const char *dir, const char *name, struct l1vh_hooksd_hook *hook,
                    struct l1vh_error *err)
{
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  cleanup_free char *buf = NULL;
  size_t len;
  struct stat st;

  if (fd < 0)
    return l1vh_error_set(err, errno, "hook %s: open", name);
  if (fstat(fd, &st) < 0)
    return l1vh_error_set(err, errno, "hook %s: stat", name);
  if (!S_ISREG(st.st_mode))
    return l1vh_error_setx(err, "hook %s: not a regular file", name);
  if (l1vh_read_fd_capped(fd, L1VH_HOOKSD_MAX_FILE_BYTES, &buf, &len, err) < 0)
    return l1vh_error_wrap(err, "hook %s", name);
  if (l1vh_hooksd_parse(buf, len, name, hook, err) < 0)
    return -1;
  if (stat(hook->path, &st) < 0) {
    l1vh_error_set(err, errno, "hook %s: hook.path %s", name, hook->path);
    l1vh_hooksd_hook_free(hook);
    return -1;
  }
  hook->dir = l1vh_xstrdup(dir);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_candidate(const struct dirent *d)
{
  return json_name(d->d_name);
}

static void read_dir(const char *dir, struct l1vh_hooksd_set *set, l1vh_hooksd_report_fn report,
                     void *ctx)
{
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent **names = NULL;
  int n;

  if (dirfd < 0) {
    if (errno != ENOENT)
      reportf(report, ctx, "hooks directory %s: %s", dir, strerror(errno));
    return;
  }
  n = scandirat(dirfd, ".", &names, is_candidate, by_name);
  if (n < 0) {
    reportf(report, ctx, "hooks directory %s: %s", dir, strerror(errno));
    return;
  }
  for (int i = 0; i < n; i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    struct l1vh_hooksd_hook hook;

    memset(&hook, 0, sizeof(hook));
    if (i >= L1VH_HOOKSD_MAX_FILES) {
      if (i == L1VH_HOOKSD_MAX_FILES)
        reportf(report, ctx, "hooks directory %s: more than %d hook files, the rest are ignored",
                dir, L1VH_HOOKSD_MAX_FILES);
    } else if (read_one(dirfd, dir, names[i]->d_name, &hook, &err) < 0 ||
               l1vh_hooksd_set_add(set, &hook, &err) < 0) {
      reportf(report, ctx, "hooks directory %s: %s; skipped", dir, l1vh_error_msg(&err));
      l1vh_hooksd_hook_free(&hook);
    }
    l1vh_error_clear(&err);
    free(names[i]);
  }
  free(names);
}

void l1vh_hooksd_read(const char *const *dirs, size_t n_dirs, struct l1vh_hooksd_set *set,
                      l1vh_hooksd_report_fn report, void *ctx)
{
  for (size_t i = 0; i < n_dirs; i++)
    read_dir(dirs[i], set, report, ctx);
}
