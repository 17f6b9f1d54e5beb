/* l1vh: Kubernetes resource quantities ("4Mi", "2Gi", "1.5G", "1073741824"). */
#ifndef L1VH_QUANTITY_H
#define L1VH_QUANTITY_H

#include <stdint.h>

#include "error.h"

/* Longest quantity accepted: Kubernetes has no limit, but no byte count that
 * fits 64 bits needs more, and a pod author must not hand us a megabyte of
 * digits. */
#define L1VH_QUANTITY_MAX_LEN 64

/* Parse s into bytes, rounded up to a whole byte.  Accepts Kubernetes'
 * syntax: an optional '+', digits with an optional decimal fraction
 * ("1.5", ".5", "1."), then nothing, a binary suffix (Ki Mi Gi Ti Pi Ei), a
 * decimal one (k M G T P E) or an exponent ("1e9", "15E-1").  Empty,
 * negative, sub-unit suffixes (m u n: "4m" is not 4 MiB), garbage, trailing
 * junk, overflow of 64 bits and over-long strings are one-line errors that
 * name the value. */
int l1vh_quantity_parse(const char *s, uint64_t *bytes, struct l1vh_error *err);

#endif
