#!/bin/sh
# manifest.sh: the manifest of pre-advice against the real parcelsortd: a
# barcode-only scan (region 0) is decided by its waybill's manifest region
# (routes and prefix= rules), a scan with its own region ignores the
# manifest; entries added and removed under traffic are in force when the
# command returns; a bad file is refused whole with FILE:LINE and the
# manifest in force stays; a load larger than one control request goes in
# parts and --replace swaps at once; capacity refusals; the manifest
# survives a restart and a kill -9 during a load leaves old or new; the
# counters, events and --json answers say where regions came from;
# manifest get answers several waybills in one request (at most 4096); a
# load begun while another is under way is refused and the other commits;
# a load killed midway aborts its stage, so the next is not refused.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns
ctl() { "$BUILD/control/parcelsortctl" --ctl "$CTL" "$@"; }
ask() { in_ns python3 "$HERE/ask.py" "$@"; }
# a --json answer as d: print an expression of it (jf), or succeed when
# an expression of it holds (jt)
jf() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
jt() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
stat_of() { ctl --json manifest stats | jf "d['$1']"; }

# the example plan, plus a rule on a region prefix
PLAN="$T/manifest.plan"
cp "$ROOT/config/example.plan" "$PLAN"
echo "rule 15 900 92 prefix=4401" >>"$PLAN"
R=330782100201        # route 330782100201 -> chute 41
R31=310000000000      # route 31 -> chute 12

start_daemon mf --plan "$PLAN" --manifest-capacity 1000000 \
    --manifest-ttl 72h --export "$T/events.jsonl"
check "daemon up" '[ $? -eq 0 ]'
check "an empty manifest: 0 entries of 1000000" \
    '[ "$(stat_of entries)" = 0 ] && [ "$(stat_of capacity)" = 1000000 ]'
check "a barcode-only scan with no entry falls to the default (DEFAULT 10)" \
    '[ "$(ask MF000000000001 0)" = "DEFAULT 10" ]'
check "and is counted as a miss" '[ "$(stat_of misses)" = 1 ] && [ "$(stat_of hits)" = 0 ]'

ctl manifest add MF000000000002 $R >"$T/out"
check "manifest add: exit 0, added" '[ $? -eq 0 ] && grep -q "MF000000000002 -> $R (added); 1 entry" "$T/out"'
check "a barcode-only scan takes the manifest's region (ROUTED 41)" \
    '[ "$(ask MF000000000002 0)" = "ROUTED 41" ]'
check "counted as a hit" '[ "$(stat_of hits)" = 1 ]'
ctl manifest add MF000000000003 440100000001 >/dev/null
check "the manifest's region meets prefix= rules (OVERRIDE 92)" \
    '[ "$(ask MF000000000003 0)" = "OVERRIDE 92" ]'
ctl manifest add MF000000000004 $R31 >/dev/null
check "a scan with its own region ignores the manifest (ROUTED 41, not 12)" \
    '[ "$(ask MF000000000004 $R)" = "ROUTED 41" ]'
ctl manifest add MF000000000005 $R >/dev/null
ctl manifest add MF000000000005 $R31 >"$T/out"
check "add again replaces the region" 'grep -q "(replaced)" "$T/out" && [ "$(ask MF000000000005 0)" = "ROUTED 12" ]'
check "manifest get: region and lapse" \
    'ctl manifest get MF000000000005 | grep -q "MF000000000005 -> $R31 (lapses in 7[12]h"'
check "route get 0 --waybill shows the manifest's part" \
    'ctl --json route get 0 --waybill MF000000000002 | jt "d[\"manifest\"][\"found\"] and d[\"manifest\"][\"region\"] == $R and d[\"decision\"][\"reason\"] == \"ROUTED\" and d[\"decision\"][\"chute\"] == 41"'
check "route get 0 --waybill of a waybill with no entry: found false, the default" \
    'ctl --json route get 0 --waybill MF000000000099 | jt "d[\"manifest\"][\"found\"] is False and d[\"decision\"][\"reason\"] == \"DEFAULT\""'
check "route get with a region: the manifest is not consulted" \
    'ctl --json route get $R --waybill MF000000000002 | jt "d[\"manifest\"] is None"'
check "route get text shows the manifest line" \
    'ctl route get 0 --waybill MF000000000002 | grep -q "manifest:   MF000000000002 -> region $R"'

# changes under traffic are in force when the command returns
in_ns python3 "$HERE/live_traffic.py" run "$T/live.log" "$T/stop" >/dev/null 2>&1 &
TP=$!
sleep 0.5
ok=1
for i in 1 2 3 4 5 6 7 8 9; do
    w=MF00000000010$i
    ctl manifest add $w $R >/dev/null || ok=0
    [ "$(ask $w 0)" = "ROUTED 41" ] || ok=0
done
check "under traffic: every add is in force when manifest add returns" '[ $ok = 1 ]'
ok=1
for i in 1 2 3 4 5 6 7 8 9; do
    ctl manifest add MF00000000020$i $R >/dev/null
done
ctl manifest del MF000000000201 MF000000000202 MF000000000203 MF000000000299 >"$T/out"
check "manifest del: removed 3 (1 not in the manifest)" 'grep -q "removed 3 (1 not in the manifest)" "$T/out"'
for i in 1 2 3; do
    [ "$(ask MF00000000020$i 0)" = "DEFAULT 10" ] || ok=0
done
check "under traffic: removed entries are gone when manifest del returns" '[ $ok = 1 ]'
touch "$T/stop"
wait $TP 2>/dev/null
check "traffic ran meanwhile ($(wc -l <"$T/live.log") log lines)" '[ "$(wc -l <"$T/live.log")" -gt 10 ]'


# a bad file is refused whole, every bad line as FILE:LINE
entries=$(stat_of entries)
printf 'waybill,region\nMF000000000301,%s\n# comment\n\nbad*wb,%s\nMF000000000302,12345\nMF000000000303\nMF000000000304,%s,x\n' $R $R $R >"$T/bad.csv"
ctl manifest load "$T/bad.csv" >"$T/out" 2>&1
rc=$?
check "bad file refused, exit 1, every bad line as FILE:LINE ($rc)" \
    '[ $rc -eq 1 ] && grep -q "bad.csv:5: waybill has a character outside" "$T/out" && grep -q "bad.csv:6: region must be 12 digits" "$T/out" && grep -q "bad.csv:7: expected WAYBILL,REGION" "$T/out" && grep -q "bad.csv:8: expected WAYBILL,REGION (more than one comma)" "$T/out"'
check "and the manifest in force stays (none of its lines in force)" \
    '[ "$(stat_of entries)" = "$entries" ] && [ "$(ask MF000000000301 0)" = "DEFAULT 10" ] && [ "$(ask MF000000000101 0)" = "DUPLICATE 41" ]'

# a file larger than one part (16 MB): 700,000 lines, --replace
python3 -c "
import sys
w = sys.stdout.write
w('waybill,region\n')
for i in range(700000):
    w('ML%012d,%d\n' % (i, 310000000000 + i % 1000))
" >"$T/big.csv"
ctl manifest load "$T/big.csv" --replace >"$T/out" 2>&1
check "manifest load --replace of $(($(stat -c %s "$T/big.csv") / 1048576)) MB: 700000 entries at once" \
    '[ $? -eq 0 ] && grep -q "700000 lines, 700000 added" "$T/out" && [ "$(stat_of entries)" = 700000 ]'
check "its waybills are decided by it (ROUTED 12)" '[ "$(ask ML000000654321 0)" = "ROUTED 12" ]'
check "it replaced the old manifest (MF000000000002 gone)" \
    'ctl --json manifest get MF000000000002 | jt "d[\"found\"] is False"'
printf 'MF000000000401,%s\nML000000000007,%s\n' $R $R >"$T/add.csv"
ctl --json manifest load "$T/add.csv" >"$T/out"
check "manifest load (add) --json: lines, added, replaced, entries" \
    'jt "d == {\"lines\": 2, \"added\": 1, \"replaced\": 1, \"entries\": 700001}" <"$T/out"'
printf '\357\273\277waybill,region\nML000000000008,%s\n' $R >"$T/bom.csv"
ctl --json manifest load "$T/bom.csv" >"$T/out" 2>&1
check "a file beginning with a UTF-8 byte order mark loads (spreadsheets write one)" \
    'jt "d[\"lines\"] == 1 and d[\"replaced\"] == 1 and d[\"entries\"] == 700001" <"$T/out" && [ "$(ask ML000000000008 0)" = "ROUTED 41" ]'

# capacity: a load past it is refused whole, counted
python3 -c "
import sys
for i in range(300000):
    sys.stdout.write('MC%012d,%d\n' % (i, 310000000000))
" >"$T/over.csv"
ctl manifest load "$T/over.csv" >"$T/out" 2>&1
rc=$?
check "a load past the capacity is refused whole (exit $rc)" \
    '[ $rc -eq 1 ] && grep -q "exceed the capacity 1000000" "$T/out" && [ "$(stat_of entries)" = 700001 ] && [ "$(stat_of refused_full)" = 1 ]'

# --json shapes
check "manifest stats --json" \
    'ctl --json manifest stats | jt "sorted(d) == sorted([\"entries\",\"capacity\",\"bytes\",\"ttl_s\",\"hits\",\"misses\",\"oldest_added_ms\",\"oldest_age_s\",\"refused_full\",\"adds\",\"dels\",\"loads\",\"replaces\",\"lapsed\",\"generation\",\"log_bytes\",\"loading\"]) and d[\"ttl_s\"] == 259200 and d[\"loading\"] is None"'
check "manifest get --json" \
    'ctl --json manifest get MF000000000401 | jt "d[\"found\"] and d[\"region\"] == $R and d[\"expires_in_s\"] > 259000 and d[\"waybill\"] == \"MF000000000401\""'
# several waybills in one manifest get: {"entries":[...]} in the order
# asked; past 63 the CLI sends them as one argument; at most 4096
check "manifest get of several --json: entries in the order asked" \
    'ctl --json manifest get MF000000000401 MF000000000402 ML000000000009 MF000000000401 | jt "[(e[\"waybill\"], e[\"found\"], e[\"region\"]) for e in d[\"entries\"]] == [(\"MF000000000401\", True, $R), (\"MF000000000402\", False, None), (\"ML000000000009\", True, 310000000009), (\"MF000000000401\", True, $R)] and d[\"entries\"][0][\"expires_in_s\"] > 259000 and list(d) == [\"entries\"]"'
ctl manifest get MF000000000401 MF000000000402 >"$T/out"
check "manifest get of several: a line each" \
    '[ $(wc -l <"$T/out") -eq 2 ] && grep -q "^MF000000000401 -> $R (lapses in" "$T/out" && grep -q "^MF000000000402 is not in the manifest$" "$T/out"'
check "manifest get of 4096 waybills (one request, one argument)" \
    'ctl --json manifest get $(seq -f "ML%012.0f" 10 4105) | jt "len(d[\"entries\"]) == 4096 and all(e[\"waybill\"] == \"ML%012d\" % (i + 10) and e[\"found\"] and e[\"region\"] == 310000000000 + (i + 10) % 1000 for i, e in enumerate(d[\"entries\"]))"'
ctl manifest get $(seq -f "ML%012.0f" 0 4096) >"$T/out" 2>&1
check "manifest get of 4097 waybills: usage, exit 2 ($?)" \
    '[ $? -eq 2 ] && grep -q "at most 4096 waybills" "$T/out"'
python3 -c '
import socket, struct, sys
body = ("\n".join("ML%012d" % i for i in range(4097)) + "\0").encode()
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(struct.pack(">IHHII", 0x50534331, 1, 29, 1, len(body)) + body)
h = b""
while len(h) < 16: h += s.recv(16 - len(h))
magic, ver, status, _f, n = struct.unpack(">IHHII", h)
b = b""
while len(b) < n: b += s.recv(n - len(b))
print(status, b.decode())
' "$CTL" >"$T/out"
check "the daemon refuses 4097 waybills in one request: usage" \
    'grep -q "^2 .*manifest get: at most 4096 waybills a request" "$T/out"'
ctl manifest get MF000000000401 'NOT-A-WAYBILL!' >"$T/out" 2>&1
check "manifest get with one bad waybill: usage, exit 2, naming it" \
    '[ $? -eq 2 ] && grep -q "NOT-A-WAYBILL!" "$T/out"'
check "manifest add --json" \
    'ctl --json manifest add MF000000000402 $R | jt "d == {\"waybill\": \"MF000000000402\", \"region\": $R, \"replaced\": False, \"entries\": 700002}"'
check "manifest del --json" \
    'ctl --json manifest del MF000000000402 | jt "d == {\"removed\": 1, \"absent\": 0, \"entries\": 700001}"'
ctl manifest add 'NOT A WAYBILL' $R >"$T/out" 2>&1
check "manifest add of a bad waybill: exit 2" '[ $? -eq 2 ]'
ctl manifest add MF000000000403 12 >"$T/out" 2>&1
check "manifest add of a bad region: exit 2" '[ $? -eq 2 ] && grep -q "region must be 12 digits" "$T/out"'

# counters per device and events
check "device list counts manifest hits and misses" \
    'ctl --json device list | jt "sum(x[\"manifest_resolved\"] for x in d[\"devices\"]) == $(stat_of hits) and sum(x[\"manifest_missed\"] for x in d[\"devices\"]) == $(stat_of misses)"'
wait_for 30 'grep -q "\"waybill\":\"MF000000000001\"" "$T/events.jsonl" && grep -q "\"waybill\":\"MF000000000004\"" "$T/events.jsonl"'
check "events carry the region used and its source" \
    'grep "\"waybill\":\"MF000000000002\"" "$T/events.jsonl" | grep "\"reason\":\"ROUTED\"" | grep -q "\"region\":0,.*\"region_used\":$R,\"region_source\":\"manifest\""'
check "a scan's own region: source scanner" \
    'grep "\"waybill\":\"MF000000000004\"" "$T/events.jsonl" | grep -q "\"region_used\":$R,\"region_source\":\"scanner\""'
check "no entry: source none" \
    'grep "\"waybill\":\"MF000000000001\"" "$T/events.jsonl" | grep -q "\"region_used\":0,\"region_source\":\"none\""'

# a restart keeps the manifest

stop_daemon
check "daemon stopped cleanly (exit $RC)" '[ "$RC" -eq 0 ]'
start_daemon mf --plan "$PLAN" --manifest-capacity 1000000
check "restart keeps the manifest ($(stat_of entries) entries)" '[ "$(stat_of entries)" = 700001 ]'
check "and it decides (ROUTED 41)" '[ "$(ask MF000000000401 0)" = "ROUTED 41" ]'

# kill -9 during a --replace load of 900,000: the old manifest or the new
python3 -c "
import sys
for i in range(900000):
    sys.stdout.write('MK%012d,%d\n' % (i, 330782100201))
" >"$T/kill.csv"
ctl manifest load "$T/kill.csv" --replace >/dev/null 2>&1 &
LP=$!
# kill it while the new snapshot is being written (its temporary file
# exists), or, had that been missed, once the load has ended
when="after the load"
for _ in $(seq 1 3000); do
    if ls "$T/state-mf"/.manifest-*.snap.tmp >/dev/null 2>&1; then
        when="while the new snapshot was being written"
        break
    fi
    kill -0 $LP 2>/dev/null || break
done
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=""
wait $LP 2>/dev/null
start_daemon mf --plan "$PLAN" --manifest-capacity 1000000
e=$(stat_of entries)
check "kill -9 $when: the old manifest or the new, never a mix ($e)" \
    '[ "$e" = 700001 ] || [ "$e" = 900000 ]'
ctl manifest load "$T/kill.csv" --replace >/dev/null 2>&1
check "the load then goes through" '[ "$(stat_of entries)" = 900000 ] && [ "$(ask MK000000123456 0)" = "ROUTED 41" ]'

# two loads at once (issue #18): a load begun while another is being sent
# (the site agent's and an operator's) is refused, naming the one under
# way; that one goes on and commits whole. The first file is a FIFO held
# open until the second load has had its answer.
mkfifo "$T/first.csv"
: >"$T/second.out"
ctl --json manifest load "$T/first.csv" >"$T/first.out" 2>&1 &
LP=$!
{
    printf 'MO000000000001,%s\nMO000000000002,%s\n' $R $R
    for _ in $(seq 1 600); do [ -s "$T/second.out" ] && break; sleep 0.1; done
    printf 'MO000000000003,%s\n' $R
} >"$T/first.csv" &
WP=$!
loading() {     # the daemon has the load of file $1 under way
    ctl --json manifest stats | jt "d['loading'] and d['loading']['name'] == '$1'"
}
wait_for 30 'loading "$T/first.csv"'   # the first load has begun
check "manifest stats shows the load under way, its name and idle time" \
    'loading "$T/first.csv" && ctl manifest stats | grep -q "^loading: *.$T/first.csv., its last part (or begin) [0-9.]* s ago"'
printf 'MO000000000009,%s\n' $R >"$T/second.csv"
ctl manifest load "$T/second.csv" >"$T/second.out" 2>&1
rc=$?
wait $WP
wait $LP
rcf=$?
check "a load while another is under way is refused, exit 1, naming it ($rc: $(cat "$T/second.out"))" \
    '[ $rc -eq 1 ] && grep -q "another manifest load is under way: .$T/first.csv., its last part (or begin) [0-9.]* s ago; try again once it is done" "$T/second.out" && [ "$(ask MO000000000009 0)" = "DEFAULT 10" ]'
check "and the load under way goes on and commits whole ($rcf: $(cat "$T/first.out"))" \
    '[ $rcf -eq 0 ] && jt "d[\"lines\"] == 3 and d[\"added\"] == 3 and d[\"entries\"] == 900003" <"$T/first.out" && [ "$(ask MO000000000003 0)" = "ROUTED 41" ]'

# a load killed midway (SIGTERM: an operator's Ctrl-C, systemd, timeout)
# aborts its stage before it exits: the next load goes through at once
# instead of being refused busy for 60 s, and nothing of it is loaded
mkfifo "$T/int.csv"
"$BUILD/control/parcelsortctl" --ctl "$CTL" manifest load "$T/int.csv" \
    >"$T/int.out" 2>&1 &
LP=$!
exec 7>"$T/int.csv"     # the FIFO held open: the load waits for more
printf 'MI000000000001,%s\n' $R >&7
printf 'MI000000000002,%s\n' $R >"$T/after.csv"
busy=no
wait_for 30 'loading "$T/int.csv"' && busy=yes   # the daemon has it staged
kill -TERM $LP
wait $LP
rci=$?
exec 7>&-
ctl manifest load "$T/after.csv" >"$T/after.out" 2>&1
rca=$?
check "a load killed midway says so and exits 1 ($busy $rci: $(cat "$T/int.out"))" \
    '[ $busy = yes ] && [ $rci -eq 1 ] && grep -q "manifest load interrupted: aborted" "$T/int.out"'
check "and its load is aborted: the next goes through at once, nothing of it loaded ($rca: $(cat "$T/after.out"))" \
    '[ $rca -eq 0 ] && [ "$(ask MI000000000002 0)" = "ROUTED 41" ] && [ "$(ask MI000000000001 0)" = "DEFAULT 10" ]'
check "and no load is under way any more" \
    'ctl --json manifest stats | jt "d[\"loading\"] is None"'
stop_daemon
check "daemon stopped cleanly (exit $RC)" '[ "$RC" -eq 0 ]'
