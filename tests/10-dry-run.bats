#!/usr/bin/env bats
# l1vh-hook's CLI and dry-run: the decision for realistic bundles, and a
# one-line error with an exit code for every bad input.

load lib/helpers

setup() {
  requires jq
  gate_on=$(write_config ".device.path=\"$STANDIN_DEVICE\"")
}

# A bundle dir holding the fixture's config.json with edits applied.
fixture_bundle() {
  local name=$1 filter=${2:-.} dir=$BATS_TEST_TMPDIR/$1-$RANDOM
  mkdir -p "$dir/rootfs"
  jq "$filter | .root.path=\"rootfs\"" "$FIXTURES/bundles/$name/config.json" >"$dir/config.json"
  echo "$dir"
}

dry_run_json() {
  run_logged "$HOOK" dry-run --json "$@"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e . >/dev/null
}

@test "help and version" {
  run_logged "$HOOK" --help
  [ "$status" -eq 0 ]
  [[ $output == *"dry-run --bundle DIR"* ]]
  run_logged "$HOOK" --version
  [[ $output == "l1vh-hook "* ]]
}

@test "usage errors exit 2 with one line" {
  run_logged "$HOOK"
  [ "$status" -eq 2 ]
  run_logged "$HOOK" frobnicate
  [ "$status" -eq 2 ]
  [[ $output == *'unknown command "frobnicate"'* ]]
  run_logged "$HOOK" dry-run
  [ "$status" -eq 2 ]
  run_logged "$HOOK" dry-run --bundle
  [ "$status" -eq 2 ]
  run_logged "$HOOK" dry-run --bundle x --bogus
  [ "$status" -eq 2 ]
}

@test "CRI-O compute container with the gate on: the plan applies" {
  b=$(fixture_bundle crio-compute)
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '.match == true and .apply == true and .device.inject == true
    and .device.path == $ENV.STANDIN_DEVICE and .device.uid == 107 and .device.gid == 107
    and .vm == "testvm" and .container == "compute" and (.reason | length > 0)
    and (.memlock.set | type == "boolean") and has("domain") and (.domain.rewrite | type == "boolean")'
}

@test "containerd compute container matches by sandbox name" {
  b=$(fixture_bundle containerd-compute)
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '.match and .apply and .pod == "virt-launcher-testvm-x7k2p"'
}

@test "gate off (default config): empty plan, says why" {
  b=$(fixture_bundle crio-compute)
  dry_run_json --bundle "$b" --config /nonexistent/l1vh.json
  echo "$output" | jq -e '.match and (.apply | not) and (.device.inject | not)
    and (.memlock.set | not) and (.domain.rewrite | not)'
  echo "$output" | jq -e '.reason | test("feature gate HyperVL1VH is off")'
}

@test "L1VH_CONFIG selects the config when --config is absent" {
  b=$(fixture_bundle crio-compute)
  L1VH_CONFIG=$gate_on run_logged "$HOOK" dry-run --json --bundle "$b"
  echo "$output" | jq -e '.apply'
}

@test "no device on the host: empty plan naming the path" {
  b=$(fixture_bundle crio-compute)
  cfg=$(write_config '.device.path="/dev/l1vh-test-absent"')
  dry_run_json --bundle "$b" --config "$cfg"
  echo "$output" | jq -e '(.apply | not) and (.reason | test("no /dev/l1vh-test-absent on the host"))'
}

@test "a device path that is not a character device: empty plan" {
  b=$(fixture_bundle crio-compute)
  cfg=$(write_config '.device.path="/etc/hostname"')
  dry_run_json --bundle "$b" --config "$cfg"
  echo "$output" | jq -e '(.apply | not) and (.reason | test("not a character device"))'
}

@test "other containers of a virt-launcher pod do not match" {
  b=$(fixture_bundle crio-volumecontainerdisk)
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '(.match | not) and (.reason | test("volumecontainerdisk"))'
}

@test "pause containers never match" {
  b=$(fixture_bundle crio-compute '.annotations["io.kubernetes.cri-o.ContainerType"]="sandbox"')
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '(.match | not) and (.reason | test("sandbox"))'
  b=$(fixture_bundle containerd-compute '.annotations["io.kubernetes.cri.container-type"]="sandbox"')
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '(.match | not)'
}

@test "a non-KubeVirt pod with a container named compute does not match" {
  b=$(fixture_bundle crio-compute 'del(.annotations["kubevirt.io/domain"]) | .annotations["io.kubernetes.pod.name"]="web-7d9f"')
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '(.match | not) and (.reason | test("not a virt-launcher pod"))'
  b=$(fixture_bundle containerd-compute '.annotations["io.kubernetes.cri.sandbox-name"]="web-7d9f"')
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '(.match | not)'
}

@test "a VM that opted out gets the fallback" {
  b=$(fixture_bundle crio-compute '.annotations["l1vh.kubevirt.io/hypervisor"]="kvm"')
  dry_run_json --bundle "$b" --config "$gate_on"
  echo "$output" | jq -e '.match and (.apply | not) and (.reason | test("opted out"))'
}

@test "image allow-list narrows the match" {
  b=$(fixture_bundle crio-compute)
  cfg=$(write_config ".device.path=\"$STANDIN_DEVICE\"" '.match.imageRegex="^registry\\.example/"')
  dry_run_json --bundle "$b" --config "$cfg"
  echo "$output" | jq -e '(.match | not) and (.reason | test("imageRegex"))'
  cfg=$(write_config ".device.path=\"$STANDIN_DEVICE\"" '.match.imageRegex="^quay\\.io/kubevirt/virt-launcher:"')
  dry_run_json --bundle "$b" --config "$cfg"
  echo "$output" | jq -e '.apply'
}

@test "states from runc, crun and the legacy bundlePath form" {
  b=$(fixture_bundle crio-compute)
  for s in runc crun legacy-bundlePath; do
    sed "s|\"BUNDLE\"|\"$b\"|" "$FIXTURES/states/$s.json" >"$BATS_TEST_TMPDIR/$s.json"
    dry_run_json --state "$BATS_TEST_TMPDIR/$s.json" --config "$gate_on"
    echo "$output" | jq -e '.apply'
  done
}

@test "human output says what and why" {
  b=$(fixture_bundle crio-compute)
  run_logged "$HOOK" dry-run --bundle "$b" --config "$gate_on"
  [ "$status" -eq 0 ]
  [[ $output == *"match: yes"* ]]
  [[ $output == *"plan: apply"* ]]
  [[ $output == *"device: inject"* ]]
}

@test "bad inputs: one line on stderr and exit 1, never a crash" {
  good=$(fixture_bundle crio-compute)
  mkdir -p "$BATS_TEST_TMPDIR/empty"
  broken=$BATS_TEST_TMPDIR/broken && mkdir -p "$broken" && echo '{"annotations": {' >"$broken/config.json"
  wrongtype=$BATS_TEST_TMPDIR/wrongtype && mkdir -p "$wrongtype" && echo '{"annotations": {"a": 1}}' >"$wrongtype/config.json"
  huge=$BATS_TEST_TMPDIR/huge && mkdir -p "$huge" && head -c 9000000 /dev/zero | tr '\0' ' ' >"$huge/config.json"
  link=$BATS_TEST_TMPDIR/link && mkdir -p "$link" && ln -s "$good/config.json" "$link/config.json"
  badcfg=$BATS_TEST_TMPDIR/bad.json && echo '{"featureGates": ["HyperVL1VH"], "devcie": {}}' >"$badcfg"
  badstate=$BATS_TEST_TMPDIR/state.json && echo '{"id": "x"}' >"$badstate"

  for args in "--bundle /nonexistent" "--bundle $BATS_TEST_TMPDIR/empty" "--bundle $broken" \
    "--bundle $wrongtype" "--bundle $huge" "--bundle $link" \
    "--bundle $good --config $badcfg" "--state $badstate" "--state /nonexistent.json" \
    "--bundle $good --config /etc"; do
    run_logged "$HOOK" dry-run $args
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == "l1vh-hook: dry-run: "* ]]
  done
  run_logged "$HOOK" dry-run --bundle "$good" --config "$badcfg"
  [[ $output == *"config $badcfg: unknown key \"devcie\""* ]]
}
