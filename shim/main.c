/* l1vh-shim: a runc-compatible exec shim (docs/shim.md).
 *
 * Called by a runtime manager in place of runc.  Every subcommand but
 * create and run goes straight to the real runtime with the same argv,
 * environment and file descriptors; create and run first write the plan
 * into the bundle's spec when L1VH applies, and inject the hooks.d hooks. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "create.h"
#include "log.h"
#include "runtime.h"
#include "sandbox.h"

/* Report err as the caller's runtime would, and fail. */
static int fail(const struct l1vh_shim_args *a, struct l1vh_error *err)
{
  l1vh_shim_report(a, "error", l1vh_error_msg(err));
  l1vh_error_clear(err);
  return 1;
}

int main(int argc, char **argv)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_shim_args a;
  struct l1vh_shim_runtimes rt;
  char path[PATH_MAX];
  int found;

  l1vh_shim_parse_global(argc, argv, &a);
  /* The runtime first: a create that cannot run leaves the spec alone. */
  l1vh_shim_runtimes_read(l1vh_config_path(NULL), &rt);
  found = l1vh_shim_runtime_find(&rt, path, sizeof(path), &err);
  l1vh_shim_runtimes_free(&rt);
  if (found < 0)
    return fail(&a, &err);
  /* The spec is read and edited in a sandboxed child: this process keeps
   * its privileges for the runtime it executes (shim/sandbox.h). */
  if (l1vh_shim_edits(&a) && l1vh_shim_create_sandboxed(argc, argv, &a) < 0)
    return 1; /* reported; the runtime is not called */
  l1vh_shim_runtime_exec(path, argv, &err);
  return fail(&a, &err);
}
