/* l1vh-shim create / run: decide for the bundle and write the spec back. */
#ifndef L1VH_SHIM_CREATE_H
#define L1VH_SHIM_CREATE_H

#include "args.h"

/* Examine a create / run call and edit its spec when needed.  0: go on
 * and execute the runtime (spec edited or untouched); < 0: reported on
 * stderr and in the --log file, the runtime must not be called. */
int l1vh_shim_create(int argc, char **argv, struct l1vh_shim_args *a);

#endif
