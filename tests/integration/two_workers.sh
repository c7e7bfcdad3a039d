#!/bin/sh
# two_workers.sh: two worker lcores, each with its own queue pair on one
# port (net_pcap with one capture per queue), sharing the plan and the
# duplicate window. Every waybill is scanned once on each queue: exactly one
# of the two scans is decided afresh and the other is a DUPLICATE repeating
# that decision, whichever core came first; each queue's replies leave by
# its own queue.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d /tmp/ps-2w.XXXXXX)
trap 'rm -rf "$T" "/var/run/dpdk/ps$$"' EXIT
"$BUILD/gen/parcelsort-gen" --pcap "$T/a.pcap" --datagrams 400 --records 1-6 \
    --rescan 0 --seed 31 --quiet --dst-mac 02:00:00:00:00:02
"$BUILD/parcelsortd" --lcores 0@0,1@1,2@0 --no-huge -m 512 --no-pci \
    --no-shconf --log-level=3 --file-prefix "ps$$" \
    --vdev "net_pcap0,rx_pcap=$T/a.pcap,rx_pcap=$T/a.pcap,tx_pcap=$T/o0.pcap,tx_pcap=$T/o1.pcap" -- \
    --ip 198.18.0.2 --mac 02:00:00:00:00:02 --plan "$ROOT/config/yiwu.plan" \
    --state-dir "$T/state" --ctl "$T/ctl.sock" --metrics off --duration 3 \
    >"$T/log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "2 workers, 1 port: net_pcap0 (02:00:00:00:00:02, 2 queues)" "$T/log"
then echo "ok - two workers, two queue pairs"
else echo "not ok - two workers, two queue pairs (exit $rc)"; cat "$T/log"; fi
cd "$HERE" && python3 - "$T" <<'PY'
import struct, sys
import reference as ref
T = sys.argv[1]
def decisions(path):
    out = {}
    for f in ref.read_pcap(path):
        p = ref.udp_payload(f)[4]
        for i in range((len(p) - 16) // 48):
            r = p[16 + 48 * i:64 + 48 * i]
            out[(r[:24], r[24:28])] = r
    return out, len(ref.read_pcap(path))
d0, n0 = decisions(T + "/o0.pcap")
d1, n1 = decisions(T + "/o1.pcap")
def t(c, name): print(("ok - " if c else "not ok - ") + name)
t(n0 == 400 and n1 == 400, "each queue answered its own 400 requests (%d, %d)" % (n0, n1))
fresh = {ref.R["ROUTED"], ref.R["OVERRIDE"], ref.R["DEFAULT"]}
pairs = bad = 0
for k, a in d0.items():
    b = d1.get(k)
    if b is None:
        bad += 1
        continue
    ra, rb = a[31], b[31]
    if ra in fresh or rb in fresh:
        pairs += 1
        first, second = (a, b) if ra in fresh else (b, a)
        if second[31] != ref.R["DUPLICATE"] or first[28:31] != second[28:31] \
                or first[32:] != second[32:]:
            bad += 1
t(pairs > 500, "%d waybills sorted on both queues" % pairs)
t(bad == 0, "one fresh decision and one DUPLICATE repeating it for each (%d wrong)" % bad)
PY
