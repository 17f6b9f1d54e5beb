#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec.h"
#include "unit.h"

static int state_of(const char *text, struct l1vh_state *st, struct l1vh_error *err)
{
  return l1vh_state_parse(text, strlen(text), st, err);
}

L1VH_TEST(state_runc_crun_legacy_fixtures)
{
  static const char *files[] = {"states/runc.json", "states/crun.json", "states/legacy-bundlePath.json"};

  for (size_t i = 0; i < 3; i++) {
    struct l1vh_state st;
    struct l1vh_error err = L1VH_ERROR_INIT;
    char buf[4096];
    int fd = open(unit_fixture(files[i]), O_RDONLY);

    if (fd < 0)
      return UNIT_SKIP;
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    CHECK(n > 0);
    /* The fixtures say BUNDLE where a real state has an absolute path. */
    char *text = malloc((size_t) n + 64), *p;
    memcpy(text, buf, (size_t) n);
    text[n] = '\0';
    p = strstr(text, "\"BUNDLE\"");
    CHECK(p);
    memmove(p + 15, p + 8, strlen(p + 8) + 1);
    memcpy(p, "\"/run/b/bundle\"", 15);
    CHECK(state_of(text, &st, &err) == 0);
    free(text);
    CHECK_STR(st.id, "8c1d3e4f5a6b");
    CHECK_STR(st.bundle, "/run/b/bundle");
    CHECK(st.pid == 4242);
    l1vh_state_free(&st);
  }
  return UNIT_PASS;
}

L1VH_TEST(state_bad_input)
{
  static const struct {
    const char *text, *want;
  } cases[] = {
    {"", "invalid JSON"},
    {"{\"id\":\"a\",\"bundle\":\"/b\"", "invalid JSON"},
    {"[1]", "expected an object"},
    {"{\"bundle\":\"/b\"}", "missing \"id\""},
    {"{\"id\":\"a\"}", "missing \"bundle\""},
    {"{\"id\":7,\"bundle\":\"/b\"}", "\"id\" must be a string"},
    {"{\"id\":\"a\",\"bundle\":\"relative\"}", "\"bundle\" absolute"},
    {"{\"id\":\"\",\"bundle\":\"/b\"}", "non-empty"},
    {"{\"id\":\"a\",\"bundle\":\"/b\",\"pid\":-1}", "\"pid\" must be an integer"},
    {"{\"id\":\"a\",\"bundle\":\"/b\",\"pid\":99999999999999999999}", "\"pid\" must be an integer"},
    {"{\"id\":\"a\",\"bundle\":\"/b\",\"pid\":1.5}", "\"pid\" must be an integer"},
    {"{\"id\":\"a\",\"bundle\":\"/b\",\"pid\":\"12\"}", "\"pid\" must be an integer"},
    {"{\"id\":\"a\\u0000b\",\"bundle\":\"/b\"}", ""},
    {"{\"id\":\"\xff\xfe\",\"bundle\":\"/b\"}", "invalid JSON"},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct l1vh_state st;
    struct l1vh_error err = L1VH_ERROR_INIT;
    int rc = state_of(cases[i].text, &st, &err);

    if (cases[i].want[0] == '\0') { /* accepted or refused, but never a crash */
      if (rc == 0)
        l1vh_state_free(&st);
      l1vh_error_clear(&err);
      continue;
    }
    if (rc == 0) {
      printf("# accepted: %s\n", cases[i].text);
      return UNIT_FAIL;
    }
    CHECK_HAS(err.msg, cases[i].want);
    CHECK(strchr(err.msg, '\n') == NULL);
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

L1VH_TEST(json_depth_and_size_caps)
{
  struct l1vh_state st;
  struct l1vh_error err = L1VH_ERROR_INIT;
  size_t n = 100000;
  char *deep = malloc(2 * n + 1);

  memset(deep, '[', n);
  memset(deep + n, ']', n);
  deep[2 * n] = '\0';
  CHECK(state_of(deep, &st, &err) < 0);
  CHECK_HAS(err.msg, "nested deeper than");
  free(deep);
  l1vh_error_clear(&err);

  /* As many values as the cap parse; one more is refused before yajl
   * builds anything. */
  size_t len = 2 * (size_t) L1VH_JSON_MAX_VALUES + 64;
  char *wide = malloc(len);
  CHECK(wide);
  for (size_t extra = 0; extra < 2; extra++) {
    /* Two containers, two separators between the members, one fewer
     * than the elements between those: the cap + extra. */
    size_t elems = L1VH_JSON_MAX_VALUES - 3 + extra, k;
    k = (size_t) snprintf(wide, len, "{\"id\":\"a\",\"bundle\":\"/b\",\"x\":[");
    for (size_t i = 0; i < elems; i++)
      k += (size_t) snprintf(wide + k, len - k, i ? ",0" : "0");
    snprintf(wide + k, len - k, "]}");
    int rc = state_of(wide, &st, &err);
    if (extra == 0) {
      if (rc < 0)
        printf("# %zu elements: %s\n", elems, l1vh_error_msg(&err));
      CHECK(rc == 0);
      l1vh_state_free(&st);
    } else {
      CHECK(rc < 0);
      CHECK_HAS(err.msg, "JSON with more than 100000 values");
      l1vh_error_clear(&err);
    }
  }
  free(wide);

  /* A NUL byte inside the input is refused, not truncated at. */
  CHECK(l1vh_state_parse("{\"id\":\"a\",\0\"bundle\":\"/b\"}", 25, &st, &err) < 0);
  CHECK_HAS(err.msg, "NUL byte");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

L1VH_TEST(spec_crio_fixture)
{
  struct l1vh_spec spec;
  struct l1vh_error err = L1VH_ERROR_INIT;
  char bundle[4096];

  snprintf(bundle, sizeof(bundle), "%s", unit_fixture("bundles/crio-compute"));
  if (access(bundle, F_OK) != 0)
    return UNIT_SKIP;
  CHECK(l1vh_spec_load(bundle, &spec, &err) == 0);
  CHECK_STR(l1vh_spec_annotation(&spec, "io.kubernetes.container.name"), "compute");
  CHECK_STR(l1vh_spec_annotation(&spec, "kubevirt.io/domain"), "testvm");
  CHECK(spec.uid == 107 && spec.gid == 107);
  CHECK_STR(spec.root_path, "/var/lib/containers/storage/overlay/5f1e/merged");
  CHECK(spec.n_devices == 0 && spec.n_rlimits == 0 && !spec.has_memory_limit);
  l1vh_spec_free(&spec);
  return UNIT_PASS;
}

L1VH_TEST(spec_fields)
{
  struct l1vh_spec spec;
  struct l1vh_error err = L1VH_ERROR_INIT;
  const char *text =
    "{\"root\":{\"path\":\"rootfs\"},\"annotations\":{\"a\":\"1\"},"
    "\"process\":{\"user\":{\"uid\":5,\"gid\":6},\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\","
    "\"soft\":4096,\"hard\":8192}],\"unknown\":{\"x\":[1,2]}},"
    "\"linux\":{\"devices\":[{\"path\":\"/dev/vfio/7\",\"type\":\"c\",\"major\":243,\"minor\":0}],"
    "\"resources\":{\"memory\":{\"limit\":1073741824}}}}";

  CHECK(l1vh_spec_parse(text, strlen(text), &spec, &err) == 0);
  CHECK_STR(spec.root_path, "rootfs");
  CHECK_STR(l1vh_spec_annotation(&spec, "a"), "1");
  CHECK(l1vh_spec_annotation(&spec, "b") == NULL);
  CHECK(spec.uid == 5 && spec.gid == 6);
  CHECK(l1vh_spec_rlimit(&spec, "RLIMIT_MEMLOCK")->hard == 8192);
  CHECK(spec.n_devices == 1 && spec.devices[0].major == 243);
  CHECK(spec.has_memory_limit && spec.memory_limit == 1073741824);
  l1vh_spec_free(&spec);
  return UNIT_PASS;
}

L1VH_TEST(spec_bad_input)
{
  static const struct {
    const char *text, *want;
  } cases[] = {
    {"{\"annotations\":[]}", "annotations must be an object"},
    {"{\"annotations\":{\"a\":1}}", "annotation \"a\" must be a string"},
    {"{\"process\":[]}", "process must be an object"},
    {"{\"process\":{\"user\":{\"uid\":-5}}}", "process.user.uid must be an integer"},
    {"{\"process\":{\"user\":{\"uid\":\"0\"}}}", "process.user.uid must be an integer"},
    {"{\"process\":{\"rlimits\":{}}}", "process.rlimits must be an array"},
    {"{\"process\":{\"rlimits\":[{\"soft\":1}]}}", "rlimits[].type must be a string"},
    {"{\"linux\":{\"devices\":[{\"path\":1}]}}", "linux.devices[].path and .type must be strings"},
    {"{\"linux\":7}", "linux must be an object"},
    {"\"x\"", "expected an object"},
    {"{", "invalid JSON"},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct l1vh_spec spec;
    struct l1vh_error err = L1VH_ERROR_INIT;

    if (l1vh_spec_parse(cases[i].text, strlen(cases[i].text), &spec, &err) == 0) {
      printf("# accepted: %s\n", cases[i].text);
      return UNIT_FAIL;
    }
    CHECK_HAS(err.msg, cases[i].want);
    l1vh_error_clear(&err);
  }
  return UNIT_PASS;
}

L1VH_TEST(spec_load_refuses_symlink_fifo_missing)
{
  char dir[] = "/tmp/l1vh-unit-XXXXXX", path[256];
  struct l1vh_spec spec;
  struct l1vh_error err = L1VH_ERROR_INIT;

  CHECK(mkdtemp(dir));
  CHECK(l1vh_spec_load(dir, &spec, &err) < 0);
  CHECK_HAS(err.msg, "config.json");
  l1vh_error_clear(&err);

  snprintf(path, sizeof(path), "%s/config.json", dir);
  CHECK(symlink("/etc/passwd", path) == 0);
  CHECK(l1vh_spec_load(dir, &spec, &err) < 0);
  CHECK_HAS(err.msg, "Too many levels of symbolic links");
  l1vh_error_clear(&err);
  unlink(path);

  CHECK(mkfifo(path, 0600) == 0);
  CHECK(l1vh_spec_load(dir, &spec, &err) < 0); /* and does not hang */
  CHECK_HAS(err.msg, "not a regular file");
  l1vh_error_clear(&err);
  unlink(path);
  rmdir(dir);

  CHECK(l1vh_spec_load("/nonexistent/bundle", &spec, &err) < 0);
  CHECK_HAS(err.msg, "bundle /nonexistent/bundle");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}

L1VH_TEST(json_duplicate_keys_refused)
{
  struct l1vh_spec spec;
  struct l1vh_error err = L1VH_ERROR_INIT;
  const char *text = "{\"annotations\":{\"kubevirt.io/domain\":\"a\",\"x\":\"1\",\"kubevirt.io/domain\":\"b\"}}";

  CHECK(l1vh_spec_parse(text, strlen(text), &spec, &err) < 0);
  CHECK_HAS(err.msg, "duplicate key \"kubevirt.io/domain\"");
  l1vh_error_clear(&err);
  text = "{\"a\":1,\"b\":{\"c\":[{\"d\":1,\"d\":2}]}}";
  CHECK(l1vh_spec_parse(text, strlen(text), &spec, &err) < 0);
  CHECK_HAS(err.msg, "duplicate key \"d\"");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}
