#!/usr/bin/env bats
# l1vh-shim under a real containerd (the AKS path): `ctr run --runc-binary`
# makes containerd's runc shim call l1vh-shim exactly as it calls runc
# (--root R --log F --log-format json create --bundle B ...).  The compute
# container gets the device and the memlock limit from the spec the shim
# wrote; every other container's spec reaches runc byte for byte.

load lib/helpers
load lib/device
load lib/containerd

setup_file() {
  requires root runc containerd ctr jq
  build_probe
  ctrd_start
  ROOTFS=$BATS_FILE_TMPDIR/rootfs
  make_rootfs "$ROOTFS"
  ln -sf busybox "$ROOTFS/bin/su"
  cp "$PROBE" "$ROOTFS/bin/kvm-probe"
  export ROOTFS
}

teardown_file() {
  ctrd_stop
}

setup() {
  device_requires containerd ctr
  id=$(container_id)
}

# What the probe says on the host: a container that got the device sees it
# the same way ("opened"; on a host whose stand-in node has no driver,
# "open ENODEV", which still proves the node and the cgroup rule: without
# them the answer is ENOENT or EPERM).
host_probe() {
  "$PROBE" "$DEVICE" | head -n1
}

# The compute container's process: as qemu (107), print the id, open the
# device, show the MEMLOCK limit.
COMPUTE_CMD="su -s /bin/sh qemu -c 'id -u; /bin/kvm-probe $DEVICE; grep \"Max locked\" /proc/self/limits | tr -s \" \"'"

@test "containerd: the compute container opens the device as uid 107 and has the memlock limit" {
  # ctr runs the process as root and su drops to qemu: the owner comes
  # from the config here (KubeVirt's compute container runs as 107 itself).
  ctrd_config '.device.uid=107' '.device.gid=107' '.memlock.when="always"' '.memlock.size="4Mi"'
  # shellcheck disable=SC2046
  ctrd_run "$id" "$ROOTFS" $(ctrd_compute_annotations) -- /bin/sh -c "$COMPUTE_CMD"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == 107 ]]
  [[ $output == *"$(host_probe)"* ]]
  [[ $output == *"Max locked memory 4194304 4194304 bytes"* ]]
  # what runc got is a valid OCI spec, and containerd's own was changed
  validate_spec "$(ctrd_captured "$id" after)"
  ! cmp -s "$(ctrd_captured "$id" before)" "$(ctrd_captured "$id" after)"
}

@test "containerd: negative control: the same container through plain runc has neither" {
  ctrd_config '.memlock.when="always"' '.memlock.size="4Mi"'
  # shellcheck disable=SC2046
  run_logged ctr --address "$CTRD_SOCK" -n "$CTRD_NS" run --rm --rootfs \
    $(ctrd_compute_annotations) "$ROOTFS" "$id" /bin/sh -c "$COMPUTE_CMD"
  [[ $output == *"open ENOENT"* ]]
  [[ $output != *"Max locked memory 4194304 4194304 bytes"* ]]
}

@test "containerd: a container that is not compute gets its spec byte for byte" {
  ctrd_config '.memlock.when="always"' '.memlock.size="4Mi"'
  # shellcheck disable=SC2046
  # Go's encoder writes & < > as \u0026 \u003c \u003e: any rewrite would
  # show, even one that reproduces containerd's compact layout
  ctrd_run "$id" "$ROOTFS" $(ctrd_compute_annotations virt-launcher-sidecar) \
    --annotation "l1vh-test/escaped=a&b<c>" -- /bin/sh -c "echo ran"
  [ "$status" -eq 0 ]
  [[ $output == *ran* ]]
  grep -qF 'a\u0026b\u003cc\u003e' "$(ctrd_captured "$id" before)"
  cmp "$(ctrd_captured "$id" before)" "$(ctrd_captured "$id" after)"
}

@test "containerd: a failed edit reaches ctr (the kubelet event) and no container is made" {
  ctrd_config '.device.bogus=1'
  # shellcheck disable=SC2046
  ctrd_run "$id" "$ROOTFS" $(ctrd_compute_annotations) -- /bin/sh -c "echo started"
  [ "$status" -ne 0 ]
  [[ $output != *started* ]]
  # containerd took the shim's line from --log (runc's JSON format): the
  # message without the stderr prefix, and the ": unknown" containerd adds
  # to an error it read from that file
  [[ $output == *"OCI runtime create failed: container ${id:0:12}: read config: "*'unknown key "device.bogus": unknown'* ]]
  run runc --root /run/containerd/runc/"$CTRD_NS" state "$id"
  [ "$status" -ne 0 ]
}

@test "containerd: hooks.d hooks are injected for the containers they match" {
  local d=$BATS_TEST_TMPDIR/hooks marker=$BATS_TEST_TMPDIR/marker
  mkdir -p "$d"
  cat >"$BATS_TEST_TMPDIR/hook.sh" <<EOF
#!/bin/sh
echo "\$1 \$(jq -r .id)" >>"$marker"
EOF
  chmod +x "$BATS_TEST_TMPDIR/hook.sh"
  cat >"$d/50-vm.json" <<EOF
{"version": "1.0.0", "hook": {"path": "$BATS_TEST_TMPDIR/hook.sh", "args": ["hook", "prestart"],
 "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
 "when": {"annotations": {"^kubevirt\\\\.io/domain$": "."}}, "stages": ["prestart"]}
EOF
  ctrd_config ".runtime.hooksDirs=[\"$d\"]"
  # shellcheck disable=SC2046
  ctrd_run "$id" "$ROOTFS" $(ctrd_compute_annotations) -- /bin/true
  [ "$status" -eq 0 ]
  [ "$(cat "$marker")" = "prestart $id" ]
  validate_spec "$(ctrd_captured "$id" after)"
  # a container without the annotation: no hook, spec as containerd wrote it
  ctrd_run "$id-2" "$ROOTFS" -- /bin/true
  [ "$status" -eq 0 ]
  [ "$(cat "$marker")" = "prestart $id" ]
  cmp "$(ctrd_captured "$id-2" before)" "$(ctrd_captured "$id-2" after)"
}

# ---- the node configuration files in config/ ----

@test "config: containerd-v2.toml gives containerd 1.x a handler l1vh running l1vh-shim" {
  run_logged containerd --config "$L1VH_TOP/config/containerd-v2.toml" config dump
  [ "$status" -eq 0 ]
  local section
  section=$(sed -n '/runtimes\.l1vh\]/,/untrusted_workload_runtime/p' <<<"$output")
  [[ $section == *'runtime_type = "io.containerd.runc.v2"'* ]]
  [[ $section == *'pod_annotations = ["kubevirt.io/domain", "l1vh.kubevirt.io/*"]'* ]]
  [[ $section == *'[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.l1vh.options]'* ]]
  [[ $section == *'BinaryName = "/usr/local/bin/l1vh-shim"'* ]]
}

@test "config: the containerd v3 and CRI-O drop-ins, RuntimeClass and KubeVirt CR say the same" {
  /usr/bin/python3 - "$L1VH_TOP/config" <<'PY'
import sys, tomllib, yaml, pathlib
d = pathlib.Path(sys.argv[1])
v3 = tomllib.loads((d / "containerd-v3.toml").read_text())
assert v3["version"] == 3
rt = v3["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["l1vh"]
assert rt["runtime_type"] == "io.containerd.runc.v2", rt
assert rt["pod_annotations"] == ["kubevirt.io/domain", "l1vh.kubevirt.io/*"], rt
assert rt["options"]["BinaryName"] == "/usr/local/bin/l1vh-shim", rt
v2 = tomllib.loads((d / "containerd-v2.toml").read_text())
assert v2["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["l1vh"] == rt
crio = tomllib.loads((d / "crio-l1vh.conf").read_text())
h = crio["crio"]["runtime"]["runtimes"]["l1vh"]
assert h["runtime_path"] == "/usr/local/bin/l1vh-shim" and h["runtime_type"] == "oci", h
rc = yaml.safe_load((d / "runtimeclass.yaml").read_text())
assert rc["apiVersion"] == "node.k8s.io/v1" and rc["kind"] == "RuntimeClass", rc
assert rc["metadata"]["name"] == "l1vh" and rc["handler"] == "l1vh", rc
kv = yaml.safe_load((d / "kubevirt-cr.yaml").read_text())
assert kv["kind"] == "KubeVirt" and kv["apiVersion"] == "kubevirt.io/v1", kv
assert kv["spec"]["configuration"]["defaultRuntimeClass"] == rc["metadata"]["name"], kv
print("config files agree")
PY
}
