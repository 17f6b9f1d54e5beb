#!/bin/sh
# Install the Debian packages l1vh needs, only those missing.  Idempotent;
# needs root to install.  Usage: install-deps.sh build|test
set -eu

build="build-essential pkg-config libyajl-dev libseccomp-dev libcap-dev libmount-dev"
# What the tests run for real: runtimes, libvirt and qemu, and the tools the
# assertions use.
test="$build bats jq busybox-static runc podman containerd qemu-system-x86 \
libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients bpftool strace iproute2 util-linux python3-jsonschema python3 prometheus python3-yaml \
clang libclang-rt-14-dev valgrind"

case "${1:-}" in
build) want=$build ;;
test) want=$test ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
