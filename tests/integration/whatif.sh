#!/bin/sh
# whatif.sh: `parcelsortctl plan whatif` against an independent reference
# (whatif_ref.py, on reference.py's model of the protocol): a capture made
# by parcelsort-gen replayed through a plan and a candidate; a plan against
# itself changes nothing; a moved prefix, a new rule, a removed chute and a
# removed default give exactly the reference's counts, groups and chutes;
# an intercept list and a manifest from files take part; --against active
# reads the daemon's plan, hold list, disabled chutes and the manifest
# entries of the capture's barcode-only waybills (or a --manifest FILE
# instead), and the daemon's own capture
# (capture start/stop) replays as the reference says; `fleet push --whatif`
# replays the capture against a site's active plan as its agent reported
# it (a NATS cluster, the daemon and a parcelsort-agent), shows the report,
# and pushes only after --yes or a y on a terminal; bad input (a truncated or
# foreign capture, one without scan datagrams, a plan with errors) gets a
# clear error and the exit code of plan check.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/nats.sh"
AGENT_PID=""
wi_cleanup() {
    [ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
    nats_stop
    cleanup
}
trap wi_cleanup EXIT INT TERM
CTLBIN="$BUILD/control/parcelsortctl"
P="$ROOT/config/yiwu.plan"
C="$T/capture.pcap"
whatif() { "$CTLBIN" --ctl "$T/none.sock" plan whatif "$@"; }
# compare: NAME CANDIDATE [HOLDS] -- the offline what-if against the reference
compare() {
    name=$1 cand=$2 holds=${3:-}
    if [ -n "$holds" ]; then
        whatif "$cand" --capture "$C" --against "$P" --holds "$holds" --json >"$T/r.json"
    else
        whatif "$cand" --capture "$C" --against "$P" --json >"$T/r.json"
    fi
    check "$name: exit 0" '[ $? -eq 0 ]'
    (cd "$HERE" && python3 whatif_ref.py "$P" "$cand" "$C" "$T/r.json" "${holds:--}") |
        sed "s/^\(not \)\{0,1\}ok - /&$name: /"
}

"$BUILD/gen/parcelsort-gen" --pcap "$C" --quiet --datagrams 3000 --seed 11 \
    --ipv6 0.3 --home 330782 --home-share 0.5 --rescan 0.2 --noread 0.05 \
    --invalid 0.05 --dst-mac 02:00:00:00:00:02
check "capture generated" '[ -s "$C" ]'

# the candidates: each one change of the plan
sed 's/^route 44 118 .*$/route 44 119 71,72/' "$P" >"$T/moved.plan"
sed 's/^rule 10 900 901,902 service=cold_chain$/&\nrule 5 902 905 carrier=SF/' "$P" >"$T/rule.plan"
sed 's/^route 33 110 11,12$/route 33 110 11/' "$P" >"$T/chute.plan"
sed '/^default /d' "$P" >"$T/nodefault.plan"
for c in moved rule chute nodefault; do
    check "candidate $c differs from the plan" '! cmp -s "$P" "$T/$c.plan"'
done

# a plan against itself
whatif "$P" --capture "$C" --against "$P" >"$T/self.txt"
check "itself: exit 0" '[ $? -eq 0 ]'
check "itself: the verdict says nothing changes" \
    'grep -q "^verdict: 0 of [0-9,]* records change chute; 0 become NO_ROUTE, 0 become CHUTE_UNAVAILABLE$" "$T/self.txt"'
compare itself "$P"
compare "moved prefix" "$T/moved.plan"
compare "new rule" "$T/rule.plan"
compare "removed chute" "$T/chute.plan"
compare "removed default" "$T/nodefault.plan"
check "removed default: records become NO_ROUTE" \
    'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"become\"][\"NO_ROUTE\"] > 0 and d[\"changed\"] == d[\"become\"][\"NO_ROUTE\"]" "$T/r.json"'

# an intercept list from a file: every 40th valid waybill of the capture
(cd "$HERE" && python3 -c '
import struct, sys, reference as ref
seen = []
for fr in ref.read_pcap(sys.argv[1]):
    s = ref.udp_payload(fr)
    if not s or len(s[4]) < 80: continue
    for i in range((len(s[4]) - 16) // 64):
        wb = s[4][16 + 64 * i:40 + 64 * i]
        if ref.waybill_state(wb) == "valid" and wb not in seen: seen.append(wb)
with open(sys.argv[2], "w") as f:
    f.write("# held for the what-if test\n")
    for wb in seen[::40]: f.write(wb.rstrip(b"\0").decode() + ",test\n")
' "$C" "$T/holds.txt")
compare "holds from a file" "$T/moved.plan" "$T/holds.txt"
check "holds from a file: records are INTERCEPTED" \
    'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"current\"][\"by_reason\"][\"INTERCEPTED\"] > 0" "$T/r.json"'

# a manifest from a file: a capture of mostly barcode-only records (region
# 0), a manifest giving two of every three of their waybills a region
# (alternately in prefix 44, which the moved plan moves, and 11); the
# records still without a region fall to the default
CU="$T/unknown.pcap"
"$BUILD/gen/parcelsort-gen" --pcap "$CU" --quiet --datagrams 1500 --seed 12 \
    --unknown 0.7 --rescan 0.2 --noread 0.03 --invalid 0.03 \
    --dst-mac 02:00:00:00:00:02
# barcode_only CAPTURE OUT [EVERY]: the distinct valid waybills of the
# capture's barcode-only records, into OUT (EVERY: only those of which
# the index modulo 3 is not 2, each with a region, as a manifest file)
barcode_only() {
    (cd "$HERE" && python3 -c '
import struct, sys, reference as ref
seen = []
for fr in ref.read_pcap(sys.argv[1]):
    s = ref.udp_payload(fr)
    if not s or len(s[4]) < 80: continue
    for i in range((len(s[4]) - 16) // 64):
        rec = s[4][16 + 64 * i:80 + 64 * i]
        wb, region = rec[:24], struct.unpack(">Q", rec[24:32])[0]
        if region == 0 and ref.waybill_state(wb) == "valid" and wb not in seen:
            seen.append(wb)
with open(sys.argv[2], "w") as f:
    if sys.argv[3] == "all":
        for wb in seen: f.write(wb.rstrip(b"\0").decode() + "\n")
    else:
        f.write("waybill,region\n# pre-advice for the what-if test\n")
        for i, wb in enumerate(seen):
            if i % 3 != 2:
                f.write("%s,%s\n" % (wb.rstrip(b"\0").decode(),
                                     "440305000000" if i % 2 else "110105000000"))
' "$1" "$2" "${3:-all}")
}
barcode_only "$CU" "$T/manifest.csv" some
check "manifest file: covers some barcode-only waybills of the capture" \
    '[ "$(grep -c "^[0-9A-Z-]*,[0-9]*$" "$T/manifest.csv")" -gt 100 ]'
whatif "$T/moved.plan" --capture "$CU" --against "$P" --manifest "$T/manifest.csv" --json >"$T/r.json"
check "manifest from a file: exit 0" '[ $? -eq 0 ]'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/moved.plan" "$CU" "$T/r.json" - - "$T/manifest.csv") |
    sed "s/^\(not \)\{0,1\}ok - /&manifest from a file: /"
whatif "$T/moved.plan" --capture "$CU" --against "$P" --json >"$T/r0.json"
check "manifest from a file: its regions move records that the default decides without it" \
    'python3 -c "
import json, sys
m, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert m[\"changed\"] > 0 and n[\"changed\"] < m[\"changed\"]
assert m[\"current\"][\"by_reason\"][\"ROUTED\"] > n[\"current\"][\"by_reason\"][\"ROUTED\"]
" "$T/r.json" "$T/r0.json"'

# chute states in the capture: a BLOCKED report of chute 19 for an hour
# before the first scan takes it out for the whole capture, on both sides
(cd "$HERE" && python3 -c '
import struct, sys, reference as ref
frames = ref.read_pcap(sys.argv[1])
pay = struct.pack(">HBBHHII", 0x5053, 1, 3, 1, 0, 3307820, 1) + \
    struct.pack(">HBBHH", 19, 2, 0, 3600, 0)
ref.write_pcap(sys.argv[2], [ref.rebuild_udp(frames[0], pay)] + frames)
' "$C" "$T/blocked.pcap")
whatif "$T/moved.plan" --capture "$T/blocked.pcap" --against "$P" --json >"$T/r.json"
check "chute states in the capture: exit 0, the report applied" \
    '[ $? -eq 0 ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"capture\"][\"sorter_datagrams\"] == 1 and d[\"current\"][\"by_reason\"][\"CHUTE_UNAVAILABLE\"] > 0" "$T/r.json"'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/moved.plan" "$T/blocked.pcap" "$T/r.json" - 19) |
    sed "s/^\(not \)\{0,1\}ok - /&chute states in the capture: /"

# a record CHUTE_UNAVAILABLE (chute 19 blocked) under the plan and NO_ROUTE
# under a candidate without its route and without a default goes to the
# reject chute either way: no change of chute, but it becomes NO_ROUTE
sed -e '/^route 44 118 19$/d' -e '/^default /d' "$P" >"$T/no19.plan"
whatif "$T/no19.plan" --capture "$T/blocked.pcap" --against "$P" --json >"$T/r.json"
check "unavailable to no route: exit 0, records become NO_ROUTE at the same reject chute" \
    '[ $? -eq 0 ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"become\"][\"NO_ROUTE\"] > d[\"changed\"] > 0" "$T/r.json"'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/no19.plan" "$T/blocked.pcap" "$T/r.json" - 19) |
    sed "s/^\(not \)\{0,1\}ok - /&unavailable to no route: /"

# bad input
printf 'plan broken\nsite 1 33\nreject 9\nhub 1 trunk T\nroute 33 7 1\n' >"$T/bad.plan"
whatif "$T/bad.plan" --capture "$C" --against "$P" >"$T/out" 2>&1
rc=$?
check "a candidate with errors: exit 1 and FILE:LINE ($rc)" \
    '[ $rc -eq 1 ] && grep -q "bad.plan:5: route names hub 7" "$T/out"'
whatif "$P" --capture "$C" --against "$T/bad.plan" >"$T/out" 2>&1
rc=$?
check "a current plan with errors: exit 1 and FILE:LINE ($rc)" \
    '[ $rc -eq 1 ] && grep -q "bad.plan:5: route names hub 7" "$T/out"'
printf 'ABC,a note\n' >"$T/badholds.txt"
whatif "$P" --capture "$C" --against "$P" --holds "$T/badholds.txt" >"$T/out" 2>&1
rc=$?
check "a hold file with errors: exit 1 and FILE:LINE ($rc)" \
    '[ $rc -eq 1 ] && grep -q "badholds.txt:1:" "$T/out"'
whatif "$P" --against "$P" >"$T/out" 2>&1
check "no --capture: usage, exit 2" '[ $? -eq 2 ]'
for opt in --holds --manifest; do
    whatif "$P" --capture "$C" --against "$P" $opt "$T/missing.txt" >"$T/out" 2>&1
    rc=$?
    check "a missing $opt file: exit 1 like a missing plan, said so ($rc)" \
        '[ $rc -eq 1 ] && grep -q "missing.txt: No such file or directory" "$T/out"'
done

frames=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import reference as r; print(len(r.read_pcap('$C')))")
size=$(stat -c %s "$C")
head -c $((size - 100)) "$C" >"$T/cut.pcap"
whatif "$T/moved.plan" --capture "$T/cut.pcap" --against "$P" --json >"$T/r.json" 2>"$T/err"
rc=$?
check "a truncated capture: exit 0, reported with its whole records ($rc)" \
    '[ $rc -eq 0 ] && grep -q "truncated after $((frames - 1)) whole records" "$T/err" &&
     python3 -c "import json,sys; d=json.load(open(sys.argv[1]))[\"capture\"]; assert d[\"truncated\"] and d[\"frames\"] == $((frames - 1))" "$T/r.json"'
whatif "$T/moved.plan" --capture "$T/cut.pcap" --against "$P" >"$T/out" 2>&1
check "a truncated capture: the text report says so" \
    'grep -q "warning: the capture is truncated after $((frames - 1)) whole records" "$T/out"'

# frames cut by the snap length (tcpdump -s): not replayed, counted
python3 -c '
import struct, sys
sys.path.insert(0, sys.argv[3])
import reference as ref
frames = ref.read_pcap(sys.argv[1])
for path, snap in ((sys.argv[2] + "/snap60.pcap", lambda i: 60),
                   (sys.argv[2] + "/snap1.pcap", lambda i: 60 if i == 1 else 65535)):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            n = min(len(fr), snap(i))
            f.write(struct.pack("<IIII", 100 + i, 0, n, len(fr)) + fr[:n])
' "$C" "$T" "$HERE"
whatif "$P" --capture "$T/snap60.pcap" --against "$P" >"$T/out" 2>&1
rc=$?
check "a capture cut at 60 bytes a frame: exit 1, said so ($rc)" \
    '[ $rc -eq 1 ] && grep -q "no scan datagrams in the capture ($frames frames read, $frames of them cut by the capture.s snap length)" "$T/out"'
whatif "$P" --capture "$T/snap1.pcap" --against "$P" --json >"$T/r.json" 2>"$T/err"
rc=$?
check "one frame cut by the snap length: exit 0, not replayed, counted ($rc)" \
    '[ $rc -eq 0 ] && grep -q "1 frames cut short by the capture.s snap length, not replayed" "$T/err" &&
     python3 -c "import json,sys; d=json.load(open(sys.argv[1]))[\"capture\"]; assert d[\"cut\"] == 1 and d[\"frames\"] == $frames and d[\"dropped\"] == 0 and d[\"scan_datagrams\"] == $frames - 1" "$T/r.json"'

python3 -c '
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 1, 0, 0xFFFFFFFF, 0xFFFFFFFF) + bytes(100))
' "$T/huge.pcap"
whatif "$P" --capture "$T/huge.pcap" --against "$P" >"$T/out" 2>&1
rc=$?
check "a first record of 4 GB: exit 1, the file said corrupt ($rc)" \
    '[ $rc -eq 1 ] && grep -q "(0 frames read, then a record longer than any frame: the file is corrupt)" "$T/out"'

cp "$P" "$T/foreign.pcap"
whatif "$P" --capture "$T/foreign.pcap" --against "$P" >"$T/out" 2>&1
rc=$?
check "a foreign file: exit 1, not a pcap file ($rc)" \
    '[ $rc -eq 1 ] && grep -q "foreign.pcap: not a pcap file" "$T/out"'
python3 -c '
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 113))
    f.write(struct.pack("<IIII", 1, 0, 4, 4) + b"abcd")
' "$T/sll.pcap"
whatif "$P" --capture "$T/sll.pcap" --against "$P" >"$T/out" 2>&1
rc=$?
check "another link type: exit 1, not Ethernet ($rc)" \
    '[ $rc -eq 1 ] && grep -q "link type 113, not Ethernet" "$T/out"'
python3 -c '
import struct, sys
arp = bytes.fromhex("ffffffffffff020000000001") + b"\x08\x06" + bytes(28)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(3):
        f.write(struct.pack("<IIII", 1 + i, 0, len(arp), len(arp)) + arp)
' "$T/noscan.pcap"
whatif "$P" --capture "$T/noscan.pcap" --against "$P" >"$T/out" 2>&1
rc=$?
check "a capture without scan datagrams: exit 1, said so ($rc)" \
    '[ $rc -eq 1 ] && grep -q "no scan datagrams in the capture (3 frames read)" "$T/out"'

# --against active: the daemon's plan, hold list and disabled chutes
setup_netns
ctl() { "$CTLBIN" --ctl "$CTL" "$@"; }
start_daemon whatif --plan "$P"
check "daemon up" '[ $? -eq 0 ]'
ctl hold load "$T/holds.txt" >/dev/null
check "holds loaded into the daemon" '[ $? -eq 0 ]'
ctl chute disable 19 >/dev/null
check "chute 19 disabled" '[ $? -eq 0 ]'
"$CTLBIN" --ctl "$CTL" plan whatif "$T/moved.plan" --capture "$C" --json >"$T/r.json"
check "against active: exit 0" '[ $? -eq 0 ]'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/moved.plan" "$C" "$T/r.json" "$T/holds.txt" 19) |
    sed "s/^\(not \)\{0,1\}ok - /&against active: /"
check "against active: the moved prefix leaves the disabled chute (CHUTE_UNAVAILABLE before, not after)" \
    'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"current\"][\"by_reason\"][\"CHUTE_UNAVAILABLE\"] > 0 and d[\"candidate\"][\"by_reason\"][\"CHUTE_UNAVAILABLE\"] == 0" "$T/r.json"'
"$CTLBIN" --ctl "$CTL" plan whatif "$T/chute.plan" --capture "$C" --json >"$T/r.json"
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/chute.plan" "$C" "$T/r.json" "$T/holds.txt" 19) |
    sed "s/^\(not \)\{0,1\}ok - /&against active, removed chute: /"
sed 's/^route 33 110 11,12$/route 33 110 19/' "$P" >"$T/to19.plan"
"$CTLBIN" --ctl "$CTL" plan whatif "$T/to19.plan" --capture "$C" --json >"$T/r.json"
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/to19.plan" "$C" "$T/r.json" "$T/holds.txt" 19) |
    sed "s/^\(not \)\{0,1\}ok - /&against active, onto the disabled chute: /"
check "against active, onto the disabled chute: records become CHUTE_UNAVAILABLE" \
    'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"become\"][\"CHUTE_UNAVAILABLE\"] > 0" "$T/r.json"'
# the daemon's manifest: the file's entries loaded, two more added; the
# what-if asks the daemon for the capture's barcode-only waybills only
# (9,000 or so: several requests of at most 4096)
barcode_only "$CU" "$T/barcode_only.txt"
ctl manifest load "$T/manifest.csv" >/dev/null
check "manifest loaded into the daemon" '[ $? -eq 0 ]'
cp "$T/manifest.csv" "$T/manifest_active.csv"
for wb in $(sed -n '3p;6p' "$T/barcode_only.txt"); do
    ctl manifest add "$wb" 440305000000 >/dev/null &&
        echo "$wb,440305000000" >>"$T/manifest_active.csv"
done
check "two entries added to the daemon's manifest" \
    '[ "$(wc -l <"$T/manifest_active.csv")" -eq $(($(wc -l <"$T/manifest.csv") + 2)) ]'
"$CTLBIN" --ctl "$CTL" plan whatif "$T/moved.plan" --capture "$CU" --json >"$T/r.json"
check "against active, the daemon's manifest: exit 0" '[ $? -eq 0 ]'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/moved.plan" "$CU" "$T/r.json" "$T/holds.txt" 19 "$T/manifest_active.csv") |
    sed "s/^\(not \)\{0,1\}ok - /&against active, the daemon's manifest: /"
# --manifest FILE with --against active: FILE instead of the daemon's
sed -n '1,200p' "$T/manifest.csv" >"$T/manifest_small.csv"
"$CTLBIN" --ctl "$CTL" plan whatif "$T/moved.plan" --capture "$CU" --manifest "$T/manifest_small.csv" --json >"$T/r.json"
check "against active with --manifest FILE: exit 0" '[ $? -eq 0 ]'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/moved.plan" "$CU" "$T/r.json" "$T/holds.txt" 19 "$T/manifest_small.csv") |
    sed "s/^\(not \)\{0,1\}ok - /&against active with --manifest FILE, the file's entries only: /"
# the daemon's own capture (capture start/stop) read back and replayed
ctl capture start "$T/live.pcap" >/dev/null
check "capture started" '[ $? -eq 0 ]'
in_ns "$BUILD/gen/parcelsort-gen" --send 198.18.0.2:7100 --datagrams 400 \
    --seed 21 --home 330782 --home-share 0.5 --rescan 0.2 --quiet >/dev/null 2>&1
ctl capture stop >/dev/null
check "capture stopped" '[ $? -eq 0 ] && [ -s "$T/live.pcap" ]'
whatif "$T/moved.plan" --capture "$T/live.pcap" --against "$P" --holds "$T/holds.txt" --json >"$T/r.json"
check "the daemon's capture: replayed, exit 0" '[ $? -eq 0 ]'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/moved.plan" "$T/live.pcap" "$T/r.json" "$T/holds.txt") |
    sed "s/^\(not \)\{0,1\}ok - /&the daemon's capture: /"

# fleet push --whatif: site a's agent beside the daemon; site b never
# reported
fleet() { "$CTLBIN" fleet "$@"; }
# the value of a field of a site's status record, or its pushed revision
field() {
    fleet --json status --site "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
s = d["status"] or {}
print(d["pushed_revision"] if sys.argv[1] == "pushed" else s.get(sys.argv[1], ""))' "$2"
}
nats_start
check "NATS cluster up" '[ $? -eq 0 ]'
fleet init --replicas 1 >/dev/null 2>&1
check "fleet init" '[ $? -eq 0 ]'
"$BUILD/fleet/parcelsort-agent" --site a --nats "$NATS_URLS" --ctl "$CTL" \
    --state "$T/agent-a" >"$T/agent-a.log" 2>&1 &
AGENT_PID=$!
fleet push "$P" --site a >/dev/null 2>&1
for _ in $(seq 1 100); do
    [ "$(field a outcome)" = active ] && [ "$(field a revision)" = "$(field a pushed)" ] && break
    sleep 0.2
done
rev=$(field a pushed)
check "site a's agent made the plan active (revision $rev)" '[ "$(field a outcome)" = active ]'
whatif "$T/moved.plan" --capture "$C" --against "$P" >"$T/offline.txt"
fleet push "$T/moved.plan" --sites a,b --whatif "$C" </dev/null >"$T/out" 2>"$T/err"
rc=$?
check "fleet push --whatif without a terminal nor --yes: refused, exit 1 ($rc)" \
    '[ $rc -eq 1 ] && grep -q "not pushed: after --whatif the push needs a y on a terminal, or --yes" "$T/err"'
check "fleet push --whatif: nothing pushed" '[ "$(field a pushed)" = "$rev" ]'
check "fleet push --whatif: site a's report is the offline one against its plan" \
    'grep -q "^== site a$" "$T/out" && [ "$(grep "^verdict:" "$T/out")" = "$(grep "^verdict:" "$T/offline.txt")" ] &&
     grep -q "^current: site a revision $rev$" "$T/out"'
check "fleet push --whatif: site b has no what-if, and says why" \
    'grep -q "^no what-if: the site never reported a status" "$T/out"'
fleet push "$T/moved.plan" --sites a,b --whatif "$C" --yes --json >"$T/push.json" 2>"$T/err"
rc=$?
check "fleet push --whatif --yes --json: pushed, exit 0 ($rc)" \
    '[ $rc -eq 0 ] && [ "$(field a pushed)" -gt "$rev" ]'
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
json.dump(d["whatif"][0]["report"], open(sys.argv[2], "w"))
assert d["whatif"][1]["report"] is None and d["whatif"][1]["why"]
assert [p["pushed"] for p in d["push"]] == [True, True]
' "$T/push.json" "$T/r.json"
check "fleet push --whatif --json: reports, then the pushes" '[ $? -eq 0 ]'
(cd "$HERE" && python3 whatif_ref.py "$P" "$T/moved.plan" "$C" "$T/r.json") |
    sed "s/^\(not \)\{0,1\}ok - /&fleet push --whatif: /"
# the plan file is read once: the check, the what-if and the push are
# about the same bytes
if command -v strace >/dev/null && strace -qq -e trace=none true 2>/dev/null; then
    # (LeakSanitizer cannot run under ptrace: off for this run of an ASan
    # build)
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
        strace -f -qq -e trace=open,openat -o "$T/strace.txt" \
        "$CTLBIN" fleet push "$T/moved.plan" --site a --whatif "$C" --yes >/dev/null 2>&1
    rc=$?
    opens=$(grep -c 'moved\.plan"' "$T/strace.txt")
    check "fleet push --whatif: pushed, the plan file opened once ($rc, $opens)" \
        '[ $rc -eq 0 ] && [ "$opens" -eq 1 ]'
fi
if command -v script >/dev/null; then
    for _ in $(seq 1 100); do
        [ "$(field a revision)" = "$(field a pushed)" ] && break
        sleep 0.2
    done
    rev=$(field a pushed)
    echo n | script -qec "$CTLBIN fleet push $T/chute.plan --site a --whatif $C" /dev/null >"$T/out" 2>&1
    check "on a terminal, answered n: not pushed" \
        'grep -q "push .*chute.plan to 1 site? \[y/N\]" "$T/out" && grep -q "not pushed" "$T/out" && [ "$(field a pushed)" = "$rev" ]'
    echo y | script -qec "$CTLBIN fleet push $T/chute.plan --site a --whatif $C" /dev/null >"$T/out" 2>&1
    check "on a terminal, answered y: pushed" '[ "$(field a pushed)" -gt "$rev" ]'
fi
kill "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=""
stop_daemon
"$CTLBIN" --ctl "$CTL" plan whatif "$T/moved.plan" --capture "$C" >/dev/null 2>&1
check "against active without a daemon: exit 3" '[ $? -eq 3 ]'
