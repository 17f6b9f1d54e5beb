#define _GNU_SOURCE
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "io.h"
#include "xalloc.h"

/* ---- state ---- */

static int state_string(const struct l1vh_json *root, const char *key, bool required, char **out,
                        struct l1vh_error *err)
{
  const struct l1vh_json *v = l1vh_json_member(root, key);

  if (!v) {
    if (required)
      return l1vh_error_setx(err, "state: missing \"%s\"", key);
    return 0;
  }
  if (!l1vh_json_string(v))
    return l1vh_error_setx(err, "state: \"%s\" must be a string, got %s", key,
                           l1vh_json_type_name(l1vh_json_type(v)));
  *out = l1vh_xstrdup(l1vh_json_string(v));
  return 0;
}

static int state_fill(const struct l1vh_json *root, struct l1vh_state *state,
                      struct l1vh_error *err)
{
  const struct l1vh_json *pid;
  int64_t n;

  if (l1vh_json_type(root) != L1VH_JSON_OBJECT)
    return l1vh_error_setx(err, "state: expected an object");
  /* Lenient on what runtimes differ in (ociVersion "1.0" from crun, status
   * values); strict on what the hook relies on. */
  if (state_string(root, "ociVersion", false, &state->oci_version, err) < 0 ||
      state_string(root, "id", true, &state->id, err) < 0 ||
      state_string(root, "status", false, &state->status, err) < 0)
    return -1;
  if (l1vh_json_member(root, "bundle")) {
    if (state_string(root, "bundle", true, &state->bundle, err) < 0)
      return -1;
  } else if (state_string(root, "bundlePath", false, &state->bundle, err) < 0)
    return -1;
  if (!state->bundle)
    return l1vh_error_setx(err, "state: missing \"bundle\"");
  if (state->id[0] == '\0' || state->bundle[0] != '/')
    return l1vh_error_setx(err, "state: \"id\" must be non-empty and \"bundle\" absolute");
  pid = l1vh_json_member(root, "pid");
  if (pid) {
    if (!l1vh_json_int64(pid, &n) || n < 0 || n > 4194304) /* PID_MAX_LIMIT */
      return l1vh_error_setx(err, "state: \"pid\" must be an integer from 0 to 4194304");
    state->pid = (pid_t) n;
  }
  return 0;
}

int l1vh_state_parse(const char *buf, size_t len, struct l1vh_state *state, struct l1vh_error *err)
{
  cleanup_json_doc struct l1vh_json_doc *doc = NULL;

  memset(state, 0, sizeof(*state));
  if (l1vh_json_parse(buf, len, &doc, err) < 0)
    return l1vh_error_wrap(err, "state");
  if (state_fill(l1vh_json_root(doc), state, err) < 0) {
    l1vh_state_free(state);
    return -1;
  }
  return 0;
}

int l1vh_state_read(int fd, struct l1vh_state *state, struct l1vh_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;

  if (l1vh_read_fd_capped(fd, L1VH_STATE_MAX_BYTES, &buf, &len, err) < 0)
    return l1vh_error_wrap(err, "state on stdin");
  return l1vh_state_parse(buf, len, state, err);
}

void l1vh_state_free(struct l1vh_state *state)
{
  free(state->oci_version);
  free(state->id);
  free(state->status);
  free(state->bundle);
  memset(state, 0, sizeof(*state));
}

/* ---- spec ---- */

static int type_error(struct l1vh_error *err, const char *where, const char *what)
{
  return l1vh_error_setx(err, "config.json: %s must be %s", where, what);
}

static int spec_annotations(const struct l1vh_json *root, struct l1vh_spec *spec,
                            struct l1vh_error *err)
{
  const struct l1vh_json *ann = l1vh_json_member(root, "annotations");
  size_t n = l1vh_json_len(ann);

  if (!ann)
    return 0;
  if (l1vh_json_type(ann) != L1VH_JSON_OBJECT)
    return type_error(err, "annotations", "an object");
  if (n > L1VH_MAX_ANNOTATIONS)
    return l1vh_error_setx(err, "config.json: more than %d annotations", L1VH_MAX_ANNOTATIONS);
  spec->annotations = l1vh_xcalloc(n, sizeof(*spec->annotations));
  for (size_t i = 0; i < n; i++) {
    const char *value = l1vh_json_string(l1vh_json_at(ann, i));
    if (!value)
      return l1vh_error_setx(err, "config.json: annotation \"%s\" must be a string",
                             l1vh_json_key_at(ann, i));
    spec->annotations[spec->n_annotations].key = l1vh_json_key_at(ann, i);
    spec->annotations[spec->n_annotations].value = value;
    spec->n_annotations++;
  }
  return 0;
}

static int spec_id(const struct l1vh_json *user, const char *key, uint32_t *out,
                   struct l1vh_error *err)
{
  const struct l1vh_json *v = l1vh_json_member(user, key);
  int64_t n;

  if (!v)
    return 0;
  if (!l1vh_json_int64(v, &n) || n < 0 || n > (int64_t) UINT32_MAX - 1)
    return l1vh_error_setx(err, "config.json: process.user.%s must be an integer from 0 to %u",
                           key, UINT32_MAX - 1);
  *out = (uint32_t) n;
  return 0;
}

static int spec_process(const struct l1vh_json *root, struct l1vh_spec *spec,
                        struct l1vh_error *err)
{
  const struct l1vh_json *process = l1vh_json_member(root, "process");
  const struct l1vh_json *user = l1vh_json_member(process, "user");
  const struct l1vh_json *rlimits = l1vh_json_member(process, "rlimits");
  size_t n = l1vh_json_len(rlimits);

  if (process && l1vh_json_type(process) != L1VH_JSON_OBJECT)
    return type_error(err, "process", "an object");
  if (user && l1vh_json_type(user) != L1VH_JSON_OBJECT)
    return type_error(err, "process.user", "an object");
  if (spec_id(user, "uid", &spec->uid, err) < 0 || spec_id(user, "gid", &spec->gid, err) < 0)
    return -1;
  if (!rlimits)
    return 0;
  if (l1vh_json_type(rlimits) != L1VH_JSON_ARRAY)
    return type_error(err, "process.rlimits", "an array");
  if (n > L1VH_MAX_RLIMITS)
    return l1vh_error_setx(err, "config.json: more than %d process.rlimits", L1VH_MAX_RLIMITS);
  spec->rlimits = l1vh_xcalloc(n, sizeof(*spec->rlimits));
  for (size_t i = 0; i < n; i++) {
    const struct l1vh_json *r = l1vh_json_at(rlimits, i);
    const char *type = l1vh_json_string(l1vh_json_member(r, "type"));
    int64_t soft, hard;

    /* Limits are uint64 in the spec; yajl reads only int64, and the only
     * value above that range a runtime writes is "unlimited" (2^64-1). */
    if (!type)
      return type_error(err, "process.rlimits[].type", "a string");
    if (!l1vh_json_int64(l1vh_json_member(r, "soft"), &soft))
      soft = -1;
    if (!l1vh_json_int64(l1vh_json_member(r, "hard"), &hard))
      hard = -1;
    spec->rlimits[i].type = type;
    spec->rlimits[i].soft = (uint64_t) soft;
    spec->rlimits[i].hard = (uint64_t) hard;
    spec->n_rlimits++;
  }
  return 0;
}

static int spec_devices(const struct l1vh_json *linux_, struct l1vh_spec *spec,
                        struct l1vh_error *err)
{
  const struct l1vh_json *devices = l1vh_json_member(linux_, "devices");
  size_t n = l1vh_json_len(devices);

  if (!devices)
    return 0;
  if (l1vh_json_type(devices) != L1VH_JSON_ARRAY)
    return type_error(err, "linux.devices", "an array");
  if (n > L1VH_MAX_DEVICES)
    return l1vh_error_setx(err, "config.json: more than %d linux.devices", L1VH_MAX_DEVICES);
  spec->devices = l1vh_xcalloc(n, sizeof(*spec->devices));
  for (size_t i = 0; i < n; i++) {
    const struct l1vh_json *d = l1vh_json_at(devices, i);
    struct l1vh_spec_device *out = &spec->devices[i];

    out->path = l1vh_json_string(l1vh_json_member(d, "path"));
    out->type = l1vh_json_string(l1vh_json_member(d, "type"));
    if (!out->path || !out->type)
      return type_error(err, "linux.devices[].path and .type", "strings");
    if (!l1vh_json_int64(l1vh_json_member(d, "major"), &out->major))
      out->major = -1;
    if (!l1vh_json_int64(l1vh_json_member(d, "minor"), &out->minor))
      out->minor = -1;
    spec->n_devices++;
  }
  return 0;
}

static int spec_linux(const struct l1vh_json *root, struct l1vh_spec *spec, struct l1vh_error *err)
{
  const struct l1vh_json *linux_ = l1vh_json_member(root, "linux");
  const struct l1vh_json *memory =
    l1vh_json_member(l1vh_json_member(linux_, "resources"), "memory");
  int64_t limit;

  if (linux_ && l1vh_json_type(linux_) != L1VH_JSON_OBJECT)
    return type_error(err, "linux", "an object");
  if (l1vh_json_int64(l1vh_json_member(memory, "limit"), &limit) && limit > 0) {
    spec->has_memory_limit = true;
    spec->memory_limit = limit;
  }
  return spec_devices(linux_, spec, err);
}

int l1vh_spec_parse(const char *buf, size_t len, struct l1vh_spec *spec, struct l1vh_error *err)
{
  const struct l1vh_json *root, *rootfs;

  memset(spec, 0, sizeof(*spec));
  if (l1vh_json_parse(buf, len, &spec->doc, err) < 0)
    return l1vh_error_wrap(err, "config.json");
  root = l1vh_json_root(spec->doc);
  if (l1vh_json_type(root) != L1VH_JSON_OBJECT) {
    l1vh_spec_free(spec);
    return l1vh_error_setx(err, "config.json: expected an object");
  }
  rootfs = l1vh_json_member(root, "root");
  spec->root_path = l1vh_json_string(l1vh_json_member(rootfs, "path"));
  if (spec_annotations(root, spec, err) < 0 || spec_process(root, spec, err) < 0 ||
      spec_linux(root, spec, err) < 0) {
    l1vh_spec_free(spec);
    return -1;
  }
  return 0;
}

int l1vh_spec_load(const char *bundle, struct l1vh_spec *spec, struct l1vh_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  /* The bundle path comes from the runtime; the file inside it is opened
   * without following a symlink and must be a regular file. */
  cleanup_close int dirfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dirfd < 0)
    return l1vh_error_set(err, errno, "bundle %s", bundle);
  if (l1vh_read_file_capped(dirfd, "config.json", L1VH_SPEC_MAX_BYTES, &buf, &len, err) < 0)
    return l1vh_error_wrap(err, "bundle %s", bundle);
  return l1vh_spec_parse(buf, len, spec, err);
}

void l1vh_spec_free(struct l1vh_spec *spec)
{
  free(spec->annotations);
  free(spec->devices);
  free(spec->rlimits);
  l1vh_json_doc_free(spec->doc);
  memset(spec, 0, sizeof(*spec));
}

const char *l1vh_spec_annotation(const struct l1vh_spec *spec, const char *key)
{
  for (size_t i = 0; i < spec->n_annotations; i++)
    if (strcmp(spec->annotations[i].key, key) == 0)
      return spec->annotations[i].value;
  return NULL;
}

const struct l1vh_spec_rlimit *l1vh_spec_rlimit(const struct l1vh_spec *spec, const char *type)
{
  for (size_t i = 0; i < spec->n_rlimits; i++)
    if (strcmp(spec->rlimits[i].type, type) == 0)
      return &spec->rlimits[i];
  return NULL;
}
