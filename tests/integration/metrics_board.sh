#!/bin/sh
# metrics_board.sh: the daemon's HTTP listener against a live daemon fed by
# parcelsort-gen's sorter controller: /metrics passes `promtool check
# metrics` and has the NIC counters per port and queue, the cycles by
# worker, the latency histogram, build_info and the plan commits by outcome
# (refused ones too); the board's JSON API has its shape; unknown paths get
# 404 and other methods 405; silent and slow clients stall neither the
# listener nor the workers. The worker naps when idle (--idle-sleep-us):
# busy plus idle cycles still grow by the TSC's frequency each second.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns
ctl() { "$BUILD/control/parcelsortctl" --ctl "$CTL" "$@"; }
PLAN="$ROOT/config/example.plan"
printf 'plan broken\nsite 1 33\nreject 9\nhub 1 trunk T\nroute 33 7 1\n' \
    >"$T/bad.plan"

start_daemon board --plan "$PLAN" --metrics 127.0.0.1:0 \
    --sorter-allow 198.18.0.1/32 --idle-sleep-us 100
check "daemon up with the HTTP listener" '[ $? -eq 0 ]'
ADDR=$(ss -ltnp 2>/dev/null | grep "pid=$PID," | grep -o "127.0.0.1:[0-9]*" | head -1)
check "it listens on loopback ($ADDR)" '[ -n "$ADDR" ]'

in_ns "$BUILD/gen/parcelsort-gen" --send 198.18.0.2:7100 --sorter \
    --parcels 3000 --rate 1500 --noread 0.03 --quiet >/dev/null 2>&1
ctl plan load "$PLAN" >/dev/null 2>&1
ctl plan load "$T/bad.plan" >/dev/null 2>&1
check "a refused plan load exits 1" '[ $? -eq 1 ]'

curl_m() { python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://$ADDR/metrics', timeout=5).read().decode())"; }
curl_m >"$T/metrics.txt"
check "promtool check metrics: clean" \
    'promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 || { cat "$T/promtool.out"; false; }'
check "NIC per port and queue, cycles by worker, histogram, build_info, commits by outcome" \
    'python3 "$HERE/metrics_check.py" "$T/metrics.txt" 1 1 1'
check "API: summary, chutes, scanners (by NOREAD), rate have their shape" \
    'python3 "$HERE/http_probe.py" api "$ADDR"'
check "busy + idle cycles count every cycle, naps too (2 s: 0.95-1.05 x tsc_hz)" \
    'python3 "$HERE/cycles_check.py" "http://$ADDR/metrics" 2'
check "API: the summary's stats are the stats command's" \
    'python3 -c "
import json, subprocess, urllib.request
a = json.load(urllib.request.urlopen(\"http://$ADDR/api/v1/summary\", timeout=5))[\"stats\"]
b = json.loads(subprocess.check_output([\"$BUILD/control/parcelsortctl\", \"--ctl\", \"$CTL\", \"--json\", \"stats\"]))
assert a[\"records\"] == b[\"records\"] and a[\"reasons\"] == b[\"reasons\"], (a[\"records\"], b[\"records\"])
"'
check "the page, style and script: served with a CSP, no external URL" \
    'python3 "$HERE/http_probe.py" assets "$ADDR"'
check "unknown paths 404; POST, PUT, DELETE, PATCH, OPTIONS 405 with Allow: GET" \
    'python3 "$HERE/http_probe.py" refused "$ADDR"'
v=$(ctl --json status | python3 -c "import json,sys; print(json.load(sys.stdin)['plan']['version'])")
check "nothing the listener answered changed the plan (v$v)" '[ "$v" = 2 ]'

# slow clients while the workers are busy: the generator's datagrams all
# answered, every fetch answered in time
in_ns "$BUILD/gen/parcelsort-gen" --send 198.18.0.2:7100 --datagrams 4000 \
    --rate 1000 --json --seed 9 >"$T/live.json" 2>/dev/null &
GEN=$!
python3 "$HERE/http_probe.py" slow "$ADDR" 3 >"$T/slow.out" 2>&1
rc=$?
wait $GEN
check "silent clients and an unread answer hold no fetch up ($(cat "$T/slow.out" | tail -1))" '[ $rc -eq 0 ]'
check "nor the workers: every datagram answered meanwhile" \
    'python3 -c "
import json; d = json.load(open(\"$T/live.json\")); assert d[\"replies\"] == d[\"sent\"] == 4000, d"'
check "the listener still answers afterwards" 'curl_m | grep -q "^parcelsort_plan_version 2$"'

# a scheduled plan's activation (the control loop's, not a command's) is a
# commit too: counted when it happens
ctl plan load "$PLAN" --at +1s >/dev/null 2>&1
check "a plan load scheduled a second ahead" '[ $? -eq 0 ]'
for i in $(seq 50); do
    curl_m | grep -q "^parcelsort_plan_version 3$" && break
    sleep 0.2
done
curl_m >"$T/metrics2.txt"
check "its activation counted: committed 2, scheduled 1, refused 1" \
    'grep -q "^parcelsort_plan_version 3$" "$T/metrics2.txt" &&
     grep -q "^parcelsort_plan_commits_total{outcome=\"committed\"} 2$" "$T/metrics2.txt" &&
     grep -q "^parcelsort_plan_commits_total{outcome=\"scheduled\"} 1$" "$T/metrics2.txt" &&
     grep -q "^parcelsort_plan_commits_total{outcome=\"refused\"} 1$" "$T/metrics2.txt" ||
     { grep "plan_commits\|plan_version" "$T/metrics2.txt"; false; }'
stop_daemon
check "SIGINT stops it with exit 0" '[ "$RC" -eq 0 ]'
exit 0
