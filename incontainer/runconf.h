/* l1vh: the config the hook writes to /dev/.l1vh/config, read inside the
 * container by l1vh-wrap and l1vh-domxml.so.  libc only (l1vh-wrap is
 * static, l1vh-domxml.so lives in a libvirt daemon).
 *
 *   accel kvm
 *   type kvm
 *   from kvm qemu
 *   emulator /usr/bin/qemu-system-x86_64
 *   daemon /usr/sbin/libvirtd
 *
 * Lines starting with '#' are comments. */
#ifndef L1VH_RUNCONF_H
#define L1VH_RUNCONF_H

#include "layout.h"

enum l1vh_wrap_kind { L1VH_WRAP_EMULATOR, L1VH_WRAP_DAEMON };

struct l1vh_runconf {
  char accel[33];
  char type[33];
  char from_buf[L1VH_RUN_MAX_FROM][33];
  const char *from[L1VH_RUN_MAX_FROM];
  unsigned n_from;
  struct {
    enum l1vh_wrap_kind kind;
    char path[L1VH_RUN_MAX_PATH];
  } wrapped[L1VH_RUN_MAX_WRAPPED];
  unsigned n_wrapped;
};

/* Parse text (NUL-terminated).  0 or -1 with *why (static) set. */
int l1vh_runconf_parse(const char *text, struct l1vh_runconf *conf, const char **why);
/* Read and parse path (a regular file, not a symlink, capped). */
int l1vh_runconf_read(const char *path, struct l1vh_runconf *conf, const char **why);

#endif
