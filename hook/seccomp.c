/* l1vh-hook: the seccomp allow-list (libseccomp).
 *
 * The lists below were made from `strace -f` of the real test suites
 * (docs/security.md has the command) and every entry says why it is there.
 * A syscall not listed fails with EPERM, so a forgotten one shows up as a
 * step failing with "Operation not permitted", never as a hole. */
#define _GNU_SOURCE
#include "seccomp.h"

#include <string.h>

#include "cleanup.h"
#include "confine.h"

/* Everything a run does whatever its plan: read and write the fds it has,
 * memory, stdio and syslog (an AF_UNIX datagram socket), time for log
 * lines, capabilities raised and lowered around the steps, and exit. */
static const char *const base[] = {
  "read", "write", "close",                             /* files, stderr */
  "lseek", "fcntl",                                     /* the time zone file; fdopendir */
  "openat", "fstat", "newfstatat", "statx",             /* files of the steps, stat of fds */
  "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", /* malloc */
  "socket", "connect", "sendto",                         /* syslog: AF_UNIX only (below) */
  "getpid", "gettid",                                    /* syslog's LOG_PID, abort */
  "getuid", "geteuid", "getgid", "getegid",              /* identity; the state dir must be ours */
  "clock_gettime", "gettimeofday", "time",               /* log and record time stamps */
  "capget", "capset",                                    /* raise and lower around steps */
  "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "tgkill", /* abort(): to itself only */
  "restart_syscall", "exit", "exit_group",
};

/* Per step: what it adds (caps.h has the steps). */
static const char *const step_probe[] = {NULL}; /* runs before the filter */
static const char *const step_pid[] = {
  "readlink", /* realpath() of the rootfs, to find it in /proc/PID/mountinfo */
  NULL,
};
static const char *const step_enter[] = {
  "setns",   /* into the container's mount namespace and back */
  "fchdir",  /* back to the working directory setns moved */
  "openat2", /* every path inside the rootfs: RESOLVE_IN_ROOT */
  NULL,
};
static const char *const step_mknod[] = {
  "mknodat",  /* character devices only (below) */
  "umask",    /* the node's mode exactly as planned */
  "unlinkat", /* undo: remove the node made */
  NULL,
};
static const char *const step_chown[] = {"fchownat", NULL};
static const char *const step_cgroup_v1[] = {
  "openat2",  /* the cgroup dir below its mount, no symlink, same mount */
  "fstatfs",  /* it is a cgroup file system */
  "readlink", /* libmount, reading the mount table */
  NULL,
};
static const char *const step_cgroup_v2[] = {"bpf", "openat2", "fstatfs", "readlink", NULL};
static const char *const step_memlock[] = {"prlimit64", NULL};
static const char *const step_domain[] = {
  "open_tree", "mount_setattr", "fsopen", "fsconfig", "fsmount", "move_mount", /* mounts by fd */
  "umount2",  /* undo */
  "mkdirat", "unlinkat", /* /dev/.l1vh and the tmpfs' directories; undo */
  "readlink", /* the hook's own directory (/proc/self/exe), fd paths */
  "fstatfs",  /* the container's /dev is a tmpfs of its own */
  NULL,
};
static const char *const step_record[] = {
  "mkdir",              /* state.dir */
  "getdents64",         /* pruning old records */
  "unlinkat", "unlink", /* old records, the metrics temp file */
  "renameat", "rename", /* the record, the metrics file, into place */
  "fchmod",             /* their modes */
  "flock",              /* the metrics file's lock */
  NULL,
};

static const char *const *const steps_syscalls[L1VH_STEP_COUNT] = {
  [L1VH_STEP_PROBE] = step_probe,         [L1VH_STEP_PID] = step_pid,
  [L1VH_STEP_ENTER] = step_enter,
  [L1VH_STEP_MKNOD] = step_mknod,         [L1VH_STEP_CHOWN] = step_chown,
  [L1VH_STEP_CGROUP_V1] = step_cgroup_v1, [L1VH_STEP_CGROUP_V2] = step_cgroup_v2,
  [L1VH_STEP_MEMLOCK] = step_memlock,     [L1VH_STEP_DOMAIN] = step_domain,
  [L1VH_STEP_RECORD] = step_record,
};

#if defined(__SANITIZE_ADDRESS__)
#define L1VH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define L1VH_ASAN 1
#endif
#endif

#ifdef L1VH_ASAN
/* Test builds only (make SAN=1): LeakSanitizer checks the heap at exit
 * from a helper thread that ptraces the process and lists its threads
 * with the old open and getdents calls.  Production builds never compile
 * this. */
static const char *const sanitizer[] = {
  "clone", "clone3", "ptrace", "wait4", "waitid", "sched_yield", "prctl", "sigaltstack",
  "getppid", "getdents", "getdents64", "readlink", "pipe2", "futex", "sched_getaffinity",
  "open",
};
#endif

/* In sanitizer builds the few syscalls LeakSanitizer needs are not killed. */
static bool killed_in_this_build(const char *name)
{
#ifdef L1VH_ASAN
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(sanitizer); i++)
    if (strcmp(sanitizer[i], name) == 0)
      return false;
#endif
  (void) name;
  return true;
}

static void add_name(const char *name, const char **names, size_t max, size_t *n)
{
  for (size_t i = 0; i < *n && i < max; i++)
    if (strcmp(names[i], name) == 0)
      return;
  if (*n < max)
    names[*n] = name;
  ++*n;
}

size_t l1vh_seccomp_allowed(const struct l1vh_steps *steps, const char **names, size_t max)
{
  size_t n = 0;

  for (size_t i = 0; i < L1VH_ARRAY_SIZE(base); i++)
    add_name(base[i], names, max, &n);
  for (size_t s = 0; s < L1VH_STEP_COUNT; s++)
    if (steps->need[s])
      for (const char *const *p = steps_syscalls[s]; *p; p++)
        add_name(*p, names, max, &n);
#ifdef L1VH_ASAN
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(sanitizer); i++)
    add_name(sanitizer[i], names, max, &n);
#endif
  return n;
}

size_t l1vh_seccomp_killed(const char **names, size_t max)
{
  size_t n = 0;

  for (size_t i = 0; i < l1vh_confine_n_never; i++)
    if (killed_in_this_build(l1vh_confine_never[i]))
      add_name(l1vh_confine_never[i], names, max, &n);
  return n;
}

int l1vh_seccomp_install(const struct l1vh_steps *steps, struct l1vh_error *err)
{
  const char *names[128], *kill[32];
  size_t n = l1vh_seccomp_allowed(steps, names, L1VH_ARRAY_SIZE(names));
  size_t nk = l1vh_seccomp_killed(kill, L1VH_ARRAY_SIZE(kill));

  if (n > L1VH_ARRAY_SIZE(names) || nk > L1VH_ARRAY_SIZE(kill))
    return l1vh_error_setx(err, "seccomp: too many syscalls listed");
  return l1vh_confine_seccomp(names, n, kill, nk, err);
}
