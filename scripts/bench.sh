#!/bin/bash
# l1vh's costs (`make bench`), measured on this machine, never asserted:
#
#   1. the hook for a container it does not handle (every container of the
#      node pays this): l1vh-hook prestart on a non-VM spec, against an
#      exec of /bin/true fed the same state (the floor of any hook);
#   2. a whole container start through runc: no hook, the hook on a
#      non-VM container, the hook applying device + memlock to a VM one;
#   3. the shim's pass-through (a call it does not edit), against runc
#      called directly and against one plain extra execve (env(1)).
#
# Each figure is the median of BENCH_N runs (default 200; container starts:
# BENCH_N/4), after a warm-up.  Needs root and `make deps-test` done.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
N=${BENCH_N:-200}
STARTS=$((N / 4 > 5 ? N / 4 : 5))

BATS_TEST_TMPDIR=$(mktemp -d /tmp/l1vh-bench.XXXXXX)
work=$BATS_TEST_TMPDIR
ids=()
cleanup() {
  local id
  for id in "${ids[@]}"; do runc delete -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
L1VH_TOP=$PWD
# shellcheck source=tests/lib/helpers.bash
. tests/lib/helpers.bash

# Wall time of one run of "$@" in microseconds (bash's clock: no fork).
time_us() {
  local t0=${EPOCHREALTIME/./} t1
  "$@" >/dev/null 2>&1 || return 1
  t1=${EPOCHREALTIME/./}
  echo $((t1 - t0))
}

# The median of the numbers on stdin.  The median, not the mean: a nested
# guest's scheduler adds rare long stalls.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Median over n runs of "$@", stdin from $in, after a warm-up run.
median_us() {
  local n=$1 in=$2 i
  shift 2
  "$@" <"$in" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; return 1; }
  for ((i = 0; i < n; i++)); do time_us "$@" <"$in"; done >"$work/times"
  median <"$work/times"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '  %-58s %8s us  %s\n' "$1" "$2" "${3:-}"; }

# ---- 1. the hook, for a container it does not handle ----
cfg=$(write_config ".device.path=\"$STANDIN_DEVICE\"" '.domain.strategy="off"' \
  '.memlock.when="always"' '.memlock.size="4Mi"' ".state.metrics=\"$work/l1vh.prom\"")
make_bundle "$work/web"
annotate_crio "$work/web" web
printf '{"ociVersion":"1.0.2","id":"bench","status":"creating","pid":%d,"bundle":"%s"}' \
  $$ "$work/web" >"$work/state.json"
floor=$(median_us "$N" "$work/state.json" /bin/true)
other=$(median_us "$N" "$work/state.json" "$BUILD/l1vh-hook" prestart --config "$cfg")
echo "1. the hook for a container it does not handle ($N runs each)"
row "exec /bin/true (the floor of any hook)" "$floor"
row "l1vh-hook prestart, a pod's other container" "$other" "+$((other - floor)) us over the floor"

# ---- 2. whole container starts through runc ----
start_us() { # bundle -> median of runc run (create, start, wait, delete) over $STARTS runs
  local bundle=$1 i id
  : >"$work/times"
  for ((i = 0; i < STARTS; i++)); do
    id=l1vh-bench-$$-$((n_start++))
    ids+=("$id")
    time_us runc run --bundle "$bundle" "$id" </dev/null >>"$work/times" || {
      echo "bench: runc run of $bundle failed" >&2
      return 1
    }
  done
  median <"$work/times"
}
make_bundle "$work/plain"
annotate_crio "$work/plain" compute
make_bundle "$work/vm"
annotate_crio "$work/vm" compute
edit_spec "$work/vm" '.process.user.uid=107 | .process.user.gid=107'
add_hook "$work/vm" "$cfg"
add_hook "$work/web" "$cfg"
# runc's own cost of running a hook: /bin/true at the same two stages.
make_bundle "$work/true"
annotate_crio "$work/true" web
edit_spec "$work/true" '.hooks = {prestart: [{path: "/bin/true"}], poststop: [{path: "/bin/true"}]}'
n_start=0
start_us "$work/plain" >/dev/null # warm-up: page cache, runc's own
start_us "$work/plain" >"$work/r" && plain=$(<"$work/r")
start_us "$work/true" >"$work/r" && truehooks=$(<"$work/r")
start_us "$work/web" >"$work/r" && web=$(<"$work/r")
start_us "$work/vm" >"$work/r" && vm=$(<"$work/r")
echo "2. a container start through runc (runc run of /bin/true, $STARTS starts each)"
row "no hook" "$plain"
row "/bin/true at prestart and poststop (runc running hooks)" "$truehooks" "+$((truehooks - plain)) us"
row "the hook, a container it does not handle" "$web" "+$((web - truehooks)) us over /bin/true hooks"
row "the hook, a VM container: device and memlock applied" "$vm" "+$((vm - truehooks)) us over /bin/true hooks"

# ---- 3. the shim's pass-through ----
export L1VH_CONFIG=$cfg
: >"$work/empty"
direct=$(median_us "$N" "$work/empty" runc --version)
hop=$(median_us "$N" "$work/empty" env runc --version)
shim=$(median_us "$N" "$work/empty" "$BUILD/l1vh-shim" --version)
mkdir -p "$work/runc-root"
direct_list=$(median_us "$N" "$work/empty" runc --root "$work/runc-root" list)
shim_list=$(median_us "$N" "$work/empty" "$BUILD/l1vh-shim" --root "$work/runc-root" list)
echo "3. the shim passing a call through to runc ($N runs each)"
row "runc --version" "$direct"
row "env runc --version (one extra execve)" "$hop" "$(ratio "$hop" "$direct")x runc"
row "l1vh-shim --version" "$shim" "$(ratio "$shim" "$direct")x runc, $(ratio "$shim" "$hop")x the extra execve"
row "runc list" "$direct_list"
row "l1vh-shim list" "$shim_list" "$(ratio "$shim_list" "$direct_list")x runc"
