#!/usr/bin/env bats
# l1vh-hook check on a good stand-in node (/dev/kvm for /dev/mshv) and on
# broken ones: the right line and the exit code for each.

load lib/helpers
load lib/operate

setup() {
  requires root jq
  hooks=$BATS_TEST_TMPDIR/hooks.d
  mkdir -p "$hooks"
  # The runtime configs check reads come from here, not from this machine.
  export L1VH_CHECK_ROOT=$BATS_TEST_TMPDIR/root
  mkdir -p "$L1VH_CHECK_ROOT"
}

# Register the hook under test in $hooks like make install does.
register_hook() {
  local path=${1:-$HOOK} f
  for f in l1vh.json l1vh-poststop.json; do
    sed "s|/usr/local/bin/l1vh-hook|$path|" "$L1VH_TOP/hooks.d/$f" >"$hooks/$f"
  done
}

node_config() {
  write_config ".runtime.hooksDirs=[\"$hooks\"]" "$@"
}

# A containerd config under $L1VH_CHECK_ROOT whose runtime handler names a shim.
register_shim() {
  local shim=/opt/l1vh/bin/l1vh-shim
  mkdir -p "$L1VH_CHECK_ROOT/etc/containerd" "$L1VH_CHECK_ROOT/etc/containerd/conf.d"
  printf 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n' >"$L1VH_CHECK_ROOT/etc/containerd/config.toml"
  printf '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.l1vh.options]\n  BinaryName = "%s"\n' "$shim" \
    >"$L1VH_CHECK_ROOT/etc/containerd/conf.d/l1vh.toml"
  if [ "${1:-}" != missing ]; then
    mkdir -p "$L1VH_CHECK_ROOT/opt/l1vh/bin"
    cp /bin/true "$L1VH_CHECK_ROOT$shim"
  fi
}

kvm_numbers() {
  stat -c '%t %T' /dev/kvm | { read -r ma mi; echo "$((16#$ma)):$((16#$mi))"; }
}

@test "check: a good stand-in node is ready: exit 0, device ok, misc a warning" {
  requires kvm
  register_hook
  cfg=$(node_config '.device.path="/dev/kvm"')
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 0 ]
  [[ $output == *"ok    config: $cfg parses"* ]]
  [[ $output == *"ok    gate: HyperVL1VH is on"* ]]
  [[ $output == *"ok    device: /dev/kvm is character device $(kvm_numbers)"* ]]
  # /dev/kvm is major 10 but (on this machine) not in /proc/misc: said so.
  if ! grep -qw kvm /proc/misc; then
    [[ $output == *'warn  misc: "kvm" is not in /proc/misc: a stand-in device'* ]]
  fi
  [[ $output == *"ok    hook: $hooks/l1vh.json runs $HOOK prestart"* ]]
  [[ $output == *"ok    poststop: a hooks.d entry runs $HOOK poststop"* ]]
  [[ $output == *"ok    cgroup: v"* ]]
  [[ ${lines[-1]} == ready ]]
  [[ $output != *"fail  "* ]]

  run_logged "$HOOK" check --config "$cfg" --json
  [ "$status" -eq 0 ]
  [ "$(jq -r .ok <<<"$output")" = true ]
  [ "$(jq -r '.checks[] | select(.name == "device") | .status' <<<"$output")" = ok ]
  [ "$(jq -r '[.checks[] | select(.status == "fail")] | length' <<<"$output")" = 0 ]
  [ "$(jq -r '.checks[] | select(.name == "misc") | .fix | length > 0' <<<"$output")" = true ]
}

@test "check: a device /proc/misc lists passes the misc check; a stale minor fails it" {
  # Any misc device of this machine that has its node: e.g. fuse 10:229.
  read -r minor name < <(while read -r mi na; do
    [ -c "/dev/$na" ] && [ "$(stat -c '%t:%T' "/dev/$na")" = "a:$(printf '%x' "$mi")" ] && { echo "$mi $na"; break; }
  done </proc/misc)
  [ -n "$name" ] || l1vh_skip "no /proc/misc device with a node in /dev"
  register_hook
  cfg=$(node_config ".device.path=\"/dev/$name\"")
  run_logged "$HOOK" check --config "$cfg"
  [[ $output == *"ok    misc: /proc/misc lists \"$name\" as minor $minor, as /dev/$name has"* ]]

  # The same name with another minor: a stale node (made in a temp dir).
  mkdir "$BATS_TEST_TMPDIR/dev"
  mknod "$BATS_TEST_TMPDIR/dev/$name" c 10 $((minor + 1))
  cfg=$(node_config ".device.path=\"$BATS_TEST_TMPDIR/dev/$name\"")
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  misc: /proc/misc lists \"$name\" as minor $minor, $BATS_TEST_TMPDIR/dev/$name is 10:$((minor + 1)); fix: "*"is a stale node"* ]]
}

@test "check: an mshv node without the mshv driver fails misc and open" {
  grep -qw mshv /proc/misc && l1vh_skip "this machine has the mshv driver"
  register_hook
  mkdir "$BATS_TEST_TMPDIR/dev"
  mknod "$BATS_TEST_TMPDIR/dev/mshv" c 10 250
  cfg=$(node_config ".device.path=\"$BATS_TEST_TMPDIR/dev/mshv\"")
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *'fail  misc: "mshv" is not in /proc/misc: the mshv driver is not loaded'*"fix: load the driver: modprobe mshv_root"* ]]
  [[ $output == *"fail  open: no driver answers behind $BATS_TEST_TMPDIR/dev/mshv"* ]]
}

@test "check: no device: fail with the gate on, a warning with it off" {
  register_hook
  cfg=$(node_config '.device.path="/dev/l1vh-test-absent"')
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  device: /dev/l1vh-test-absent: No such file or directory; fix: on an L1VH VM load the mshv_root driver"* ]]
  [[ ${lines[-1]} == "not ready: fix the lines marked fail" ]]

  cfg=$(node_config '.device.path="/dev/l1vh-test-absent"' '.featureGates=[]')
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 0 ]
  [[ $output == *"warn  gate: HyperVL1VH is off"* ]]
  [[ $output == *"warn  device: /dev/l1vh-test-absent: No such file or directory"* ]]
}

@test "check: wrong type: a regular file, a directory, a non-misc character device" {
  register_hook
  echo x >"$BATS_TEST_TMPDIR/mshv"
  cfg=$(node_config ".device.path=\"$BATS_TEST_TMPDIR/mshv\"")
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  device: $BATS_TEST_TMPDIR/mshv is a regular file, not a character device"* ]]

  cfg=$(node_config '.device.path="/dev/shm"')
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  device: /dev/shm is a directory, not a character device"* ]]

  cfg=$(node_config '.device.path="/dev/null"')
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  device: /dev/null is character device 1:3, not a misc device (major 10)"* ]]
}

@test "check: a broken config: fail naming the key, the rest checked with the defaults" {
  register_hook
  cfg=$BATS_TEST_TMPDIR/broken.json
  echo '{"featureGates": ["HyperVL1VH"], "device": {"path": 7}}' >"$cfg"
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  config: config $cfg: device.path: expected a string, got number; fix: correct $cfg"* ]]
  [[ $output == *"warn  gate: unknown: the config does not parse"* ]]
  [[ $output == *"device: /dev/mshv"* ]]

  echo '{"featureGates": [' >"$cfg"
  run_logged "$HOOK" check --config "$cfg" --json
  [ "$status" -eq 1 ]
  [ "$(jq -r '.checks[] | select(.name == "config") | .status' <<<"$output")" = fail ]
  [ "$(jq -r .ok <<<"$output")" = false ]
}

@test "check: hook not registered: fail for the hook and for the shim" {
  requires kvm
  cfg=$(node_config '.device.path="/dev/kvm"')
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  hook: no hooks.d entry in $hooks runs $HOOK; fix: install hooks.d/l1vh.json"* ]]
  [[ $output == *"fail  shim: no runtime handler names l1vh-shim in $L1VH_CHECK_ROOT/etc/containerd/config.toml"* ]]
  [[ $output != *"poststop:"* ]]

  # Registered, but for another binary (a stale install).
  register_hook /usr/bin/true
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  hook: $hooks/l1vh.json runs /usr/bin/true, not this binary $HOOK; fix: run the installed binary's check (/usr/bin/true check)"* ]]

  # A broken hooks.d file is named; prestart without poststop is a warning.
  register_hook
  rm "$hooks/l1vh-poststop.json"
  echo '{' >"$hooks/zz-broken.json"
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 0 ]
  [[ $output == *"warn  hooks.d: hooks directory $hooks: "*"zz-broken.json"* ]]
  [[ $output == *"warn  poststop: no hooks.d entry runs $HOOK poststop"* ]]
}

@test "check: registered through the shim only (containerd handler in an import)" {
  requires kvm
  register_shim
  cfg=$(node_config '.device.path="/dev/kvm"')
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 0 ]
  [[ $output == *"ok    shim: $L1VH_CHECK_ROOT/etc/containerd/conf.d/l1vh.toml: a runtime handler runs /opt/l1vh/bin/l1vh-shim"* ]]
  [[ $output == *"warn  hook: no hooks.d entry"* ]]

  rm "$L1VH_CHECK_ROOT/opt/l1vh/bin/l1vh-shim"
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 1 ]
  [[ $output == *"fail  shim: $L1VH_CHECK_ROOT/etc/containerd/conf.d/l1vh.toml names /opt/l1vh/bin/l1vh-shim, which is not an executable file"* ]]

  # CRI-O's runtime handler drop-in, as node-setup.sh crio --handler writes it.
  rm -r "$L1VH_CHECK_ROOT/etc/containerd"
  "$L1VH_TOP/scripts/node-setup.sh" crio --root "$L1VH_CHECK_ROOT" --handler --shim /opt/l1vh/bin/l1vh-shim
  cp /bin/true "$L1VH_CHECK_ROOT/opt/l1vh/bin/l1vh-shim"
  run_logged "$HOOK" check --config "$cfg"
  [ "$status" -eq 0 ]
  [[ $output == *"ok    shim: $L1VH_CHECK_ROOT/etc/crio/crio.conf.d/99-l1vh.conf: a runtime handler runs /opt/l1vh/bin/l1vh-shim"* ]]
}

@test "check: cgroup v2 without the shim warns that the device rule is not durable" {
  requires kvm cgroup2
  register_hook
  cfg=$(node_config '.device.path="/dev/kvm"')
  # A private mount namespace with a pure cgroup2 hierarchy (testbed.md).
  v2() {
    unshare -m sh -c 'mount --make-rprivate / && umount -l /sys/fs/cgroup &&
      mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh "$@"
  }
  run_logged v2 "$HOOK" check --config "$cfg"
  [ "$status" -eq 0 ]
  [[ $output == *"ok    cgroup: v2 (unified)"* ]]
  [[ $output == *"warn  durable: cgroup v2 without the shim: the hook's eBPF device rule is lost"* ]]

  register_shim
  run_logged v2 "$HOOK" check --config "$cfg"
  [ "$status" -eq 0 ]
  [[ $output == *"ok    durable: cgroup v2 with the shim"* ]]

  # Negative control: the host's own (hybrid v1) view says v1.
  run_logged "$HOOK" check --config "$cfg"
  [[ $output == *"ok    cgroup: v1"* ]]
}
