/* A bundle's config.json (what a pod author's annotations end up in),
 * through everything the hook does before any action: match, the plan, the
 * dry-run JSON (which must parse), and the hooks.d match input. */
#define _GNU_SOURCE
#include <sys/sysmacros.h>

#include "config.h"
#include "fuzz.h"
#include "hooksd.h"
#include "json.h"
#include "plan.h"
#include "spec.h"

/* Some configs to decide with: the first input byte picks one. */
static void config_for(uint8_t pick, struct l1vh_config *cfg)
{
  l1vh_config_defaults(cfg);
  cfg->gate = !(pick & 1);
  cfg->memlock.when = (pick >> 1) % 3 == 0 ? L1VH_MEMLOCK_KUBEVIRT
                      : (pick >> 1) % 3 == 1 ? L1VH_MEMLOCK_ALWAYS : L1VH_MEMLOCK_NEVER;
  cfg->on_error = (pick & 8) ? L1VH_ON_ERROR_WARN : L1VH_ON_ERROR_FAIL;
}

static void dry_run_json_parses(const struct l1vh_plan *plan)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_json_doc *doc = NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);

  if (!f)
    abort();
  l1vh_plan_print_json(plan, f);
  fclose(f);
  if (l1vh_json_parse(buf, len, &doc, &err) < 0) {
    fprintf(stderr, "dry-run --json does not parse: %s\n%s\n", l1vh_error_msg(&err), buf);
    abort();
  }
  l1vh_json_doc_free(doc);
  f = fopen("/dev/null", "we");
  if (f) {
    l1vh_plan_print(plan, f);
    fclose(f);
  }
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  struct l1vh_spec spec;
  struct l1vh_hooksd_input in;

  if (size < 1)
    return 0;
  config_for(data[0], &cfg);
  if (l1vh_spec_parse((const char *) data + 1, size - 1, &spec, &err) == 0) {
    memset(&facts, 0, sizeof(facts));
    facts.arch = "x86_64";
    facts.device_present = true;
    facts.device_rdev = makedev(10, 123);
    facts.have_domain = true;
    facts.domain.libvirt_version = (data[0] & 16) ? 11010 : 9000;
    if (l1vh_decide(&spec, &cfg, &facts, &plan, &err) == 0) {
      FUZZ_ASSERT(!plan.apply || plan.match);
      FUZZ_ASSERT(memchr(plan.reason, '\0', sizeof(plan.reason)) != NULL);
      dry_run_json_parses(&plan);
    }
    fuzz_check_error(&err);
    l1vh_error_clear(&err);
    if (l1vh_hooksd_input_from_spec(&spec, &in, &err) < 0)
      fuzz_check_error(&err);
    l1vh_spec_free(&spec);
  }
  fuzz_check_error(&err);
  l1vh_error_clear(&err);
  l1vh_config_free(&cfg);
  return 0;
}
