/* l1vh-hook's commands; main.c only dispatches. */
#ifndef L1VH_CMD_H
#define L1VH_CMD_H

#define L1VH_VERSION "0.1.0"

/* Exit codes: 0 done (or nothing to do), 1 failed, 2 usage. */
enum { L1VH_EXIT_OK = 0, L1VH_EXIT_FAIL = 1, L1VH_EXIT_USAGE = 2 };

struct l1vh_opts {
  const char *config; /* --config */
  const char *bundle; /* --bundle */
  const char *state;  /* --state */
  int json;           /* --json */
};

/* Parse the options shared by the commands; argv[0] is the command. */
int l1vh_parse_opts(int argc, char **argv, struct l1vh_opts *opts);

int l1vh_cmd_prestart(const struct l1vh_opts *opts);
int l1vh_cmd_poststop(const struct l1vh_opts *opts);
int l1vh_cmd_dry_run(const struct l1vh_opts *opts);

#endif
