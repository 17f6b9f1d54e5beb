/* hooks.d (oci-hooks(5) 1.0.0): parsing, `when` matching, ordering and
 * overriding, as a table of hook files and specs with the hooks expected
 * to be injected. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hooksd.h"
#include "spec.h"
#include "unit.h"

/* Specs the table matches against. */
#define SPEC_VM                                                                              \
  "{\"process\":{\"args\":[\"/usr/bin/virt-launcher-monitor\",\"--qemu\"]},"                \
  "\"annotations\":{\"kubevirt.io/domain\":\"testvm\",\"io.kubernetes.cri.container-name\":" \
  "\"compute\"},\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"}]}"
#define SPEC_BIND                                                                            \
  "{\"process\":{\"args\":[\"/bin/sh\"]},\"annotations\":{\"team\":\"fluid-dynamics\"},"    \
  "\"mounts\":[{\"destination\":\"/data\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\"]}]}"
#define SPEC_NOPROC "{\"annotations\":{\"a\":\"b\"}}"
#define SPEC_NOARGS "{\"process\":{\"args\":[]},\"annotations\":{\"a\":\"b\"}}"

/* A hook file with this `when` (JSON members) at stage prestart. */
#define HOOK(when) \
  "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/true\"},\"when\":{" when "},\"stages\":[\"prestart\"]}"

struct file {
  const char *name, *json;
};

/* Build a set from files (later entries override earlier ones of the same
 * name, as a later directory does) and list the names of the hooks that
 * match spec, in injection order: "a.json,b.json", or "error: ...". */
static void run_case(const struct file *files, size_t n, const char *spec_json, char *out,
                     size_t size)
{
  struct l1vh_hooksd_set set = {0};
  struct l1vh_spec spec;
  struct l1vh_hooksd_input in;
  struct l1vh_error err = L1VH_ERROR_INIT;

  out[0] = '\0';
  if (l1vh_spec_parse(spec_json, strlen(spec_json), &spec, &err) < 0 ||
      l1vh_hooksd_input_from_spec(&spec, &in, &err) < 0) {
    snprintf(out, size, "spec error: %s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    struct l1vh_hooksd_hook h;
    if (l1vh_hooksd_parse(files[i].json, strlen(files[i].json), files[i].name, &h, &err) < 0 ||
        l1vh_hooksd_set_add(&set, &h, &err) < 0) {
      snprintf(out, size, "error: %s", l1vh_error_msg(&err));
      goto done;
    }
  }
  for (size_t i = 0; i < set.n; i++) {
    bool match;
    if (l1vh_hooksd_match(&set.hooks[i], &in, &match, &err) < 0) {
      snprintf(out, size, "error: %s", l1vh_error_msg(&err));
      goto done;
    }
    if (match) {
      strncat(out, out[0] ? "," : "", size - strlen(out) - 1);
      strncat(out, set.hooks[i].name, size - strlen(out) - 1);
    }
  }
done:
  l1vh_error_clear(&err);
  l1vh_hooksd_set_free(&set);
  l1vh_spec_free(&spec);
}

static const struct {
  const char *what;
  struct file files[4];
  const char *spec;
  const char *want; /* matching hooks in order; "error: <substring>" */
} table[] = {
  {"always true", {{"a.json", HOOK("\"always\":true")}}, SPEC_VM, "a.json"},
  {"always false never matches", {{"a.json", HOOK("\"always\":false")}}, SPEC_VM, ""},
  {"an empty when matches nothing", {{"a.json", HOOK("")}}, SPEC_VM, ""},
  {"no when at all matches nothing",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/true\"},\"stages\":[\"prestart\"]}"}},
   SPEC_VM, ""},
  {"annotation key and value",
   {{"a.json", HOOK("\"annotations\":{\"^kubevirt\\\\.io/domain$\":\"^testvm$\"}")}}, SPEC_VM,
   "a.json"},
  {"annotation value must match the same annotation",
   {{"a.json", HOOK("\"annotations\":{\"^kubevirt\\\\.io/domain$\":\"compute\"}")}}, SPEC_VM, ""},
  {"annotation regexes are unanchored",
   {{"a.json", HOOK("\"annotations\":{\"domain\":\"est\"}")}}, SPEC_VM, "a.json"},
  {"an anchored annotation regex", {{"a.json", HOOK("\"annotations\":{\"^domain\":\".*\"}")}},
   SPEC_VM, ""},
  {"two annotations are ANDed",
   {{"a.json", HOOK("\"annotations\":{\"domain$\":\".\",\"container-name$\":\"^compute$\"}")},
    {"b.json", HOOK("\"annotations\":{\"domain$\":\".\",\"container-name$\":\"^sidecar$\"}")}},
   SPEC_VM, "a.json"},
  {"commands match process.args[0]",
   {{"a.json", HOOK("\"commands\":[\"^/bin/sh$\",\"virt-launcher-monitor$\"]")},
    {"b.json", HOOK("\"commands\":[\"^virt-launcher\"]")}},
   SPEC_VM, "a.json"},
  {"commands do not override a failed condition",
   {{"a.json", HOOK("\"always\":false,\"commands\":[\".*\"]")},
    {"b.json", HOOK("\"annotations\":{\"nope\":\".*\"},\"commands\":[\".*\"]")}},
   SPEC_VM, ""},
  {"commands and annotations ANDed",
   {{"a.json", HOOK("\"annotations\":{\"domain\":\".\"},\"commands\":[\"monitor$\"]")}}, SPEC_VM,
   "a.json"},
  {"hasBindMounts with a bind mount", {{"a.json", HOOK("\"hasBindMounts\":true")}}, SPEC_BIND,
   "a.json"},
  {"hasBindMounts without one", {{"a.json", HOOK("\"hasBindMounts\":true")}}, SPEC_VM, ""},
  {"hasBindMounts false never matches", {{"a.json", HOOK("\"hasBindMounts\":false")}}, SPEC_BIND,
   ""},
  {"hasBindMounts and annotations",
   {{"a.json", HOOK("\"hasBindMounts\":true,\"annotations\":{\"^team$\":\"fluid\"}")}}, SPEC_BIND,
   "a.json"},
  {"order is the lower-cased file name",
   {{"b.json", HOOK("\"always\":true")},
    {"C.json", HOOK("\"always\":true")},
    {"A.json", HOOK("\"always\":true")},
    {"a.json", HOOK("\"always\":true")}},
   SPEC_VM, "A.json,a.json,b.json,C.json"},
  {"a later file of the same name replaces the earlier",
   {{"x.json", HOOK("\"always\":true")}, {"x.json", HOOK("\"always\":false")}}, SPEC_VM, ""},
  {"without a process, commands are not looked at",
   {{"a.json", HOOK("\"always\":true,\"commands\":[\"^nothing$\"]")}}, SPEC_NOPROC, "a.json"},
  {"commands on a process without args is an error",
   {{"a.json", HOOK("\"commands\":[\".\"]")}}, SPEC_NOARGS, "error: process.args"},
  {"an invalid regex", {{"a.json", HOOK("\"annotations\":{\"(\":\".\"}")}}, SPEC_VM,
   "error: invalid annotation key regex"},
  {"an invalid command regex", {{"a.json", HOOK("\"commands\":[\"[\"]")}}, SPEC_VM,
   "error: invalid command regex"},
  {"0.1.0 format",
   {{"a.json", "{\"hook\":\"/bin/true\",\"stages\":[\"prestart\"],\"cmds\":[\".\"]}"}}, SPEC_VM,
   "error: the 0.1.0 format is not supported"},
  {"another version",
   {{"a.json", "{\"version\":\"2.0.0\",\"hook\":{\"path\":\"/bin/true\"},\"when\":{\"always\":true},"
               "\"stages\":[\"prestart\"]}"}},
   SPEC_VM, "error: unsupported hook version \"2.0.0\""},
  {"unknown stage",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/true\"},\"when\":{\"always\":true},"
               "\"stages\":[\"prestop\"]}"}},
   SPEC_VM, "error: unknown stage \"prestop\""},
  {"stages are required",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/true\"},\"when\":{\"always\":true}}"}},
   SPEC_VM, "error: missing required property: stages"},
  {"an empty stages list is a missing one",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/true\"},\"when\":{\"always\":true},"
               "\"stages\":[]}"}},
   SPEC_VM, "error: missing required property: stages"},
  {"hook.path is required",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"args\":[]},\"when\":{\"always\":true},"
               "\"stages\":[\"prestart\"]}"}},
   SPEC_VM, "error: missing required property: hook.path"},
  {"hook.path must be absolute",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"true\"},\"when\":{\"always\":true},"
               "\"stages\":[\"prestart\"]}"}},
   SPEC_VM, "error: hook.path \"true\" is not absolute"},
  {"timeout must be positive",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/true\",\"timeout\":0},"
               "\"when\":{\"always\":true},\"stages\":[\"prestart\"]}"}},
   SPEC_VM, "error: hook.timeout"},
  {"args must be strings",
   {{"a.json", "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/true\",\"args\":[1]},"
               "\"when\":{\"always\":true},\"stages\":[\"prestart\"]}"}},
   SPEC_VM, "error: hook.args"},
  {"always must be a boolean", {{"a.json", HOOK("\"always\":\"yes\"")}}, SPEC_VM,
   "error: when.always"},
  {"not JSON", {{"a.json", "{\"version\":"}}, SPEC_VM, "error: hook a.json: invalid JSON"},
};

L1VH_TEST(hooksd_table)
{
  char got[512];

  for (size_t i = 0; i < L1VH_ARRAY_SIZE(table); i++) {
    size_t n = 0;
    while (n < 4 && table[i].files[n].name)
      n++;
    run_case(table[i].files, n, table[i].spec, got, sizeof(got));
    bool ok = strncmp(table[i].want, "error: ", 7) == 0
                ? strncmp(got, "error: ", 7) == 0 && strstr(got, table[i].want + 7)
                : strcmp(got, table[i].want) == 0;
    if (!ok) {
      printf("# %s: got \"%s\", want \"%s\"\n", table[i].what, got, table[i].want);
      return UNIT_FAIL;
    }
  }
  return UNIT_PASS;
}

L1VH_TEST(hooksd_parse_fields)
{
  static const char text[] =
    "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/usr/bin/h\",\"args\":[\"h\",\"prestart\"],"
    "\"env\":[\"A=1\"],\"timeout\":5,\"unknown\":true},\"when\":{\"always\":true},"
    "\"stages\":[\"prestart\",\"createRuntime\",\"createContainer\",\"startContainer\","
    "\"poststart\",\"poststop\"],\"extra\":{}}";
  struct l1vh_hooksd_hook h;
  struct l1vh_error err = L1VH_ERROR_INIT;

  CHECK(l1vh_hooksd_parse(text, strlen(text), "h.json", &h, &err) == 0);
  CHECK_STR(h.name, "h.json");
  CHECK_STR(h.path, "/usr/bin/h");
  CHECK(h.has_args && h.n_args == 2);
  CHECK_STR(h.args[1], "prestart");
  CHECK(h.has_env && h.n_env == 1);
  CHECK_STR(h.env[0], "A=1");
  CHECK(h.has_timeout && h.timeout == 5);
  CHECK(h.n_stages == 6);
  for (size_t i = 0; i < h.n_stages; i++)
    CHECK(h.stages[i] == (enum l1vh_hook_stage) i);
  CHECK_STR(l1vh_hook_stage_name(h.stages[1]), "createRuntime");
  l1vh_hooksd_hook_free(&h);

  /* no args / env: the injected entry has none either */
  static const char bare[] = HOOK("\"always\":true");
  CHECK(l1vh_hooksd_parse(bare, strlen(bare), "b.json", &h, &err) == 0);
  CHECK(!h.has_args && !h.has_env && !h.has_timeout);
  l1vh_hooksd_hook_free(&h);
  return UNIT_PASS;
}

/* ---- directories ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
  char path[512];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  if (!f)
    abort();
  fputs(text, f);
  fclose(f);
}

struct reports {
  char text[2048];
  int n;
};

static void collect(void *ctx, const char *msg)
{
  struct reports *r = ctx;
  strncat(r->text, msg, sizeof(r->text) - strlen(r->text) - 2);
  strcat(r->text, "\n");
  r->n++;
}

L1VH_TEST(hooksd_read_dirs)
{
  char base[] = "/tmp/l1vh-unit-hooksd.XXXXXX", d1[300], d2[300], missing[300], cmd[400];
  struct l1vh_hooksd_set set = {0};
  struct reports rep = {"", 0};

  CHECK(mkdtemp(base));
  snprintf(d1, sizeof(d1), "%s/usr", base);
  snprintf(d2, sizeof(d2), "%s/etc", base);
  snprintf(missing, sizeof(missing), "%s/none", base);
  CHECK(mkdir(d1, 0755) == 0 && mkdir(d2, 0755) == 0);
  write_file(d1, "10-same.json", HOOK("\"always\":true"));
  write_file(d1, "20-vendor.json", HOOK("\"always\":true"));
  write_file(d1, "readme.txt", "not a hook");
  write_file(d2, "10-same.json",
             "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\"},\"when\":{\"always\":true},"
             "\"stages\":[\"poststop\"]}");
  write_file(d2, "30-broken.json", "{");
  write_file(d2, "40-nopath.json",
             "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/nonexistent/hook\"},"
             "\"when\":{\"always\":true},\"stages\":[\"prestart\"]}");
  {
    const char *dirs[] = {d1, missing, d2};
    l1vh_hooksd_read(dirs, 3, &set, collect, &rep);
  }
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  if (system(cmd) != 0)
    return UNIT_FAIL;

  /* 10-same.json from the later directory, 20-vendor.json from the first;
   * the two bad files reported (one line each) and skipped; the text file
   * and the missing directory ignored silently. */
  CHECK(set.n == 2);
  CHECK_STR(set.hooks[0].name, "10-same.json");
  CHECK_STR(set.hooks[0].path, "/bin/sh");
  CHECK_STR(set.hooks[0].dir, d2);
  CHECK(set.hooks[0].stages[0] == L1VH_STAGE_POSTSTOP);
  CHECK_STR(set.hooks[1].name, "20-vendor.json");
  CHECK(rep.n == 2);
  CHECK_HAS(rep.text, "30-broken.json: invalid JSON");
  CHECK_HAS(rep.text, "40-nopath.json: hook.path /nonexistent/hook: No such file or directory");
  {
    int lines = 0;
    for (const char *p = rep.text; *p; p++)
      lines += *p == '\n';
    CHECK(lines == 2); /* each report is one line */
  }
  l1vh_hooksd_set_free(&set);
  return UNIT_PASS;
}
