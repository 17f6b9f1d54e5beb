/* The domain rewrite decision: the probe of the image's libvirt, the pure
 * decision, dry-run's output, and the config the in-container pieces read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../incontainer/runconf.h"
#include "domain.h"
#include "json.h"
#include "unit.h"

/* A scratch rootfs under /tmp, removed with `rm -rf` at the end. */
static char root[64];

static int make_root(void)
{
  snprintf(root, sizeof(root), "/tmp/l1vh-unit-domain-XXXXXX");
  return mkdtemp(root) ? 0 : -1;
}

static void drop_root(void)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", root);
}

/* mkdir -p root/dir and create root/dir/name (empty), or a symlink to target. */
static int put(const char *dir, const char *name, const char *target)
{
  char path[512], cmd[600];
  snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, dir);
  if (system(cmd) != 0)
    return -1;
  snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
  if (target)
    return symlink(target, path);
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  return fd < 0 ? -1 : close(fd);
}

static int probe(struct l1vh_domain_facts *facts)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), r;

  if (fd < 0)
    return -1;
  r = l1vh_domain_probe(fd, facts, &err);
  if (r < 0)
    printf("# probe: %s\n", l1vh_error_msg(&err));
  l1vh_error_clear(&err);
  close(fd);
  return r;
}

L1VH_TEST(domain_parse_libname)
{
  int v = 0, m = 0;

  CHECK(l1vh_domain_parse_libname("libvirt.so.0.9000.0", &v, &m) && v == 9000 && m == 0);
  CHECK(l1vh_domain_parse_libname("libvirt.so.0.11010.0", &v, &m) && v == 11010 && m == 0);
  CHECK(l1vh_domain_parse_libname("libvirt.so.0.10010.3", &v, &m) && v == 10010 && m == 3);
  CHECK(!l1vh_domain_parse_libname("libvirt.so.0", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt.so.0.", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt.so.0.9000", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt.so.0.9000.0.1", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt.so.0.9000.0~", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt-qemu.so.0.11010.0", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt-admin.so.0.11010.0", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt.so.1.11010.0", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt.so.0.-1.0", &v, &m));
  CHECK(!l1vh_domain_parse_libname("libvirt.so.0.1234567.0", &v, &m));
  return UNIT_PASS;
}

L1VH_TEST(domain_probe_debian_and_rhel_layouts)
{
  struct l1vh_domain_facts f;

  CHECK(make_root() == 0);
  /* Debian 12's layout, with the other libvirt libraries around it. */
  CHECK(put("usr/lib/x86_64-linux-gnu", "libvirt.so.0.9000.0", NULL) == 0);
  CHECK(put("usr/lib/x86_64-linux-gnu", "libvirt.so.0", "libvirt.so.0.9000.0") == 0);
  CHECK(put("usr/lib/x86_64-linux-gnu", "libvirt-qemu.so.0.11010.0", NULL) == 0);
  CHECK(probe(&f) == 0);
  CHECK(f.libvirt_version == 9000 && f.libvirt_micro == 0);
  CHECK_STR(f.libvirt_lib, "/usr/lib/x86_64-linux-gnu/libvirt.so.0.9000.0");
  /* A RHEL-like usr/lib64 comes first, as the loader looks there first. */
  CHECK(put("usr/lib64", "libvirt.so.0.11010.0", NULL) == 0);
  CHECK(probe(&f) == 0);
  CHECK(f.libvirt_version == 11010);
  CHECK_STR(f.libvirt_lib, "/usr/lib64/libvirt.so.0.11010.0");
  drop_root();
  return UNIT_PASS;
}

L1VH_TEST(domain_probe_prefers_soname_link_else_lowest)
{
  struct l1vh_domain_facts f;

  CHECK(make_root() == 0);
  CHECK(put("usr/lib64", "libvirt.so.0.11010.0", NULL) == 0);
  CHECK(put("usr/lib64", "libvirt.so.0.10010.0", NULL) == 0);
  /* Two versions and no libvirt.so.0: the older one (emulator) is the safe guess. */
  CHECK(probe(&f) == 0);
  CHECK(f.libvirt_version == 10010);
  /* libvirt.so.0 says which one the loader takes. */
  CHECK(put("usr/lib64", "libvirt.so.0", "/usr/lib64/libvirt.so.0.11010.0") == 0);
  CHECK(probe(&f) == 0);
  CHECK(f.libvirt_version == 11010);
  drop_root();
  return UNIT_PASS;
}

L1VH_TEST(domain_probe_stays_in_the_rootfs)
{
  struct l1vh_domain_facts f;

  CHECK(make_root() == 0);
  /* The host has libvirt 9.0 in /usr/lib/x86_64-linux-gnu: a symlink in the
   * image pointing there (absolute or by ..) is resolved in the rootfs. */
  CHECK(put("", "lib64", "/usr/lib/x86_64-linux-gnu") == 0);
  CHECK(put("usr", "lib", "../../../../../../usr/lib") == 0);
  CHECK(probe(&f) == 0);
  CHECK(f.libvirt_version == -1);
  CHECK_STR(f.libvirt_lib, "");
  /* lib64 -> usr/lib64 inside the image is followed (and read once). */
  char link[128];
  snprintf(link, sizeof(link), "%s/lib64", root);
  CHECK(unlink(link) == 0);
  CHECK(put("", "lib64", "usr/lib64") == 0);
  CHECK(put("usr/lib64", "libvirt.so.0.10010.0", NULL) == 0);
  CHECK(probe(&f) == 0);
  CHECK(f.libvirt_version == 10010);
  drop_root();
  return UNIT_PASS;
}

L1VH_TEST(domain_probe_empty_rootfs)
{
  struct l1vh_domain_facts f;

  CHECK(make_root() == 0);
  CHECK(probe(&f) == 0);
  CHECK(f.libvirt_version == -1);
  drop_root();
  return UNIT_PASS;
}

static void config(struct l1vh_config *cfg, enum l1vh_domain_strategy s)
{
  l1vh_config_defaults(cfg);
  cfg->gate = true;
  cfg->domain.strategy = s;
}

static struct l1vh_domain_facts libvirt(int version)
{
  struct l1vh_domain_facts f = {.libvirt_version = version, .libvirt_micro = 0};
  if (version >= 0)
    snprintf(f.libvirt_lib, sizeof(f.libvirt_lib), "/usr/lib64/libvirt.so.0.%d.0", version);
  return f;
}

L1VH_TEST(domain_decide_auto)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_domain_plan plan;
  struct l1vh_config cfg;
  struct l1vh_domain_facts f;

  config(&cfg, L1VH_DOMAIN_AUTO);
  f = libvirt(9000);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(plan.rewrite && plan.strategy == L1VH_DOMAIN_EMULATOR);
  CHECK_HAS(plan.reason, "libvirt 9.0.0");
  CHECK_HAS(plan.reason, "older than 11.10");
  f = libvirt(11009);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(plan.strategy == L1VH_DOMAIN_EMULATOR);
  f = libvirt(11010);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(plan.rewrite && plan.strategy == L1VH_DOMAIN_XML);
  CHECK_HAS(plan.reason, "libvirt 11.10.0 in the image (/usr/lib64/libvirt.so.0.11010.0) is >= 11.10");
  f = libvirt(12000);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(plan.strategy == L1VH_DOMAIN_XML);
  /* No libvirt in the image: nothing runs a domain there. */
  f = libvirt(-1);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(!plan.rewrite);
  CHECK_HAS(plan.reason, "no libvirt");
  CHECK(l1vh_domain_decide(NULL, &cfg, &plan, &err) == 0);
  CHECK(!plan.rewrite);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(domain_decide_configured)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_domain_plan plan;
  struct l1vh_config cfg;
  struct l1vh_domain_facts f = libvirt(9000);

  config(&cfg, L1VH_DOMAIN_XML);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(plan.rewrite && plan.strategy == L1VH_DOMAIN_XML);
  CHECK_STR(plan.type, "hyperv");
  CHECK_STR(plan.accel, "mshv");
  CHECK(plan.n_from == 2);
  CHECK_STR(plan.from[0], "kvm");
  l1vh_config_free(&cfg);

  config(&cfg, L1VH_DOMAIN_EMULATOR);
  f = libvirt(-1);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(plan.rewrite && plan.strategy == L1VH_DOMAIN_EMULATOR);
  l1vh_config_free(&cfg);

  config(&cfg, L1VH_DOMAIN_OFF);
  f = libvirt(11010);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK(!plan.rewrite);
  CHECK_HAS(plan.reason, "off");
  l1vh_config_free(&cfg);

  /* xml with nothing to rewrite is a config error, said at decision time. */
  config(&cfg, L1VH_DOMAIN_XML);
  cfg.domain.n_rewrite = 0;
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "domain.rewrite is empty");
  l1vh_error_clear(&err);
  cfg.domain.n_rewrite = 2;
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

/* dry-run --json: one "domain" member, valid JSON, with its fields. */
L1VH_TEST(domain_print_json)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_json_doc *doc = NULL;
  struct l1vh_domain_plan plan;
  struct l1vh_config cfg;
  struct l1vh_domain_facts f = libvirt(11010);
  char *buf = NULL;
  size_t len = 0;
  FILE *out;
  const struct l1vh_json *d;
  bool b;

  config(&cfg, L1VH_DOMAIN_AUTO);
  CHECK(l1vh_domain_decide(&f, &cfg, &plan, &err) == 0);
  CHECK((out = open_memstream(&buf, &len)));
  fputc('{', out);
  l1vh_domain_print_json(&plan, out);
  fputc('}', out);
  fclose(out);
  if (l1vh_json_parse(buf, len, &doc, &err) < 0) {
    printf("# %s: %s\n", buf, l1vh_error_msg(&err));
    return UNIT_FAIL;
  }
  d = l1vh_json_member(l1vh_json_root(doc), "domain");
  CHECK(l1vh_json_len(l1vh_json_root(doc)) == 1);
  CHECK(l1vh_json_bool(l1vh_json_member(d, "rewrite"), &b) && b);
  CHECK_STR(l1vh_json_string(l1vh_json_member(d, "strategy")), "xml");
  CHECK_STR(l1vh_json_string(l1vh_json_member(d, "configured")), "auto");
  CHECK_STR(l1vh_json_string(l1vh_json_member(d, "type")), "hyperv");
  CHECK_STR(l1vh_json_string(l1vh_json_member(d, "accel")), "mshv");
  CHECK_STR(l1vh_json_string(l1vh_json_member(d, "libvirt")), "11.10.0");
  CHECK_HAS(l1vh_json_string(l1vh_json_member(d, "reason")), ">= 11.10");
  CHECK(l1vh_json_len(l1vh_json_member(d, "from")) == 2);
  l1vh_json_doc_free(doc);
  free(buf);

  /* An undecided (empty) plan: libvirt is null, not 0.0.0. */
  memset(&plan, 0, sizeof(plan));
  plan.strategy = L1VH_DOMAIN_EMULATOR;
  plan.type = "hyperv";
  plan.accel = "mshv";
  CHECK((out = open_memstream(&buf, &len)));
  fputc('{', out);
  l1vh_domain_print_json(&plan, out);
  fputc('}', out);
  fclose(out);
  CHECK(l1vh_json_parse(buf, len, &doc, &err) == 0);
  d = l1vh_json_member(l1vh_json_root(doc), "domain");
  CHECK(l1vh_json_type(l1vh_json_member(d, "libvirt")) == L1VH_JSON_NULL);
  CHECK_STR(l1vh_json_string(l1vh_json_member(d, "strategy")), "off");
  CHECK_STR(l1vh_json_string(l1vh_json_member(d, "configured")), "emulator");
  l1vh_json_doc_free(doc);
  free(buf);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(domain_runconf_parse)
{
  struct l1vh_runconf c;
  const char *why = NULL;

  CHECK(l1vh_runconf_parse("# comment\naccel kvm\ntype hyperv\nfrom kvm qemu\n"
                           "emulator /usr/bin/qemu-system-x86_64\ndaemon /usr/sbin/virtqemud\n",
                           &c, &why) == 0);
  CHECK_STR(c.accel, "kvm");
  CHECK_STR(c.type, "hyperv");
  CHECK(c.n_from == 2);
  CHECK_STR(c.from[1], "qemu");
  CHECK(c.n_wrapped == 2);
  CHECK(c.wrapped[0].kind == L1VH_WRAP_EMULATOR);
  CHECK_STR(c.wrapped[1].path, "/usr/sbin/virtqemud");
  CHECK(c.wrapped[1].kind == L1VH_WRAP_DAEMON);
  /* A path with a space is kept whole (the rest of the line). */
  CHECK(l1vh_runconf_parse("accel a\ntype t\nemulator /opt/my qemu/bin/q", &c, &why) == 0);
  CHECK_STR(c.wrapped[0].path, "/opt/my qemu/bin/q");

  CHECK(l1vh_runconf_parse("type t\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel kvm,x=1\ntype t\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel kvm\ntype t'\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel kvm\ntype t\nemulator usr/bin/q\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel kvm\ntype t\nemulator /usr/../../bin/q\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel kvm\ntype t\nemulator /usr/bin/..\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel kvm\ntype t\nbogus x\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel kvm\ntype t\nfrom a b c d e f g h i\n", &c, &why) < 0);
  CHECK(l1vh_runconf_parse("accel\ntype t\n", &c, &why) < 0);
  CHECK(why != NULL);
  return UNIT_PASS;
}

L1VH_TEST(domain_runconf_read_refuses_non_files)
{
  struct l1vh_runconf c;
  const char *why;

  CHECK(l1vh_runconf_read("/nonexistent/l1vh", &c, &why) < 0);
  CHECK(l1vh_runconf_read("/dev/null", &c, &why) < 0);
  CHECK_HAS(why, "not a regular file");
  CHECK(l1vh_runconf_read("/proc/self", &c, &why) < 0);
  return UNIT_PASS;
}
