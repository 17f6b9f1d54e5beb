/* l1vh: the node config (gate and policy), docs/config.md. */
#ifndef L1VH_CONFIG_H
#define L1VH_CONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define L1VH_CONFIG_DEFAULT_PATH "/etc/l1vh/config.json"
#define L1VH_CONFIG_ENV "L1VH_CONFIG"
#define L1VH_GATE "HyperVL1VH"
#define L1VH_CONFIG_MAX_BYTES (64 * 1024)

enum l1vh_domain_strategy { L1VH_DOMAIN_AUTO, L1VH_DOMAIN_XML, L1VH_DOMAIN_EMULATOR, L1VH_DOMAIN_OFF };
enum l1vh_memlock_when { L1VH_MEMLOCK_KUBEVIRT, L1VH_MEMLOCK_ALWAYS, L1VH_MEMLOCK_NEVER };
enum l1vh_on_error { L1VH_ON_ERROR_FAIL, L1VH_ON_ERROR_WARN };
enum l1vh_log_level { L1VH_LOG_ERROR, L1VH_LOG_WARN, L1VH_LOG_INFO, L1VH_LOG_DEBUG };

#define L1VH_MAX_REWRITE_TYPES 8
#define L1VH_MAX_LIST 8

struct l1vh_config {
  char *source; /* the file it came from, or "defaults" */
  bool gate;    /* featureGates contains HyperVL1VH */

  struct {
    char *path;
    mode_t mode;
    bool has_uid, has_gid; /* false: the container process's own */
    uid_t uid;
    gid_t gid;
  } device;

  struct {
    enum l1vh_domain_strategy strategy;
    char *type;  /* target domain type, "hyperv" */
    char *accel; /* target accelerator, "mshv" */
    char *rewrite[L1VH_MAX_REWRITE_TYPES];
    size_t n_rewrite;
  } domain;

  struct {
    enum l1vh_memlock_when when;
    char *size; /* "auto", "unlimited" or a quantity, validated */
  } memlock;

  struct {
    char *container_name;
    char *pod_annotation;
    char *sandbox_name_prefix;
    char *image_regex; /* NULL: any image */
    regex_t image_re;  /* compiled when image_regex is set */
  } match;

  struct {
    char *path[L1VH_MAX_LIST]; /* the real runtime, tried in order (shim) */
    size_t n_path;
    char *hooks_dirs[L1VH_MAX_LIST]; /* hooks.d dirs the shim injects from */
    size_t n_hooks_dirs;
    char *hook; /* l1vh-hook the shim adds; NULL: next to the shim */
  } runtime;

  struct {
    char *dir;     /* the hook's per-container decision records */
    char *metrics; /* Prometheus textfile, NULL: none */
  } state;

  enum l1vh_on_error on_error;
  enum l1vh_log_level log_level;
};

/* Fill cfg with the defaults (gate off). */
void l1vh_config_defaults(struct l1vh_config *cfg);
/* Parse a config document; name is used in messages. */
int l1vh_config_parse(const char *buf, size_t len, const char *name, struct l1vh_config *cfg,
                      struct l1vh_error *err);
/* Load path; a missing file means the defaults.  On error cfg holds the
 * defaults, so a caller can still tell a VM container from any other. */
int l1vh_config_load(const char *path, struct l1vh_config *cfg, struct l1vh_error *err);
/* --config, else $L1VH_CONFIG, else the default path. */
const char *l1vh_config_path(const char *flag);
void l1vh_config_free(struct l1vh_config *cfg);

const char *l1vh_domain_strategy_name(enum l1vh_domain_strategy s);

#endif
