#!/bin/sh
# board_browser.sh: the sorter board in Debian's chromium (headless),
# against a live daemon fed by parcelsort-gen's sorter controller
# (board_browser.js does the browsing): numbers as `stats` has them, a chute
# disabled with parcelsortctl shown within two seconds, no request outside
# the listener, a phone-sized screen. SCREENSHOTS=DIR keeps the
# screenshots there (docs/board.png is one).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
plain_build_only "the board in a browser"
GEN=""
SORTER=""
trap 'kill $GEN $SORTER 2>/dev/null; cleanup' EXIT INT TERM
if ! command -v chromium >/dev/null || ! command -v node >/dev/null; then
    echo "not ok - chromium and node are needed (scripts/setup.sh)"; exit 1
fi
setup_netns
# the plan from a path longer than a phone is wide, with nowhere to break
# a line (CI once ran from such a clone): the board shows where
# the plan came from, and a long name must wrap, not widen the page
LONG="$T/plansoftheyiwusortingcentrekeptinadirectorywithalongname"
mkdir -p "$LONG"
cp "$ROOT/config/example.plan" "$LONG/example.plan"
start_daemon board --plan "$LONG/example.plan" --metrics 127.0.0.1:0 \
    --sorter-allow 198.18.0.1/32
check "daemon up" '[ $? -eq 0 ]'
ADDR=$(ss -ltnp 2>/dev/null | grep "pid=$PID," | grep -o "127.0.0.1:[0-9]*" | head -1)

# traffic until the browser says stop (it then compares figures at rest)
# scanners (some missing reads) and a sorter controller reporting chutes
ip netns exec "$NS" "$BUILD/gen/parcelsort-gen" --send 198.18.0.2:7100 \
    --duration 60 --rate 150 --records 1-6 --devices 12 --noread 0.02 \
    --quiet >/dev/null 2>&1 &
GEN=$!
ip netns exec "$NS" "$BUILD/gen/parcelsort-gen" --send 198.18.0.2:7100 --sorter \
    --duration 60 --rate 100 --devices 12 --noread 0 --full 0.05 --hold 30 \
    --seed 7 --quiet >/dev/null 2>&1 &
SORTER=$!
( while [ ! -f "$T/stop-traffic" ]; do sleep 0.2; done
  kill "$GEN" "$SORTER" 2>/dev/null; sleep 1.5; touch "$T/traffic-stopped" ) &
WATCH=$!
sleep 3
timeout 120 node "$HERE/board_browser.js" "http://$ADDR/" \
    "$BUILD/control/parcelsortctl" "$CTL" "$T"
kill "$WATCH" 2>/dev/null
wait "$GEN" "$SORTER" 2>/dev/null
GEN=""
SORTER=""
check "screenshots taken" \
    'python3 -c "import sys; [open(f,\"rb\").read(8) == b\"\\x89PNG\\r\\n\\x1a\\n\" or sys.exit(1) for f in sys.argv[1:]]" "$T/board.png" "$T/board-phone.png"'
[ -n "${SCREENSHOTS:-}" ] && cp "$T/board.png" "$T/board-phone.png" "$SCREENSHOTS/"
stop_daemon
check "SIGINT stops the daemon with exit 0" '[ "$RC" -eq 0 ]'
exit 0
