/* l1vh-domxml.so: preloaded into the container's libvirt daemon by
 * l1vh-wrap (xml strategy).  The daemon serves virDomainDefineXML and
 * friends for its clients (virt-launcher, virsh) by calling the same public
 * functions of libvirt.so.0; this library interposes them and hands libvirt
 * the domain XML with its root type rewritten (common/xmltype.c).
 *
 * It runs inside the daemon, built against the host's libc but loaded with
 * the image's: it uses only long-standing libc functions (dlsym pinned to
 * its oldest version below), no libvirt headers, and never aborts.
 *
 * When the type cannot be read with certainty (XMLTYPE_REFUSED), or the
 * config cannot be read, the call fails instead of letting a domain run
 * un-rewritten; a document that is not XML goes to libvirt as it is, for
 * libvirt's own error. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runconf.h"
#include "xmltype.h"

/* glibc 2.34 moved dlsym into libc under a new version; the old one is
 * still there, and is what an older image's libc has. */
#if defined(__x86_64__) && defined(__GLIBC__)
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
#endif

#define API __attribute__((visibility("default")))

/* libvirt's virterror.h numbers: stable ABI. */
#define VIR_FROM_NONE 0
#define VIR_ERR_OPERATION_FAILED 9

static struct l1vh_runconf conf;
static const char *conf_error; /* set when the config could not be read */

typedef void virReportErrorHelperFn(int domcode, int errcode, const char *file, const char *func,
                                    size_t line, const char *fmt, ...);

/* Tell the client why, through libvirt's own error when the daemon's
 * libvirt exports its helper (it does, as a private symbol), and the log. */
static void report(const char *fn, const char *why)
{
  virReportErrorHelperFn *helper = (virReportErrorHelperFn *) dlsym(RTLD_DEFAULT, "virReportErrorHelper");

  fprintf(stderr, "l1vh-domxml: %s: refused: %s\n", fn, why);
  if (helper)
    helper(VIR_FROM_NONE, VIR_ERR_OPERATION_FAILED, __FILE__, fn, __LINE__,
           "l1vh: domain type rewrite: %s", why);
}

/* Drop our own entry from LD_PRELOAD: the daemon's children (qemu, helpers)
 * must not load us. */
static void forget_preload(void)
{
  const char *old = getenv("LD_PRELOAD");
  char *copy, *out, *tok, *save = NULL;
  size_t n = 0;

  if (!old || !(copy = strdup(old)))
    return;
  if (!(out = calloc(1, strlen(old) + 1))) {
    free(copy);
    return;
  }
  /* out has room: it gets a subset of old's tokens, one separator each. */
  for (tok = strtok_r(copy, " :", &save); tok; tok = strtok_r(NULL, " :", &save)) {
    size_t len = strlen(tok);
    if (strcmp(tok, L1VH_PRELOAD_FILE) == 0)
      continue;
    if (n)
      out[n++] = ' ';
    memcpy(out + n, tok, len);
    n += len;
  }
  out[n] = '\0';
  if (n)
    setenv("LD_PRELOAD", out, 1);
  else
    unsetenv("LD_PRELOAD");
  free(out);
  free(copy);
}

__attribute__((constructor)) static void init(void)
{
  const char *why;

  if (l1vh_runconf_read(L1VH_CONFIG_FILE, &conf, &why) < 0) {
    conf_error = why;
    fprintf(stderr, "l1vh-domxml: %s: every domain definition will be refused\n", why);
  }
  forget_preload();
}

/* libvirt's own function; NULL (reported) when the daemon has none. */
static void *next(const char *name)
{
  void *fn = dlsym(RTLD_NEXT, name);
  if (!fn)
    report(name, "libvirt.so.0 does not provide it");
  return fn;
}

/* The document libvirt gets: xml itself, a rewritten copy (*owned), or
 * NULL when the call must fail. */
static const char *rewrite(const char *fn, const char *xml, char **owned)
{
  struct l1vh_xmltype_rule rule;
  const char *why;
  size_t len;

  *owned = NULL;
  if (!xml)
    return xml;
  if (conf_error)
    return report(fn, conf_error), NULL;
  rule.target = conf.type;
  rule.from = conf.from;
  rule.n_from = conf.n_from;
  switch (l1vh_xmltype_rewrite(xml, strlen(xml), &rule, owned, &len, &why)) {
  case L1VH_XMLTYPE_REWRITTEN:
    fprintf(stderr, "l1vh-domxml: %s: domain type rewritten to %s\n", fn, conf.type);
    return *owned;
  case L1VH_XMLTYPE_REFUSED:
    return report(fn, why), NULL;
  case L1VH_XMLTYPE_UNCHANGED:
  case L1VH_XMLTYPE_INVALID:
    break;
  }
  return xml;
}

/* Opaque libvirt handles: no libvirt header is needed to pass them on. */
typedef void *virConnectPtr;
typedef void *virDomainPtr;

/* The prototypes of libvirt.so.0's public API (libvirt-domain.h). */
API virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml);
API virDomainPtr virDomainDefineXMLFlags(virConnectPtr conn, const char *xml, unsigned int flags);
API virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xml, unsigned int flags);
API virDomainPtr virDomainCreateXMLWithFiles(virConnectPtr conn, const char *xml, unsigned int nfiles,
                                             int *files, unsigned int flags);

API virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml)
{
  virDomainPtr (*real)(virConnectPtr, const char *) = next(__func__);
  char *owned;
  const char *doc = rewrite(__func__, xml, &owned);
  virDomainPtr dom = real && (doc || !xml) ? real(conn, doc) : NULL;

  free(owned);
  return dom;
}

API virDomainPtr virDomainDefineXMLFlags(virConnectPtr conn, const char *xml, unsigned int flags)
{
  virDomainPtr (*real)(virConnectPtr, const char *, unsigned int) = next(__func__);
  char *owned;
  const char *doc = rewrite(__func__, xml, &owned);
  virDomainPtr dom = real && (doc || !xml) ? real(conn, doc, flags) : NULL;

  free(owned);
  return dom;
}

API virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xml, unsigned int flags)
{
  virDomainPtr (*real)(virConnectPtr, const char *, unsigned int) = next(__func__);
  char *owned;
  const char *doc = rewrite(__func__, xml, &owned);
  virDomainPtr dom = real && (doc || !xml) ? real(conn, doc, flags) : NULL;

  free(owned);
  return dom;
}

API virDomainPtr virDomainCreateXMLWithFiles(virConnectPtr conn, const char *xml, unsigned int nfiles,
                                             int *files, unsigned int flags)
{
  virDomainPtr (*real)(virConnectPtr, const char *, unsigned int, int *, unsigned int) = next(__func__);
  char *owned;
  const char *doc = rewrite(__func__, xml, &owned);
  virDomainPtr dom = real && (doc || !xml) ? real(conn, doc, nfiles, files, flags) : NULL;

  free(owned);
  return dom;
}
