#!/bin/sh
# bench_window.sh: the duplicate window's benchmark (bench/dedup_bench) and
# the same against the prototype layout (dedup_bench_ring) still measure
# what they say they measure, on a small window: fresh traffic misses
# every time and inserts every record, replayed waybills and sort results
# all hit (in insert order and shuffled), a replay at 80% of the capacity
# keeps nearly all after one pass, and each links the window it names. No
# timing is checked (docs/performance.md has those).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/check.sh"
T=$(mktemp -d /tmp/ps-benchwin.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

# col FILE ROW N: column N (1 = the traffic's name) of the row named ROW
col() {
    awk -F'|' -v row="$2" -v n="$3" '
        { name = $2; sub(/^ +/, "", name); sub(/ +$/, "", name) }
        name == row { v = $(n + 1); gsub(/ /, "", v); print v; exit }' "$1"
}

for b in dedup_bench dedup_bench_ring; do
    "$BUILD/bench/$b" 8192 1 frs8x >"$T/$b" 2>&1
    rc=$?
    check "$b runs (exit 0)" '[ "$rc" -eq 0 ]'
    f="$T/$b"
    check "$b: fresh traffic never hits and inserts every record" \
        '[ "$(col "$f" "fresh (3.5 x capacity)" 8)" = 0.000 ] &&
         [ "$(col "$f" "fresh (3.5 x capacity)" 9)" = 1.00 ]'
    check "$b: every replayed waybill hits, in insert order" \
        '[ "$(col "$f" "replayed (0.4 x capacity)" 8)" = 1.000 ]'
    check "$b: and shuffled" \
        '[ "$(col "$f" "replayed (0.4 x capacity) out of order" 8)" = 1.000 ]'
    check "$b: every sort result finds its waybill" \
        '[ "$(col "$f" "sort results, batches of 29" 8)" = 1.000 ]'
    check "$b: a replay at 80% of the capacity keeps at least 95%" \
        'h=$(col "$f" "replayed (0.8 x capacity)" 8);
         [ -n "$h" ] && awk -v h="$h" "BEGIN { exit !(h >= 0.95) }"'
done
check "dedup_bench measures the dataplane's window (72 bytes a waybill)" \
    'grep -q "^window: 8192 slots, .* (589824 bytes, 72.0 a slot)" "$T/dedup_bench"'
check "dedup_bench_ring measures the prototype's (80 bytes a waybill)" \
    'grep -q "^window: 8192 slots, .* (655360 bytes, 80.0 a slot)" "$T/dedup_bench_ring"'
