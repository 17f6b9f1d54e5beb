/* The domain XML a libvirt client sends (in the container, through
 * l1vh-domxml.so): only the root's type attribute may change. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "xmltype.h"

static const char *const from[] = {"kvm", "qemu"};
static const struct l1vh_xmltype_rule rule = {"hyperv", from, 2};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *out = NULL;
  size_t out_len = 0;
  const char *why = NULL;
  enum l1vh_xmltype_result r = l1vh_xmltype_rewrite((const char *) data, size, &rule, &out, &out_len, &why);

  FUZZ_ASSERT(why != NULL);
  if (r == L1VH_XMLTYPE_REWRITTEN) {
    FUZZ_ASSERT(out && out[out_len] == '\0');
    /* Only the value changed: at most "kvm" -> "hyperv" longer. */
    FUZZ_ASSERT(out_len <= size + 3);
    FUZZ_ASSERT(memmem(out, out_len, "hyperv", 6) != NULL);
    /* Rewriting the result again changes nothing. */
    {
      char *again = NULL;
      size_t again_len = 0;
      const char *why2 = NULL;
      FUZZ_ASSERT(l1vh_xmltype_rewrite(out, out_len, &rule, &again, &again_len, &why2) !=
                  L1VH_XMLTYPE_REWRITTEN);
      free(again);
    }
  } else {
    FUZZ_ASSERT(out == NULL);
  }
  free(out);
  return 0;
}
