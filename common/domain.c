/* PLACEHOLDER: replaced by the domain work. */
#include "domain.h"
#include <string.h>
int l1vh_domain_probe(int rootfd, struct l1vh_domain_facts *facts, struct l1vh_error *err)
{
  (void) rootfd; (void) err;
  facts->libvirt_version = -1;
  return 0;
}
int l1vh_domain_decide(const struct l1vh_domain_facts *facts, const struct l1vh_config *cfg,
                       struct l1vh_domain_plan *plan, struct l1vh_error *err)
{
  (void) facts; (void) err;
  memset(plan, 0, sizeof(*plan));
  plan->type = cfg->domain.type;
  plan->accel = cfg->domain.accel;
  strcpy(plan->reason, "placeholder");
  return 0;
}
void l1vh_domain_print(const struct l1vh_domain_plan *plan, FILE *out)
{
  fprintf(out, "  domain: %s\n", plan->reason);
}
void l1vh_domain_print_json(const struct l1vh_domain_plan *plan, FILE *out)
{
  fprintf(out, "\"domain\":{\"rewrite\":false,\"type\":\"%s\",\"strategy\":\"off\"}", plan->type ? plan->type : "");
}
