#!/usr/bin/env bats
# l1vh-hook status and the metrics file after a batch of real runc starts
# with the hook (prestart and poststop, as hooks.d registers them),
# including 20 started concurrently: the counts add up, the files are
# well-formed, and deleting the containers leaves no record behind (but a
# failed start's, which is kept for the operator).

load lib/helpers
load lib/operate

setup() {
  requires root runc jq
  command -v promtool >/dev/null || l1vh_skip "needs promtool (Debian package prometheus)"
  state=$BATS_TEST_TMPDIR/state
  prom=$BATS_TEST_TMPDIR/textfile/l1vh.prom
  mkdir -p "$BATS_TEST_TMPDIR/textfile"
  ids=()
}

teardown() {
  local id
  for id in "${ids[@]}"; do runc delete -f "$id" >/dev/null 2>&1 || true; done
}

# A node config sharing this test's state dir and metrics file.
cfg() {
  write_config '.device.path="/dev/kvm"' ".state.dir=\"$state\"" ".state.metrics=\"$prom\"" \
    '.memlock.when="always"' '.memlock.size="4Mi"' "$@" >/dev/null
  local f=$BATS_TEST_TMPDIR/cfg-$RANDOM.json
  mv "$BATS_TEST_TMPDIR/l1vh.json" "$f"
  echo "$f"
}

# bundle NAME CONFIG [container-name] [extra jq]: a VM container's bundle
# with the hook at prestart and poststop.
bundle() {
  local b=$BATS_TEST_TMPDIR/$1 config=$2 name=${3:-compute} extra=${4:-.}
  make_bundle "$b"
  annotate_crio "$b" "$name" "$1"
  add_hook "$b" "$config"
  edit_spec "$b" ".hooks.poststop = [{\"path\": \"$HOOK\",
    \"args\": [\"l1vh-hook\", \"poststop\", \"--config\", \"$config\"],
    \"env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"]}] | $extra"
  echo "$b"
}

# create BUNDLE ID: runc runs the prestart hooks at create; the process
# never starts, so nothing holds the test's output open.
create() {
  ids+=("$2")
  runc create --bundle "$1" "$2" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/$2.err"
}

metric() {
  awk -v s="$1" '$1 == s { print $2 }' "$prom"
}

@test "status and metrics: a batch of starts, 20 of them concurrent, add up; nothing left after delete" {
  requires kvm
  on=$(cfg)
  off=$(cfg '.featureGates=[]')
  absent=$(cfg '.device.path="/dev/l1vh-test-absent"')
  raise=$(cfg '.memlock.size="1Gi"')
  warn=$(cfg '.memlock.size="1Gi"' '.onError="warn"')
  hard=$(ulimit -H -l)
  [ "$hard" != unlimited ] && [ "$hard" -lt $((1024 * 1024)) ] ||
    l1vh_skip "the 1Gi failure needs a hard RLIMIT_MEMLOCK below 1 GiB and no CAP_SYS_RESOURCE"

  # One of each outcome, one after the other.
  create "$(bundle vm-on "$on")" l1vh-73-on
  create "$(bundle vm-off "$off")" l1vh-73-off
  create "$(bundle vm-optout "$on" compute '.annotations["l1vh.kubevirt.io/hypervisor"] = "kvm"')" l1vh-73-optout
  create "$(bundle vm-absent "$absent")" l1vh-73-absent
  create "$(bundle vm-warn "$warn")" l1vh-73-warn
  run create "$(bundle vm-raise "$raise")" l1vh-73-raise
  [ "$status" -ne 0 ]
  grep -q "needs CAP_SYS_RESOURCE" "$BATS_TEST_TMPDIR/l1vh-73-raise.err"
  # Not a VM container: no record, no count.
  create "$(bundle web "$on" web)" l1vh-73-web

  # 20 VM containers at once, from one bundle.
  b=$(bundle vm-many "$on")
  for i in $(seq 1 20); do ids+=("l1vh-73-many-$i"); done
  for i in $(seq 1 20); do
    runc create --bundle "$b" "l1vh-73-many-$i" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/many-$i.err" &
  done
  wait
  for i in $(seq 1 20); do
    [ "$(runc state "l1vh-73-many-$i" | jq -r .status)" = created ] || { cat "$BATS_TEST_TMPDIR/many-$i.err"; false; }
  done

  # status: one record per VM container, the failed start's included.
  run_logged "$HOOK" status --config "$on"
  [ "$status" -eq 0 ]
  [[ ${lines[-1]} == "26 records in $state: 21 applied, 4 fallback, 1 failed" ]]
  [[ $output == *" l1vh-73-on   applied  pod virt-launcher-vm-on-abcde vm vm-on: device /dev/kvm, memlock 4194304"* ]]
  [[ $output == *" l1vh-73-off  fallback pod virt-launcher-vm-off-abcde vm vm-off: feature gate HyperVL1VH is off"* ]]
  [[ $output == *" l1vh-73-opto fallback pod virt-launcher-vm-optout-abcde vm vm-optout: the VM opted out"* ]]
  [[ $output == *" l1vh-73-abse fallback "*"no /dev/l1vh-test-absent on the host"* ]]
  [[ $output == *" l1vh-73-warn fallback "*"apply: set RLIMIT_MEMLOCK"* ]]
  [[ $output == *" l1vh-73-rais failed   "*"apply: set RLIMIT_MEMLOCK"*"needs CAP_SYS_RESOURCE"* ]]
  [[ $output != *l1vh-73-web* ]]

  run_logged "$HOOK" status --config "$on" --json
  [ "$status" -eq 0 ]
  [ "$(jq '.records | length' <<<"$output")" = 26 ]
  [ "$(jq '[.records[] | select(.outcome == "applied" and .device.applied and .memlock.applied)] | length' <<<"$output")" = 21 ]
  [ "$(jq -r '[.records[].id] | map(select(startswith("l1vh-73-many-"))) | length' <<<"$output")" = 20 ]
  # Every record file is well-formed JSON, private, and no temp file is left.
  for f in "$state"/*; do
    jq -e .id "$f" >/dev/null
    [ "$(stat -c %a "$f")" = 600 ]
  done
  [ -z "$(find "$state" -name '.*')" ]

  # metrics: every count landed, and Prometheus' own linter accepts the file.
  run_logged promtool check metrics <"$prom"
  [ "$status" -eq 0 ]
  # Negative control: promtool does reject a damaged copy.
  sed 's/^l1vh_plans_applied_total .*/l1vh_plans_applied_total x/' "$prom" >"$BATS_TEST_TMPDIR/bad.prom"
  run_logged promtool check metrics <"$BATS_TEST_TMPDIR/bad.prom"
  [ "$status" -ne 0 ]
  [ "$(metric l1vh_plans_applied_total)" = 21 ]
  [ "$(metric 'l1vh_actions_applied_total{action="device"}')" = 21 ]
  [ "$(metric 'l1vh_actions_applied_total{action="memlock"}')" = 21 ]
  [ "$(metric 'l1vh_actions_applied_total{action="domain"}')" = 0 ]
  [ "$(metric 'l1vh_fallbacks_total{reason="gate_off"}')" = 1 ]
  [ "$(metric 'l1vh_fallbacks_total{reason="opted_out"}')" = 1 ]
  [ "$(metric 'l1vh_fallbacks_total{reason="no_device"}')" = 1 ]
  [ "$(metric 'l1vh_fallbacks_total{reason="on_error_warn"}')" = 1 ]
  [ "$(metric 'l1vh_errors_total{step="apply"}')" = 2 ]
  [ "$(stat -c %a "$prom")" = 644 ]
  [ "$(ls "$(dirname "$prom")")" = "l1vh.prom
l1vh.prom.lock" ]

  # Delete everything: poststop removes each record; the failed start's stays.
  for id in "${ids[@]}"; do runc delete -f "$id" >/dev/null 2>&1 || true; done
  run_logged "$HOOK" status --config "$on"
  [ "$status" -eq 0 ]
  [[ ${lines[-1]} == "1 record in $state: 0 applied, 0 fallback, 1 failed" ]]
  [ "$(ls "$state")" = "failed@l1vh-73-raise.json" ]
  # The counters are cumulative: deleting changes nothing there.
  [ "$(metric l1vh_plans_applied_total)" = 21 ]
}

@test "status: a container deleted without the poststop hook keeps its record (negative control)" {
  requires kvm
  on=$(cfg)
  b=$(bundle vm-nopost "$on" compute 'del(.hooks.poststop)')
  create "$b" l1vh-73-nopost
  run_logged "$HOOK" status --config "$on"
  [[ $output == *"l1vh-73-nopo"* ]]
  runc delete -f l1vh-73-nopost
  run_logged "$HOOK" status --config "$on"
  [[ $output == *"l1vh-73-nopo applied"* ]]
  [ -e "$state/l1vh-73-nopost.json" ]
}

@test "status: no state dir yet is no records; a broken record is reported and skipped" {
  on=$(cfg)
  run_logged "$HOOK" status --config "$on"
  [ "$status" -eq 0 ]
  [[ $output == "0 records in $state: 0 applied, 0 fallback, 0 failed" ]]
  run_logged "$HOOK" status --config "$on" --json
  [ "$(jq -c .records <<<"$output")" = '[]' ]

  mkdir -m 0700 "$state"
  echo '{"version": 1, "id": ' >"$state/bad.json"
  run_logged "$HOOK" status --config "$on"
  [ "$status" -eq 0 ]
  [[ $output == *"l1vh-hook: status: skipped $state/bad.json: "* ]]

  chmod 0777 "$state"
  run_logged "$HOOK" status --config "$on"
  [ "$status" -eq 1 ]
  [[ $output == *"not writable by others"* ]]
}
