/* l1vh-hook: allowing one more character device in a container's device
 * cgroup, on cgroup v1 (devices.allow) and cgroup v2 (the eBPF device
 * program attached to the container's cgroup, rebuilt with one more rule).
 * docs/device.md explains the v2 limits. */
#ifndef L1VH_CGROUP_H
#define L1VH_CGROUP_H

#include <limits.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define L1VH_PROC_CGROUP_MAX_BYTES (64 * 1024)
#define L1VH_DEVICES_LIST_MAX_BYTES (1024 * 1024)
/* Device programs with more instructions than this are refused. */
#define L1VH_DEVPROG_MAX_INSNS 65536
/* More programs than this attached to one cgroup are refused. */
#define L1VH_DEVPROG_MAX_PROGS 16

enum l1vh_cgroup_version { L1VH_CGROUP_NONE, L1VH_CGROUP_V1, L1VH_CGROUP_V2 };

/* Where the container's device cgroup is: the hierarchy's mount point on
 * the host and the cgroup's path below it (relative, "" for the root). */
struct l1vh_cgroup_place {
  enum l1vh_cgroup_version version;
  char mount[PATH_MAX];
  char rel[PATH_MAX];
};

/* What l1vh_cgroup_allow changed, enough to revert it. */
struct l1vh_cgroup_change {
  enum l1vh_cgroup_version version;
  bool changed; /* false: the device was allowed already, nothing to revert */
  char where[2 * PATH_MAX]; /* the cgroup, for messages */
  unsigned major, minor;
  /* v1: the cgroup dir we wrote devices.allow in */
  int v1_dir_fd;
  /* v2: the container's cgroup and, per replaced program, the old one
   * (kept loaded by our fd so it can be put back) and ours */
  int v2_cgroup_fd;
  uint32_t v2_attach_flags;
  size_t v2_n;
  int v2_old_fd[L1VH_DEVPROG_MAX_PROGS];
  int v2_new_fd[L1VH_DEVPROG_MAX_PROGS];
};

void l1vh_cgroup_change_init(struct l1vh_cgroup_change *chg);
/* Close the fds a change holds (after success, or after a revert). */
void l1vh_cgroup_change_release(struct l1vh_cgroup_change *chg);

/* Allow `c MAJ:MIN rw` in pid's device cgroup.  mountinfo: the mount table
 * to search (NULL: /proc/self/mountinfo, the runtime's view, which is ours).
 * On failure nothing is left changed. */
int l1vh_cgroup_allow(pid_t pid, const char *mountinfo, dev_t rdev, struct l1vh_cgroup_change *chg,
                      struct l1vh_error *err);
/* Undo l1vh_cgroup_allow; releases the change. */
int l1vh_cgroup_revert(struct l1vh_cgroup_change *chg, struct l1vh_error *err);

/* --- internals, exposed for the unit tests --- */

/* Find in the text of /proc/PID/cgroup the path of the v1 hierarchy that
 * carries controller, or with controller NULL the v2 ("0::") path.
 * Returns 1 and fills path, 0 when there is no such line, < 0 when the
 * text or the path is malformed (a ".." component, too long). */
int l1vh_cgroup_proc_path(const char *text, const char *controller, char *path, size_t size,
                          struct l1vh_error *err);
/* Decide v1 or v2 from /proc/PID/cgroup's text and a mount table file:
 * a v1 hierarchy with the devices controller that is mounted wins (runc on
 * a hybrid host uses it), else the unified hierarchy if cgroup2 is mounted. */
int l1vh_cgroup_locate(const char *proc_cgroup, const char *mountinfo,
                       struct l1vh_cgroup_place *place, struct l1vh_error *err);
/* Open the cgroup dir below its mount without following any symlink or
 * leaving the mount (flags: O_PATH or O_RDONLY, plus O_DIRECTORY). */
int l1vh_cgroup_open_dir(const struct l1vh_cgroup_place *place, int flags, struct l1vh_error *err);

/* v1 */
/* Does a devices.list text already grant `c MAJ:MIN rw`? */
bool l1vh_cgroup_v1_list_allows(const char *list, unsigned major, unsigned minor);
int l1vh_cgroup_v1_allow(const struct l1vh_cgroup_place *place, unsigned major, unsigned minor,
                         struct l1vh_cgroup_change *chg, struct l1vh_error *err);
int l1vh_cgroup_v1_revert(struct l1vh_cgroup_change *chg, struct l1vh_error *err);

/* v2 */
/* One instruction, its register fields masked to 4 bits. */
struct bpf_insn l1vh_bpf_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm);
/* Refuse instructions we cannot safely copy into a new program: helper
 * and bpf-to-bpf calls, map references, legacy packet loads. */
int l1vh_devprog_check(const struct bpf_insn *insns, size_t n, struct l1vh_error *err);
/* New program = a prologue that returns 1 for a char device MAJ:MIN
 * accessed with read and/or write only, followed by the old program
 * unchanged (it still decides everything else).  *out is malloc'ed. */
int l1vh_devprog_build(const struct bpf_insn *old, size_t n, unsigned major, unsigned minor,
                       struct bpf_insn **out, size_t *n_out, struct l1vh_error *err);
int l1vh_cgroup_v2_allow(const struct l1vh_cgroup_place *place, unsigned major, unsigned minor,
                         struct l1vh_cgroup_change *chg, struct l1vh_error *err);
int l1vh_cgroup_v2_revert(struct l1vh_cgroup_change *chg, struct l1vh_error *err);

#endif
