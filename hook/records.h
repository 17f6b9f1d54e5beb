/* l1vh-hook: host-side records of the recent decisions, read by
 * `l1vh-hook status` (docs/operate.md).
 *
 * One small JSON file per VM container, <dir>/<container id>.json, written
 * at prestart and removed at poststop.  Each file is written whole to a
 * private temp file (O_EXCL) and renamed into place, so a reader never sees
 * half a record and concurrent hooks never share a file.  Size and count
 * are bounded: strings are cut, and past L1VH_RECORDS_MAX files the oldest
 * are dropped (a poststop that never ran must not fill /run).
 *
 * A failed start is the record an operator wants most, and the runtime
 * deletes such a container at once (runc runs poststop on a failed create):
 * its record is "failed@<id>.json", which poststop leaves alone, and it
 * goes L1VH_FAILED_RECORD_TTL seconds later (or earlier, by the count). */
#ifndef L1VH_RECORDS_H
#define L1VH_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "plan.h"
#include "spec.h"

#define L1VH_RECORDS_DEFAULT_DIR "/run/l1vh"
#define L1VH_RECORD_MAX_BYTES 8192 /* one record, by construction */
#define L1VH_RECORDS_MAX 512       /* records kept in the directory */
#define L1VH_RECORD_ID_MAX 128     /* container ids longer than this are refused */
#define L1VH_FAILED_RECORD_TTL 3600

/* What happened to the container's start. */
enum l1vh_outcome {
  L1VH_OUTCOME_APPLIED,  /* the plan was applied */
  L1VH_OUTCOME_FALLBACK, /* started without L1VH (plan empty, or onError warn) */
  L1VH_OUTCOME_FAILED,   /* the start was failed by the hook */
};

const char *l1vh_outcome_name(enum l1vh_outcome outcome);

/* Write (replace) the record of st->id.  plan may be NULL when the start
 * failed before a plan existed; detail is NULL or one line (the error). */
int l1vh_record_write(const char *dir, const struct l1vh_state *st, const struct l1vh_plan *plan,
                      enum l1vh_outcome outcome, const char *detail, struct l1vh_error *err);
/* Remove the record of id (not a failed start's); a record that is not
 * there is not an error. */
int l1vh_record_remove(const char *dir, const char *id, struct l1vh_error *err);

/* A record as read back. */
struct l1vh_record {
  char *id, *container, *pod, *vm, *outcome, *detail, *reason;
  int64_t time; /* seconds since the epoch */
  bool device, memlock, domain; /* applied actions */
  char *device_path, *memlock_value, *domain_type, *domain_strategy;
};

/* Read every record of dir, oldest first.  A missing dir is no records.
 * A file that does not parse is passed to report() and skipped. */
typedef void (*l1vh_records_report_fn)(void *ctx, const char *msg);
int l1vh_records_read(const char *dir, struct l1vh_record **out, size_t *n,
                      l1vh_records_report_fn report, void *ctx, struct l1vh_error *err);
void l1vh_records_free(struct l1vh_record *recs, size_t n);

#endif
