/* l1vh-shim: the runc / crun command lines the callers use. */
#include <string.h>

#include "../../shim/args.h"
#include "cleanup.h"
#include "unit.h"

static int count(char **argv)
{
  int n = 0;
  while (argv[n])
    n++;
  return n;
}

L1VH_TEST(shim_args_containerd_create)
{
  /* containerd's runc shim (go-runc), with --systemd-cgroup */
  char *argv[] = {"l1vh-shim", "--root", "/run/containerd/runc/k8s.io", "--log",
                  "/run/b/log.json", "--log-format", "json", "--systemd-cgroup", "create",
                  "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "--console-socket",
                  "/tmp/s.sock", "abc123", NULL};
  struct l1vh_shim_args a;
  struct l1vh_error err = L1VH_ERROR_INIT;

  l1vh_shim_parse_global(count(argv), argv, &a);
  CHECK_STR(a.cmd, "create");
  CHECK(a.cmd_index == 8);
  CHECK_STR(a.log, "/run/b/log.json");
  CHECK_STR(a.log_format, "json");
  CHECK(l1vh_shim_edits(&a));
  CHECK(l1vh_shim_parse_create(count(argv), argv, &a, &err) == 0);
  CHECK_STR(a.bundle, "/run/b");
  CHECK_STR(a.id, "abc123");
  CHECK(a.config == NULL);
  return UNIT_PASS;
}

L1VH_TEST(shim_args_bundle_forms)
{
  static const struct {
    char *argv[8];
    const char *bundle, *id, *config;
  } cases[] = {
    {{"s", "create", "--bundle", "/b1", "id1", NULL}, "/b1", "id1", NULL},
    {{"s", "create", "--bundle=/b2", "id2", NULL}, "/b2", "id2", NULL},
    {{"s", "create", "-b", "/b3", "id3", NULL}, "/b3", "id3", NULL},
    {{"s", "create", "-b=/b4", "id4", NULL}, "/b4", "id4", NULL},
    {{"s", "create", "-bundle", "/b5", "id5", NULL}, "/b5", "id5", NULL},
    {{"s", "create", "-b/b6", "id6", NULL}, "/b6", "id6", NULL},          /* crun (getopt) */
    {{"s", "create", "id7", "--bundle", "/b7", NULL}, "/b7", "id7", NULL}, /* crun permutes */
    {{"s", "create", "--pid-file", "/p", "id8", NULL}, NULL, "id8", NULL}, /* cwd */
    {{"s", "run", "-d", "--bundle", "/a", "--bundle", "/b9", "id9"}, "/b9", "id9", NULL},
    {{"s", "create", "-b", "/b10", "--config", "c.json", "id10", NULL}, "/b10", "id10", "c.json"},
    {{"s", "create", "-f", "x.json", "--", "-id11", NULL}, NULL, "-id11", "x.json"},
    {{"s", "--log=/l", "--debug", "create", "--no-pivot", "--bundle", "/b12", "id12"}, "/b12",
     "id12", NULL},
  };

  for (size_t i = 0; i < L1VH_ARRAY_SIZE(cases); i++) {
    char **argv = (char **) cases[i].argv;
    int argc = 0;
    struct l1vh_shim_args a;
    struct l1vh_error err = L1VH_ERROR_INIT;

    while (argc < 8 && argv[argc])
      argc++;
    l1vh_shim_parse_global(argc, argv, &a);
    CHECK(l1vh_shim_edits(&a));
    CHECK(l1vh_shim_parse_create(argc, argv, &a, &err) == 0);
    if ((cases[i].bundle == NULL) != (a.bundle == NULL) ||
        (a.bundle && strcmp(a.bundle, cases[i].bundle) != 0)) {
      printf("# case %zu: bundle %s\n", i, a.bundle ? a.bundle : "(null)");
      return UNIT_FAIL;
    }
    CHECK_STR(a.id, cases[i].id);
    CHECK((cases[i].config == NULL) == (a.config == NULL));
    if (a.config)
      CHECK_STR(a.config, cases[i].config);
  }
  return UNIT_PASS;
}

L1VH_TEST(shim_args_global_forms)
{
  static const struct {
    char *argv[8];
    const char *cmd, *log, *format;
  } cases[] = {
    {{"s", "--version", NULL}, NULL, NULL, NULL},
    {{"s", "state", "x", NULL}, "state", NULL, NULL},
    {{"s", "--root", "create", "state", "x", NULL}, "state", NULL, NULL}, /* value, not command */
    {{"s", "-log", "/l", "-log-format=text", "kill", "x", NULL}, "kill", "/l", "text"},
    {{"s", "--debug", "--", "delete", NULL}, "delete", NULL, NULL},
    {{"s", "--log-level=debug", "--cgroup-manager", "systemd", "features", NULL}, "features", NULL,
     NULL},
    {{"s", "--log", NULL}, NULL, NULL, NULL}, /* a value missing at the end */
  };

  for (size_t i = 0; i < L1VH_ARRAY_SIZE(cases); i++) {
    char **argv = (char **) cases[i].argv;
    int argc = 0;
    struct l1vh_shim_args a;

    while (argc < 8 && argv[argc])
      argc++;
    l1vh_shim_parse_global(argc, argv, &a);
    if ((cases[i].cmd == NULL) != (a.cmd == NULL) || (a.cmd && strcmp(a.cmd, cases[i].cmd))) {
      printf("# case %zu: cmd %s\n", i, a.cmd ? a.cmd : "(null)");
      return UNIT_FAIL;
    }
    CHECK((cases[i].log == NULL) == (a.log == NULL));
    if (a.log)
      CHECK_STR(a.log, cases[i].log);
    CHECK((cases[i].format == NULL) == (a.log_format == NULL));
    if (a.log_format)
      CHECK_STR(a.log_format, cases[i].format);
    CHECK(!l1vh_shim_edits(&a));
  }
  return UNIT_PASS;
}

L1VH_TEST(shim_args_missing_value)
{
  char *argv[] = {"s", "--log", "/l", "create", "id", "--bundle", NULL};
  struct l1vh_shim_args a;
  struct l1vh_error err = L1VH_ERROR_INIT;

  l1vh_shim_parse_global(6, argv, &a);
  CHECK(l1vh_shim_parse_create(6, argv, &a, &err) < 0);
  CHECK_HAS(l1vh_error_msg(&err), "option --bundle needs a value");
  l1vh_error_clear(&err);
  return UNIT_PASS;
}
