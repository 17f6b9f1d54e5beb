/* l1vh: rewrite the type attribute of a libvirt domain XML's root element.
 *
 * Pure and self-contained (libc only): it is linked into the hook's unit
 * tests and into the preload library that runs inside a libvirt daemon, so
 * it reports with static strings rather than struct l1vh_error.
 *
 * Only the bytes of the type attribute's value change; every other byte of
 * the document, quoting included, is copied as it was. */
#ifndef L1VH_XMLTYPE_H
#define L1VH_XMLTYPE_H

#include <stddef.h>

/* libvirt's RPC carries at most 32 MiB per message: a larger document cannot
 * come from a client, and is refused rather than scanned. */
#define L1VH_XMLTYPE_MAX_BYTES ((size_t) 32 << 20)
/* A type or accelerator name: [a-z0-9_-], like the config accepts. */
#define L1VH_XMLTYPE_MAX_NAME 32

enum l1vh_xmltype_result {
  L1VH_XMLTYPE_REWRITTEN, /* *out holds the new document */
  L1VH_XMLTYPE_UNCHANGED, /* nothing to rewrite: the target type already, another type, not a domain */
  L1VH_XMLTYPE_INVALID,   /* not well-formed up to the root's start tag: libvirt refuses it itself */
  L1VH_XMLTYPE_REFUSED,   /* cannot tell what type libvirt would read, or too big: do not pass it on */
};

struct l1vh_xmltype_rule {
  const char *target;      /* the new type, "hyperv" */
  const char *const *from; /* the types that become target, {"kvm", "qemu"} */
  size_t n_from;
};

/* Look at xml[0..len) (need not be NUL-terminated).  On REWRITTEN, *out is a
 * malloc'd NUL-terminated document of *out_len bytes.  *why always says what
 * was found, as a static string. */
enum l1vh_xmltype_result l1vh_xmltype_rewrite(const char *xml, size_t len,
                                              const struct l1vh_xmltype_rule *rule, char **out,
                                              size_t *out_len, const char **why);

/* A name the rewrite may write into an attribute or a command line. */
int l1vh_xmltype_valid_name(const char *name);

#endif
