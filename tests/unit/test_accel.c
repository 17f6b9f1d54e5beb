/* The QEMU command-line accelerator rewrite of l1vh-wrap. */
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "unit.h"

/* Split a space-separated command line (no quoting needed in these tests). */
static int split(const char *line, char **argv, int max)
{
  static char buf[4096];
  int n = 0;

  snprintf(buf, sizeof(buf), "%s", line);
  for (char *tok = strtok(buf, " "); tok && n < max; tok = strtok(NULL, " "))
    argv[n++] = tok;
  argv[n] = NULL;
  return n;
}

static char *join(char **argv)
{
  static char buf[4096];
  size_t n = 0;

  buf[0] = '\0';
  for (; argv && *argv; argv++)
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "", *argv);
  return buf;
}

static int expect(const char *target, const char *in, enum l1vh_accel_result res, const char *want,
                  const char *why_has)
{
  char *argv[64], **out = NULL;
  const char *why = NULL;
  int argc = split(in, argv, 63);
  enum l1vh_accel_result got = l1vh_accel_rewrite(argc, argv, target, &out, &why);
  int ok = got == res && why && (!why_has || strstr(why, why_has));

  if (ok && res != L1VH_ACCEL_ERROR)
    ok = out && strcmp(join(out), want ? want : in) == 0;
  if (!ok)
    printf("# in: %s\n# got %d (%s): %s\n", in, got, why ? why : "(null)", join(out));
  l1vh_accel_free(out);
  return ok;
}

#define REWRITES(t, in, want) CHECK(expect(t, in, L1VH_ACCEL_REWRITTEN, want, NULL))
#define KEEPS(t, in, why) CHECK(expect(t, in, L1VH_ACCEL_UNCHANGED, NULL, why))

L1VH_TEST(accel_libvirt_tcg_domain)
{
  /* What libvirt 9.0 runs for a type='qemu' domain (shortened). */
  REWRITES("mshv",
           "/usr/bin/qemu-system-x86_64 -name guest=vm,debug-threads=on -S "
           "-machine pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram -accel tcg "
           "-cpu qemu64 -m 64",
           "/usr/bin/qemu-system-x86_64 -name guest=vm,debug-threads=on -S "
           "-machine pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram -accel mshv "
           "-cpu qemu64 -m 64");
  REWRITES("kvm", "qemu -accel tcg -m 64", "qemu -accel kvm -m 64");
  REWRITES("mshv", "qemu -accel kvm", "qemu -accel mshv");
  return UNIT_PASS;
}

L1VH_TEST(accel_options_and_spellings)
{
  /* tcg's options mean nothing to another accelerator. */
  REWRITES("kvm", "qemu -accel tcg,thread=multi,tb-size=64 -m 64", "qemu -accel kvm -m 64");
  REWRITES("kvm", "qemu -accel accel=tcg", "qemu -accel kvm");
  REWRITES("kvm", "qemu --accel tcg", "qemu --accel kvm");
  /* Already the target: options kept. */
  KEEPS("kvm", "qemu -accel kvm,kernel-irqchip=split", "target already");
  /* Every -accel (QEMU tries them in order): no TCG fallback survives. */
  REWRITES("mshv", "qemu -accel kvm -accel tcg", "qemu -accel mshv -accel mshv");
  /* Not QEMU options: left as they are. */
  KEEPS("kvm", "qemu -accel=tcg -m 64", "no accelerator");
  KEEPS("kvm", "qemu accel tcg", "no accelerator");
  return UNIT_PASS;
}

L1VH_TEST(accel_machine_value)
{
  REWRITES("mshv", "qemu -machine q35,accel=tcg,usb=off", "qemu -machine q35,accel=mshv,usb=off");
  REWRITES("mshv", "qemu -M pc,accel=kvm:tcg", "qemu -M pc,accel=mshv");
  REWRITES("mshv", "qemu --machine type=q35,accel=tcg", "qemu --machine type=q35,accel=mshv");
  REWRITES("kvm", "qemu -machine accel=tcg", "qemu -machine accel=kvm");
  /* ",," is a comma inside a value, not a new key. */
  REWRITES("kvm", "qemu -machine q35,x=a,,accel=tcg,accel=tcg",
           "qemu -machine q35,x=a,,accel=tcg,accel=kvm");
  KEEPS("kvm", "qemu -machine q35,x=a,,accel=tcg", "no accelerator");
  /* Keys that end in accel are other keys. */
  KEEPS("kvm", "qemu -machine q35,noaccel=tcg", "no accelerator");
  /* Both forms at once. */
  REWRITES("kvm", "qemu -machine q35,accel=tcg -accel tcg", "qemu -machine q35,accel=kvm -accel kvm");
  return UNIT_PASS;
}

L1VH_TEST(accel_enable_kvm)
{
  REWRITES("mshv", "qemu -enable-kvm -m 64", "qemu -accel mshv -m 64");
  REWRITES("mshv", "qemu --enable-kvm", "qemu -accel mshv");
  KEEPS("kvm", "qemu -enable-kvm", "target already");
  return UNIT_PASS;
}

L1VH_TEST(accel_capability_probes_untouched)
{
  /* libvirt 9.0's probe, as seen with strace on Debian 12. */
  KEEPS("kvm",
        "/usr/bin/qemu-system-x86_64 -S -no-user-config -nodefaults -nographic "
        "-machine none,accel=kvm:tcg -qmp unix:/var/lib/libvirt/qemu/qmp-N5WA03/qmp.monitor,server=on,wait=off "
        "-pidfile /var/lib/libvirt/qemu/qmp-N5WA03/qmp.pid -daemonize",
        "probe");
  KEEPS("mshv", "qemu -machine none -accel kvm -accel tcg -qmp stdio", "probe");
  KEEPS("mshv", "qemu -M type=none,accel=tcg", "probe");
  KEEPS("mshv", "qemu -machine help -accel tcg", "help");
  KEEPS("mshv", "qemu -accel help", "help");
  KEEPS("mshv", "qemu -accel ?", "help");
  KEEPS("mshv", "qemu -version", "no accelerator");
  KEEPS("mshv", "qemu", "no accelerator");
  return UNIT_PASS;
}

L1VH_TEST(accel_missing_values)
{
  KEEPS("kvm", "qemu -m 64 -accel", "without a value");
  KEEPS("kvm", "qemu -machine", "without a value");
  /* QEMU takes the next argument as the value, whatever it looks like. */
  REWRITES("kvm", "qemu -accel -machine", "qemu -accel kvm");
  REWRITES("kvm", "qemu -accel tcg -machine", "qemu -accel kvm -machine");
  return UNIT_PASS;
}

L1VH_TEST(accel_bad_target_and_empty)
{
  char *argv[] = {"qemu", "-accel", "tcg", NULL}, **out = (char **) 1;
  const char *why;

  CHECK(l1vh_accel_rewrite(3, argv, "kvm,x=y", &out, &why) == L1VH_ACCEL_ERROR);
  CHECK(out == NULL);
  CHECK(l1vh_accel_rewrite(3, argv, "", &out, &why) == L1VH_ACCEL_ERROR);
  CHECK(l1vh_accel_rewrite(3, argv, NULL, &out, &why) == L1VH_ACCEL_ERROR);
  CHECK(l1vh_accel_rewrite(0, argv, "kvm", &out, &why) == L1VH_ACCEL_UNCHANGED);
  CHECK(out && out[0] == NULL);
  l1vh_accel_free(out);
  /* The input is never modified. */
  CHECK(l1vh_accel_rewrite(3, argv, "kvm", &out, &why) == L1VH_ACCEL_REWRITTEN);
  CHECK_STR(argv[2], "tcg");
  CHECK_STR(out[2], "kvm");
  CHECK(out[3] == NULL);
  l1vh_accel_free(out);
  return UNIT_PASS;
}

L1VH_TEST(accel_long_values)
{
  static char big[3000];
  char *argv[] = {"qemu", "-machine", big, "-accel", big, NULL}, **out = NULL;
  const char *why;

  memset(big, 'a', sizeof(big) - 1);
  memcpy(big, "accel=", 6);
  CHECK(l1vh_accel_rewrite(5, argv, "kvm", &out, &why) == L1VH_ACCEL_REWRITTEN);
  CHECK_STR(out[2], "accel=kvm");
  CHECK_STR(out[4], "kvm");
  l1vh_accel_free(out);
  return UNIT_PASS;
}
