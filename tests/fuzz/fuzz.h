/* l1vh fuzz targets (libFuzzer): shared helpers.  Each target feeds one
 * parser what a pod author, an image or an operator could write, and
 * checks what must hold whatever the input: no crash, no leak (ASan), no
 * undefined behaviour (UBSan), errors of one line, outputs that parse. */
#ifndef L1VH_FUZZ_H
#define L1VH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (parsers of C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* An error is one line of printable text (common/error.c flattens what
 * came from the input); a violation is a finding. */
static inline void fuzz_check_error(const struct l1vh_error *err)
{
  if (!err->msg)
    return;
  for (const unsigned char *p = (const unsigned char *) err->msg; *p; p++)
    if (*p < 0x20 || *p == 0x7f) {
      fprintf(stderr, "error message with a control character: %s\n", err->msg);
      abort();
    }
}

#define FUZZ_ASSERT(cond)                                                            \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);   \
      abort();                                                                       \
    }                                                                                \
  } while (0)

#endif
