#!/bin/sh
# daemon_cli.sh: parcelsortd as an operator starts it: --help, invalid
# configuration refused with the key and exit code 2 (nothing started), an
# INI --config file, an invalid plan refused with FILE:LINE, and the event
# export writing one JSON line per record.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
D="$BUILD/parcelsortd"
T=$(mktemp -d /tmp/ps-daemon-cli.XXXXXX)
trap 'rm -rf "$T" /var/run/dpdk/ps$$' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
EAL="-l 0-1 --no-huge -m 256 --no-pci --no-shconf --log-level=3 --file-prefix ps$$"

"$D" --help >"$T/help" 2>&1
check "--help exits 0" '[ $? -eq 0 ]'
check "--help documents every option" \
    'for o in --config --ip --ip6 --port --allow --plan --state-dir --ctl \
              --dedup-window --dedup-capacity --export; do
         grep -q -- "$o" "$T/help" || exit 1; done'
check "--version prints meson's project version" \
    '"$D" --version | grep -Eqx "parcelsortd [0-9]+\.[0-9]+\.[0-9]+.*"'

refused() {     # name, expected text, app args...
    name=$1 want=$2
    shift 2
    # shellcheck disable=SC2086
    "$D" $EAL -- "$@" >"$T/out" 2>&1
    rc=$?
    check "$name: refused with exit 2 naming '$want' (rc $rc)" \
        '[ $rc -eq 2 ] && grep -q -- "$want" "$T/out"'
    check "$name: nothing started" '! grep -q "parcelsortd: UDP port" "$T/out"'
}
refused "bad --ip" "ip = '198.18.0.300'" --ip 198.18.0.300
refused "no address" "dataplane.ip" --state-dir "$T/s"
refused "bad --port" "port = '70000'" --ip 198.18.0.2 --port 70000
refused "bad --allow" "'198.18.0.1/15'" --ip 198.18.0.2 --allow 198.18.0.1/15
refused "bad --dedup-window" "window = '0'" --ip 198.18.0.2 --dedup-window 0
refused "bad --dedup-capacity" "capacity = 'lots'" --ip 198.18.0.2 --dedup-capacity lots
refused "missing plan file" "plan.file = '/nonexistent.plan'" --ip 198.18.0.2 --plan /nonexistent.plan
refused "unknown option" "unknown option '--colour'" --ip 198.18.0.2 --colour red

cat >"$T/bad.ini" <<'INI'
[dataplane]
ip = 198.18.0.2
port = seventy
INI
refused "bad value in --config" "\[dataplane\] dataplane.port = 'seventy'" --config "$T/bad.ini"
printf '[dataplane]\nip = 198.18.0.2\ncolour = red\n' >"$T/bad2.ini"
refused "unknown key in --config" "unknown key 'dataplane.colour'" --config "$T/bad2.ini"
refused "missing --config file" "cannot read it" --config "$T/none.ini"

printf 'plan bad\nsite 1 33\nreject 9\nroute 33 7 1\nroute 3 1 1\n' >"$T/bad.plan"
"$D" $EAL --vdev net_null0 -- --ip 198.18.0.2 --plan "$T/bad.plan" \
    --state-dir "$T/s1" --ctl "$T/ctl.sock" --metrics off >"$T/out" 2>&1
rc=$?
check "invalid plan refused at start with exit 2 (rc $rc)" '[ $rc -eq 2 ]'
check "every plan error as FILE:LINE" \
    'grep -q "bad.plan:4: route names hub 7" "$T/out" &&
     grep -q "bad.plan:5: bad route prefix" "$T/out"'

# a valid INI file, flags overriding it, and the event export
"$BUILD/gen/parcelsort-gen" --pcap "$T/in.pcap" --datagrams 500 --seed 3 \
    --quiet --dst-mac 02:00:00:00:00:02
cat >"$T/site.ini" <<INI
# Yiwu county sorting centre
[dataplane]
ip = 198.18.0.99
mac = 02:00:00:00:00:02
allow = 198.18.0.0/15, 2001:db8::/32
[plan]
file = $ROOT/config/yiwu.plan
state_dir = $T/s2
[dedup]
window = 300
capacity = 65536
[export]
file = $T/events.jsonl
INI
"$D" $EAL --vdev "net_pcap0,rx_pcap=$T/in.pcap,tx_pcap=$T/out.pcap" -- \
    --config "$T/site.ini" --ip 198.18.0.2 --duration 2 --ctl "$T/ctl.sock" \
    --metrics off >"$T/run" 2>&1
rc=$?
check "starts from a --config file with flags overriding (rc $rc)" '[ $rc -eq 0 ]'
recs=$(python3 -c "
import sys; sys.path.insert(0, '$HERE'); import reference as r, struct
n = 0
for f in r.read_pcap('$T/in.pcap'):
    p = r.udp_payload(f)[4]; n += struct.unpack('>H', p[4:6])[0]
print(n)")
lines=$(wc -l <"$T/events.jsonl")
check "export: one JSON line per record ($lines of $recs)" '[ "$lines" -eq "$recs" ]'
check "export lines are JSON with waybill, reason, chute, plan_version" \
    'python3 -c "
import json, sys
for l in open(\"$T/events.jsonl\"):
    e = json.loads(l)
    assert {\"waybill\", \"reason\", \"chute\", \"plan_version\", \"hub\"} <= set(e)
"'
check "replies went out ($(tcpdump -nr "$T/out.pcap" 2>/dev/null | wc -l))" \
    '[ "$(tcpdump -nr "$T/out.pcap" 2>/dev/null | wc -l)" -eq 500 ]'

# an export ring too small for the rate: events dropped and counted, the
# dataplane keeps answering at full speed
"$D" $EAL --vdev "net_pcap0,rx_pcap=$T/in.pcap,infinite_rx=1" -- \
    --ip 198.18.0.2 --mac 02:00:00:00:00:02 --plan "$ROOT/config/yiwu.plan" \
    --state-dir "$T/s3" --ctl "$T/ctl.sock" --metrics off --mbufs 20000 \
    --export "$T/ev2.jsonl" --export-ring 64 --duration 2 >"$T/run2" 2>&1
check "a full export ring drops events and counts them" \
    'grep -Eq "exported: [0-9]+ events, [1-9][0-9]* dropped" "$T/run2"'
check "and the dataplane still answered everything it received" \
    'grep -q "answered + dropped = rx: yes" "$T/run2" && grep -q "dropped 0 " "$T/run2"'
