/* Printing a plan: the human form and the JSON form of dry-run.  The JSON
 * keys are a stable interface (docs/dry-run.md). */
#include <stdio.h>
#include <sys/sysmacros.h>

#include "json.h"
#include "plan.h"

static const char *yes(bool b)
{
  return b ? "true" : "false";
}

void l1vh_plan_print(const struct l1vh_plan *plan, FILE *out)
{
  fprintf(out, "container: %s\npod: %s\nvm: %s\n", plan->container[0] ? plan->container : "-",
          plan->pod[0] ? plan->pod : "-", plan->vm[0] ? plan->vm : "-");
  fprintf(out, "match: %s\n", plan->match ? "yes" : "no");
  if (!plan->apply) {
    fprintf(out, "plan: empty, the container starts as without l1vh (QEMU/KVM fallback)\n");
    fprintf(out, "reason: %s\n", plan->reason);
    return;
  }
  fprintf(out, "plan: apply\nreason: %s\n", plan->reason);
  fprintf(out, "  device: %s: %s\n", plan->device.inject ? "inject" : "skip", plan->device.reason);
  l1vh_memlock_print(&plan->memlock, out);
  l1vh_domain_print(&plan->domain, out);
}

static void put_member(const char *key, const char *value, FILE *out)
{
  l1vh_json_fput_string(key, out);
  fputc(':', out);
  l1vh_json_fput_string(value, out);
}

void l1vh_plan_print_json(const struct l1vh_plan *plan, FILE *out)
{
  const struct l1vh_device_plan *d = &plan->device;

  fputc('{', out);
  put_member("container", plan->container, out);
  fputc(',', out);
  put_member("pod", plan->pod, out);
  fputc(',', out);
  put_member("vm", plan->vm, out);
  fprintf(out, ",\"match\":%s,\"apply\":%s,", yes(plan->match), yes(plan->apply));
  put_member("reason", plan->reason, out);
  fprintf(out, ",\"device\":{\"inject\":%s,", yes(d->inject));
  put_member("path", d->path ? d->path : "", out);
  if (plan->apply) {
    fprintf(out, ",\"major\":%u,\"minor\":%u,\"uid\":%u,\"gid\":%u,\"mode\":\"%04o\",\"inSpec\":%s,",
            major(d->rdev), minor(d->rdev), d->uid, d->gid, d->mode, yes(d->in_spec));
    put_member("reason", d->reason, out);
  }
  fputs("},", out);
  l1vh_memlock_print_json(&plan->memlock, out);
  fputc(',', out);
  l1vh_domain_print_json(&plan->domain, out);
  fputs("}\n", out);
}
