#!/bin/sh
# gen_sorter.sh: parcelsort-gen's sorter mode (--sorter) against the real
# daemon: parcelsortd on a veth with the bundled Yiwu plan (recirculate 3,
# intercept 998), the generator in the namespace as the scanner
# (198.18.0.1) and the sorter controller (198.18.0.3, --sorter-from), every
# 20th waybill held beforehand (--hold-out, parcelsortctl hold load), a high
# --full so that parcels go round until the plan's limit. Every parcel
# accounted for, every acknowledgement received, rounds and RECIRC_LIMIT
# seen, no missort, and the daemon's counters (parcelsortctl --json stats)
# agree with the generator's summary. Removes its namespace, links and
# daemon even when it fails.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
setup_netns
in_ns ip addr add 198.18.0.3/24 dev "$VB"
GEN="$BUILD/gen/parcelsort-gen"
CTLBIN="$BUILD/control/parcelsortctl"

start_daemon gen --plan "$ROOT/config/yiwu.plan" --sorter-allow 198.18.0.3/32
check "daemon starts with the Yiwu plan and a sorter allow-list" '[ $? -eq 0 ]'

# A FULL report holds 1 s; a lap takes 1.2 s: the re-scan finds its chute
# free again, is decided to it again and may find it full again, so
# parcels go round the plan's 3 times. 300 parcels in 3 s, spread evenly
# over Yiwu's ~540 village chutes (one each), so that another parcel's
# FULL report seldom closes a parcel's chute (that would reject it).
OPTS="--sorter --sorter-from 198.18.0.3 --parcels 300 --rate 100 --full 0.6
    --failed 0.1 --lost 0.01 --hold 1 --round-ms 1200 --wait 10
    --home 330782 --home-share 1 --zipf 0 --seed 77"
# shellcheck disable=SC2086
"$GEN" --send 198.18.0.2:7100 $OPTS --hold-out "$T/holds.txt" --hold-every 20 --quiet
check "--hold-out wrote 15 waybills" '[ "$(wc -l <"$T/holds.txt")" -eq 15 ]'
"$CTLBIN" --ctl "$CTL" hold load "$T/holds.txt" >"$T/hold.out" 2>&1
check "hold load takes them" '[ $? -eq 0 ]'
# shellcheck disable=SC2086
in_ns "$GEN" --send 198.18.0.2:7100 $OPTS --json >"$T/gen.json"
check "the sorter run exits 0" '[ $? -eq 0 ]'
"$CTLBIN" --ctl "$CTL" --json stats >"$T/stats.json"
check "parcelsortctl --json stats answers" '[ $? -eq 0 ]'

py() { python3 - "$T/gen.json" "$T/stats.json" <<PYEOF
import json, sys
g = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
sys.exit(0 if ($1) else 1)
PYEOF
}
check "every parcel accounted for: the fates add up to the 300 inducted, none unanswered" \
    'py "g[\"inducted\"] == 300 and sum(g[\"fates\"].values()) == 300 and g[\"fates\"][\"unanswered\"] == 0 and g[\"fates\"][\"gave_up\"] == 0"'
check "acks: one per kind 3/5 datagram, none short or missing, nothing unexpected" \
    'py "g[\"acks\"][\"received\"] == g[\"datagrams\"][\"results\"] + g[\"datagrams\"][\"reports\"] > 0 and g[\"acks\"][\"short\"] == g[\"acks\"][\"missing\"] == 0 and g[\"unexpected_replies\"] == g[\"bad_replies\"] == 0"'
check "parcels went round (one re-scan per round)" \
    'py "g[\"rounds\"] == g[\"rescans\"] > 0 and g[\"went_round\"] > 0"'
check "with --full 0.6 some reached the plan's recirculate 3 (RECIRC_LIMIT)" \
    'py "g[\"fates\"][\"recirc_limit\"] == g[\"by_reason\"][\"RECIRC_LIMIT\"] > 0"'
check "the 15 held waybills were intercepted (chute 998)" \
    'py "g[\"fates\"][\"intercepted\"] == g[\"by_reason\"][\"INTERCEPTED\"] == 15 and g[\"chutes\"].get(\"998\") == 15"'
check "missorts 0, on both sides" \
    'py "g[\"fates\"][\"missorted\"] == g[\"missorts_sent\"] == d[\"sort_missorts\"] == 0"'
check "the daemon decided every scan the generator sent" \
    'py "d[\"records\"] == g[\"scans\"] == g[\"decisions\"]"'
check "decisions by reason: the daemon's counts are the generator's" \
    'py "all(d[\"reasons\"].get(k, 0) == v for k, v in g[\"by_reason\"].items())"'
check "sort results by status: the daemon's counts are the generator's" \
    'py "all(d[\"sort_\" + k.lower()] == v for k, v in g[\"by_status\"].items())"'
check "rounds and FULL reports: the daemon's counts are the generator's" \
    'py "d[\"rounds\"] == g[\"rounds\"] and d[\"chute_states\"] == g[\"chute_reports\"] > 0"'
check "acknowledgements: the daemon's count is the generator's" \
    'py "d[\"answered\"][\"ack\"] == g[\"acks\"][\"received\"]"'
stop_daemon
check "SIGINT stops it with exit 0" '[ "$RC" -eq 0 ]'
