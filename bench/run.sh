#!/bin/sh
# run.sh: build and run parcelsort's benchmarks side by side; results go to
# results/<time>/ (bench.md, bench.json, plan_bench.md/json, fresh_bench.md/json,
# latency.md/json, one_record.md/json, dedup_bench.md, dedup_bench_ring.md,
# loop_bench.md/json, whatif.md, fleet.md, PNG charts).
#   bench/run.sh            everything, 5 runs per configuration
#   bench/run.sh --quick    without the national plan, fewer runs
set -eu
cd "$(dirname "$0")/.."
BUILD=${PARCELSORT_BUILD:-build}
./scripts/setup.sh
command -v gnuplot >/dev/null ||
    { apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null 2>&1 ||
      echo "bench: gnuplot not installed, no charts" >&2; }
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null
OUT=$(pwd)/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
EAL="-l 0 --no-huge -m 2048 --no-pci --no-shconf --log-level=1 --file-prefix psplan$$"
PLAN_ARGS=""
if [ "${1:-}" = "--quick" ]; then
    PLAN_ARGS="--quick --runs 3"
    export BENCH_QUICK=1 BENCH_RUNS=${BENCH_RUNS:-3}
fi
echo "== sort plan micro-benchmarks"
# shellcheck disable=SC2086
"$BUILD/bench/plan_bench" $EAL -- $PLAN_ARGS --json "$OUT/plan_bench.json" |
    tee "$OUT/plan_bench.md"
rm -rf "/var/run/dpdk/psplan$$"
echo "== dataplane side by side"
PARCELSORT_BUILD=$(pwd)/$BUILD python3 bench/bench.py "$OUT"
echo "== fresh waybills in steady state against replayed duplicates"
PARCELSORT_BUILD=$(pwd)/$BUILD python3 bench/fresh_bench.py "$OUT" --kernel --latency
echo "== latency: the worker's pipeline fed through a ring, paced at 10/50/90% of its saturation (fresh capture)"
"$BUILD/bench/pipeline_bench" latency -l 0-1 --no-huge -m 256 --no-pci --no-shconf \
    --log-level=1 --file-prefix pslat$$ -- --pcap "$OUT/work/fresh170k.pcap" \
    --plan "$OUT/work/national.plan" --seconds 2 --json "$OUT/latency.json" |
    tee "$OUT/latency.md"
rm -rf "/var/run/dpdk/pslat$$"
echo "== one record per datagram against l3fwd, alternating run by run"
PARCELSORT_BUILD=$(pwd)/$BUILD python3 bench/one_record_bench.py "$OUT"
echo "== the duplicate window alone"
"$BUILD/bench/dedup_bench" | tee "$OUT/dedup_bench.md"
echo "== the same against a prototype layout (slots a ring written in order: docs/performance.md)"
"$BUILD/bench/dedup_bench_ring" 1048576 5 frx | tee "$OUT/dedup_bench_ring.md"
echo "== the sorter loop: sort results flowing back, 1,000,000 holds"
PARCELSORT_BUILD=$(pwd)/$BUILD python3 bench/loop_bench.py "$OUT"
rm -rf "$OUT/work"
echo "== what-if: a capture of 1,000,000+ records replayed through two plans"
"$BUILD/gen/parcelsort-gen" --pcap "$OUT/whatif.pcap" --quiet --datagrams 100000 \
    --seed 5 --home 330782 --home-share 0.5
sed 's/^rule 10 900 901,902 service=cold_chain$/&\nrule 5 902 905 carrier=SF/' \
    config/yiwu.plan >"$OUT/whatif-candidate.plan"
"$BUILD/bench/whatif_bench" config/yiwu.plan "$OUT/whatif-candidate.plan" \
    "$OUT/whatif.pcap" --runs "${BENCH_RUNS:-5}" | tee "$OUT/whatif.md"
rm -f "$OUT/whatif.pcap"
echo "== fleet: export through JetStream, push-to-active latency"
PARCELSORT_BUILD=$(pwd)/$BUILD ./bench/fleet_bench.sh "$OUT"
echo "results in $OUT"
