/* l1vh: rewrite the accelerator on a QEMU command line.
 *
 * Pure and self-contained (libc only): linked into the unit tests and,
 * statically, into l1vh-wrap, the exec wrapper that stands in for the
 * emulator inside the container. */
#ifndef L1VH_ACCEL_H
#define L1VH_ACCEL_H

enum l1vh_accel_result {
  L1VH_ACCEL_REWRITTEN, /* *out differs from argv */
  L1VH_ACCEL_UNCHANGED, /* *out is a copy of argv: a probe, no accelerator, already the target */
  L1VH_ACCEL_ERROR,     /* no valid target, or out of memory: *out is NULL */
};

/* Rewrite argv[0..argc) so that every accelerator it asks for is target:
 *   -accel NAME[,opts]   -> -accel TARGET   (opts belong to NAME: dropped)
 *   -machine ...,accel=A:B,... (or -M)    -> accel=TARGET, the rest kept
 *   -enable-kvm                           -> -accel TARGET (when TARGET is not kvm)
 * "--opt" is the same as "-opt", as QEMU reads it.  A command line with
 * "-machine none" (libvirt's capability probe) or a "help" value is left
 * alone.  *out is a NULL-terminated copy (free with l1vh_accel_free);
 * *why says what was done, as a static string. */
enum l1vh_accel_result l1vh_accel_rewrite(int argc, char *const argv[], const char *target,
                                          char ***out, const char **why);
void l1vh_accel_free(char **argv);

#endif
