# common.sh: helpers shared by the integration tests (sourced, not run):
# TAP-like checks, a network namespace with a veth pair whose root end the
# daemon drives with net_af_packet, and starting/stopping parcelsortd.
# Every test sources it after setting HERE; cleanup() removes everything.

ROOT=$(cd "$HERE/../.." && pwd)
ID=$$
NS=psns$ID
VA=psa$ID
VB=psb$ID
T=$(mktemp -d /tmp/ps-test.XXXXXX)
PID=""
RC=0

. "$HERE/lib/check.sh"

# plain_build_only WHY: a suite whose subject is not the C code (a browser,
# Prometheus) runs once, against the plain build; under the sanitized build
# it says why and stops (the test command runs every suite against both).
plain_build_only() {
    if meson introspect --buildoptions "$BUILD" 2>/dev/null |
        grep -q '"name": "b_sanitize", "value": "address'; then
        echo "# $1: run once, against the plain build"
        rm -rf "$T"
        exit 0
    fi
}

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

# The scanners' host: 198.18.0.1 and 2001:db8::1, plus 198.19.0.5 outside
# the daemon's allow-list.
setup_netns() {
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
}

# start_daemon NAME [options...]: parcelsortd on the veth, logging to
# $T/NAME.log, control socket $T/ctl-NAME.sock; waits until it is up.
start_daemon() {
    name=$1
    shift
    CTL="$T/ctl-$name.sock"
    # a restart under the same name must not read the last daemon's log
    rm -f "$T/$name.log"
    "$BUILD/parcelsortd" -l 0-1 --no-huge -m 512 --no-pci \
        --no-shconf --log-level=3 --file-prefix "ps$ID" \
        --vdev "net_af_packet0,iface=$VA" -- \
        --ip 198.18.0.2 --ip6 2001:db8::2 \
        --allow 198.18.0.0/24,2001:db8::/64 --state-dir "$T/state-$name" \
        --ctl "$CTL" --metrics off "$@" >"$T/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 120); do   # 30 s: a sanitized build on a busy machine
        grep -q "^parcelsortd: UDP port" "$T/$name.log" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.25
    done
    return 1
}

in_ns() { ip netns exec "$NS" "$@"; }
