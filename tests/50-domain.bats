#!/usr/bin/env bats
# The domain type rewrite (docs/domain.md), proven with the host's libvirt
# daemon (Debian 12: libvirt 9.0) and QEMU (7.2) inside a runc container
# whose spec has no /dev/kvm (tests/lib/launcher.bash), l1vh configured with
# the stand-ins device.path /dev/kvm, domain.type kvm, domain.accel kvm.
#
# The tests that need KVM to work (QEMU's "info kvm" says enabled) are in
# tests/51-domain-kvm.bats, run where /dev/kvm opens.  Here the same
# mechanisms run without KVM: the xml rewrite with the stand-in kvm -> qemu,
# the emulator rewrite seen by the real QEMU (which then refuses mshv: the
# domain does not fall back to TCG), the wrapper with a stand-in emulator
# script, and the fail-closed behaviour with the real targets (hyperv,
# mshv), which Debian's libvirt 9.0 and QEMU 7.2 refuse.  (Debian's QEMU
# offers only the accelerators tcg and kvm: no third one to stand in.)

load lib/helpers
load lib/launcher

setup() {
  requires root runc jq virsh libvirtd qemu-system-x86_64
  bundle=$BATS_TEST_TMPDIR/launcher
  id=$(container_id)
}

teardown() {
  launcher_delete "$id"
}

# ---- negative control and fallback: no KVM needed ----

@test "domain gate off: the domain runs on TCG, untouched" {
  launch "$(standin_config '.domain.strategy="emulator"' '.featureGates=[]')"
  run_logged launcher_define "$id"
  [ "$status" -eq 0 ]
  run_logged launcher_virsh "$id" dumpxml "$LAUNCHER_VM"
  [[ ${lines[0]} == "<domain type='qemu'"* ]]
  run_logged launcher_qemu_cmdline "$id"
  [[ " $output " == *" -accel tcg "* ]]
  run_logged launcher_info_kvm "$id"
  [[ $output == *"kvm support: disabled"* ]]
  # Nothing of l1vh in the container.
  run_logged runc exec "$id" sh -c 'test -e /dev/.l1vh || test -e /dev/kvm'
  [ "$status" -ne 0 ]
}

@test "domain auto: dry-run picks emulator for the launcher's libvirt 9.0" {
  local cfg
  cfg=$(standin_config)
  launcher_bundle "$bundle"
  run_logged launcher_dry_run "$bundle" "$cfg" --json
  [ "$status" -eq 0 ]
  [ "$(jq -r .domain.strategy <<<"$output")" = emulator ]
  [ "$(jq -r .domain.libvirt <<<"$output")" = 9.0.0 ]
  run_logged launcher_dry_run "$bundle" "$cfg"
  [[ $output == *"domain: emulator: the emulator runs with -accel kvm: auto: libvirt 9.0.0"*"older than 11.10"* ]]
}

@test "domain auto: dry-run picks xml for a rootfs whose libvirt is 11.10" {
  local cfg
  cfg=$(standin_config)
  make_bundle "$bundle"
  annotate_crio "$bundle"
  mkdir -p "$bundle/rootfs/usr/lib64"
  : >"$bundle/rootfs/usr/lib64/libvirt.so.0.11010.0"
  ln -s libvirt.so.0.11010.0 "$bundle/rootfs/usr/lib64/libvirt.so.0"
  : >"$bundle/rootfs/usr/lib64/libvirt-qemu.so.0.12000.0"
  run_logged "$HOOK" dry-run --bundle "$bundle" --config "$cfg" --json
  [ "$status" -eq 0 ]
  [ "$(jq -r .domain.strategy <<<"$output")" = xml ]
  [ "$(jq -r .domain.rewrite <<<"$output")" = true ]
  [ "$(jq -r .domain.libvirt <<<"$output")" = 11.10.0 ]
  # 11.9 is one short.
  mv "$bundle/rootfs/usr/lib64/libvirt.so.0.11010.0" "$bundle/rootfs/usr/lib64/libvirt.so.0.11009.0"
  ln -sfn libvirt.so.0.11009.0 "$bundle/rootfs/usr/lib64/libvirt.so.0"
  run_logged "$HOOK" dry-run --bundle "$bundle" --config "$cfg" --json
  [ "$(jq -r .domain.strategy <<<"$output")" = emulator ]
  # No libvirt at all: nothing to rewrite, and the plan says why.
  rm -r "$bundle/rootfs/usr/lib64"
  run_logged "$HOOK" dry-run --bundle "$bundle" --config "$cfg" --json
  [ "$(jq -r .domain.rewrite <<<"$output")" = false ]
  [[ $(jq -r .domain.reason <<<"$output") == *"no libvirt"* ]]
}

@test "domain xml without KVM: libvirt defines a type='kvm' domain as the stand-in type='qemu'" {
  launcher_bundle "$bundle"
  sed -i "s/<domain type='qemu'>/<domain type='kvm'>/" "$bundle/launcher/dom.xml"
  launch "$(standin_config '.domain.strategy="xml"' '.domain.type="qemu"' '.domain.rewrite=["kvm"]')"
  run_logged launcher_define "$id"
  [ "$status" -eq 0 ]
  run_logged launcher_virsh "$id" dumpxml "$LAUNCHER_VM"
  [[ ${lines[0]} == "<domain type='qemu'"* ]]
  run_logged launcher_virsh "$id" domstate "$LAUNCHER_VM"
  [ "$output" = running ]
  # The daemon runs with the preload, its children (qemu) without it.
  run_logged runc exec "$id" sh -c 'grep -l l1vh-domxml.so /proc/[0-9]*/maps'
  [ "${#lines[@]}" -eq 1 ]
  # A type it cannot read with certainty is refused, through libvirt's error.
  { echo '<!DOCTYPE domain>'; sed 's/l1vh-vm/l1vh-vm2/' "$bundle/launcher/dom.xml"; } >"$bundle/launcher/doctype.xml"
  run_logged launcher_virsh "$id" define /launcher/doctype.xml
  [ "$status" -ne 0 ]
  [[ $output == *"l1vh: domain type rewrite: a DOCTYPE can change what the type attribute says"* ]]
}

@test "domain xml without KVM: negative control: without l1vh libvirt refuses type='kvm'" {
  launcher_bundle "$bundle"
  sed -i "s/<domain type='qemu'>/<domain type='kvm'>/" "$bundle/launcher/dom.xml"
  launch "$(standin_config '.domain.strategy="xml"' '.domain.type="qemu"' '.domain.rewrite=["kvm"]' '.featureGates=[]')"
  run_logged launcher_define "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"does not support virt type 'kvm'"* ]]
}

@test "domain fails closed: emulator with accel mshv on QEMU 7.2 does not start the domain on TCG" {
  launch "$(standin_config '.domain.strategy="emulator"' '.domain.accel="mshv"')"
  run_logged launcher_define "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"-accel mshv: invalid accelerator mshv"* ]]
  run_logged launcher_virsh "$id" domstate "$LAUNCHER_VM"
  [ "$output" = "shut off" ]
}

@test "domain fails closed: xml with type hyperv on libvirt 9.0 is refused at define" {
  launch "$(standin_config '.domain.strategy="xml"' '.domain.type="hyperv"')"
  run_logged launcher_virsh "$id" define /launcher/dom.xml
  [ "$status" -ne 0 ]
  [[ $output == *"does not support virt type 'hyperv'"* ]]
  run_logged launcher_virsh "$id" list --all --name
  [ -z "$output" ]
}

# ---- the wrapper itself, with a stand-in emulator: no libvirt needed ----

# runc run -d, with the container's stdio away from bats' pipes (a detached
# process holding them would make `run` wait forever); runc's and the
# hook's messages end up in $output all the same.
run_detached() {
  run_logged sh -c 'runc run -d --bundle "$1" "$2" >"$1/run.log" 2>&1 </dev/null; rc=$?; cat "$1/run.log"; exit $rc' \
    sh "$bundle" "$id"
}

# A busybox compute container whose "emulator" is a script printing what
# it was given: argv, an environment variable, its open fds, its uid.
fake_emulator_bundle() {
  make_bundle "$bundle" '["/bin/sleep", "600"]'
  annotate_crio "$bundle"
  mkdir -p "$bundle/rootfs/usr/bin"
  cat >"$bundle/rootfs/usr/bin/qemu-system-x86_64" <<'EOF'
#!/bin/sh
echo "args=$*"
echo "foo=$FOO"
echo "fds=$(ls /proc/self/fd | tr '\n' ' ')"
echo "uid=$(id -u)"
EOF
  chmod 0755 "$bundle/rootfs/usr/bin/qemu-system-x86_64"
  ln -s qemu-system-x86_64 "$bundle/rootfs/usr/bin/qemu-kvm"
  # A hard link is another name libvirt could execute: wrapped as well.
  mkdir -p "$bundle/rootfs/usr/libexec"
  ln "$bundle/rootfs/usr/bin/qemu-system-x86_64" "$bundle/rootfs/usr/libexec/qemu-kvm"
}

@test "domain wrapper: argv rewritten, probes untouched, environment, fds and uid kept, read-only" {
  fake_emulator_bundle
  add_hook "$bundle" "$(standin_config '.domain.strategy="emulator"')"
  run_detached
  [ "$status" -eq 0 ]
  # A domain start, as qemu (107), with an extra fd and an environment.
  run_logged runc exec --user 107:107 --env FOO=bar "$id" sh -c \
    'exec 7</dev/null; /usr/bin/qemu-kvm -name guest=vm -machine q35,accel=tcg -accel tcg,thread=multi -m 64'
  [ "$status" -eq 0 ]
  [[ $output == *"l1vh-wrap: accelerator rewritten: -accel kvm (emulator strategy)"* ]]
  [[ $output == *"args=-name guest=vm -machine q35,accel=kvm -accel kvm -m 64"* ]]
  [[ $output == *"foo=bar"* ]]
  [[ $output == *"fds=0 1 2 "*"7 "* ]]
  [[ $output == *"uid=107"* ]]
  run_logged runc exec "$id" /usr/libexec/qemu-kvm -accel tcg
  [[ $output == *"args=-accel kvm"* ]]
  # libvirt's capability probe passes through as it was.
  run_logged runc exec "$id" /usr/bin/qemu-system-x86_64 -S -nodefaults -machine none,accel=kvm:tcg -qmp stdio
  [[ $output == *"args=-S -nodefaults -machine none,accel=kvm:tcg -qmp stdio"* ]]
  [[ $output != *"l1vh-wrap"* ]]
  # Nothing of it can be changed from inside.
  run_logged runc exec "$id" sh -c 'echo x >/usr/bin/qemu-system-x86_64'
  [ "$status" -ne 0 ]
  run_logged runc exec "$id" sh -c 'echo x >/dev/.l1vh/config'
  [ "$status" -ne 0 ]
  run_logged runc exec "$id" sh -c 'grep -E " /usr/bin/qemu-system-x86_64 | /dev/.l1vh " /proc/self/mountinfo'
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[0]} == *" ro,nosuid,nodev"* ]]
  [[ ${lines[1]} == *" ro,nosuid,nodev,noexec"* ]]
}

@test "domain wrapper: a second hook run (hooks.d and shim both) finds it installed" {
  fake_emulator_bundle
  add_hook "$bundle" "$(standin_config '.domain.strategy="emulator"')"
  edit_spec "$bundle" '.hooks.prestart += .hooks.prestart'
  run_detached
  [ "$status" -eq 0 ]
  run_logged runc exec "$id" sh -c 'grep -c " /usr/bin/qemu-system-x86_64 " /proc/self/mountinfo'
  [ "$output" = 1 ]
  run_logged runc exec "$id" /usr/bin/qemu-system-x86_64 -accel tcg
  [[ $output == *"args=-accel kvm"* ]]
}

@test "domain wrapper: xml strategy runs the daemon with the preload library" {
  make_bundle "$bundle" '["/bin/sleep", "600"]'
  annotate_crio "$bundle"
  mkdir -p "$bundle/rootfs/usr/sbin"
  printf '#!/bin/sh\necho "preload=$LD_PRELOAD args=$*"\ntest -s /dev/.l1vh/l1vh-domxml.so && echo lib-there\n' \
    >"$bundle/rootfs/usr/sbin/virtqemud"
  chmod 0755 "$bundle/rootfs/usr/sbin/virtqemud"
  add_hook "$bundle" "$(standin_config '.domain.strategy="xml"')"
  run_detached
  [ "$status" -eq 0 ]
  run_logged runc exec --env LD_PRELOAD=/lib/other.so "$id" /usr/sbin/virtqemud -f /etc/x.conf
  [[ $output == *"preload=/dev/.l1vh/l1vh-domxml.so /lib/other.so args=-f /etc/x.conf"* ]]
  [[ $output == *lib-there* ]]
}

@test "domain pieces: an installed hook finds them in PREFIX/libexec/l1vh" {
  local prefix=$BATS_TEST_TMPDIR/prefix
  mkdir -p "$prefix/bin" "$prefix/libexec/l1vh"
  install -m 0755 "$HOOK" "$prefix/bin/l1vh-hook"
  install -m 0755 "$BUILD/l1vh-wrap" "$prefix/libexec/l1vh/l1vh-wrap"
  fake_emulator_bundle
  HOOK=$prefix/bin/l1vh-hook add_hook "$bundle" "$(standin_config '.domain.strategy="emulator"')"
  run_detached
  [ "$status" -eq 0 ]
  run_logged runc exec "$id" /usr/bin/qemu-system-x86_64 -accel tcg
  [[ $output == *"args=-accel kvm"* ]]
  # Negative control: without the pieces the start fails, saying where it
  # looked (unless an installed l1vh in the default LIBEXECDIR has them).
  [ ! -e /usr/local/libexec/l1vh/l1vh-wrap ] || return 0
  launcher_delete "$id"
  rm "$prefix/libexec/l1vh/l1vh-wrap"
  run_detached
  [ "$status" -ne 0 ]
  [[ $output == *"l1vh-wrap not found next to the hook nor in "* ]]
}

@test "domain install fails closed: mounts that propagate out are refused" {
  fake_emulator_bundle
  add_hook "$bundle" "$(standin_config '.domain.strategy="emulator"')"
  edit_spec "$bundle" '.linux.rootfsPropagation = "shared"'
  # The image's /usr on a shared mount whose peer is outside the container
  # (all in a private mount namespace of the test).
  mv "$bundle/rootfs/usr" "$bundle/usr"
  mkdir "$bundle/rootfs/usr"
  run_logged unshare -m --propagation private sh -c '
    mount --bind "$1/usr" "$1/rootfs/usr" && mount --make-shared "$1/rootfs/usr" &&
    runc run -d --bundle "$1" "$2" >"$1/run.log" 2>&1 </dev/null; rc=$?
    cat "$1/run.log"; grep -c l1vh-wrap /proc/self/mountinfo; exit $rc' sh "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"domain rewrite (emulator): /usr/"*" is on a shared mount (propagation to its peers): will not mount there"* ]]
  # Nothing reached the peer.
  [ "${lines[-1]}" = 0 ]
}

@test "domain install fails closed: no emulator in the image, the container does not start" {
  make_bundle "$bundle" '["/bin/true"]'
  annotate_crio "$bundle"
  # A symlink in the image to the host's QEMU leads nowhere: it is resolved in the rootfs.
  mkdir -p "$bundle/rootfs/usr/bin"
  ln -s ../../../../../../../../usr/bin/qemu-system-x86_64 "$bundle/rootfs/usr/bin/qemu-kvm"
  add_hook "$bundle" "$(standin_config '.domain.strategy="emulator"')"
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"domain rewrite (emulator): no QEMU emulator to wrap in the image"* ]]
  # Nothing was mounted in the host's namespace.
  run grep -c l1vh-wrap /proc/self/mountinfo
  [ "$output" = 0 ]
}

@test "domain pieces: l1vh-wrap is static, l1vh-domxml.so needs no libc newer than 2.17" {
  run_logged readelf -d "$BUILD/l1vh-wrap"
  [[ $output != *NEEDED* ]]
  run_logged readelf -l "$BUILD/l1vh-wrap"
  [[ $output != *INTERP* ]]
  run_logged sh -c "objdump -T '$BUILD/l1vh-domxml.so' | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1"
  [ "$status" -eq 0 ]
  printf '%s\n' "$output" GLIBC_2.17 | sort -CV
}
