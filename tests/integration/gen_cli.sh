#!/bin/sh
# gen_cli.sh: parcelsort-gen as a user runs it: the pcap it writes is read by
# tcpdump, is the same for the same seed, and bad options are refused.
set -u
GEN="$BUILD/gen/parcelsort-gen"
T=$(mktemp -d /tmp/ps-gen-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

"$GEN" --pcap "$T/a.pcap" --datagrams 500 --seed 9 --ipv6 0.25 --quiet
"$GEN" --pcap "$T/b.pcap" --datagrams 500 --seed 9 --ipv6 0.25 --quiet
"$GEN" --pcap "$T/c.pcap" --datagrams 500 --seed 10 --ipv6 0.25 --quiet
check "same seed gives the same pcap" 'cmp -s "$T/a.pcap" "$T/b.pcap"'
check "another seed gives another pcap" '! cmp -s "$T/a.pcap" "$T/c.pcap"'
n4=$(tcpdump -nr "$T/a.pcap" 'udp dst port 7100 and ip' 2>/dev/null | wc -l)
n6=$(tcpdump -nr "$T/a.pcap" 'udp dst port 7100 and ip6' 2>/dev/null | wc -l)
check "tcpdump reads every frame (v4 $n4 + v6 $n6)" '[ $((n4 + n6)) -eq 500 ] && [ "$n6" -gt 50 ]'
check "generator verifies its own pcap" '"$GEN" --pcap "$T/d.pcap" --datagrams 300 --vlan 12 --verify --quiet'
nv=$(tcpdump -nr "$T/d.pcap" vlan 12 2>/dev/null | wc -l)
check "802.1Q tagged frames ($nv)" '[ "$nv" -eq 300 ]'
"$GEN" --pcap "$T/e.pcap" --datagrams 100 --records 22 --quiet
sz=$(tcpdump -nr "$T/e.pcap" 2>/dev/null | grep -c 'length 1424')
check "22 records make a 1424-byte payload" '[ "$sz" -eq 100 ]'
check "--records 23 refused with exit 2" '"$GEN" --pcap "$T/f.pcap" --records 23 2>/dev/null; [ $? -eq 2 ]'
check "--home with 5 digits refused" '"$GEN" --pcap "$T/f.pcap" --home 33078 2>/dev/null; [ $? -eq 2 ]'
check "no output given refused" '"$GEN" 2>/dev/null; [ $? -eq 2 ]'
check "missing region table refused" '"$GEN" --pcap "$T/f.pcap" --regions /nonexistent 2>/dev/null; [ $? -eq 2 ]'
