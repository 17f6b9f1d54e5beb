/* l1vh-shim: telling the caller why a create failed.
 *
 * One line on stderr, and when the caller passed --log, one line in that
 * file in the format the runtime itself writes there: containerd reads the
 * last "error" line of that file (--log-format json) and puts it in the
 * kubelet event. */
#ifndef L1VH_SHIM_LOG_H
#define L1VH_SHIM_LOG_H

#include <stddef.h>
#include <time.h>

#include "error.h"

struct l1vh_shim_args;

/* The runtime's log line for msg at level ("error", "warning"): JSON
 *   {"level":"error","msg":"...","time":"2025-01-02T03:04:05Z"}
 * when json is set, else logrus' text form
 *   time="2025-01-02T03:04:05Z" level=error msg="..."
 * Returns the line's length (without the NUL), < 0 when it does not fit. */
int l1vh_shim_log_format(char *buf, size_t size, int json, const char *level, const char *msg,
                         time_t when);

/* Report msg: stderr ("l1vh-shim: ..."), the --log file, syslog. */
void l1vh_shim_report(const struct l1vh_shim_args *a, const char *level, const char *msg);
/* Report an info line to syslog only (what the shim changed). */
void l1vh_shim_note(const char *fmt, ...) L1VH_PRINTF(1, 2);

#endif
