#define _GNU_SOURCE
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"
#include "spec.h"

static char *xstrndup(const char *s, size_t n)
{
  char *d = strndup(s, n);
  if (!d)
    abort();
  return d;
}

/* Split the spec's path into directory and file name. */
static int locate(const char *bundle, const char *config, struct l1vh_shim_spec_file *f,
                  struct l1vh_error *err)
{
  char path[4096];
  const char *slash;
  int n;

  if (!bundle || !*bundle)
    bundle = ".";
  if (!config)
    config = "config.json";
  n = config[0] == '/' ? snprintf(path, sizeof(path), "%s", config)
                       : snprintf(path, sizeof(path), "%s/%s", bundle, config);
  if (n < 0 || (size_t) n >= sizeof(path))
    return l1vh_error_setx(err, "bundle path too long");
  slash = strrchr(path, '/');
  if (!slash[1])
    return l1vh_error_setx(err, "spec file name %s ends in '/'", path);
  f->dir = xstrndup(path, slash == path ? 1 : (size_t) (slash - path));
  f->name = xstrndup(slash + 1, strlen(slash + 1));
  return 0;
}

int l1vh_shim_spec_read(const char *bundle, const char *config, struct l1vh_shim_spec_file *f,
                        struct l1vh_error *err)
{
  cleanup_close int fd = -1;

  memset(f, 0, sizeof(*f));
  f->dirfd = -1;
  if (locate(bundle, config, f, err) < 0)
    return -1;
  f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f->dirfd < 0)
    return l1vh_error_set(err, errno, "open bundle %s", f->dir);
  /* The bundle's directory comes from the runtime manager; the file in it
   * is not followed if it is a symlink, and a FIFO must not block us. */
  fd = openat(f->dirfd, f->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return l1vh_error_set(err, errno, "open %s/%s", f->dir, f->name);
  if (fstat(fd, &f->st) < 0)
    return l1vh_error_set(err, errno, "stat %s/%s", f->dir, f->name);
  if (!S_ISREG(f->st.st_mode))
    return l1vh_error_setx(err, "%s/%s is not a regular file", f->dir, f->name);
  if (l1vh_read_fd_capped(fd, L1VH_SPEC_MAX_BYTES, &f->buf, &f->len, err) < 0)
    return l1vh_error_wrap(err, "read %s/%s", f->dir, f->name);
  return 0;
}

/* A new file next to the spec, with a name nobody else picks. */
static int create_temp(const struct l1vh_shim_spec_file *f, char *name, size_t size,
                       struct l1vh_error *err)
{
  for (int attempt = 0; attempt < 8; attempt++) {
    unsigned long long r = 0;
    int n, fd;

    if (getrandom(&r, sizeof(r), 0) != (ssize_t) sizeof(r))
      r = ((unsigned long long) getpid() << 20) ^ (unsigned long long) attempt;
    n = snprintf(name, size, ".%s.l1vh-%016llx", f->name, r);
    if (n < 0 || (size_t) n >= size)
      return l1vh_error_setx(err, "temporary file name for %s too long", f->name);
    fd = openat(f->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST)
      return fd >= 0 ? fd : l1vh_error_set(err, errno, "create %s/%s", f->dir, name);
  }
  return l1vh_error_setx(err, "create a temporary file in %s: names taken", f->dir);
}

int l1vh_shim_spec_write(const struct l1vh_shim_spec_file *f, const char *data, size_t len,
                         struct l1vh_error *err)
{
  char tmp[300];
  cleanup_close int fd = create_temp(f, tmp, sizeof(tmp), err);

  if (fd < 0)
    return -1;
  if (fchown(fd, f->st.st_uid, f->st.st_gid) < 0) {
    l1vh_error_set(err, errno, "chown %s/%s", f->dir, tmp);
    goto fail;
  }
  if (fchmod(fd, f->st.st_mode & 07777) < 0) {
    l1vh_error_set(err, errno, "chmod %s/%s", f->dir, tmp);
    goto fail;
  }
  if (l1vh_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    l1vh_error_set(err, errno, "write %s/%s", f->dir, tmp);
    goto fail;
  }
  if (renameat(f->dirfd, tmp, f->dirfd, f->name) < 0) {
    l1vh_error_set(err, errno, "rename %s/%s to %s", f->dir, tmp, f->name);
    goto fail;
  }
  /* The rename is done; a failed directory sync does not undo it. */
  fsync(f->dirfd);
  return 0;
fail:
  unlinkat(f->dirfd, tmp, 0);
  return -1;
}

void l1vh_shim_spec_file_free(struct l1vh_shim_spec_file *f)
{
  free(f->dir);
  free(f->name);
  free(f->buf);
  if (f->dirfd >= 0)
    close(f->dirfd);
  memset(f, 0, sizeof(*f));
  f->dirfd = -1;
}
