#!/usr/bin/env bats
# Faults during a real start (runc, a compute container that plans every
# action: device node, cgroup rule, memlock, domain mounts, record):
#  - the hook killed by SIGKILL at each step (strace's fault injection,
#    `-e inject=SYSCALL:signal=SIGKILL`, on the first or Nth call);
#  - the runtime's hook timeout firing while the hook waits (a metrics lock
#    held by someone else), and `timeout` on a hook whose stdin never ends;
#  - the device replaced between the decision and the action (strace delays
#    the decision's stat, the test swaps the node meanwhile);
#  - the container's cgroup gone, its init gone, mid-run;
#  - a read-only state directory.
# A killed or failed hook must stop the start, and nothing may stay on the
# host: runc forgets the container, its cgroups go, no device program stays
# attached, no mount or node appears on the host, the image is unchanged.

load lib/helpers
load lib/harden
load lib/device # in_cgroup2

setup() {
  harden_setup
  host_before=$(harden_host_snapshot)
}

teardown() {
  [ -z "${holder:-}" ] || kill "$holder" 2>/dev/null || true
  [ -z "${sleeper:-}" ] || kill "$sleeper" 2>/dev/null || true
  runc delete -f "$id" >/dev/null 2>&1 || true
  # every test: the host's /dev and mount table as they were
  [ "$(harden_host_snapshot)" = "$host_before" ]
}

# Run the start with the hook under strace: inject SYSCALL WHEN SIGNAL.
start_faulted() {
  local syscall=$1 when=$2
  harden_wrap_hook "$bundle" strace -f -qq -o "$BATS_TEST_TMPDIR/strace.log" \
    -e inject="$syscall:signal=SIGKILL:when=$when"
  run_logged runc run --bundle "$bundle" "$id"
}

# The start failed because the hook was killed, before the process ran.
assert_stopped_by_kill() {
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  [[ $output == *"error running hook"* ]]
  grep -q 'killed by SIGKILL' "$BATS_TEST_TMPDIR/strace.log"
}

@test "faults: negative control: the same start, unfaulted, applies everything and counts it" {
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  assert_all_applied "$output"
  grep -qx 'l1vh_plans_applied_total 1' "$BATS_TEST_TMPDIR/l1vh.prom"
}

@test "faults: killed at each step, the container does not start and nothing stays on the host" {
  # step: syscall and which call of it (strace -e inject ... when=N)
  local faults=(
    "capset 1"      # the first thing: dropping privileges
    "seccomp 1"     # the plan is known, the filter goes on
    "setns 1"       # entering the container's mount namespace
    "mknodat 1"     # making the node
    "fchownat 1"    # the node made, not yet given to 107
    "setns 2"       # back to the host's namespace
    "openat2 2"     # opening the container's device cgroup
    "prlimit64 2"   # the cgroup rule written, setting the limit
    "open_tree 1"   # the domain step begins
    "move_mount 2"  # the domain's tmpfs attached in the container
    "renameat 1"    # everything applied, writing the record
  )
  local f n=0
  for f in "${faults[@]}"; do
    runc delete -f "$id" >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    start_faulted $f
    assert_stopped_by_kill
    assert_no_leftovers "$id" "$bundle"
    [ "$(harden_host_snapshot)" = "$host_before" ]
    n=$((n + 1))
  done
  echo "# $n faults injected" >&3
  # The record: a killed write leaves at most its temporary file (pruned
  # by a later run), never a record that says "applied".
  ! grep -qs '"outcome":"applied"' "$BATS_TEST_TMPDIR"/records/*.json
}

@test "faults: killed after the eBPF program was swapped (cgroup v2): the program goes with the cgroup" {
  requires bpftool cgroup2
  harden_wrap_hook "$bundle" strace -f -qq -o "$BATS_TEST_TMPDIR/strace.log" \
    -e inject="prlimit64:signal=SIGKILL:when=2"
  run_logged in_cgroup2 runc run --bundle "$bundle" "$id"
  assert_stopped_by_kill
  grep -q 'BPF_PROG_ATTACH.*= 0' "$BATS_TEST_TMPDIR/strace.log" # it was swapped
  in_cgroup2 runc delete -f "$id" >/dev/null 2>&1 || true
  ! in_cgroup2 runc state "$id" >/dev/null 2>&1
  ! bpftool prog list | grep -q l1vh_devices
}

@test "faults: the runtime's hook timeout kills a hook that waits (metrics lock held): no start, no leftovers" {
  # Someone holds the metrics file's lock: the hook applies everything and
  # then waits for the lock; runc's timeout (1 s) kills it there.
  edit_spec "$bundle" '.hooks.prestart[0].timeout = 1'
  flock "$BATS_TEST_TMPDIR/l1vh.prom.lock" sleep 60 &
  holder=$!
  sleep 0.2
  run_logged runc run --bundle "$bundle" "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"hook ran past specified timeout of 1.0s"* ]]
  [[ $output != *started* ]]
  assert_no_leftovers "$id" "$bundle"
}

@test "faults: a hook whose stdin never ends is ended by timeout, having done nothing" {
  mkfifo "$BATS_TEST_TMPDIR/stdin"
  sleep 60 >"$BATS_TEST_TMPDIR/stdin" &
  sleeper=$!
  run_logged timeout -s KILL 2 "$HOOK" prestart --config "$cfg" <"$BATS_TEST_TMPDIR/stdin"
  [ "$status" -eq 137 ]
  [ ! -e "$BATS_TEST_TMPDIR/records" ]
}

# The decision's stat of the device is delayed 4 s (strace); meanwhile the
# test changes what the host's device path is, in a private mount namespace
# (the host's /dev stays as it is).  CHANGE: a shell snippet run there.
start_with_device_change() {
  local change=$1 real
  real=$(readlink -f "$HOOK")
  mknod "$BATS_TEST_TMPDIR/node-a" c "$(printf '%d' "0x$(stat -c %t "$STANDIN_DEVICE")")" \
    "$(printf '%d' "0x$(stat -c %T "$STANDIN_DEVICE")")"
  harden_wrap_hook "$bundle" strace -qq -o /dev/null -P "$STANDIN_DEVICE" \
    -e inject=newfstatat:delay_exit=4s:when=1
  run_logged unshare -m --propagation private sh -c '
    mount --bind "$1" "$2" || exit 1
    ( for i in $(seq 100); do pgrep -f "^$3 prestart --config $4" >/dev/null && break; sleep 0.1; done
      sleep 1; eval "$5" ) &
    runc run --bundle "$6" "$7"' sh "$BATS_TEST_TMPDIR/node-a" "$STANDIN_DEVICE" "$real" "$cfg" \
    "$change" "$bundle" "$id"
}

@test "faults: the device replaced between decision and action (a new minor): refused, no leftovers" {
  # A module reload gives the device a new dynamic minor.
  mknod "$BATS_TEST_TMPDIR/node-b" c 10 250
  start_with_device_change "mount --bind '$BATS_TEST_TMPDIR/node-b' '$STANDIN_DEVICE'"
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  [[ $output == *"host $STANDIN_DEVICE changed since the decision: 10:250, planned 10:"* ]]
  assert_no_leftovers "$id" "$bundle"
}

@test "faults: the device gone between decision and action (not a device any more): refused" {
  touch "$BATS_TEST_TMPDIR/not-a-device"
  start_with_device_change "mount --bind '$BATS_TEST_TMPDIR/not-a-device' '$STANDIN_DEVICE'"
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  [[ $output == *"host $STANDIN_DEVICE is a regular file, not a character device"* ]]
  assert_no_leftovers "$id" "$bundle"
}

@test "faults: negative control: the same delay without a change applies everything" {
  start_with_device_change true
  [ "$status" -eq 0 ]
  assert_all_applied "$output"
}

# The hook is held 3 s after making the node (strace delays mknodat's
# return); meanwhile ACTION runs with the container's init pid in $pid,
# read from the hook's own open of /proc/PID/ns/mnt.
start_with_init_action() {
  local action=$1 log=$BATS_TEST_TMPDIR/strace.log
  harden_wrap_hook "$bundle" strace -qq -o "$log" -e inject=mknodat:delay_exit=3s:when=1
  ( for i in $(seq 100); do
      pid=$(sed -n 's|.*"/proc/\([0-9]*\)/ns/mnt".*|\1|p' "$log" 2>/dev/null | head -n1)
      [ -n "$pid" ] && break
      sleep 0.1
    done
    sleep 0.3
    eval "$action" ) &
  run_logged runc run --bundle "$bundle" "$id"
}

@test "faults: the container's cgroup gone mid-run (its init moved out, the cgroup removed): refused" {
  [ -d /sys/fs/cgroup/devices ] || l1vh_skip "needs the cgroup v1 devices hierarchy (runc uses it here)"
  # The hook then finds the init in the root devices cgroup, whose rules
  # are the whole node's: it must not write there.
  start_with_init_action 'cg=$(sed -n "s/^[0-9]*:devices://p" /proc/$pid/cgroup);
    echo $pid >/sys/fs/cgroup/devices/cgroup.procs; rmdir /sys/fs/cgroup/devices$cg'
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  [[ $output == *"is in the root cgroup of /sys/fs/cgroup/devices: not a container's cgroup, not changing it"* ]]
  # The root cgroup allows all (a); nothing was added to it.
  [ "$(cat /sys/fs/cgroup/devices/devices.list)" = "a *:* rwm" ]
  assert_no_leftovers "$id" "$bundle"
}

@test "faults: the container's init killed mid-run: the start fails, nothing stays" {
  start_with_init_action 'kill -KILL $pid'
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  assert_no_leftovers "$id" "$bundle"
}

@test "faults: a read-only state directory: the record is lost, the start is not" {
  # state.dir and state.metrics on a read-only bind mount, in a private
  # mount namespace: a record write is never worth a failed VM start.
  local ro=$BATS_TEST_TMPDIR/ro
  mkdir -p "$ro"
  cfg=$(harden_config ".state.dir=\"$ro/l1vh\"" ".state.metrics=\"$ro/l1vh.prom\"")
  add_hook "$bundle" "$cfg"
  run_logged unshare -m --propagation private sh -c '
    mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && touch "$1/probe" 2>/dev/null && exit 9
    exec runc run --bundle "$2" "$3"' sh "$ro" "$bundle" "$id"
  [ "$status" -eq 0 ]
  assert_all_applied "$output"
  [ -z "$(ls -A "$ro")" ]
}
