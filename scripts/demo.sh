#!/bin/sh
# demo.sh: the main job on its embedded default. Installs what is missing,
# builds, generates a county sorting centre's scan traffic from the real
# region table and runs the codec self-check over it (the dataplane demo
# replaces the self-check once parcelsortd exists).
set -eu
cd "$(dirname "$0")/.."
BUILD=${PARCELSORT_BUILD:-build}
./scripts/setup.sh
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null
OUT=$(mktemp -d /tmp/parcelsort-demo.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
echo "== generating 20000 scan batches (Yiwu-local share 40%, 10% IPv6)"
"$BUILD/gen/parcelsort-gen" --pcap "$OUT/scans.pcap" --datagrams 20000 \
    --home 330782 --home-share 0.4 --ipv6 0.1 --seed 2026 --verify
echo "== first frames as tcpdump sees them"
tcpdump -nr "$OUT/scans.pcap" -c 3 2>/dev/null
