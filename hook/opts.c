#include <stdio.h>
#include <string.h>

#include "cmd.h"

/* --name VALUE or --name=VALUE. */
static int take(const char *name, int argc, char **argv, int *i, const char **out)
{
  size_t n = strlen(name);

  if (strncmp(argv[*i], name, n) != 0)
    return 0;
  if (argv[*i][n] == '=') {
    *out = argv[*i] + n + 1;
    return 1;
  }
  if (argv[*i][n] != '\0')
    return 0;
  if (*i + 1 >= argc) {
    fprintf(stderr, "l1vh-hook: %s needs a value\n", name);
    return -1;
  }
  *out = argv[++*i];
  return 1;
}

int l1vh_parse_opts(int argc, char **argv, struct l1vh_opts *opts)
{
  memset(opts, 0, sizeof(*opts));
  for (int i = 1; i < argc; i++) {
    int r;
    if ((r = take("--config", argc, argv, &i, &opts->config)) ||
        (r = take("--bundle", argc, argv, &i, &opts->bundle)) ||
        (r = take("--state", argc, argv, &i, &opts->state))) {
      if (r < 0)
        return -1;
      continue;
    }
    if (strcmp(argv[i], "--json") == 0) {
      opts->json = 1;
      continue;
    }
    fprintf(stderr, "l1vh-hook: unknown option \"%s\"\n", argv[i]);
    return -1;
  }
  return 0;
}
