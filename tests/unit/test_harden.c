/* Unit tests for the hook's capabilities (hook/caps.c), its seccomp
 * allow-list (hook/seccomp.c) and the shim's sandbox (shim/sandbox.c).
 * Each check runs in a forked child, which the filter and the dropped
 * capabilities cannot outlive; the child reports through its exit code. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../hook/caps.h"
#include "../../hook/seccomp.h"
#include "../../shim/sandbox.h"
#include "cleanup.h"
#include "unit.h"

/* A sanitizer build lets LeakSanitizer clone and ptrace (hook/seccomp.c). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER 1
#else
#define SANITIZER 0
#endif

/* Run fn in a child: UNIT_PASS when it exits 0, its line number (as a
 * failure) otherwise; *sig gets the signal that killed it, 0 if none. */
static int in_child(int (*fn)(void *), void *arg, int *sig)
{
  int status;
  pid_t pid;

  fflush(NULL);
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    _exit(fn(arg) & 0xff);
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  *sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* In a child: the line of the first failed expectation (mod 256, never 0). */
#define EXPECT(cond)                                                                 \
  do {                                                                               \
    if (!(cond))                                                                     \
      return (__LINE__ % 255) + 1;                                                   \
  } while (0)

static bool listed(const char *name, const char **names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return true;
  return false;
}

/* ---- the lists ---- */

L1VH_TEST(seccomp_lists_follow_the_plan)
{
  struct l1vh_steps none = {0}, device = {0};
  const char *names[128], *kill[64];
  size_t n, nk;

  none.need[L1VH_STEP_RECORD] = true;
  n = l1vh_seccomp_allowed(&none, names, 128);
  CHECK(n < 128);
  CHECK(listed("read", names, n) && listed("exit_group", names, n) && listed("rename", names, n));
  /* A plan without a device has no device syscalls. */
  CHECK(!listed("mknodat", names, n) && !listed("setns", names, n) && !listed("bpf", names, n));
  CHECK(!listed("prlimit64", names, n) && !listed("open_tree", names, n));

  device.need[L1VH_STEP_ENTER] = device.need[L1VH_STEP_MKNOD] = true;
  device.need[L1VH_STEP_CGROUP_V2] = true;
  n = l1vh_seccomp_allowed(&device, names, 128);
  CHECK(listed("mknodat", names, n) && listed("setns", names, n) && listed("bpf", names, n));
  CHECK(!listed("open_tree", names, n));

  nk = l1vh_seccomp_killed(kill, 64);
  CHECK(nk < 64);
  CHECK(listed("execve", kill, nk) && listed("execveat", kill, nk) && listed("finit_module", kill, nk));
  CHECK(listed("kexec_load", kill, nk) && listed("open_by_handle_at", kill, nk));
  /* Nothing is both allowed and killed. */
  for (size_t s = 0; s < L1VH_STEP_COUNT; s++)
    device.need[s] = true;
  n = l1vh_seccomp_allowed(&device, names, 128);
  for (size_t i = 0; i < nk; i++)
    CHECK(!listed(kill[i], names, n));
  return UNIT_PASS;
}

/* ---- the hook's filter, live ---- */

struct filter_case {
  struct l1vh_steps steps;
  const char *dir; /* a scratch directory */
};

static int allowed_and_refused(void *arg)
{
  struct filter_case *c = arg;
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  char path[256];
  int fd, srv, cli;

  /* A socket to stand in for /dev/log, bound before the filter. */
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", c->dir);
  unlink(sa.sun_path);
  EXPECT((srv = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
  EXPECT(bind(srv, (struct sockaddr *) &sa, sizeof(sa)) == 0);

  EXPECT(l1vh_seccomp_install(&c->steps, &err) == 0);
  /* What every run does. */
  EXPECT(getpid() > 0);
  snprintf(path, sizeof(path), "%s/f", c->dir);
  EXPECT((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0);
  EXPECT(write(fd, "x", 1) == 1 && close(fd) == 0);
  EXPECT(malloc(1 << 20) != NULL); /* a large block: mmap */
  EXPECT((cli = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
  EXPECT(connect(cli, (struct sockaddr *) &sa, sizeof(sa)) == 0);
  EXPECT(send(cli, "<30>l1vh", 8, 0) == 8);
  /* Refused with EPERM: another socket family, a fork, a namespace, a
   * device node the plan does not make, a FIFO even when it does. */
  errno = 0;
  EXPECT(socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM);
  EXPECT(SANITIZER || (syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) < 0 && errno == EPERM));
  EXPECT(syscall(SYS_unshare, 0) < 0 && errno == EPERM);
  EXPECT(syscall(SYS_kill, 1, 0) < 0 && errno == EPERM);
  snprintf(path, sizeof(path), "%s/fifo", c->dir);
  EXPECT(mknodat(AT_FDCWD, path, S_IFIFO | 0600, 0) < 0 && errno == EPERM);
  if (c->steps.need[L1VH_STEP_MKNOD]) {
    /* A character device is what the step makes (as root: /dev/null's numbers). */
    snprintf(path, sizeof(path), "%s/null", c->dir);
    EXPECT(mknodat(AT_FDCWD, path, S_IFCHR | 0600, makedev(1, 3)) == 0);
  } else {
    snprintf(path, sizeof(path), "%s/null", c->dir);
    EXPECT(mknodat(AT_FDCWD, path, S_IFCHR | 0600, makedev(1, 3)) < 0 && errno == EPERM);
    EXPECT(syscall(SYS_setns, 0, 0) < 0 && errno == EPERM);
  }
  return 0;
}

L1VH_TEST(seccomp_filter_allows_the_plan_and_refuses_the_rest)
{
  char dir[] = "/tmp/l1vh-unit-seccomp.XXXXXX";
  struct filter_case c = {.dir = dir};
  int sig, rc;

  if (geteuid() != 0)
    return UNIT_SKIP;
  CHECK(mkdtemp(dir));
  c.steps.need[L1VH_STEP_RECORD] = true;
  rc = in_child(allowed_and_refused, &c, &sig);
  if (rc != 0)
    printf("# record-only plan: child line %d, signal %d\n", rc, sig);
  CHECK(rc == 0);
  c.steps.need[L1VH_STEP_MKNOD] = true;
  rc = in_child(allowed_and_refused, &c, &sig);
  if (rc != 0)
    printf("# device plan: child line %d, signal %d\n", rc, sig);
  CHECK(rc == 0);
  {
    char p[300];
    const char *files[] = {"log", "f", "fifo", "null"};
    for (size_t i = 0; i < 4; i++) {
      snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
      unlink(p);
    }
  }
  CHECK(rmdir(dir) == 0);
  return UNIT_PASS;
}

/* One killed syscall, with harmless arguments. */
static int call_killed(void *arg)
{
  const char *name = arg;
  struct l1vh_steps all;
  struct l1vh_error err = L1VH_ERROR_INIT;

  for (size_t s = 0; s < L1VH_STEP_COUNT; s++)
    all.need[s] = true;
  EXPECT(l1vh_seccomp_install(&all, &err) == 0);
  if (strcmp(name, "execve") == 0) {
    char *argv[] = {"true", NULL};
    execve("/bin/true", argv, NULL);
  } else if (strcmp(name, "ptrace") == 0) {
    syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
  } else if (strcmp(name, "finit_module") == 0) {
    syscall(SYS_finit_module, -1, "", 0);
  } else if (strcmp(name, "open_by_handle_at") == 0) {
    syscall(SYS_open_by_handle_at, -1, NULL, 0);
  }
  return 0; /* not killed: a failure */
}

L1VH_TEST(seccomp_filter_kills_what_must_never_happen)
{
  const char *names[] = {"execve", "ptrace", "finit_module", "open_by_handle_at"};
  int sig, rc;

  if (geteuid() != 0)
    return UNIT_SKIP;
  if (SANITIZER)
    names[1] = "execve";
  for (size_t i = 0; i < L1VH_ARRAY_SIZE(names); i++) {
    rc = in_child(call_killed, (void *) names[i], &sig);
    if (sig != SIGSYS)
      printf("# %s: exit %d, signal %d\n", names[i], rc, sig);
    CHECK(sig == SIGSYS);
  }
  return UNIT_PASS;
}

/* ---- capabilities ---- */

/* CapXxx from /proc/self/status, as a bit mask. */
static uint64_t status_caps(const char *key)
{
  char line[256];
  uint64_t v = UINT64_MAX;
  size_t klen = strlen(key);
  FILE *f = fopen("/proc/self/status", "re");

  if (!f)
    return v;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, key, klen) == 0 && line[klen] == ':')
      v = strtoull(line + klen + 1, NULL, 16);
  fclose(f);
  return v;
}

#define BIT(c) ((uint64_t) 1 << (c))

static int caps_sets(void *arg)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_steps all, record = {0};
  char dir[] = "/tmp/l1vh-unit-caps.XXXXXX", node[64];
  uint64_t prm;

  (void) arg;
  for (size_t s = 0; s < L1VH_STEP_COUNT; s++)
    all.need[s] = true;
  EXPECT(l1vh_caps_init(&all, &err) == 0);
  prm = status_caps("CapPrm");
  EXPECT(status_caps("CapEff") == 0 && status_caps("CapInh") == 0);
  EXPECT(status_caps("CapBnd") == 0 && status_caps("CapAmb") == 0);
  EXPECT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
  /* The union of the steps, nothing else (CAP_SYS_RESOURCE when the
   * runtime has it: not on every machine). */
  EXPECT((prm & ~BIT(CAP_SYS_RESOURCE)) ==
         (BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_SYS_PTRACE) | BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_CHROOT) |
          BIT(CAP_MKNOD) | BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE)));
  EXPECT(!(prm & (BIT(CAP_SETUID) | BIT(CAP_SYS_MODULE) | BIT(CAP_NET_ADMIN) | BIT(CAP_KILL) | BIT(CAP_SYSLOG))));
  /* Raised around a step, nested, and lowered again. */
  l1vh_caps_raise(L1VH_STEP_MKNOD);
  EXPECT(status_caps("CapEff") == BIT(CAP_MKNOD));
  l1vh_caps_raise(L1VH_STEP_CHOWN);
  EXPECT(status_caps("CapEff") == (BIT(CAP_MKNOD) | BIT(CAP_CHOWN)));
  l1vh_caps_lower();
  EXPECT(status_caps("CapEff") == BIT(CAP_MKNOD));
  l1vh_caps_lower();
  EXPECT(status_caps("CapEff") == 0);
  /* The plan's set: a capability it does not need cannot be raised any
   * more, and its step meets its own EPERM. */
  record.need[L1VH_STEP_RECORD] = true;
  EXPECT(l1vh_caps_limit(&record, &err) == 0);
  EXPECT(status_caps("CapPrm") == BIT(CAP_DAC_OVERRIDE));
  EXPECT(mkdtemp(dir) != NULL);
  snprintf(node, sizeof(node), "%s/null", dir);
  l1vh_caps_raise(L1VH_STEP_MKNOD);
  EXPECT(status_caps("CapEff") == 0);
  errno = 0;
  EXPECT(mknod(node, S_IFCHR | 0600, makedev(1, 3)) < 0 && errno == EPERM);
  l1vh_caps_lower();
  l1vh_caps_raise(L1VH_STEP_RECORD);
  EXPECT(status_caps("CapEff") == BIT(CAP_DAC_OVERRIDE));
  l1vh_caps_lower();
  EXPECT(rmdir(dir) == 0);
  return 0;
}

L1VH_TEST(caps_union_at_start_one_step_at_a_time_then_the_plans)
{
  int sig, rc;

  if (geteuid() != 0)
    return UNIT_SKIP;
  rc = in_child(caps_sets, NULL, &sig);
  if (rc != 0)
    printf("# child: line %d, signal %d\n", rc, sig);
  CHECK(rc == 0);
  return UNIT_PASS;
}

static int caps_missing(void *arg)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  struct l1vh_steps all;
  cap_value_t drop = CAP_MKNOD;

  (void) arg;
  /* A runtime that does not give CAP_MKNOD: the run still starts, the
   * other steps keep theirs. */
  EXPECT(prctl(PR_CAPBSET_DROP, drop, 0, 0, 0) == 0);
  {
    /* out of the permitted set as well, as after an exec without it */
    cap_t c = cap_get_proc();
    EXPECT(c && cap_set_flag(c, CAP_PERMITTED, 1, &drop, CAP_CLEAR) == 0 &&
           cap_set_flag(c, CAP_EFFECTIVE, 1, &drop, CAP_CLEAR) == 0 && cap_set_proc(c) == 0);
    cap_free(c);
  }
  for (size_t s = 0; s < L1VH_STEP_COUNT; s++)
    all.need[s] = true;
  EXPECT(l1vh_caps_init(&all, &err) == 0);
  EXPECT(!(status_caps("CapPrm") & BIT(CAP_MKNOD)));
  l1vh_caps_raise(L1VH_STEP_MKNOD);
  EXPECT(status_caps("CapEff") == 0);
  l1vh_caps_lower();
  l1vh_caps_raise(L1VH_STEP_CHOWN);
  EXPECT(status_caps("CapEff") == BIT(CAP_CHOWN));
  l1vh_caps_lower();
  return 0;
}

L1VH_TEST(caps_a_capability_the_runtime_did_not_give_is_left_out)
{
  int sig, rc;

  if (geteuid() != 0)
    return UNIT_SKIP;
  rc = in_child(caps_missing, NULL, &sig);
  if (rc != 0)
    printf("# child: line %d, signal %d\n", rc, sig);
  CHECK(rc == 0);
  return UNIT_PASS;
}

/* ---- the shim's sandbox ---- */

static int shim_sandbox(void *arg)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char *argv[] = {"true", NULL};
  char dir[] = "/tmp/l1vh-unit-shim.XXXXXX";
  char path[64];
  int fd;

  (void) arg;
  EXPECT(mkdtemp(dir) != NULL);
  EXPECT(l1vh_shim_sandbox_enter(&err) == 0);
  EXPECT(status_caps("CapBnd") == 0 && status_caps("CapInh") == 0 && status_caps("CapAmb") == 0);
  EXPECT(status_caps("CapEff") == (BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_CHOWN) |
                                   BIT(CAP_FOWNER)));
  EXPECT(status_caps("CapEff") == status_caps("CapPrm"));
  /* It edits files ... */
  snprintf(path, sizeof(path), "%s/config.json", dir);
  EXPECT((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0);
  EXPECT(fchown(fd, 0, 0) == 0 && fchmod(fd, 0644) == 0 && fsync(fd) == 0 && close(fd) == 0);
  EXPECT(unlink(path) == 0 || errno == EPERM); /* unlink is not its syscall: unlinkat is */
  EXPECT(unlinkat(AT_FDCWD, path, 0) == 0 || errno == ENOENT);
  EXPECT(rmdir(dir) < 0 && errno == EPERM); /* nor rmdir */
  EXPECT(unlinkat(AT_FDCWD, dir, AT_REMOVEDIR) == 0);
  /* ... and nothing else. */
  errno = 0;
  EXPECT(socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM);
  EXPECT(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) < 0 && errno == EPERM);
  execve("/bin/true", argv, NULL); /* killed here */
  return 0;
}

L1VH_TEST(shim_sandbox_keeps_file_access_and_kills_exec)
{
  int sig, rc;

  if (geteuid() != 0)
    return UNIT_SKIP;
  rc = in_child(shim_sandbox, NULL, &sig);
  if (sig != SIGSYS)
    printf("# child: line %d, signal %d\n", rc, sig);
  CHECK(sig == SIGSYS);
  return UNIT_PASS;
}
