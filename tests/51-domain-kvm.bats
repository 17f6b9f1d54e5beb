#!/usr/bin/env bats
# The domain type rewrite with KVM: a domain defined as type='qemu' (as
# KubeVirt defines it without /dev/kvm) runs KVM-accelerated, with the
# stand-ins device.path /dev/kvm, domain.type kvm, domain.accel kvm.
# tests/run.sh runs this file only where /dev/kvm opens; tests/50-domain.bats
# shows the same mechanisms with stand-ins that need no KVM.

load lib/helpers
load lib/launcher

setup() {
  requires root runc jq virsh libvirtd qemu-system-x86_64 kvm
  kvm_works || { echo "/dev/kvm does not open on this host: run tests/50-domain.bats" >&2; return 1; }
  bundle=$BATS_TEST_TMPDIR/launcher
  id=$(container_id)
}

teardown() {
  launcher_delete "$id"
}

# ---- with KVM: the issue's acceptance tests ----

@test "domain emulator: a type='qemu' domain runs with -accel kvm, KVM enabled, dumpxml keeps qemu" {
  launch "$(standin_config '.domain.strategy="emulator"')"
  run_logged launcher_define "$id"
  [ "$status" -eq 0 ]
  run_logged launcher_virsh "$id" dumpxml "$LAUNCHER_VM"
  [[ ${lines[0]} == "<domain type='qemu'"* ]]
  run_logged launcher_qemu_cmdline "$id"
  [[ " $output " == *" -accel kvm "* ]]
  [[ " $output " != *" -accel tcg "* ]]
  run_logged launcher_info_kvm "$id"
  [[ $output == *"kvm support: enabled"* ]]
}

@test "domain xml: a type='qemu' domain is defined as type='kvm', KVM enabled" {
  launch "$(standin_config '.domain.strategy="xml"')"
  run_logged launcher_define "$id"
  [ "$status" -eq 0 ]
  run_logged launcher_virsh "$id" dumpxml "$LAUNCHER_VM"
  [[ ${lines[0]} == "<domain type='kvm'"* ]]
  run_logged launcher_qemu_cmdline "$id"
  [[ " $output " == *" -accel kvm "* ]]
  run_logged launcher_info_kvm "$id"
  [[ $output == *"kvm support: enabled"* ]]
}

@test "domain auto: Debian's libvirt 9.0 gets the emulator strategy, and KVM" {
  launch "$(standin_config)"
  run_logged runc exec "$id" cat /dev/.l1vh/config
  [[ $output == *"emulator /usr/bin/qemu-system-x86_64"* ]]
  run_logged launcher_define "$id"
  [ "$status" -eq 0 ]
  run_logged launcher_virsh "$id" dumpxml "$LAUNCHER_VM"
  [[ ${lines[0]} == "<domain type='qemu'"* ]]
  run_logged launcher_info_kvm "$id"
  [[ $output == *"kvm support: enabled"* ]]
}

