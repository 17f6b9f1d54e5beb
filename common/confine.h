/* l1vh: what the hook and the shim's spec editor share to confine
 * themselves (docs/security.md): handing capabilities over to a reduced
 * set, and loading a seccomp allow-list.
 *
 * Linked by the programs that confine themselves (libcap, libseccomp);
 * the fuzz targets leave it out. */
#ifndef L1VH_CONFINE_H
#define L1VH_CONFINE_H

#include <stddef.h>
#include <sys/capability.h>

#include "error.h"

static inline void l1vh_cap_release(cap_t *c)
{
  if (*c)
    cap_free(*c);
}
#define cleanup_cap __attribute__((cleanup(l1vh_cap_release)))

/* Never right for a confined l1vh process: running a program (an
 * attacker's first move), tracing or reading other processes, the
 * kernel's modules, rebooting into another kernel, escaping a mount
 * namespace by handle or by changing root, swap, port I/O, accounting. */
extern const char *const l1vh_confine_never[];
extern const size_t l1vh_confine_n_never;

/* Empty the bounding set (when CAP_SETPCAP is effective in cur: runtimes
 * give it to root's hooks) and the ambient set, install next (its
 * inheritable set should be empty), and set PR_SET_NO_NEW_PRIVS. */
int l1vh_confine_caps(cap_t cur, cap_t next, struct l1vh_error *err);

/* Load a filter: the syscalls in allowed[] are allowed, those in killed[]
 * kill the process, any other fails with EPERM, and another ABI (i386's
 * int 0x80, x32) kills.  A few are allowed with some arguments only:
 * socket for AF_UNIX (syslog), tgkill to this process (abort), mknodat of
 * character devices.  Names the architecture does not have are skipped. */
int l1vh_confine_seccomp(const char *const *allowed, size_t n_allowed, const char *const *killed,
                         size_t n_killed, struct l1vh_error *err);

#endif
