#!/usr/bin/env bats
# The parsers under libFuzzer (tests/fuzz/README.md), a short run in CI:
# every target replays its seeds and the inputs kept in
# tests/fuzz/regressions/, then fuzzes for FUZZ_CI_SECONDS (3) each.
# `make fuzz FUZZ_SECONDS=N` is the long run.

load lib/helpers

FUZZ_MAKE=(make --no-print-directory -C "$L1VH_TOP")

setup() {
  command -v clang >/dev/null || l1vh_skip "needs clang (make deps-test installs it)"
}

@test "fuzz: every target replays its seeds and regressions, then fuzzes without a finding" {
  run_logged "${FUZZ_MAKE[@]}" fuzz-ci
  [ "$status" -eq 0 ]
  # one line per target, and the total
  [ "$(grep -c '^fuzz [a-z_]*: [0-9]* executions in .*no finding$' <<<"$output")" -eq 8 ]
  grep '^fuzz: [0-9]* executions over 8 targets, no finding$' <<<"$output" | sed 's/^/# /' >&3
}

@test "fuzz: negative control: a target with a bug is caught by the replay and by the fuzzing" {
  # A stand-in target that crashes on "boom" and leaks on "leak", built and
  # run by the same script the real ones use.
  local b=$BATS_TEST_TMPDIR/fuzz
  mkdir -p "$b" "$BATS_TEST_TMPDIR/regressions/boom"
  cat >"$BATS_TEST_TMPDIR/boom.c" <<'EOF'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
  if (n >= 4 && memcmp(d, "boom", 4) == 0)
    abort();
  if (n >= 4 && memcmp(d, "leak", 4) == 0)
    (void) !malloc(16);
  return 0;
}
EOF
  clang -g -fsanitize=fuzzer,address -o "$b/fuzz_boom" "$BATS_TEST_TMPDIR/boom.c"
  printf 'boom' >"$BATS_TEST_TMPDIR/regressions/boom/crash-1"
  run_logged env FUZZ_BUILD="$b" FUZZ_REGRESSIONS="$BATS_TEST_TMPDIR/regressions" \
    "$L1VH_TOP/tests/fuzz/run.sh" replay boom
  [ "$status" -ne 0 ]
  [[ $output == *"fuzz boom: replay FAILED"* ]]
  printf 'leak' >"$BATS_TEST_TMPDIR/regressions/boom/crash-1"
  run_logged env FUZZ_BUILD="$b" FUZZ_REGRESSIONS="$BATS_TEST_TMPDIR/regressions" \
    "$L1VH_TOP/tests/fuzz/run.sh" replay boom
  [ "$status" -ne 0 ]
  [[ $output == *"LeakSanitizer"* ]]
  # and fuzzing from nothing finds the crash and keeps the input
  rm "$BATS_TEST_TMPDIR/regressions/boom/crash-1"
  run_logged env FUZZ_BUILD="$b" FUZZ_REGRESSIONS="$BATS_TEST_TMPDIR/regressions" \
    "$L1VH_TOP/tests/fuzz/run.sh" fuzz 30 boom
  [ "$status" -ne 0 ]
  [[ $output == *"fuzz boom: FINDING, input in $b/artifacts/boom/"* ]]
  ls "$b/artifacts/boom/" | grep -q .
}
