/* l1vh-hook: the OCI hook and its standalone commands (docs/hook.md). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "cmd_ops.h"

static void usage(FILE *out)
{
  fputs("usage: l1vh-hook prestart|createRuntime [--config FILE]   (OCI hook: state on stdin)\n"
        "       l1vh-hook poststop [--config FILE]\n"
        "       l1vh-hook dry-run --bundle DIR [--state FILE] [--config FILE] [--json]\n"
        "       l1vh-hook check [--config FILE] [--json]     (node readiness)\n"
        "       l1vh-hook status [--config FILE] [--json]    (recent decisions on this node)\n"
        "       l1vh-hook --version | --help\n"
        "The config defaults to $L1VH_CONFIG, else /etc/l1vh/config.json.\n",
        out);
}

int main(int argc, char **argv)
{
  struct l1vh_opts opts;
  const char *cmd = argc > 1 ? argv[1] : "";

  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return L1VH_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("l1vh-hook %s\n", L1VH_VERSION);
    return L1VH_EXIT_OK;
  }
  if (argc < 2 || l1vh_parse_opts(argc - 1, argv + 1, &opts) < 0) {
    usage(stderr);
    return L1VH_EXIT_USAGE;
  }
  /* The stage comes from argv, never guessed: prestart and createRuntime
   * both run in the runtime's namespaces before pivot_root. */
  if (strcmp(cmd, "prestart") == 0 || strcmp(cmd, "createRuntime") == 0)
    return l1vh_cmd_prestart(&opts);
  if (strcmp(cmd, "poststop") == 0)
    return l1vh_cmd_poststop(&opts);
  if (strcmp(cmd, "dry-run") == 0)
    return l1vh_cmd_dry_run(&opts);
  if (strcmp(cmd, "check") == 0)
    return l1vh_cmd_check(&opts);
  if (strcmp(cmd, "status") == 0)
    return l1vh_cmd_status(&opts);
  fprintf(stderr, "l1vh-hook: unknown command \"%s\"\n", cmd);
  usage(stderr);
  return L1VH_EXIT_USAGE;
}
