/* l1vh-shim: the editing phase in a child with few capabilities and a
 * seccomp allow-list; the parent goes on to execute the runtime. */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "confine.h"
#include "create.h"
#include "log.h"

/* The child reads and writes files that a runtime manager keeps, maybe
 * under another user than root: the file-access capabilities root has
 * over files it does not own.  Nothing else (no CAP_SYS_ADMIN, no
 * CAP_MKNOD, no CAP_SETUID...). */
static const cap_value_t kept[] = {
  CAP_DAC_OVERRIDE,    /* write the spec back into its directory */
  CAP_DAC_READ_SEARCH, /* read the spec, the hooks.d dirs, the image (strategy auto) */
  CAP_CHOWN,           /* the new spec keeps the old one's owner */
  CAP_FOWNER,          /* and its mode, once it is that owner's */
};

/* What the editing phase does, from `strace -f` of tests/60-shim.bats and
 * tests/61-shim-containerd.bats (docs/security.md). */
static const char *const allowed[] = {
  "read", "write", "close", "lseek", "fcntl",           /* the spec, the config, stderr, --log */
  "openat", "openat2", "fstat", "newfstatat", "statx",  /* files; the image, RESOLVE_IN_ROOT */
  "getdents64", "readlink", "readlinkat",               /* hooks.d, the image's libvirt, own path */
  "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", /* malloc */
  "socket", "connect", "sendto",                         /* syslog: AF_UNIX only */
  "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
  "clock_gettime", "gettimeofday", "time",               /* log time stamps */
  "uname",                                               /* the host's architecture */
  "getrandom",                                           /* the temporary spec's name */
  "fchown", "fchmod", "fsync", "rename", "renameat", "unlinkat", /* write the spec back */
  "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "tgkill", /* abort(): to itself only */
  "restart_syscall", "exit", "exit_group",
};

/* Besides what no confined l1vh process may do (common/confine.h), the
 * editor never mounts, enters or makes namespaces, makes nodes or loads
 * programs into the kernel: those are the hook's, and only the hook's. */
static const char *const killed_too[] = {
  "mount", "umount2", "setns", "unshare", "mknodat", "mknod", "bpf",
};
static int drop_caps(struct l1vh_error *err)
{
  cleanup_cap cap_t cur = cap_get_proc();
  cleanup_cap cap_t next = cap_init();

  if (!cur || !next)
    return l1vh_error_set(err, errno, "read the capabilities");
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(kept); i++) {
    cap_flag_value_t have = CAP_CLEAR;
    if (cap_get_flag(cur, kept[i], CAP_PERMITTED, &have) < 0 || have != CAP_SET)
      continue;
    if (cap_set_flag(next, CAP_PERMITTED, 1, &kept[i], CAP_SET) < 0 ||
        cap_set_flag(next, CAP_EFFECTIVE, 1, &kept[i], CAP_SET) < 0)
      abort();
  }
  return l1vh_confine_caps(cur, next, err);
}

static int load_filter(struct l1vh_error *err)
{
  const char *killed[64];
  size_t nk = 0;

  for (size_t i = 0; i < l1vh_confine_n_never && nk < L1VH_ARRAY_SIZE(killed); i++)
    killed[nk++] = l1vh_confine_never[i];
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(killed_too) && nk < L1VH_ARRAY_SIZE(killed); i++)
    killed[nk++] = killed_too[i];
  return l1vh_confine_seccomp(allowed, L1VH_ARRAY_SIZE(allowed), killed, nk, err);
}

int l1vh_shim_sandbox_enter(struct l1vh_error *err)
{
  if (drop_caps(err) < 0 || load_filter(err) < 0)
    return l1vh_error_wrap(err, "sandbox the spec editor");
  return 0;
}

static int child(int argc, char **argv, struct l1vh_shim_args *a, pid_t parent)
{
  struct l1vh_error err = L1VH_ERROR_INIT;

  /* Never outlive the shim: a caller that kills it gets no late edit. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
    return 1;
  if (l1vh_shim_sandbox_enter(&err) < 0) {
    l1vh_shim_report(a, "error", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
    return 1;
  }
  return l1vh_shim_create(argc, argv, a) < 0 ? 1 : 0;
}

int l1vh_shim_create_sandboxed(int argc, char **argv, struct l1vh_shim_args *a)
{
  pid_t parent = getpid(), pid;
  int status;
  char msg[256];

  /* Nothing buffered twice. */
  fflush(NULL);
  pid = fork();
  if (pid < 0) {
    snprintf(msg, sizeof(msg), "create: start the spec editor: %s", strerror(errno));
    l1vh_shim_report(a, "error", msg);
    return -1;
  }
  if (pid == 0) {
    int rc = child(argc, argv, a, parent);
    fflush(NULL);
    _exit(rc);
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      snprintf(msg, sizeof(msg), "create: wait for the spec editor: %s", strerror(errno));
      l1vh_shim_report(a, "error", msg);
      return -1;
    }
  if (WIFEXITED(status))
    return WEXITSTATUS(status) == 0 ? 0 : -1;
  /* The spec is written by rename: it is the old one or the new one. */
  snprintf(msg, sizeof(msg), "create: the spec editor was killed by signal %d (%s)%s",
           WTERMSIG(status), strsignal(WTERMSIG(status)),
           WTERMSIG(status) == SIGSYS ? ": a syscall outside its seccomp allow-list" : "");
  l1vh_shim_report(a, "error", msg);
  return -1;
}
