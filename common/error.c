#define _GNU_SOURCE
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages are one line: a newline or control character coming from input
 * (an annotation, a file name) must not split or forge a log line. */
static void flatten(char *s)
{
  for (; *s; s++)
    if ((unsigned char) *s < 0x20 || *s == 0x7f)
      *s = '?';
}

static char *vformat(const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    abort(); /* out of memory may abort (style.md) */
  flatten(s);
  return s;
}

int l1vh_error_set(struct l1vh_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  char *what, *msg = NULL;

  va_start(ap, fmt);
  what = vformat(fmt, ap);
  va_end(ap);
  if (asprintf(&msg, "%s: %s", what, strerror(errnum)) < 0)
    abort();
  free(what);
  free(err->msg);
  err->msg = msg;
  err->code = errnum;
  return -1;
}

int l1vh_error_setx(struct l1vh_error *err, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  free(err->msg);
  err->msg = vformat(fmt, ap);
  va_end(ap);
  err->code = 0;
  return -1;
}

int l1vh_error_wrap(struct l1vh_error *err, const char *fmt, ...)
{
  va_list ap;
  char *context, *msg = NULL;

  va_start(ap, fmt);
  context = vformat(fmt, ap);
  va_end(ap);
  if (asprintf(&msg, "%s: %s", context, err->msg ? err->msg : "unknown error") < 0)
    abort();
  free(context);
  free(err->msg);
  err->msg = msg;
  return -1;
}

void l1vh_error_clear(struct l1vh_error *err)
{
  free(err->msg);
  err->msg = NULL;
  err->code = 0;
}

const char *l1vh_error_msg(const struct l1vh_error *err)
{
  return err->msg ? err->msg : "unknown error";
}
