#include "args.h"

#include <stddef.h>
#include <string.h>

/* An option as both runtimes spell it: a long name (also accepted with a
 * single dash, as Go's flag package does), an optional one-letter short
 * name, and whether it takes a value. */
struct opt {
  const char *name;
  char short_name;
  bool value;
};

/* runc 1.1 and crun 1.x global options that take a value; every other
 * option is a flag (--debug, --systemd-cgroup, --help, --version). */
static const struct opt global_opts[] = {
  {"log", 0, true},        {"log-format", 0, true}, {"root", 0, true},
  {"criu", 0, true},       {"rootless", 0, true},   {"cgroup-manager", 0, true},
  {"log-level", 0, true},
};

/* create / run options that take a value (runc and crun). */
static const struct opt create_opts[] = {
  {"bundle", 'b', true},       {"console-socket", 0, true}, {"pid-file", 0, true},
  {"preserve-fds", 0, true},   {"config", 'f', true},
};

/* One parsed option: which table entry, and its value when it takes one. */
struct match {
  const struct opt *opt; /* NULL: an option not in the table */
  const char *value;
  int consumed; /* argv entries used: 1 or 2 */
};

/* Match arg (which starts with '-') against table; *next is argv[i+1]. */
static struct match match_opt(const char *arg, const char *next, const struct opt *table,
                              size_t n)
{
  struct match m = {NULL, NULL, 1};
  const char *body = arg + 1;
  const char *eq;
  size_t len;

  if (*body == '-')
    body++;
  eq = strchr(body, '=');
  len = eq ? (size_t) (eq - body) : strlen(body);
  for (size_t i = 0; i < n; i++) {
    const struct opt *o = &table[i];
    bool long_form = strlen(o->name) == len && strncmp(body, o->name, len) == 0;
    /* Go registers the short name as a flag of its own: -b, --b, -b=B */
    bool short_form = o->short_name && len == 1 && body[0] == o->short_name;

    if (!long_form && !short_form)
      continue;
    m.opt = o;
    if (!o->value)
      return m;
    if (eq) {
      m.value = eq + 1;
    } else {
      m.value = next; /* NULL when the option ends argv */
      m.consumed = 2;
    }
    return m;
  }
  /* getopt's attached value: -bB */
  for (size_t i = 0; i < n; i++)
    if (table[i].short_name && table[i].value && arg[1] == table[i].short_name) {
      m.opt = &table[i];
      m.value = arg + 2;
      return m;
    }
  return m;
}

void l1vh_shim_parse_global(int argc, char *const *argv, struct l1vh_shim_args *a)
{
  memset(a, 0, sizeof(*a));
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    struct match m;

    if (strcmp(arg, "--") == 0) {
      if (i + 1 < argc) {
        a->cmd_index = i + 1;
        a->cmd = argv[i + 1];
      }
      return;
    }
    if (arg[0] != '-' || arg[1] == '\0') {
      a->cmd_index = i;
      a->cmd = arg;
      return;
    }
    m = match_opt(arg, i + 1 < argc ? argv[i + 1] : NULL, global_opts,
                  sizeof(global_opts) / sizeof(global_opts[0]));
    if (m.opt && strcmp(m.opt->name, "log") == 0)
      a->log = m.value;
    else if (m.opt && strcmp(m.opt->name, "log-format") == 0)
      a->log_format = m.value;
    i += m.consumed - 1;
  }
}

bool l1vh_shim_edits(const struct l1vh_shim_args *a)
{
  return a->cmd && (strcmp(a->cmd, "create") == 0 || strcmp(a->cmd, "run") == 0);
}

int l1vh_shim_parse_create(int argc, char *const *argv, struct l1vh_shim_args *a,
                           struct l1vh_error *err)
{
  bool options = true;

  a->bundle = NULL;
  a->config = NULL;
  a->id = NULL;
  /* crun takes options after the id too (getopt permutes): read them all;
   * runc refuses anything after the id, so nothing is lost for it. */
  for (int i = a->cmd_index + 1; i < argc; i++) {
    const char *arg = argv[i];
    struct match m;

    if (options && strcmp(arg, "--") == 0) {
      options = false;
      continue;
    }
    if (!options || arg[0] != '-' || arg[1] == '\0') {
      if (!a->id)
        a->id = arg;
      continue;
    }
    m = match_opt(arg, i + 1 < argc ? argv[i + 1] : NULL, create_opts,
                  sizeof(create_opts) / sizeof(create_opts[0]));
    if (m.opt && m.opt->value && !m.value)
      return l1vh_error_setx(err, "%s %s: option %s needs a value", argv[a->cmd_index],
                             a->id ? a->id : "", arg);
    if (m.opt && strcmp(m.opt->name, "bundle") == 0)
      a->bundle = m.value; /* the last one wins, as in both runtimes */
    else if (m.opt && strcmp(m.opt->name, "config") == 0)
      a->config = m.value;
    i += m.consumed - 1;
  }
  return 0;
}
