#!/bin/sh
# Run the libFuzzer targets built by tests/fuzz/rules.mk.
#   run.sh replay TARGET...           every seed and regression input once
#   run.sh fuzz SECONDS TARGET...     replay, then fuzz each target SECONDS
# Prints one line per target and a total; exits non-zero on a finding.
set -eu
cd "$(dirname "$0")/../.."
B=${FUZZ_BUILD:-build-fuzz}
FIX=${FUZZ_FIXTURES:-../shared/fixtures}
REG=${FUZZ_REGRESSIONS:-tests/fuzz/regressions}

mode=$1
shift
secs=0
if [ "$mode" = fuzz ]; then
  secs=$1
  shift
fi

dict_of() {
  case $1 in
  xmltype) echo tests/fuzz/dict/xml.dict ;;
  accel) echo tests/fuzz/dict/accel.dict ;;
  quantity) echo tests/fuzz/dict/quantity.dict ;;
  *) echo tests/fuzz/dict/json.dict ;;
  esac
}

# The seeds of a target, into dir: the hand-made ones, and the fixtures
# and repository files of its kind.
seed() {
  t=$1 dir=$2
  mkdir -p "$dir"
  if [ -d "tests/fuzz/seeds/$t" ]; then cp tests/fuzz/seeds/"$t"/* "$dir"/ 2>/dev/null || true; fi
  case $t in
  state) cp "$FIX"/states/*.json "$dir"/ 2>/dev/null || true ;;
  config) cp config/config.json "$dir/repo-config.json" 2>/dev/null || true ;;
  hooksd) for f in hooks.d/*.json; do cp "$f" "$dir/repo-$(basename "$f")"; done ;;
  shim_edit) for f in "$FIX"/bundles/*/config.json; do
      [ -f "$f" ] && cp "$f" "$dir/fixture-$(basename "$(dirname "$f")").json"
    done ;;
  spec) # the first byte picks the config (tests/fuzz/fuzz_spec.c)
    for f in "$FIX"/bundles/*/config.json; do
      [ -f "$f" ] || continue
      for b in 000 001 002 004 010 020; do
        { printf "\\$b"; cat "$f"; } >"$dir/fixture-$(basename "$(dirname "$f")")-$b.json"
      done
    done ;;
  esac
}

targets=$*
total=0
for t in $targets; do
  bin=$B/fuzz_$t
  seeds=$B/seeds/$t
  rm -rf "$seeds"
  seed "$t" "$seeds"
  # Replay: every seed and every kept crash, once.
  set --
  for f in "$seeds"/* "$REG/$t"/*; do
    [ -f "$f" ] && set -- "$@" "$f"
  done
  n=$#
  if [ "$n" -gt 0 ] && ! "$bin" -runs=1 "$@" >"$B/replay-$t.log" 2>&1; then
    tail -n 30 "$B/replay-$t.log" >&2
    echo "fuzz $t: replay FAILED (log: $B/replay-$t.log)" >&2
    exit 1
  fi
  if [ "$mode" = replay ]; then
    echo "fuzz $t: replayed $n inputs (seeds and regressions), no finding"
    continue
  fi
  corpus=$B/corpus/$t
  mkdir -p "$corpus" "$B/artifacts/$t"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$(dict_of "$t")" -artifact_prefix="$B/artifacts/$t/" "$corpus" "$seeds" \
    >"$B/fuzz-$t.log" 2>&1; then
    tail -n 40 "$B/fuzz-$t.log" >&2
    echo "fuzz $t: FINDING, input in $B/artifacts/$t/ (log: $B/fuzz-$t.log)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz-$t.log")
  size=$(ls "$corpus" | wc -l)
  total=$((total + ${runs:-0}))
  echo "fuzz $t: ${runs:-0} executions in ${secs}s, $n seeds replayed, corpus $size inputs, no finding"
done
if [ "$mode" = fuzz ]; then
  echo "fuzz: $total executions over $(echo "$targets" | wc -w) targets, no finding"
fi
