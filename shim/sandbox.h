/* l1vh-shim: the spec is edited in a sandboxed child (docs/security.md).
 *
 * A seccomp filter outlives execve, so the shim cannot filter itself and
 * then execute runc.  The editing phase (reading what a pod author wrote,
 * deciding, writing the spec back) runs in a child process instead: it
 * drops every capability but the file-access ones, sets no_new_privs and
 * loads an allow-list; the parent, which parses nothing of the spec,
 * waits for it and then executes the runtime with its own privileges. */
#ifndef L1VH_SHIM_SANDBOX_H
#define L1VH_SHIM_SANDBOX_H

#include "args.h"
#include "error.h"

/* In the child: capabilities, no_new_privs and the filter. */
int l1vh_shim_sandbox_enter(struct l1vh_error *err);

/* Run l1vh_shim_create(argc, argv, a) in a sandboxed child and wait for
 * it.  0: go on and execute the runtime; < 0: the create failed (reported
 * by the child, or here when the child died). */
int l1vh_shim_create_sandboxed(int argc, char **argv, struct l1vh_shim_args *a);

#endif
