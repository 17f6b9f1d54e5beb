/* l1vh: the domain rewrite decision (docs/domain.md).
 *
 * The probe reads directory entries of the image's library directories and
 * nothing else: the libvirt library's file name carries its version
 * (libvirt.so.0.<major*1000+minor>.<micro>), so no file of the image is
 * opened for reading, let alone executed. */
#define _GNU_SOURCE
#include "domain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "xmltype.h"
#include "plan.h" /* l1vh_reason */

/* Where a distribution's dynamic loader finds libvirt.so.0, in the order
 * it looks (RHEL-like images first: KubeVirt's launcher is one). */
static const char *const lib_dirs[] = {
  "usr/lib64", "usr/lib/x86_64-linux-gnu", "usr/lib", "lib64", "lib/x86_64-linux-gnu", "lib",
  "usr/local/lib64", "usr/local/lib",
};

/* A library directory with more entries than this is not read to the end
 * (a pod author's image must not make the hook slow). */
#define MAX_DIR_ENTRIES 100000

#define SONAME "libvirt.so.0"

/* A decimal number of at most 6 digits ending at *end. */
static bool parse_num(const char *s, const char **end, int *out)
{
  long v = 0;
  const char *p = s;

  while (*p >= '0' && *p <= '9' && p - s < 6)
    v = v * 10 + (*p++ - '0');
  if (p == s || (*p >= '0' && *p <= '9'))
    return false;
  *out = (int) v;
  *end = p;
  return true;
}

bool l1vh_domain_parse_libname(const char *name, int *version, int *micro)
{
  const char *p;
  int v, m;

  if (strncmp(name, SONAME ".", sizeof(SONAME)) != 0)
    return false;
  p = name + sizeof(SONAME);
  if (!parse_num(p, &p, &v) || *p != '.' || !parse_num(p + 1, &p, &m) || *p != '\0')
    return false;
  *version = v;
  *micro = m;
  return true;
}

static int open_dir_in_root(int rootfd, const char *path)
{
  struct open_how how = {
    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd;

  /* EAGAIN: a rename or mount raced the lookup; try again a few times. */
  for (int i = 0; i < 8; i++) {
    fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN)
      break;
  }
  return fd;
}

static bool better(int v, int m, int best_v, int best_m)
{
  return best_v < 0 || v < best_v || (v == best_v && m < best_m);
}

/* Scan one directory.  1: found (facts filled), 0: not here, -1: error. */
static int scan_dir(int dirfd, const char *dir, struct l1vh_domain_facts *facts,
                    struct l1vh_error *err)
{
  char link[PATH_MAX], name[NAME_MAX + 1] = "";
  int best_v = -1, best_m = -1, v, m;
  size_t entries = 0;
  struct dirent *de;
  ssize_t n;
  DIR *d;
  int fd = dup(dirfd);

  if (fd < 0 || !(d = fdopendir(fd))) {
    if (fd >= 0)
      close(fd);
    return l1vh_error_set(err, errno, "read /%s in the rootfs", dir);
  }
  errno = 0;
  while ((de = readdir(d))) {
    if (++entries > MAX_DIR_ENTRIES) {
      closedir(d);
      return l1vh_error_setx(err, "/%s in the rootfs has more than %d entries", dir, MAX_DIR_ENTRIES);
    }
    if (l1vh_domain_parse_libname(de->d_name, &v, &m) && better(v, m, best_v, best_m)) {
      best_v = v, best_m = m;
      snprintf(name, sizeof(name), "%s", de->d_name); /* d_name fits NAME_MAX */
    }
  }
  closedir(d);

  /* The loader opens libvirt.so.0: when it is a symlink to a versioned
   * name, that is the libvirt that runs, whatever else lies around. */
  n = readlinkat(dirfd, SONAME, link, sizeof(link) - 1);
  if (n > 0) {
    const char *base;
    link[n] = '\0';
    base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
    if (l1vh_domain_parse_libname(base, &v, &m)) {
      best_v = v, best_m = m;
      snprintf(name, sizeof(name), "%.*s", NAME_MAX, base);
    }
  }
  if (best_v < 0)
    return 0;
  facts->libvirt_version = best_v;
  facts->libvirt_micro = best_m;
  l1vh_reason(facts->libvirt_lib, sizeof(facts->libvirt_lib), "/%s/%s", dir, name);
  return 1;
}

int l1vh_domain_probe(int rootfd, struct l1vh_domain_facts *facts, struct l1vh_error *err)
{
  struct stat seen[L1VH_ARRAY_SIZE(lib_dirs)];
  size_t n_seen = 0;

  memset(facts, 0, sizeof(*facts));
  facts->libvirt_version = facts->libvirt_micro = -1;
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(lib_dirs); i++) {
    cleanup_close int fd = open_dir_in_root(rootfd, lib_dirs[i]);
    struct stat st;
    bool dup_dir = false;
    int r;

    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
        continue;
      return l1vh_error_set(err, errno, "open /%s in the rootfs", lib_dirs[i]);
    }
    /* lib64 is often a symlink to usr/lib64: read each directory once. */
    if (fstat(fd, &st) < 0)
      return l1vh_error_set(err, errno, "stat /%s in the rootfs", lib_dirs[i]);
    for (size_t k = 0; k < n_seen; k++)
      dup_dir |= seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino;
    if (dup_dir)
      continue;
    seen[n_seen++] = st;
    if ((r = scan_dir(fd, lib_dirs[i], facts, err)) != 0)
      return r < 0 ? -1 : 0;
  }
  return 0;
}

static void list_from(const struct l1vh_domain_plan *plan, char *buf, size_t size)
{
  size_t n = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < plan->n_from && n < size; i++) {
    int k = snprintf(buf + n, size - n, "%s%s", i ? "|" : "", plan->from[i]);
    if (k < 0)
      break;
    n += (size_t) k;
  }
}

int l1vh_domain_decide(const struct l1vh_domain_facts *facts, const struct l1vh_config *cfg,
                       struct l1vh_domain_plan *plan, struct l1vh_error *err)
{
  int v = facts ? facts->libvirt_version : -1, micro = facts ? facts->libvirt_micro : -1;
  const char *lib = facts && facts->libvirt_lib[0] ? facts->libvirt_lib : "";

  memset(plan, 0, sizeof(*plan));
  plan->configured = cfg->domain.strategy;
  plan->type = cfg->domain.type;
  plan->accel = cfg->domain.accel;
  plan->from = cfg->domain.rewrite;
  plan->n_from = cfg->domain.n_rewrite;
  plan->have_libvirt = v >= 0;
  plan->libvirt_version = v;
  plan->libvirt_micro = micro;
  plan->strategy = L1VH_DOMAIN_OFF;
  plan->decided = true;

  switch (cfg->domain.strategy) {
  case L1VH_DOMAIN_OFF:
    l1vh_reason(plan->reason, sizeof(plan->reason), "domain.strategy is off: the domain type is left alone");
    return 0;
  case L1VH_DOMAIN_XML:
  case L1VH_DOMAIN_EMULATOR:
    plan->strategy = cfg->domain.strategy;
    l1vh_reason(plan->reason, sizeof(plan->reason), "domain.strategy is %s (configured)",
        l1vh_domain_strategy_name(plan->strategy));
    break;
  case L1VH_DOMAIN_AUTO:
    if (v < 0) {
      l1vh_reason(plan->reason, sizeof(plan->reason),
          "auto: no libvirt library (" SONAME ".*) in the image's library directories: no domain to rewrite");
      return 0;
    }
    plan->strategy = v >= L1VH_LIBVIRT_HYPERV_VERSION ? L1VH_DOMAIN_XML : L1VH_DOMAIN_EMULATOR;
    l1vh_reason(plan->reason, sizeof(plan->reason), "auto: libvirt %d.%d.%d in the image (%s) is %s 11.10",
        v / 1000, v % 1000, micro, lib, v >= L1VH_LIBVIRT_HYPERV_VERSION ? ">=" : "older than");
    break;
  default:
    return l1vh_error_setx(err, "unknown domain.strategy %d", (int) cfg->domain.strategy);
  }
  if (!l1vh_xmltype_valid_name(plan->type) || !l1vh_xmltype_valid_name(plan->accel))
    return l1vh_error_setx(err, "domain.type / domain.accel must be names of [a-z0-9_-]");
  if (plan->strategy == L1VH_DOMAIN_XML && plan->n_from == 0)
    return l1vh_error_setx(err, "domain.rewrite is empty: the xml strategy would rewrite nothing");
  plan->rewrite = true;
  return 0;
}

void l1vh_domain_print(const struct l1vh_domain_plan *plan, FILE *out)
{
  char from[128];

  if (!plan->rewrite) {
    fprintf(out, "  domain: skip: %s\n", plan->reason);
    return;
  }
  list_from(plan, from, sizeof(from));
  if (plan->strategy == L1VH_DOMAIN_XML)
    fprintf(out, "  domain: xml: <domain type='%s'> becomes '%s' before libvirt defines it: %s\n",
            from, plan->type, plan->reason);
  else
    fprintf(out, "  domain: emulator: the emulator runs with -accel %s: %s\n", plan->accel,
            plan->reason);
}

static void member(const char *key, const char *value, FILE *out)
{
  l1vh_json_fput_string(key, out);
  fputc(':', out);
  if (value)
    l1vh_json_fput_string(value, out);
  else
    fputs("null", out);
}

void l1vh_domain_print_json(const struct l1vh_domain_plan *plan, FILE *out)
{
  char version[40];

  fprintf(out, "\"domain\":{\"rewrite\":%s,", plan->rewrite ? "true" : "false");
  member("strategy", l1vh_domain_strategy_name(plan->rewrite ? plan->strategy : L1VH_DOMAIN_OFF), out);
  fputc(',', out);
  /* An empty plan was not decided: l1vh_match() left the configured
   * strategy in plan->strategy. */
  member("configured", l1vh_domain_strategy_name(plan->decided ? plan->configured : plan->strategy), out);
  fputc(',', out);
  member("type", plan->type, out);
  fputc(',', out);
  member("accel", plan->accel, out);
  fputs(",\"from\":[", out);
  for (size_t i = 0; i < plan->n_from; i++) {
    if (i)
      fputc(',', out);
    l1vh_json_fput_string(plan->from[i], out);
  }
  fputs("],", out);
  if (plan->have_libvirt) {
    int n = snprintf(version, sizeof(version), "%d.%d.%d", plan->libvirt_version / 1000,
                     plan->libvirt_version % 1000, plan->libvirt_micro);
    member("libvirt", n > 0 && (size_t) n < sizeof(version) ? version : NULL, out);
  } else {
    member("libvirt", NULL, out);
  }
  fputc(',', out);
  member("reason", plan->reason, out);
  fputc('}', out);
}
