/* l1vh-hook dry-run: print the plan a real start would get; change nothing. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cmd.h"
#include "io.h"
#include "plan.h"

static int fail(const char *step, struct l1vh_error *err)
{
  fprintf(stderr, "l1vh-hook: dry-run: %s: %s\n", step, l1vh_error_msg(err));
  l1vh_error_clear(err);
  return L1VH_EXIT_FAIL;
}

static int read_state(const char *path, struct l1vh_state *state, struct l1vh_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;

  if (l1vh_read_file_capped(AT_FDCWD, path, L1VH_STATE_MAX_BYTES, &buf, &len, err) < 0)
    return -1;
  return l1vh_state_parse(buf, len, state, err);
}

int l1vh_cmd_dry_run(const struct l1vh_opts *opts)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_state state = {0};
  struct l1vh_spec spec = {0};
  struct l1vh_config cfg;
  struct l1vh_facts facts;
  struct l1vh_plan plan;
  const char *bundle = opts->bundle;
  int rc = L1VH_EXIT_FAIL;

  l1vh_config_defaults(&cfg);
  if (!opts->bundle && !opts->state) {
    fprintf(stderr, "l1vh-hook: dry-run: needs --bundle DIR or --state FILE\n");
    l1vh_config_free(&cfg);
    return L1VH_EXIT_USAGE;
  }
  /* --bundle wins over the state's bundle: states are often copied around. */
  if (opts->state) {
    if (read_state(opts->state, &state, &err) < 0) {
      rc = fail("state", &err);
      goto out;
    }
    if (!bundle)
      bundle = state.bundle;
  }
  l1vh_config_free(&cfg);
  if (l1vh_config_load(l1vh_config_path(opts->config), &cfg, &err) < 0) {
    rc = fail("read config", &err);
    goto out;
  }
  if (l1vh_spec_load(bundle, &spec, &err) < 0) {
    rc = fail("read spec", &err);
    goto out;
  }
  if (l1vh_plan_make(&spec, &cfg, bundle, &facts, &plan, &err) < 0) {
    rc = fail("decide", &err);
    goto out;
  }
  if (opts->json)
    l1vh_plan_print_json(&plan, stdout);
  else
    l1vh_plan_print(&plan, stdout);
  rc = L1VH_EXIT_OK;
out:
  l1vh_state_free(&state);
  l1vh_spec_free(&spec);
  l1vh_config_free(&cfg);
  return rc;
}
