#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "plan.h"
#include "unit.h"

/* A spec with the given annotations (a JSON object body) and extra members. */
static int spec_with(const char *annotations, const char *extra, struct l1vh_spec *spec)
{
  char text[4096];
  struct l1vh_error err = L1VH_ERROR_INIT;
  int n = snprintf(text, sizeof(text),
                   "{\"root\":{\"path\":\"rootfs\"},\"process\":{\"user\":{\"uid\":107,\"gid\":107}},"
                   "\"annotations\":{%s}%s%s}",
                   annotations, extra ? "," : "", extra ? extra : "");
  if (n < 0 || (size_t) n >= sizeof(text) || l1vh_spec_parse(text, (size_t) n, spec, &err) < 0) {
    printf("# spec: %s\n", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
    return -1;
  }
  return 0;
}

#define CRIO_COMPUTE                                                                       \
  "\"io.kubernetes.container.name\":\"compute\",\"io.kubernetes.pod.name\":\"virt-launcher-vm1-abcde\"," \
  "\"io.kubernetes.cri-o.ImageName\":\"quay.io/kubevirt/virt-launcher:v1.7.0\",\"kubevirt.io/domain\":\"vm1\""
#define CONTAINERD_COMPUTE                                                                  \
  "\"io.kubernetes.cri.container-name\":\"compute\",\"io.kubernetes.cri.container-type\":\"container\"," \
  "\"io.kubernetes.cri.sandbox-name\":\"virt-launcher-vm1-abcde\""

static void node(struct l1vh_config *cfg, struct l1vh_facts *facts, bool gate)
{
  l1vh_config_defaults(cfg);
  cfg->gate = gate;
  memset(facts, 0, sizeof(*facts));
  facts->arch = "x86_64";
  facts->device_present = true;
  facts->device_rdev = makedev(10, 123);
  facts->domain.libvirt_version = -1;
}

/* Decide for annotations/extra on a node; plan out; returns decide's rc. */
static int decide(const char *annotations, const char *extra, struct l1vh_config *cfg,
                  struct l1vh_facts *facts, struct l1vh_plan *plan, struct l1vh_error *err)
{
  struct l1vh_spec spec;
  int rc;

  if (spec_with(annotations, extra, &spec) < 0)
    abort();
  rc = l1vh_decide(&spec, cfg, facts, plan, err);
  /* The plan's names point into the spec, which goes now. */
  l1vh_spec_free(&spec);
  plan->container = plan->pod = plan->vm = "";
  return rc;
}

L1VH_TEST(decide_crio_compute_applies)
{
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  struct l1vh_error err = L1VH_ERROR_INIT;

  node(&cfg, &facts, true);
  CHECK(decide(CRIO_COMPUTE, NULL, &cfg, &facts, &plan, &err) == 0);
  CHECK(plan.match && plan.apply);
  CHECK(plan.device.inject && !plan.device.in_spec);
  CHECK(plan.device.rdev == makedev(10, 123));
  CHECK(plan.device.uid == 107 && plan.device.gid == 107 && plan.device.mode == 0660);
  CHECK_STR(plan.device.path, "/dev/mshv");
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(decide_containerd_sandbox_prefix_matches)
{
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  struct l1vh_error err = L1VH_ERROR_INIT;

  node(&cfg, &facts, true);
  CHECK(decide(CONTAINERD_COMPUTE, NULL, &cfg, &facts, &plan, &err) == 0);
  CHECK(plan.match && plan.apply);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

/* Every "no" is an empty plan with its reason. */
L1VH_TEST(decide_fallbacks)
{
  static const struct {
    const char *annotations, *extra;
    bool gate, device, match;
    const char *arch, *regex, *want;
  } cases[] = {
    {CRIO_COMPUTE, NULL, false, true, true, "x86_64", NULL, "feature gate HyperVL1VH is off"},
    {CRIO_COMPUTE, NULL, true, false, true, "x86_64", NULL, "no /dev/mshv on the host"},
    {CRIO_COMPUTE, NULL, true, true, true, "aarch64", NULL, "x86_64 only, this host is aarch64"},
    {CRIO_COMPUTE ",\"l1vh.kubevirt.io/hypervisor\":\"kvm\"", NULL, true, true, true, "x86_64", NULL,
     "the VM opted out"},
    {CRIO_COMPUTE, NULL, true, true, false, "x86_64", "^registry\\.example/", "does not match match.imageRegex"},
    {"\"io.kubernetes.container.name\":\"volumecontainerdisk\",\"kubevirt.io/domain\":\"vm1\"", NULL, true,
     true, false, "x86_64", NULL, "container \"volumecontainerdisk\" is not \"compute\""},
    {"\"io.kubernetes.container.name\":\"compute\",\"io.kubernetes.pod.name\":\"web-1\"", NULL, true, true,
     false, "x86_64", NULL, "not a virt-launcher pod"},
    {"\"io.kubernetes.cri.container-name\":\"compute\",\"io.kubernetes.cri.sandbox-name\":\"web-1\"", NULL,
     true, true, false, "x86_64", NULL, "not a virt-launcher pod"},
    {"\"io.kubernetes.cri-o.ContainerType\":\"sandbox\",\"io.kubernetes.container.name\":\"compute\","
     "\"kubevirt.io/domain\":\"vm1\"", NULL, true, true, false, "x86_64", NULL, "sandbox (pause)"},
    {"\"io.kubernetes.cri.container-type\":\"sandbox\",\"io.kubernetes.cri.sandbox-name\":\"virt-launcher-vm1-x\"",
     NULL, true, true, false, "x86_64", NULL, "sandbox (pause)"},
    {"\"kubevirt.io/domain\":\"vm1\"", NULL, true, true, false, "x86_64", NULL, "not a Kubernetes container"},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct l1vh_config cfg;
    struct l1vh_facts facts;
    struct l1vh_plan plan;
    struct l1vh_error err = L1VH_ERROR_INIT;

    node(&cfg, &facts, cases[i].gate);
    facts.arch = cases[i].arch;
    if (!cases[i].device) {
      facts.device_present = false;
      snprintf(facts.device_problem, sizeof(facts.device_problem), "no /dev/mshv on the host (No such file or directory)");
    }
    if (cases[i].regex) {
      cfg.match.image_regex = strdup(cases[i].regex);
      CHECK(regcomp(&cfg.match.image_re, cases[i].regex, REG_EXTENDED | REG_NOSUB) == 0);
    }
    CHECK(decide(cases[i].annotations, cases[i].extra, &cfg, &facts, &plan, &err) == 0);
    if (plan.match != cases[i].match || plan.apply || plan.device.inject || plan.memlock.set ||
        plan.domain.rewrite || !strstr(plan.reason, cases[i].want)) {
      printf("# case %zu: match=%d apply=%d reason \"%s\", want \"%s\"\n", i, plan.match, plan.apply,
             plan.reason, cases[i].want);
      return UNIT_FAIL;
    }
    l1vh_config_free(&cfg);
  }
  return UNIT_PASS;
}

L1VH_TEST(decide_bad_hypervisor_annotation_is_an_error)
{
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  struct l1vh_error err = L1VH_ERROR_INIT;

  node(&cfg, &facts, true);
  CHECK(decide(CRIO_COMPUTE ",\"l1vh.kubevirt.io/hypervisor\":\"kvm\\n\"", NULL, &cfg, &facts, &plan,
               &err) < 0);
  CHECK_HAS(err.msg, "annotation l1vh.kubevirt.io/hypervisor: expected \"kvm\" or \"hyperv\"");
  CHECK(strchr(err.msg, '\n') == NULL);
  l1vh_error_clear(&err);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(decide_device_already_in_spec_and_owner_override)
{
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  struct l1vh_error err = L1VH_ERROR_INIT;

  node(&cfg, &facts, true);
  CHECK(decide(CRIO_COMPUTE,
               "\"linux\":{\"devices\":[{\"path\":\"/dev/mshv\",\"type\":\"c\",\"major\":10,\"minor\":123}]}",
               &cfg, &facts, &plan, &err) == 0);
  CHECK(plan.apply && plan.device.in_spec && !plan.device.inject);

  /* Other numbers at the path: still injected (the hook then refuses the
   * node that is in the way, with its reason). */
  CHECK(decide(CRIO_COMPUTE,
               "\"linux\":{\"devices\":[{\"path\":\"/dev/mshv\",\"type\":\"c\",\"major\":10,\"minor\":1}]}",
               &cfg, &facts, &plan, &err) == 0);
  CHECK(plan.device.inject && !plan.device.in_spec);

  cfg.device.has_uid = cfg.device.has_gid = true;
  cfg.device.uid = 0;
  cfg.device.gid = 36;
  CHECK(decide(CRIO_COMPUTE, NULL, &cfg, &facts, &plan, &err) == 0);
  CHECK(plan.device.uid == 0 && plan.device.gid == 36);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(plan_make_skips_probe_for_non_matching)
{
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  struct l1vh_spec spec;
  struct l1vh_error err = L1VH_ERROR_INIT;

  l1vh_config_defaults(&cfg);
  cfg.gate = true;
  CHECK(spec_with("\"io.kubernetes.container.name\":\"web\"", NULL, &spec) == 0);
  /* A bundle that does not exist: probing it would fail. */
  CHECK(l1vh_plan_make(&spec, &cfg, "/nonexistent", &facts, &plan, &err) == 0);
  CHECK(!plan.match && !plan.apply);
  l1vh_spec_free(&spec);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}
