/* l1vh: POSIX extended regexes with a bound on what compiling them costs.
 *
 * glibc's regcomp expands repetitions by copying the tree: "a+" becomes
 * "aa*", "x{1000}" a thousand copies of x, and nested ones multiply
 * ("((a+)+)+..." doubles per level).  A 300-byte pattern can so take
 * gigabytes before regcomp returns.  The patterns come from the node config
 * and hooks.d files, which other tools write too; l1vh refuses, with one
 * line, what Go's regexp (CRI-O's reader of the same files) also refuses or
 * what would expand past a fixed size, before regcomp sees it.
 */
#ifndef L1VH_BOUNDED_REGEX_H
#define L1VH_BOUNDED_REGEX_H

#include <regex.h>

#include "error.h"

#define L1VH_REGEX_MAX_LEN 512     /* bytes of a pattern */
#define L1VH_REGEX_MAX_REPEAT 1000 /* {m,n} bounds, as Go's regexp */
#define L1VH_REGEX_MAX_NODES 4096  /* atoms after expanding repetitions */
#define L1VH_REGEX_MAX_DEPTH 32    /* nested groups */

/* regcomp(re, src, REG_EXTENDED | REG_NOSUB) once src is within the bounds
 * above.  On failure *re is not compiled (nothing to regfree) and *err says
 * why, without naming the pattern: the caller adds where it came from. */
int l1vh_regex_compile(regex_t *re, const char *src, struct l1vh_error *err);

#endif
