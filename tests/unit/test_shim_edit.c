/* l1vh-shim: what the plan becomes in the spec, and the --log lines. */
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "../../shim/edit.h"
#include "../../shim/log.h"
#include "cleanup.h"
#include "json.h"
#include "jsonw.h"
#include "unit.h"

/* A spec as containerd writes one (abridged), with members l1vh does not
 * know, which must survive in place. */
static const char spec_text[] =
  "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":107,\"gid\":107},"
  "\"args\":[\"/usr/bin/virt-launcher-monitor\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":"
  "\"RLIMIT_NOFILE\",\"hard\":1048576,\"soft\":1048576},{\"type\":\"RLIMIT_MEMLOCK\",\"hard\":"
  "65536,\"soft\":65536}],\"x-vendor\":{\"keep\":[1.0e2]}},\"root\":{\"path\":\"rootfs\"},"
  "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"memory\":"
  "{\"limit\":1073741824}},\"devices\":[{\"path\":\"/dev/mshv\",\"type\":\"c\",\"major\":1,"
  "\"minor\":1},{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229}],"
  "\"cgroupsPath\":\"/k8s/x\"},\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\"}]}}";

static struct l1vh_plan make_plan(bool device, bool memlock, bool domain)
{
  struct l1vh_plan p;

  memset(&p, 0, sizeof(p));
  p.match = p.apply = true;
  p.device.inject = device;
  p.device.path = "/dev/mshv";
  p.device.rdev = makedev(10, 123);
  p.device.uid = 107;
  p.device.gid = 107;
  p.device.mode = 0660;
  p.memlock.set = memlock;
  p.memlock.bytes = 4194304;
  p.domain.rewrite = domain;
  return p;
}

/* Apply plan to spec_text and parse the result back with the reader. */
static struct l1vh_json_doc *edited(const struct l1vh_plan *plan, const char *hook_config,
                                    char **text)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_jw struct l1vh_jw *root = NULL;
  struct l1vh_json_doc *doc = NULL;
  size_t len;

  if (l1vh_jw_parse(spec_text, strlen(spec_text), &root, &err) < 0 ||
      l1vh_shim_apply_plan(root, plan, "/usr/local/bin/l1vh-hook", hook_config, &err) < 0 ||
      l1vh_jw_serialize(root, text, &len, &err) < 0 ||
      l1vh_json_parse(*text, len, &doc, &err) < 0) {
    printf("# %s\n", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
    return NULL;
  }
  return doc;
}

static const struct l1vh_json *path2(const struct l1vh_json *n, const char *a, const char *b)
{
  return l1vh_json_member(l1vh_json_member(n, a), b);
}

static int64_t num(const struct l1vh_json *n, const char *key)
{
  int64_t v = -1;
  l1vh_json_int64(l1vh_json_member(n, key), &v);
  return v;
}

L1VH_TEST(shim_edit_full_plan)
{
  cleanup_free char *text = NULL;
  cleanup_json_doc struct l1vh_json_doc *doc = edited(&(struct l1vh_plan){0}, NULL, &text);
  struct l1vh_plan plan = make_plan(true, true, true);
  const struct l1vh_json *root, *devices, *rules, *rlimits, *rule, *dev, *hook;

  CHECK(doc);
  /* An empty plan is no edit at all (compact output of compact input). */
  CHECK_STR(text, spec_text);
  l1vh_json_doc_free(doc);
  free(text);
  text = NULL;

  doc = edited(&plan, "/etc/l1vh/test.json", &text);
  CHECK(doc);
  root = l1vh_json_root(doc);

  /* the device: the same path listed before is replaced, others kept */
  devices = path2(root, "linux", "devices");
  CHECK(l1vh_json_len(devices) == 2);
  CHECK_STR(l1vh_json_string(l1vh_json_member(l1vh_json_at(devices, 0), "path")), "/dev/fuse");
  dev = l1vh_json_at(devices, 1);
  CHECK_STR(l1vh_json_string(l1vh_json_member(dev, "path")), "/dev/mshv");
  CHECK_STR(l1vh_json_string(l1vh_json_member(dev, "type")), "c");
  CHECK(num(dev, "major") == 10 && num(dev, "minor") == 123);
  CHECK(num(dev, "fileMode") == 0660 && num(dev, "uid") == 107 && num(dev, "gid") == 107);

  /* its cgroup rule, after the deny-all */
  rules = path2(l1vh_json_member(root, "linux"), "resources", "devices");
  CHECK(l1vh_json_len(rules) == 2);
  rule = l1vh_json_at(rules, 1);
  bool allow = false;
  CHECK(l1vh_json_bool(l1vh_json_member(rule, "allow"), &allow) && allow);
  CHECK_STR(l1vh_json_string(l1vh_json_member(rule, "type")), "c");
  CHECK(num(rule, "major") == 10 && num(rule, "minor") == 123);
  CHECK_STR(l1vh_json_string(l1vh_json_member(rule, "access")), "rw");

  /* RLIMIT_MEMLOCK replaced, RLIMIT_NOFILE kept */
  rlimits = path2(root, "process", "rlimits");
  CHECK(l1vh_json_len(rlimits) == 2);
  CHECK_STR(l1vh_json_string(l1vh_json_member(l1vh_json_at(rlimits, 0), "type")), "RLIMIT_NOFILE");
  CHECK_STR(l1vh_json_string(l1vh_json_member(l1vh_json_at(rlimits, 1), "type")), "RLIMIT_MEMLOCK");
  CHECK(num(l1vh_json_at(rlimits, 1), "soft") == 4194304);
  CHECK(num(l1vh_json_at(rlimits, 1), "hard") == 4194304);

  /* the hook: after the existing hooks, explicit env, --config passed on;
   * and at poststop, where it removes its record */
  CHECK(l1vh_json_len(path2(root, "hooks", "poststop")) == 2);
  hook = l1vh_json_at(path2(root, "hooks", "poststop"), 1);
  CHECK_STR(l1vh_json_string(l1vh_json_member(hook, "path")), "/usr/local/bin/l1vh-hook");
  CHECK_STR(l1vh_json_string(l1vh_json_at(l1vh_json_member(hook, "args"), 1)), "poststop");
  CHECK_STR(l1vh_json_string(l1vh_json_at(l1vh_json_member(hook, "args"), 3)),
            "/etc/l1vh/test.json");
  CHECK(l1vh_json_len(path2(root, "hooks", "prestart")) == 1);
  hook = l1vh_json_at(path2(root, "hooks", "prestart"), 0);
  CHECK_STR(l1vh_json_string(l1vh_json_member(hook, "path")), "/usr/local/bin/l1vh-hook");
  CHECK(l1vh_json_len(l1vh_json_member(hook, "args")) == 4);
  CHECK_STR(l1vh_json_string(l1vh_json_at(l1vh_json_member(hook, "args"), 1)), "prestart");
  CHECK_STR(l1vh_json_string(l1vh_json_at(l1vh_json_member(hook, "args"), 3)),
            "/etc/l1vh/test.json");
  CHECK(l1vh_json_len(l1vh_json_member(hook, "env")) == 1);
  CHECK_STR(l1vh_json_string(l1vh_json_at(l1vh_json_member(hook, "env"), 0)),
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
  CHECK(num(hook, "timeout") == 10);

  /* what l1vh does not know stays where it was, literally */
  CHECK_HAS(text, "\"x-vendor\":{\"keep\":[1.0e2]}},\"root\":{\"path\":\"rootfs\"}");
  CHECK_HAS(text, "\"cgroupsPath\":\"/k8s/x\"}");
  CHECK(strncmp(text, "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\"", 43) == 0);
  return UNIT_PASS;
}

L1VH_TEST(shim_edit_partial_plans)
{
  cleanup_free char *text = NULL;
  struct l1vh_plan plan = make_plan(false, true, false);
  cleanup_json_doc struct l1vh_json_doc *doc = NULL;
  const struct l1vh_json *root;

  /* memlock only, unlimited: no device entry, no hook */
  plan.memlock.unlimited = true;
  doc = edited(&plan, NULL, &text);
  CHECK(doc);
  root = l1vh_json_root(doc);
  CHECK(l1vh_json_len(path2(root, "linux", "devices")) == 2);
  CHECK(!path2(root, "hooks", "prestart"));
  CHECK_HAS(text, "{\"type\":\"RLIMIT_MEMLOCK\",\"hard\":18446744073709551615,"
                  "\"soft\":18446744073709551615}");
  return UNIT_PASS;
}

L1VH_TEST(shim_edit_refuses_bad_specs)
{
  static const char *bad[] = {
    "{\"process\":{\"args\":[\"x\"]},\"linux\":[]}",                  /* linux not an object */
    "{\"process\":{\"args\":[\"x\"]},\"linux\":{\"devices\":{}}}",    /* devices not an array */
    "{\"linux\":{}}",                                                 /* no process */
    "{\"process\":{\"rlimits\":{}},\"linux\":{}}",                    /* rlimits not an array */
    "{\"process\":{},\"linux\":{\"resources\":{},\"resources\":{}}}", /* duplicate key */
  };
  struct l1vh_plan plan = make_plan(true, true, false);

  for (size_t i = 0; i < L1VH_ARRAY_SIZE(bad); i++) {
    struct l1vh_error err = L1VH_ERROR_INIT;
    cleanup_jw struct l1vh_jw *root = NULL;

    CHECK(l1vh_jw_parse(bad[i], strlen(bad[i]), &root, &err) == 0);
    CHECK(l1vh_shim_apply_plan(root, &plan, "/h", NULL, &err) < 0);
    CHECK(err.msg && !strchr(err.msg, '\n'));
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

L1VH_TEST(shim_log_lines)
{
  char line[512];
  int n;
  cleanup_json_doc struct l1vh_json_doc *doc = NULL;
  struct l1vh_error err = L1VH_ERROR_INIT;
  const struct l1vh_json *root;

  /* runc's --log-format json line: level, msg, time (RFC 3339) */
  n = l1vh_shim_log_format(line, sizeof(line), 1, "error",
                           "container ab: read config: \"x\"\\y\n\ttab \x01", 1700000000);
  CHECK(n > 0 && (size_t) n == strlen(line));
  CHECK_STR(line, "{\"level\":\"error\",\"msg\":\"container ab: read config: \\\"x\\\"\\\\y\\n"
                  "\\ttab \\u0001\",\"time\":\"2023-11-14T22:13:20Z\"}\n");
  CHECK(l1vh_json_parse(line, (size_t) n, &doc, &err) == 0);
  root = l1vh_json_root(doc);
  CHECK_STR(l1vh_json_string(l1vh_json_member(root, "msg")),
            "container ab: read config: \"x\"\\y\n\ttab \x01");
  CHECK_STR(l1vh_json_string(l1vh_json_member(root, "level")), "error");

  /* the text form */
  n = l1vh_shim_log_format(line, sizeof(line), 0, "warning", "say \"hi\"", 0);
  CHECK(n > 0);
  CHECK_STR(line, "time=\"1970-01-01T00:00:00Z\" level=warning msg=\"say \\\"hi\\\"\"\n");

  /* too long for the buffer: refused, not cut */
  CHECK(l1vh_shim_log_format(line, 40, 1, "error", "a message longer than forty bytes", 0) < 0);
  return UNIT_PASS;
}

L1VH_TEST(shim_edit_hook_not_twice)
{
  /* CRI-O put the l1vh-hook in from hooks.d (prestart as createRuntime,
   * and poststop): the shim must not add a second one. */
  static const char in[] = "{\"process\":{},\"hooks\":{\"createRuntime\":[{\"path\":"
                           "\"/usr/local/bin/l1vh-hook\",\"args\":[\"l1vh-hook\",\"prestart\"]}],"
                           "\"poststop\":[{\"path\":\"/usr/local/bin/l1vh-hook\",\"args\":"
                           "[\"l1vh-hook\",\"poststop\"]}]}}";
  struct l1vh_plan plan = make_plan(false, false, true);
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_jw struct l1vh_jw *root = NULL;
  cleanup_free char *out = NULL;
  size_t len;

  CHECK(l1vh_jw_parse(in, strlen(in), &root, &err) == 0);
  CHECK(l1vh_shim_apply_plan(root, &plan, "/usr/local/bin/l1vh-hook", NULL, &err) == 0);
  CHECK(l1vh_jw_serialize(root, &out, &len, &err) == 0);
  CHECK_STR(out, in);
  /* another program there: ours is added */
  free(out);
  out = NULL;
  CHECK(l1vh_shim_apply_plan(root, &plan, "/opt/l1vh/l1vh-hook", NULL, &err) == 0);
  CHECK(l1vh_jw_serialize(root, &out, &len, &err) == 0);
  CHECK_HAS(out, "\"prestart\":[{\"path\":\"/opt/l1vh/l1vh-hook\",\"args\":[\"l1vh-hook\","
                 "\"prestart\"],\"env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"],\"timeout\":10}]");
  return UNIT_PASS;
}
