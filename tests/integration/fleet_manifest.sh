#!/bin/sh
# fleet_manifest.sh: pre-advice manifests through the fleet end to end
# (docs/fleet.md, "Manifests"). One nats-server with JetStream (default
# 1 MB messages, so a manifest goes in several batches), one parcelsortd on
# net_null. A manifest pushed while the site's agent is down reaches the
# site when it starts, once: its entries are visible with `manifest
# get|stats`, `fleet status` shows the batches, entries and no lag, and an
# agent restarted (cleanly, then with kill -9) applies nothing again (a
# waybill deleted at the site meanwhile stays deleted). A file with a bad
# line is refused whole with FILE:LINE and nothing is published. A batch
# whose CRC does not match is refused. The batches the agent has in hand
# go to the daemon as one load; of such a load the daemon refuses (a bad
# line in one batch), the good batches are applied and the bad one alone
# refused. Two pushes of one file name with headers go as a load each. With --trust: a signed push is
# applied; an unsigned push, a batch with one byte changed (CRC made to
# match) and a batch put back into the stream are refused, with the reason
# in the status record, and the site's manifest stays as it was. A batch
# whose load the daemon drops midway (another load begun meanwhile, through
# the proxy ctl_steal.py) is begun again and applied, not lost. A batch
# the daemon refuses to begin as busy (an operator's load under way) is
# applied once that load is done, not refused; meanwhile the site's status
# says busy.
# PSD=path runs another parcelsortd (default: $BUILD's).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/fleet.sh"
fleet_begin fleet-man psfm
PROBE="$BUILD/tests/fleet_probe"
probe() { "$PROBE" --nats "$PARCELSORT_NATS" "$@"; }

fleet_nats_start
fleet_init_wait
check "nats-server up" '[ $? -eq 0 ]'

fleet_daemon_start
# a member of the site's "manifest" status record
man() {
    fleet --json status --site a | python3 -c '
import json, sys
s = (json.load(sys.stdin)[0]["status"] or {}).get("manifest", {})
v = s.get(sys.argv[1], "")
print("\n".join(v) if isinstance(v, list) else v)' "$1"
}
wait_rev() {   # until the agent reports manifest revision $1 (30 s)
    for _ in $(seq 1 150); do
        [ "$(man manifest_revision)" = "$1" ] && return 0; sleep 0.2
    done
    return 1
}
stat() { ctl --json manifest stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
entries() { stat entries; }
region() { ctl --json manifest get "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("region") or "")' 2>/dev/null; }

# --- a manifest pushed while the agent is down ----------------------------
python3 - "$T/pre.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("waybill,region\n# pre-advice for site a\n")
    for i in range(100000):
        f.write("MF%013d,%d\n" % (i, 330782100201 + i % 50))
PY
fleet manifest push "$T/pre.csv" --site a >"$T/push1" 2>&1
rc=$?
rev1=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/push1")
nb=$(sed -n 's/.* in \([0-9]*\) batch.*/\1/p' "$T/push1")
check "fleet manifest push of 100000 entries in several batches ($(cat "$T/push1"))" \
    '[ $rc = 0 ] && [ "${nb:-0}" -ge 3 ] && [ -n "$rev1" ]'
sed '5s/.*/MF0000000000003,12345/' "$T/pre.csv" >"$T/bad.csv"
fleet manifest push "$T/bad.csv" --site a >"$T/bad.out" 2>&1
rc=$?
check "a file with a bad line is refused whole with FILE:LINE, nothing published" \
    '[ $rc = 1 ] && grep -q "bad.csv:5" "$T/bad.out" && grep -q "nothing published" "$T/bad.out"'

agent_up
wait_rev "$rev1"
check "the agent, started after the push, applies it: $(entries) entries, MF..42 -> $(region MF0000000000042)" \
    '[ "$(entries)" = 100000 ] && [ "$(region MF0000000000042)" = 330782100243 ]'
wait_for 30 '[ "$(man manifest_lag)" = 0 ]'
check "fleet status: the batches, 100000 entries applied, no lag" \
    '[ "$(man manifest_outcome)" = applied ] && [ "$(man manifest_batches)" = "$nb" ] &&
     [ "$(man manifest_entries)" = 100000 ] && [ "$(man manifest_lag)" = 0 ] &&
     [ "$(man daemon_manifest_entries)" = 100000 ]'
check "the $nb batches in hand went to the daemon as one load (its loads: $(stat loads))" \
    '[ "$(stat loads)" = 1 ]'
fleet status --site a >"$T/status.txt"
check "fleet status in text shows the manifest" 'grep -q "manifest" "$T/status.txt"'

# --- restarts: nothing applied twice ----------------------------------------
ctl manifest del MF0000000000007 >/dev/null
agent_stop
agent_up
wait_for 30 'grep -q "last manifest revision handled $rev1" "$T/agent.log"'
sleep 1                 # time to apply something again, were it wrong
check "a restarted agent resumes after revision $rev1 and applies nothing again" \
    'grep -q "last manifest revision handled $rev1" "$T/agent.log" &&
     [ "$(region MF0000000000007)" = "" ] && [ "$(entries)" = 99999 ]'
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
printf 'MF9999999999999,330782100299\n' >"$T/one.csv"
fleet manifest push "$T/one.csv" --site a >"$T/push2" 2>&1
rev2=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/push2")
agent_up
wait_rev "$rev2"
sleep 1
check "after kill -9, a push sent meanwhile is applied once, the earlier ones not again" \
    '[ "$(region MF9999999999999)" = 330782100299 ] && [ "$(region MF0000000000007)" = "" ] &&
     [ "$(entries)" = 100000 ] && [ "$(man manifest_batches)" = $((nb + 1)) ]'

# --- damaged and untrusted batches ------------------------------------------
probe manifest-again a corrupt >/dev/null
rev3=$((rev2 + 1))
wait_rev "$rev3"
check "a batch whose CRC does not match is refused, reported, nothing applied" \
    '[ "$(man manifest_outcome)" = refused ] && man manifest_errors | grep -q "CRC-32" &&
     [ "$(man manifest_refused)" = 1 ] && [ "$(entries)" = 100000 ]'
agent_stop
fleet keygen "$T/ops-key" >/dev/null
agent_up --trust "$T/ops-key.pub"
printf 'MS0000000000001,330782100201\nMS0000000000002,330782100202\n' >"$T/signed.csv"
fleet manifest push "$T/signed.csv" --site a --sign "$T/ops-key" >"$T/spush" 2>&1
srev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/spush")
wait_rev "$srev"
check "with --trust, a signed push is applied (revision $srev)" \
    '[ "$(man manifest_outcome)" = applied ] && [ "$(region MS0000000000001)" = 330782100201 ]'
printf 'MU0000000000001,330782100201\n' >"$T/unsigned.csv"
fleet manifest push "$T/unsigned.csv" --site a >"$T/upush" 2>&1
urev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/upush")
wait_rev "$urev"
check "an unsigned push is refused: not in the manifest, the status says why" \
    '[ "$(man manifest_outcome)" = refused ] && man manifest_errors | grep -q "not signed" &&
     [ "$(region MU0000000000001)" = "" ]'
fleet manifest push "$T/signed.csv" --site a --sign "$T/ops-key" >"$T/spush2" 2>&1
s2rev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/spush2")
wait_rev "$s2rev"
ctl manifest del MS0000000000001 >/dev/null
probe manifest-again a same >/dev/null
rrev=$((s2rev + 1))
wait_rev "$rrev"
check "a signed batch put back into the stream is refused as replayed" \
    '[ "$(man manifest_outcome)" = refused ] && man manifest_errors | grep -q "replayed" &&
     [ "$(region MS0000000000001)" = "" ]'
n=$(entries)
probe manifest-again a tamper >/dev/null
trev=$((rrev + 1))
wait_rev "$trev"
check "a signed batch with one byte changed (CRC made to match) is refused" \
    '[ "$(man manifest_outcome)" = refused ] && man manifest_errors | grep -q "bad signature" &&
     [ "$(entries)" = "$n" ]'
agent_stop
check "the agent stops cleanly" 'grep -q "stopped" "$T/agent.log"'

# --- a load of batches the daemon refuses -----------------------------------
# three batches in hand (good, a bad line, good); the first two, of one
# push (the bad one is the first put again), go as one load, which the
# daemon refuses; then each goes on its own: the good ones are applied, the
# bad one alone refused
mkdir -p "$T/g1" "$T/g2"
printf 'MG0000000000001,330782100201\nMG0000000000002,330782100202\n' >"$T/g1/grp.csv"
printf 'MH0000000000001,330782100203\n' >"$T/g2/grp.csv"
n=$(entries) refused=$(man manifest_refused)
fleet manifest push "$T/g1/grp.csv" --site a >"$T/gpush1" 2>&1
probe manifest-again a badline >/dev/null
fleet manifest push "$T/g2/grp.csv" --site a >"$T/gpush2" 2>&1
grev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/gpush2")
agent_up
wait_rev "$grev"
check "of three batches in one refused load, the two good ones are applied and the bad one alone refused (revision $((grev - 1)))" \
    '[ "$(region MG0000000000002)" = 330782100202 ] &&
     [ "$(region MH0000000000001)" = 330782100203 ] &&
     [ "$(entries)" = $((n + 3)) ] && [ "$(man manifest_outcome)" = applied ] &&
     [ "$(man manifest_refused)" = $((refused + 1)) ] &&
     grep -q "manifest revision $((grev - 1)) refused" "$T/agent.log"'
agent_stop

# --- a load the daemon loses midway -----------------------------------------
# between the agent's begin and part another load begins (ctl_steal.py, a
# proxy on the control socket, begins one as an operator's `manifest load`
# would): the daemon drops the agent's load, the part is told so; the
# batch must go again, not be acknowledged as refused and lost
steal_up
AGENT_CTL="$T/steal.sock" agent_up
printf 'MK0000000000001,330782100201\nMK0000000000002,330782100202\n' >"$T/kept.csv"
fleet manifest push "$T/kept.csv" --site a >"$T/kpush" 2>&1
krev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/kpush")
wait_rev "$krev"
check "a batch whose load the daemon lost midway is begun again and applied, not acknowledged as refused" \
    'grep -q stolen "$T/steal.log" && [ "$(man manifest_outcome)" = applied ] &&
     [ "$(region MK0000000000002)" = 330782100202 ] && grep -q "beginning again" "$T/agent.log"'
agent_stop
steal_stop

# --- an operator's load under way --------------------------------------------
# while an operator's `parcelsortctl manifest load` is being sent (its file
# a FIFO held open), the daemon refuses the agent's begin as busy: the
# batch is neither refused nor loaded batch by batch; the agent begins it
# again once the operator's load is done and applies it once
mkfifo "$T/op.csv"
n=$(entries) loads=$(stat loads)
agent_up
for _ in $(seq 1 150); do [ "$(man manifest_outcome)" = resumed ] && break; sleep 0.2; done
batches=$(man manifest_batches) refused=$(man manifest_refused)
ctl manifest load "$T/op.csv" >"$T/op.out" 2>&1 &
LP=$!
{
    printf 'MP0000000000001,330782100201\n'
    for _ in $(seq 1 150); do
        grep -q "daemon is busy" "$T/agent.log" && break; sleep 0.2
    done
    end=$(($(date +%s) + 20))   # the site's status says why it waits
    while [ "$(date +%s)" -lt $end ]; do  # (20 s: the load stays under 60 s idle)
        [ "$(man manifest_outcome)" = busy ] && break; sleep 0.2
    done
    { man manifest_outcome; man manifest_errors; } >"$T/busy.status"
    printf 'MP0000000000002,330782100202\n'
} >"$T/op.csv" &
WP=$!
# until the operator's load has begun
wait_for 30 'ctl --json manifest stats | grep -q "\"loading\":{\"name\":\"$T/op.csv\""'
printf 'MQ0000000000001,330782100203\n' >"$T/queued.csv"
fleet manifest push "$T/queued.csv" --site a >"$T/qpush" 2>&1
qrev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/qpush")
wait $WP
wait $LP
oprc=$?
wait_rev "$qrev"
check "a batch the daemon refused to begin as busy (an operator's load under way) is applied once that load is done, not refused" \
    '[ $oprc = 0 ] && grep -q "daemon is busy: another manifest load is under way: .$T/op.csv." "$T/agent.log" &&
     [ "$(region MQ0000000000001)" = 330782100203 ] && [ "$(region MP0000000000002)" = 330782100202 ] &&
     [ "$(man manifest_outcome)" = applied ] && [ "$(man manifest_refused)" = "$refused" ] &&
     [ "$(man manifest_batches)" = $((batches + 1)) ] && [ "$(entries)" = $((n + 3)) ] &&
     [ "$(($(stat loads) - loads))" = 2 ] && [ "$(grep -c "manifest revision $qrev (" "$T/agent.log")" = 1 ]'
check "while it waits, the site's status says busy, naming the operator's load ($(tr '\n' ' ' <"$T/busy.status"))" \
    '[ "$(head -n 1 "$T/busy.status")" = busy ] && grep -q "another manifest load is under way: .$T/op.csv." "$T/busy.status"'
agent_stop

# --- pushes of one file name: a load per push --------------------------------
# a platform pushes its pre-advice under one name again and again, each file
# with its `waybill,region` header; two such pushes (2 batches each) waiting
# for the agent must not go as one load (the second header would be a bad
# line in it, the load refused and every batch then loaded on its own)
mkdir -p "$T/h1" "$T/h2"
python3 - "$T/h1/daily.csv" "$T/h2/daily.csv" <<'PY'
import sys
for k, path in enumerate(sys.argv[1:]):
    with open(path, "w") as f:
        f.write("waybill,region\n")
        for i in range(40000):
            f.write("MD%d%012d,%d\n" % (k, i, 330782100201 + k))
PY
n=$(entries) loads=$(stat loads)
fleet manifest push "$T/h1/daily.csv" --site a >"$T/dpush1" 2>&1
fleet manifest push "$T/h2/daily.csv" --site a >"$T/dpush2" 2>&1
drev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/dpush2")
dnb=$(sed -n 's/.* in \([0-9]*\) batch.*/\1/p' "$T/dpush2")
agent_up
wait_rev "$drev"
check "two pushes of one name with headers ($dnb batches each) go as a load each ($(($(stat loads) - loads)) loads)" \
    '[ "${dnb:-0}" -ge 2 ] && [ "$(entries)" = $((n + 80000)) ] &&
     [ "$(region MD1000000039999)" = 330782100202 ] &&
     [ "$(man manifest_outcome)" = applied ] && [ "$(($(stat loads) - loads))" = 2 ]'

# --- a stream whose messages have all aged out --------------------------------
# the site's stream keeps its last sequence but no message (its 7-day age
# limit, or a purge): a push must still go (it once expected the subject's
# last message, which no longer exists, and was refused for good)
probe purge-manifest a >"$T/purge.out" 2>&1
printf 'MZ0000000000001,330782100204\n' >"$T/after-purge.csv"
fleet manifest push "$T/after-purge.csv" --site a >"$T/ppush" 2>&1
prc=$?
prev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/ppush")
[ -n "$prev" ] && wait_rev "$prev"
check "after the stream's messages are gone, a push is sent and applied ($(cat "$T/ppush"))" \
    'grep -q allowed "$T/purge.out" && [ $prc = 0 ] && [ "$(region MZ0000000000001)" = 330782100204 ]'

agent_stop

