#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

/* Parse a config text; returns the parse result, cfg filled either way. */
static int parse(const char *text, struct l1vh_config *cfg, struct l1vh_error *err)
{
  return l1vh_config_parse(text, strlen(text), "test.json", cfg, err);
}

L1VH_TEST(config_defaults)
{
  struct l1vh_config cfg;

  l1vh_config_defaults(&cfg);
  CHECK(!cfg.gate);
  CHECK_STR(cfg.device.path, "/dev/mshv");
  CHECK(cfg.device.mode == 0660 && !cfg.device.has_uid && !cfg.device.has_gid);
  CHECK(cfg.domain.strategy == L1VH_DOMAIN_AUTO);
  CHECK_STR(cfg.domain.type, "hyperv");
  CHECK_STR(cfg.domain.accel, "mshv");
  CHECK(cfg.domain.n_rewrite == 2);
  CHECK_STR(cfg.domain.rewrite[0], "kvm");
  CHECK_STR(cfg.domain.rewrite[1], "qemu");
  CHECK(cfg.memlock.when == L1VH_MEMLOCK_KUBEVIRT);
  CHECK_STR(cfg.memlock.size, "auto");
  CHECK_STR(cfg.match.container_name, "compute");
  CHECK_STR(cfg.match.pod_annotation, "kubevirt.io/domain");
  CHECK_STR(cfg.match.sandbox_name_prefix, "virt-launcher-");
  CHECK(cfg.match.image_regex == NULL);
  CHECK(cfg.on_error == L1VH_ON_ERROR_FAIL);
  CHECK(cfg.log_level == L1VH_LOG_INFO);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(config_full_document)
{
  struct l1vh_config cfg;
  struct l1vh_error err = L1VH_ERROR_INIT;
  const char *text =
    "{\"featureGates\":[\"Other\",\"HyperVL1VH\"],"
    "\"device\":{\"path\":\"/dev/kvm\",\"mode\":\"0600\",\"uid\":107,\"gid\":null},"
    "\"domain\":{\"strategy\":\"emulator\",\"type\":\"kvm\",\"accel\":\"kvm\",\"rewrite\":[\"qemu\"]},"
    "\"memlock\":{\"when\":\"always\",\"size\":\"4Mi\"},"
    "\"match\":{\"containerName\":\"vm\",\"podAnnotation\":\"a/b\",\"sandboxNamePrefix\":\"x-\","
    "\"imageRegex\":\"^quay\\\\.io/kubevirt/virt-launcher:\"},"
    "\"runtime\":{\"path\":[\"/usr/bin/runc\"],\"hooksDirs\":[],\"hook\":\"/opt/l1vh-hook\"},"
    "\"onError\":\"warn\",\"log\":{\"level\":\"debug\"}}";

  CHECK(parse(text, &cfg, &err) == 0);
  CHECK(cfg.gate);
  CHECK_STR(cfg.device.path, "/dev/kvm");
  CHECK(cfg.device.mode == 0600 && cfg.device.has_uid && cfg.device.uid == 107);
  CHECK(!cfg.device.has_gid);
  CHECK(cfg.domain.strategy == L1VH_DOMAIN_EMULATOR);
  CHECK(cfg.domain.n_rewrite == 1);
  CHECK_STR(cfg.domain.rewrite[0], "qemu");
  CHECK(cfg.memlock.when == L1VH_MEMLOCK_ALWAYS);
  CHECK_STR(cfg.memlock.size, "4Mi");
  CHECK(cfg.match.image_regex != NULL);
  CHECK(regexec(&cfg.match.image_re, "quay.io/kubevirt/virt-launcher:v1.7.0", 0, NULL, 0) == 0);
  CHECK(regexec(&cfg.match.image_re, "docker.io/evil/virt-launcher:v1", 0, NULL, 0) != 0);
  CHECK(cfg.runtime.n_path == 1 && cfg.runtime.n_hooks_dirs == 0);
  CHECK_STR(cfg.runtime.hook, "/opt/l1vh-hook");
  CHECK(cfg.on_error == L1VH_ON_ERROR_WARN && cfg.log_level == L1VH_LOG_DEBUG);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(config_gate_needs_exact_name)
{
  struct l1vh_config cfg;
  struct l1vh_error err = L1VH_ERROR_INIT;

  CHECK(parse("{\"featureGates\":[\"hypervl1vh\",\"HyperVL1VH \"]}", &cfg, &err) == 0);
  CHECK(!cfg.gate);
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

/* Every bad config: one line naming the file, the key and what was expected. */
L1VH_TEST(config_bad_values)
{
  static const struct {
    const char *text, *want;
  } cases[] = {
    {"{\"featureGate\":[]}", "unknown key \"featureGate\""},
    {"{\"device\":{\"paht\":\"/dev/kvm\"}}", "unknown key \"device.paht\""},
    {"{\"featureGates\":\"HyperVL1VH\"}", "featureGates: expected an array of strings, got string"},
    {"{\"featureGates\":[1]}", "featureGates: expected an array of strings, got number"},
    {"{\"device\":{\"path\":\"dev/mshv\"}}", "device.path: expected an absolute path"},
    {"{\"device\":{\"path\":\"/dev/../etc/passwd\"}}", "device.path: expected an absolute path"},
    {"{\"device\":{\"path\":\"\"}}", "device.path: expected a non-empty string"},
    {"{\"device\":{\"mode\":660}}", "device.mode: expected an octal string"},
    {"{\"device\":{\"mode\":\"0999\"}}", "device.mode: expected an octal mode"},
    {"{\"device\":{\"mode\":\"04755\"}}", "device.mode: expected an octal mode"},
    {"{\"device\":{\"uid\":-1}}", "device.uid: expected null or an integer"},
    {"{\"device\":{\"gid\":4294967295}}", "device.gid: expected null or an integer"},
    {"{\"device\":{\"uid\":\"107\"}}", "device.uid: expected null or an integer"},
    {"{\"domain\":{\"strategy\":\"magic\"}}", "domain.strategy: expected one of auto, xml, emulator, off, got \"magic\""},
    {"{\"domain\":{\"type\":\"hyper v\"}}", "domain.type: expected a lower-case name"},
    {"{\"domain\":{\"accel\":\"mshv,x=1\"}}", "domain.accel: expected a lower-case name"},
    {"{\"domain\":{\"rewrite\":\"kvm\"}}", "domain.rewrite: expected an array"},
    {"{\"domain\":{\"rewrite\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}}", "more than 8"},
    {"{\"memlock\":{\"when\":\"sometimes\"}}", "memlock.when: expected one of kubevirt, always, never"},
    {"{\"memlock\":{\"size\":\"lots\"}}", "memlock.size: expected \"auto\", \"unlimited\" or a quantity"},
    {"{\"match\":{\"imageRegex\":\"(\"}}", "match.imageRegex: invalid regular expression"},
    {"{\"match\":{\"containerName\":\"\"}}", "match.containerName: expected a non-empty string"},
    {"{\"onError\":\"ignore\"}", "onError: expected one of fail, warn"},
    {"{\"log\":{\"level\":\"trace\"}}", "log.level: expected one of error, warn, info, debug"},
    {"{\"runtime\":{\"hook\":\"l1vh-hook\"}}", "runtime.hook: expected an absolute path"},
    {"[]", "expected an object, got array"},
    {"{\"featureGates\":[\"HyperVL1VH\"]", "invalid JSON"},
    {"", "invalid JSON"},
    {"{\"featureGates\":[\"HyperVL1VH\"]} trailing", "invalid JSON"},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct l1vh_config cfg;
    struct l1vh_error err = L1VH_ERROR_INIT;

    if (parse(cases[i].text, &cfg, &err) == 0) {
      printf("# accepted: %s\n", cases[i].text);
      return UNIT_FAIL;
    }
    CHECK_HAS(err.msg, "config test.json: ");
    CHECK_HAS(err.msg, cases[i].want);
    CHECK(strchr(err.msg, '\n') == NULL);
    /* Nothing half-read: the defaults, gate off. */
    CHECK(!cfg.gate);
    CHECK_STR(cfg.device.path, "/dev/mshv");
    l1vh_config_free(&cfg);
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

L1VH_TEST(config_load_missing_means_defaults)
{
  struct l1vh_config cfg;
  struct l1vh_error err = L1VH_ERROR_INIT;

  CHECK(l1vh_config_load("/nonexistent/l1vh/config.json", &cfg, &err) == 0);
  CHECK(!cfg.gate);
  CHECK_STR(cfg.source, "defaults");
  l1vh_config_free(&cfg);
  return UNIT_PASS;
}

L1VH_TEST(config_load_refuses_directory_and_huge)
{
  struct l1vh_config cfg;
  struct l1vh_error err = L1VH_ERROR_INIT;
  char path[] = "/tmp/l1vh-unit-XXXXXX";
  int fd;

  CHECK(l1vh_config_load("/tmp", &cfg, &err) < 0);
  CHECK_HAS(err.msg, "not a regular file");
  l1vh_config_free(&cfg);
  l1vh_error_clear(&err);

  fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, L1VH_CONFIG_MAX_BYTES + 1) == 0);
  close(fd);
  CHECK(l1vh_config_load(path, &cfg, &err) < 0);
  unlink(path);
  CHECK_HAS(err.msg, "larger than the limit");
  l1vh_config_free(&cfg);
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

L1VH_TEST(config_path_precedence)
{
  setenv("L1VH_CONFIG", "/from/env.json", 1);
  CHECK_STR(l1vh_config_path("/from/flag.json"), "/from/flag.json");
  CHECK_STR(l1vh_config_path(NULL), "/from/env.json");
  unsetenv("L1VH_CONFIG");
  CHECK_STR(l1vh_config_path(NULL), "/etc/l1vh/config.json");
  return UNIT_PASS;
}
