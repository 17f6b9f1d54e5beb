#!/usr/bin/env bats
# Hostile and broken inputs to the hook, run as a runtime runs it (the state
# on stdin, a bundle on disk): deep nesting, huge strings and arrays,
# duplicate keys, numbers out of range, invalid UTF-8, NUL bytes, control
# characters, a bundle or config.json that is a symlink, a FIFO or a
# directory, a pid that is gone or is not the container's.  Each must end
# in one line on stderr and exit 1 (or, for a container l1vh does not
# handle, exit 0 and silence), within the timeout, without a crash, and
# with the host (its /dev, its mounts, pid 1) untouched.

load lib/helpers
load lib/harden

setup() {
  requires root jq
  bundle=$BATS_TEST_TMPDIR/bundle
  mkdir -p "$bundle/rootfs/dev"
  state=$BATS_TEST_TMPDIR/state.json
  id=$(container_id)
  host_before=$(harden_host_snapshot)
  pid1_limits=$(grep 'Max locked' /proc/1/limits)
  # A VM's compute container on a node with the gate on, the stand-in
  # device present and a memlock plan: every action is planned.
  cfg=$(write_config ".device.path=\"$STANDIN_DEVICE\"" '.domain.strategy="off"' \
    '.memlock.when="always"' '.memlock.size="4Mi"' ".state.dir=\"$BATS_TEST_TMPDIR/state\"")
  compute_spec
}

teardown() {
  [ -z "${sleeper:-}" ] || kill "$sleeper" 2>/dev/null || true
  # Nothing reached the host: its /dev, its mount table, pid 1's limit.
  [ "$(harden_host_snapshot)" = "$host_before" ]
  [ "$(grep 'Max locked' /proc/1/limits)" = "$pid1_limits" ]
  # nor the bundle's rootfs on the host (the hook works in the container's
  # namespace only)
  [ -z "$(ls -A "$bundle/rootfs/dev" 2>/dev/null)" ]
}

# A compute container's config.json, with jq edits.
compute_spec() {
  jq -n --arg root "$bundle/rootfs" '{ociVersion: "1.0.2", root: {path: $root},
    process: {user: {uid: 107, gid: 107}, args: ["/bin/sh"]},
    annotations: {"io.kubernetes.container.name": "compute",
      "io.kubernetes.pod.name": "virt-launcher-vm-abcde", "kubevirt.io/domain": "vm"}}' \
    >"$bundle/config.json"
  local f
  for f in "$@"; do edit_spec "$bundle" "$f"; done
}

# The state runc would send, with jq edits; pid defaults to one that
# cannot exist.
write_state() {
  jq -n --arg id "$id" --arg b "$bundle" '{ociVersion: "1.0.2", id: $id, status: "creating",
    pid: 4194304, bundle: $b}' >"$state"
  local f
  for f in "$@"; do jq "$f" "$state" >"$state.new" && mv "$state.new" "$state"; done
}

# Run the hook on $state (or the file given) as a runtime does, bounded.
hook() {
  run_logged timeout 20 "$HOOK" prestart --config "$cfg" <"${1:-$state}"
}

# Refused: exit 1, not a signal, not the timeout; one line on stderr (the
# hook writes nothing else) that contains $1.
refused() {
  [ "$status" -eq 1 ] || { echo "exit $status, expected 1" >&2; return 1; }
  assert_one_line_error "$output"
  [[ $output == *"$1"* ]] || { echo "the line does not say: $1" >&2; return 1; }
}

# ---- the state on stdin ----

@test "hostile state: nesting 100000 deep is refused before parsing" {
  { printf '{"id":"x","bundle":"/b","a":'; head -c 100000 /dev/zero | tr '\0' '['; } >"$state"
  hook
  refused "read state: state: JSON nested deeper than 64 levels"
}

@test "hostile state: 2 MiB on stdin is refused at the cap, a FIFO that never closes is not waited for beyond it" {
  { printf '{"id":"%s","bundle":"%s","x":"' "$id" "$bundle"; head -c 2097152 /dev/zero | tr '\0' a; printf '"}'; } >"$state"
  hook
  refused "state on stdin: larger than the limit of 1048576 bytes"
  # A writer that keeps the pipe open after 2 MiB: the hook stops reading
  # at the cap and answers, it does not wait for the end.
  mkfifo "$BATS_TEST_TMPDIR/stdin"
  { cat "$state"; sleep 60; } >"$BATS_TEST_TMPDIR/stdin" &
  sleeper=$!
  hook "$BATS_TEST_TMPDIR/stdin"
  refused "larger than the limit"
}

@test "hostile state: duplicate keys, a key given twice at any depth" {
  printf '{"id":"%s","bundle":"/tmp","id":"other"}' "$id" >"$state"
  hook
  refused 'duplicate key "id"'
  printf '{"id":"%s","bundle":"%s","annotations":{"a":"1","a":"2"}}' "$id" "$bundle" >"$state"
  hook
  refused 'duplicate key "a"'
}

@test "hostile state: numbers out of range for the pid" {
  local pid
  for pid in -1 4194305 1e30 99999999999999999999999 1.5 '"42"' true null '[1]'; do
    printf '{"id":"%s","bundle":"%s","pid":%s}' "$id" "$bundle" "$pid" >"$state"
    hook
    refused 'state: "pid" must be an integer from 0 to 4194304'
  done
}

@test "hostile state: invalid UTF-8, a raw NUL byte, a NUL escape, control characters" {
  printf '{"id":"\xff\xfe","bundle":"/b"}' >"$state"
  hook
  refused "read state: state: invalid JSON"
  printf '{"id":"a\0b","bundle":"/b"}' >"$state"
  hook
  refused "NUL byte in input"
  # An id that ends early and one with a terminal escape: the line shows
  # neither a raw escape nor a second line.
  printf '{"id":"\\u0000","bundle":"/b"}' >"$state"
  hook
  refused 'state: "id" must be non-empty and "bundle" absolute'
  printf '{"id":"\\u001b[31mred\\nl1vh-hook: forged","bundle":"relative"}' >"$state"
  hook
  refused 'state: "id" must be non-empty and "bundle" absolute'
  [[ $output != *$'\e'* ]]
}

@test "hostile state: a huge array and wrong types where strings belong" {
  { printf '{"id":"%s","bundle":"%s","x":[' "$id" "$bundle"; seq 1 50000 | paste -sd,; printf ']}'; } >"$state"
  # 50000 numbers fit the caps: parsed, ignored (not the hook's), and the
  # bundle's spec is what decides: a VM container, but no pid to act on.
  hook
  refused "apply: the state has no container pid"
  # 300000 fit the byte cap (1 MiB) but not the count of values: refused
  # before a tree of them is built.
  { printf '{"id":"%s","bundle":"%s","x":[' "$id" "$bundle"; yes 0 | head -n 300000 | paste -sd,; printf ']}'; } >"$state"
  hook
  refused "read state: state: JSON with more than 100000 values"
  printf '{"id":["x"],"bundle":"/b"}' >"$state"
  hook
  refused 'state: "id" must be a string, got array'
}

# ---- the bundle and its config.json ----

@test "hostile spec: deep nesting, 9 MiB, 4 million values, duplicate annotations, 5000 annotations" {
  write_state
  { printf '{"annotations":'; head -c 70000 /dev/zero | tr '\0' '['; } >"$bundle/config.json"
  hook
  refused "read spec: config.json: JSON nested deeper than 64 levels"
  head -c $((9 << 20)) /dev/zero | tr '\0' ' ' >"$bundle/config.json"
  hook
  refused "config.json is larger than the limit of 8388608 bytes"
  # Within the byte cap, 4 million values would be a 380 MB tree.
  { printf '{"x":['; yes 0 | head -n 4000000 | paste -sd,; printf ']}'; } >"$bundle/config.json"
  hook
  refused "read spec: config.json: JSON with more than 100000 values"
  # The runtime (Go) would see the last "kubevirt.io/domain", l1vh the
  # first: refused rather than read differently.
  printf '{"annotations":{"io.kubernetes.container.name":"compute","kubevirt.io/domain":"a","kubevirt.io/domain":"b"}}' \
    >"$bundle/config.json"
  hook
  refused 'duplicate key "kubevirt.io/domain"'
  jq -n '{annotations: ([range(5000)] | map({key: "k\(.)", value: "v"}) | from_entries)}' >"$bundle/config.json"
  hook
  refused "more than 4096 annotations"
}

@test "hostile spec: numbers out of range: uid, devices, rlimits" {
  write_state
  compute_spec '.process.user.uid = 4294967296'
  hook
  refused "process.user.uid must be an integer from 0 to 4294967294"
  compute_spec '.process.user.gid = -1'
  hook
  refused "process.user.gid must be an integer"
  compute_spec '.process.rlimits = [range(65) | {type: "RLIMIT_NOFILE", soft: 1, hard: 1}]'
  hook
  refused "more than 64 process.rlimits"
  compute_spec '.linux.devices = [range(4097) | {path: "/dev/x", type: "c", major: 1, minor: 3}]'
  hook
  refused "more than 4096 linux.devices"
}

@test "hostile spec: invalid UTF-8 and control characters in annotations" {
  write_state
  printf '{"annotations":{"io.kubernetes.container.name":"comp\xc3\x28ute"}}' >"$bundle/config.json"
  hook
  refused "read spec: config.json: invalid JSON"
  # A value the hook quotes in its error: escapes and newlines are shown
  # as '?', the line stays one line.
  compute_spec '.annotations["l1vh.kubevirt.io/hypervisor"] = "kvm\u001b]0;pwned\u0007\nl1vh-hook: container x: forged"'
  hook
  refused 'annotation l1vh.kubevirt.io/hypervisor: expected "kvm" or "hyperv", got "kvm?]0;pwned??l1vh-hook: container x: forged"'
  [[ $output != *$'\e'* && $output != *$'\a'* ]]
  # A NUL escape: l1vh's reader stops at it (Go's would not), so the value
  # reads as "bogus": refused the same way, one line.
  compute_spec '.annotations["l1vh.kubevirt.io/hypervisor"] = "bogus\u0000kvm"'
  hook
  refused 'got "bogus"'
}

@test "hostile spec: a container name with control characters is not a VM's: exit 0, silent" {
  write_state
  compute_spec '.annotations["io.kubernetes.container.name"] = "compute\n"'
  hook
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "hostile bundle: config.json that is a symlink (to a host file), a FIFO, a directory" {
  write_state
  rm "$bundle/config.json"
  ln -s /etc/shadow "$bundle/config.json"
  hook
  refused "open config.json: Too many levels of symbolic links"
  rm "$bundle/config.json"
  mkfifo "$bundle/config.json"
  hook # no writer: a blocking open would hang here
  refused "config.json is not a regular file"
  rm "$bundle/config.json"
  mkdir "$bundle/config.json"
  hook
  refused "config.json is not a regular file"
}

@test "hostile bundle: a bundle that is a FIFO, a file, missing, or a symlink to one of those" {
  mkfifo "$BATS_TEST_TMPDIR/fifo"
  write_state ".bundle = \"$BATS_TEST_TMPDIR/fifo\""
  hook
  refused "bundle $BATS_TEST_TMPDIR/fifo: Not a directory"
  write_state ".bundle = \"$bundle/config.json\""
  hook
  refused "Not a directory"
  write_state ".bundle = \"$BATS_TEST_TMPDIR/missing\""
  hook
  refused "No such file or directory"
  ln -s "$BATS_TEST_TMPDIR/fifo" "$BATS_TEST_TMPDIR/link"
  write_state ".bundle = \"$BATS_TEST_TMPDIR/link\""
  hook
  refused "Not a directory"
}

@test "hostile bundle: the bundle path is the runtime's and may be a symlink; config.json in it still is not followed" {
  # runc hands the hook an absolute bundle path it resolved itself; a
  # symlink there is the runtime's business (documented), a symlink for
  # config.json inside it is refused as anywhere.
  ln -s "$bundle" "$BATS_TEST_TMPDIR/bundle-link"
  write_state ".bundle = \"$BATS_TEST_TMPDIR/bundle-link\""
  compute_spec '.annotations["io.kubernetes.container.name"] = "web"'
  hook
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  mv "$bundle/config.json" "$BATS_TEST_TMPDIR/real.json"
  ln -s "$BATS_TEST_TMPDIR/real.json" "$bundle/config.json"
  hook
  refused "Too many levels of symbolic links"
}

# ---- the pid in the state ----

@test "hostile pid: gone (an exited process): one line, nothing done" {
  sh -c 'exit 0' &
  local gone=$!
  wait "$gone"
  write_state ".pid = $gone"
  hook
  refused "apply: open /proc/$gone/ns/mnt: No such file or directory"
  [[ $output != *inject* ]] # refused before the first action
}

@test "hostile pid: pid 1 (the host's init) is refused: no node, no limit, no cgroup rule" {
  write_state '.pid = 1'
  hook
  # Where pid 1 is a supervisor with more privileges than the runtime (as
  # on the test machines: it has CAP_SYS_RESOURCE, root here has not), the
  # kernel refuses even to show its namespace; elsewhere the hook sees
  # that it is the runtime's own.  Refused either way, before any action.
  if [[ $output == *"Permission denied"* ]]; then
    refused "apply: open /proc/1/ns/mnt: Permission denied"
  else
    refused "apply: pid 1 is in the runtime's own mount namespace: not a container being created"
  fi
  [[ $output != *inject* ]]
  # teardown checks pid 1's limit and the rootfs' /dev
}

@test "hostile pid: a process of the host (in the hook's mount namespace) is refused" {
  sleep 60 &
  sleeper=$!
  write_state ".pid = $sleeper"
  hook
  refused "apply: pid $sleeper is in the runtime's own mount namespace"
  ! grep 'Max locked' /proc/$sleeper/limits | grep -q '4194304 *4194304'
}

@test "hostile pid: a process in a mount namespace of its own but not this container's is refused" {
  unshare -m --propagation private sleep 60 &
  sleeper=$!
  # until unshare has become sleep, in its own namespace
  for _ in $(seq 50); do
    [ "$(readlink /proc/$sleeper/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && break
    sleep 0.1
  done
  write_state ".pid = $sleeper"
  # Only the memlock action (the spec lists the device, the runtime makes
  # it): the pid is checked before any action, not only on entering.
  read -r maj min < <(printf '%d %d\n' "0x$(stat -c %t "$STANDIN_DEVICE")" "0x$(stat -c %T "$STANDIN_DEVICE")")
  compute_spec ".linux.devices = [{path: \"$STANDIN_DEVICE\", type: \"c\", major: $maj, minor: $min}]"
  hook
  refused "rootfs $bundle/rootfs is not a mount in the mount namespace of pid $sleeper: not this container's init"
  # prlimit was not reached: its limit is not the planned 4Mi
  ! grep 'Max locked' /proc/$sleeper/limits | grep -q '4194304 *4194304'
}

@test "hostile pid: negative control: the same hook and state with a real container apply" {
  # The checks above refuse the pid, not everything: runc's own container
  # at prestart passes them and gets its limit.
  requires runc
  make_bundle "$bundle.real" '["/bin/sh", "-c", "grep \"Max locked\" /proc/self/limits"]'
  annotate_crio "$bundle.real"
  add_hook "$bundle.real" "$cfg"
  run_logged runc run --bundle "$bundle.real" "$id"
  runc delete -f "$id" >/dev/null 2>&1 || true
  [ "$status" -eq 0 ]
  [[ $(tr -s ' ' <<<"$output") == *"Max locked memory 4194304 4194304 bytes"* ]]
}
