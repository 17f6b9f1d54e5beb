#define _GNU_SOURCE
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int l1vh_read_fd_capped(int fd, size_t cap, char **buf, size_t *len, struct l1vh_error *err)
{
  size_t size = 0, alloc = 4096;
  cleanup_free char *data = malloc(alloc);

  if (!data)
    abort();
  for (;;) {
    ssize_t n;
    if (size == alloc - 1) {
      if (alloc - 1 > cap)
        return l1vh_error_setx(err, "larger than the limit of %zu bytes", cap);
      alloc *= 2;
      char *bigger = realloc(data, alloc);
      if (!bigger)
        abort();
      data = bigger;
    }
    n = read(fd, data + size, alloc - 1 - size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return l1vh_error_set(err, errno, "read");
    if (n == 0)
      break;
    size += (size_t) n;
    if (size > cap)
      return l1vh_error_setx(err, "larger than the limit of %zu bytes", cap);
  }
  data[size] = '\0';
  *len = size;
  *buf = data;
  data = NULL;
  return 0;
}

int l1vh_read_file_capped(int dirfd, const char *name, size_t cap, char **buf, size_t *len,
                          struct l1vh_error *err)
{
  struct stat st;
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

  if (fd < 0)
    return l1vh_error_set(err, errno, "open %s", name);
  if (fstat(fd, &st) < 0)
    return l1vh_error_set(err, errno, "stat %s", name);
  if (!S_ISREG(st.st_mode))
    return l1vh_error_setx(err, "%s is not a regular file", name);
  if ((size_t) st.st_size > cap)
    return l1vh_error_setx(err, "%s is larger than the limit of %zu bytes", name, cap);
  if (l1vh_read_fd_capped(fd, cap, buf, len, err) < 0)
    return l1vh_error_wrap(err, "%s", name);
  return 0;
}

int l1vh_write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    buf += n;
    len -= (size_t) n;
  }
  return 0;
}
