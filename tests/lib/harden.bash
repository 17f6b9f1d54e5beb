# Helpers for the hardening suites (80-hostile, 81-faults, 82-load,
# 83-privilege) and for checking the seccomp allow-list against what the
# real suites do.  Load after lib/helpers (the trace functions also work
# from plain bash: see docs/security.md).

# ---- strace of the hook ----

# A build directory whose l1vh-hook and l1vh-shim run the real ones under
# `strace -f`, one log per run in $2 (hook.PID, shim.PID); every other
# program is the real one.  Point a suite at it with BUILD=DIR: it then
# runs exactly as it does, traced.
harden_trace_build() {
  local dir=$1 logs=$2 real=${3:-$L1VH_TOP/${BUILD_REAL:-build}} f p
  mkdir -p "$dir" "$logs"
  for f in "$real"/*; do
    case $(basename "$f") in l1vh-hook | l1vh-shim) ;; *) ln -sfn "$f" "$dir/" ;; esac
  done
  # -b execve: the shim's own process ends by executing runc, which must
  # not stay traced (its init would keep strace, and so the caller, waiting).
  for p in hook shim; do
    printf '#!/bin/sh\nexec strace -f -b execve -qq -o "%s/%s.$$" -- "%s/l1vh-%s" "$@"\n' \
      "$logs" "$p" "$real" "$p" >"$dir/l1vh-$p"
    chmod 0755 "$dir/l1vh-$p"
  done
}

# Run the given suites with the hook traced, logs in $1.
harden_trace_suites() {
  local logs=$1 dir
  shift
  dir=$(mktemp -d /tmp/l1vh-trace-build.XXXXXX)
  harden_trace_build "$dir" "$logs"
  BUILD=$dir bats --tap "$@"
  rm -rf "$dir"
}

# What the process that loaded a filter did after it, in one strace -f
# log (the hook; the shim's editing child).
harden_after_filter() {
  awk '!pid && /seccomp\(SECCOMP_SET_MODE_FILTER, [^,]*, \{len=/ { pid = $1; next }
       pid && $1 == pid' "$1"
}

# The syscall names the hooks made after their filter, one per line,
# counted over the logs given (strace -o logs).
harden_syscalls_after_filter() {
  local f
  for f in "$@"; do
    harden_after_filter "$f"
  done | sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' | sort | uniq -c | sort -rn
}

# Syscalls after the filter that failed with EPERM, with their log, for
# the syscalls given as extended regexes in $HARDEN_EXPECTED_EPERM
# (a step that fails for lack of a capability) left out.
harden_eperm_after_filter() {
  local f
  for f in "$@"; do
    harden_after_filter "$f" | grep -- '= -1 EPERM' |
      grep -Ev -- "${HARDEN_EXPECTED_EPERM:-^$}" | sed "s|^|$f: |"
  done
}

# The hook's syscall allow-list as docs/security.md states it: the first
# column of the table rows between the two markers.
harden_documented_syscalls() {
  sed -n '/<!-- seccomp-list -->/,/<!-- \/seccomp-list -->/p' "$L1VH_TOP/docs/security.md" |
    sed -n 's/^| `\([a-z_0-9]*\)`.*/\1/p' | sort -u
}

# ---- a hook run wrapped by a test-only program ----

# Make the bundle's first prestart hook run "$@ $HOOK ARGS..." instead of
# the hook: a wrapper script (setpriv, strace, timeout) owned by the test.
harden_wrap_hook() {
  local bundle=$1 w
  shift
  w=$(mktemp "$BATS_TEST_TMPDIR/hook-wrap.XXXXXX")
  {
    echo '#!/bin/sh'
    printf 'exec'
    printf ' %q' "$@"
    printf ' %q "$@"\n' "$HOOK"
  } >"$w"
  chmod 0755 "$w"
  edit_spec "$bundle" ".hooks.prestart[0].path = \"$w\""
}

# ---- what the host must still look like ----

# The host's /dev, its mount table and the runtime's containers: what a
# hook run must never change.
harden_host_snapshot() {
  ls -la --time-style=+ /dev 2>/dev/null | grep -v ' pts$\| shm$'
  grep -c . /proc/self/mountinfo
  runc list -q 2>/dev/null | grep '^l1vh-test-' || true
}

# One line of output, starting with "l1vh-hook: container".
assert_one_line_error() {
  local out=$1
  [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] || {
    echo "expected one line, got:" >&2
    printf '%s\n' "$out" >&2
    return 1
  }
  [[ $out == "l1vh-hook: container "* ]] || { echo "not the hook's error line: $out" >&2; return 1; }
}

# ---- a compute container that plans every action ----

# A busybox compute container (uid 107) whose image has an "emulator" for
# the domain rewrite (a script printing its argv); its process prints
# "started", the node it sees, its MEMLOCK limit and what the emulator
# gets.  args (JSON) replaces that.
harden_bundle() {
  local bundle=$1 args=${2:-}
  [ -n "$args" ] || args="[\"/bin/sh\", \"-c\", \"echo started; stat -c 'node %t:%T %u' $STANDIN_DEVICE;
    grep 'Max locked' /proc/1/limits | tr -s ' '; /usr/bin/qemu-system-x86_64 -accel tcg\"]"
  make_bundle "$bundle" "$args"
  annotate_crio "$bundle" compute
  edit_spec "$bundle" '.process.user.uid=107 | .process.user.gid=107'
  mkdir -p "$bundle/rootfs/usr/bin"
  printf '#!/bin/sh\necho "args=$*"\n' >"$bundle/rootfs/usr/bin/qemu-system-x86_64"
  chmod 0755 "$bundle/rootfs/usr/bin/qemu-system-x86_64"
}

# Its node config: the stand-in device, memlock 4Mi, the emulator rewrite
# (tcg -> kvm), records and metrics in the test's directory.
harden_config() {
  write_config ".device.path=\"$STANDIN_DEVICE\"" '.domain.strategy="emulator"' \
    '.domain.type="kvm"' '.domain.accel="kvm"' '.memlock.when="always"' '.memlock.size="4Mi"' \
    ".state.dir=\"$BATS_TEST_TMPDIR/records\"" ".state.metrics=\"$BATS_TEST_TMPDIR/l1vh.prom\"" "$@"
}

# setup() of the suites that start it: sets bundle, id and cfg, with the
# hook registered as runc runs it.
harden_setup() {
  requires root runc jq
  command -v strace >/dev/null || l1vh_skip "needs strace"
  bundle=$BATS_TEST_TMPDIR/bundle
  harden_bundle "$bundle"
  id=$(container_id)
  cfg=$(harden_config)
  add_hook "$bundle" "$cfg"
}

# The container got everything: the node (owned by 107), the limit, the
# wrapped emulator.
assert_all_applied() {
  local out=$1 maj min
  maj=$(printf '%x' "0x$(stat -c %t "$STANDIN_DEVICE")")
  min=$(printf '%x' "0x$(stat -c %T "$STANDIN_DEVICE")")
  [[ $out == *started* ]] || { echo "the container did not start" >&2; return 1; }
  [[ $out == *"node $maj:$min 107"* ]] || { echo "no device node" >&2; return 1; }
  [[ $out == *"Max locked memory 4194304 4194304 bytes"* ]] || { echo "no memlock" >&2; return 1; }
  [[ $out == *"args=-accel kvm"* ]] || { echo "the emulator was not wrapped" >&2; return 1; }
}

# Nothing of container $1 (bundle $2) is left on the host: runc does not
# know it, no cgroup of its name on any hierarchy, no program of the hook
# attached anywhere, the image's files as they were.
assert_no_leftovers() {
  local id=$1 bundle=$2
  ! runc state "$id" >/dev/null 2>&1 || { echo "runc still has $id" >&2; return 1; }
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "$id" 2>/dev/null)" ] ||
    { echo "a cgroup of $id is left" >&2; return 1; }
  ! bpftool prog list 2>/dev/null | grep -q l1vh_devices || { echo "a device program is left" >&2; return 1; }
  [ -z "$(ls -A "$bundle/rootfs/dev")" ] || { echo "the image's /dev changed" >&2; return 1; }
  grep -qx 'echo "args=$\*"' "$bundle/rootfs/usr/bin/qemu-system-x86_64" ||
    { echo "the image's emulator changed" >&2; return 1; }
}
