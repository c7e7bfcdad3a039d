#!/bin/sh
# run.sh: build and run parcelsort's benchmarks side by side; results go to
# results/<date>/ as markdown and JSON. Usage: bench/run.sh [--quick]
set -eu
cd "$(dirname "$0")/.."
BUILD=${PARCELSORT_BUILD:-build}
./scripts/setup.sh
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null
OUT=results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
EAL="-l 0 --no-huge -m 2048 --no-pci --no-shconf --log-level=1"
QUICK=""
[ "${1:-}" = "--quick" ] && QUICK="--quick --runs 3"
# shellcheck disable=SC2086
"$BUILD/bench/plan_bench" $EAL -- $QUICK --json "$OUT/plan_bench.json" |
    tee "$OUT/plan_bench.md"
echo "results in $OUT"
