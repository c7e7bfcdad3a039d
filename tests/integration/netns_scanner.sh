#!/bin/sh
# netns_scanner.sh: parcelsortd on net_af_packet over a veth pair whose other
# end sits in a network namespace made for the test, where ordinary kernel
# clients play the scanners: ARP and neighbour discovery resolve the
# dataplane (no static entries), ping and ping6 work, every reason code is
# produced and checked against the reference model, duplicates are seen
# across sockets and address families, broken datagrams and senders outside
# the allow-list get nothing. Addresses: 198.18.0.0/15, 2001:db8::/32.
# Removes its namespace, links and daemon even when it fails.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ID=$$
NS=psns$ID
VA=psa$ID
VB=psb$ID
T=$(mktemp -d /tmp/ps-netns-test.XXXXXX)
PID=""
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

stop_daemon() {
    if [ -n "$PID" ]; then
        kill -INT "$PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.5
        done
        kill -9 "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        RC=$?
        PID=""
    fi
}
cleanup() {
    stop_daemon
    ip netns del "$NS" 2>/dev/null
    ip link del "$VA" 2>/dev/null
    rm -rf "/var/run/dpdk/ps$ID"
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" -ne 0 ]; then
    echo "not ok - needs root for network namespaces"; exit 1
fi
ip netns add "$NS" &&
ip link add "$VA" type veth peer name "$VB" &&
ip link set "$VB" netns "$NS" &&
sysctl -qw "net.ipv6.conf.$VA.disable_ipv6=1" &&
ip link set "$VA" up &&
ip netns exec "$NS" ip link set lo up &&
ip netns exec "$NS" ip addr add 198.18.0.1/24 dev "$VB" &&
ip netns exec "$NS" ip addr add 198.19.0.5/32 dev "$VB" &&
ip netns exec "$NS" ip -6 addr add 2001:db8::1/64 dev "$VB" nodad &&
ip netns exec "$NS" ip link set "$VB" up &&
# a veth hands the kernel's frames over with the UDP checksum left to a
# NIC that is not there; a real NIC fills it in: make the kernel do it
ip netns exec "$NS" ethtool -K "$VB" tx off >/dev/null
check "namespace and veth pair set up" '[ $? -eq 0 ]'

start_daemon() {    # name, extra options...
    name=$1
    shift
    "$BUILD/parcelsortd" -l 0-1 --no-huge -m 512 --no-pci \
        --no-shconf --log-level=3 --file-prefix "ps$ID" \
        --vdev "net_af_packet0,iface=$VA" -- \
        --ip 198.18.0.2 --ip6 2001:db8::2 \
        --allow 198.18.0.0/24,2001:db8::/64 --state-dir "$T/state-$name" \
        --ctl "$T/ctl-$name.sock" --metrics off \
        "$@" >"$T/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 40); do
        grep -q "^parcelsortd: UDP port" "$T/$name.log" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.25
    done
    return 1
}

scanner() {
    PS_SEEN="$T/seen" ip netns exec "$NS" python3 "$HERE/scanner.py" "$@"
}

# phase 1: no plan yet
start_daemon noplan
check "daemon starts without a plan" '[ $? -eq 0 ]'
check "ping resolves the dataplane by ARP" \
    'ip netns exec "$NS" ping -c 2 -W 2 -i 0.2 198.18.0.2 >/dev/null'
check "ping6 resolves it by neighbour discovery" \
    'ip netns exec "$NS" ping -6 -c 2 -W 2 -i 0.2 2001:db8::2 >/dev/null'
check "the neighbour entries were learned, not static" \
    'ip netns exec "$NS" ip neigh show 198.18.0.2 | grep -qv PERMANENT &&
     ip netns exec "$NS" ip -6 neigh show 2001:db8::2 | grep -qv PERMANENT'
scanner noplan --plan none
stop_daemon
check "SIGINT stops it with exit 0" '[ "$RC" -eq 0 ]'
check "it printed its final counters" 'grep -q "parcelsortd summary" "$T/noplan.log"'

# phase 2: the spec's example plan, chute 31 closed before the start
mkdir -p "$T/state-main"
printf '# disabled chutes\n31\n' >"$T/state-main/chutes"
start_daemon main --plan "$ROOT/config/example.plan"
check "daemon starts with the example plan" '[ $? -eq 0 ]'
scanner main --plan "$ROOT/config/example.plan" --disabled 31
stop_daemon
check "dropped frames are counted: not_allowed, port, header causes" \
    'grep -q "not_allowed 1" "$T/main.log" && grep -q "port 1" "$T/main.log" &&
     grep -q "hdr_magic 1" "$T/main.log" && grep -q "hdr_length" "$T/main.log"'
check "answered + dropped = received" \
    'grep -q "answered + dropped = rx: yes" "$T/main.log"'

# phase 3: a plan without a default
grep -v '^default' "$ROOT/config/example.plan" >"$T/nodefault.plan"
start_daemon noroute --plan "$T/nodefault.plan"
scanner noroute --plan "$T/nodefault.plan"
stop_daemon

for r in ROUTED OVERRIDE DEFAULT DUPLICATE TRACK_ONLY NO_ROUTE NOREAD \
         BAD_BARCODE MALFORMED_RECORD CHUTE_UNAVAILABLE NO_PLAN; do
    check "reason $r exercised" 'grep -qx "$r" "$T/seen"'
done
