/* PLACEHOLDER: replaced by the memlock work. */
#include "memlock.h"
#include <string.h>
int l1vh_memlock_decide(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                        struct l1vh_memlock_plan *plan, struct l1vh_error *err)
{
  (void) spec; (void) cfg; (void) err;
  memset(plan, 0, sizeof(*plan));
  strcpy(plan->reason, "placeholder");
  return 0;
}
void l1vh_memlock_print(const struct l1vh_memlock_plan *plan, FILE *out)
{
  fprintf(out, "  memlock: %s\n", plan->reason);
}
void l1vh_memlock_print_json(const struct l1vh_memlock_plan *plan, FILE *out)
{
  (void) plan;
  fprintf(out, "\"memlock\":{\"set\":false,\"bytes\":0,\"source\":\"\"}");
}
