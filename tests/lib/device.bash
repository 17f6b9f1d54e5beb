# Helpers for the device injection suites (30-device*.bats, 31-*, 32-*).
# Load after lib/helpers.
#
# The device under test is /dev/kvm, the stand-in for /dev/mshv: the probe
# inside the container then gets KVM_GET_API_VERSION = 12.  On a machine
# without /dev/kvm, L1VH_TEST_DEVICE names another character device that
# the runtime does not allow by default (e.g. /dev/fuse, 10:229): the open
# is then what the tests check and the ioctl answers ENOTTY.

DEVICE=$STANDIN_DEVICE

# requires for every device test: root, runc, jq and the device itself.
device_requires() {
  requires root runc jq "$@"
  if [ "$DEVICE" = /dev/kvm ]; then
    requires kvm
  elif [ ! -c "$DEVICE" ]; then
    l1vh_skip "L1VH_TEST_DEVICE=$DEVICE is not a character device"
  fi
  # A node without its driver (ENODEV) would fail every positive test for
  # a reason that is not l1vh's: say so instead.
  local host
  host=$("${PROBE:-$BATS_FILE_TMPDIR/kvm-probe}" "$DEVICE" 2>&1) ||
    l1vh_skip "$DEVICE does not open on the host: $host (a node without its driver?)"
}

# The static probe for the test rootfs, built once per file (setup_file).
build_probe() {
  PROBE=$BATS_FILE_TMPDIR/kvm-probe
  [ -x "$PROBE" ] ||
    cc -static -O2 -o "$PROBE" "$L1VH_TOP/tests/helpers-src/kvm-probe.c"
  export PROBE
}

# A virt-launcher-like compute container running as qemu (107:107) whose
# spec does not list the device; the process runs the probe, or args.
device_bundle() {
  local bundle=$1 args=${2:-}
  [ -n "$args" ] || args="[\"/bin/sh\", \"-c\", \"echo started; /bin/kvm-probe $DEVICE\"]"
  make_bundle "$bundle" "$args"
  cp "${PROBE:-$BATS_FILE_TMPDIR/kvm-probe}" "$bundle/rootfs/bin/kvm-probe"
  annotate_crio "$bundle" compute
  edit_spec "$bundle" '.process.user.uid=107 | .process.user.gid=107'
}

# The node config of these suites: only the device action is on.
device_config() {
  write_config ".device.path=\"$DEVICE\"" '.domain.strategy="off"' '.memlock.when="never"' "$@"
}

# The probe opened the device read-write (and, on KVM, the ioctl answered).
assert_device_opens() {
  [[ $output == *opened* ]] || { echo "the device did not open" >&2; return 1; }
  if [ "$DEVICE" = /dev/kvm ]; then
    [[ $output == *"api 12"* ]] || { echo "KVM_GET_API_VERSION is not 12" >&2; return 1; }
  fi
}

# major and minor of the host device, in decimal.
device_numbers() {
  printf '%d %d\n' "0x$(stat -c %t "$DEVICE")" "0x$(stat -c %T "$DEVICE")"
}

# Append a prestart hook that only makes a node (mode 0666) inside the
# container, without any cgroup rule: the "node but no cgroup rule"
# negative control.  Default: the device under test.  A test script, not
# product code (it may use string paths: the test owns the rootfs).
mknod_only_hook() {
  local bundle=$1 path=${2:-$DEVICE} maj=${3:-} min=${4:-} script
  [ -n "$maj" ] || read -r maj min < <(device_numbers)
  script=$(mktemp "$BATS_TEST_TMPDIR/mknod-only.XXXXXX")
  cat >"$script" <<EOF
#!/bin/sh
# state on stdin -> pid; root.path from the bundle's config.json
set -e
state=\$(cat)
pid=\$(printf '%s' "\$state" | jq -r .pid)
bundle=\$(printf '%s' "\$state" | jq -r '.bundle // .bundlePath')
root=\$(jq -r .root.path "\$bundle/config.json")
case \$root in /*) ;; *) root=\$bundle/\$root ;; esac
nsenter -t "\$pid" -m -- mknod -m 0666 "\$root$path" c $maj $min
EOF
  chmod +x "$script"
  edit_spec "$bundle" ".hooks.prestart += [{\"path\": \"$script\",
    \"env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"]}]"
}

# Run the rest of the command line in a private mount namespace whose
# /sys/fs/cgroup is a pure cgroup2 mount: runc then uses cgroup v2 and
# guards devices with an eBPF program (testbed.md).
in_cgroup2() {
  unshare -m sh -c 'mount --make-rprivate / && umount -l /sys/fs/cgroup &&
    mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh "$@"
}

# Let the image's own /dev show: drop the runtime's /dev tmpfs.
drop_dev_tmpfs() {
  edit_spec "$1" '.mounts |= map(select(.destination != "/dev"))'
}
