#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"
#include "json.h"
#include "xalloc.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void set_defaults(struct l1vh_shim_runtimes *rt)
{
  l1vh_shim_runtimes_free(rt);
  rt->names[0] = l1vh_xstrdup("runc");
  rt->names[1] = l1vh_xstrdup("crun");
  rt->n = 2;
}

void l1vh_shim_runtimes_free(struct l1vh_shim_runtimes *rt)
{
  for (size_t i = 0; i < rt->n; i++)
    free(rt->names[i]);
  rt->n = 0;
}

/* runtime.path as l1vh_config_parse() accepts it: 1 to L1VH_MAX_LIST
 * non-empty strings. */
static bool take_list(const struct l1vh_json *path, struct l1vh_shim_runtimes *rt)
{
  size_t n = l1vh_json_len(path);

  if (l1vh_json_type(path) != L1VH_JSON_ARRAY || n == 0 || n > L1VH_MAX_LIST)
    return false;
  for (size_t i = 0; i < n; i++) {
    const char *s = l1vh_json_string(l1vh_json_at(path, i));
    if (!s || !*s)
      return false;
  }
  l1vh_shim_runtimes_free(rt);
  for (size_t i = 0; i < n; i++)
    rt->names[i] = l1vh_xstrdup(l1vh_json_string(l1vh_json_at(path, i)));
  rt->n = n;
  return true;
}

void l1vh_shim_runtimes_read(const char *config_path, struct l1vh_shim_runtimes *rt)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_json_doc struct l1vh_json_doc *doc = NULL;
  cleanup_free char *buf = NULL;
  cleanup_close int fd = open(config_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  size_t len;

  memset(rt, 0, sizeof(*rt));
  set_defaults(rt);
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return;
  if (l1vh_read_fd_capped(fd, L1VH_CONFIG_MAX_BYTES, &buf, &len, &err) < 0 ||
      l1vh_json_parse(buf, len, &doc, &err) < 0) {
    l1vh_error_clear(&err);
    return;
  }
  take_list(l1vh_json_member(l1vh_json_member(l1vh_json_root(doc), "runtime"), "path"), rt);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* An executable regular file that is not this program. */
static bool usable(const char *path, const struct stat *self)
{
  struct stat st;

  if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0)
    return false;
  return !self || !same_file(&st, self);
}

static int search_path(const char *name, const struct stat *self, char *out, size_t size)
{
  const char *path = getenv("PATH");

  if (!path || !*path)
    path = DEFAULT_PATH;
  while (*path) {
    size_t dir_len = strcspn(path, ":");
    int n = snprintf(out, size, "%.*s%s%s", (int) dir_len, path, dir_len ? "/" : "", name);

    /* an empty entry means the current directory, as for execvp */
    if (n >= 0 && (size_t) n < size && usable(out, self))
      return 0;
    path += dir_len;
    if (*path == ':')
      path++;
  }
  return -1;
}

int l1vh_shim_runtime_find(const struct l1vh_shim_runtimes *rt, char *out, size_t size,
                           struct l1vh_error *err)
{
  struct stat self_st;
  const struct stat *self = stat("/proc/self/exe", &self_st) == 0 ? &self_st : NULL;
  char tried[256] = "";

  for (size_t i = 0; i < rt->n; i++) {
    const char *name = rt->names[i];

    if (strchr(name, '/')) {
      int n = snprintf(out, size, "%s", name);
      if (n >= 0 && (size_t) n < size && usable(out, self))
        return 0;
    } else if (search_path(name, self, out, size) == 0) {
      return 0;
    }
    strncat(tried, i ? ", " : "", sizeof(tried) - strlen(tried) - 1);
    strncat(tried, name, sizeof(tried) - strlen(tried) - 1);
  }
  return l1vh_error_setx(err, "no runtime found: tried %s (config runtime.path, on $PATH)", tried);
}

int l1vh_shim_runtime_exec(const char *path, char **argv, struct l1vh_error *err)
{
  /* The runtime sees the call a direct call would have made: argv[0] is
   * its own path (crun, for one, looks at its name). */
  argv[0] = (char *) path;
  execv(path, argv);
  return l1vh_error_set(err, errno, "execute %s", path);
}
