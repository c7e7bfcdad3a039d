#!/bin/sh
# netns_scanner.sh: parcelsortd on net_af_packet over a veth pair whose other
# end sits in a network namespace made for the test, where ordinary kernel
# clients play the scanners: ARP and neighbour discovery resolve the
# dataplane (no static entries), ping and ping6 work, every reason code is
# produced and checked against the reference model, duplicates are seen
# across sockets and address families, broken datagrams and senders outside
# the allow-list get nothing. Addresses: 198.18.0.0/15, 2001:db8::/32.
# Removes its namespace, links and daemon even when it fails.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns

scanner() {
    PS_SEEN="$T/seen" ip netns exec "$NS" python3 "$HERE/scanner.py" "$@"
}

# phase 1: no plan yet
start_daemon noplan
check "daemon starts without a plan" '[ $? -eq 0 ]'
check "ping resolves the dataplane by ARP" \
    'ip netns exec "$NS" ping -c 2 -W 2 -i 0.2 198.18.0.2 >/dev/null'
check "ping6 resolves it by neighbour discovery" \
    'ip netns exec "$NS" ping -6 -c 2 -W 2 -i 0.2 2001:db8::2 >/dev/null'
check "the neighbour entries were learned, not static" \
    'ip netns exec "$NS" ip neigh show 198.18.0.2 | grep -qv PERMANENT &&
     ip netns exec "$NS" ip -6 neigh show 2001:db8::2 | grep -qv PERMANENT'
scanner noplan --plan none
stop_daemon
check "SIGINT stops it with exit 0" '[ "$RC" -eq 0 ]'
check "it printed its final counters" 'grep -q "parcelsortd summary" "$T/noplan.log"'

# phase 2: the spec's example plan, chute 31 closed before the start
mkdir -p "$T/state-main"
printf '# disabled chutes\n31\n' >"$T/state-main/chutes"
start_daemon main --plan "$ROOT/config/example.plan"
check "daemon starts with the example plan" '[ $? -eq 0 ]'
scanner main --plan "$ROOT/config/example.plan" --disabled 31
stop_daemon
check "dropped frames are counted: not_allowed, port, header causes" \
    'grep -q "not_allowed 1" "$T/main.log" && grep -q "port 1" "$T/main.log" &&
     grep -q "hdr_magic 1" "$T/main.log" && grep -q "hdr_length" "$T/main.log"'
check "answered + dropped = received" \
    'grep -q "answered + dropped = rx: yes" "$T/main.log"'

# phase 3: a plan without a default
grep -v '^default' "$ROOT/config/example.plan" >"$T/nodefault.plan"
start_daemon noroute --plan "$T/nodefault.plan"
scanner noroute --plan "$T/nodefault.plan"
stop_daemon

for r in ROUTED OVERRIDE DEFAULT DUPLICATE TRACK_ONLY NO_ROUTE NOREAD \
         BAD_BARCODE MALFORMED_RECORD CHUTE_UNAVAILABLE NO_PLAN; do
    check "reason $r exercised" 'grep -qx "$r" "$T/seen"'
done
