/* QEMU's command line as libvirt builds it, rewritten by l1vh-wrap.  The
 * input is the argv, NUL-separated. */
#include "accel.h"
#include "fuzz.h"

#define MAX_ARGS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = fuzz_cstr(data, size), *argv[MAX_ARGS + 1], **out = NULL;
  const char *why = NULL;
  int argc = 0;
  size_t i = 0;
  enum l1vh_accel_result r;

  while (i <= size && argc < MAX_ARGS) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  argv[argc] = NULL;
  r = l1vh_accel_rewrite(argc, argv, "mshv", &out, &why);
  FUZZ_ASSERT(why != NULL);
  if (r == L1VH_ACCEL_ERROR) {
    FUZZ_ASSERT(out == NULL);
  } else {
    int n = 0;
    FUZZ_ASSERT(out != NULL);
    while (out[n])
      n++;
    if (r == L1VH_ACCEL_UNCHANGED) {
      FUZZ_ASSERT(n == argc);
      for (int k = 0; k < n; k++)
        FUZZ_ASSERT(strcmp(out[k], argv[k]) == 0);
    }
    l1vh_accel_free(out);
  }
  free(buf);
  return 0;
}
