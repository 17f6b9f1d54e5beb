#!/bin/bash
# l1vh at work (`make demo`): a virt-launcher-like container (runc, the
# host's libvirt daemon and QEMU; tests/lib/launcher.bash) whose spec has no
# /dev/kvm defines a 64 MiB domain as type='qemu', the way KubeVirt does
# without /dev/kvm, and l1vh makes it run accelerated.  Then the same with
# the gate off: TCG.
#
# Stand-ins, not fakes: /dev/kvm plays /dev/mshv, kvm plays hyperv / mshv.
# On a machine whose /dev/kvm does not work (a nested guest with a node but
# no driver) the stand-ins are those that do work there: /dev/fuse plays the
# device, and the xml rewrite turns a type='kvm' domain into the runnable
# type='qemu'; the emulator rewrite is then shown by QEMU itself refusing
# the accelerator it was handed, instead of quietly running on TCG.
# Needs root and Debian 12 with `make deps-test` done.  Exits non-zero when
# the evidence is not there.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
HOOK=$BUILD/l1vh-hook
# shellcheck source=tests/lib/launcher.bash
. tests/lib/launcher.bash

failed=0
work=
ids=()

say() { printf '%s\n' "$*"; }
head_() { printf '\n== %s\n' "$*"; }
bad() {
  printf '  !! %s\n' "$*"
  failed=1
}

cleanup() {
  local id
  for id in "${ids[@]}"; do launcher_delete "$id"; done
  [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT

preflight() {
  local c
  if [ "$(id -u)" -ne 0 ]; then
    say "demo: run as root (it starts runc containers)" >&2
    exit 2
  fi
  for c in runc jq virsh libvirtd qemu-system-x86_64 unshare; do
    command -v "$c" >/dev/null || { say "demo: $c missing: run make deps-test" >&2; exit 2; }
  done
  [ -x "$HOOK" ] && [ -x "$BUILD/l1vh-wrap" ] || { say "demo: build first (make)" >&2; exit 2; }
}

# KVM works: the issue's flow.  Otherwise the stand-ins that work here.
if (exec 3<>/dev/kvm) 2>/dev/null; then
  KVM=yes DEV=/dev/kvm
else
  KVM=no DEV=/dev/fuse
fi

# The node config: gate on, the stand-ins, qemu's uid 107 owns the device,
# and the memlock action on with a value this machine can grant.
# $3: the domain type to rewrite to (kvm, or qemu without KVM).
node_config() {
  jq -n --argjson gates "$1" --arg strategy "$2" --arg type "${3:-kvm}" --arg dev "$DEV" \
    --arg state "$work/state" '{
    featureGates: $gates,
    device: {path: $dev, uid: 107, gid: 107},
    domain: {strategy: $strategy, type: $type, accel: "kvm", rewrite: ["kvm", "qemu"]},
    memlock: {when: "always", size: "4Mi"},
    state: {dir: $state}}'
}

# One run: start the container under the hook, define and start the
# domain, print what a user would look at.  $3: expect KVM (yes|no), or
# "refused" (the rewritten accelerator reaches QEMU, which cannot use it);
# $4: the type the domain is defined as (default qemu, as KubeVirt does
# without /dev/kvm).
run_case() {
  local name=$1 config=$2 expect_kvm=$3 deftype=${4:-qemu} b=$work/$1 id="l1vh-demo-$$-$1" pid out
  launcher_bundle "$b"
  sed -i "s/<domain type='qemu'>/<domain type='$deftype'>/" "$b/launcher/dom.xml"
  launcher_hook "$b" "$HOOK" "$config"
  ids+=("$id")
  if ! launcher_start "$b" "$id"; then
    bad "the container did not start:"
    sed 's/^/     /' "$b/run.log"
    return
  fi
  launcher_wait "$id" || { bad "libvirt did not come up"; return; }
  say "  container $id started (its spec lists no $DEV); l1vh-hook ran at prestart"

  out=$(runc exec "$id" sh -c "ls -ln $DEV 2>&1")
  say "  device:   $out"
  out=$(runc exec --user 107:107 "$id" sh -c "test -e $DEV || { echo 'no $DEV in the container'; exit 1; }
    exec 3<>$DEV && echo \"uid \$(id -u) opened $DEV read-write\"" 2>&1)
  say "  open:     $out"
  if [ "$expect_kvm" != no ] && [[ $out != *"opened $DEV"* ]]; then
    bad "qemu's user cannot open the device"
  elif [ "$expect_kvm" = no ] && [[ $out == *"opened $DEV"* ]]; then
    bad "the device is there with the gate off"
  fi
  if runc exec "$id" test -e /dev/.l1vh/config; then
    say "  rewrite:  $(runc exec "$id" sh -c 'grep -E "^(emulator|daemon) " /dev/.l1vh/config | tr "\n" " "')(l1vh-wrap mounted over it)"
  fi

  out=$(runc exec "$id" sh -c 'grep "Max locked memory" /proc/$(cat /run/libvirtd.pid)/limits')
  say "  memlock:  libvirtd: $out"
  say "  virsh define dom.xml (<domain type='$deftype'>); virsh start"
  if ! out=$(launcher_define "$id" 2>&1); then
    if [ "$expect_kvm" = refused ] && [[ $out == *"-accel kvm"* ]]; then
      say "  qemu:     $(printf '%s' "$out" | grep -o 'qemu-system-x86_64: -accel kvm.*' | head -1)"
      say "  state:    $(launcher_virsh "$id" domstate "$LAUNCHER_VM") (the rewritten accelerator reached QEMU; no silent TCG)"
      return
    fi
    bad "the domain did not start: $(printf '%s' "$out" | tr '\n' ' ')"
    return
  fi
  [ "$expect_kvm" != refused ] || bad "the domain started although its accelerator cannot work here"
  out=$(launcher_virsh "$id" dumpxml "$LAUNCHER_VM" | head -1)
  say "  dumpxml:  $out"
  if [ "$expect_kvm" = no-kvm ] && [[ $out != "<domain type='qemu'"* ]]; then
    bad "expected the domain rewritten to type='qemu'"
  fi
  pid=$(launcher_qemu_pid "$id")
  out=$(launcher_qemu_cmdline "$id" | grep -o -- '-accel [^ ]*')
  say "  qemu:     pid $pid runs with $out"
  out=$(runc exec "$id" grep 'Max locked memory' "/proc/$pid/limits")
  say "  memlock:  qemu:     $out"
  out=$(launcher_info_kvm "$id")
  say "  info kvm: $out"
  if [ "$expect_kvm" = yes ] && [[ $out != *enabled* ]]; then
    bad "expected KVM enabled"
  elif [ "$expect_kvm" != yes ] && [[ $out != *disabled* ]]; then
    bad "expected TCG (KVM disabled)"
  fi
}

preflight
work=$(mktemp -d /tmp/l1vh-demo.XXXXXX)
launcher_bundle "$work/dry"

head_ "l1vh demo: libvirt $(libvirtd --version | awk '{print $NF}') and QEMU $(qemu-system-x86_64 --version | awk 'NR==1{print $4}') from this host, in a runc container"

on=$work/on.json xml=$work/xml.json off=$work/off.json
if [ "$KVM" = yes ]; then
  node_config '["HyperVL1VH"]' auto >"$on"
  node_config '["HyperVL1VH"]' xml >"$xml"
  say "node config (stand-ins: /dev/kvm for /dev/mshv, kvm for hyperv and mshv):"
else
  say "/dev/kvm does not open on this machine ($( (exec 3<>/dev/kvm) 2>&1 | sed 's/.*: //')): no KVM to show."
  say "Stand-ins that work here: $DEV for /dev/mshv, and for the xml rewrite a domain defined"
  say "as type='kvm' that l1vh turns into type='qemu', the type this machine can run."
  node_config '["HyperVL1VH"]' auto >"$on"
  node_config '["HyperVL1VH"]' xml qemu >"$xml"
  say "node config:"
fi
node_config '[]' auto >"$off"
jq -c . "$on" | sed 's/^/  /'

head_ "dry-run: the plan for this container"
launcher_dry_run "$work/dry" "$on" | sed 's/^/  /'

if [ "$KVM" = yes ]; then
  head_ "1. gate on, domain.strategy auto (libvirt 9.0 < 11.10: emulator)"
  run_case auto "$on" yes
  head_ "2. gate on, domain.strategy xml (the type is rewritten before libvirt defines the domain)"
  run_case xml "$xml" yes
else
  head_ "1. gate on, domain.strategy auto (libvirt 9.0 < 11.10: emulator): qemu gets -accel kvm"
  run_case auto "$on" refused
  head_ "2. gate on, domain.strategy xml: a type='kvm' domain, rewritten to type='qemu' before libvirt defines it"
  run_case xml "$xml" no-kvm kvm
fi
head_ "3. gate off: the container starts as without l1vh"
run_case off "$off" no

echo
if [ "$failed" -ne 0 ]; then
  say "demo: some evidence is missing (!! above)"
  exit 1
fi
if [ "$KVM" = yes ]; then
  say "demo: the domain defined as type='qemu' ran with KVM under l1vh, and on TCG without it"
else
  say "demo: l1vh injected the device, set the memlock limit and rewrote the domain before qemu started;"
  say "      with the gate off the container started as without l1vh"
fi
