#!/bin/bash
# Run every test: the C unit tests, then the bats suites, and close with one
# line "N passed, N failed, N skipped".  Under CI=true a skip counts as a
# failure (the unit runner and tests/lib/helpers.bash already do so).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD L1VH_TOP=$PWD

passed=0 failed=0 skipped=0
count() { # TAP on stdin -> counters
  local line
  while IFS= read -r line; do
    printf '%s\n' "$line"
    case $line in
    "ok "*"# skip"*) skipped=$((skipped + 1)) ;;
    "ok "*) passed=$((passed + 1)) ;;
    "not ok "*) failed=$((failed + 1)) ;;
    esac
  done
}

# What the host must look like after every suite: the tests run hooks as
# root against hostile rootfs, and none of it may reach the host's /dev or
# leave a mount behind.
host_snapshot() {
  ls -la --time-style=+ /dev 2>/dev/null | grep -v ' pts$\| shm$'
  stat -c '%n %i %t:%T %a' /dev/kvm 2>/dev/null
  grep -c . /proc/self/mountinfo
  ls /run/l1vh 2>/dev/null # decision records: tests keep theirs in their own dirs
  # no container, daemon or VM left running
  for p in 'runc init' containerd libvirtd virtlogd qemu-system-x86_64 conmon; do
    printf '%s: %s\n' "$p" "$(pgrep -c -f "^(/[^ ]*/)?$p( |\$)")"
  done
}
host_before=$(host_snapshot)

echo "# unit tests ($BUILD/unit-tests)"
count < <("$BUILD/unit-tests" 2>&1 || echo "not ok - unit-tests exited $?")

suites=(tests/*.bats)
# tests/51-domain-kvm.bats needs KVM to work.  Some machines have a /dev/kvm
# node with no driver behind it (a nested guest): there the KVM suite
# cannot show "KVM enabled", and tests/50-domain.bats proves the same
# mechanisms with stand-ins that need no KVM.
if ! (exec 3<>/dev/kvm) 2>/dev/null; then
  echo "# tests/51-domain-kvm.bats not run: /dev/kvm does not open on this machine (no KVM driver)"
  for i in "${!suites[@]}"; do
    [ "${suites[$i]}" != tests/51-domain-kvm.bats ] || unset 'suites[i]'
  done
fi
if [ -n "${L1VH_TESTS:-}" ]; then suites=($L1VH_TESTS); fi
echo "# bats: ${suites[*]}"
count < <(bats --tap "${suites[@]}" 2>&1)

# The sanitizer build: the unit tests and the suites that feed the parsers.
if [ -n "${SAN_BUILD:-}" ]; then
  echo "# under ASan+UBSan ($SAN_BUILD)"
  count < <("$SAN_BUILD/unit-tests" 2>&1 || echo "not ok - unit-tests exited $?")
  count < <(BUILD=$SAN_BUILD bats --tap tests/10-dry-run.bats tests/20-hook-runc.bats \
    tests/30-device.bats tests/40-memlock.bats tests/72-check.bats tests/73-status-metrics.bats 2>&1)
fi

if [ "$(host_snapshot)" = "$host_before" ]; then
  count <<<"ok - the host's /dev, mount table and process list are as before the suites"
else
  diff <(echo "$host_before") <(host_snapshot) | sed 's/^/# /'
  count <<<"not ok - the suites left something behind on the host (diff above)"
fi

if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
  echo "# CI=true: $skipped skipped tests count as failures"
  failed=$((failed + skipped)) skipped=0
fi
[ $((passed + failed)) -gt 0 ] || { echo "# no test ran"; failed=1; }
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
