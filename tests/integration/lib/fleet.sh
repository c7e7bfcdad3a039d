# fleet.sh: the setup the fleet's end-to-end tests share (sourced, not
# run; defines functions only): one nats-server with JetStream (its store
# in the test's directory, a free port, the default 1 MB messages), one
# parcelsortd on net_null, the site's agent (site a), the ctl_steal.py
# proxy, and the cleanup that stops them all by pid. Set HERE and BUILD.
#   fleet_begin NAME PREFIX   $T (/tmp/ps-NAME.*), the binaries, the
#                        cleanup on exit; PREFIX: the daemon's DPDK file
#                        prefix. PSD=path and PS_AGENT=path run another
#                        parcelsortd and agent.
#   fleet_nats_start     nats-server up, PARCELSORT_NATS exported
#   fleet_init_wait      `fleet init` until the server answers ($T/init)
#   fleet_daemon_start   parcelsortd ($PSD, default $BUILD's) until it serves
#   agent_up [ARGS]      the agent of site a on $AGENT_CTL (default the
#                        daemon's socket), its log appended to $T/agent.log
#   agent_stop           SIGTERM, waited for
#   steal_up / steal_stop   ctl_steal.py on $T/steal.sock before the daemon
#   stop_gently PID      SIGINT, up to 3 s, then SIGKILL (a daemon)
#   fleet(), ctl(), check()

fleet_begin() {
    FLEET_PREFIX=$2
    ROOT=$(cd "$HERE/../.." && pwd)
    T=$(mktemp -d "/tmp/ps-$1.XXXXXX")
    CTLBIN="$BUILD/control/parcelsortctl"
    AGENT=${PS_AGENT:-$BUILD/fleet/parcelsort-agent}
    PSD=${PSD:-$BUILD/parcelsortd}
    AGENT_CTL="$T/ctl.sock"
    NATS_PID="" DAEMON="" AGENT_PID="" STEAL_PID=""
    trap fleet_cleanup EXIT INT TERM
}

. "$HERE/lib/check.sh"
fleet() { "$CTLBIN" fleet "$@"; }
ctl() { "$CTLBIN" --ctl "$T/ctl.sock" "$@"; }

fleet_cleanup() {
    [ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
    [ -n "$STEAL_PID" ] && kill -9 "$STEAL_PID" 2>/dev/null
    [ -n "$DAEMON" ] && stop_gently "$DAEMON"
    [ -n "$NATS_PID" ] && kill -9 "$NATS_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "/var/run/dpdk/$FLEET_PREFIX$$"
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}

stop_gently() {
    kill -INT "$1" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$1" 2>/dev/null || break; sleep 0.3
    done
    kill -9 "$1" 2>/dev/null
}

fleet_nats_start() {
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    export PARCELSORT_NATS="nats://127.0.0.1:$PORT"
    mkdir -p "$T/js"
    nats-server -a 127.0.0.1 -p "$PORT" -js -sd "$T/js" >"$T/nats.log" 2>&1 &
    NATS_PID=$!
}

fleet_init_wait() {
    for _ in $(seq 1 40); do fleet init >"$T/init" 2>&1 && return 0; sleep 0.25; done
    return 1
}

fleet_daemon_start() {
    "$PSD" -l 0-1 --no-huge -m 256 --no-pci --no-shconf \
        --log-level=3 --file-prefix "$FLEET_PREFIX$$" --vdev net_null0 -- \
        --ip 198.18.0.2 --state-dir "$T/state" --ctl "$T/ctl.sock" \
        --metrics off --plan "$ROOT/config/example.plan" >"$T/daemon.log" 2>&1 &
    DAEMON=$!
    for _ in $(seq 1 40); do
        grep -q "^parcelsortd: UDP port" "$T/daemon.log" && break; sleep 0.25
    done
}

agent_up() {
    "$AGENT" --site a --ctl "$AGENT_CTL" --state "$T/agent" "$@" \
        >>"$T/agent.log" 2>&1 &
    AGENT_PID=$!
}
agent_stop() { kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=""; }

# a proxy on the control socket that begins a load of its own between a
# client's begin and part (the daemon drops the client's load)
steal_up() {
    python3 "$HERE/ctl_steal.py" "$T/steal.sock" "$T/ctl.sock" >"$T/steal.log" 2>&1 &
    STEAL_PID=$!
    for _ in $(seq 1 40); do [ -S "$T/steal.sock" ] && break; sleep 0.1; done
}
steal_stop() { kill "$STEAL_PID"; wait "$STEAL_PID" 2>/dev/null; STEAL_PID=""; }
