#!/usr/bin/env bats
# l1vh-shim with runc (and a recording stand-in runtime): pass-through,
# the spec it writes for a compute container, its errors, hooks.d.

load lib/helpers
load lib/device
load lib/containerd

setup_file() {
  build_probe
}

setup() {
  requires root runc jq
  bundle=$BATS_TEST_TMPDIR/bundle
  id=$(container_id)
  root=$BATS_TEST_TMPDIR/runc-root
  rec=$BATS_TEST_TMPDIR/rec
}

teardown() {
  runc --root "$root" delete -f "$id" >/dev/null 2>&1 || true
  runc delete -f "$id" >/dev/null 2>&1 || true
}

# A node config for these tests: the device under test, no domain rewrite
# (busybox has no libvirt), memlock 4Mi for every compute container, no
# hooks.d directories (the host's own stay out of the tests), and the jq
# assignments given.
shim_config() {
  write_config ".device.path=\"$DEVICE\"" '.domain.strategy="off"' '.memlock.when="always"' \
    '.memlock.size="4Mi"' '.runtime.hooksDirs=[]' "$@"
}

# A config whose runtime is the recording stand-in.
fake_config() {
  local fake
  fake=$(fake_runtime "$rec")
  shim_config ".runtime.path=[\"$fake\"]" "$@"
}

# ---- pass-through ----

@test "pass-through: --version, features, state, kill, delete answer as runc does" {
  make_bundle "$bundle" '["/bin/sleep", "60"]'
  # the container's stdio must not be bats' pipes, or `run` waits for it
  runc --root "$root" create --bundle "$bundle" "$id" </dev/null >/dev/null 2>&1
  export L1VH_CONFIG=$BATS_TEST_TMPDIR/none.json

  for cmd in "--version" "features" "--root $root state $id" "--root $root state nosuch-$id" \
    "--root $root list"; do
    # shellcheck disable=SC2086
    run "$SHIM" $cmd
    local shim_status=$status shim_output=$output
    # shellcheck disable=SC2086
    run runc $cmd
    echo "# $cmd: shim $shim_status, runc $status" >&2
    [ "$shim_status" -eq "$status" ]
    # runc's messages carry a time stamp: compare without it
    [ "$(sed 's/time="[^"]*"//' <<<"$shim_output")" = "$(sed 's/time="[^"]*"//' <<<"$output")" ]
  done

  run_logged "$SHIM" --root "$root" kill "$id" KILL
  [ "$status" -eq 0 ]
  for _ in $(seq 50); do
    [ "$(runc --root "$root" state "$id" | jq -r .status)" = stopped ] && break
    sleep 0.1
  done
  run_logged "$SHIM" --root "$root" delete "$id"
  [ "$status" -eq 0 ]
  run runc --root "$root" state "$id"
  [ "$status" -ne 0 ]
  [[ $output == *"does not exist"* ]]
}

@test "pass-through: argv, environment and open fds reach the runtime unchanged" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config)
  run_logged env SHIM_TEST_VAR=kept "$SHIM" --root /r --log /tmp/x.log --log-format json \
    state "id with space" 7</dev/null
  [ "$status" -eq 0 ]
  [[ $output == "fake runtime ran" ]]
  # argv[0] is the runtime's own path, the rest is ours, in order
  diff <(printf '%s\n' "$BATS_TEST_TMPDIR/fake-runc" --root /r --log /tmp/x.log --log-format json \
    state "id with space") "$rec.argv"
  grep -qx SHIM_TEST_VAR=kept "$rec.env"
  grep -qx "L1VH_CONFIG=$L1VH_CONFIG" "$rec.env"
  grep -qx 7 "$rec.fds"
  # nothing of the shim's own is left open: the same fds as a direct call
  mv "$rec.fds" "$rec.fds.shim"
  "$BATS_TEST_TMPDIR/fake-runc" state x 7</dev/null
  diff "$rec.fds" "$rec.fds.shim"
}

@test "pass-through: a container that is not compute keeps its spec byte for byte" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config)
  device_bundle "$bundle"
  annotate_crio "$bundle" virt-launcher-sidecar
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/before.json"
  run_logged "$SHIM" create --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  cmp "$BATS_TEST_TMPDIR/before.json" "$bundle/config.json"
  cmp "$BATS_TEST_TMPDIR/before.json" "$rec.spec"
}

@test "pass-through: the shim installed as runc on PATH does not call itself" {
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  ln -s "$SHIM" "$BATS_TEST_TMPDIR/bin/runc"
  export L1VH_CONFIG=$BATS_TEST_TMPDIR/none.json
  run_logged env PATH="$BATS_TEST_TMPDIR/bin:$PATH" timeout 10 "$BATS_TEST_TMPDIR/bin/runc" --version
  [ "$status" -eq 0 ]
  [ "$output" = "$(runc --version)" ]
}

@test "pass-through: no runtime to be found is one clear error" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(shim_config '.runtime.path=["/nonexistent/runc", "no-such-runtime"]')
  run_logged "$SHIM" --log "$BATS_TEST_TMPDIR/log.json" --log-format json state x
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "l1vh-shim: no runtime found: tried /nonexistent/runc, no-such-runtime"* ]]
  jq -e '.level == "error" and (.msg | startswith("no runtime found"))' "$BATS_TEST_TMPDIR/log.json"
}

# ---- create: the plan in the spec ----

@test "create: a compute container through the shim opens the device as 107 with memlock 4Mi" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(shim_config)
  device_bundle "$bundle" "[\"/bin/sh\", \"-c\", \"id -u; /bin/kvm-probe $DEVICE;
    grep 'Max locked' /proc/self/limits | tr -s ' '\"]"
  run_logged "$SHIM" run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == 107 ]]
  local host
  host=$("$PROBE" "$DEVICE" | head -n1)
  [ -n "$host" ]
  [[ $output == *"$host"* ]]
  [[ $output == *"Max locked memory 4194304 4194304 bytes"* ]]
  validate_spec "$bundle/config.json"
}

@test "create: negative control: the same container through runc alone has neither" {
  device_bundle "$bundle" "[\"/bin/sh\", \"-c\", \"id -u; /bin/kvm-probe $DEVICE;
    grep 'Max locked' /proc/self/limits | tr -s ' '\"]"
  run_logged runc run --bundle "$bundle" "$id"
  [[ $output == *"open ENOENT"* ]]
  [[ $output != *"Max locked memory 4194304 4194304 bytes"* ]]
}

@test "create: the spec gets exactly the plan; the rest stays, in order" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config)
  device_bundle "$bundle"
  # members no runtime knows, a big number and a float, and a listed
  # RLIMIT_MEMLOCK that the plan replaces
  edit_spec "$bundle" '.process.rlimits += [{"type": "RLIMIT_MEMLOCK", "hard": 65536, "soft": 65536}]'
  # (sed: jq would turn the big number into a float)
  sed -i 's/^{/{"x-vendor":{"z":1,"a":[1.5,18446744073709551615]},/' "$bundle/config.json"
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/before.json"
  run_logged "$SHIM" create --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  cmp "$bundle/config.json" "$rec.spec"
  validate_spec "$bundle/config.json"
  read -r maj min < <(device_numbers)
  local after=$bundle/config.json
  jq -e --arg d "$DEVICE" --argjson maj "$maj" --argjson min "$min" '
    (.linux.devices | map(select(.path == $d)) == [{"path": $d, "type": "c", "major": $maj,
      "minor": $min, "fileMode": 432, "uid": 107, "gid": 107}]) and
    (.linux.resources.devices[-1] == {"allow": true, "type": "c", "major": $maj, "minor": $min,
      "access": "rw"}) and
    (.process.rlimits | map(select(.type == "RLIMIT_MEMLOCK")) == [{"type": "RLIMIT_MEMLOCK",
      "hard": 4194304, "soft": 4194304}])' "$after"
  # Take the plan out again: what is left is the spec as it was, member
  # order included (jq -c keeps the order).
  diff <(jq -c 'del(.process.rlimits[] | select(.type == "RLIMIT_MEMLOCK"))' \
    "$BATS_TEST_TMPDIR/before.json") \
    <(jq -c --arg d "$DEVICE" '.linux.devices |= map(select(.path != $d)) |
      .linux.resources.devices |= .[:-1] | if .linux.devices == [] then del(.linux.devices) else . end |
      del(.process.rlimits[] | select(.type == "RLIMIT_MEMLOCK"))' "$after")
  grep -q '^{"x-vendor":{"z":1,"a":\[1.5,18446744073709551615\]},' "$after"
  # mode and owner of the file are kept
  [ "$(stat -c '%a %u %g' "$after")" = "$(stat -c '%a %u %g' "$BATS_TEST_TMPDIR/before.json")" ]
}

@test "create: with the domain rewrite planned, runc runs the hook entry with only its own env" {
  # runtime.hook names a recording stand-in for l1vh-hook: what runc hands
  # it is what the real hook would get
  local hook=$BATS_TEST_TMPDIR/rec-hook
  cat >"$hook" <<EOF
#!/bin/sh
{ echo "args: \$*"; env | sort | sed 's/^/env: /'; echo "state: \$(cat)"; } >>"$rec.hook"
EOF
  chmod +x "$hook"
  export L1VH_CONFIG
  L1VH_CONFIG=$(shim_config '.domain.strategy="xml"' ".runtime.hook=\"$hook\"")
  device_bundle "$bundle" '["/bin/true"]'
  run_logged "$SHIM" run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  validate_spec "$bundle/config.json"
  # prestart and poststop, with the shim's config passed on as --config
  [ "$(grep -c '^args: ' "$rec.hook")" -eq 2 ]
  grep -qx "args: prestart --config $L1VH_CONFIG" "$rec.hook"
  grep -qx "args: poststop --config $L1VH_CONFIG" "$rec.hook"
  # its environment is the entry's env, nothing of the shim's or runc's
  [ "$(grep '^env: ' "$rec.hook" | grep -v '^env: PWD=' | sort -u)" = "env: PATH=/usr/sbin:/usr/bin:/sbin:/bin" ]
  grep -q "^state: .*\"id\":\"$id\"" "$rec.hook"
}

@test "create: negative control: without the rewrite planned there is no hook entry" {
  local hook=$BATS_TEST_TMPDIR/rec-hook
  printf '#!/bin/sh\necho ran >>"%s"\n' "$rec.hook" >"$hook"
  chmod +x "$hook"
  export L1VH_CONFIG
  L1VH_CONFIG=$(shim_config ".runtime.hook=\"$hook\"")
  device_bundle "$bundle" '["/bin/true"]'
  run_logged "$SHIM" run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [ ! -e "$rec.hook" ]
  [ "$(jq '.hooks // {} | length' "$bundle/config.json")" -eq 0 ]
}

@test "create: every bundle form the callers use is understood" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config)
  device_bundle "$bundle"
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/pristine.json"
  local form
  for form in "--bundle B" "--bundle=B" "-b B" "-bundle B" "-bB" "CWD" "ID --bundle B"; do
    cp "$BATS_TEST_TMPDIR/pristine.json" "$bundle/config.json"
    rm -f "$rec.spec"
    case $form in
    CWD) (cd "$bundle" && "$SHIM" --root /r create --pid-file /dev/null "$id") ;;
    "ID --bundle B") "$SHIM" create "$id" --bundle "$bundle" ;;
    *) # shellcheck disable=SC2086
      "$SHIM" --log /dev/null create ${form//B/$bundle} "$id" ;;
    esac
    echo "# $form" >&2
    jq -e --arg d "$DEVICE" '.linux.devices | any(.path == $d)' "$rec.spec"
  done
}

@test "create: a negative control for the forms: another subcommand leaves the spec alone" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config)
  device_bundle "$bundle"
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/before.json"
  run_logged "$SHIM" exec --bundle "$bundle" "$id" true
  [ "$status" -eq 0 ]
  cmp "$BATS_TEST_TMPDIR/before.json" "$bundle/config.json"
}

# ---- errors ----

@test "errors: a broken config stops a compute container: one line, runc's log format, no runtime" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config '.device.bogus=1')
  device_bundle "$bundle"
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/before.json"
  run_logged "$SHIM" --root /r --log "$BATS_TEST_TMPDIR/log.json" --log-format json \
    create --bundle "$bundle" "$id"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "l1vh-shim: container ${id:0:12}: read config: "*'unknown key "device.bogus"'* ]]
  # the runtime was not called, the spec not touched
  [ ! -e "$rec.argv" ]
  cmp "$BATS_TEST_TMPDIR/before.json" "$bundle/config.json"
  # what containerd reads from --log: one JSON line, level error
  [ "$(wc -l <"$BATS_TEST_TMPDIR/log.json")" -eq 1 ]
  jq -e --arg m "${output#l1vh-shim: }" '.level == "error" and .msg == $m and
    (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))' \
    "$BATS_TEST_TMPDIR/log.json"

  # --log-format text (or none): logrus' text form
  rm -f "$BATS_TEST_TMPDIR/log.txt"
  run "$SHIM" --log "$BATS_TEST_TMPDIR/log.txt" create --bundle "$bundle" "$id"
  [ "$status" -eq 1 ]
  grep -Eq '^time="[^"]+" level=error msg="container .*read config: .*device\.bogus' \
    "$BATS_TEST_TMPDIR/log.txt"
}

@test "errors: the same broken config lets other containers start untouched" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config '.device.bogus=1')
  device_bundle "$bundle"
  annotate_crio "$bundle" sidecar
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/before.json"
  run_logged "$SHIM" create --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *"fake runtime ran"* ]]
  cmp "$BATS_TEST_TMPDIR/before.json" "$rec.spec"
}

@test "errors: a spec with a key twice stops the compute container, the file unchanged" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config)
  device_bundle "$bundle"
  # runc would take the last "linux", l1vh's reader the first: refused
  jq -c . "$bundle/config.json" | sed 's/^{/{"linux":{"resources":{}},/' >"$BATS_TEST_TMPDIR/dup.json"
  cp "$BATS_TEST_TMPDIR/dup.json" "$bundle/config.json"
  run_logged "$SHIM" --log "$BATS_TEST_TMPDIR/log.json" --log-format json create --bundle "$bundle" "$id"
  [ "$status" -eq 1 ]
  [ ! -e "$rec.argv" ]
  cmp "$BATS_TEST_TMPDIR/dup.json" "$bundle/config.json"
  [ "$(jq -r .level "$BATS_TEST_TMPDIR/log.json")" = error ]
  ! ls "$bundle"/.config.json.l1vh-* 2>/dev/null
}

@test "errors: onError warn lets the compute container start without l1vh" {
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config '.onError="warn"')
  device_bundle "$bundle"
  # a malformed per-VM annotation makes the decision fail
  edit_spec "$bundle" '.annotations["l1vh.kubevirt.io/hypervisor"] = "vmware"'
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/before.json"
  run_logged "$SHIM" create --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *"onError warn"* ]]
  cmp "$BATS_TEST_TMPDIR/before.json" "$rec.spec"
  # and without warn, the same container does not start
  L1VH_CONFIG=$(fake_config)
  rm -f "$rec.argv"
  run_logged "$SHIM" create --bundle "$bundle" "$id"
  [ "$status" -eq 1 ]
  [ ! -e "$rec.argv" ]
}

# ---- hooks.d ----

# A hooks.d hook that records its stage and the container id in $2.
marker_hook() {
  local dir=$1 name=$2 when=$3 marker
  marker=$BATS_TEST_TMPDIR/marker-${name%.json}
  mkdir -p "$dir"
  cat >"$BATS_TEST_TMPDIR/${name%.json}.sh" <<EOF
#!/bin/sh
echo "\$1 \$(jq -r .id)" >>"$marker"
EOF
  chmod +x "$BATS_TEST_TMPDIR/${name%.json}.sh"
  cat >"$dir/$name" <<EOF
{"version": "1.0.0",
 "hook": {"path": "$BATS_TEST_TMPDIR/${name%.json}.sh", "args": ["marker", "hooked"],
          "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
 "when": $when,
 "stages": ["prestart", "poststop"]}
EOF
}

@test "hooks.d: registered hooks run for the containers they match, in name order" {
  local d1=$BATS_TEST_TMPDIR/usr-hooks d2=$BATS_TEST_TMPDIR/etc-hooks
  marker_hook "$d1" 20-vm.json '{"annotations": {"^kubevirt\\.io/domain$": "."}}'
  marker_hook "$d1" 10-all.json '{"always": true}'
  marker_hook "$d1" 30-none.json '{"always": true}'
  # the later directory masks 30-none.json; a broken file is reported
  mkdir -p "$d2"
  echo '{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"always": false}, "stages": ["prestart"]}' \
    >"$d2/30-none.json"
  echo '{"version": "1.0.0"' >"$d2/40-broken.json"
  # the l1vh-hook's own hooks.d files: the shim adds that hook itself
  local f
  for f in "$L1VH_TOP"/hooks.d/*.json; do
    sed "s|/usr/local/bin/l1vh-hook|$HOOK|" "$f" >"$d1/$(basename "$f")"
  done
  export L1VH_CONFIG
  L1VH_CONFIG=$(shim_config ".runtime.hooksDirs=[\"$d1\", \"$d2\"]")

  device_bundle "$bundle" '["/bin/true"]'
  run_logged "$SHIM" run --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  [[ $output == *"40-broken.json: invalid JSON"* ]]
  [ "$(grep -c 40-broken <<<"$output")" -eq 1 ]
  validate_spec "$bundle/config.json"
  # order: 10-all before 20-vm, both stages; 30-none masked; l1vh.json left out
  [ "$(jq -c '[.hooks.prestart[].path | split("/")[-1]]' "$bundle/config.json")" = '["10-all.sh","20-vm.sh"]' ]
  [ "$(jq -c '[.hooks.poststop[].path | split("/")[-1]]' "$bundle/config.json")" = '["10-all.sh","20-vm.sh"]' ]
  [ "$(cat "$BATS_TEST_TMPDIR/marker-10-all")" = "hooked $id"$'\n'"hooked $id" ]
  [ "$(cat "$BATS_TEST_TMPDIR/marker-20-vm")" = "hooked $id"$'\n'"hooked $id" ]
  [ ! -e "$BATS_TEST_TMPDIR/marker-30-none" ]

  # a container the annotation hook does not match gets only 10-all
  make_bundle "$bundle-2" '["/bin/true"]'
  run_logged "$SHIM" run --bundle "$bundle-2" "$id-2"
  [ "$status" -eq 0 ]
  runc delete -f "$id-2" >/dev/null 2>&1 || true
  [ "$(grep -c "$id-2" "$BATS_TEST_TMPDIR/marker-10-all")" -eq 2 ]
  ! grep -q "$id-2" "$BATS_TEST_TMPDIR/marker-20-vm"
}

@test "hooks.d: nothing registered matches, the spec stays byte for byte" {
  local d=$BATS_TEST_TMPDIR/hooks
  marker_hook "$d" 20-vm.json '{"annotations": {"^kubevirt\\.io/domain$": "."}}'
  export L1VH_CONFIG
  L1VH_CONFIG=$(fake_config ".runtime.hooksDirs=[\"$d\"]")
  make_bundle "$bundle" '["/bin/true"]'
  cp "$bundle/config.json" "$BATS_TEST_TMPDIR/before.json"
  run_logged "$SHIM" create --bundle "$bundle" "$id"
  [ "$status" -eq 0 ]
  cmp "$BATS_TEST_TMPDIR/before.json" "$rec.spec"
}

# ---- podman (the containers stack CRI-O shares) ----

@test "podman: --runtime l1vh-shim gives the compute container the device and the memlock limit" {
  requires podman
  local rootfs=$BATS_TEST_TMPDIR/rootfs cmd
  make_rootfs "$rootfs"
  cp "$PROBE" "$rootfs/bin/kvm-probe"
  cmd="id -u; /bin/kvm-probe $DEVICE; grep 'Max locked' /proc/self/limits | tr -s ' '"
  local ann=(--user 107:107 --annotation io.kubernetes.container.name=compute
    --annotation io.kubernetes.pod.name=virt-launcher-testvm-abcde
    --annotation kubevirt.io/domain=testvm --rootfs "$rootfs" /bin/sh -c "$cmd")

  podman_shim "$SHIM" "$(shim_config)" "${ann[@]}"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == 107 ]]
  local host
  host=$("$PROBE" "$DEVICE" | head -n1)
  [ -n "$host" ]
  [[ $output == *"$host"* ]]
  [[ $output == *"Max locked memory 4194304 4194304 bytes"* ]]

  # negative control: runc itself as podman's runtime
  podman_shim runc "$(shim_config)" "${ann[@]}"
  [[ $output == *"open ENOENT"* ]]
  [[ $output != *"Max locked memory 4194304 4194304 bytes"* ]]
}
