/* l1vh-hook's operator commands (docs/operate.md): node readiness and the
 * recent decisions.  main.c dispatches them. */
#ifndef L1VH_CMD_OPS_H
#define L1VH_CMD_OPS_H

#include "cmd.h"

/* l1vh-hook check [--config FILE] [--json]: one line per check (ok, warn,
 * fail) with what to do; exit 0 when nothing failed, 1 otherwise. */
int l1vh_cmd_check(const struct l1vh_opts *opts);
/* l1vh-hook status [--config FILE] [--json]: the decision records of the
 * containers on this node, oldest first. */
int l1vh_cmd_status(const struct l1vh_opts *opts);

#endif
