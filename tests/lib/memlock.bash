# Helpers for the RLIMIT_MEMLOCK suite (40-memlock.bats).  Load after lib/helpers.

# What the container prints: its init's limit (pid 1 in its pid namespace)
# and that of a process it starts later, as the libvirt daemon and qemu are
# started after prestart.  `tr -s` makes the /proc/PID/limits columns
# comparable: "init: Max locked memory 4194304 4194304 bytes".
MEMLOCK_ARGS='["/bin/sh", "-c", "echo started; echo \"init: $(grep \"Max locked\" /proc/1/limits | tr -s \" \")\"; sleep 1 & echo \"later: $(grep \"Max locked\" /proc/$!/limits | tr -s \" \")\"; kill $!"]'

# A CRI-O-annotated compute container printing its MEMLOCK limits.
memlock_bundle() {
  local bundle=$1
  make_bundle "$bundle" "$MEMLOCK_ARGS"
  annotate_crio "$bundle" compute
}

# A node config: gate on, /dev/kvm standing in for /dev/mshv, plus the jq
# assignments given.  The domain rewrite is off: these tests are about the
# limit, and a busybox rootfs has no libvirt to rewrite for.
memlock_config() {
  write_config ".device.path=\"$STANDIN_DEVICE\"" '.domain.strategy="off"' "$@"
}

# Add pod annotations (a jq object) to the bundle's spec.
memlock_annotate() {
  edit_spec "$1" ".annotations += $2"
}

# The hard RLIMIT_MEMLOCK this runner has (and the container inherits from
# runc), in bytes, or "unlimited".
memlock_hard_limit() {
  local kb
  kb=$(ulimit -H -l)
  if [ "$kb" = unlimited ]; then echo unlimited; else echo $((kb * 1024)); fi
}

# True when this process may raise hard limits (CAP_SYS_RESOURCE, bit 24).
memlock_can_raise() {
  local eff
  eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  (((0x$eff >> 24) & 1))
}

# Assert that the container's init and later process both show soft = hard
# = $2 bytes in $1 (the container's output).
assert_memlock_limits() {
  local output=$1 want=$2
  [[ $output == *"init: Max locked memory $want $want bytes"* ]] || {
    echo "init does not show $want" >&2
    return 1
  }
  [[ $output == *"later: Max locked memory $want $want bytes"* ]] || {
    echo "the later process does not show $want" >&2
    return 1
  }
}
