/* l1vh-shim: the runc / crun command line, read without changing it.
 *
 * Callers (containerd's runc shim, CRI-O, podman) put global options first:
 *   BIN --root R --log F --log-format json [--systemd-cgroup] create \
 *       --bundle B --pid-file P [--console-socket S] ID
 * Options come in Go's flag forms (runc: --opt V, --opt=V, -opt V, -opt=V)
 * and getopt's (crun: -bB, --opt=V); an option list ends at "--". */
#ifndef L1VH_SHIM_ARGS_H
#define L1VH_SHIM_ARGS_H

#include <stdbool.h>

#include "error.h"

struct l1vh_shim_args {
  int cmd_index;          /* argv index of the subcommand; 0 when there is none */
  const char *cmd;        /* "create", "state", ...; NULL when none */
  const char *log;        /* --log FILE */
  const char *log_format; /* --log-format text|json */
  const char *bundle;     /* create/run: --bundle / -b; NULL: the current directory */
  const char *config;     /* crun's --config / -f: the spec's file name in the bundle */
  const char *id;         /* create/run: the container id */
};

/* The global options and the subcommand: a walk over argv, nothing more,
 * so a pass-through call costs no parsing. */
void l1vh_shim_parse_global(int argc, char *const *argv, struct l1vh_shim_args *a);
/* Does the subcommand create a container from a bundle (create, run)? */
bool l1vh_shim_edits(const struct l1vh_shim_args *a);
/* The options of create / run after the subcommand: bundle, config, id.
 * Fails when an option that takes a value has none. */
int l1vh_shim_parse_create(int argc, char *const *argv, struct l1vh_shim_args *a,
                           struct l1vh_error *err);

#endif
