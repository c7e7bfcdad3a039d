#!/bin/sh
# fuzz.sh: build the libFuzzer harnesses (clang, ASan + UBSan) and run each
# for a bounded time from the committed seed corpora.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     default 60 s each, all three
#   scripts/fuzz.sh 14400 fuzz_frame           four hours on one harness
# Prints "ok - ..." / "not ok - ..." per harness; a crash, hang or leak
# leaves its input in fuzz/crashes/ and fails.
set -u
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
HARNESSES=${*:-fuzz_frame fuzz_plan fuzz_ctl}
B=${PARCELSORT_FUZZ_BUILD:-build-fuzz}
if [ ! -f "$B/build.ninja" ]; then
    CC=clang meson setup "$B" -Dfuzz=true -Dbuildtype=debugoptimized \
        -Db_lundef=false >"$B.setup.log" 2>&1 ||
        { cat "$B.setup.log"; echo "not ok - fuzz build configured"; exit 1; }
    rm -f "$B.setup.log"
fi
ninja -C "$B" >"$B.log" 2>&1 || { cat "$B.log"; echo "not ok - fuzz build"; exit 1; }
rm -f "$B.log"
W=$(mktemp -d /tmp/ps-fuzz.XXXXXX)
trap 'rm -rf "$W"' EXIT
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
for h in $HARNESSES; do
    seeds=fuzz/corpus/${h#fuzz_}
    mkdir -p "$W/$h" "$W/$h.art"
    "$B/fuzz/$h" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$W/$h.art/" -print_final_stats=1 \
        "$W/$h" "$seeds" >"$W/$h.log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$W/$h.log" | grep -o '[0-9]*$')
    if [ "$rc" -eq 0 ] && [ -z "$(ls "$W/$h.art")" ]; then
        echo "ok - $h: ${runs:-?} inputs in $SECONDS_EACH s, no crash, hang or leak"
    else
        mkdir -p fuzz/crashes
        cp "$W/$h.art/"* fuzz/crashes/ 2>/dev/null
        grep -E "ERROR|SUMMARY|runtime error" "$W/$h.log" | head -5
        echo "not ok - $h: failed (inputs kept in fuzz/crashes/)"
    fi
done
