#!/bin/sh
# demo.sh: the main job on its embedded default. Installs what is missing,
# builds, generates a Yiwu county sorting centre's scan traffic from the
# real region table, and runs parcelsortd for about 10 seconds on a virtual
# port replaying it (net_pcap, infinite_rx) with the bundled Yiwu plan,
# printing live rates and a summary by tier, reason and chute.
set -eu
cd "$(dirname "$0")/.."
BUILD=${PARCELSORT_BUILD:-build}
SECONDS_TO_RUN=${DEMO_SECONDS:-10}
DATAGRAMS=${DEMO_DATAGRAMS:-50000}
./scripts/setup.sh
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null
OUT=$(mktemp -d /tmp/parcelsort-demo.XXXXXX)
trap 'rm -rf "$OUT" "/var/run/dpdk/psdemo$$"' EXIT INT TERM

echo "== generating $DATAGRAMS scan batches of 1-22 records (40% Yiwu-local, 10% IPv6)"
"$BUILD/gen/parcelsort-gen" --pcap "$OUT/scans.pcap" --datagrams "$DATAGRAMS" \
    --home 330782 --home-share 0.4 --ipv6 0.1 --seed 2026 \
    --dst-mac 02:00:00:00:00:02
echo
echo "== parcelsortd on net_pcap (replaying the capture), plan config/yiwu.plan, ${SECONDS_TO_RUN} s"
echo "   (the capture repeats its waybills: after the first pass most sortable"
echo "    records are duplicates, as a recirculating sorter would make them)"
"$BUILD/parcelsortd" -l 0-1 --no-huge -m 1024 --no-pci --no-shconf \
    --log-level=3 --file-prefix "psdemo$$" --vdev "net_pcap0,rx_pcap=$OUT/scans.pcap,infinite_rx=1" -- \
    --ip 198.18.0.2 --ip6 2001:db8::2 --mac 02:00:00:00:00:02 \
    --allow 198.18.0.0/15,2001:db8::/32 \
    --plan config/yiwu.plan --state-dir "$OUT/state" --ctl "$OUT/ctl.sock" \
    --metrics off \
    --mbufs $((DATAGRAMS + 20000)) --duration "$SECONDS_TO_RUN" --stats 1
