#!/usr/bin/env bats
# The hooks.d path (CRI-O's): podman reads a hooks dir with the same
# library as CRI-O and runs l1vh-hook from a copy of the project's
# hooks.d/l1vh.json.  Only the container named compute in a pod annotated
# kubevirt.io/domain gets the device.

load lib/helpers
load lib/device

setup_file() {
  build_probe
}

setup() {
  device_requires podman
  rootfs=$BATS_TEST_TMPDIR/rootfs
  make_rootfs "$rootfs"
  cp "$PROBE" "$rootfs/bin/kvm-probe"
  # The project's file, with only the binary and its --config changed.
  hooks=$BATS_TEST_TMPDIR/hooks.d
  mkdir -p "$hooks"
  jq --arg path "$HOOK" --arg cfg "$(device_config)" \
    '.hook.path = $path | .hook.args = ["l1vh-hook", "prestart", "--config", $cfg]' \
    "$L1VH_TOP/hooks.d/l1vh.json" >"$hooks/l1vh.json"
  name=l1vh-test-$$-$BATS_TEST_NUMBER
}

teardown() {
  podman rm -f "$name" >/dev/null 2>&1 || true
}

# podman_run ANNOTATION... : run the probe as qemu (107) in a podman container.
podman_run() {
  local args=() a
  for a in "$@"; do args+=(--annotation "$a"); done
  run_logged podman --runtime runc --cgroup-manager cgroupfs --hooks-dir "$hooks" run --rm \
    --name "$name" --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    --user 107:107 "${args[@]}" --rootfs "$rootfs" /bin/sh -c "echo started; /bin/kvm-probe $DEVICE"
}

@test "podman: the compute container of a virt-launcher pod gets the device" {
  podman_run io.kubernetes.container.name=compute kubevirt.io/domain=testvm
  [ "$status" -eq 0 ]
  assert_device_opens
}

@test "podman: a pod without kubevirt.io/domain: the hook does not run, no device" {
  podman_run io.kubernetes.container.name=compute
  [[ $output == *started* ]]
  [[ $output == *"open ENOENT"* ]]
}

@test "podman: another container of a virt-launcher pod: no device" {
  podman_run io.kubernetes.container.name=volumecontainerdisk kubevirt.io/domain=testvm
  [[ $output == *started* ]]
  [[ $output == *"open ENOENT"* ]]
}
