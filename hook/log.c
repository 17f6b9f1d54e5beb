#define _GNU_SOURCE
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static char short_id[13] = "-";
static enum l1vh_log_level max_level = L1VH_LOG_INFO;

const char *l1vh_short_id(const char *id)
{
  static char buf[13];
  size_t n = strlen(id) < 12 ? strlen(id) : 12;

  memcpy(buf, id, n);
  buf[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) buf[i] < 0x20 || buf[i] == 0x7f)
      buf[i] = '?';
  return buf;
}

void l1vh_log_open(const char *container_id, enum l1vh_log_level level)
{
  snprintf(short_id, sizeof(short_id), "%s", l1vh_short_id(container_id));
  max_level = level;
  openlog("l1vh-hook", LOG_PID, LOG_DAEMON);
}

static int priority(enum l1vh_log_level level)
{
  switch (level) {
  case L1VH_LOG_ERROR:
    return LOG_ERR;
  case L1VH_LOG_WARN:
    return LOG_WARNING;
  case L1VH_LOG_INFO:
    return LOG_INFO;
  default:
    return LOG_DEBUG;
  }
}

void l1vh_log(enum l1vh_log_level level, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  if (level > max_level)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap); /* a long line is cut, not split */
  va_end(ap);
  for (char *p = msg; *p; p++)
    if ((unsigned char) *p < 0x20)
      *p = '?';
  syslog(priority(level), "[%s] %s", short_id, msg);
}

void l1vh_log_fail(const char *step, const struct l1vh_error *err)
{
  fprintf(stderr, "l1vh-hook: container %s: %s: %s\n", short_id, step, l1vh_error_msg(err));
  l1vh_log(L1VH_LOG_ERROR, "%s: %s", step, l1vh_error_msg(err));
}
