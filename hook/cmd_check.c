/* l1vh-hook check: is this node ready for L1VH?  One line per check, each
 * ok, warn or fail, and for anything but ok what to do about it.  It reads
 * and opens, and changes nothing.
 *
 * $L1VH_CHECK_ROOT (tests only) prefixes the runtime config files looked at
 * (/etc/containerd, /etc/crio), so a test can present a node's configs
 * without touching the machine's.
 *
 * Lines are for people: a message or hint cut short by its buffer is
 * accepted (as in decide.c); paths that are used, not shown, are checked. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd_ops.h"
#include "config.h"
#include "hooksd.h"
#include "io.h"
#include "json.h"

#define MISC_MAJOR 10
#define L1VH_MSHV_NAME "mshv" /* the driver's /proc/misc entry and node name */
#define RUNTIME_CONFIG_MAX_BYTES (1024 * 1024)
#define MAX_RUNTIME_FILES 64
#define SHIM_NAME "l1vh-shim"
#define SETUP "node-setup.sh"

enum level { OK, WARN, FAIL };
static const char *const level_names[] = {"ok", "warn", "fail"};

struct check {
  bool json;
  int fails;
  size_t n; /* lines printed */
  const char *config_path;
  struct l1vh_config cfg;
  bool cfg_ok;
  const char *root; /* $L1VH_CHECK_ROOT or "" */
  char self[PATH_MAX];
  /* registration, all found before any of it is reported */
  bool hook_found, poststop_found;
  char hook_line[2 * PATH_MAX];  /* the entry that runs this binary */
  char other_path[PATH_MAX];     /* an l1vh*.json that runs another binary */
  char other_line[3 * PATH_MAX];
  char dirs[1024];               /* the hooks dirs looked at */
  char reports[8][512];          /* invalid hooks.d files */
  size_t n_reports;
  bool shim_named, shim_found;   /* a config names the shim; and it is there */
  char shim_file[PATH_MAX], shim_path[PATH_MAX];
};

/* One check's line: "<level> <name>: <message>[; fix: <fix>]", or one
 * element of the JSON "checks" array. */
L1VH_PRINTF(5, 6)
static void say(struct check *c, enum level lv, const char *name, const char *fix,
                const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap); /* a long message is cut, not split */
  va_end(ap);
  for (char *p = msg; *p; p++)
    if ((unsigned char) *p < 0x20)
      *p = '?';
  if (lv == FAIL)
    c->fails++;
  if (c->json) {
    fputs(c->n ? ",{\"name\":" : "{\"name\":", stdout);
    l1vh_json_fput_string(name, stdout);
    fprintf(stdout, ",\"status\":\"%s\",\"message\":", level_names[lv]);
    l1vh_json_fput_string(msg, stdout);
    if (fix && lv != OK) {
      fputs(",\"fix\":", stdout);
      l1vh_json_fput_string(fix, stdout);
    }
    fputc('}', stdout);
  } else if (fix && lv != OK) {
    printf("%-4s  %s: %s; fix: %s\n", level_names[lv], name, msg, fix);
  } else {
    printf("%-4s  %s: %s\n", level_names[lv], name, msg);
  }
  c->n++;
}

/* ---- config and gate ---- */

static void check_config(struct check *c)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  char fix[512];
  struct stat st;

  c->cfg_ok = l1vh_config_load(c->config_path, &c->cfg, &err) == 0;
  if (!c->cfg_ok) {
    snprintf(fix, sizeof(fix),
             "correct %s (docs/config.md; l1vh-hook dry-run shows the effect); until then VM "
             "containers do not start",
             c->config_path);
    say(c, FAIL, "config", fix, "%s", l1vh_error_msg(&err));
    l1vh_error_clear(&err);
  } else if (stat(c->config_path, &st) < 0) {
    say(c, OK, "config", NULL, "no %s: the defaults apply", c->config_path);
  } else {
    say(c, OK, "config", NULL, "%s parses", c->config_path);
  }
}

static void check_gate(struct check *c)
{
  char fix[512];

  if (!c->cfg_ok) {
    say(c, WARN, "gate", "fix the config first", "unknown: the config does not parse");
  } else if (c->cfg.gate) {
    say(c, OK, "gate", NULL, "%s is on: VM containers get L1VH", L1VH_GATE);
  } else {
    snprintf(fix, sizeof(fix), "add \"%s\" to featureGates in %s", L1VH_GATE, c->config_path);
    say(c, WARN, "gate", fix, "%s is off: VMs run on KVM/TCG as without l1vh", L1VH_GATE);
  }
}

/* ---- the device ---- */

/* Device problems fail only when the gate is on: with it off nothing uses
 * the device yet, and the line says what turning it on would need. */
static enum level device_level(const struct check *c)
{
  return c->cfg_ok && c->cfg.gate ? FAIL : WARN;
}

/* The minor /proc/misc lists for name, or -1. */
static int misc_minor(const char *name)
{
  cleanup_file FILE *f = fopen("/proc/misc", "re");
  char line[256];

  while (f && fgets(line, sizeof(line), f)) {
    char entry[128];
    int minor;
    if (sscanf(line, "%d %127s", &minor, entry) == 2 && strcmp(entry, name) == 0)
      return minor;
  }
  return -1;
}

static const char *base_name(const char *path)
{
  return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/* The real device is the mshv driver's: its name must be in /proc/misc.  A
 * stand-in under another name (a test node's /dev/kvm) may not be listed
 * there; that is only a warning. */
static bool is_mshv(const char *path)
{
  return strcmp(base_name(path), L1VH_MSHV_NAME) == 0;
}

static void check_misc(struct check *c, const char *path, dev_t rdev)
{
  const char *name = base_name(path);
  int minor = misc_minor(name);
  char fix[512];

  if (minor < 0 && is_mshv(path)) {
    say(c, device_level(c), "misc", "load the driver: modprobe mshv_root (Linux 6.15+)",
        "\"%s\" is not in /proc/misc: the mshv driver is not loaded and %s is a stale node", name,
        path);
  } else if (minor < 0) {
    say(c, WARN, "misc", "none on a test node; on an L1VH VM set device.path to /dev/mshv",
        "\"%s\" is not in /proc/misc: a stand-in device, its minor %u is not confirmed", name,
        minor(rdev));
  } else if ((unsigned) minor != minor(rdev)) {
    snprintf(fix, sizeof(fix),
             "%s is a stale node: remove it and reload the driver (devtmpfs recreates it)", path);
    say(c, device_level(c), "misc", fix, "/proc/misc lists \"%s\" as minor %d, %s is 10:%u",
        name, minor, path, minor(rdev));
  } else {
    say(c, OK, "misc", NULL, "/proc/misc lists \"%s\" as minor %d, as %s has", name, minor, path);
  }
}

/* Opening it proves a driver answers behind the node (ENODEV or ENXIO
 * otherwise).  Like the misc check, only the real device fails here. */
static void check_open(struct check *c, const char *path)
{
  int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd >= 0) {
    close(fd);
    say(c, OK, "open", NULL, "%s opens read-write", path);
  } else if (errno == ENXIO || errno == ENODEV) {
    say(c, is_mshv(path) ? device_level(c) : WARN, "open",
        is_mshv(path) ? "load the driver: modprobe mshv_root (Linux 6.15+)"
                      : "none on a test node that only checks injection; VMs get no acceleration "
                        "from it",
        "no driver answers behind %s: %s", path, strerror(errno));
  } else if (errno == EACCES || errno == EPERM) {
    say(c, WARN, "open", "run the check as root, as the hook runs", "cannot open %s as uid %u: %s",
        path, getuid(), strerror(errno));
  } else {
    say(c, device_level(c), "open", NULL, "cannot open %s: %s", path, strerror(errno));
  }
}

static const char *file_type(mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG:
    return "a regular file";
  case S_IFDIR:
    return "a directory";
  case S_IFBLK:
    return "a block device";
  case S_IFIFO:
    return "a FIFO";
  case S_IFSOCK:
    return "a socket";
  case S_IFLNK:
    return "a symlink";
  default:
    return "not a character device";
  }
}

static void check_device(struct check *c)
{
  const char *path = c->cfg.device.path;
  char fix[512];
  struct stat st;

  snprintf(fix, sizeof(fix),
           "on an L1VH VM load the mshv_root driver (Linux 6.15+); elsewhere set device.path in %s "
           "to the hypervisor device",
           c->config_path);
  if (stat(path, &st) < 0) {
    say(c, device_level(c), "device", fix, "%s: %s", path, strerror(errno));
    return;
  }
  if (!S_ISCHR(st.st_mode)) {
    say(c, device_level(c), "device", fix, "%s is %s, not a character device", path,
        file_type(st.st_mode));
    return;
  }
  if (major(st.st_rdev) != MISC_MAJOR) {
    say(c, device_level(c), "device", fix,
        "%s is character device %u:%u, not a misc device (major %d)", path, major(st.st_rdev),
        minor(st.st_rdev), MISC_MAJOR);
    return;
  }
  say(c, OK, "device", NULL, "%s is character device %u:%u", path, major(st.st_rdev),
      minor(st.st_rdev));
  check_misc(c, path, st.st_rdev);
  check_open(c, path);
}

static void check_arch(struct check *c)
{
  struct utsname u;

  if (uname(&u) < 0)
    say(c, WARN, "arch", NULL, "uname: %s", strerror(errno));
  else if (strcmp(u.machine, "x86_64") != 0)
    say(c, device_level(c), "arch", "none: L1VH needs an x86_64 node",
        "%s: QEMU's mshv accelerator exists for x86_64 only", u.machine);
  else
    say(c, OK, "arch", NULL, "%s", u.machine);
}

/* ---- registration: hooks.d ---- */

static void collect(void *ctx, const char *msg)
{
  struct check *c = ctx;
  if (c->n_reports < L1VH_ARRAY_SIZE(c->reports))
    snprintf(c->reports[c->n_reports++], sizeof(c->reports[0]), "%s", msg);
}

static bool has_stage(const struct l1vh_hooksd_hook *h, enum l1vh_hook_stage s)
{
  for (size_t i = 0; i < h->n_stages; i++)
    if (h->stages[i] == s)
      return true;
  return false;
}

static bool runs_self(const struct check *c, const struct l1vh_hooksd_hook *h)
{
  char real[PATH_MAX];
  return realpath(h->path, real) && strcmp(real, c->self) == 0;
}

/* The command of a hooks.d entry: args[1] ("prestart", "poststop"). */
static const char *hook_command(const struct l1vh_hooksd_hook *h)
{
  return h->n_args > 1 ? h->args[1] : "";
}

static void scan_hooks(struct check *c)
{
  struct l1vh_hooksd_set set = {0};

  l1vh_hooksd_read((const char *const *) c->cfg.runtime.hooks_dirs, c->cfg.runtime.n_hooks_dirs,
                   &set, collect, c);
  for (size_t i = 0; i < c->cfg.runtime.n_hooks_dirs; i++) {
    strncat(c->dirs, i ? ", " : "", sizeof(c->dirs) - strlen(c->dirs) - 1);
    strncat(c->dirs, c->cfg.runtime.hooks_dirs[i], sizeof(c->dirs) - strlen(c->dirs) - 1);
  }
  for (size_t i = 0; i < set.n; i++) {
    const struct l1vh_hooksd_hook *h = &set.hooks[i];
    bool start = has_stage(h, L1VH_STAGE_PRESTART) || has_stage(h, L1VH_STAGE_CREATE_RUNTIME);
    bool poststop = strcmp(hook_command(h), "poststop") == 0;

    if (runs_self(c, h)) {
      if (start && !poststop && !c->hook_found) {
        c->hook_found = true;
        snprintf(c->hook_line, sizeof(c->hook_line), "%s/%s runs %s %s", h->dir, h->name,
                 c->self, hook_command(h));
      }
      if (poststop && has_stage(h, L1VH_STAGE_POSTSTOP))
        c->poststop_found = true;
    } else if (start && !poststop && strncmp(h->name, "l1vh", 4) == 0 && !c->other_path[0]) {
      snprintf(c->other_path, sizeof(c->other_path), "%s", h->path);
      snprintf(c->other_line, sizeof(c->other_line), "%s/%s runs %s, not this binary %s", h->dir,
               h->name, h->path, c->self);
    }
  }
  l1vh_hooksd_set_free(&set);
}

static void report_hooks(struct check *c)
{
  /* Either registration will do: hooks.d for CRI-O and podman, a runtime
   * handler naming the shim for containerd (or CRI-O). */
  enum level missing = c->shim_found ? WARN : FAIL;
  char fix[PATH_MAX + 128];

  for (size_t i = 0; i < c->n_reports; i++)
    say(c, WARN, "hooks.d", "fix or remove the file", "%s", c->reports[i]);
  if (c->hook_found) {
    say(c, OK, "hook", NULL, "%s", c->hook_line);
  } else if (c->other_path[0]) {
    snprintf(fix, sizeof(fix), "run the installed binary's check (%s check), or reinstall",
             c->other_path);
    say(c, missing, "hook", fix, "%s", c->other_line);
  } else {
    say(c, missing, "hook",
        c->shim_found ? "none needed for containerd with the shim; for CRI-O or podman: make "
                        "install"
                      : "install hooks.d/l1vh.json (make install), then run " SETUP " crio",
        "no hooks.d entry in %s runs %s", c->dirs[0] ? c->dirs : "(no runtime.hooksDirs)",
        c->self);
  }
  if (!c->hook_found)
    return;
  if (c->poststop_found)
    say(c, OK, "poststop", NULL, "a hooks.d entry runs %s poststop", c->self);
  else
    say(c, WARN, "poststop", "install hooks.d/l1vh-poststop.json (make install)",
        "no hooks.d entry runs %s poststop: records of deleted containers stay until evicted",
        c->self);
}

/* ---- registration: a runtime handler naming the shim ---- */

/* The quoted string on a config line that holds the shim's name, or NULL. */
static char *shim_path_on(char *line)
{
  char *hit = strstr(line, SHIM_NAME), *start, *end;

  if (!hit)
    return NULL;
  for (start = hit; start > line && start[-1] != '"' && start[-1] != '\''; start--)
    ;
  end = strpbrk(hit, "\"'");
  if (start == line || !end)
    return NULL;
  *end = '\0';
  return start;
}

static void shim_in_file(struct check *c, const char *file)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_free char *buf = NULL;
  char *save = NULL;
  size_t len;

  if (c->shim_named ||
      l1vh_read_file_capped(AT_FDCWD, file, RUNTIME_CONFIG_MAX_BYTES, &buf, &len, &err) < 0) {
    l1vh_error_clear(&err);
    return;
  }
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *p = line + strspn(line, " \t"), *path;

    if (*p == '#' || !(path = shim_path_on(p)) || strlen(path) >= sizeof(c->shim_path))
      continue;
    snprintf(c->shim_file, sizeof(c->shim_file), "%s", file);
    snprintf(c->shim_path, sizeof(c->shim_path), "%s", path);
    c->shim_named = true;
    return;
  }
}

/* containerd's top-level `imports = [...]` (before the first table); a
 * relative entry is relative to the importing file's directory, an
 * absolute one is under root. */
static size_t containerd_imports(const char *root, const char *file, char (*imports)[PATH_MAX],
                                 size_t max)
{
  struct l1vh_error err = L1VH_ERROR_INIT;
  cleanup_free char *buf = NULL;
  char *p, *end, dir[PATH_MAX];
  size_t len, n = 0;

  if (l1vh_read_file_capped(AT_FDCWD, file, RUNTIME_CONFIG_MAX_BYTES, &buf, &len, &err) < 0) {
    l1vh_error_clear(&err);
    return 0;
  }
  if (snprintf(dir, sizeof(dir), "%s", file) >= (int) sizeof(dir))
    return 0;
  if (strrchr(dir, '/'))
    *strrchr(dir, '/') = '\0';
  for (p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
    char *q = p + strspn(p, " \t");
    if (*q == '[')
      return 0;
    if (strncmp(q, "imports", 7) == 0 && strchr(" \t=", q[7]))
      break;
  }
  if (!*p || !(p = strchr(p, '[')) || !(end = strchr(p, ']')))
    return 0;
  *end = '\0';
  while (n < max && (p = strchr(p, '"'))) {
    char *close = strchr(p + 1, '"');
    int r;

    if (!close)
      break;
    *close = '\0';
    r = p[1] == '/' ? snprintf(imports[n], PATH_MAX, "%s%s", root, p + 1)
                    : snprintf(imports[n], PATH_MAX, "%s/%s", dir, p + 1);
    if (r > 0 && r < PATH_MAX)
      n++;
    p = close + 1;
  }
  return n;
}

static int prefixed(const struct check *c, char *buf, size_t size, const char *path)
{
  int n = snprintf(buf, size, "%s%s", c->root, path);
  return n < 0 || (size_t) n >= size ? -1 : 0;
}

/* containerd's config and its imports, then CRI-O's config and drop-ins. */
static void scan_shim(struct check *c)
{
  static char patterns[18][PATH_MAX];
  char file[PATH_MAX], real[PATH_MAX];
  size_t n;

  if (prefixed(c, file, sizeof(file), "/etc/containerd/config.toml") < 0)
    return;
  shim_in_file(c, file);
  n = containerd_imports(c->root, file, patterns, L1VH_ARRAY_SIZE(patterns) - 2);
  if (prefixed(c, patterns[n], PATH_MAX, "/etc/crio/crio.conf") == 0)
    n++;
  if (prefixed(c, patterns[n], PATH_MAX, "/etc/crio/crio.conf.d/*.conf") == 0)
    n++;
  for (size_t i = 0; i < n && !c->shim_named; i++) {
    glob_t g;

    if (glob(patterns[i], 0, NULL, &g) != 0)
      continue;
    for (size_t j = 0; j < g.gl_pathc && j < MAX_RUNTIME_FILES; j++)
      shim_in_file(c, g.gl_pathv[j]);
    globfree(&g);
  }
  c->shim_found = c->shim_named && prefixed(c, real, sizeof(real), c->shim_path) == 0 &&
                  access(real, X_OK) == 0;
}

static void report_shim(struct check *c)
{
  if (c->shim_found)
    say(c, OK, "shim", NULL, "%s: a runtime handler runs %s", c->shim_file, c->shim_path);
  else if (c->shim_named)
    say(c, FAIL, "shim", "install l1vh-shim there (make install), or fix the path",
        "%s names %s, which is not an executable file", c->shim_file, c->shim_path);
  else
    say(c, c->hook_found ? WARN : FAIL, "shim",
        c->hook_found ? "none needed for CRI-O and podman; for containerd run " SETUP " containerd"
                      : "run " SETUP " crio|containerd (docs/operate.md)",
        "no runtime handler names %s in %s/etc/containerd/config.toml, its imports, or "
        "%s/etc/crio",
        SHIM_NAME, c->root, c->root);
}

/* ---- cgroups ---- */

static void check_cgroup(struct check *c)
{
  struct statfs fs, unified;
  int version;

  if (statfs("/sys/fs/cgroup", &fs) < 0) {
    say(c, WARN, "cgroup", NULL, "/sys/fs/cgroup: %s", strerror(errno));
    return;
  }
  if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    version = 2;
    say(c, OK, "cgroup", NULL, "v2 (unified): device rules are eBPF programs");
  } else {
    version = 1;
    bool hybrid = statfs("/sys/fs/cgroup/unified", &unified) == 0 &&
                  unified.f_type == CGROUP2_SUPER_MAGIC;
    say(c, OK, "cgroup", NULL, "v1%s: device rules are devices.allow entries",
        hybrid ? " (hybrid: v1 controllers, an empty v2 hierarchy)" : "");
  }
  if (version == 1)
    say(c, OK, "durable", NULL,
        "cgroup v1: the hook's devices.allow rule lasts as long as the container");
  else if (c->shim_found)
    say(c, OK, "durable", NULL,
        "cgroup v2 with the shim: the device rule is in linux.resources.devices and survives "
        "`update`");
  else
    say(c, WARN, "durable",
        "register the shim runtime handler (" SETUP " containerd|crio --handler) and give VMs its "
        "RuntimeClass",
        "cgroup v2 without the shim: the hook's eBPF device rule is lost at the runtime's next "
        "`update` of the container");
}

int l1vh_cmd_check(const struct l1vh_opts *opts)
{
  struct check c;
  const char *root = getenv("L1VH_CHECK_ROOT");
  ssize_t n;

  memset(&c, 0, sizeof(c));
  c.json = opts->json;
  c.config_path = l1vh_config_path(opts->config);
  c.root = root ? root : "";
  n = readlink("/proc/self/exe", c.self, sizeof(c.self) - 1);
  if (n < 0)
    snprintf(c.self, sizeof(c.self), "l1vh-hook");
  else
    c.self[n] = '\0';

  if (c.json)
    fputs("{\"checks\":[", stdout);
  check_config(&c);
  check_gate(&c);
  check_device(&c);
  check_arch(&c);
  scan_hooks(&c);
  scan_shim(&c);
  report_hooks(&c);
  report_shim(&c);
  check_cgroup(&c);
  if (c.json)
    printf("],\"ok\":%s}\n", c.fails ? "false" : "true");
  else
    printf("%s\n", c.fails ? "not ready: fix the lines marked fail" : "ready");
  l1vh_config_free(&c.cfg);
  return c.fails ? L1VH_EXIT_FAIL : L1VH_EXIT_OK;
}
