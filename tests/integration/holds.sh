#!/bin/sh
# holds.sh: the intercept list against the real parcelsortd: a held
# waybill's scans are INTERCEPTED (route get says so too), a released one
# is decided as before (a duplicate of its first decision); hold load
# replaces the list in parts and at once, a file with bad lines is refused
# whole with FILE:LINE; the list survives a restart, and a kill -9 during
# a load leaves the old list or the new one, never a mix.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns
ctl() { "$BUILD/control/parcelsortctl" --ctl "$CTL" "$@"; }
ask() { in_ns python3 "$HERE/ask.py" "$@"; }
count() { ctl --json hold list --limit 0 | python3 -c "import json,sys; print(json.load(sys.stdin)['count'])"; }
rev() { ctl --json hold list --limit 0 | python3 -c "import json,sys; print(json.load(sys.stdin)['revision'])"; }
PLAN="$ROOT/config/example.plan"
R=330782100201
W=SF0000000000501

start_daemon holds --plan "$PLAN"
check "daemon up" '[ $? -eq 0 ]'
first=$(ask $W $R)
check "a waybill is decided ($first)" '[ "${first%% *}" = ROUTED ]'

ctl hold add $W SF0000000000502 --note "customs hold 42" >"$T/out"
check "hold add: exit 0, two held" '[ $? -eq 0 ] && grep -q "2 waybills on the list" "$T/out"'
check "the held waybill's next scan is INTERCEPTED at the reject chute" '[ "$(ask $W $R)" = "INTERCEPTED 999" ]'
check "and every scan after it" '[ "$(ask $W $R)" = "INTERCEPTED 999" ]'
check "route get --waybill says INTERCEPTED" \
    'ctl --json route get $R --waybill $W | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"held\"] and d[\"decision\"][\"reason\"] == \"INTERCEPTED\""'
check "hold list shows the note" 'ctl hold list | grep -q "^$W  *customs hold 42"'
ctl hold add NOT-A-WAYBILL! >"$T/out" 2>&1
check "hold add of a bad waybill: exit 2, nothing changed" '[ $? -eq 2 ] && [ "$(count)" = 2 ]'

ctl hold del $W >"$T/out"
check "hold del: released 1" '[ $? -eq 0 ] && grep -q "released 1" "$T/out"'
check "a released waybill is a duplicate of its first decision again" \
    '[ "$(ask $W $R)" = "DUPLICATE ${first#* }" ]'

# a file with bad lines is refused whole, with FILE:LINE
printf 'SF0000000000601,ok\n# a comment\n\nbad*waybill,x\nSF0000000000602,%0120d\nSF0000000000603\n' 0 >"$T/bad.holds"
ctl hold load "$T/bad.holds" >"$T/out" 2>&1
rc=$?
check "bad hold file refused, exit 1, every bad line as FILE:LINE ($rc)" \
    '[ $rc -eq 1 ] && grep -q "bad.holds:4: waybill character" "$T/out" && grep -q "bad.holds:5: note longer" "$T/out"'
check "and the old list stays in force" '[ "$(count)" = 1 ] && [ "$(ask SF0000000000502 $R)" = "INTERCEPTED 999" ]'

# a file larger than one part (16 MB): 200,000 holds with 100-char notes
python3 -c "
import sys
n = '%0100d' % 7
w = sys.stdout.write
w('# big list\n')
for i in range(200000):
    w('HL%012d,%s\n' % (i, n))
" >"$T/big.holds"
before=$(rev)
ctl hold load "$T/big.holds" >"$T/out" 2>&1
check "hold load of $(($(stat -c %s "$T/big.holds") / 1048576)) MB: 200000 held at once" \
    '[ $? -eq 0 ] && grep -q "200000 waybills held" "$T/out" && [ "$(count)" = 200000 ]'
check "the revision went up by one ($before -> $(rev))" '[ "$(rev)" = $((before + 1)) ]'
check "a loaded waybill is INTERCEPTED" '[ "$(ask HL000000199999 $R)" = "INTERCEPTED 999" ]'
check "the list replaced the old one (502 released)" '[ "$(ask SF0000000000502 $R | cut -d" " -f1)" = ROUTED ]'
check "hold list pages: 1000 by default and a cursor" \
    'ctl hold list | grep -q "the next page: hold list --after HL000000000999"'

# a note is kept as a restart gives it back: without blanks at its ends
note() { ctl --json hold list --after SF0000000000700 --limit 1 | python3 -c "import json,sys; print(repr(json.load(sys.stdin)['holds'][0]['note']))"; }
ctl hold add SF0000000000701 --note "  two blanks each side  " >/dev/null
check "hold add --note: the blanks at its ends dropped ($(note))" '[ "$(note)" = "'"'two blanks each side'"'" ]'

# a restart keeps the list and its revision
r=$(rev)
stop_daemon
start_daemon holds --plan "$PLAN"
check "restart keeps the holds ($(count)) and the revision" '[ "$(count)" = 200001 ] && [ "$(rev)" = "$r" ]'
check "and the note as it was ($(note))" '[ "$(note)" = "'"'two blanks each side'"'" ]'
check "and they intercept" '[ "$(ask HL000000000007 $R)" = "INTERCEPTED 999" ]'

# kill -9 during a load of 1,000,000 holds with 100-character notes
# (126 MB, more than one request: sent in parts): the old list or the new
python3 -c "
import sys
n = '%0100d' % 9
w = sys.stdout.write
for i in range(1000000):
    w('KL%012d,%s\n' % (i, n))
" >"$T/million.holds"
ctl hold load "$T/million.holds" >/dev/null 2>&1 &
LP=$!
# kill it once the load is under way (parts arriving, or the swap)
for _ in $(seq 1 100); do
    ctl --json hold list --limit 0 2>/dev/null | grep -q '"loading":true' && break
    sleep 0.05
done
sleep 0.3
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=""
wait $LP 2>/dev/null
start_daemon holds --plan "$PLAN"
c=$(count)
check "kill -9 during hold load: the old list or the new, never a mix ($c)" \
    '[ "$c" = 200001 ] || [ "$c" = 1000000 ]'
ctl hold load "$T/million.holds" >"$T/out" 2>&1
check "1,000,000 holds with notes load ($(($(stat -c %s "$T/million.holds") / 1048576)) MB)" \
    '[ $? -eq 0 ] && [ "$(count)" = 1000000 ]'
check "a held waybill of the million is INTERCEPTED" '[ "$(ask KL000000654321 $R)" = "INTERCEPTED 999" ]'
ctl hold clear >"$T/out"
check "hold clear: none held, the parcel is decided again" \
    '[ "$(count)" = 0 ] && [ "$(ask KL000000654321 $R | cut -d" " -f1)" = ROUTED ]'
ctl hold add SF0000000000801 SF0000000000802 >/dev/null
ctl hold list --limit 2 >"$T/out"
check "a page that ends the list offers no next page" \
    'grep -q SF0000000000802 "$T/out" && ! grep -q "next page" "$T/out"'
ctl hold list --limit 1 >"$T/out"
check "one that does not, does" 'grep -q "the next page: hold list --after SF0000000000801" "$T/out"'
stop_daemon
check "daemon stopped cleanly (exit $RC)" '[ "$RC" -eq 0 ]'
