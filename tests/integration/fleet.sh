#!/bin/sh
# fleet.sh: the fleet on real servers. A 3-node NATS cluster with JetStream
# on loopback and two sites (a and b), each a parcelsortd on a veth pair
# whose other end is a namespace with a kernel scanner, and a
# parcelsort-agent beside it. A plan pushed to one site, then to both, is
# active within a second and stamped on the replies; a bad plan is refused
# by the site, shows in `fleet status` with FILE:LINE, and the old plan
# keeps deciding; one NATS node is killed during pushes and event export,
# and an agent is killed and restarted mid-stream: pushes still land, no
# old revision is applied again; then the whole cluster is down for 3 s:
# the sites sort on, events wait in the spools (site b's small spool
# overflows, counted and logged); at the end the stream holds exactly the
# events the sites stored, none lost and none doubled, and the only gaps
# are the events site b's full spool refused.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ID=$$
T=$(mktemp -d /tmp/ps-fleet.XXXXXX)
. "$HERE/lib/nats.sh"
. "$HERE/lib/fleet.sh"
CTLBIN="$BUILD/control/parcelsortctl"
AGENT="$BUILD/fleet/parcelsort-agent"
PLAN="$ROOT/config/yiwu.plan"
PIDS=""
RESTART_AT=0        # agent a's log lines before its restart

cleanup() {
    for s in a b; do
        eval "p=\${AGENT_$s:-}"; [ -n "$p" ] && kill -9 "$p" 2>/dev/null
        eval "p=\${DAEMON_$s:-}"
        [ -n "$p" ] && stop_gently "$p"
        ip netns del "psf$s$ID" 2>/dev/null
        ip link del "pfa$s$ID" 2>/dev/null
        rm -rf "/var/run/dpdk/psf$s$ID"
    done
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    nats_stop
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

ctl() { s=$1; shift; "$CTLBIN" --ctl "$T/ctl-$s.sock" "$@"; }
in_ns() { s=$1; shift; ip netns exec "psf$s$ID" "$@"; }
# the value of a field of a site's status record (fleet status --json).
# An empty or cut-short answer (fleet status could not reach the cluster:
# a node killed, the outage, a slow start under the sanitizers) is "not
# yet": nothing printed, status 1, the callers poll on; each such try is
# noted in $T/field-misses and their number said at the end. An answer
# that parses but is not shaped as expected still fails loudly.
field() {
    _fa=$(fleet --json status --site "$1" 2>"$T/field.err")
    _frc=$?
    printf '%s' "$_fa" | python3 -c '
import json, sys
try:
    d = json.loads(sys.stdin.read())
except ValueError:          # empty or cut short: no answer (yet)
    sys.exit(3)
d = d[0]
s = d["status"] or {}
v = d["pushed_revision"] if sys.argv[1] == "pushed" else s.get(sys.argv[1], "")
print(v)' "$2"
    _fpy=$?
    [ "$_fpy" -eq 3 ] || return "$_fpy"
    echo "$(date -u +%T) field $1 $2: fleet status exit $_frc, ${#_fa} bytes; $(head -c 200 "$T/field.err" | tr '\n' ' ')" >>"$T/field-misses"
    return 1
}
# a counter of a site agent's event export (fleet status, "events");
# nothing while there is no answer or no such counter yet
events_field() {
    field "$1" events | python3 -c '
import ast, sys
try:
    print(ast.literal_eval(sys.stdin.read())[sys.argv[1]])
except (SyntaxError, ValueError, KeyError):
    pass' "$2"
}
# wait_handled SITE: until the agent has handled the pushed revision (10 s)
# (both read, not both missing)
wait_handled() {
    for _ in $(seq 1 100); do
        _wh_p=$(field "$1" pushed) && _wh_h=$(field "$1" revision) &&
            [ -n "$_wh_p" ] && [ "$_wh_p" = "$_wh_h" ] && return 0
        sleep 0.1
    done
    return 1
}

# a site: namespace + veth, parcelsortd with a spool, its agent
# site_up NAME [daemon options...]
site_up() {
    s=$1
    shift
    ns="psf$s$ID" va="pfa$s$ID" vb="pfb$s$ID"
    ip netns add "$ns" && ip link add "$va" type veth peer name "$vb" &&
    ip link set "$vb" netns "$ns" &&
    sysctl -qw "net.ipv6.conf.$va.disable_ipv6=1" && ip link set "$va" up &&
    ip netns exec "$ns" ip link set lo up &&
    ip netns exec "$ns" ip addr add 198.18.0.1/24 dev "$vb" &&
    ip netns exec "$ns" ip link set "$vb" up &&
    ip netns exec "$ns" ethtool -K "$vb" tx off >/dev/null || return 1
    "$BUILD/parcelsortd" -l 0-1 --no-huge -m 512 --no-pci --no-shconf \
        --log-level=3 --file-prefix "psf$s$ID" \
        --vdev "net_af_packet0,iface=$va" -- --ip 198.18.0.2 \
        --state-dir "$T/state-$s" --ctl "$T/ctl-$s.sock" --metrics off \
        --plan "$ROOT/config/example.plan" --export-spool "$T/spool-$s" \
        --idle-sleep-us 200 "$@" >"$T/daemon-$s.log" 2>&1 &
    eval "DAEMON_$s=$!"
    for _ in $(seq 1 120); do
        grep -q "^parcelsortd: UDP port" "$T/daemon-$s.log" && break
        sleep 0.25
    done
    agent_up "$s"
}

agent_up() {
    "$AGENT" --site "$1" --nats "$NATS_URLS" --ctl "$T/ctl-$1.sock" \
        --state "$T/agent-$1" --spool "$T/spool-$1" \
        >>"$T/agent-$1.log" 2>&1 &
    eval "AGENT_$1=$!"
}

nats_start
check "3-node NATS cluster with JetStream up" '[ $? -eq 0 ]'
fleet init --replicas 3 >"$T/init" 2>&1
check "fleet init creates the buckets and the stream" '[ $? -eq 0 ]'
site_up a && site_up b --spool-max-mb 2      # b: a small spool, to overflow
check "two sites up (parcelsortd + agent each)" \
    'ctl a status >/dev/null && ctl b status >/dev/null'
wait_for 30 '[ "$(field a outcome)" = waiting ] && [ "$(field b outcome)" = waiting ]'
check "agents report to the status bucket" \
    '[ "$(field a outcome)" = waiting ] && [ "$(field b outcome)" = waiting ]'

# --- a plan for one site, then for both -------------------------------
t0=$(date +%s%N)
fleet push "$PLAN" --site a >"$T/push1" 2>&1
wait_handled a
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
va=$(field a plan_version)
la=$(field a latency_ms)
# push to active is the site's own figure: from the push's time stamp
# (taken once fleet push has checked the plan) to the daemon's OK. The
# wall clock here also holds that offline check and this script's polling
# (slow under the sanitizers: 5.3 s once on a loaded machine), so it gets
# a loose bound, 10 s.
check "pushed to site a: active within a second ($la ms; ${ms} ms with the push's own plan check and polling)" \
    '[ "$(field a outcome)" = active ] && [ "$la" -ge 0 ] && [ "$la" -lt 1000 ] && [ "$ms" -lt 10000 ]'
check "site a's replies carry the new plan version $va" \
    '[ "$(in_ns a python3 "$HERE/ask.py" SF1000000000001 330782100201 --version | cut -d" " -f3)" = "$va" ]'
check "site b did not get it (still plan version 1)" \
    '[ "$(in_ns b python3 "$HERE/ask.py" SF1000000000002 330782100201 --version | cut -d" " -f3)" = 1 ]'

sed 's/^plan .*/plan yiwu-county-night/' "$PLAN" >"$T/night.plan"
t0=$(date +%s%N)
fleet push "$T/night.plan" --sites a,b >"$T/push2" 2>&1
wait_handled a && wait_handled b
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
va=$(field a plan_version); vb=$(field b plan_version)
la=$(field a latency_ms); lb=$(field b latency_ms)
check "pushed to both: active at each within a second (a $la ms, b $lb ms; ${ms} ms with the push's own check and polling)" \
    '[ "$(field a outcome)" = active ] && [ "$(field b outcome)" = active ] &&
     [ "$la" -ge 0 ] && [ "$la" -lt 1000 ] && [ "$lb" -ge 0 ] && [ "$lb" -lt 1000 ] && [ "$ms" -lt 10000 ]'
check "both sites stamp their replies with it (a v$va, b v$vb)" \
    '[ "$(in_ns a python3 "$HERE/ask.py" SF1000000000003 330782100201 --version | cut -d" " -f3)" = "$va" ] &&
     [ "$(in_ns b python3 "$HERE/ask.py" SF1000000000004 330782100201 --version | cut -d" " -f3)" = "$vb" ]'
check "the daemon's history names the fleet revision" \
    'ctl b plan history | grep -q "fleet revision $(field b revision)"'

# --- a bad plan: refused by the site, reported, the old plan decides --
cp "$PLAN" "$T/bad.plan"
printf 'route 330782 999999 1\n' >>"$T/bad.plan"      # unknown hub, prefix twice
fleet push "$T/bad.plan" --site b >/dev/null 2>&1
check "a bad plan is refused offline by fleet push (exit 1)" '[ $? -eq 1 ]'
fleet push "$T/bad.plan" --site b --no-check >/dev/null 2>&1
wait_handled b
fleet status >"$T/status" 2>&1
check "the site refused it; fleet status shows why, FILE:LINE" \
    '[ "$(field b outcome)" = refused ] && grep -q "refused" "$T/status" &&
     grep -Eq "bad.plan:[0-9]+: " "$T/status"'
check "site b keeps deciding with plan version $vb" \
    '[ "$(field b plan_version)" = "$vb" ] &&
     [ "$(in_ns b python3 "$HERE/ask.py" SF1000000000006 330782100201 --version | cut -d" " -f3)" = "$vb" ]'

# when each fault happened, by the sites' stored event counts: a gap in
# the stream is placed against them when the audit fails
mark() {
    printf '%s %s: a wrote %s, b wrote %s\n' "$(date +%T.%N | cut -c1-12)" "$1" \
        "$(ctl a --json stats 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["export"]["written"])' 2>/dev/null)" \
        "$(ctl b --json stats 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["export"]["written"])' 2>/dev/null)" \
        >>"$T/marks"
}

# --- traffic, pushes, a NATS node killed, an agent restarted ----------
for s in a b; do
    in_ns "$s" python3 "$HERE/live_traffic.py" run "$T/live-$s.log" "$T/stop" \
        >"$T/live-$s.out" 2>&1 &
    PIDS="$PIDS $!"
done
sleep 1
landed=0
for i in 1 2 3 4 5 6; do
    sed "s/^plan .*/plan yiwu-county-$i/" "$PLAN" >"$T/p$i.plan"
    fleet push "$T/p$i.plan" --sites a,b >>"$T/push3" 2>&1 && landed=$((landed + 1))
    [ "$i" = 2 ] && { mark "node 1 killed"; nats_kill 1; }
    if [ "$i" = 4 ]; then
        # the restarted agent skips the blocks more than a window
        # (PS_FLEET_WINDOW_MAX, 256) before the stream's last one: let
        # agent a publish well past that first, however slow the machine,
        # so that there are usually some to skip (how many is read from
        # the new agent's log at the end)
        for _ in $(seq 1 120); do
            [ "$(events_field a blocks)" -ge 600 ] 2>/dev/null && break
            sleep 0.25
        done
        revs_before=$(ctl a --json plan history | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
        # killed without warning, and its spool cursor lost with it: the
        # new agent reads the spool again from the oldest segment left
        mark "agent a killed"
        kill -9 "$AGENT_a"; wait "$AGENT_a" 2>/dev/null
        rm -f "$T/agent-a/cursor"
        RESTART_AT=$(wc -l <"$T/agent-a.log")   # the new agent's lines follow
        agent_up a
    fi
    sleep 0.5
done
check "pushes land while a NATS node is down ($landed of 6)" '[ "$landed" -eq 6 ]'
wait_handled a && wait_handled b
check "after the node kill and the agent restart, both sites run the last push" \
    '[ "$(field a outcome)" = active ] && [ "$(field b outcome)" = active ] &&
     ctl a plan show | grep -q "^plan yiwu-county-6" && ctl b plan show | grep -q "^plan yiwu-county-6"'
check "the restarted agent resumed from its last revision" \
    'grep -q "last revision handled [1-9]" "$T/agent-a.log"'
# every revision handled once: no revision number twice in the history
check "no revision applied twice at either site" \
    'for s in a b; do ctl $s plan history | grep -o "fleet revision [0-9]*" | sort | uniq -d | grep -q . && exit 1; done; true'
mark "node 1 restarted"
nats_restart 1
sleep 1

# --- the whole cluster down for 3 s while the scanners go on ------------
mark "cluster stopped"
nats_stop
sleep 1
check "with NATS down, the sites still sort" \
    '[ "$(in_ns a python3 "$HERE/ask.py" SF1000000000007 330782100201)" != "no reply" ]'
sleep 2
mark "cluster restarted"
for i in 1 2 3; do nats_run $i; done
sleep 3
touch "$T/stop"
for p in $PIDS; do wait "$p" 2>/dev/null; done   # the scanners stopped
PIDS=""
# each site's stats once its stored count stops moving (the last events of
# the last replies written), not after a fixed sleep
for s in a b; do
    prev=""
    for _ in $(seq 1 60); do
        ctl "$s" --json stats >"$T/stats-$s.json"
        now=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["export"]["written"])' "$T/stats-$s.json" 2>/dev/null)
        [ "$now" = "$prev" ] && break
        prev=$now
        sleep 0.5
    done
done
exported() { python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["export"]; print(e["written"], e["spool_overflow"], e["dropped"])' "$T/stats-$1.json"; }
# (retried below: an empty answer while the restarted cluster elects its
# leaders prints nothing)
audit() { fleet --json events --site "$1" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["events"], d["doubled"], d["missing"], d["malformed"], d["last"])' 2>/dev/null; }
for s in a b; do
    set -- $(exported "$s")
    written=$1 over=$2 dropped=$3
    got=""
    for _ in $(seq 1 60); do
        got=$(audit "$s")
        [ "${got%% *}" = "$written" ] && break
        sleep 0.5
    done
    eval "WRITTEN_$s=$written OVER_$s=$over GOT_$s=\"\$got\""
    fleet events --site "$s" >"$T/audit-$s" 2>&1
done
# what a failed audit below needs: where the gaps are, when the faults were
show_gaps() {
    { cat "$T/audit-$1" "$T/marks"; grep -h "agent\|spool" "$T/agent-$1.log" | tail -20; } |
        sed 's/^/# /'
}
check "site a: the stream holds exactly the $WRITTEN_a events it stored, none doubled, none missing (got: $GOT_a; events doubled missing malformed last)" \
    '[ "$WRITTEN_a" -gt 1000 ] && [ "$OVER_a" = 0 ] && [ "$GOT_a" = "$WRITTEN_a 0 0 0 $WRITTEN_a" ] || { show_gaps a; false; }'
check "site b: its 2 MB spool overflowed during the outage ($OVER_b events), said so in its log" \
    '[ "$OVER_b" -gt 0 ] && grep -q "export spool full" "$T/daemon-b.log"'
# the refused events are the gaps in the numbers, and those after the last
# stored one (refused when the scanners had stopped sending)
set -- $GOT_b
EV_b=${1:-} DOUBLED_b=${2:-} MISSING_b=${3:-} MALFORMED_b=${4:-} LAST_b=${5:-}
check "site b: the stream holds exactly the $WRITTEN_b events stored, none doubled; the $OVER_b refused are the gaps and the tail (got: $GOT_b)" \
    '[ "$EV_b" = "$WRITTEN_b" ] && [ "$DOUBLED_b" = 0 ] && [ "$MALFORMED_b" = 0 ] &&
     [ $((MISSING_b + WRITTEN_b + OVER_b - LAST_b)) -eq "$OVER_b" ] &&
     [ "$MISSING_b" -le "$OVER_b" ] || { show_gaps b; false; }'
# no daemon was killed: no spool bytes are torn, and a block is never
# taken for torn (a block appended as the agent found the end of the data
# was once skipped so: written, never published)
# (a status read can miss while the cluster settles: read until answered)
wait_for 10 '[ -n "$(events_field a torn_blocks)" ] && [ -n "$(events_field b torn_blocks)" ]'
TORN_a=$(events_field a torn_blocks) TORN_b=$(events_field b torn_blocks)
check "no spool block taken for torn (a: $TORN_a, b: $TORN_b)" \
    '[ "$TORN_a" = 0 ] && [ "$TORN_b" = 0 ]'
# The restarted agent logs the stream's last block as it found it at start
# (LAST) and the first spool block it read (FIRST; its cursor was deleted:
# the oldest segment's first block). It skips the blocks of that boot
# numbered up to LAST - 256 (ps_fleet_block_stored: seq + 256 <= LAST) and
# the spool's block numbers run on without gaps from FIRST (the daemon did
# not restart, a refused block takes no number), so it skips exactly
# max(0, LAST - 256 - FIRST + 1): none when its oldest segment begins in the
# stream's last window (a cursor saved just after a segment was begun).
# The skips are counted when their window is acknowledged, before the cursor
# passes them: a status report with no backlog left has them all (and the
# status is a 2 s heartbeat behind).
new_agent_log() { tail -n +$((RESTART_AT + 1)) "$T/agent-a.log"; }
LAST_BOOT="" LAST_SEQ="" FIRST_BOOT="" FIRST_SEQ="" EXPECT=""
set -- $(new_agent_log | sed -n -E "s/.*the stream's last event block is boot ([0-9a-f]+) block ([0-9]+);.*/\1 \2/p" | head -1)
[ $# -eq 2 ] && LAST_BOOT=$1 LAST_SEQ=$2
new_agent_log | grep -q "the stream holds no event block" && LAST_BOOT=none LAST_SEQ=0
set -- $(new_agent_log | sed -n -E 's/.*first spool block read is boot ([0-9a-f]+) block ([0-9]+)$/\1 \2/p' | head -1)
[ $# -eq 2 ] && FIRST_BOOT=$1 FIRST_SEQ=$2
if [ -n "$FIRST_SEQ" ] && [ "$LAST_BOOT" = none ]; then
    EXPECT=0
elif [ -n "$FIRST_SEQ" ] && [ "$LAST_BOOT" = "$FIRST_BOOT" ]; then
    EXPECT=$((LAST_SEQ - 256 - FIRST_SEQ + 1))
    [ "$EXPECT" -lt 0 ] && EXPECT=0
fi
[ -z "$EXPECT" ] ||
    wait_for 30 '[ "$(events_field a backlog_bytes)" = 0 ] &&
        [ "$(events_field a skipped_blocks)" -ge "$EXPECT" ]'
SKIPPED_a=$(events_field a skipped_blocks)
skip_ok() { [ -n "$EXPECT" ] && [ "$SKIPPED_a" = "$EXPECT" ]; }
check "the restarted agent skipped exactly the blocks more than a window before the stream's last one: $SKIPPED_a = max(0, LAST $LAST_SEQ - 256 - FIRST $FIRST_SEQ + 1) = $EXPECT" \
    'skip_ok'
if ! skip_ok; then
    echo "# the restarted agent's start (LAST, FIRST: boot $LAST_BOOT block $LAST_SEQ, boot $FIRST_BOOT block $FIRST_SEQ):"
    new_agent_log | grep -E "connected to|last event block|holds no event block|first spool block|last revision handled" | sed 's/^/#   /'
    echo "#   its status: $(field a events)"
fi
if [ -s "$T/field-misses" ]; then
    echo "# fleet status gave no answer to $(wc -l <"$T/field-misses") status reads (each polled again); the last:"
    tail -3 "$T/field-misses" | sed 's/^/#   /'
fi
