#!/bin/sh
# fleet_bench.sh: the fleet's two numbers, on a 3-node NATS cluster with
# JetStream on loopback (replicas 3), in one run:
#   1. events per second one site's agent publishes through JetStream: a
#      parcelsortd fills its spool from a generated capture, then an agent
#      publishes it from cold, once per window size (blocks in flight);
#      the agent's own log line gives events, blocks, seconds;
#   2. push-to-active latency across a fleet of two sites: plans pushed to
#      both, the latency each agent reports (its commit time less the push
#      time in the plan's trailer), p50/p99/max;
#   3. pre-advice entries per second one site's agent takes from its
#      manifest stream into the daemon: a manifest of MAN_ENTRIES (default
#      2,000,000) pushed while the agent is down, then the agent started;
#      the time from its start until it logs the last batch, and the sum
#      of its per-batch apply times (from its log).
#      Each run has a daemon of its own, started empty, and a site of its
#      own; the CPU seconds the agent, the daemon and the three servers
#      spent from the agent's start to its last batch are given too.
#   bench/fleet_bench.sh [OUT_DIR]      (results: OUT_DIR/fleet.md)
#   PSD=path runs another parcelsortd for 3 (default: $BUILD's)
#   FLEET_PARTS="3" runs only the parts named (default "1 2 3")
#   AGENTS="new=PATH old=PATH" MAN_RUNS=N: part 3 N rounds, each running
#      the agents named in turn (paired: ratios within a round), default
#      one run of $BUILD's agent
#   MAN_VDEV=net_ring0: part 3's daemon without traffic (default net_null0,
#      whose worker handles an endless stream of empty packets, a core's
#      worth on a small machine)
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${PARCELSORT_BUILD:-$ROOT/build}
OUT=${1:-$ROOT/results/fleet-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
T=$(mktemp -d /tmp/ps-fleetbench.XXXXXX)
PUSHES=${FLEET_PUSHES:-40}
MAN_ENTRIES=${MAN_ENTRIES:-2000000}
PARTS=" ${FLEET_PARTS:-1 2 3} "
AGENTS=${AGENTS:-this=$BUILD/fleet/parcelsort-agent}
MAN_RUNS=${MAN_RUNS:-1}
MAN_VDEV=${MAN_VDEV:-net_null0}
PSD=${PSD:-$BUILD/parcelsortd}
PIDS=""
. "$ROOT/tests/integration/lib/nats.sh"
cleanup() {
    for p in $PIDS; do kill -INT "$p" 2>/dev/null; done
    sleep 1
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    nats_stop
    rm -rf "$T" /var/run/dpdk/psfb$$*
}
trap cleanup EXIT INT TERM
CTL="$BUILD/control/parcelsortctl"
EAL="-l 0-1 --no-huge -m 512 --no-pci --no-shconf --log-level=3"

nats_start || { echo "fleet_bench: NATS cluster did not start"; exit 1; }
"$CTL" fleet init --replicas 3 >/dev/null || exit 1

{
echo "# Fleet benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "3-node nats-server $(nats-server --version | sed 's/.*v//') cluster on loopback, JetStream"
echo "file storage, stream and buckets with 3 replicas; $(nproc) cores shared by"
echo "the three servers, the agent and this script. Load average at the start:"
echo "$(cut -d' ' -f1-3 /proc/loadavg)."
} >"$OUT/fleet.md"

# ---- 1. export rate -----------------------------------------------------
case $PARTS in *" 1 "*)
"$BUILD/gen/parcelsort-gen" --pcap "$T/traffic.pcap" --datagrams 100000 \
    --records 1-16 --seed 5 --quiet --dst-mac 02:00:00:00:00:02
"$BUILD/parcelsortd" $EAL --file-prefix "psfb$$" \
    --vdev "net_pcap0,rx_pcap=$T/traffic.pcap,tx_pcap=/dev/null" -- \
    --ip 198.18.0.2 --mac 02:00:00:00:00:02 --plan config/yiwu.plan \
    --state-dir "$T/st" --ctl "$T/c.sock" --metrics off --duration 3 \
    --export-spool "$T/spool.master" >"$T/fill.log" 2>&1
spooled=$(sed -n 's/^spooled: \([0-9]*\) events in \([0-9]*\) blocks.*/\1 \2/p' "$T/fill.log")
echo "spool filled: $spooled (events blocks)"
{
echo
echo "## Events exported through JetStream, one site"
echo
echo "The daemon's spool holds $(echo $spooled | cut -d' ' -f1) events in $(echo $spooled | cut -d' ' -f2) blocks (up to 256 events"
echo "each, one JetStream message per block); an agent publishes it from cold."
echo
echo "| window (blocks in flight) | events | blocks | seconds | events/s | MB/s |"
echo "|---:|---:|---:|---:|---:|---:|"
} >"$OUT/fleet.md"
bytes=$(du -sb "$T/spool.master" | cut -f1)
for w in 1 8 64 256; do
    rm -rf "$T/spool" "$T/agent"
    cp -r "$T/spool.master" "$T/spool"
    "$BUILD/fleet/parcelsort-agent" --site "bench-w$w-$$" --nats "$NATS_URLS" \
        --ctl "$T/none.sock" --state "$T/agent" --spool "$T/spool" \
        --window "$w" >"$T/agent-$w.log" 2>&1 &
    ap=$!
    for _ in $(seq 1 1200); do
        grep -q "events/s" "$T/agent-$w.log" && break
        sleep 0.1
    done
    kill -INT "$ap"; wait "$ap" 2>/dev/null
    line=$(grep "events/s" "$T/agent-$w.log" | head -1)
    ev=$(echo "$line" | sed 's/.*published \([0-9]*\) events in \([0-9]*\) blocks in \([0-9.]*\) s.*/\1 \2 \3/')
    set -- $ev
    rate=$(python3 -c "print('%.0f %.1f' % ($1 / $3, $bytes / $3 / 1e6))")
    echo "window $w: $1 events, $2 blocks, $3 s, $rate (events/s MB/s)"
    echo "| $w | $1 | $2 | $3 | ${rate% *} | ${rate#* } |" >>"$OUT/fleet.md"
done

;; esac

# ---- 2. push-to-active latency --------------------------------------------
case $PARTS in *" 2 "*)
for s in s1 s2; do
    "$BUILD/parcelsortd" $EAL --file-prefix "psfb$$$s" --vdev net_ring0 -- \
        --ip 198.18.0.2 --plan config/example.plan --state-dir "$T/st-$s" \
        --ctl "$T/ctl-$s.sock" --metrics off --idle-sleep-us 1000 \
        --no-summary >"$T/d-$s.log" 2>&1 &
    PIDS="$PIDS $!"
    for _ in $(seq 1 40); do [ -S "$T/ctl-$s.sock" ] && break; sleep 0.25; done
    "$BUILD/fleet/parcelsort-agent" --site "$s-$$" --nats "$NATS_URLS" \
        --ctl "$T/ctl-$s.sock" --state "$T/ag-$s" >"$T/ag-$s.log" 2>&1 &
    PIDS="$PIDS $!"
done
sleep 1
for i in $(seq 1 "$PUSHES"); do
    sed "s/^plan .*/plan bench-$i/" config/yiwu.plan >"$T/p.plan"
    "$CTL" fleet push "$T/p.plan" --sites "s1-$$,s2-$$" >/dev/null
    sleep 0.3
done
sleep 2
cat "$T"/ag-s*.log | sed -n 's/.* \([0-9]*\) ms after the push/\1/p' >"$T/lat"
python3 - "$T/lat" "$PUSHES" >>"$OUT/fleet.md" <<'PY'
import sys
v = sorted(int(x) for x in open(sys.argv[1]) if x.strip())
n = len(v)
def pct(p): return v[min(n - 1, int(p / 100.0 * n))]
print("\n## Push-to-active latency, two sites\n")
print("%s plans (the Yiwu plan, 598 routes) pushed to both sites, 0.3 s apart;" % sys.argv[2])
print("latency = the agent's commit time less the push time in the plan's")
print("trailer (one clock, milliseconds): bucket put, watch delivery, control")
print("socket, parse, compile, RCU publication.\n")
print("| commits | p50 ms | p99 ms | max ms |")
print("|---:|---:|---:|---:|")
print("| %d | %d | %d | %d |" % (n, pct(50), pct(99), v[-1]) if n else "| 0 | - | - | - |")
PY
;; esac

# ---- 3. manifest entries into the daemon ------------------------------------
# CPU seconds (user + system) of the processes given
cpu_s() {
    for p in "$@"; do sed 's/.*) //' "/proc/$p/stat" 2>/dev/null; done |
        awk -v hz="$(getconf CLK_TCK)" '{ t += $12 + $13 } END { printf "%.2f", t / hz }'
}
# CPU seconds of the daemon's control thread (it runs the loads)
ctl_cpu_s() {
    for t in /proc/$1/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = ps-control ] && cpu_s_of "$t/stat"
    done
}
cpu_s_of() {
    sed 's/.*) //' "$1" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }'
}
# one run: agent $2 (labelled $1) takes a fresh site's manifest into a
# fresh daemon; a row of the table
man_run() {
    label=$1 agent=$2 k=$3
    "$PSD" $EAL --file-prefix "psfb$$m$k" --vdev "$MAN_VDEV" -- \
        --ip 198.18.0.2 --plan config/example.plan --state-dir "$T/st-m$k" \
        --ctl "$T/ctl-m$k.sock" --metrics off --idle-sleep-us 1000 \
        --no-summary >"$T/d-m$k.log" 2>&1 &
    dp=$!
    for _ in $(seq 1 40); do [ -S "$T/ctl-m$k.sock" ] && break; sleep 0.25; done
    "$CTL" fleet manifest push "$T/pre.csv" --site "m$k-$$" --replicas 3 >"$T/mpush$k" 2>&1
    last=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/mpush$k")
    nb=$(sed -n 's/.* in \([0-9]*\) batch.*/\1/p' "$T/mpush$k")
    load=$(cut -d' ' -f1 /proc/loadavg)
    c0="$(ctl_cpu_s $dp) $(cpu_s $NATS_PID1 $NATS_PID2 $NATS_PID3)"
    t0=$(date +%s.%N)
    "$agent" --site "m$k-$$" --nats "$NATS_URLS" \
        --ctl "$T/ctl-m$k.sock" --state "$T/ag-m$k" >"$T/ag-m$k.log" 2>&1 &
    ap=$!
    for _ in $(seq 1 6000); do
        grep -q "manifest revision ${last:-none} " "$T/ag-m$k.log" && break
        sleep 0.05
    done
    t1=$(date +%s.%N)
    c1="$(cpu_s $ap) $(ctl_cpu_s $dp) $(cpu_s $NATS_PID1 $NATS_PID2 $NATS_PID3)"
    entries=$("$CTL" --ctl "$T/ctl-m$k.sock" --json manifest stats |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
    applied_ms=$(sed -n 's/.* lines applied in \([0-9]*\) ms/\1/p' "$T/ag-m$k.log" |
        python3 -c 'import sys; print(sum(int(x) for x in sys.stdin))')
    kill -INT "$ap" "$dp"; wait "$ap" "$dp" 2>/dev/null
    rm -rf "$T/st-m$k" "$T/ag-m$k"
    python3 - "$label" "$MAN_ENTRIES" "$nb" "$t0" "$t1" "$applied_ms" "$entries" "$load" $c0 $c1 <<'PY'
import sys
label, n, nb, t0, t1, ams, ent, load, d0, s0, ag, d1, s1 = sys.argv[1:]
n, wall, ams = int(n), float(t1) - float(t0), int(ams or 0)
print("| %s | %d | %s | %.2f | %.0f | %.2f | %.0f | %s | %s | %.2f | %.2f | %s |" % (
    label, n, nb, wall, n / wall, ams / 1000.0, n / (ams / 1000.0) if ams else 0,
    ent, ag, float(d1) - float(d0), float(s1) - float(s0), load))
PY
}
case $PARTS in *" 3 "*)
python3 - "$T/pre.csv" "$MAN_ENTRIES" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("BM%013d,%d\n" % (i, 330782100201 + i % 97))
PY
size=$(du -b "$T/pre.csv" | cut -f1)
{
echo
echo "## Manifest entries into the daemon, one site"
echo
echo "A manifest of $MAN_ENTRIES entries ($((size / 1000000)) MB) pushed to a site's stream (3 replicas)"
echo "while its agent is down; then the agent started, with a daemon of its own"
echo "started empty. Wall: from the agent's start (connect, consumer) to its log"
echo "line for the last batch; apply: the sum of its per-batch times (manifest"
echo "load parts and commit through the control socket, as the daemon runs them);"
echo "CPU: seconds of user and system time over the wall of the agent, the"
echo "daemon's control thread (which runs the loads) and the three servers; load:"
echo "the 1-minute load average at the start. The daemon's port: $MAN_VDEV."
echo
echo "| agent | entries | batches | wall s | entries/s (wall) | apply s | entries/s (apply) | daemon entries | agent CPU s | daemon control CPU s | servers CPU s | load |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >>"$OUT/fleet.md"
k=0
for r in $(seq 1 "$MAN_RUNS"); do
    for a in $AGENTS; do
        k=$((k + 1))
        row=$(man_run "${a%%=*}" "${a#*=}" "$k")
        echo "$row"
        echo "$row" >>"$OUT/fleet.md"
    done
done
;; esac
cat "$OUT/fleet.md"
