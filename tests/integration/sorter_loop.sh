#!/bin/sh
# sorter_loop.sh: the sorter loop end to end: parcelsortd on a veth, a
# scanner and a sorter controller as kernel UDP clients in a namespace
# (sorter_client.py). A chute reported FULL is avoided by the next scan
# after the acknowledgement and used again once hold_s lapses; a parcel
# reported CHUTE_FULL is decided afresh, then gets RECIRC_LIMIT after the
# plan's rounds; SORTED into a wrong chute counts a missort; kinds 3 and 5
# from outside the sorter allow-list get nothing and change nothing. Then
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
