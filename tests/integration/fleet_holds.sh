#!/bin/sh
# fleet_holds.sh: fleet hold operations end to end. One nats-server with
# JetStream (its store in the test's directory, a free port), one
# parcelsortd on net_null with its agent. A `fleet hold load` of a list
# larger than one message (200,000 waybills with notes) reaches the site
# in chunks and is in force there as one list; `fleet hold add` and `del`
# follow it in order; `fleet status` shows the site's hold revision and
# count; an agent restarted (cleanly, then with kill -9) applies nothing
# again; a load another operation interrupts is refused whole. Then the
# agent restarted with --trust: a load signed with --sign is applied; an
# unsigned add, a signed load with one byte changed (size and CRC made to
# match) and a signed load put back into the stream are refused, with the
# reason in the status record and the site's list unchanged. A load
# whose daemon-side load is dropped midway (another load begun between the
# agent's begin and part, through the proxy ctl_steal.py) is begun again
# and applied, not acknowledged as refused.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/fleet.sh"
fleet_begin fleet-holds psfh

# the default max_payload (1 MB): the load goes in several messages
fleet_nats_start
fleet_init_wait
check "nats-server up; fleet init creates the hold stream too" \
    'grep -q PARCELSORT_HOLDS "$T/init"'

fleet_daemon_start
agent_up

# what the site says: count and revision of its list
site() { ctl --json hold list --limit 0 | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['count'], d['revision'])"; }
# a member of the site's "holds" status record
hold() {
    fleet --json status --site a | python3 -c '
import json, sys
s = (json.load(sys.stdin)[0]["status"] or {}).get("holds", {})
print(s.get(sys.argv[1], ""))' "$1"
}
# until the agent reports hold revision $1 (20 s)
wait_rev() {
    for _ in $(seq 1 100); do
        [ "$(hold hold_revision)" = "$1" ] && return 0; sleep 0.2
    done
    return 1
}
wait_for 30 '[ -n "$(hold hold_outcome)" ]'
check "daemon and agent up; the agent reports its holds" \
    '[ "$(hold hold_outcome)" = waiting ] && [ "$(site)" = "0 0" ]'

python3 -c "
import sys
w = sys.stdout.write
for i in range(200000):
    w('HL%012d,fleet customs hold %d\n' % (i, i))
" >"$T/big.holds"
size=$(stat -c %s "$T/big.holds")
fleet hold load "$T/big.holds" --site a >"$T/load.out" 2>&1
check "fleet hold load of $size bytes: sent in several messages ($(cat "$T/load.out"))" \
    '[ $? -eq 0 ] && [ "$size" -gt 1048576 ] && grep -Eq "in ([2-9]|[1-9][0-9]+) messages" "$T/load.out"'
rev1=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/load.out")
wait_rev "$rev1"
set -- $(site); cnt=$1 drev=$2
check "the site holds the 200000 as one list (daemon revision $drev, one change)" \
    '[ "$cnt" = 200000 ] && [ "$drev" = 1 ] && [ "$(hold hold_outcome)" = applied ]'
check "the held list is the file's (first and last waybill, with notes)" \
    'ctl hold list --limit 1 | grep -q "HL000000000000 *fleet customs hold 0" &&
     ctl hold list --limit 1 --after HL000000199998 | grep -q "HL000000199999 *fleet customs hold 199999"'

fleet hold add SF0000000000777 SF0000000000778 --note "address change" --site a >"$T/add.out" 2>&1
rev2=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/add.out")
fleet hold del HL000000000001 --site a >"$T/del.out" 2>&1
rev3=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/del.out")
wait_rev "$rev3"
set -- $(site); cnt=$1 drev=$2
check "fleet hold add then del: applied in order (revisions $rev2, $rev3; site $cnt holds, revision $drev)" \
    '[ "$cnt" = 200001 ] && [ "$drev" = 3 ] && ctl hold list --limit 1 --after SF0000000000776 | grep -q "SF0000000000777 *address change" &&
     ! ctl hold list --limit 1 --after HL000000000000 | grep -q HL000000000001'
fleet status >"$T/status" 2>&1
check "fleet status shows the site's hold revision and count" \
    'grep -Eq "^a .* $rev3 +200001" "$T/status" && [ "$(hold hold_count)" = 200001 ] &&
     [ "$(hold daemon_hold_revision)" = 3 ]'

# a restart, clean then kill -9: nothing applied again
agent_stop
agent_up
wait_for 30 'grep -q "last hold revision handled $rev3" "$T/agent.log"'
sleep 1                 # time to apply something again, were it wrong
check "a restarted agent resumes after revision $rev3 and applies nothing again" \
    'grep -q "last hold revision handled $rev3" "$T/agent.log" && [ "$(site)" = "200001 3" ] && [ "$(hold hold_revision)" = "$rev3" ]'
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
fleet hold add SF0000000000779 --sites a >"$T/add2.out" 2>&1
rev4=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/add2.out")
agent_up
wait_rev "$rev4"
sleep 1
check "after kill -9, an operation sent meanwhile is applied once, the earlier ones not again" \
    '[ "$(site)" = "200002 4" ]'

# --all: every site that reported status
fleet hold del SF0000000000779 --all >"$T/all.out" 2>&1
rev5=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/all.out")
wait_rev "$rev5"
check "fleet hold --all reaches the site" '[ "$(site)" = "200001 5" ]'

# a load that another operation cuts short: refused whole (chunks by
# hand: chunk 0 of 2, then an add, then chunk 1)
python3 - "$PORT" <<'PY' >"$T/cut.out" 2>&1
import socket, sys, json
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
s.sendall(b'CONNECT {"verbose":false,"headers":true}\r\n')
def pub(hdrs, body):
    h = "NATS/1.0\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs) + "\r\n"
    hb = h.encode()
    s.sendall(b"HPUB parcelsort.holds.a %d %d\r\n" % (len(hb), len(hb) + len(body)) + hb + body + b"\r\n")
body = b"SF0000000000801\nSF0000000000802\n"
import zlib
meta = [("Parcelsort-Hold-Op", "load"), ("Parcelsort-Hold-Load", "cut-1"),
        ("Parcelsort-Hold-Name", "cut.holds"), ("Parcelsort-Hold-Chunks", "2"),
        ("Parcelsort-Hold-Size", str(len(body))), ("Parcelsort-Hold-Crc", "%08x" % zlib.crc32(body))]
pub(meta + [("Parcelsort-Hold-Chunk", "0")], body[:16])
pub([("Parcelsort-Hold-Op", "add")], b"SF0000000000803\n")
pub(meta + [("Parcelsort-Hold-Chunk", "1")], body[16:])
s.sendall(b"PING\r\n")
print(f.readline())
PY
wait_for 30 'grep -q "cut-1 refused" "$T/agent.log" && [ "$(site | cut -d" " -f1)" = 200002 ]'
check "a load cut short by another operation is refused whole; the operation after it is applied" \
    'grep -q "cut-1 refused" "$T/agent.log" && [ "$(site | cut -d" " -f1)" = 200002 ] &&
     ! ctl hold list --limit 1 --after SF0000000000800 | grep -q SF0000000000801'

# ---- signed hold operations: the agent with --trust
fleet keygen "$T/ops-key" >/dev/null 2>&1
agent_stop
agent_up --trust "$T/ops-key.pub"
for _ in $(seq 1 50); do grep -q "only signed plans and holds" "$T/agent.log" && break; sleep 0.2; done
printf 'SG0000000000001,signed one\nSG0000000000002,signed two\nSG0000000000003,signed three\n' >"$T/signed.holds"
fleet hold load "$T/signed.holds" --site a --sign "$T/ops-key" >"$T/sload.out" 2>&1
srev=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/sload.out")
wait_rev "$srev"
check "with --trust, a load signed with --sign is applied (revision $srev)" \
    '[ -n "$srev" ] && [ "$(hold hold_outcome)" = applied ] && [ "$(site)" = "3 7" ] &&
     ctl hold list --limit 1 | grep -q "SG0000000000001 *signed one"'

fleet hold add SG0000000000009 --site a >"$T/uadd.out" 2>&1
urev=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/uadd.out")
wait_rev "$urev"
fleet status >"$T/status2" 2>&1
check "an unsigned add is refused: the list is unchanged, the status says why" \
    '[ -n "$urev" ] && [ "$(hold hold_outcome)" = refused ] && [ "$(hold hold_op)" = add ] &&
     hold hold_errors | grep -q "signature: not signed" && [ "$(site)" = "3 7" ] &&
     grep -q "hold revision $urev refused" "$T/status2" && grep -q "not signed" "$T/status2"'

# the signed load's message read back from the stream and published again:
# once with one byte of the list changed (size and CRC fixed), once as it was
resend() {
    python3 - "$PORT" "$srev" "$1" <<'PY'
import base64, json, socket, sys, zlib
port, seq, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
f.readline()
s.sendall(b'CONNECT {"verbose":false,"headers":true}\r\nSUB _INBOX.t 1\r\n')
req = json.dumps({"seq": seq}).encode()
s.sendall(b"PUB $JS.API.STREAM.MSG.GET.PARCELSORT_HOLDS _INBOX.t %d\r\n%s\r\n" % (len(req), req))
while True:
    line = f.readline()
    if line.startswith(b"MSG"):
        n = int(line.split()[-1]); reply = json.loads(f.read(n + 2)[:n]); break
msg = reply["message"]
data = base64.b64decode(msg.get("data", ""))
hdrs = [l.split(": ", 1) for l in base64.b64decode(msg["hdrs"]).decode().split("\r\n")[1:] if ": " in l]
hdrs = [(k, v) for k, v in hdrs if not k.startswith("Nats-")]
if mode == "tamper":
    data = data.replace(b"SG0000000000002", b"SG0000000000007")
    hdrs = [(k, "%08x" % zlib.crc32(data) if k == "Parcelsort-Hold-Crc" else v) for k, v in hdrs]
hb = ("NATS/1.0\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs) + "\r\n").encode()
s.sendall(b"HPUB parcelsort.holds.a %d %d\r\n" % (len(hb), len(hb) + len(data)) + hb + data + b"\r\nPING\r\n")
while not f.readline().startswith(b"PONG"):
    pass
print("sent", mode, len(data))
PY
}
last_seq() {
    fleet --json status --site a >/dev/null 2>&1
    python3 - "$PORT" <<'PY'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.t 1\r\nPUB $JS.API.STREAM.INFO.PARCELSORT_HOLDS _INBOX.t 0\r\n\r\n')
while True:
    line = f.readline()
    if line.startswith(b"MSG"):
        n = int(line.split()[-1]); print(json.loads(f.read(n + 2)[:n])["state"]["last_seq"]); break
PY
}
resend tamper >"$T/tamper.out" 2>&1
trev=$(last_seq)
wait_rev "$trev"
check "a signed load with one byte changed is refused (revision $trev); the list is unchanged" \
    '[ "$(hold hold_outcome)" = refused ] && [ "$(hold hold_op)" = load ] &&
     hold hold_errors | grep -q "bad signature" && [ "$(site)" = "3 7" ] &&
     ! ctl hold list --limit 5 | grep -q SG0000000000007'
resend replay >"$T/replay.out" 2>&1
rrev=$(last_seq)
wait_rev "$rrev"
check "the signed load put back into the stream is refused as replayed (revision $rrev)" \
    '[ "$rrev" -gt "$trev" ] && [ "$(hold hold_outcome)" = refused ] &&
     hold hold_errors | grep -q "replayed" && [ "$(site)" = "3 7" ]'
fleet hold add SG0000000000004 --note "signed add" --site a --sign "$T/ops-key" >"$T/sadd.out" 2>&1
arev=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/sadd.out")
wait_rev "$arev"
check "a signed add after the refusals is applied (revision $arev)" \
    '[ -n "$arev" ] && [ "$(hold hold_outcome)" = applied ] && [ "$(site)" = "4 8" ]'

# ---- a load the daemon loses midway: begun again, not lost
agent_stop
steal_up
AGENT_CTL="$T/steal.sock" agent_up --trust "$T/ops-key.pub"
printf 'SK0000000000001,kept one\nSK0000000000002,kept two\n' >"$T/kept.holds"
fleet hold load "$T/kept.holds" --site a --sign "$T/ops-key" >"$T/kload.out" 2>&1
krev=$(sed -n 's/.*hold revision \([0-9]*\).*/\1/p' "$T/kload.out")
wait_rev "$krev"
check "a load whose daemon-side load another load dropped midway is begun again and applied (revision $krev)" \
    'grep -q stolen "$T/steal.log" && [ "$(hold hold_outcome)" = applied ] &&
     [ "$(site | cut -d" " -f1)" = 2 ] && ctl hold list --limit 1 | grep -q "SK0000000000001 *kept one" &&
     grep -q "hold load .*beginning again" "$T/agent.log"'
agent_stop
steal_stop
