# Helpers for the shim suites (60-shim.bats, 61-shim-containerd.bats).
# Load after lib/helpers.
#
# A private containerd: its own root, state, sockets and namespace under a
# short temp dir (socket paths must stay under 108 bytes), the CRI plugin
# off (no kubelet, no CNI).  Its environment carries L1VH_CONFIG to the
# runc shim it starts and from there to l1vh-shim.

SHIM=$BUILD/l1vh-shim

# The spec of container ID as containerd wrote it (before) and as the
# runtime got it (after): ctrd_captured ID before|after.
ctrd_captured() {
  echo "$CTRD_DIR/captured/$1.$2.json"
}

# Start containerd for this file (setup_file).  Sets CTRD_DIR, CTRD_SOCK,
# CTRD_NS, CTRD_CONFIG (the l1vh node config every test rewrites) and
# CTRD_WRAPPER (what --runc-binary names: capture the spec, exec the shim).
ctrd_start() {
  CTRD_DIR=$(mktemp -d /tmp/l1vh-ctrd.XXXXXX)
  CTRD_SOCK=$CTRD_DIR/c.sock
  CTRD_NS=l1vh-test-$$
  CTRD_CONFIG=$CTRD_DIR/l1vh.json
  CTRD_WRAPPER=$CTRD_DIR/runc-capture
  mkdir -p "$CTRD_DIR/captured"
  echo '{}' >"$CTRD_CONFIG"
  cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$CTRD_DIR/debug.sock"
EOF
  # Test-only: keep copies of the spec of a create / run as containerd
  # wrote it (before) and as the runtime got it (after); every other call
  # goes straight to the shim.
  cat >"$CTRD_WRAPPER" <<EOF
#!/bin/sh
prev= bundle=
for a in "\$@"; do
  case \$prev in --bundle|-b) bundle=\$a ;; esac
  prev=\$a
done
[ -n "\$bundle" ] || exec "$SHIM" "\$@"
id=\$(basename "\$bundle")
cp "\$bundle/config.json" "$CTRD_DIR/captured/\$id.before.json"
"$SHIM" "\$@"
rc=\$?
cp "\$bundle/config.json" "$CTRD_DIR/captured/\$id.after.json"
exit \$rc
EOF
  chmod +x "$CTRD_WRAPPER"
  # Not bats' fd 3: a daemon holding it makes bats wait for it forever.
  L1VH_CONFIG=$CTRD_CONFIG containerd --config "$CTRD_DIR/config.toml" \
    >"$CTRD_DIR/containerd.log" 2>&1 3>&- &
  echo $! >"$CTRD_DIR/containerd.pid"
  for _ in $(seq 100); do
    ctr --address "$CTRD_SOCK" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  ctr --address "$CTRD_SOCK" version >/dev/null || {
    cat "$CTRD_DIR/containerd.log" >&2
    return 1
  }
  export CTRD_DIR CTRD_SOCK CTRD_NS CTRD_CONFIG CTRD_WRAPPER
}

# Stop it (teardown_file): remove what is left in the namespace, kill the
# daemon we started (by its pid), unmount and remove the temp dir.
ctrd_stop() {
  [ -n "${CTRD_DIR:-}" ] || return 0
  local c pid
  for c in $(ctr --address "$CTRD_SOCK" -n "$CTRD_NS" containers ls -q 2>/dev/null); do
    ctr --address "$CTRD_SOCK" -n "$CTRD_NS" tasks kill -s KILL "$c" >/dev/null 2>&1
    ctr --address "$CTRD_SOCK" -n "$CTRD_NS" tasks delete -f "$c" >/dev/null 2>&1
    ctr --address "$CTRD_SOCK" -n "$CTRD_NS" containers delete "$c" >/dev/null 2>&1
  done
  pid=$(cat "$CTRD_DIR/containerd.pid" 2>/dev/null)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # the shims' and tasks' mounts under our root and state
  grep -o " $CTRD_DIR[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$CTRD_DIR"
}

# Write the l1vh node config containerd's shims read: the defaults plus the
# gate, the device under test standing in for /dev/mshv, no domain rewrite
# (a busybox rootfs has no libvirt), no hooks.d directories (the host's own
# stay out of the tests), and the jq assignments given.
ctrd_config() {
  local filter=".featureGates=[\"HyperVL1VH\"] | .device.path=\"$DEVICE\" | .domain.strategy=\"off\"" a
  filter="$filter | .state.dir=\"$BATS_TEST_TMPDIR/state\""
  filter="$filter | .runtime.hooksDirs=[]"
  for a in "$@"; do filter="$filter | $a"; done
  jq -n "{} | $filter" >"$CTRD_CONFIG"
}

# ctr run through the capture wrapper and l1vh-shim: ctrd_run ID ROOTFS
# [ctr options...] -- CMD...; output and status through run_logged.
ctrd_run() {
  local id=$1 rootfs=$2 opts=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  run_logged ctr --address "$CTRD_SOCK" -n "$CTRD_NS" run --rm --runc-binary "$CTRD_WRAPPER" \
    --rootfs "${opts[@]}" "$rootfs" "$id" "$@"
}

# The annotations containerd's CRI plugin writes for a virt-launcher pod's
# compute container (pod annotations only when allow-listed).
ctrd_compute_annotations() {
  local name=${1:-compute} vm=${2:-testvm}
  echo --annotation "io.kubernetes.cri.container-type=container" \
    --annotation "io.kubernetes.cri.container-name=$name" \
    --annotation "io.kubernetes.cri.sandbox-name=virt-launcher-$vm-abcde" \
    --annotation "io.kubernetes.cri.sandbox-namespace=default" \
    --annotation "kubevirt.io/domain=$vm"
}


# ---- helpers for the shim without containerd (60-shim.bats) ----

# A stand-in runtime that records how it was called and runs nothing:
# argv (one per line) in $1.argv, the environment in $1.env, its open fds
# in $1.fds and, for a create / run, the spec it was handed in $1.spec.
# Prints its own path.
fake_runtime() {
  local rec=$1 bin=$BATS_TEST_TMPDIR/fake-runc
  cat >"$bin" <<EOF
#!/bin/sh
printf '%s\n' "\$0" "\$@" >"$rec.argv"
env | sort >"$rec.env"
ls /proc/\$\$/fd >"$rec.fds"
prev= bundle=.
for a in "\$@"; do
  case \$prev in --bundle|-b|-bundle) bundle=\$a ;; esac
  case \$a in --bundle=*) bundle=\${a#--bundle=} ;; -b?*) bundle=\${a#-b} ;; esac
  prev=\$a
done
case " \$* " in *" create "*|*" run "*) cp "\$bundle/config.json" "$rec.spec" ;; esac
echo "fake runtime ran"
EOF
  chmod +x "$bin"
  echo "$bin"
}

# Validate spec files against the OCI runtime-spec schema in
# ../shared/data/runtime-spec-schema (Debian's python3-jsonschema).
validate_spec() {
  /usr/bin/python3 - "$SCHEMAS" "$@" <<'PY'
import json, pathlib, sys
import jsonschema
d = pathlib.Path(sys.argv[1]).resolve()
schema = json.loads((d / "config-schema.json").read_text())
resolver = jsonschema.RefResolver(base_uri=d.as_uri() + "/", referrer=schema)
validator = jsonschema.validators.validator_for(schema)(schema, resolver=resolver)
bad = 0
for f in sys.argv[2:]:
    for e in validator.iter_errors(json.load(open(f))):
        print(f"{f}: /{'/'.join(map(str, e.path))}: {e.message}")
        bad = 1
sys.exit(bad)
PY
}

# podman with l1vh-shim as its runtime.  conmon, which runs the runtime's
# create, passes on only the environment containers.conf gives it
# (conmon_env_vars): a test containers.conf carries L1VH_CONFIG there.
# podman_shim RUNTIME L1VH_CONFIG podman-run-args...
podman_shim() {
  local runtime=$1 config=$2 conf=$BATS_TEST_TMPDIR/containers.conf
  shift 2
  printf '[engine]\nconmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "L1VH_CONFIG=%s"]\n' \
    "$config" >"$conf"
  run_logged env CONTAINERS_CONF="$conf" timeout 120 podman --runtime "$runtime" run --rm \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"
}
