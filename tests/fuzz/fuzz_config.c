/* The node config (the operator's file; `check` and the shim read it too). */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_config cfg;

  if (l1vh_config_parse((const char *) data, size, "fuzz.json", &cfg, &err) == 0) {
    FUZZ_ASSERT(cfg.device.path && cfg.device.path[0] == '/');
    FUZZ_ASSERT(cfg.domain.type && cfg.domain.accel && cfg.domain.n_rewrite <= L1VH_MAX_REWRITE_TYPES);
    FUZZ_ASSERT(cfg.runtime.n_path <= L1VH_MAX_LIST && cfg.runtime.n_hooks_dirs <= L1VH_MAX_LIST);
  }
  l1vh_config_free(&cfg);
  fuzz_check_error(&err);
  l1vh_error_clear(&err);
  return 0;
}
