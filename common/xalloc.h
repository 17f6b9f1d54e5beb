/* l1vh: allocation that aborts on out-of-memory (style.md: OOM may abort),
 * so callers need no NULL checks for it. */
#ifndef L1VH_XALLOC_H
#define L1VH_XALLOC_H

#include <stdlib.h>
#include <string.h>

static inline void *l1vh_xmalloc(size_t size)
{
  void *p = malloc(size ? size : 1);
  if (!p)
    abort();
  return p;
}

static inline void *l1vh_xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    abort();
  return p;
}

static inline char *l1vh_xstrdup(const char *s)
{
  char *d = strdup(s);
  if (!d)
    abort();
  return d;
}

#endif
