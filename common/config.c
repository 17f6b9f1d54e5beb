#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bounded_regex.h"
#include "cleanup.h"
#include "io.h"
#include "json.h"
#include "quantity.h"
#include "xalloc.h"

/* One member of a config object: its key and how to read it.  Every key
 * not in the table is an error, so a typo never silently means a default. */
struct field {
  const char *key;
  int (*read)(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
              struct l1vh_error *err);
};

static void replace(char **dst, const char *s)
{
  free(*dst);
  *dst = s ? l1vh_xstrdup(s) : NULL;
}

static int expected(struct l1vh_error *err, const char *where, const char *what,
                    const struct l1vh_json *v)
{
  return l1vh_error_setx(err, "%s: expected %s, got %s", where, what,
                         l1vh_json_type_name(l1vh_json_type(v)));
}

static int read_string(const struct l1vh_json *v, const char *where, char **out,
                       struct l1vh_error *err)
{
  const char *s = l1vh_json_string(v);

  if (!s)
    return expected(err, where, "a string", v);
  replace(out, s);
  return 0;
}

static int read_nonempty(const struct l1vh_json *v, const char *where, char **out,
                         struct l1vh_error *err)
{
  if (read_string(v, where, out, err) < 0)
    return -1;
  if (**out == '\0')
    return l1vh_error_setx(err, "%s: expected a non-empty string", where);
  return 0;
}

static int read_abs_path(const struct l1vh_json *v, const char *where, char **out,
                         struct l1vh_error *err)
{
  if (read_nonempty(v, where, out, err) < 0)
    return -1;
  if ((*out)[0] != '/' || strstr(*out, "/../") || strlen(*out) >= 256)
    return l1vh_error_setx(err, "%s: expected an absolute path without \"..\", got \"%s\"",
                           where, *out);
  return 0;
}

/* Pick one of names[]; *out is the index. */
static int read_enum(const struct l1vh_json *v, const char *where, const char *const *names,
                     size_t n, int *out, struct l1vh_error *err)
{
  const char *s = l1vh_json_string(v);

  for (size_t i = 0; s && i < n; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = (int) i;
      return 0;
    }
  char list[128] = "";
  for (size_t i = 0; i < n; i++) {
    strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
    strncat(list, names[i], sizeof(list) - strlen(list) - 1);
  }
  if (!s)
    return expected(err, where, "a string", v);
  return l1vh_error_setx(err, "%s: expected one of %s, got \"%s\"", where, list, s);
}

static int read_id(const struct l1vh_json *v, const char *where, bool *has, uint32_t *out,
                   struct l1vh_error *err)
{
  int64_t n;

  if (l1vh_json_type(v) == L1VH_JSON_NULL) {
    *has = false;
    return 0;
  }
  /* (uid_t) -1 means "no change" to chown: refuse it. */
  if (!l1vh_json_int64(v, &n) || n < 0 || n >= (int64_t) UINT32_MAX)
    return l1vh_error_setx(err, "%s: expected null or an integer from 0 to %u", where,
                           UINT32_MAX - 1);
  *has = true;
  *out = (uint32_t) n;
  return 0;
}

/* Walk an object with a field table; prefix names the object in messages. */
static int read_object(const struct l1vh_json *obj, const char *prefix, const struct field *fields,
                       size_t n_fields, struct l1vh_config *cfg, struct l1vh_error *err)
{
  if (l1vh_json_type(obj) != L1VH_JSON_OBJECT)
    return expected(err, prefix[0] ? prefix : "the document", "an object", obj);
  for (size_t i = 0; i < l1vh_json_len(obj); i++) {
    const char *key = l1vh_json_key_at(obj, i);
    char where[128];
    size_t f;

    if (snprintf(where, sizeof(where), "%s%s%s", prefix, prefix[0] ? "." : "", key) >=
        (int) sizeof(where))
      return l1vh_error_setx(err, "%s: key too long", prefix[0] ? prefix : "the document");
    for (f = 0; f < n_fields; f++)
      if (strcmp(fields[f].key, key) == 0)
        break;
    if (f == n_fields)
      return l1vh_error_setx(err, "unknown key \"%s\"", where);
    if (fields[f].read(l1vh_json_at(obj, i), where, cfg, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- featureGates ---- */

static int read_gates(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                      struct l1vh_error *err)
{
  if (l1vh_json_type(v) != L1VH_JSON_ARRAY)
    return expected(err, where, "an array of strings", v);
  cfg->gate = false;
  for (size_t i = 0; i < l1vh_json_len(v); i++) {
    const char *gate = l1vh_json_string(l1vh_json_at(v, i));
    if (!gate)
      return expected(err, where, "an array of strings", l1vh_json_at(v, i));
    if (strcmp(gate, L1VH_GATE) == 0)
      cfg->gate = true;
  }
  return 0;
}

/* ---- device ---- */

static int read_device_path(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                            struct l1vh_error *err)
{
  return read_abs_path(v, where, &cfg->device.path, err);
}

static int read_device_mode(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                            struct l1vh_error *err)
{
  const char *s = l1vh_json_string(v);
  char *end;
  unsigned long mode;

  if (!s)
    return expected(err, where, "an octal string like \"0660\"", v);
  errno = 0;
  mode = strtoul(s, &end, 8);
  if (!*s || *end || errno || mode > 0777 || s[0] == '-' || s[0] == '+' || s[0] == ' ')
    return l1vh_error_setx(err, "%s: expected an octal mode from \"0000\" to \"0777\", got \"%s\"",
                           where, s);
  cfg->device.mode = (mode_t) mode;
  return 0;
}

static int read_device_uid(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                           struct l1vh_error *err)
{
  return read_id(v, where, &cfg->device.has_uid, &cfg->device.uid, err);
}

static int read_device_gid(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                           struct l1vh_error *err)
{
  return read_id(v, where, &cfg->device.has_gid, &cfg->device.gid, err);
}

static int read_device(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                       struct l1vh_error *err)
{
  static const struct field fields[] = {
    {"path", read_device_path},
    {"mode", read_device_mode},
    {"uid", read_device_uid},
    {"gid", read_device_gid},
  };
  return read_object(v, where, fields, L1VH_ARRAY_SIZE(fields), cfg, err);
}

/* ---- domain ---- */

static const char *const strategy_names[] = {"auto", "xml", "emulator", "off"};

const char *l1vh_domain_strategy_name(enum l1vh_domain_strategy s)
{
  return (size_t) s < L1VH_ARRAY_SIZE(strategy_names) ? strategy_names[s] : "?";
}

static int read_domain_strategy(const struct l1vh_json *v, const char *where,
                                struct l1vh_config *cfg, struct l1vh_error *err)
{
  int i;
  if (read_enum(v, where, strategy_names, L1VH_ARRAY_SIZE(strategy_names), &i, err) < 0)
    return -1;
  cfg->domain.strategy = (enum l1vh_domain_strategy) i;
  return 0;
}

/* Domain types and accelerators are single XML / command-line tokens. */
static int read_token(const struct l1vh_json *v, const char *where, char **out,
                      struct l1vh_error *err)
{
  if (read_nonempty(v, where, out, err) < 0)
    return -1;
  if (strlen(*out) > 32 || strspn(*out, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(*out))
    return l1vh_error_setx(err, "%s: expected a lower-case name (a-z, 0-9, '-', '_'), got \"%s\"",
                           where, *out);
  return 0;
}

static int read_domain_type(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                            struct l1vh_error *err)
{
  return read_token(v, where, &cfg->domain.type, err);
}

static int read_domain_accel(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                             struct l1vh_error *err)
{
  return read_token(v, where, &cfg->domain.accel, err);
}

static int read_domain_rewrite(const struct l1vh_json *v, const char *where,
                               struct l1vh_config *cfg, struct l1vh_error *err)
{
  if (l1vh_json_type(v) != L1VH_JSON_ARRAY)
    return expected(err, where, "an array of domain types", v);
  if (l1vh_json_len(v) > L1VH_MAX_REWRITE_TYPES)
    return l1vh_error_setx(err, "%s: more than %d domain types", where, L1VH_MAX_REWRITE_TYPES);
  for (size_t i = 0; i < cfg->domain.n_rewrite; i++)
    replace(&cfg->domain.rewrite[i], NULL);
  cfg->domain.n_rewrite = 0;
  for (size_t i = 0; i < l1vh_json_len(v); i++) {
    /* Counted before it is checked: a refused entry is stored already and
     * l1vh_config_free must see it. */
    cfg->domain.n_rewrite = i + 1;
    if (read_token(l1vh_json_at(v, i), where, &cfg->domain.rewrite[i], err) < 0)
      return -1;
  }
  return 0;
}

static int read_domain(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                       struct l1vh_error *err)
{
  static const struct field fields[] = {
    {"strategy", read_domain_strategy},
    {"type", read_domain_type},
    {"accel", read_domain_accel},
    {"rewrite", read_domain_rewrite},
  };
  return read_object(v, where, fields, L1VH_ARRAY_SIZE(fields), cfg, err);
}

/* ---- memlock ---- */

static int read_memlock_when(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                             struct l1vh_error *err)
{
  static const char *const names[] = {"kubevirt", "always", "never"};
  int i;
  if (read_enum(v, where, names, L1VH_ARRAY_SIZE(names), &i, err) < 0)
    return -1;
  cfg->memlock.when = (enum l1vh_memlock_when) i;
  return 0;
}

static int read_memlock_size(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                             struct l1vh_error *err)
{
  uint64_t bytes;

  if (read_nonempty(v, where, &cfg->memlock.size, err) < 0)
    return -1;
  if (strcmp(cfg->memlock.size, "auto") == 0 || strcmp(cfg->memlock.size, "unlimited") == 0)
    return 0;
  if (l1vh_quantity_parse(cfg->memlock.size, &bytes, err) < 0)
    return l1vh_error_wrap(err, "%s: expected \"auto\", \"unlimited\" or a quantity", where);
  return 0;
}

static int read_memlock(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                        struct l1vh_error *err)
{
  static const struct field fields[] = {
    {"when", read_memlock_when},
    {"size", read_memlock_size},
  };
  return read_object(v, where, fields, L1VH_ARRAY_SIZE(fields), cfg, err);
}

/* ---- match ---- */

static int read_match_container(const struct l1vh_json *v, const char *where,
                                struct l1vh_config *cfg, struct l1vh_error *err)
{
  return read_nonempty(v, where, &cfg->match.container_name, err);
}

static int read_match_annotation(const struct l1vh_json *v, const char *where,
                                 struct l1vh_config *cfg, struct l1vh_error *err)
{
  return read_nonempty(v, where, &cfg->match.pod_annotation, err);
}

static int read_match_prefix(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                             struct l1vh_error *err)
{
  return read_nonempty(v, where, &cfg->match.sandbox_name_prefix, err);
}

static int read_match_image(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                            struct l1vh_error *err)
{
  if (cfg->match.image_regex) {
    regfree(&cfg->match.image_re);
    replace(&cfg->match.image_regex, NULL);
  }
  if (l1vh_json_type(v) == L1VH_JSON_NULL)
    return 0;
  if (!l1vh_json_string(v))
    return expected(err, where, "null or a regular expression", v);
  if (l1vh_regex_compile(&cfg->match.image_re, l1vh_json_string(v), err) < 0)
    return l1vh_error_wrap(err, "%s: invalid regular expression", where);
  cfg->match.image_regex = l1vh_xstrdup(l1vh_json_string(v));
  return 0;
}

static int read_match(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                      struct l1vh_error *err)
{
  static const struct field fields[] = {
    {"containerName", read_match_container},
    {"podAnnotation", read_match_annotation},
    {"sandboxNamePrefix", read_match_prefix},
    {"imageRegex", read_match_image},
  };
  return read_object(v, where, fields, L1VH_ARRAY_SIZE(fields), cfg, err);
}

/* ---- runtime (the shim) ---- */

static int read_string_list(const struct l1vh_json *v, const char *where, char **list,
                            size_t max, size_t *n, struct l1vh_error *err)
{
  if (l1vh_json_type(v) != L1VH_JSON_ARRAY)
    return expected(err, where, "an array of strings", v);
  if (l1vh_json_len(v) > max)
    return l1vh_error_setx(err, "%s: more than %zu entries", where, max);
  for (size_t i = 0; i < *n; i++)
    replace(&list[i], NULL);
  *n = 0;
  for (size_t i = 0; i < l1vh_json_len(v); i++) {
    if (read_nonempty(l1vh_json_at(v, i), where, &list[i], err) < 0)
      return -1;
    *n = i + 1;
  }
  return 0;
}

static int read_runtime_path(const struct l1vh_json *v, const char *where,
                             struct l1vh_config *cfg, struct l1vh_error *err)
{
  return read_string_list(v, where, cfg->runtime.path, L1VH_MAX_LIST, &cfg->runtime.n_path, err);
}

static int read_runtime_hooks_dirs(const struct l1vh_json *v, const char *where,
                                   struct l1vh_config *cfg, struct l1vh_error *err)
{
  return read_string_list(v, where, cfg->runtime.hooks_dirs, L1VH_MAX_LIST,
                          &cfg->runtime.n_hooks_dirs, err);
}

static int read_runtime_hook(const struct l1vh_json *v, const char *where,
                             struct l1vh_config *cfg, struct l1vh_error *err)
{
  if (l1vh_json_type(v) == L1VH_JSON_NULL) {
    replace(&cfg->runtime.hook, NULL);
    return 0;
  }
  if (read_nonempty(v, where, &cfg->runtime.hook, err) < 0)
    return -1;
  if (cfg->runtime.hook[0] != '/')
    return l1vh_error_setx(err, "%s: expected an absolute path", where);
  return 0;
}

static int read_runtime(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                        struct l1vh_error *err)
{
  static const struct field fields[] = {
    {"path", read_runtime_path},
    {"hooksDirs", read_runtime_hooks_dirs},
    {"hook", read_runtime_hook},
  };
  return read_object(v, where, fields, L1VH_ARRAY_SIZE(fields), cfg, err);
}

/* ---- state ---- */

static int read_state_dir(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                          struct l1vh_error *err)
{
  return read_abs_path(v, where, &cfg->state.dir, err);
}

static int read_state_metrics(const struct l1vh_json *v, const char *where,
                              struct l1vh_config *cfg, struct l1vh_error *err)
{
  if (l1vh_json_type(v) == L1VH_JSON_NULL) {
    replace(&cfg->state.metrics, NULL);
    return 0;
  }
  return read_abs_path(v, where, &cfg->state.metrics, err);
}

static int read_state(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                      struct l1vh_error *err)
{
  static const struct field fields[] = {
    {"dir", read_state_dir},
    {"metrics", read_state_metrics},
  };
  return read_object(v, where, fields, L1VH_ARRAY_SIZE(fields), cfg, err);
}

/* ---- onError, log ---- */

static int read_on_error(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                         struct l1vh_error *err)
{
  static const char *const names[] = {"fail", "warn"};
  int i;
  if (read_enum(v, where, names, L1VH_ARRAY_SIZE(names), &i, err) < 0)
    return -1;
  cfg->on_error = (enum l1vh_on_error) i;
  return 0;
}

static int read_log_level(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                          struct l1vh_error *err)
{
  static const char *const names[] = {"error", "warn", "info", "debug"};
  int i;
  if (read_enum(v, where, names, L1VH_ARRAY_SIZE(names), &i, err) < 0)
    return -1;
  cfg->log_level = (enum l1vh_log_level) i;
  return 0;
}

static int read_log(const struct l1vh_json *v, const char *where, struct l1vh_config *cfg,
                    struct l1vh_error *err)
{
  static const struct field fields[] = {{"level", read_log_level}};
  return read_object(v, where, fields, L1VH_ARRAY_SIZE(fields), cfg, err);
}

/* ---- the document ---- */

void l1vh_config_defaults(struct l1vh_config *cfg)
{
  static const char *const default_hooks_dirs[] = {"/usr/share/containers/oci/hooks.d",
                                                   "/etc/containers/oci/hooks.d"};
  memset(cfg, 0, sizeof(*cfg));
  cfg->source = l1vh_xstrdup("defaults");
  cfg->device.path = l1vh_xstrdup("/dev/mshv");
  cfg->device.mode = 0660;
  cfg->domain.strategy = L1VH_DOMAIN_AUTO;
  cfg->domain.type = l1vh_xstrdup("hyperv");
  cfg->domain.accel = l1vh_xstrdup("mshv");
  cfg->domain.rewrite[0] = l1vh_xstrdup("kvm");
  cfg->domain.rewrite[1] = l1vh_xstrdup("qemu");
  cfg->domain.n_rewrite = 2;
  cfg->memlock.when = L1VH_MEMLOCK_KUBEVIRT;
  cfg->memlock.size = l1vh_xstrdup("auto");
  cfg->match.container_name = l1vh_xstrdup("compute");
  cfg->match.pod_annotation = l1vh_xstrdup("kubevirt.io/domain");
  cfg->match.sandbox_name_prefix = l1vh_xstrdup("virt-launcher-");
  cfg->runtime.path[0] = l1vh_xstrdup("runc");
  cfg->runtime.path[1] = l1vh_xstrdup("crun");
  cfg->runtime.n_path = 2;
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(default_hooks_dirs); i++)
    cfg->runtime.hooks_dirs[i] = l1vh_xstrdup(default_hooks_dirs[i]);
  cfg->runtime.n_hooks_dirs = L1VH_ARRAY_SIZE(default_hooks_dirs);
  cfg->state.dir = l1vh_xstrdup("/run/l1vh");
  cfg->on_error = L1VH_ON_ERROR_FAIL;
  cfg->log_level = L1VH_LOG_INFO;
}

int l1vh_config_parse(const char *buf, size_t len, const char *name, struct l1vh_config *cfg,
                      struct l1vh_error *err)
{
  static const struct field fields[] = {
    {"featureGates", read_gates}, {"device", read_device},   {"domain", read_domain},
    {"memlock", read_memlock},    {"match", read_match},     {"runtime", read_runtime},
    {"state", read_state},        {"onError", read_on_error}, {"log", read_log},
  };
  cleanup_json_doc struct l1vh_json_doc *doc = NULL;

  l1vh_config_defaults(cfg);
  replace(&cfg->source, name);
  if (l1vh_json_parse(buf, len, &doc, err) < 0 ||
      read_object(l1vh_json_root(doc), "", fields, L1VH_ARRAY_SIZE(fields), cfg, err) < 0) {
    /* Nothing half-read survives: the caller gets the defaults back. */
    l1vh_config_free(cfg);
    l1vh_config_defaults(cfg);
    return l1vh_error_wrap(err, "config %s", name);
  }
  return 0;
}

int l1vh_config_load(const char *path, struct l1vh_config *cfg, struct l1vh_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;

  /* The node config is written by the operator, so following a symlink is
   * fine here (unlike anything inside a container). */
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;

  if (fd < 0 && errno == ENOENT) {
    l1vh_config_defaults(cfg);
    return 0;
  }
  l1vh_config_defaults(cfg);
  if (fd < 0)
    return l1vh_error_set(err, errno, "config %s: open", path);
  if (fstat(fd, &st) < 0)
    return l1vh_error_set(err, errno, "config %s: stat", path);
  if (!S_ISREG(st.st_mode))
    return l1vh_error_setx(err, "config %s: not a regular file", path);
  if (l1vh_read_fd_capped(fd, L1VH_CONFIG_MAX_BYTES, &buf, &len, err) < 0)
    return l1vh_error_wrap(err, "config %s", path);
  l1vh_config_free(cfg);
  return l1vh_config_parse(buf, len, path, cfg, err);
}

const char *l1vh_config_path(const char *flag)
{
  const char *env = getenv(L1VH_CONFIG_ENV);

  if (flag)
    return flag;
  if (env && *env)
    return env;
  return L1VH_CONFIG_DEFAULT_PATH;
}

void l1vh_config_free(struct l1vh_config *cfg)
{
  free(cfg->source);
  free(cfg->device.path);
  free(cfg->domain.type);
  free(cfg->domain.accel);
  for (size_t i = 0; i < cfg->domain.n_rewrite; i++)
    free(cfg->domain.rewrite[i]);
  free(cfg->memlock.size);
  free(cfg->match.container_name);
  free(cfg->match.pod_annotation);
  free(cfg->match.sandbox_name_prefix);
  if (cfg->match.image_regex) {
    free(cfg->match.image_regex);
    regfree(&cfg->match.image_re);
  }
  for (size_t i = 0; i < cfg->runtime.n_path; i++)
    free(cfg->runtime.path[i]);
  for (size_t i = 0; i < cfg->runtime.n_hooks_dirs; i++)
    free(cfg->runtime.hooks_dirs[i]);
  free(cfg->runtime.hook);
  free(cfg->state.dir);
  free(cfg->state.metrics);
  memset(cfg, 0, sizeof(*cfg));
}
