/* l1vh: the OCI state on the hook's stdin and the bundle's config.json. */
#ifndef L1VH_SPEC_H
#define L1VH_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "json.h"

#define L1VH_STATE_MAX_BYTES (1024 * 1024)
#define L1VH_SPEC_MAX_BYTES (8 * 1024 * 1024)
#define L1VH_MAX_ANNOTATIONS 4096
#define L1VH_MAX_DEVICES 4096
#define L1VH_MAX_RLIMITS 64

struct l1vh_state {
  char *oci_version;
  char *id;
  char *status;
  char *bundle; /* "bundle", or the legacy "bundlePath" */
  pid_t pid;    /* 0 when the state has none (dry-run) */
};

struct l1vh_kv {
  const char *key, *value; /* point into the spec's document */
};

struct l1vh_spec_device {
  const char *path, *type; /* type "c", "b", "u" or "p" */
  int64_t major, minor;
};

struct l1vh_spec_rlimit {
  const char *type; /* "RLIMIT_MEMLOCK", ... */
  uint64_t soft, hard;
};

struct l1vh_spec {
  struct l1vh_json_doc *doc; /* owns every string below */
  const char *root_path;     /* root.path as written: may be relative to the bundle */
  uid_t uid;                 /* process.user */
  gid_t gid;
  struct l1vh_kv *annotations;
  size_t n_annotations;
  struct l1vh_spec_device *devices; /* linux.devices */
  size_t n_devices;
  struct l1vh_spec_rlimit *rlimits; /* process.rlimits */
  size_t n_rlimits;
  bool has_memory_limit; /* linux.resources.memory.limit > 0 */
  int64_t memory_limit;
};

int l1vh_state_parse(const char *buf, size_t len, struct l1vh_state *state, struct l1vh_error *err);
/* Read the state from fd (the hook's stdin), capped. */
int l1vh_state_read(int fd, struct l1vh_state *state, struct l1vh_error *err);
void l1vh_state_free(struct l1vh_state *state);

int l1vh_spec_parse(const char *buf, size_t len, struct l1vh_spec *spec, struct l1vh_error *err);
/* Read <bundle>/config.json: the bundle is opened as a directory, the file
 * without following a symlink, and only a regular file is read. */
int l1vh_spec_load(const char *bundle, struct l1vh_spec *spec, struct l1vh_error *err);
void l1vh_spec_free(struct l1vh_spec *spec);

const char *l1vh_spec_annotation(const struct l1vh_spec *spec, const char *key);
const struct l1vh_spec_rlimit *l1vh_spec_rlimit(const struct l1vh_spec *spec, const char *type);

#endif
