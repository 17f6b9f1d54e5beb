/* kvm-probe: runs inside a test container.  Opens a device read-write and
 * prints "opened", then the KVM_GET_API_VERSION ioctl result ("api 12"); or
 * the name of the errno that stopped it ("open ENOENT", "ioctl ENOTTY"), so
 * a bats test can tell "no node" from "node but no cgroup rule".  (On a
 * stand-in device that is not KVM the open is what counts and the ioctl
 * says ENOTTY.)  Static: the test rootfs has no libc.  Exit status: 0 when
 * the open worked. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *errno_name(int e)
{
  switch (e) {
  case ENOENT: return "ENOENT";
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ENOTTY: return "ENOTTY";
  case ENXIO: return "ENXIO";
  case ENODEV: return "ENODEV";
  case EISDIR: return "EISDIR";
  case ELOOP: return "ELOOP";
  case EINVAL: return "EINVAL";
  default: return "other";
  }
}

int main(int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : "/dev/kvm";
  int fd = open(path, O_RDWR | O_CLOEXEC);
  int v;

  if (fd < 0) {
    int e = errno;
    printf("open %s (%s)\n", errno_name(e), strerror(e));
    return 1;
  }
  printf("opened\n");
  v = ioctl(fd, KVM_GET_API_VERSION, 0);
  if (v < 0) {
    int e = errno;
    printf("ioctl %s (%s)\n", errno_name(e), strerror(e));
    return 0;
  }
  printf("api %d\n", v);
  close(fd);
  return 0;
}
