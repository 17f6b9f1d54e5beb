#!/bin/sh
# l1vh DaemonSet entrypoint (docs/operate.md, "DaemonSet"): put l1vh onto this
# node, write its config (with the gate) and the runtime drop-in, check the
# node, then wait; on SIGTERM (the DaemonSet or its pod is deleted) undo it.
#
# The image holds `make install DESTDIR=/stage PREFIX=/opt/l1vh
# HOOKSDIR=/etc/containers/oci/hooks.d` (deploy/Dockerfile).  The host's
# /etc, /opt and /run/l1vh are mounted under $HOST; commands that must see
# the host as it is (check, systemctl) run in its namespaces via nsenter,
# which needs hostPID and a privileged container.
#
# Environment:
#   RUNTIME          crio | containerd | auto (default: what the host has)
#   CRIO_HANDLER     true: CRI-O also gets the "l1vh" runtime handler (the shim)
#   RESTART_RUNTIME  true: restart the runtime after a change (default false:
#                    the pod log says what to restart)
#   UNINSTALL_ON_EXIT  false: keep everything when the pod stops (upgrades)
set -eu

HOST=${HOST:-/host}
STAGE=${STAGE:-/stage}
PREFIX=/opt/l1vh
CONFIG=${CONFIG:-/config/config.json}
RUNTIME=${RUNTIME:-auto}
CRIO_HANDLER=${CRIO_HANDLER:-false}
RESTART_RUNTIME=${RESTART_RUNTIME:-false}
UNINSTALL_ON_EXIT=${UNINSTALL_ON_EXIT:-true}
HOOKS_DIR=/etc/containers/oci/hooks.d
SETUP=$STAGE$PREFIX/libexec/l1vh/node-setup.sh
READY=${READY:-/tmp/ready}

log() { printf 'l1vh-installer: %s\n' "$*"; }
die() {
  log "error: $*"
  exit 1
}
# Run on the host, in its namespaces (PID 1's).  Tests set ON_HOST (empty:
# run directly, in a mount namespace they prepared).
on_host() {
  if [ -n "${ON_HOST+set}" ]; then
    # shellcheck disable=SC2086 # a command prefix, split on purpose
    $ON_HOST "$@"
  else
    nsenter --target 1 --mount --uts --ipc --net --pid -- "$@"
  fi
}

detect_runtime() {
  [ "$RUNTIME" != auto ] && { echo "$RUNTIME"; return; }
  if [ -d "$HOST/etc/crio" ] || on_host sh -c 'command -v crio' >/dev/null 2>&1; then
    echo crio
  elif [ -d "$HOST/etc/containerd" ] || on_host sh -c 'command -v containerd' >/dev/null 2>&1; then
    echo containerd
  else
    die "neither CRI-O nor containerd found on the host: set RUNTIME"
  fi
}

# Copy one file onto the host by temp file + rename: a binary that a
# runtime is executing at this moment is replaced, not overwritten.
put() {
  src=$1 dst=$2 mode=$3
  mkdir -p "$(dirname "$dst")"
  tmp=$(mktemp "$(dirname "$dst")/.l1vh.XXXXXX")
  cp "$src" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dst"
}

setup_args() {
  args="$runtime --root $HOST --shim $PREFIX/bin/l1vh-shim"
  [ "$runtime" = crio ] && [ "$CRIO_HANDLER" = true ] && args="$args --handler"
  echo "$args"
}

# node-setup.sh, then the restart it asks for (or the advice to do it).
node_setup() {
  # shellcheck disable=SC2046 # the args are words
  out=$("$SETUP" $(setup_args) "$@") || { printf '%s\n' "$out"; return 1; }
  printf '%s\n' "$out"
  case $out in
  *"restart $runtime"*)
    if [ "$RESTART_RUNTIME" = true ]; then
      log "restarting $runtime on the host (running containers keep running)"
      on_host systemctl restart "$runtime"
    else
      log "restart $runtime on this node to finish (or set RESTART_RUNTIME=true)"
    fi
    ;;
  esac
}

install_l1vh() {
  # 1. The binaries and in-container pieces, under /opt/l1vh.
  (cd "$STAGE$PREFIX" && find . -type f) | while IFS= read -r f; do
    mode=0644
    [ -x "$STAGE$PREFIX/$f" ] && mode=0755
    put "$STAGE$PREFIX/$f" "$HOST$PREFIX/$f" "$mode"
  done
  # They must run on the host (its glibc, the libraries in /opt/l1vh/lib)
  # before anything points the runtime at them.
  on_host "$PREFIX/bin/l1vh-hook" --version >/dev/null ||
    die "$PREFIX/bin/l1vh-hook does not run on this host (glibc or libraries): build the image on the node's distribution (deploy/Dockerfile BASE)"
  # 2. The node config, with the gate, from the ConfigMap.
  [ -f "$CONFIG" ] || die "no $CONFIG: mount the l1vh-config ConfigMap"
  put "$CONFIG" "$HOST/etc/l1vh/config.json" 0644
  # 3. The hooks.d entries (prestart and poststop).
  for f in "$STAGE$HOOKS_DIR"/l1vh*.json; do
    put "$f" "$HOST$HOOKS_DIR/$(basename "$f")" 0644
  done
  # 4. The runtime's drop-in.
  node_setup
}

uninstall_l1vh() {
  rm -f "$READY"
  node_setup --uninstall || log "warning: node-setup --uninstall failed; see above"
  for f in "$STAGE$HOOKS_DIR"/l1vh*.json; do
    rm -f "$HOST$HOOKS_DIR/$(basename "$f")"
  done
  if cmp -s "$CONFIG" "$HOST/etc/l1vh/config.json"; then
    rm -f "$HOST/etc/l1vh/config.json"
    rmdir "$HOST/etc/l1vh" 2>/dev/null || true
  fi
  # Running VM containers still need the shim for kill and delete, and
  # their records say they exist: then the binaries stay.
  if ls "$HOST"/run/l1vh/*.json >/dev/null 2>&1; then
    log "VM containers still run on this node ($HOST/run/l1vh): $PREFIX stays; remove it after they are gone"
  else
    rm -rf "${HOST:?}$PREFIX"
  fi
  log "uninstalled"
}

# l1vh-hook check on the host; its lines go to the pod log when they change.
check() {
  rc=0
  out=$(on_host "$PREFIX/bin/l1vh-hook" check 2>&1) || rc=$?
  if [ "$out" != "${last_check:-}" ]; then
    printf '%s\n' "$out"
    last_check=$out
    [ "$rc" -eq 0 ] || log "the node is not ready (lines marked fail above); the pod stays unready until it is"
  fi
  if [ "$rc" -eq 0 ]; then touch "$READY"; else rm -f "$READY"; fi
}

runtime=$(detect_runtime)
log "runtime: $runtime"
case ${1:-run} in
run)
  install_l1vh
  sleeper=""
  stop() {
    if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi
    if [ "$UNINSTALL_ON_EXIT" = true ]; then uninstall_l1vh; fi
    exit 0
  }
  trap stop TERM INT
  # Check now and then: a driver loaded later makes the pod ready.
  while :; do
    check
    sleep 300 &
    sleeper=$!
    wait "$sleeper" || true
  done
  ;;
uninstall) uninstall_l1vh ;;
*) die "usage: entrypoint.sh [run|uninstall]" ;;
esac
