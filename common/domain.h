/* l1vh: rewriting the libvirt domain type inside the container (docs/domain.md).
 *
 * Two strategies put the VM on domain.type / domain.accel:
 *  - xml: the domain XML's root type becomes domain.type before libvirt
 *    defines or creates the domain (libvirt >= 11.10 knows "hyperv");
 *  - emulator: libvirt keeps its domain, and the accelerator on the QEMU
 *    command line becomes domain.accel when libvirt executes the emulator.
 * "auto" picks xml when the image's libvirt is >= 11.10, else emulator;
 * the version comes from the library's file name, nothing is executed. */
#ifndef L1VH_DOMAIN_H
#define L1VH_DOMAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "error.h"
#include "spec.h"

/* libvirt 11.10.0 is the first to know <domain type='hyperv'>. */
#define L1VH_LIBVIRT_HYPERV_VERSION 11010

/* What the container image holds, found without executing anything. */
struct l1vh_domain_facts {
  int libvirt_version; /* major*1000+minor (11010 = 11.10), -1 when not found */
  int libvirt_micro;
  char libvirt_lib[256]; /* its path inside the rootfs, "" when not found */
};

struct l1vh_domain_plan {
  bool rewrite;
  bool decided; /* l1vh_domain_decide ran (an empty plan is not decided) */
  enum l1vh_domain_strategy strategy; /* xml or emulator once decided */
  enum l1vh_domain_strategy configured; /* domain.strategy as configured */
  const char *type;  /* config's target type */
  const char *accel; /* config's target accelerator */
  char *const *from; /* config's domain.rewrite: the types that become type */
  size_t n_from;
  bool have_libvirt; /* the facts found a libvirt library */
  int libvirt_version;
  int libvirt_micro;
  char reason[200];
};

/* Look for the libvirt library in the container rootfs (rootfd: an O_PATH
 * fd of its root, opened on the host).  Every path is resolved inside the
 * root (RESOLVE_IN_ROOT); only directory entries and a symlink's text are
 * read.  Not finding libvirt is a fact, not an error. */
int l1vh_domain_probe(int rootfd, struct l1vh_domain_facts *facts, struct l1vh_error *err);
/* Pure. */
int l1vh_domain_decide(const struct l1vh_domain_facts *facts, const struct l1vh_config *cfg,
                       struct l1vh_domain_plan *plan, struct l1vh_error *err);
void l1vh_domain_print(const struct l1vh_domain_plan *plan, FILE *out);
void l1vh_domain_print_json(const struct l1vh_domain_plan *plan, FILE *out);

/* Parse a libvirt library file name, "libvirt.so.0.<major*1000+minor>.<micro>".
 * Returns false for any other name (libvirt-qemu.so.0..., libvirt.so.0). */
bool l1vh_domain_parse_libname(const char *name, int *version, int *micro);

#endif
