#!/usr/bin/env bats
# scripts/node-setup.sh against sample node configs (tests/data/node-setup):
# the drop-in is right when parsed back by a real parser (containerd's own
# `config dump`, Python's tomllib for CRI-O and version 3), a second run
# changes nothing, the node's other settings survive, --uninstall restores
# the files byte for byte.

load lib/helpers
load lib/operate

setup() {
  requires jq
  command -v python3 >/dev/null || l1vh_skip "needs python3"
}

# ---- CRI-O ----

@test "crio: hooks_dir keeps the node's dir and adds both l1vh dirs; idempotent; uninstall restores" {
  node=$(sample_node crio)
  before=$(tree_sum "$node")
  run_logged "$SETUP" crio --root "$node"
  [ "$status" -eq 0 ]
  [[ $output == *"wrote $node/etc/crio/crio.conf.d/99-l1vh.conf"* ]]
  [[ $output == *"restart crio"* ]]

  dropin=$node/etc/crio/crio.conf.d/99-l1vh.conf
  run_logged toml_eval 't0["crio"]["runtime"]["hooks_dir"]' "$dropin"
  [ "$output" = '["/opt/vendor/hooks.d", "/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"]' ]
  # Every file CRI-O reads still parses, and the node's own files are untouched.
  run_logged toml_eval 't0["crio"]["runtime"]["cgroup_manager"], t1["crio"]["runtime"]["log_level"]' \
    "$node/etc/crio/crio.conf" "$node/etc/crio/crio.conf.d/10-node.conf"
  [ "$output" = '["systemd", "info"]' ]
  diff <(echo "$before") <(tree_sum "$node" | grep -v 99-l1vh.conf)

  sum=$(sha256sum "$dropin")
  run_logged "$SETUP" crio --root "$node"
  [ "$status" -eq 0 ]
  [[ $output == *"nothing changed"* ]]
  [[ $output != *restart* ]]
  [ "$(sha256sum "$dropin")" = "$sum" ]

  run_logged "$SETUP" crio --root "$node" --uninstall
  [ "$status" -eq 0 ]
  [[ $output == *"removed $dropin"* ]]
  [ "$(tree_sum "$node")" = "$before" ]
}

@test "crio: a node without hooks_dir gets CRI-O's default plus the second dir" {
  node=$(sample_node crio)
  rm "$node/etc/crio/crio.conf.d/10-node.conf"
  run_logged "$SETUP" crio --root "$node"
  [ "$status" -eq 0 ]
  run_logged toml_eval 't0["crio"]["runtime"]["hooks_dir"]' "$node/etc/crio/crio.conf.d/99-l1vh.conf"
  [ "$output" = '["/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"]' ]
  run_logged "$SETUP" crio --root "$node" --uninstall
  [ "$status" -eq 0 ]
  # The drop-in dir was there before (it held 10-node.conf) but is empty now.
  [ ! -e "$node/etc/crio/crio.conf.d/99-l1vh.conf" ]
}

@test "crio --handler: a runtime handler l1vh that runs the shim" {
  node=$(sample_node crio)
  run_logged "$SETUP" crio --root "$node" --handler --shim /opt/l1vh/bin/l1vh-shim
  [ "$status" -eq 0 ]
  run_logged toml_eval 't0["crio"]["runtime"]["runtimes"]["l1vh"]' "$node/etc/crio/crio.conf.d/99-l1vh.conf"
  [ "$output" = '{"runtime_path": "/opt/l1vh/bin/l1vh-shim", "runtime_type": "oci", "runtime_root": "/run/runc"}' ]
  # Turning the handler off again is a change, and then none.
  run_logged "$SETUP" crio --root "$node"
  [[ $output == *"wrote"* ]]
  run_logged toml_eval '"runtimes" in t0["crio"]["runtime"]' "$node/etc/crio/crio.conf.d/99-l1vh.conf"
  [ "$output" = false ]
}

@test "crio: a drop-in of the same name that is not ours is left alone" {
  node=$(sample_node crio)
  echo '[crio.runtime]' >"$node/etc/crio/crio.conf.d/99-l1vh.conf"
  run_logged "$SETUP" crio --root "$node"
  [ "$status" -eq 1 ]
  [[ $output == *"exists and was not written by node-setup.sh"* ]]
  run_logged "$SETUP" crio --root "$node" --uninstall
  [ "$status" -eq 1 ]
  [ "$(cat "$node/etc/crio/crio.conf.d/99-l1vh.conf")" = '[crio.runtime]' ]
}

# ---- containerd, config version 2 ----

@test "containerd v2: containerd's config dump shows the handler and keeps the node's CRI settings" {
  requires containerd
  node=$(sample_node containerd-v2)
  main=$node/etc/containerd/config.toml
  orig=$(sha256sum <"$main")
  run_logged "$SETUP" containerd --root "$node"
  [ "$status" -eq 0 ]
  [[ $output == *"runtime handler l1vh -> /usr/local/bin/l1vh-shim"* ]]
  [[ $output == *"restart containerd"* ]]

  # containerd's own parser and merge: the effective config.
  run_logged containerd --config "$main" config dump
  [ "$status" -eq 0 ]
  dump=$BATS_TEST_TMPDIR/dump.toml
  printf '%s\n' "$output" >"$dump"
  cri='t0["plugins"]["io.containerd.grpc.v1.cri"]'
  run_logged toml_eval "$cri[\"containerd\"][\"runtimes\"][\"l1vh\"]" "$dump"
  [ "$(jq -r .runtime_type <<<"$output")" = io.containerd.runc.v2 ]
  [ "$(jq -r .options.BinaryName <<<"$output")" = /usr/local/bin/l1vh-shim ]
  [ "$(jq -c .pod_annotations <<<"$output")" = '["kubevirt.io/domain","l1vh.kubevirt.io/*"]' ]
  # The node's runc uses the systemd cgroup driver, so the handler does too.
  [ "$(jq -r .options.SystemdCgroup <<<"$output")" = true ]
  run_logged toml_eval "[$cri[\"sandbox_image\"], $cri[\"containerd\"][\"runtimes\"][\"runc\"][\"options\"][\"SystemdCgroup\"], $cri[\"registry\"][\"config_path\"], $cri[\"enable_unprivileged_ports\"]]" "$dump"
  [ "$output" = '["registry.example.com/pause:3.9", true, "/etc/containerd/certs.d", true]' ]

  sum=$(sha256sum <"$main")
  run_logged "$SETUP" containerd --root "$node" --config-version 2
  [ "$status" -eq 0 ]
  [[ $output == *"nothing changed"* ]]
  [ "$(sha256sum <"$main")" = "$sum" ]

  run_logged "$SETUP" containerd --root "$node" --uninstall
  [ "$status" -eq 0 ]
  [ "$(sha256sum <"$main")" = "$orig" ]
  run_logged "$SETUP" containerd --root "$node" --uninstall
  [[ $output == *"nothing changed"* ]]
}

@test "containerd v2: the 1.x import caveat is real, and node-setup refuses rather than lose settings" {
  requires containerd
  # Negative control: the naive way, an imported drop-in with the handler,
  # makes containerd drop the node's CRI settings (sandbox_image) entirely.
  node=$(sample_node containerd-v2)
  main=$node/etc/containerd/config.toml
  naive=$BATS_TEST_TMPDIR/naive.toml
  printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.l1vh]\n  runtime_type = "io.containerd.runc.v2"\n' >"$naive"
  sed -i "s|^version = 2$|version = 2\nimports = [\"$naive\"]|" "$main"
  run_logged containerd --config "$main" config dump
  [ "$status" -eq 0 ]
  [[ $output == *'runtimes.l1vh]'* ]]
  [[ $output != *registry.example.com/pause:3.9* ]]

  # A node whose CRI settings come from an import: refused, nothing written.
  node=$(sample_node containerd-v2-import)
  before=$(tree_sum "$node")
  run_logged "$SETUP" containerd --root "$node"
  [ "$status" -eq 1 ]
  [[ $output == *"10-cri.toml (imported by $node/etc/containerd/config.toml) sets plugins.\"io.containerd.grpc.v1.cri\""* ]]
  [[ $output == *"containerd 1.x lets an import replace that whole section"* ]]
  [ "$(tree_sum "$node")" = "$before" ]
}

@test "containerd v2: no config.toml yet: created, valid for containerd, removed by --uninstall" {
  requires containerd
  node=$BATS_TEST_TMPDIR/empty-node
  mkdir -p "$node"
  run_logged "$SETUP" containerd --root "$node"
  [ "$status" -eq 0 ]
  run_logged containerd --config "$node/etc/containerd/config.toml" config dump
  [ "$status" -eq 0 ]
  [[ $output == *'BinaryName = "/usr/local/bin/l1vh-shim"'* ]]
  # No SystemdCgroup on a node that does not use it.
  [[ $output != *"SystemdCgroup = true"* ]]
  run_logged "$SETUP" containerd --root "$node" --uninstall
  [ "$status" -eq 0 ]
  [ ! -e "$node/etc/containerd/config.toml" ]
}

@test "containerd: a version mismatch, a version 1 config and a foreign l1vh runtime are refused" {
  node=$(sample_node containerd-v2)
  main=$node/etc/containerd/config.toml
  run_logged "$SETUP" containerd --root "$node" --config-version 3
  [ "$status" -eq 1 ]
  [[ $output == *"is config version 2, not 3"* ]]

  sed -i '/^version = 2$/d' "$main"
  run_logged "$SETUP" containerd --root "$node"
  [ "$status" -eq 1 ]
  [[ $output == *"has no version: a version 1 config"* ]]

  node=$(sample_node containerd-v2)
  printf '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.l1vh]\n  runtime_type = "io.containerd.kata.v2"\n' >>"$node/etc/containerd/config.toml"
  run_logged "$SETUP" containerd --root "$node"
  [ "$status" -eq 1 ]
  [[ $output == *"already defines a runtime \"l1vh\" outside l1vh's block"* ]]
}

# ---- containerd, config version 3 ----

@test "containerd v3: a drop-in in imports; the rest of config.toml unchanged; idempotent; uninstall restores" {
  node=$(sample_node containerd-v3)
  main=$node/etc/containerd/config.toml
  dropin=$node/etc/containerd/conf.d/99-l1vh.toml
  orig=$BATS_TEST_TMPDIR/orig.toml
  cp "$main" "$orig"
  run_logged "$SETUP" containerd --root "$node" --config-version 3
  [ "$status" -eq 0 ]
  [[ $output == *"wrote $dropin"* ]]
  [[ $output == *"imports /etc/containerd/conf.d/99-l1vh.toml"* ]]

  run_logged toml_eval 't0["imports"]' "$main"
  [ "$output" = '["/etc/containerd/conf.d/99-l1vh.toml"]' ]
  # Everything but imports parses to exactly what it was.
  run_logged toml_eval '{k: v for k, v in t0.items() if k != "imports"} == {k: v for k, v in t1.items() if k != "imports"}' "$main" "$orig"
  [ "$output" = true ]
  run_logged toml_eval '[t0["version"], t0["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["l1vh"]]' "$dropin"
  [ "$(jq -r '.[0]' <<<"$output")" = 3 ]
  [ "$(jq -r '.[1].options.BinaryName' <<<"$output")" = /usr/local/bin/l1vh-shim ]
  [ "$(jq -r '.[1].options.SystemdCgroup' <<<"$output")" = true ]
  [ "$(jq -c '.[1].pod_annotations' <<<"$output")" = '["kubevirt.io/domain","l1vh.kubevirt.io/*"]' ]

  sums=$(tree_sum "$node")
  run_logged "$SETUP" containerd --root "$node"
  [[ $output == *"nothing changed"* ]]
  [ "$(tree_sum "$node")" = "$sums" ]

  run_logged "$SETUP" containerd --root "$node" --uninstall
  [ "$status" -eq 0 ]
  cmp "$main" "$orig"
  [ ! -e "$node/etc/containerd/conf.d" ]
}

@test "containerd v3: imports that already match the drop-in by a glob are left as they are" {
  node=$(sample_node containerd-v3)
  main=$node/etc/containerd/config.toml
  sed -i "s|^imports = \[\]$|imports = ['/etc/containerd/other.toml', \"/etc/containerd/conf.d/*.toml\"]|" "$main"
  sum=$(sha256sum <"$main")
  run_logged "$SETUP" containerd --root "$node"
  [ "$status" -eq 0 ]
  [[ $output != *"imports /etc"* ]]
  [ "$(sha256sum <"$main")" = "$sum" ]
  [ -f "$node/etc/containerd/conf.d/99-l1vh.toml" ]
}

@test "containerd v3: a config without imports gets one after version, and loses it on uninstall" {
  node=$(sample_node containerd-v3)
  main=$node/etc/containerd/config.toml
  sed -i '/^imports = \[\]$/d' "$main"
  cp "$main" "$BATS_TEST_TMPDIR/orig.toml"
  run_logged "$SETUP" containerd --root "$node"
  [ "$status" -eq 0 ]
  run_logged toml_eval '[t0["version"], t0["imports"], t0["root"]]' "$main"
  [ "$output" = '[3, ["/etc/containerd/conf.d/99-l1vh.toml"], "/var/lib/containerd"]' ]
  run_logged "$SETUP" containerd --root "$node" --uninstall
  cmp "$main" "$BATS_TEST_TMPDIR/orig.toml"
}

@test "node-setup: usage errors exit 2 or 1 with one line" {
  run_logged "$SETUP" docker
  [ "$status" -eq 2 ]
  run_logged "$SETUP" containerd --config-version 4
  [ "$status" -eq 1 ]
  [[ $output == *"--config-version must be 2 or 3"* ]]
  run_logged "$SETUP" crio --shim relative/l1vh-shim
  [ "$status" -eq 1 ]
}
