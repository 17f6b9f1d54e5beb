/* l1vh-shim: finding and executing the real runtime. */
#ifndef L1VH_SHIM_RUNTIME_H
#define L1VH_SHIM_RUNTIME_H

#include <limits.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

struct l1vh_shim_runtimes {
  char *names[L1VH_MAX_LIST];
  size_t n;
};

/* The node config's runtime.path, read on every call (a container created
 * through crun must be stopped through crun) but only that key: no other
 * part of the config is looked at.  A missing or unreadable config, or a
 * runtime.path that is not a list of names, gives the defaults (runc, then
 * crun), which is what the full config reader falls back to as well. */
void l1vh_shim_runtimes_read(const char *config_path, struct l1vh_shim_runtimes *rt);
void l1vh_shim_runtimes_free(struct l1vh_shim_runtimes *rt);

/* The first of the names that is an executable file and not this shim
 * (a shim installed as "runc" must not call itself): a name with a '/' as
 * it is, any other searched on $PATH. */
int l1vh_shim_runtime_find(const struct l1vh_shim_runtimes *rt, char *out, size_t size,
                           struct l1vh_error *err);

/* execv the runtime with argv (argv[0] becomes its path), this process's
 * environment and file descriptors.  Returns only on failure. */
int l1vh_shim_runtime_exec(const char *path, char **argv, struct l1vh_error *err);

#endif
