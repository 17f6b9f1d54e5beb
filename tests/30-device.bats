#!/usr/bin/env bats
# Device injection with real runc on this host's cgroup layout (v1 or
# hybrid): the compute container, running as qemu (107) and with a spec
# that does not list the device, opens it read-write.  DEVICE is /dev/kvm
# (tests/lib/device.bash explains L1VH_TEST_DEVICE).

load lib/helpers
load lib/device

setup_file() {
  build_probe
}

setup() {
  device_requires
  bundle=$BATS_TEST_TMPDIR/bundle
  device_bundle "$bundle"
  id=$(container_id)
}

teardown() {
  runc delete -f "$id" >/dev/null 2>&1 || true
}

@test "device: the hook injects the device, uid 107 opens it read-write" {
  add_hook "$bundle" "$(device_config)"
  edit_spec "$bundle" ".process.args = [\"/bin/sh\", \"-c\",
    \"id -u; stat -c '%F %t:%T %u:%g %a' $DEVICE; /bin/kvm-probe $DEVICE\"]"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == 107 ]]
  # Owner: the container's process user; mode: the default 0660.
  read -r maj min < <(device_numbers)
  [[ $output == *"character special file $(printf '%x:%x' "$maj" "$min") 107:107 660"* ]]
  assert_device_opens
}

@test "device: negative control: without the hook the device is not there (ENOENT)" {
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *started* ]]
  [[ $output == *"open ENOENT"* ]]
}

@test "device: negative control: the node without the cgroup rule is refused (EPERM)" {
  mknod_only_hook "$bundle"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"open EPERM"* ]]
}

@test "device: owner and mode come from the config when set" {
  add_hook "$bundle" "$(device_config '.device.uid=0' '.device.gid=107' '.device.mode="0664"')"
  edit_spec "$bundle" ".process.args = [\"/bin/sh\", \"-c\", \"stat -c '%u:%g %a' $DEVICE; /bin/kvm-probe $DEVICE\"]"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "0:107 664" ]]
  assert_device_opens
}

@test "device: gate off, the compute container starts unchanged" {
  add_hook "$bundle" "$(device_config '.featureGates=[]')"
  run_logged runc run --bundle "$bundle" "$id"
  [[ $output == *started* ]]
  [[ $output == *"open ENOENT"* ]]
}

@test "device: no device on the host, the compute container starts unchanged" {
  add_hook "$bundle" "$(device_config '.device.path="/dev/nonexistent"')"
  edit_spec "$bundle" '.process.args = ["/bin/sh", "-c", "echo started; ls /dev"]'
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *started* ]]
  [[ $output != *nonexistent* ]]
}

@test "device: a spec that lists the device is left to the runtime" {
  # linux.devices (what the shim writes): runc makes the node and the rule,
  # with the spec's owner; the hook must not touch either.
  read -r maj min < <(device_numbers)
  edit_spec "$bundle" ".linux.devices += [{\"path\": \"$DEVICE\", \"type\": \"c\", \"major\": $maj,
      \"minor\": $min, \"fileMode\": 432, \"uid\": 0, \"gid\": 107}]
    | .linux.resources.devices += [{\"allow\": true, \"type\": \"c\", \"major\": $maj, \"minor\": $min,
      \"access\": \"rw\"}]
    | .process.args = [\"/bin/sh\", \"-c\", \"stat -c '%u:%g %a' $DEVICE; /bin/kvm-probe $DEVICE\"]"
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "0:107 660" ]]
  assert_device_opens
}

# --- hostile images: the runtime's /dev tmpfs is dropped so that the
# image's own /dev is what the hook meets.

# A file on the host that a hostile image points at; records its state.
host_target() {
  target=$BATS_TEST_TMPDIR/host-target
  echo "host data" >"$target"
  chmod 0640 "$target"
  target_before=$(stat -c '%F %s %a %u:%g %Y' "$target"; cat "$target")
}

assert_host_target_unchanged() {
  local now
  now=$(stat -c '%F %s %a %u:%g %Y' "$target"; cat "$target")
  [ "$now" = "$target_before" ] || { echo "host target changed: $now" >&2; return 1; }
}

@test "device: hostile image: $DEVICE is a symlink to a host file" {
  host_target
  drop_dev_tmpfs "$bundle"
  ln -s "$target" "$bundle/rootfs$DEVICE"
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  assert_host_target_unchanged
  [[ $output == *"apply: inject $DEVICE: $DEVICE exists in the container as a symlink"* ]]
}

@test "device: hostile image: $DEVICE is a regular file" {
  drop_dev_tmpfs "$bundle"
  echo "image data" >"$bundle/rootfs$DEVICE"
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"inject $DEVICE: $DEVICE exists in the container as a regular file"* ]]
  [ "$(cat "$bundle/rootfs$DEVICE")" = "image data" ]
}

@test "device: hostile image: $DEVICE is a directory" {
  drop_dev_tmpfs "$bundle"
  mkdir "$bundle/rootfs$DEVICE"
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"inject $DEVICE: $DEVICE exists in the container as a directory"* ]]
  [ -d "$bundle/rootfs$DEVICE" ]
}

@test "device: hostile image: /dev is a symlink to a host directory" {
  # runc itself writes its /dev symlinks (fd, stdin, ...) through such a
  # link; what matters here is that the hook adds nothing on the host.
  host_target
  hostdir=$BATS_TEST_TMPDIR/host-dev
  mkdir "$hostdir"
  ln -s "$target" "$hostdir/$(basename "$DEVICE")"
  drop_dev_tmpfs "$bundle"
  rm -rf "$bundle/rootfs/dev"
  ln -s "$hostdir" "$bundle/rootfs/dev"
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [ -z "$(find "$hostdir" -type c)" ]
  [ -L "$hostdir/$(basename "$DEVICE")" ]
  assert_host_target_unchanged
  [[ $output == *"inject $DEVICE: open $(dirname "$DEVICE") in the container: a path component is a symlink"* ]]
}

@test "device: hostile image: /dev is a relative symlink climbing out of the rootfs" {
  hostdir=$BATS_TEST_TMPDIR/host-dev
  mkdir "$hostdir"
  drop_dev_tmpfs "$bundle"
  rm -rf "$bundle/rootfs/dev"
  # From rootfs/, ../../.. reaches / on the host when followed as a string.
  ln -s "../../../../../../../../..$hostdir" "$bundle/rootfs/dev"
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [ -z "$(find "$hostdir" -type c)" ]
  [[ $output == *"a path component is a symlink"* ]]
}

@test "device: a device node with other numbers at the path is an error" {
  drop_dev_tmpfs "$bundle"
  mknod "$bundle/rootfs$DEVICE" c 1 3
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"$DEVICE exists in the container as a character device 1:3"* ]]
}

@test "device: a later action that fails removes the node again (undo)" {
  # With the image's /dev (no tmpfs) the node outlives the container, so
  # the bundle shows what the hook left behind.
  drop_dev_tmpfs "$bundle"
  add_hook "$bundle" "$(device_config)"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [ -c "$bundle/rootfs$DEVICE" ] # control: a successful start leaves it
  rm "$bundle/rootfs$DEVICE"
  runc delete -f "$id" >/dev/null 2>&1 || true

  # memlock (the next action) above the hard limit fails (testbed.md).
  add_hook "$bundle" "$(device_config '.memlock.when="always"' '.memlock.size="1Gi"')"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  [[ $output == *MEMLOCK* ]]
  [ ! -e "$bundle/rootfs$DEVICE" ]
}
