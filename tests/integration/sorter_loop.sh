#!/bin/sh
# sorter_loop.sh: the sorter loop end to end: parcelsortd on a veth, a
# scanner and a sorter controller as kernel UDP clients in a namespace
# (sorter_client.py). A chute reported FULL is avoided by the next scan
# after the acknowledgement and used again once hold_s lapses; a parcel
# reported CHUTE_FULL is decided afresh, then gets RECIRC_LIMIT after the
# plan's rounds; SORTED into a wrong chute counts a missort; kinds 3 and 5
# from outside the sorter allow-list get nothing and change nothing;
# `chute list` and `device list` show the figures of it all. Then
# two workers: a result received on one core changes the next decision on
# the other. Removes its namespace, links and daemon even when it fails.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns

cat >"$T/loop.plan" <<'PLAN'
plan loop
site 77 33
reject 999
intercept 998
recirculate 2
hub 1 trunk T
route 31 1 20
route 33 1 10,11
PLAN

client() { in_ns python3 "$HERE/sorter_client.py" "$@"; }

start_daemon loop --plan "$T/loop.plan" --sorter-allow 198.18.0.1/32
check "daemon starts with a sorter allow-list" '[ $? -eq 0 ]'
client loop
# the figures operators read (#13.3): chute list and device list
ctl() { "$BUILD/control/parcelsortctl" --ctl "$CTL" "$@"; }
client figures
ctl --json chute list >"$T/chutes.json"
ctl --json device list >"$T/devices.json"
ctl chute list >"$T/chutes.txt"
check "chute list: chute 11 FULL with its seconds left" \
    'python3 -c "import json,sys; c={x[\"chute\"]: x for x in json.load(open(sys.argv[1]))}; x=c[11]; sys.exit(not (x[\"sorter\"] == \"FULL\" and 590 <= x[\"sorter_secs_left\"] <= 601))" "$T/chutes.json"'
check "chute list: chute 20 sorted 1, no missort" \
    'python3 -c "import json,sys; c={x[\"chute\"]: x for x in json.load(open(sys.argv[1]))}; x=c[20]; sys.exit(not (x[\"sorted\"] == 1 and x[\"missorted\"] == 0 and x[\"decided\"] >= 2))" "$T/chutes.json"'
check "chute list: the missort into chute 55 counted there" \
    'python3 -c "import json,sys; c={x[\"chute\"]: x for x in json.load(open(sys.argv[1]))}; x=c[55]; sys.exit(not (x[\"sorted\"] == 1 and x[\"missorted\"] == 1 and not x[\"in_plan\"]))" "$T/chutes.json"'
check "chute list: rounds counted as not discharged" \
    'python3 -c "import json,sys; l=json.load(open(sys.argv[1])); sys.exit(not sum(x[\"not_discharged\"] for x in l) == 2)" "$T/chutes.json"'
check "chute list text: chute 11 FULL" 'grep -Eq "^11 +enabled +FULL [0-9]+s " "$T/chutes.txt"'
check "device list: the scanner (device 3) with its records" \
    'python3 -c "import json,sys; j=json.load(open(sys.argv[1])); d={x[\"device\"]: x for x in j[\"devices\"]}; x=d[3]; sys.exit(not (j[\"count\"] == 1 and x[\"records\"] >= 10 and x[\"duplicates\"] >= 2 and x[\"last_heard_s_ago\"] <= 5))" "$T/devices.json"'
check "device list text" 'ctl device list --sort noread --limit 5 | grep -Eq "^3 +[0-9]+ "'
stop_daemon
check "SIGINT stops it with exit 0" '[ "$RC" -eq 0 ]'
check "missort counted in the summary" \
    'grep -q "missorts 1," "$T/loop.log"'
check "rounds and results by status counted" \
    'grep -q "chute_full 2 .*rounds 2" "$T/loop.log"'
# (the client sends each of the two 3 times, waiting for an answer)
check "kinds 3 and 5 from outside the list dropped as not_sorter" \
    'grep -q "not_sorter 6" "$T/loop.log"'
check "acknowledgements counted as answers" \
    'grep -Eq "answered:.* ack [0-9]+" "$T/loop.log"'

# two workers, two queue pairs on the veth (the kernel's fanout)
CTL="$T/ctl-two.sock"
"$BUILD/parcelsortd" --lcores 0@0,1@1,2@0 --no-huge -m 512 --no-pci --no-shconf \
    --log-level=3 --file-prefix "ps$ID" \
    --vdev "net_af_packet0,iface=$VA,qpairs=2" -- \
    --ip 198.18.0.2 --allow 198.18.0.0/24 --sorter-allow 198.18.0.1/32 \
    --plan "$T/loop.plan" --state-dir "$T/state-two" --ctl "$CTL" \
    --metrics off >"$T/two.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
    grep -q "^parcelsortd: UDP port" "$T/two.log" 2>/dev/null && break
    sleep 0.25
done
check "two workers on two queue pairs" 'grep -q "2 workers.*2 queues" "$T/two.log"'
client two
stop_daemon
check "two workers: exit 0" '[ "$RC" -eq 0 ]'
