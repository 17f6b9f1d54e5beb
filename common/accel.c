/* l1vh: rewrite the accelerator on a QEMU command line.
 *
 * QEMU reads its options in order: "-opt" or "--opt", then the value when
 * the option takes one.  Only the options that name an accelerator are
 * looked at; their values are QemuOpts strings ("a,b=c"), where ",," is a
 * comma inside a value, and the first element without "=" is the implied
 * key (the machine type, the accelerator name).
 *
 * Values of other options are not known here, so a value that is itself
 * spelled "-accel" or "-machine" would be taken for the option; libvirt
 * writes no such value (docs/domain.md). */
#include "accel.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmltype.h"

/* "-machine" and "--machine" -> "machine"; NULL for a non-option. */
static const char *opt_name(const char *arg)
{
  if (arg[0] != '-' || arg[1] == '\0')
    return NULL;
  return arg[1] == '-' ? (arg[2] ? arg + 2 : NULL) : arg + 1;
}

static bool is_opt(const char *arg, const char *name)
{
  const char *n = opt_name(arg);
  return n && strcmp(n, name) == 0;
}

static bool is_machine_opt(const char *arg)
{
  return is_opt(arg, "machine") || is_opt(arg, "M");
}

/* The end of the QemuOpts element starting at s (",," does not end it). */
static const char *element_end(const char *s)
{
  for (; *s; s++)
    if (*s == ',') {
      if (s[1] != ',')
        break;
      s++;
    }
  return s;
}

/* Does the element [s, e) spell key=... or, for the first element, the
 * implied key's value?  Returns the value's start or NULL. */
static const char *element_value(const char *s, const char *e, const char *key, bool first)
{
  size_t klen = strlen(key);
  const char *eq = memchr(s, '=', (size_t) (e - s));

  if (!eq)
    return first ? s : NULL;
  return (size_t) (eq - s) == klen && memcmp(s, key, klen) == 0 ? eq + 1 : NULL;
}

/* The value of key in a QemuOpts string (implied: may come first without
 * "key="), copied into buf; false when absent or too long. */
static bool opts_get(const char *opts, const char *key, bool implied, char *buf, size_t size)
{
  for (const char *s = opts; *s;) {
    const char *e = element_end(s), *v = element_value(s, e, key, implied && s == opts);
    if (v) {
      size_t n = (size_t) (e - v);
      if (n >= size)
        return false;
      memcpy(buf, v, n);
      buf[n] = '\0';
      return true;
    }
    s = *e ? e + 1 : e;
  }
  return false;
}

static bool is_help(const char *v)
{
  return strcmp(v, "help") == 0 || strcmp(v, "?") == 0;
}

/* Things QEMU does not start a guest for: keep them exactly. */
static const char *left_alone(int argc, char *const argv[])
{
  char v[64];

  for (int i = 0; i + 1 < argc; i++) {
    if (is_machine_opt(argv[i]) && opts_get(argv[i + 1], "type", true, v, sizeof(v))) {
      if (strcmp(v, "none") == 0)
        return "a capability probe (-machine none): left alone";
      if (is_help(v))
        return "-machine help: left alone";
    }
    if (is_opt(argv[i], "accel") && opts_get(argv[i + 1], "accel", true, v, sizeof(v)) && is_help(v))
      return "-accel help: left alone";
  }
  return NULL;
}

/* Does a QemuOpts string set key explicitly (key=...)? */
static bool opts_has(const char *opts, const char *key)
{
  for (const char *s = opts; *s;) {
    const char *e = element_end(s);
    if (element_value(s, e, key, false))
      return true;
    s = *e ? e + 1 : e;
  }
  return false;
}

/* A -machine value with every accel=... set to target; *changed when it
 * differed.  NULL on out of memory. */
static char *machine_value(const char *opts, const char *target, bool *changed)
{
  size_t tlen = strlen(target), cap = strlen(opts) + 1, n = 0;
  char *out;

  /* Each accel= element grows by at most tlen. */
  for (const char *s = opts; *s;) {
    const char *e = element_end(s);
    cap += tlen;
    s = *e ? e + 1 : e;
  }
  if (!(out = malloc(cap)))
    return NULL;
  for (const char *s = opts; *s;) {
    const char *e = element_end(s), *v = element_value(s, e, "accel", false);
    if (v && !((size_t) (e - v) == tlen && memcmp(v, target, tlen) == 0)) {
      memcpy(out + n, s, (size_t) (v - s));
      n += (size_t) (v - s);
      memcpy(out + n, target, tlen);
      n += tlen;
      *changed = true;
    } else {
      memcpy(out + n, s, (size_t) (e - s));
      n += (size_t) (e - s);
    }
    if (*e)
      out[n++] = ',';
    s = *e ? e + 1 : e;
  }
  out[n] = '\0';
  return out;
}

void l1vh_accel_free(char **argv)
{
  if (!argv)
    return;
  for (char **a = argv; *a; a++)
    free(*a);
  free(argv);
}

/* Copy argv into out (room for argc + extra + 1), rewriting as it goes. */
static bool rewrite(int argc, char *const argv[], const char *target, char **out, bool *changed,
                    bool *saw_accel)
{
  char name[64];
  int n = 0;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;

    if (is_opt(a, "enable-kvm")) {
      *saw_accel = true;
      if (strcmp(target, "kvm") != 0) {
        *changed = true;
        if (!(out[n++] = strdup("-accel")) || !(out[n++] = strdup(target)))
          return false;
        continue;
      }
    } else if (is_opt(a, "accel") && has_value) {
      *saw_accel = true;
      if (!(out[n++] = strdup(a)))
        return false;
      i++;
      /* Options of another accelerator mean nothing to target: dropped. */
      if (opts_get(argv[i], "accel", true, name, sizeof(name)) && strcmp(name, target) == 0) {
        if (!(out[n++] = strdup(argv[i])))
          return false;
      } else {
        *changed = true;
        if (!(out[n++] = strdup(target)))
          return false;
      }
      continue;
    } else if (is_machine_opt(a) && has_value) {
      if (!(out[n++] = strdup(a)))
        return false;
      i++;
      if (opts_has(argv[i], "accel"))
        *saw_accel = true;
      if (!(out[n++] = machine_value(argv[i], target, changed)))
        return false;
      continue;
    }
    if (!(out[n++] = strdup(a)))
      return false;
  }
  out[n] = NULL;
  return true;
}

enum l1vh_accel_result l1vh_accel_rewrite(int argc, char *const argv[], const char *target,
                                          char ***out, const char **why)
{
  bool changed = false, saw_accel = false, keep;
  const char *alone;
  size_t extra = 0;
  char **v;

  *out = NULL;
  if (!l1vh_xmltype_valid_name(target) || argc < 0 || (argc > 0 && !argv))
    return *why = "no valid target accelerator", L1VH_ACCEL_ERROR;
  for (int i = 0; i < argc; i++)
    if (is_opt(argv[i], "enable-kvm"))
      extra++;
  alone = left_alone(argc, argv);
  keep = alone != NULL;

  if (!(v = calloc((size_t) argc + extra + 1, sizeof(*v))))
    return *why = "out of memory", L1VH_ACCEL_ERROR;
  if (keep) {
    for (int i = 0; i < argc; i++)
      if (!(v[i] = strdup(argv[i])))
        goto oom;
  } else if (!rewrite(argc, argv, target, v, &changed, &saw_accel)) {
    goto oom;
  }
  *out = v;
  if (changed)
    return *why = "accelerator rewritten", L1VH_ACCEL_REWRITTEN;
  if (alone)
    *why = alone;
  else if (saw_accel)
    *why = "the accelerator is the target already";
  else if (argc > 0 && (is_opt(argv[argc - 1], "accel") || is_machine_opt(argv[argc - 1])))
    *why = "an accelerator option without a value: left to QEMU to refuse";
  else
    *why = "no accelerator on the command line";
  return L1VH_ACCEL_UNCHANGED;
oom:
  l1vh_accel_free(v);
  return *why = "out of memory", L1VH_ACCEL_ERROR;
}
