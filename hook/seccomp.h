/* l1vh-hook: the seccomp allow-list, installed once the input is parsed
 * and the plan known (docs/security.md lists every syscall and why).
 *
 * Unknown syscalls fail with EPERM; a short list that the hook must never
 * make at that point (execve, ptrace, module and kexec calls, ...) kills
 * the process.  The list is the base every run needs plus the syscalls of
 * the steps of the plan (caps.h), so a plan without a device has no mknodat,
 * no setns and no bpf. */
#ifndef L1VH_SECCOMP_H
#define L1VH_SECCOMP_H

#include <stdbool.h>

#include "caps.h"
#include "error.h"

int l1vh_seccomp_install(const struct l1vh_steps *steps, struct l1vh_error *err);

/* The syscall names of the allow-list for steps (base included) and of
 * the kill list, for the unit tests and docs: each call fills up to max
 * names and returns how many there are. */
size_t l1vh_seccomp_allowed(const struct l1vh_steps *steps, const char **names, size_t max);
size_t l1vh_seccomp_killed(const char **names, size_t max);

#endif
