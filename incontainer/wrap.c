/* l1vh-wrap: stands in for a binary of the image (bound over it by the
 * hook) and executes the original with the domain rewrite applied:
 *  - over the emulator (emulator strategy): the accelerator on the QEMU
 *    command line becomes the configured one (common/accel.c); libvirt's
 *    capability probes pass through as they are;
 *  - over the libvirt daemon (xml strategy): the daemon runs with
 *    l1vh-domxml.so preloaded, which rewrites the domain type.
 *
 * It is linked statically, so it needs nothing from the image, and it runs
 * with whatever privileges its caller has in the container: it only reads
 * /dev/.l1vh/config and /proc/self/exe, then execve()s.  Environment, file
 * descriptors, argv[0], signal mask and the rest pass on untouched (the
 * daemon gets one more LD_PRELOAD entry).  On any doubt it fails, loudly,
 * on stderr (the domain's log for qemu): a VM must not quietly run on TCG.
 *
 * Which binary it stands in for: /proc/self/exe names the path it was
 * executed at (the mount point, symlinks resolved); the config lists the
 * wrapped paths, and the original of PATH is at /dev/.l1vh/root/PATH. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accel.h"
#include "runconf.h"

#define EXIT_WRAP 127 /* like a shell that cannot execute a command */

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "l1vh-wrap: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(EXIT_WRAP);
}

/* Which wrapped binary is this?  By /proc/self/exe; without /proc, the only
 * one there is. */
static int which(const struct l1vh_runconf *c)
{
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

  if (n > 0) {
    self[n] = '\0';
    for (unsigned i = 0; i < c->n_wrapped; i++)
      if (strcmp(self, c->wrapped[i].path) == 0)
        return (int) i;
    die("not one of the wrapped binaries listed in " L1VH_CONFIG_FILE, self);
  }
  if (c->n_wrapped == 1)
    return 0;
  die("cannot tell which binary this is", "/proc/self/exe unreadable");
  return -1;
}

/* environ with L1VH_PRELOAD_FILE first in LD_PRELOAD. */
static char **with_preload(void)
{
  extern char **environ;
  const char *old = getenv("LD_PRELOAD");
  size_t n = 0, k = 0;
  char **env, *entry;

  for (char **e = environ; *e; e++)
    n++;
  if (!(env = calloc(n + 2, sizeof(*env))))
    die("out of memory", NULL);
  if (asprintf(&entry, "LD_PRELOAD=%s%s%s", L1VH_PRELOAD_FILE, old && *old ? " " : "",
               old && *old ? old : "") < 0)
    die("out of memory", NULL);
  env[k++] = entry;
  for (char **e = environ; *e; e++)
    if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
      env[k++] = *e;
  env[k] = NULL;
  return env;
}

int main(int argc, char **argv)
{
  extern char **environ;
  struct l1vh_runconf conf;
  char real[PATH_MAX];
  struct stat self_st, real_st;
  const char *why;
  int i, n;

  if (l1vh_runconf_read(L1VH_CONFIG_FILE, &conf, &why) < 0)
    die(why, NULL);
  i = which(&conf);
  n = snprintf(real, sizeof(real), "%s%s", L1VH_ROOT_DIR, conf.wrapped[i].path);
  if (n < 0 || (size_t) n >= sizeof(real))
    die("path too long", conf.wrapped[i].path);
  /* If the original were this very file, we would run ourselves forever. */
  if (stat(real, &real_st) < 0)
    die("cannot find the original binary", real);
  if (stat("/proc/self/exe", &self_st) == 0 && self_st.st_dev == real_st.st_dev &&
      self_st.st_ino == real_st.st_ino)
    die("the original binary is this wrapper", real);

  if (conf.wrapped[i].kind == L1VH_WRAP_DAEMON) {
    execve(real, argv, with_preload());
    die("execute the libvirt daemon", strerror(errno));
  }

  char **args;
  switch (l1vh_accel_rewrite(argc, argv, conf.accel, &args, &why)) {
  case L1VH_ACCEL_ERROR:
    die("rewrite the accelerator", why);
    break;
  case L1VH_ACCEL_REWRITTEN:
    fprintf(stderr, "l1vh-wrap: %s: -accel %s (emulator strategy)\n", why, conf.accel);
    break;
  case L1VH_ACCEL_UNCHANGED:
    break;
  }
  execve(real, args, environ);
  die("execute the emulator", strerror(errno));
  return EXIT_WRAP;
}
