#!/bin/sh
# pcap_decisions.sh: pcap in, pcap out. parcelsortd replays generated scan
# traffic (IPv4, IPv6, VLAN-tagged, with NOREADs, invalid barcodes,
# re-scans, and requests broken at the datagram and record level) from
# net_pcap and writes its replies to a pcap; an independent Python model of
# the protocol (reference.py) computes what every reply must be.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d /tmp/ps-pcap-test.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T" "/var/run/dpdk/ps$$"; }
trap cleanup EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

run_case() {        # name, plan, generator options...
    name=$1 plan=$2
    shift 2
    "$BUILD/gen/parcelsort-gen" --pcap "$T/gen.pcap" --quiet \
        --dst-mac 02:00:00:00:00:02 "$@"
    python3 "$HERE/reference.py" mutate "$T/gen.pcap" "$T/in.pcap" >/dev/null
    rm -f "$T/out.pcap"
    "$BUILD/parcelsortd" -l 0-1 --no-huge -m 512 --no-pci \
        --no-shconf --log-level=3 --file-prefix "ps$$" \
        --vdev "net_pcap0,rx_pcap=$T/in.pcap,tx_pcap=$T/out.pcap" -- \
        --ip 198.18.0.2 --ip6 2001:db8::2 --mac 02:00:00:00:00:02 \
        --plan "$plan" --state-dir "$T/state-$name" --duration 3 \
        --ctl "$T/ctl.sock" --metrics off \
        --no-summary >"$T/daemon.log" 2>&1
    check "$name: daemon ran and exited 0" '[ $? -eq 0 ]'
    python3 "$HERE/reference.py" check "$plan" "$T/in.pcap" "$T/out.pcap" |
        sed "s/^\(not \)\{0,1\}ok - /&$name: /"
}

run_case yiwu "$ROOT/config/yiwu.plan" --datagrams 3000 --seed 11 \
    --ipv6 0.3 --home 330782 --home-share 0.5 --rescan 0.2 --noread 0.05 \
    --invalid 0.05
run_case example "$ROOT/config/example.plan" --datagrams 2000 --seed 12 \
    --records 1-3 --vlan 7 --unknown 0.2
run_case full-batches "$ROOT/config/yiwu.plan" --datagrams 1000 --seed 13 \
    --records 22
