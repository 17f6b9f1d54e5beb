/* l1vh-hook: cgroup v1 devices controller.
 *
 * One exception `c MAJ:MIN rw` written to devices.allow of the container's
 * own devices cgroup.  It is written only when devices.list does not grant
 * it already, so the revert (devices.deny) never takes away a rule the
 * runtime made. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"

/* "*" or a decimal number equal to want. */
static bool number_matches(const char *s, size_t len, unsigned want)
{
  unsigned long v = 0;
  size_t i;

  if (len == 1 && s[0] == '*')
    return true;
  if (len == 0 || len > 10)
    return false;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (unsigned long) (s[i] - '0');
  }
  return v == want;
}

/* One devices.list line: "<a|b|c> <MAJ|*>:<MIN|*> <access>". */
static bool line_allows(const char *line, size_t len, unsigned maj, unsigned min)
{
  const char *end = line + len, *colon, *sp;
  bool r = false, w = false;

  if (len < 2 || (line[0] != 'a' && line[0] != 'c') || line[1] != ' ')
    return false;
  line += 2;
  colon = memchr(line, ':', (size_t) (end - line));
  if (!colon || !number_matches(line, (size_t) (colon - line), maj))
    return false;
  line = colon + 1;
  sp = memchr(line, ' ', (size_t) (end - line));
  if (!sp || !number_matches(line, (size_t) (sp - line), min))
    return false;
  for (line = sp + 1; line < end; line++) {
    r = r || *line == 'r';
    w = w || *line == 'w';
  }
  return r && w;
}

bool l1vh_cgroup_v1_list_allows(const char *list, unsigned major, unsigned minor)
{
  while (list && *list) {
    const char *eol = strchr(list, '\n');
    size_t len = eol ? (size_t) (eol - list) : strlen(list);
    if (line_allows(list, len, major, minor))
      return true;
    list = eol ? eol + 1 : NULL;
  }
  return false;
}

static int read_list(int dir_fd, char **list, struct l1vh_error *err)
{
  size_t len;
  return l1vh_read_file_capped(dir_fd, "devices.list", L1VH_DEVICES_LIST_MAX_BYTES, list, &len, err);
}

static int write_rule(int dir_fd, const char *file, unsigned maj, unsigned min, struct l1vh_error *err)
{
  char rule[64];
  int n = snprintf(rule, sizeof(rule), "c %u:%u rw", maj, min);
  cleanup_close int fd = -1;
  ssize_t w;

  if (n < 0 || (size_t) n >= sizeof(rule))
    return l1vh_error_setx(err, "device rule too long");
  fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return l1vh_error_set(err, errno, "open %s", file);
  w = write(fd, rule, (size_t) n);
  if (w < 0)
    return l1vh_error_set(err, errno, "write \"%s\" to %s", rule, file);
  if (w != n)
    return l1vh_error_setx(err, "write \"%s\" to %s: short write", rule, file);
  return 0;
}

int l1vh_cgroup_v1_allow(const struct l1vh_cgroup_place *place, unsigned major, unsigned minor,
                         struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  cleanup_close int dir_fd = l1vh_cgroup_open_dir(place, O_PATH, err);
  cleanup_free char *before = NULL;
  cleanup_free char *after = NULL;

  if (dir_fd < 0)
    return -1;
  if (read_list(dir_fd, &before, err) < 0)
    return l1vh_error_wrap(err, "cgroup v1 %s", chg->where);
  if (l1vh_cgroup_v1_list_allows(before, major, minor))
    return 0; /* the runtime allowed it: nothing to add, nothing to revert */
  if (write_rule(dir_fd, "devices.allow", major, minor, err) < 0)
    return l1vh_error_wrap(err, "cgroup v1 %s", chg->where);
  chg->changed = true;
  chg->v1_dir_fd = dir_fd;
  dir_fd = -1;
  /* The kernel refuses an exception the parent cgroup does not grant with
   * EPERM, but check what the container will actually get. */
  if (read_list(chg->v1_dir_fd, &after, err) < 0 || !l1vh_cgroup_v1_list_allows(after, major, minor)) {
    struct l1vh_error ignored = L1VH_ERROR_INIT;
    if (!after)
      l1vh_error_wrap(err, "cgroup v1 %s: check", chg->where);
    else
      l1vh_error_setx(err, "cgroup v1 %s: devices.list does not show c %u:%u rw after devices.allow",
                      chg->where, major, minor);
    l1vh_cgroup_v1_revert(chg, &ignored);
    l1vh_error_clear(&ignored);
    l1vh_cgroup_change_release(chg);
    return -1;
  }
  return 0;
}

int l1vh_cgroup_v1_revert(struct l1vh_cgroup_change *chg, struct l1vh_error *err)
{
  if (!chg->changed || chg->v1_dir_fd < 0)
    return 0;
  if (write_rule(chg->v1_dir_fd, "devices.deny", chg->major, chg->minor, err) < 0)
    return l1vh_error_wrap(err, "cgroup v1 %s", chg->where);
  chg->changed = false;
  return 0;
}
