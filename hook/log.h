/* l1vh-hook: logging.  Every line carries the short container id; lines go
 * to syslog (the journal), and to stderr only when a start fails, because
 * runtimes show a hook's stderr to the kubelet. */
#ifndef L1VH_LOG_H
#define L1VH_LOG_H

#include "config.h"
#include "error.h"

void l1vh_log_open(const char *container_id, enum l1vh_log_level level);
void l1vh_log(enum l1vh_log_level level, const char *fmt, ...) L1VH_PRINTF(2, 3);
/* The failure of a start: one line on stderr and in syslog. */
void l1vh_log_fail(const char *step, const struct l1vh_error *err);
/* The first 12 characters of a container id, as runtimes show it. */
const char *l1vh_short_id(const char *id);

#endif
