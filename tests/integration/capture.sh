#!/bin/sh
# capture.sh: `parcelsortctl capture` against the real daemon: parcelsortd
# on a veth with the bundled Yiwu plan, the generator in the namespace as
# the scanners and the sorter controller. Checked: bad arguments get clear
# errors and create nothing; an existing file or a symbolic link is
# refused; a capture under load (scans, chute states, sort results)
# accounts for every request frame (captured + dropped == request frames
# answered while it ran, and with no traffic outside it, == the daemon's
# own counters' difference and the datagrams sent); tcpdump reads the file
# back with as many packets as captured; a second capture is refused while
# one runs; --sample 1/K keeps exactly every K-th; --max-mb and --duration
# stop it by themselves; so does a full disk, leaving whole records only;
# kill -9 mid-capture leaves a file tcpdump reads; a capture the daemon's
# exit ends is complete;
# rte_pdump reports that it is unavailable on --no-huge --no-shconf, and
# why (without --no-shconf: for want of hugepages only).
# Removes its namespace, links and daemon even when it fails.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns
in_ns ip addr add 198.18.0.3/24 dev "$VB"
GEN="$BUILD/gen/parcelsort-gen"
CTLBIN="$BUILD/control/parcelsortctl"
ctl() { "$CTLBIN" --ctl "$CTL" "$@"; }

start_daemon cap --plan "$ROOT/config/yiwu.plan" --sorter-allow 198.18.0.3/32
check "daemon starts with the Yiwu plan and a sorter allow-list" '[ $? -eq 0 ]'

# jq-less JSON checks: py FILE 'expression over j'
py() {
    python3 - "$1" "$2" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PYEOF
}

# ---------------------------------------------------------------- pdump
ctl --json status >"$T/status.json"
check "status reports rte_pdump unavailable on --no-huge/--no-shconf, and why" \
    'py "$T/status.json" "j[\"pdump\"].startswith(\"unavailable: no hugepages (--no-huge) and no multi-process messaging (--no-shconf\")"'
ctl --json capture status >"$T/cs0.json"
check "capture status before any capture: not running, no file, the pdump report" \
    'py "$T/cs0.json" "j[\"running\"] is False and j[\"file\"] is None and j[\"pdump\"].startswith(\"unavailable\")"'
ctl capture status >"$T/cs0.txt"
check "capture status in text says none ran and what pdump is" \
    'grep -q "capture: none since the daemon started" "$T/cs0.txt" && grep -q "^pdump:   unavailable" "$T/cs0.txt"'

# ------------------------------------------------------------ bad input
bad() {    # bad EXIT MESSAGE ARGS...: exits EXIT, says MESSAGE, no file
    want=$1 msg=$2
    shift 2
    ctl capture start "$@" >"$T/bad.out" 2>&1
    rc=$?
    [ "$rc" -eq "$want" ] && grep -q -- "$msg" "$T/bad.out" && [ ! -e "$T/bad.pcap" ]
}
check "no FILE: usage error" 'bad 2 "wrong arguments"'
check "--sample 10 (not 1/K): usage error" 'bad 2 "1/K" "$T/bad.pcap" --sample 10'
check "--sample 1/0: usage error" 'bad 2 "sample takes a whole number 1..1000000" "$T/bad.pcap" --sample 1/0'
check "--sample 1/x: usage error" 'bad 2 "sample takes" "$T/bad.pcap" --sample 1/x'
check "--max-mb 0: usage error" 'bad 2 "max-mb takes a whole number 1..1048576" "$T/bad.pcap" --max-mb 0'
check "--duration -5: usage error" 'bad 2 "duration takes a whole number" "$T/bad.pcap" --duration -5'
check "--duration without a value: usage error" 'bad 2 "wrong arguments" "$T/bad.pcap" --duration'
check "an unknown option: usage error" 'bad 2 "wrong arguments" "$T/bad.pcap" --snaplen 64'
check "an option given twice: usage error" 'bad 2 "given twice" "$T/bad.pcap" --max-mb 1 --max-mb 2'
echo keep >"$T/exists.pcap"
check "an existing file is refused (exit 1) and left as it was" \
    'bad 1 "exists" "$T/exists.pcap" && [ "$(cat "$T/exists.pcap")" = keep ]'
ln -s "$T/target" "$T/link.pcap"
check "a symbolic link is refused (exit 1), its target not created" \
    'bad 1 "symbolic link" "$T/link.pcap" && [ ! -e "$T/target" ]'
check "a missing directory is refused (exit 1)" \
    'bad 1 "No such file or directory" "$T/nodir/x.pcap"'
check "capture stop with none running: refused" \
    'ctl capture stop >"$T/stop0.out" 2>&1; [ $? -eq 1 ] && grep -q "no capture is running" "$T/stop0.out"'
check "capture status takes no arguments" \
    'ctl capture status now >/dev/null 2>&1; [ $? -eq 2 ]'

# request frames answered so far: kind 2 decisions + acks (stats)
answered() {
    ctl --json stats | python3 -c 'import json,sys; a=json.load(sys.stdin)["answered"]; print(a["decision"]+a["ack"])'
}
# packets tcpdump reads from a file (and its exit status 0)
tcpdump_count() {
    tcpdump -r "$1" -nn 2>"$T/tcpdump.err" >"$T/tcpdump.out" || return 1
    wc -l <"$T/tcpdump.out"
}

# ------------------------------------------------- a capture under load
# (a chute reported FULL is reported again once its 1 s hold lapses: kind
# 3 frames all through the capture, not only in the first second)
SORTER="--sorter --sorter-from 198.18.0.3 --rate 3000 --duration 6 --full 0.2
    --failed 0.1 --round-ms 300 --hold 1 --wait 2 --zipf 0 --seed 5 --quiet"
# shellcheck disable=SC2086
in_ns "$GEN" --send 198.18.0.2:7100 $SORTER &
GENPID=$!
sleep 1.5
ctl capture start "$T/load.pcap" >"$T/start.out" 2>&1
check "capture start under load" '[ $? -eq 0 ] && grep -q "capture: running" "$T/start.out"'
wait_for 30 'ctl --json capture status >"$T/running.json" && py "$T/running.json" "j[\"captured\"] > 0"'
ctl capture start "$T/second.pcap" >"$T/second.out" 2>&1
check "a second capture start is refused (exit 1), says why, creates nothing" \
    '[ $? -eq 1 ] && grep -q "already running" "$T/second.out" && [ ! -e "$T/second.pcap" ]'
ctl --json capture status >"$T/running.json"
check "capture status while running: running, the file, frames so far" \
    'py "$T/running.json" "j[\"running\"] and j[\"file\"] == \"$T/load.pcap\" and j[\"captured\"] > 0 and j[\"stopped_by\"] is None"'
sleep 1
ctl --json capture stop >"$T/load.json"
check "capture stop answers the final counts" '[ $? -eq 0 ]'
wait "$GENPID"
check "captured + dropped == request frames answered while it ran (> 0)" \
    'py "$T/load.json" "j[\"requests\"] > 0 and j[\"captured\"] + j[\"dropped\"] == j[\"requests\"] and j[\"sampled_out\"] == 0 and j[\"in_flight\"] == 0"'
check "stopped by stop, not running" \
    'py "$T/load.json" "j[\"running\"] is False and j[\"stopped_by\"] == \"stop\" and j[\"workers_followed\"]"'
N=$(tcpdump_count "$T/load.pcap")
check "tcpdump -r reads the file: as many packets as captured" \
    '[ -n "$N" ] && py "$T/load.json" "j[\"captured\"] == $N"'
check "the file is mode 0640 and its size is the bytes reported" \
    '[ "$(stat -c %a "$T/load.pcap")" = 640 ] && py "$T/load.json" "j[\"bytes\"] == $(stat -c %s "$T/load.pcap")"'
python3 - "$T/load.pcap" >"$T/kinds.txt" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
magic, = struct.unpack('<I', d[:4])
assert magic == 0xa1b2c3d4
assert struct.unpack('<I', d[20:24])[0] == 1       # LINKTYPE_ETHERNET
off, kinds = 24, set()
while off < len(d):
    incl, orig = struct.unpack('<II', d[off + 8:off + 16])
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    eth = 14 + (4 if f[12:14] == b'\x81\x00' else 0)
    ihl = (f[eth] & 15) * 4
    assert f[eth + 9] == 17                           # UDP
    assert struct.unpack('>H', f[eth + ihl + 2:eth + ihl + 4])[0] == 7100
    kinds.add(f[eth + ihl + 8 + 3])                   # protocol header kind
print(' '.join(str(k) for k in sorted(kinds)))
PYEOF
check "the frames are requests as received: UDP to port 7100, kinds 1, 3 and 5 (seen: $(cat "$T/kinds.txt" 2>/dev/null))" \
    '[ "$(cat "$T/kinds.txt")" = "1 3 5" ]'

# ---------------- exact against the daemon's counters: no traffic outside
A0=$(answered)
ctl capture start "$T/exact.pcap" >/dev/null
in_ns "$GEN" --send 198.18.0.2:7100 --datagrams 3000 --rate 2000 --seed 9 \
    --wait 2 --json >"$T/exact-gen.json"
ctl --json capture stop >"$T/exact.json"
A1=$(answered)
check "no traffic outside the capture: requests == the daemon's counters' difference" \
    'py "$T/exact.json" "j[\"requests\"] == $A1 - $A0 and j[\"captured\"] + j[\"dropped\"] == j[\"requests\"]"'
check "... == the 3000 datagrams the generator sent" \
    'py "$T/exact.json" "j[\"requests\"] == 3000"'
N=$(tcpdump_count "$T/exact.pcap")
check "tcpdump reads that capture: as many packets as captured" \
    '[ -n "$N" ] && py "$T/exact.json" "j[\"captured\"] == $N"'

# --------------------------------------------------------- --sample 1/K
ctl capture start "$T/sample.pcap" --sample 1/10 >/dev/null
in_ns "$GEN" --send 198.18.0.2:7100 --datagrams 1000 --rate 2000 --seed 11 \
    --wait 2 --quiet
ctl --json capture stop >"$T/sample.json"
check "--sample 1/10 of 1000 request frames: exactly 100 kept, 900 sampled out" \
    'py "$T/sample.json" "j[\"requests\"] == 1000 and j[\"captured\"] + j[\"dropped\"] == 100 and j[\"sampled_out\"] == 900 and j[\"sample\"] == 10"'
N=$(tcpdump_count "$T/sample.pcap")
check "tcpdump reads the sampled file" '[ -n "$N" ] && py "$T/sample.json" "j[\"captured\"] == $N"'

# ---------------------------------------------------------- --max-mb N
ctl capture start "$T/max.pcap" --max-mb 1 >/dev/null
in_ns "$GEN" --send 198.18.0.2:7100 --datagrams 4000 --rate 20000 \
    --records 22 --seed 12 --wait 1 --quiet
wait_for 30 'ctl --json capture status >"$T/max.json" && py "$T/max.json" "not j[\"running\"]"'
ctl --json capture status >"$T/max.json"
check "--max-mb 1 stops it by itself: stopped_by max-mb, frames beyond it dropped" \
    'py "$T/max.json" "not j[\"running\"] and j[\"stopped_by\"] == \"max-mb\" and j[\"dropped_at_limit\"] > 0 and j[\"captured\"] + j[\"dropped\"] == j[\"requests\"]"'
check "... the file stays within 1 MB" \
    '[ "$(stat -c %s "$T/max.pcap")" -le 1048576 ] && py "$T/max.json" "j[\"bytes\"] == $(stat -c %s "$T/max.pcap") > 1000000"'
N=$(tcpdump_count "$T/max.pcap")
check "tcpdump reads it: as many packets as captured" \
    '[ -n "$N" ] && py "$T/max.json" "j[\"captured\"] == $N"'
check "capture stop after it stopped by itself: refused, says why" \
    'ctl capture stop >"$T/stop1.out" 2>&1; [ $? -eq 1 ] && grep -q "stopped by max-mb" "$T/stop1.out"'

# -------------------------------------------------------- --duration S
ctl capture start "$T/dur.pcap" --duration 1 >/dev/null
in_ns "$GEN" --send 198.18.0.2:7100 --duration 2 --rate 500 --seed 13 \
    --wait 1 --quiet
ctl --json capture status >"$T/dur.json"
check "--duration 1 stops it by itself after about a second" \
    'py "$T/dur.json" "not j[\"running\"] and j[\"stopped_by\"] == \"duration\" and 1.0 <= j[\"elapsed_s\"] < 2.0 and j[\"captured\"] + j[\"dropped\"] == j[\"requests\"] > 0"'
ctl capture status >"$T/dur.txt"
check "capture status in text says it stopped by duration" \
    'grep -q "capture: stopped by duration" "$T/dur.txt"'
N=$(tcpdump_count "$T/dur.pcap")
check "tcpdump reads it: as many packets as captured" \
    '[ -n "$N" ] && py "$T/dur.json" "j[\"captured\"] == $N"'

# ------------------------------------- a full disk: a write error stops it
mkdir "$T/small"
mount -t tmpfs -o size=128k tmpfs "$T/small"
trap 'umount "$T/small" 2>/dev/null; cleanup' EXIT INT TERM
ctl capture start "$T/small/full.pcap" >/dev/null
in_ns "$GEN" --send 198.18.0.2:7100 --datagrams 1000 --rate 2000 \
    --records 22 --seed 16 --wait 1 --quiet
ctl --json capture status >"$T/full.json"
check "a full disk stops it: stopped_by names the write error, every frame counted" \
    'py "$T/full.json" "not j[\"running\"] and j[\"stopped_by\"] == \"write error: No space left on device\" and j[\"captured\"] > 0 and j[\"captured\"] + j[\"dropped\"] == j[\"requests\"]"'
N=$(tcpdump_count "$T/small/full.pcap")
check "... and the file it left ends with a whole record: tcpdump reads what was captured" \
    '[ -n "$N" ] && py "$T/full.json" "j[\"captured\"] == $N and j[\"bytes\"] == $(stat -c %s "$T/small/full.pcap")" && ! grep -qi trunc "$T/tcpdump.err"'
umount "$T/small"

# ------------------------------------------------- kill -9 mid-capture
# shellcheck disable=SC2086
in_ns "$GEN" --send 198.18.0.2:7100 --duration 4 --rate 3000 --seed 14 \
    --wait 0 --quiet &
GENPID=$!
sleep 0.5
ctl capture start "$T/killed.pcap" >/dev/null
wait_for 30 'ctl --json capture status >"$T/killed.json" && py "$T/killed.json" "j[\"captured\"] > 2000"'
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=""
wait "$GENPID"
N=$(tcpdump_count "$T/killed.pcap")
check "kill -9 mid-capture leaves a file tcpdump reads, with packets in it" \
    '[ -n "$N" ] && [ "$N" -gt 1000 ] && ! grep -qi trunc "$T/tcpdump.err"'

# ---------------- rte_pdump's report: shared configuration on, no hugepages
# (a daemon without --no-shconf: the report names the one reason left)
"$BUILD/parcelsortd" -l 0-1 --no-huge -m 512 --no-pci --log-level=3 \
    --file-prefix "ps$ID" --vdev "net_af_packet0,iface=$VA" -- \
    --ip 198.18.0.2 --state-dir "$T/state-shconf" --ctl "$T/ctl-shconf.sock" \
    --metrics off >"$T/shconf.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
    grep -q "^parcelsortd: UDP port" "$T/shconf.log" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.25
done
"$CTLBIN" --ctl "$T/ctl-shconf.sock" --json status >"$T/status2.json"
check "without --no-shconf, rte_pdump is unavailable for want of hugepages only" \
    'py "$T/status2.json" "j[\"pdump\"] == \"unavailable: no hugepages (--no-huge): no secondary process such as dpdk-dumpcap can attach\""'
# a capture the daemon's exit ends: the file complete
"$CTLBIN" --ctl "$T/ctl-shconf.sock" capture start "$T/exit.pcap" >/dev/null
in_ns "$GEN" --send 198.18.0.2:7100 --datagrams 200 --rate 2000 --seed 15 \
    --wait 1 --quiet
stop_daemon
check "that daemon stops with exit 0 with a capture running" '[ "$RC" -eq 0 ]'
N=$(tcpdump_count "$T/exit.pcap")
check "the capture its exit ended reads back whole: the 200 request frames" \
    '[ "$N" = 200 ]'
