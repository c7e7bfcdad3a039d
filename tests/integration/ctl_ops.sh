#!/bin/sh
# ctl_ops.sh: the real parcelsortctl against the real parcelsortd, as ops
# run a sorting centre: plans loaded, diffed, shown, listed, rolled back
# and scheduled; an invalid plan refused with FILE:LINE while the old plan
# keeps deciding; staged edits committed and aborted; a closed chute
# diverting parcels as the protocol says; `route get` agreeing with real
# decisions; plans pushed while a scanner sends without pause (every reply
# agrees with the plan version it reports, none lost); DPDK's
# dpdk-telemetry.py and an HTTP client reading the counters.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns
ctl() { "$BUILD/control/parcelsortctl" --ctl "$CTL" "$@"; }
PLAN="$ROOT/config/example.plan"
CTL="$T/ctl-ops.sock"

# plan B: the example with other hubs and chutes for the same regions
sed -e 's/^route 33 .*/route 33 110 13,14/' -e 's/^route 330782 .*/route 330782 200 22/' \
    -e 's/^rule 10 .*/rule 10 900 92 service=cold_chain/' "$PLAN" >"$T/b.plan"
printf 'plan broken\nsite 1 33\nreject 9\nhub 1 trunk T\nroute 33 7 1\nroute 3307x 1 1\n' \
    >"$T/bad.plan"

check "plan check offline: valid plan" '"$BUILD/control/parcelsortctl" --ctl /nonexistent plan check "$PLAN" >/dev/null'
"$BUILD/control/parcelsortctl" plan check "$T/bad.plan" >"$T/out" 2>&1
rc=$?
check "plan check offline: invalid plan refused, exit 1, FILE:LINE ($rc)" \
    '[ $rc -eq 1 ] && grep -q "bad.plan:5: route names hub 7" "$T/out" &&
     grep -q "bad.plan:6: bad route prefix" "$T/out"'
ctl status >/dev/null 2>&1
check "no daemon: exit 3" '[ $? -eq 3 ]'

start_daemon ops --plan "$PLAN" --metrics 127.0.0.1:0
check "daemon up" '[ $? -eq 0 ]'
check "status names the plan and version" 'ctl status | grep -q "plan: *yiwu-day v1"'
check "status --json is JSON" 'ctl --json status | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"plan\"][\"version\"] == 1 and d[\"workers\"] == 1"'
check "control socket is mode 0660" '[ "$(stat -c %a "$CTL")" = 660 ]'
check "usage error: exit 2" 'ctl plan frobnicate >/dev/null 2>&1; [ $? -eq 2 ]'


# route get agrees with real decisions
n=0
for region in 330782100201 330782101005 310101001001 330100000000 110101001001; do
    n=$((n + 1))
    wb=SF000000000077$n
    want=$(ctl --json route get "$region" --waybill "$wb" |
        python3 -c "import json,sys; d=json.load(sys.stdin)['decision']; print(d['reason'], d['chute'])")
    got=$(in_ns python3 "$HERE/ask.py" "$wb" "$region")
    check "route get $region agrees with the dataplane ($want / $got)" '[ "$want" = "$got" ]'
done

# an invalid plan is refused whole; the old one keeps deciding
ctl plan load "$T/bad.plan" >"$T/out" 2>&1
rc=$?
check "invalid plan refused with exit 1 and FILE:LINE ($rc)" \
    '[ $rc -eq 1 ] && grep -q "bad.plan:5: route names hub 7" "$T/out"'
check "the old plan still decides" \
    '[ "$(in_ns python3 "$HERE/ask.py" SF0000000000901 330782100201)" = "ROUTED 41" ]'

# diff, load, show, history, rollback
ctl plan diff "$T/b.plan" >"$T/diff"
check "diff lists the changed route and rule" \
    'grep -q "^~ route 33 100 10,11 -> route 33 110 13,14" "$T/diff" &&
     grep -q "^~ rule 10 900 90 service=cold_chain -> rule 10 900 92 service=cold_chain" "$T/diff" &&
     grep -q "^+ chute 13" "$T/diff" && grep -q "^- chute 90" "$T/diff"'
check "load plan B: version 2" 'ctl plan load "$T/b.plan" | grep -q "committed version 2"'
check "plan B decides" '[ "$(in_ns python3 "$HERE/ask.py" SF0000000000902 330782102001)" = "ROUTED 22" ]'
check "show prints the active plan" 'ctl plan show | grep -q "^route 33 110 13,14$"'
check "history lists both, v2 active" \
    'ctl plan history | grep -q "^\*2 " && ctl plan history | grep -q "^ 1 "'
check "rollback to 1: version 3" 'ctl plan rollback 1 | grep -q "committed version 3"'
check "rolled back decisions" '[ "$(in_ns python3 "$HERE/ask.py" SF0000000000903 330782102001)" = "ROUTED 20" ]'
check "rollback to an unknown version refused" 'ctl plan rollback 99 >/dev/null 2>&1; [ $? -eq 1 ]'

# staged edits
ctl begin >/dev/null
ctl route add 330782102 311 35 >/dev/null
check "staged edits are not live before commit" \
    '[ "$(in_ns python3 "$HERE/ask.py" SF0000000000904 330782102001)" = "ROUTED 20" ]'
check "commit: version 4" 'ctl commit | grep -q "committed version 4"'
check "committed edit decides" '[ "$(in_ns python3 "$HERE/ask.py" SF0000000000905 330782102001)" = "ROUTED 35" ]'
ctl begin >/dev/null
ctl route del 330782102 >/dev/null
ctl rule add 5 900 96 carrier=SF >/dev/null
check "abort" 'ctl abort >/dev/null'
check "aborted edits never applied" '[ "$(in_ns python3 "$HERE/ask.py" SF0000000000906 330782102001)" = "ROUTED 35" ]'
ctl begin >/dev/null
ctl route add 11 777 5 >/dev/null
ctl commit >"$T/out" 2>&1
rc=$?
check "a commit naming an undefined hub is refused ($rc)" '[ $rc -eq 1 ] && grep -q "hub 777" "$T/out"'
ctl abort >/dev/null

# a closed chute: the other chute of the route, or CHUTE_UNAVAILABLE
ctl chute disable 10 >/dev/null
check "with chute 10 closed route 33 uses chute 11" \
    'for i in 1 2 3 4 5 6; do
         [ "$(in_ns python3 "$HERE/ask.py" JT00000000001$i 330100000000)" = "ROUTED 11" ] || exit 1; done'
ctl chute disable 11 >/dev/null
check "with both closed: CHUTE_UNAVAILABLE to the reject chute" \
    '[ "$(in_ns python3 "$HERE/ask.py" JT0000000000200 330100000000)" = "CHUTE_UNAVAILABLE 999" ]'
check "chute list shows them disabled" 'ctl chute list | grep -q "^10 *disabled"'
ctl chute enable 10 11 >/dev/null
check "re-enabled" '[ "$(ctl --json chute list | python3 -c "import json,sys; print(sum(1 for c in json.load(sys.stdin) if not c[\"enabled\"]))")" = 0 ]'

# scheduled activation
ctl plan load "$T/b.plan" --at +2s >"$T/out"
check "scheduled, not active yet" 'grep -q "scheduled" "$T/out" && ctl status | grep -q "^scheduled: yiwu-day"'
wait_for 30 'ctl status | grep -q "plan: *yiwu-day v5"'
check "active after its time: version 5" 'ctl status | grep -q "plan: *yiwu-day v5"'

# plans pushed while a scanner sends without pause
echo "5 $T/b.plan" >"$T/versions"
rm -f "$T/stop"
in_ns python3 "$HERE/live_traffic.py" run "$T/live.log" "$T/stop" >"$T/live.out" &
LIVE=$!
sleep 0.5
v=5
for i in 1 2 3 4 5 6 7 8; do
    if [ $((i % 2)) -eq 1 ]; then p="$PLAN"; else p="$T/b.plan"; fi
    v=$((v + 1))
    ctl plan load "$p" >/dev/null && echo "$v $p" >>"$T/versions"
    sleep 0.3
done
touch "$T/stop"
wait $LIVE
cat "$T/live.out"
python3 "$HERE/live_traffic.py" verify "$T/live.log" "$T/versions"

# counters through DPDK telemetry and Prometheus
check "dpdk-telemetry.py reads /parcelsort/stats" \
    'echo /parcelsort/stats | python3 /usr/bin/dpdk-telemetry.py -f "ps$ID" |
     python3 -c "import json,sys; t=sys.stdin.read(); d=json.loads(t[t.rindex(\"{\\\"/parcelsort\"):]); assert d[\"/parcelsort/stats\"][\"records\"] > 0"'
port=$(ctl --json status >/dev/null; ss -ltnp 2>/dev/null | grep "pid=$PID," | grep -o "127.0.0.1:[0-9]*" | head -1)
check "an HTTP client reads /metrics ($port)" \
    'python3 -c "
import urllib.request
t = urllib.request.urlopen(\"http://$port/metrics\", timeout=5).read().decode()
assert \"parcelsort_records_total{reason=\\\"routed\\\"}\" in t
assert \"parcelsort_plan_version 13\" in t, t[-300:]
"'
check "stats reset is a baseline" \
    'ctl stats reset >/dev/null && [ "$(ctl --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)[\"records\"] < 100)")" = True ]'
check "stats --watch refreshes (two screens)" \
    '[ "$(ctl stats --watch 2 | grep -c "^records")" -eq 2 ]'

# the generator's live mode, as a scanner would run it
in_ns "$BUILD/gen/parcelsort-gen" --send 198.18.0.2:7100 --datagrams 300 \
    --rate 2000 --json --seed 5 >"$T/live.json"
check "parcelsort-gen live mode: every datagram answered, counted by reason" \
    'python3 -c "
import json
d = json.load(open(\"$T/live.json\"))
assert d[\"sent\"] == 300 and d[\"replies\"] == 300, d
assert d[\"records_replied\"] == d[\"records_sent\"] == sum(d[\"by_reason\"].values())
assert d[\"by_reason\"][\"ROUTED\"] + d[\"by_reason\"][\"DEFAULT\"] > 0
"'

# a scheduled activation that fails stays pending and says why, in
# status and in the log, and goes through once the cause is gone (#12.7)
mkdir "$T/state-ops/.plan-0000000014.plan.tmp"
ctl plan load "$T/b.plan" --at +1s >/dev/null
wait_for 30 'ctl status | grep -q "^ *activation failed [0-9]* times*, next try at .*Is a directory"'
check "a failed scheduled activation: status says why" \
    'ctl status | grep -q "^ *activation failed [0-9]* times*, next try at .*Is a directory"'
check "a failed scheduled activation: the log says why" \
    'grep -q "^parcelsortd: scheduled plan yiwu-day: activation attempt 1 failed, the plan in force stays; next try in [0-9]* s: .*Is a directory" "$T/ops.log"'
check "the plan in force stays: version 13" 'ctl status | grep -q "plan: *yiwu-day v13"'
rmdir "$T/state-ops/.plan-0000000014.plan.tmp"
wait_for 30 'ctl status | grep -q "plan: *yiwu-day v14"'
check "retried once the cause is gone: version 14, nothing pending" \
    'ctl status >"$T/st" && grep -q "plan: *yiwu-day v14" "$T/st" && ! grep -q "^scheduled:" "$T/st"'

python3 "$HERE/ctl_abuse.py" "$CTL" "$BUILD/control/parcelsortctl"
stop_daemon
check "daemon exits 0" '[ "$RC" -eq 0 ]'
