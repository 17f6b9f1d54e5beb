#!/usr/bin/env bats
# Real runc runs l1vh-hook from the bundle's hooks.prestart; the hook reads
# the state runc writes on its stdin.

load lib/helpers

setup() {
  requires root runc jq
  bundle=$BATS_TEST_TMPDIR/bundle
  make_bundle "$bundle" '["/bin/sh", "-c", "echo started; ls /dev"]'
  id=$(container_id)
}

teardown() {
  runc delete -f "$id" >/dev/null 2>&1 || true
}

@test "runc: a non-VM container with the hook starts unchanged" {
  cfg=$(write_config ".device.path=\"$STANDIN_DEVICE\"")
  annotate_crio "$bundle" web
  add_hook "$bundle" "$cfg"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *started* ]]
  [[ $output != *kvm* ]]
}

@test "runc: gate off, the compute container starts unchanged" {
  cfg=$(write_config '.featureGates=[]' ".device.path=\"$STANDIN_DEVICE\"")
  annotate_crio "$bundle" compute
  add_hook "$bundle" "$cfg"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *started* ]]
  [[ $output != *kvm* ]]
}

@test "runc: a broken config stops the VM container with one line naming it, others start" {
  cfg=$BATS_TEST_TMPDIR/broken.json
  echo '{"featureGates": ["HyperVL1VH"], "device": {"path": 7}}' >"$cfg"
  annotate_crio "$bundle" compute
  add_hook "$bundle" "$cfg"
  # A broken config names no state dir: the hook keeps the failed start's
  # record in the default /run/l1vh, here a private tmpfs.
  run_logged unshare -m sh -c 'mkdir -p /run/l1vh && mount -t tmpfs l1vh-test /run/l1vh &&
    runc run --bundle "$1" "$2"' sh "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  # The hook's line carries the short id from the state runc sent.
  [[ $output == *"l1vh-hook: container ${id:0:12}: read config: config $cfg: device.path: expected a string, got number"* ]]

  runc delete -f "$id" >/dev/null 2>&1 || true
  annotate_crio "$bundle" volumecontainerdisk
  add_hook "$bundle" "$cfg"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *started* ]]
}

@test "runc: a hook given garbage on stdin fails the start (negative control for state reading)" {
  # The same binary, with its stdin replaced: proves the runc tests above
  # depend on the state runc really sends.
  run_logged bash -c "echo '{\"id\":' | '$HOOK' prestart --config /nonexistent"
  [ "$status" -eq 1 ]
  [[ $output == *"read state: state: invalid JSON"* ]]
}
