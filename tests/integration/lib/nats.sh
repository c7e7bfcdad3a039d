# nats.sh: a 3-node NATS cluster with JetStream on loopback for the fleet
# tests and benchmark (sourced, not run). Ports are free ones picked at
# start; store directories live under $T; nats_stop kills by pid.
#   nats_start           start n1..n3, wait until JetStream answers
#   nats_kill I          kill -9 node I;  nats_restart I  start it again
#   NATS_URLS            the client URLs, comma-separated
#   nats_stop            stop every node

free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

nats_conf() {
    i=$1
    routes=""
    for j in 1 2 3; do
        [ "$j" = "$i" ] && continue
        eval "rp=\$NATS_CPORT$j"
        routes="$routes nats-route://127.0.0.1:$rp"
    done
    eval "cp=\$NATS_PORT$i; rp=\$NATS_CPORT$i"
    mkdir -p "$T/nats/n$i"
    cat >"$T/nats/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$cp
max_payload: 8MB
jetstream {
    store_dir: "$T/nats/n$i"
    max_memory_store: 64MB
    max_file_store: 2GB
}
cluster {
    name: parcelsort-test
    listen: 127.0.0.1:$rp
    routes: [$(echo $routes | sed 's/ /, /g')]
}
CONF
}

nats_run() {
    nats-server -c "$T/nats/n$1.conf" >>"$T/nats/n$1.log" 2>&1 &
    eval "NATS_PID$1=$!"
}

nats_start() {
    set -- $(free_ports 6)
    NATS_PORT1=$1 NATS_PORT2=$2 NATS_PORT3=$3
    NATS_CPORT1=$4 NATS_CPORT2=$5 NATS_CPORT3=$6
    NATS_URLS="nats://127.0.0.1:$NATS_PORT1,nats://127.0.0.1:$NATS_PORT2,nats://127.0.0.1:$NATS_PORT3"
    export PARCELSORT_NATS="$NATS_URLS"
    for i in 1 2 3; do nats_conf $i; nats_run $i; done
    # JetStream is usable once the cluster has elected its meta leader
    for _ in $(seq 1 60); do
        grep -q "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" \
            "$T"/nats/n*.log 2>/dev/null && return 0
        sleep 0.25
    done
    return 1
}

nats_kill() { eval "kill -9 \$NATS_PID$1"; eval "wait \$NATS_PID$1" 2>/dev/null; }
nats_restart() { nats_run "$1"; }

nats_stop() {
    for i in 1 2 3; do
        eval "p=\${NATS_PID$i:-}"
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    NATS_PID1="" NATS_PID2="" NATS_PID3=""
}
