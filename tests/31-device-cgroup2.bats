#!/usr/bin/env bats
# Device injection under pure cgroup v2: every runc call runs in a private
# mount namespace whose /sys/fs/cgroup is a cgroup2 mount, so runc guards
# devices with an eBPF program on the container's cgroup and the hook must
# rebuild it (hook/cgroup_v2.c).

load lib/helpers
load lib/device

setup_file() {
  build_probe
}

setup() {
  device_requires cgroup2
  bundle=$BATS_TEST_TMPDIR/bundle
  device_bundle "$bundle"
  id=$(container_id)
}

teardown() {
  in_cgroup2 runc delete -f "$id" >/dev/null 2>&1 || true
}

@test "cgroup2: the hook injects the device, uid 107 opens it read-write" {
  add_hook "$bundle" "$(device_config)"
  run_logged in_cgroup2 runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *started* ]]
  assert_device_opens
}

@test "cgroup2: negative control: without the hook the device is not there (ENOENT)" {
  run_logged in_cgroup2 runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"open ENOENT"* ]]
}

@test "cgroup2: negative control: the node without a rebuilt program is refused (EPERM)" {
  mknod_only_hook "$bundle"
  run_logged in_cgroup2 runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"open EPERM"* ]]
}

@test "cgroup2: the rebuilt program still decides everything else as runc's did" {
  # /dev/null stays allowed (runc's rule), a node of another device stays
  # refused (EPERM from the device program; with the cgroup letting it
  # through, the unused misc minor would answer ENODEV or ENXIO instead).
  add_hook "$bundle" "$(device_config)"
  mknod_only_hook "$bundle" /dev/l1vh-other 10 251
  edit_spec "$bundle" ".process.args = [\"/bin/sh\", \"-c\",
    \"/bin/kvm-probe /dev/null; /bin/kvm-probe /dev/l1vh-other; /bin/kvm-probe $DEVICE\"]"
  run_logged in_cgroup2 runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == opened ]]
  [[ ${lines[2]} == "open EPERM"* ]]
  [[ ${lines[3]} == opened ]]
  assert_device_opens
}

@test "cgroup2: the program is replaced, not added to (one program, ours)" {
  # While the container waits, bpftool shows what is attached to its cgroup.
  requires bpftool
  add_hook "$bundle" "$(device_config)"
  edit_spec "$bundle" '.process.args = ["/bin/sleep", "30"]'
  run_logged in_cgroup2 sh -c "runc run -d --bundle '$bundle' '$id' >/dev/null 2>&1 </dev/null &&
    pid=\$(runc state '$id' | jq .pid) &&
    cg=\$(sed -n 's/^0:://p' /proc/\$pid/cgroup) &&
    bpftool cgroup show /sys/fs/cgroup\$cg; runc delete -f '$id'"
  [ "$status" -eq 0 ]
  [ "$(grep -c cgroup_device <<<"$output")" -eq 1 ]
  [[ $output == *l1vh_devices* ]]
}

@test "cgroup2: runc update keeps the rebuilt program (runc skips devices on update)" {
  # docs/device.md: what can still replace the program (crun update with
  # device rules, systemd, virt-handler) and what that means for a VM.
  add_hook "$bundle" "$(device_config)"
  edit_spec "$bundle" '.process.args = ["/bin/sleep", "30"]'
  run_logged in_cgroup2 sh -c "runc run -d --bundle '$bundle' '$id' >/dev/null 2>&1 </dev/null &&
    echo '{}' | runc update -r - '$id' &&
    runc exec --user 107:107 '$id' /bin/kvm-probe $DEVICE; runc delete -f '$id'"
  [ "$status" -eq 0 ]
  assert_device_opens
}
