#!/bin/sh
# setup.sh: install the Debian packages parcelsort needs, only those missing.
# Quiet and quick when everything is already present; safe to run repeatedly.
set -eu

PKGS="build-essential pkg-config meson ninja-build
libdpdk-dev dpdk dpdk-dev dpdk-doc
liburcu-dev libjemalloc-dev libcriterion-dev nats-server libnats-dev libsodium-dev
libjansson-dev
libpcap-dev tcpdump iproute2 iputils-ping ethtool
libsystemd-dev systemd debhelper dpkg-dev fakeroot lintian groff-base man-db bash-completion
bsdextrautils
clang libclang-rt-14-dev python3 gzip
prometheus chromium nodejs"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "setup: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "setup: done" >&2
