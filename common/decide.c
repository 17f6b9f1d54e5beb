#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "cleanup.h"

/* Annotations as CRI-O and containerd write them. */
#define ANN_CRIO_CONTAINER_NAME "io.kubernetes.container.name"
#define ANN_CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"
#define ANN_CRIO_POD_NAME "io.kubernetes.pod.name"
#define ANN_CRIO_IMAGE "io.kubernetes.cri-o.ImageName"
#define ANN_CRI_CONTAINER_NAME "io.kubernetes.cri.container-name"
#define ANN_CRI_CONTAINER_TYPE "io.kubernetes.cri.container-type"
#define ANN_CRI_SANDBOX_NAME "io.kubernetes.cri.sandbox-name"
#define ANN_CRI_IMAGE "io.kubernetes.cri.image-name"

void l1vh_reason(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  if (n >= (int) size && size > 4)
    strcpy(buf + size - 4, "...");
}

static const char *first_annotation(const struct l1vh_spec *spec, const char *a, const char *b)
{
  const char *v = l1vh_spec_annotation(spec, a);
  return v ? v : l1vh_spec_annotation(spec, b);
}

static bool is_sandbox(const struct l1vh_spec *spec)
{
  const char *type = first_annotation(spec, ANN_CRIO_CONTAINER_TYPE, ANN_CRI_CONTAINER_TYPE);
  return type && strcmp(type, "sandbox") == 0;
}

void l1vh_match(const struct l1vh_spec *spec, const struct l1vh_config *cfg, struct l1vh_plan *plan)
{
  const char *sandbox = l1vh_spec_annotation(spec, ANN_CRI_SANDBOX_NAME);
  const char *image = first_annotation(spec, ANN_CRIO_IMAGE, ANN_CRI_IMAGE);
  const char *vm = l1vh_spec_annotation(spec, cfg->match.pod_annotation);
  const char *name = first_annotation(spec, ANN_CRIO_CONTAINER_NAME, ANN_CRI_CONTAINER_NAME);
  const char *pod = first_annotation(spec, ANN_CRIO_POD_NAME, ANN_CRI_SANDBOX_NAME);

  memset(plan, 0, sizeof(*plan));
  plan->container = name ? name : "";
  plan->pod = pod ? pod : "";
  plan->vm = vm ? vm : "";
  /* What the actions would use, shown by dry-run even for an empty plan. */
  plan->device.path = cfg->device.path;
  plan->domain.strategy = cfg->domain.strategy;
  plan->domain.type = cfg->domain.type;
  plan->domain.accel = cfg->domain.accel;

  if (is_sandbox(spec))
    return l1vh_reason(plan->reason, sizeof(plan->reason), "a pod sandbox (pause) container");
  if (!name)
    return l1vh_reason(plan->reason, sizeof(plan->reason), "not a Kubernetes container (no container name annotation)");
  if (strcmp(name, cfg->match.container_name) != 0)
    return l1vh_reason(plan->reason, sizeof(plan->reason), "container \"%s\" is not \"%s\"", name,
               cfg->match.container_name);
  if (!vm && !(sandbox && strncmp(sandbox, cfg->match.sandbox_name_prefix,
                                  strlen(cfg->match.sandbox_name_prefix)) == 0))
    return l1vh_reason(plan->reason, sizeof(plan->reason),
               "not a virt-launcher pod (no annotation %s, sandbox name without prefix %s)",
               cfg->match.pod_annotation, cfg->match.sandbox_name_prefix);
  if (cfg->match.image_regex) {
    if (!image)
      return l1vh_reason(plan->reason, sizeof(plan->reason), "image unknown, match.imageRegex is set");
    if (regexec(&cfg->match.image_re, image, 0, NULL, 0) != 0)
      return l1vh_reason(plan->reason, sizeof(plan->reason), "image %s does not match match.imageRegex",
                 image);
  }
  plan->match = true;
  l1vh_reason(plan->reason, sizeof(plan->reason), "virt-launcher compute container");
}

int l1vh_facts_probe(const struct l1vh_config *cfg, const struct l1vh_spec *spec,
                     const char *bundle, struct l1vh_facts *facts, struct l1vh_error *err)
{
  static struct utsname uts;
  struct stat st;

  memset(facts, 0, sizeof(*facts));
  facts->domain.libvirt_version = -1;
  if (uname(&uts) < 0)
    return l1vh_error_set(err, errno, "uname");
  facts->arch = uts.machine;

  if (stat(cfg->device.path, &st) < 0)
    l1vh_reason(facts->device_problem, sizeof(facts->device_problem), "no %s on the host (%s)",
        cfg->device.path, strerror(errno));
  else if (!S_ISCHR(st.st_mode))
    l1vh_reason(facts->device_problem, sizeof(facts->device_problem),
        "%s on the host is not a character device", cfg->device.path);
  else {
    facts->device_present = true;
    facts->device_rdev = st.st_rdev;
  }

  /* Only the domain strategy "auto" needs to look into the image. */
  if (cfg->domain.strategy == L1VH_DOMAIN_AUTO && spec->root_path && bundle) {
    cleanup_close int bundle_fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int root_fd = -1;

    if (bundle_fd < 0)
      return l1vh_error_set(err, errno, "bundle %s", bundle);
    root_fd = openat(bundle_fd, spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
      return l1vh_error_set(err, errno, "rootfs %s", spec->root_path);
    if (l1vh_domain_probe(root_fd, &facts->domain, err) < 0)
      return l1vh_error_wrap(err, "look for libvirt in the rootfs");
    facts->have_domain = true;
  }
  return 0;
}

static bool device_in_spec(const struct l1vh_spec *spec, const char *path, dev_t rdev)
{
  for (size_t i = 0; i < spec->n_devices; i++) {
    const struct l1vh_spec_device *d = &spec->devices[i];
    if (strcmp(d->path, path) == 0 && strcmp(d->type, "c") == 0 &&
        d->major == (int64_t) major(rdev) && d->minor == (int64_t) minor(rdev))
      return true;
  }
  return false;
}

static void decide_device(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                          const struct l1vh_facts *facts, struct l1vh_device_plan *dev)
{
  dev->path = cfg->device.path;
  dev->rdev = facts->device_rdev;
  dev->mode = cfg->device.mode;
  dev->uid = cfg->device.has_uid ? cfg->device.uid : spec->uid;
  dev->gid = cfg->device.has_gid ? cfg->device.gid : spec->gid;
  dev->in_spec = device_in_spec(spec, dev->path, dev->rdev);
  dev->inject = !dev->in_spec;
  if (dev->in_spec)
    l1vh_reason(dev->reason, sizeof(dev->reason), "linux.devices already lists %s %u:%u: the runtime creates it",
        dev->path, major(dev->rdev), minor(dev->rdev));
  else
    l1vh_reason(dev->reason, sizeof(dev->reason), "create %s %u:%u owned by %u:%u mode %04o, allow it in the device cgroup",
        dev->path, major(dev->rdev), minor(dev->rdev), dev->uid, dev->gid, dev->mode);
}

/* l1vh.kubevirt.io/hypervisor: "kvm" opts one VM out; "hyperv" (or no
 * annotation) leaves the choice to the node. */
static int opted_out(const struct l1vh_spec *spec, bool *out, struct l1vh_error *err)
{
  const char *v = l1vh_spec_annotation(spec, L1VH_ANN_HYPERVISOR);

  *out = false;
  if (!v || strcmp(v, "hyperv") == 0 || strcmp(v, "mshv") == 0)
    return 0;
  if (strcmp(v, "kvm") == 0) {
    *out = true;
    return 0;
  }
  return l1vh_error_setx(err, "annotation %s: expected \"kvm\" or \"hyperv\", got \"%.64s\"",
                         L1VH_ANN_HYPERVISOR, v);
}

int l1vh_decide(const struct l1vh_spec *spec, const struct l1vh_config *cfg,
                const struct l1vh_facts *facts, struct l1vh_plan *plan, struct l1vh_error *err)
{
  bool out;

  l1vh_match(spec, cfg, plan);
  if (!plan->match)
    return 0;
  if (!cfg->gate)
    return l1vh_reason(plan->reason, sizeof(plan->reason), "feature gate %s is off (%s)", L1VH_GATE,
               cfg->source), 0;
  if (opted_out(spec, &out, err) < 0)
    return -1;
  if (out)
    return l1vh_reason(plan->reason, sizeof(plan->reason), "the VM opted out (%s: kvm)",
               L1VH_ANN_HYPERVISOR), 0;
  if (!facts->arch || strcmp(facts->arch, "x86_64") != 0)
    return l1vh_reason(plan->reason, sizeof(plan->reason), "QEMU's mshv accelerator exists for x86_64 only, this host is %s",
               facts->arch ? facts->arch : "unknown"), 0;
  if (!facts->device_present)
    return l1vh_reason(plan->reason, sizeof(plan->reason), "%s", facts->device_problem), 0;

  decide_device(spec, cfg, facts, &plan->device);
  if (l1vh_memlock_decide(spec, cfg, &plan->memlock, err) < 0)
    return l1vh_error_wrap(err, "memlock");
  if (l1vh_domain_decide(&facts->domain, cfg, &plan->domain, err) < 0)
    return l1vh_error_wrap(err, "domain");
  plan->apply = true;
  l1vh_reason(plan->reason, sizeof(plan->reason), "L1VH applies: gate %s on, %s present", L1VH_GATE,
      cfg->device.path);
  return 0;
}

int l1vh_plan_make(const struct l1vh_spec *spec, const struct l1vh_config *cfg, const char *bundle,
                   struct l1vh_facts *facts, struct l1vh_plan *plan, struct l1vh_error *err)
{
  memset(facts, 0, sizeof(*facts));
  facts->domain.libvirt_version = -1;
  l1vh_match(spec, cfg, plan);
  /* A container that is not a VM, or a node with the gate off, costs no
   * look at the host or the image. */
  if (!plan->match || !cfg->gate)
    return l1vh_decide(spec, cfg, facts, plan, err);
  if (l1vh_facts_probe(cfg, spec, bundle, facts, err) < 0)
    return -1;
  return l1vh_decide(spec, cfg, facts, plan, err);
}
