/* l1vh: one error type for every function that can fail.
 *
 * A function that fails returns < 0 and fills *err; on success it leaves
 * *err alone.  Callers add context with l1vh_error_wrap(), so the message a
 * node operator reads says what was being done, to what, and why it failed:
 *   "inject /dev/mshv: mknod dev/mshv: Operation not permitted"
 */
#ifndef L1VH_ERROR_H
#define L1VH_ERROR_H

#include <stddef.h>

struct l1vh_error {
  int code;  /* errno of the cause, or 0 when there is none */
  char *msg; /* heap string, NULL when no error is set */
};

#define L1VH_ERROR_INIT {0, NULL}

#define L1VH_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Record an error caused by a failed system call: appends strerror(errnum). */
int l1vh_error_set(struct l1vh_error *err, int errnum, const char *fmt, ...) L1VH_PRINTF(3, 4);
/* Record an error that has no errno behind it. */
int l1vh_error_setx(struct l1vh_error *err, const char *fmt, ...) L1VH_PRINTF(2, 3);
/* Prefix the recorded message with context: "<context>: <old message>". */
int l1vh_error_wrap(struct l1vh_error *err, const char *fmt, ...) L1VH_PRINTF(2, 3);
void l1vh_error_clear(struct l1vh_error *err);
/* The message, or "unknown error" when none is set; never NULL. */
const char *l1vh_error_msg(const struct l1vh_error *err);

#endif
