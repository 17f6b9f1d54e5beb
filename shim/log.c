#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "args.h"
#include "cleanup.h"

/* Append to buf at *pos; false once it does not fit. */
L1VH_PRINTF(4, 5)
static bool put(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (*pos >= size)
    return false;
  va_start(ap, fmt);
  n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t) n >= size - *pos) {
    *pos = size;
    return false;
  }
  *pos += (size_t) n;
  return true;
}

/* A quoted string: JSON escapes, or Go's %q escapes for the text form.
 * Bytes >= 0x80 pass as they are (a JSON reader that wants UTF-8 replaces
 * a bad sequence, it does not fail). */
static bool put_quoted(char *buf, size_t size, size_t *pos, const char *s, bool json)
{
  if (!put(buf, size, pos, "\""))
    return false;
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    bool ok;
    if (*p == '"' || *p == '\\')
      ok = put(buf, size, pos, "\\%c", *p);
    else if (*p == '\n')
      ok = put(buf, size, pos, "\\n");
    else if (*p == '\t')
      ok = put(buf, size, pos, "\\t");
    else if (*p < 0x20 || *p == 0x7f)
      ok = json ? put(buf, size, pos, "\\u%04x", *p) : put(buf, size, pos, "\\x%02x", *p);
    else
      ok = put(buf, size, pos, "%c", *p);
    if (!ok)
      return false;
  }
  return put(buf, size, pos, "\"");
}

int l1vh_shim_log_format(char *buf, size_t size, int json, const char *level, const char *msg,
                         time_t when)
{
  char stamp[32];
  struct tm tm;
  size_t pos = 0;
  bool ok;

  /* RFC 3339 in UTC, as Go's time.RFC3339 writes it. */
  if (!gmtime_r(&when, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return -1;
  if (json)
    ok = put(buf, size, &pos, "{\"level\":\"%s\",\"msg\":", level) &&
         put_quoted(buf, size, &pos, msg, true) &&
         put(buf, size, &pos, ",\"time\":\"%s\"}\n", stamp);
  else
    ok = put(buf, size, &pos, "time=\"%s\" level=%s msg=", stamp, level) &&
         put_quoted(buf, size, &pos, msg, false) && put(buf, size, &pos, "\n");
  return ok ? (int) pos : -1;
}

static void write_log_file(const struct l1vh_shim_args *a, const char *level, const char *msg)
{
  char line[4096];
  bool json = a->log_format && strcmp(a->log_format, "json") == 0;
  int len = l1vh_shim_log_format(line, sizeof(line), json, level, msg, time(NULL));
  cleanup_close int fd = -1;

  if (len < 0)
    return;
  /* The runtime opens it the same way; one write() keeps the line whole. */
  fd = open(a->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0 || write(fd, line, (size_t) len) != len)
    fprintf(stderr, "l1vh-shim: write log %s: %s\n", a->log, strerror(errno));
}

void l1vh_shim_report(const struct l1vh_shim_args *a, const char *level, const char *msg)
{
  fprintf(stderr, "l1vh-shim: %s\n", msg);
  if (a->log && *a->log)
    write_log_file(a, level, msg);
  openlog("l1vh-shim", LOG_PID, LOG_DAEMON);
  syslog(strcmp(level, "error") == 0 ? LOG_ERR : LOG_WARNING, "%s", msg);
}

void l1vh_shim_note(const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap); /* a long note is cut, not split */
  va_end(ap);
  openlog("l1vh-shim", LOG_PID, LOG_DAEMON);
  syslog(LOG_INFO, "%s", msg);
}
