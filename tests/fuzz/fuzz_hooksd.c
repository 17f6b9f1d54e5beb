/* A hooks.d file (oci-hooks(5) 1.0.0), parsed and matched against a
 * virt-launcher compute container, as the shim and `check` do. */
#include "fuzz.h"
#include "hooksd.h"
#include "spec.h"

static const char spec_json[] =
  "{\"process\":{\"args\":[\"/usr/bin/virt-launcher-monitor\",\"--qemu-timeout\"]},"
  "\"mounts\":[{\"destination\":\"/var/run/kubevirt\",\"type\":\"bind\",\"source\":\"/x\"}],"
  "\"annotations\":{\"io.kubernetes.container.name\":\"compute\",\"kubevirt.io/domain\":\"vm\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct l1vh_spec spec;
  static struct l1vh_hooksd_input in;
  static int ready;
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_hooksd_hook hook;
  bool match;

  if (!ready) {
    if (l1vh_spec_parse(spec_json, sizeof(spec_json) - 1, &spec, &err) < 0 ||
        l1vh_hooksd_input_from_spec(&spec, &in, &err) < 0)
      abort();
    ready = 1;
  }
  memset(&hook, 0, sizeof(hook));
  if (l1vh_hooksd_parse((const char *) data, size, "10-fuzz.json", &hook, &err) == 0) {
    FUZZ_ASSERT(hook.path && hook.n_stages > 0 && hook.n_stages <= L1VH_HOOKSD_MAX_STAGES);
    if (l1vh_hooksd_match(&hook, &in, &match, &err) < 0)
      fuzz_check_error(&err);
    l1vh_hooksd_hook_free(&hook);
  }
  fuzz_check_error(&err);
  l1vh_error_clear(&err);
  return 0;
}
