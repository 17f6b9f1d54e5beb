/* l1vh: __attribute__((cleanup)) helpers.  Hand ownership over explicitly:
 * `ret = p; p = NULL;` or `fd_out = fd; fd = -1;`. */
#ifndef L1VH_CLEANUP_H
#define L1VH_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void l1vh_freep(void *p)
{
  free(*(void **) p);
}

static inline void l1vh_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

static inline void l1vh_fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}

#define cleanup_free __attribute__((cleanup(l1vh_freep)))
#define cleanup_close __attribute__((cleanup(l1vh_closep)))
#define cleanup_file __attribute__((cleanup(l1vh_fclosep)))

#define L1VH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
