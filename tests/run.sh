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

echo "# unit tests ($BUILD/unit-tests)"
count < <("$BUILD/unit-tests" 2>&1 || echo "not ok - unit-tests exited $?")

suites=(tests/*.bats)
if [ -n "${L1VH_TESTS:-}" ]; then suites=($L1VH_TESTS); fi
echo "# bats: ${suites[*]}"
count < <(bats --tap "${suites[@]}" 2>&1)

# The sanitizer build: the unit tests and the suites that feed the parsers.
if [ -n "${SAN_BUILD:-}" ]; then
  echo "# under ASan+UBSan ($SAN_BUILD)"
  count < <("$SAN_BUILD/unit-tests" 2>&1 || echo "not ok - unit-tests exited $?")
  count < <(BUILD=$SAN_BUILD bats --tap tests/10-dry-run.bats tests/20-hook-runc.bats 2>&1)
fi

if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
  echo "# CI=true: $skipped skipped tests count as failures"
  failed=$((failed + skipped)) skipped=0
fi
[ $((passed + failed)) -gt 0 ] || { echo "# no test ran"; failed=1; }
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
