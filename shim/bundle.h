/* l1vh-shim: reading a bundle's spec and writing it back atomically. */
#ifndef L1VH_SHIM_BUNDLE_H
#define L1VH_SHIM_BUNDLE_H

#include <stddef.h>
#include <sys/stat.h>

#include "error.h"

struct l1vh_shim_spec_file {
  char *dir;  /* the directory holding the spec, as given (messages) */
  char *name; /* its file name there */
  int dirfd;
  struct stat st; /* of the file read: mode and owner are kept on write */
  char *buf;      /* the bytes read, NUL-terminated */
  size_t len;
};

/* The spec of a create: <bundle>/config.json, or crun's --config FILE
 * (relative to the bundle).  bundle NULL: the current directory.  The
 * file is opened without following a symlink, must be a regular file and
 * is read up to L1VH_SPEC_MAX_BYTES. */
int l1vh_shim_spec_read(const char *bundle, const char *config, struct l1vh_shim_spec_file *f,
                        struct l1vh_error *err);
/* Replace the file with data: a temporary file in the same directory, same
 * mode and owner, fsync, rename over the spec, fsync the directory.  On
 * failure the spec is left as it was. */
int l1vh_shim_spec_write(const struct l1vh_shim_spec_file *f, const char *data, size_t len,
                         struct l1vh_error *err);
void l1vh_shim_spec_file_free(struct l1vh_shim_spec_file *f);

#endif
