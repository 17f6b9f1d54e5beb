/* The OCI state on the hook's stdin (runtime-provided, with annotations a
 * pod author wrote). */
#include "fuzz.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_state st;

  if (l1vh_state_parse((const char *) data, size, &st, &err) == 0) {
    /* What the hook relies on once the state parsed. */
    FUZZ_ASSERT(st.id && st.id[0] && st.bundle && st.bundle[0] == '/');
    FUZZ_ASSERT(st.pid >= 0 && st.pid <= 4194304);
    l1vh_state_free(&st);
  }
  fuzz_check_error(&err);
  l1vh_error_clear(&err);
  return 0;
}
