# A virt-launcher-like container: a runc bundle that runs the host's libvirt
# daemon and QEMU (Debian 12: libvirt 9.0, QEMU 7.2), the way KubeVirt's
# compute container runs them, with no /dev/kvm in its spec.
# Used by tests/50-domain.bats and scripts/demo.sh (one recipe for both), so
# it needs bash, runc and jq, not bats.
#
#   launcher_bundle DIR [NAME]   make the bundle (annotated as a virt-launcher
#                                pod's compute container for VM NAME)
#   launcher_hook DIR HOOK CONFIG    add HOOK as its prestart hook
#   launcher_start DIR ID        runc run -d (fails when a hook fails)
#   launcher_dry_run DIR CONFIG [ARGS]  $HOOK dry-run, seeing the rootfs as runc does
#   launcher_wait ID             until libvirt answers
#   launcher_virsh ID ARGS...    virsh -c qemu:///system inside
#   launcher_define ID           define the 64 MiB type='qemu' domain and start it
#   launcher_qemu_cmdline ID     the running QEMU's command line (/proc/PID/cmdline)
#   launcher_info_kvm ID         QEMU's own answer: "kvm support: enabled|disabled"
#   launcher_delete ID           runc delete -f, quietly
#
# The recipe (testbed.md): host /usr and /etc bound read-only, with their own
# passwd/group (Debian's libvirt insists on user libvirt-qemu and group kvm),
# tmpfs /var /run /tmp, a writable /etc/libvirt with KubeVirt-like qemu.conf,
# the host's network namespace, and an init that reaps (QEMU daemonizes its
# capability probe; an unreaped zombie makes libvirt wait 40 seconds).

LAUNCHER_VM=${LAUNCHER_VM:-l1vh-vm}
LAUNCHER_WAIT_SECONDS=${LAUNCHER_WAIT_SECONDS:-60}

_launcher_jq() {
  local bundle=$1 filter=$2
  shift 2
  jq "$@" "$filter" "$bundle/config.json" >"$bundle/config.json.new" &&
    mv "$bundle/config.json.new" "$bundle/config.json"
}

launcher_bundle() {
  local b=$1 vm=${2:-$LAUNCHER_VM} d
  mkdir -p "$b" && b=$(cd "$b" && pwd) || return 1
  mkdir -p "$b"/rootfs/{usr,etc,var,run,tmp,proc,sys,dev,launcher} "$b/etc-libvirt" "$b/launcher"
  for d in bin sbin lib lib64; do
    ln -sfn "usr/$d" "$b/rootfs/$d"
  done
  # libvirt's own user and group are looked up before qemu.conf is read;
  # qemu is KubeVirt's uid 107.
  { grep -v -E '^(libvirt-qemu|qemu):' /etc/passwd
    echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin'
    echo 'qemu:x:107:107:qemu:/:/usr/sbin/nologin'; } >"$b/launcher/passwd"
  { grep -v -E '^(libvirt-qemu|qemu|kvm):' /etc/group
    echo 'libvirt-qemu:x:64055:'
    echo 'kvm:x:994:'
    echo 'qemu:x:107:'; } >"$b/launcher/group"
  # KubeVirt's virt-launcher writes a qemu.conf much like this one.
  cat >"$b/etc-libvirt/qemu.conf" <<'EOF'
user = "root"
group = "root"
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
EOF
  cat >"$b/launcher/dom.xml" <<EOF
<domain type='qemu'>
  <name>$vm</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
EOF
  cat >"$b/launcher/start.sh" <<'EOF'
#!/bin/sh
# The compute container's main process: virtlogd and the libvirt daemon,
# then reap children forever (pid 1 of the container).
ln -s /run /var/run
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt /var/cache/libvirt /run/libvirt
virtlogd -d || exit 1
libvirtd -d || exit 1
echo "launcher: libvirt started"
trap 'exit 0' TERM
while :; do sleep 3600 & wait; done
EOF
  chmod 0755 "$b/launcher/start.sh"
  (cd "$b" && rm -f config.json && runc spec) || return 1
  _launcher_jq "$b" '
    .process.terminal = false
    | .process.args = ["/bin/sh", "/launcher/start.sh"]
    | .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"]
    | .root = {"path": ($b + "/rootfs"), "readonly": true}
    | .hostname = "launcher"
    | .process.capabilities |= with_entries(.value = $caps)
    | .linux.namespaces |= map(select(.type != "network"))
    | .mounts += [
        {"destination": "/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]},
        {"destination": "/etc/passwd", "type": "bind", "source": ($b + "/launcher/passwd"), "options": ["bind", "ro"]},
        {"destination": "/etc/group", "type": "bind", "source": ($b + "/launcher/group"), "options": ["bind", "ro"]},
        {"destination": "/etc/libvirt", "type": "bind", "source": ($b + "/etc-libvirt"), "options": ["bind", "rw"]},
        {"destination": "/launcher", "type": "bind", "source": ($b + "/launcher"), "options": ["bind", "ro"]},
        {"destination": "/var", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}]
    | .annotations = {
        "io.kubernetes.container.name": "compute",
        "io.kubernetes.pod.name": ("virt-launcher-" + $vm + "-abcde"),
        "io.kubernetes.cri-o.ImageName": "quay.io/kubevirt/virt-launcher:v1.7.0",
        "kubevirt.io/domain": $vm}' \
    --arg b "$b" --arg vm "$vm" \
    --argjson caps '["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL",
      "CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_NET_ADMIN","CAP_NET_RAW",
      "CAP_SYS_CHROOT","CAP_MKNOD","CAP_AUDIT_WRITE","CAP_SETFCAP","CAP_SYS_ADMIN","CAP_SYS_NICE",
      "CAP_SYS_PTRACE","CAP_IPC_LOCK"]'
}

launcher_hook() {
  local b=$1 hook=$2 config=$3
  _launcher_jq "$b" '.hooks.prestart = [{"path": $hook,
      "args": ["l1vh-hook", "prestart", "--config", $config],
      "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}]' --arg hook "$hook" --arg config "$config"
}

# The image's /usr is the host's, bound on rootfs/usr in a private mount
# namespace that runc (and so the hook) runs in: like an image's overlay
# rootfs, it is visible where the hook looks for libvirt before it enters
# the container, and no mount is made in the host's namespace.
launcher_start() {
  local b=$1 id=$2
  unshare -m --propagation private sh -c '
    mount --bind /usr "$1/rootfs/usr" && mount -o remount,bind,ro "$1/rootfs/usr" &&
    exec runc run -d --bundle "$1" "$2"' launcher "$b" "$id" >"$b/run.log" 2>&1 </dev/null
}

# l1vh-hook dry-run on the bundle, seeing the rootfs as launcher_start's
# runc does (HOOK: the hook binary).
launcher_dry_run() {
  local b=$1 config=$2
  shift 2
  unshare -m --propagation private sh -c '
    b=$1 hook=$2 config=$3; shift 3
    mount --bind /usr "$b/rootfs/usr" && exec "$hook" dry-run --bundle "$b" --config "$config" "$@"' \
    launcher "$b" "$HOOK" "$config" "$@"
}

launcher_wait() {
  local id=$1 i
  for ((i = 0; i < LAUNCHER_WAIT_SECONDS * 5; i++)); do
    if runc exec "$id" virsh -q -c qemu:///system uri >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  echo "launcher: libvirt in $id did not answer within ${LAUNCHER_WAIT_SECONDS}s" >&2
  return 1
}

launcher_virsh() {
  local id=$1
  shift
  runc exec "$id" virsh -q -c qemu:///system "$@"
}

# KubeVirt defines the domain, then starts it.
launcher_define() {
  local id=$1
  launcher_virsh "$id" define /launcher/dom.xml >/dev/null &&
    launcher_virsh "$id" start "$LAUNCHER_VM" >/dev/null
}

launcher_qemu_pid() {
  runc exec "$1" cat "/run/libvirt/qemu/$LAUNCHER_VM.pid"
}

launcher_qemu_cmdline() {
  local id=$1 pid
  pid=$(launcher_qemu_pid "$id") || return 1
  runc exec "$id" cat "/proc/$pid/cmdline" | tr '\0' ' '
}

launcher_info_kvm() {
  launcher_virsh "$1" qemu-monitor-command "$LAUNCHER_VM" --hmp 'info kvm' | tr -d '\r'
}

launcher_delete() {
  runc delete -f "$1" >/dev/null 2>&1 || true
}

# ---- shared by the domain suites (50, 51) ----

# KVM works here: /dev/kvm opens (a node without its driver gives ENODEV).
kvm_works() {
  (exec 3<>/dev/kvm) 2>/dev/null
}

# The stand-in node config; more jq assignments as arguments.
standin_config() {
  write_config ".device.path=\"$STANDIN_DEVICE\"" '.domain.type="kvm"' '.domain.accel="kvm"' \
    '.memlock.when="never"' "$@"
}

# Bundle (unless the test made it) + hook + start + libvirt up.
launch() {
  [ -f "$bundle/config.json" ] || launcher_bundle "$bundle"
  launcher_hook "$bundle" "$HOOK" "$1"
  run_logged launcher_start "$bundle" "$id"
  cat "$bundle/run.log" >&2
  [ "$status" -eq 0 ]
  launcher_wait "$id"
}

