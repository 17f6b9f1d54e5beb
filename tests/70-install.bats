#!/usr/bin/env bats
# make install / make uninstall into a DESTDIR: exactly these files, the
# hooks.d JSON points at the installed binary, the default config is never
# overwritten and is removed only when unchanged.

load lib/helpers
load lib/operate

# Everything `make install` puts under PREFIX=/usr/local, SYSCONFDIR=/etc,
# HOOKSDIR=/usr/share/containers/oci/hooks.d (the dir CRI-O reads by default).
# A new installed file belongs in this list (and in its uninstall).
EXPECTED_FILES="etc/l1vh/config.json
usr/local/bin/l1vh-hook
usr/local/bin/l1vh-shim
usr/local/libexec/l1vh/l1vh-domxml.so
usr/local/libexec/l1vh/l1vh-wrap
usr/local/libexec/l1vh/node-setup.sh
usr/local/share/l1vh/containerd-v2.toml
usr/local/share/l1vh/containerd-v3.toml
usr/local/share/l1vh/crio-l1vh.conf
usr/local/share/l1vh/kubevirt-cr.yaml
usr/local/share/l1vh/runtimeclass.yaml
usr/local/share/man/man5/l1vh.json.5
usr/local/share/man/man8/l1vh-hook.8
usr/local/share/man/man8/l1vh-shim.8
usr/share/containers/oci/hooks.d/l1vh-poststop.json
usr/share/containers/oci/hooks.d/l1vh.json"

# make with the tree's own build dir: $BUILD (set by tests/run.sh, maybe the
# sanitizer build) must not redirect a plain build.
mk() {
  env -u BUILD -u SAN make -s -C "$L1VH_TOP" "$@"
}

installed() {
  (cd "$1" && find . \( -type f -o -type l \) -printf '%P\n' | LC_ALL=C sort)
}

setup() {
  requires jq
  dest=$BATS_TEST_TMPDIR/dest
  pid=""
}

teardown() {
  # The installer of the entrypoint test, if an assertion stopped it early.
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
}

@test "install: exactly the expected files, with their modes" {
  run_logged mk install DESTDIR="$dest"
  [ "$status" -eq 0 ]
  run_logged installed "$dest"
  diff -u <(echo "$EXPECTED_FILES") <(echo "$output")
  [ "$(stat -c %a "$dest/usr/local/bin/l1vh-hook")" = 755 ]
  [ "$(stat -c %a "$dest/usr/local/libexec/l1vh/node-setup.sh")" = 755 ]
  [ "$(stat -c %a "$dest/etc/l1vh/config.json")" = 644 ]
  [ "$(stat -c %a "$dest/usr/local/share/man/man8/l1vh-hook.8")" = 644 ]
}

@test "install: the hooks.d entries run the installed binary, prestart and poststop" {
  run_logged mk install DESTDIR="$dest" PREFIX=/opt/l1vh
  [ "$status" -eq 0 ]
  hooks=$dest/usr/share/containers/oci/hooks.d
  [ "$(jq -r .hook.path "$hooks/l1vh.json")" = /opt/l1vh/bin/l1vh-hook ]
  [ "$(jq -r .hook.path "$hooks/l1vh-poststop.json")" = /opt/l1vh/bin/l1vh-hook ]
  [ -x "$dest/opt/l1vh/bin/l1vh-hook" ]
  [ "$(jq -c '[.hook.args, .stages]' "$hooks/l1vh.json")" = '[["l1vh-hook","prestart"],["prestart"]]' ]
  [ "$(jq -c '[.hook.args, .stages]' "$hooks/l1vh-poststop.json")" = '[["l1vh-hook","poststop"],["poststop"]]' ]
  # env is set explicitly (a hook without env inherits the container's).
  [ "$(jq -r '.hook.env | length' "$hooks/l1vh.json")" -ge 1 ]
  [ "$(jq -r '.hook.env | length' "$hooks/l1vh-poststop.json")" -ge 1 ]
  # The shim's examples name the installed shim.
  for f in "$dest"/opt/l1vh/share/l1vh/*.toml "$dest"/opt/l1vh/share/l1vh/*.conf; do
    [ -e "$f" ] || continue
    ! grep -q /usr/local/bin/l1vh-shim "$f"
  done
}

@test "install: the default config parses, has the gate off, and the installed check reads it" {
  run_logged mk install DESTDIR="$dest"
  [ "$status" -eq 0 ]
  cfg=$dest/etc/l1vh/config.json
  [ "$(jq -c .featureGates "$cfg")" = '[]' ]
  run_logged "$dest/usr/local/bin/l1vh-hook" check --config "$cfg"
  [[ $output == *"ok    config: $cfg parses"* ]]
  [[ $output == *"warn  gate: HyperVL1VH is off"* ]]
}

@test "install: an existing config is kept; uninstall keeps a changed one and removes an unchanged one" {
  mkdir -p "$dest/etc/l1vh"
  echo '{"featureGates": ["HyperVL1VH"]}' >"$dest/etc/l1vh/config.json"
  run_logged mk install DESTDIR="$dest"
  [ "$status" -eq 0 ]
  [[ $output == *"kept $dest/etc/l1vh/config.json"* ]]
  [ "$(jq -c .featureGates "$dest/etc/l1vh/config.json")" = '["HyperVL1VH"]' ]

  run_logged mk uninstall DESTDIR="$dest"
  [ "$status" -eq 0 ]
  run_logged installed "$dest"
  [ "$output" = etc/l1vh/config.json ]

  rm "$dest/etc/l1vh/config.json"
  run_logged mk install DESTDIR="$dest"
  run_logged mk uninstall DESTDIR="$dest"
  [ "$status" -eq 0 ]
  run_logged installed "$dest"
  [ -z "$output" ]
}

@test "uninstall: removes exactly what install added, and l1vh's own directories" {
  mkdir -p "$dest/usr/local/bin" "$dest/usr/share/containers/oci/hooks.d"
  # Files of others in the same directories stay.
  echo keep >"$dest/usr/local/bin/other-tool"
  echo '{}' >"$dest/usr/share/containers/oci/hooks.d/other.json"
  run_logged mk install DESTDIR="$dest"
  [ "$status" -eq 0 ]
  run_logged mk uninstall DESTDIR="$dest"
  [ "$status" -eq 0 ]
  run_logged installed "$dest"
  [ "$output" = "usr/local/bin/other-tool
usr/share/containers/oci/hooks.d/other.json" ]
  run find "$dest" -name '*l1vh*'
  [ -z "$output" ]
}

@test "deploy/entrypoint.sh: copies l1vh onto a node, registers it, checks it; SIGTERM undoes it" {
  requires root jq
  stage=$BATS_TEST_TMPDIR/stage host=$BATS_TEST_TMPDIR/host log=$BATS_TEST_TMPDIR/installer.log
  # The image's content, as deploy/Dockerfile stages it.
  run_logged mk install DESTDIR="$stage" PREFIX=/opt/l1vh HOOKSDIR=/etc/containers/oci/hooks.d
  [ "$status" -eq 0 ]
  # A CRI-O node's /etc, /opt and /run/l1vh, as the DaemonSet mounts them.
  mkdir -p "$host/opt" "$host/run/l1vh"
  cp -a "$SETUP_DATA/crio/." "$host/"
  before=$(tree_sum "$host")
  echo '{"featureGates": ["HyperVL1VH"], "device": {"path": "/dev/l1vh-test-absent"}}' >"$BATS_TEST_TMPDIR/config.json"
  # The hook runs from /opt/l1vh: in a private mount namespace that is the
  # node tree's /opt, and ON_HOST= runs the "host" commands right there;
  # check reads the node tree's config through $L1VH_CONFIG.
  unshare -m sh -c "mount --make-rprivate / && mount --bind '$host/opt' /opt &&
    exec env HOST='$host' STAGE='$stage' CONFIG='$BATS_TEST_TMPDIR/config.json' ON_HOST= \
      L1VH_CONFIG='$host/etc/l1vh/config.json' \
      READY='$BATS_TEST_TMPDIR/ready' RUNTIME=crio '$L1VH_TOP/deploy/entrypoint.sh'" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -Eq '^(ready|not ready)' "$log" && break; sleep 0.1; done
  cat "$log" >&2
  grep -q 'l1vh-installer: runtime: crio' "$log"
  [ -x "$host/opt/l1vh/bin/l1vh-hook" ] && [ -x "$host/opt/l1vh/bin/l1vh-shim" ]
  [ -f "$host/opt/l1vh/libexec/l1vh/node-setup.sh" ]
  cmp "$BATS_TEST_TMPDIR/config.json" "$host/etc/l1vh/config.json"
  [ "$(jq -r .hook.path "$host/etc/containers/oci/hooks.d/l1vh.json")" = /opt/l1vh/bin/l1vh-hook ]
  [ "$(jq -r .hook.path "$host/etc/containers/oci/hooks.d/l1vh-poststop.json")" = /opt/l1vh/bin/l1vh-hook ]
  grep -q '/etc/containers/oci/hooks.d' "$host/etc/crio/crio.conf.d/99-l1vh.conf"
  grep -q 'restart crio on this node to finish' "$log"
  # The check ran against the node's config: the absent device fails it,
  # so the pod would not be ready.
  grep -q 'fail  device: /dev/l1vh-test-absent' "$log"
  [ ! -e "$BATS_TEST_TMPDIR/ready" ]

  kill -TERM "$pid"
  wait "$pid"
  pid=""
  cat "$log" >&2
  grep -q 'l1vh-installer: uninstalled' "$log"
  [ "$(tree_sum "$host")" = "$before" ]
  [ ! -e "$host/opt/l1vh" ]
}
