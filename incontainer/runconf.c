/* l1vh: reading /dev/.l1vh/config inside the container (layout.h). */
#define _GNU_SOURCE
#include "runconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xmltype.h"

static bool copy_name(char *dst, const char *src, size_t len)
{
  if (len == 0 || len > L1VH_XMLTYPE_MAX_NAME)
    return false;
  memcpy(dst, src, len);
  dst[len] = '\0';
  return l1vh_xmltype_valid_name(dst);
}

/* An absolute path without "." or ".." components, that fits. */
static bool good_path(const char *p, size_t len)
{
  if (len == 0 || len >= L1VH_RUN_MAX_PATH || p[0] != '/')
    return false;
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '\0')
      return false;
    if (p[i] == '/' && i + 1 < len && p[i + 1] == '.' &&
        (i + 2 == len || p[i + 2] == '/' || (p[i + 2] == '.' && (i + 3 == len || p[i + 3] == '/'))))
      return false;
  }
  return true;
}

static int parse_line(const char *line, size_t len, struct l1vh_runconf *c, const char **why)
{
  const char *sp = memchr(line, ' ', len), *v;
  size_t klen, vlen;

  if (!sp)
    return *why = "a line without a value", -1;
  klen = (size_t) (sp - line);
  v = sp + 1;
  vlen = len - klen - 1;
  if (klen == 5 && memcmp(line, "accel", 5) == 0)
    return copy_name(c->accel, v, vlen) ? 0 : (*why = "bad accel", -1);
  if (klen == 4 && memcmp(line, "type", 4) == 0)
    return copy_name(c->type, v, vlen) ? 0 : (*why = "bad type", -1);
  if (klen == 4 && memcmp(line, "from", 4) == 0) {
    while (vlen) {
      const char *e = memchr(v, ' ', vlen);
      size_t n = e ? (size_t) (e - v) : vlen;
      if (c->n_from == L1VH_RUN_MAX_FROM || !copy_name(c->from_buf[c->n_from], v, n))
        return *why = "bad from", -1;
      c->from[c->n_from] = c->from_buf[c->n_from];
      c->n_from++;
      v += n + (e ? 1 : 0);
      vlen -= n + (e ? 1 : 0);
    }
    return 0;
  }
  if ((klen == 8 && memcmp(line, "emulator", 8) == 0) || (klen == 6 && memcmp(line, "daemon", 6) == 0)) {
    if (c->n_wrapped == L1VH_RUN_MAX_WRAPPED || !good_path(v, vlen))
      return *why = "bad wrapped path", -1;
    c->wrapped[c->n_wrapped].kind = klen == 8 ? L1VH_WRAP_EMULATOR : L1VH_WRAP_DAEMON;
    memcpy(c->wrapped[c->n_wrapped].path, v, vlen);
    c->wrapped[c->n_wrapped].path[vlen] = '\0';
    c->n_wrapped++;
    return 0;
  }
  return *why = "unknown key", -1;
}

int l1vh_runconf_parse(const char *text, struct l1vh_runconf *c, const char **why)
{
  memset(c, 0, sizeof(*c));
  while (*text) {
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t) (nl - text) : strlen(text);

    if (len && text[0] != '#' && parse_line(text, len, c, why) < 0)
      return -1;
    text += len + (nl ? 1 : 0);
  }
  if (!c->accel[0] || !c->type[0])
    return *why = "accel or type missing", -1;
  return 0;
}

int l1vh_runconf_read(const char *path, struct l1vh_runconf *c, const char **why)
{
  char buf[L1VH_RUN_CONFIG_MAX + 1];
  size_t len = 0;
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

  if (fd < 0)
    return *why = "cannot open " L1VH_CONFIG_FILE, -1;
  /* The system call, not glibc's fstat: that symbol is versioned 2.33, and
   * l1vh-domxml.so must load with an image's older libc. */
  if (syscall(SYS_fstat, fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return *why = L1VH_CONFIG_FILE " is not a regular file", -1;
  }
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof(buf) - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close(fd);
      return *why = "cannot read " L1VH_CONFIG_FILE, -1;
    }
    if (n == 0)
      break;
    len += (size_t) n;
    if (len == sizeof(buf)) {
      close(fd);
      return *why = L1VH_CONFIG_FILE " is too big", -1;
    }
  }
  close(fd);
  buf[len] = '\0';
  if (memchr(buf, '\0', len))
    return *why = L1VH_CONFIG_FILE " holds a NUL byte", -1;
  return l1vh_runconf_parse(buf, c, why);
}
