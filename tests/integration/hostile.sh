#!/bin/sh
# hostile.sh: the real daemon under hostile traffic interleaved with valid
# requests (see hostile.py): every valid request still gets its correct
# reply, nothing it should drop is answered, and the drop counters account
# for every frame.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d /tmp/ps-hostile.XXXXXX)
trap 'rm -rf "$T" "/var/run/dpdk/ps$$"' EXIT
PLAN="$ROOT/config/yiwu.plan"
"$BUILD/gen/parcelsort-gen" --pcap "$T/gen.pcap" --datagrams 800 --seed 21 \
    --ipv6 0.3 --home 330782 --home-share 0.5 --quiet --dst-mac 02:00:00:00:00:02
python3 "$HERE/hostile.py" make "$T/gen.pcap" "$T/in.pcap" "$PLAN"
"$BUILD/parcelsortd" -l 0-1 --no-huge -m 512 --no-pci --no-shconf \
    --log-level=3 --file-prefix "ps$$" \
    --vdev "net_pcap0,rx_pcap=$T/in.pcap,tx_pcap=$T/out.pcap" -- \
    --ip 198.18.0.2 --ip6 2001:db8::2 --mac 02:00:00:00:00:02 \
    --allow 198.18.0.0/24,2001:db8::/64 --plan "$PLAN" \
    --state-dir "$T/state" --ctl "$T/ctl.sock" --metrics off \
    --duration 3 >"$T/log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then echo "ok - the daemon ran through it (exit 0)"
else echo "not ok - the daemon exited $rc"; cat "$T/log"; fi
cd "$HERE" && python3 hostile.py check "$T/in.pcap" "$T/out.pcap" "$PLAN" "$T/log"
