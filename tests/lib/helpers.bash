# Shared bats helpers: load with `load lib/helpers`.
# The binaries under test come from the build tree ($BUILD, default build/).

L1VH_TOP=${L1VH_TOP:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$L1VH_TOP/$BUILD ;; esac
HOOK=$BUILD/l1vh-hook
FIXTURES=${L1VH_FIXTURES:-$L1VH_TOP/../shared/fixtures}
SCHEMAS=${L1VH_SCHEMAS:-$L1VH_TOP/../shared/data/runtime-spec-schema}
# Sanitizer builds: report leaks and UB as failures, not noise.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The stand-in for /dev/mshv: /dev/kvm where it works.  Some machines have
# a /dev/kvm node without a driver behind it (a nested guest: open gives
# ENODEV); there the stand-in is /dev/fuse, another misc device (10:229)
# that runtimes do not allow by default, so a container that opens it
# proves the node and the cgroup rule just the same.
standin_device() {
  if (exec 3<>/dev/kvm) 2>/dev/null; then
    echo /dev/kvm
  else
    echo /dev/fuse
  fi
}
export STANDIN_DEVICE=${L1VH_TEST_DEVICE:-$(standin_device)}

# Skip with a message naming what is missing; under CI=true fail instead,
# so a suite cannot pass by skipping its real-runtime tests.
l1vh_skip() {
  if [ "${CI:-}" = true ]; then
    echo "CI=true: not skipping: $*" >&2
    return 1
  fi
  skip "$*"
}

# requires root|kvm|runc|podman|containerd|libvirt|cgroup2|bpftool ...
requires() {
  local r
  for r in "$@"; do
    case $r in
    root) [ "$(id -u)" -eq 0 ] || l1vh_skip "needs root" ;;
    kvm) [ -c /dev/kvm ] && [ -r /dev/kvm ] || l1vh_skip "needs /dev/kvm" ;;
    runc | podman | containerd | ctr | bpftool | jq | virsh | libvirtd | qemu-system-x86_64)
      command -v "$r" >/dev/null || l1vh_skip "needs $r (make deps-test installs it)" ;;
    cgroup2) grep -qw cgroup2 /proc/filesystems || l1vh_skip "needs cgroup2 support" ;;
    *) echo "requires: unknown requirement '$r'" >&2; return 1 ;;
    esac
  done
}

# Run a command with its command line logged, so a failure shows what ran.
run_logged() {
  echo "+ $*" >&2
  run "$@"
  echo "status=$status output:" >&2
  printf '%s\n' "$output" >&2
}

# A node config in the test's temp dir; arguments are jq assignments applied
# to the defaults plus the gate, e.g. write_config '.device.path="/dev/kvm"'.
write_config() {
  # Decision records go to the test's own dir, not the host's /run/l1vh.
  local f=$BATS_TEST_TMPDIR/l1vh.json a
  local filter=".featureGates=[\"HyperVL1VH\"] | .state.dir=\"$BATS_TEST_TMPDIR/state\""
  for a in "$@"; do filter="$filter | $a"; done
  jq -n "{} | $filter" >"$f"
  echo "$f"
}

# A busybox rootfs: applets as symlinks, the qemu user (107) of a launcher.
make_rootfs() {
  local root=$1 applet
  mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,run,var/run}
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh cat ls id sleep grep echo test stat mkdir true false head tr cut wc; do
    ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'qemu:x:107:107:qemu:/:/bin/sh' >>"$root/etc/passwd"
  printf 'root:x:0:\nqemu:x:107:\n' >"$root/etc/group"
}

# A runc bundle with a busybox rootfs; the process runs args given as a JSON
# array (default: true).  Further edits with edit_spec.
make_bundle() {
  local bundle=$1 args=${2:-'["/bin/true"]'}
  mkdir -p "$bundle"
  make_rootfs "$bundle/rootfs"
  (cd "$bundle" && runc spec)
  edit_spec "$bundle" ".process.terminal=false | .process.args=$args | .root.readonly=false"
}

# Apply a jq filter to a bundle's config.json.
edit_spec() {
  local bundle=$1 filter=$2
  jq "$filter" "$bundle/config.json" >"$bundle/config.json.new" &&
    mv "$bundle/config.json.new" "$bundle/config.json"
}

# Annotate a bundle like CRI-O annotates a virt-launcher pod's container.
annotate_crio() {
  local bundle=$1 name=${2:-compute} vm=${3:-testvm}
  edit_spec "$bundle" ".annotations = {
    \"io.kubernetes.container.name\": \"$name\",
    \"io.kubernetes.pod.name\": \"virt-launcher-$vm-abcde\",
    \"io.kubernetes.cri-o.ImageName\": \"quay.io/kubevirt/virt-launcher:v1.7.0\",
    \"kubevirt.io/domain\": \"$vm\"}"
}

# Add the hook under test to the bundle, at prestart and poststop as
# hooks.d registers it, with its config.
add_hook() {
  local bundle=$1 config=$2 stage
  for stage in prestart poststop; do
    edit_spec "$bundle" ".hooks.$stage = [{\"path\": \"$HOOK\",
      \"args\": [\"l1vh-hook\", \"$stage\", \"--config\", \"$config\"],
      \"env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"]}]"
  done
}

# A container id unique to this test.
container_id() {
  echo "l1vh-test-$$-${BATS_TEST_NUMBER}-${1:-0}"
}
