/* Kubernetes quantities in annotations and the config ("4Mi", "1.5G"). */
#include "fuzz.h"
#include "quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *s = fuzz_cstr(data, size);
  uint64_t bytes = 0;

  if (l1vh_quantity_parse(s, &bytes, &err) == 0) {
    /* Accepted: short, and a plain byte count reads back as itself. */
    FUZZ_ASSERT(strlen(s) <= L1VH_QUANTITY_MAX_LEN);
    if (strspn(s, "0123456789") == strlen(s))
      FUZZ_ASSERT(bytes == strtoull(s, NULL, 10));
  } else {
    FUZZ_ASSERT(err.msg != NULL);
  }
  fuzz_check_error(&err);
  l1vh_error_clear(&err);
  free(s);
  return 0;
}
