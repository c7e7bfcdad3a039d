#!/bin/sh
# monitoring.sh: the files in monitoring/: `promtool check rules` and
# `promtool test rules` (synthetic series); then Debian's prometheus on
# loopback scraping a live parcelsortd fed by parcelsort-gen's sorter
# controller, with the rules loaded: every query of the Grafana dashboard
# (monitoring/grafana/parcelsort.json) and the recording rules return data.
# prometheus and its data directory go when the suite ends.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
plain_build_only "Prometheus rules and dashboard queries"
MON="$ROOT/monitoring"
PROM=""
GEN=""
trap '[ -n "$GEN" ] && kill "$GEN" 2>/dev/null; [ -n "$PROM" ] && { kill "$PROM" 2>/dev/null; wait "$PROM" 2>/dev/null; }; cleanup' EXIT INT TERM

check "promtool check rules: monitoring/parcelsort.rules.yml" \
    'promtool check rules "$MON/parcelsort.rules.yml" >"$T/rules.out" 2>&1 || { cat "$T/rules.out"; false; }'
for f in "$MON"/tests/*.yml; do
    check "promtool test rules: $(basename "$f")" \
        'promtool test rules "$f" >"$T/test.out" 2>&1 || { cat "$T/test.out"; false; }'
done
check "the dashboard is JSON with panels" \
    'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"panels\"] and d[\"uid\"] == \"parcelsort\"" "$MON/grafana/parcelsort.json"'

setup_netns
start_daemon mon --plan "$ROOT/config/example.plan" --metrics 127.0.0.1:0 \
    --sorter-allow 198.18.0.1/32 --export-spool "$T/spool"
check "daemon up" '[ $? -eq 0 ]'
ADDR=$(ss -ltnp 2>/dev/null | grep "pid=$PID," | grep -o "127.0.0.1:[0-9]*" | head -1)
PPORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $MON/parcelsort.rules.yml
scrape_configs:
  - job_name: parcelsort
    static_configs:
      - targets: ['$ADDR']
YML
ip netns exec "$NS" "$BUILD/gen/parcelsort-gen" --send 198.18.0.2:7100 --sorter \
    --duration 60 --rate 800 --devices 4 --noread 0.03 --quiet >/dev/null 2>&1 &
GEN=$!
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
    --web.listen-address="127.0.0.1:$PPORT" >"$T/prometheus.log" 2>&1 &
PROM=$!
up=""
for _ in $(seq 1 60); do
    up=$(python3 -c "
import json, urllib.request
r = json.load(urllib.request.urlopen('http://127.0.0.1:$PPORT/api/v1/query?query=count_over_time(up%7Bjob%3D%22parcelsort%22%7D%5B1m%5D)', timeout=2))
print(int(r['data']['result'][0]['value'][1]))" 2>/dev/null)
    [ -n "$up" ] && [ "$up" -ge 20 ] && break
    sleep 1
done
check "prometheus scraped the daemon 20 times ($up)" '[ -n "$up" ] && [ "$up" -ge 20 ]'
# a refused plan load while prometheus watches: the alert must fire
printf 'plan broken\nsite 1 33\nreject 9\nroute 33 7 1\n' >"$T/bad.plan"
"$BUILD/control/parcelsortctl" --ctl "$CTL" plan load "$T/bad.plan" >/dev/null 2>&1
sleep 4
check "every dashboard query, and the recording rules, return data" \
    'python3 "$HERE/dashboard_queries.py" "$MON/grafana/parcelsort.json" "127.0.0.1:$PPORT" \
        "parcelsort:exception_ratio:rate5m" "parcelsort:device_noread_ratio:rate10m" \
        "ALERTS{alertname=\"ParcelsortPlanCommitRefused\"}" >"$T/q.out" 2>&1;
     rc=$?; tail -1 "$T/q.out"; grep "NO DATA" "$T/q.out"; [ $rc -eq 0 ]'
kill "$GEN" 2>/dev/null
wait "$GEN" 2>/dev/null
GEN=""
P=$PROM
kill "$PROM"
wait "$PROM" 2>/dev/null
PROM=""
rm -rf "$T/prom-data"
check "prometheus stopped, its data gone" '! kill -0 "$P" 2>/dev/null && [ ! -d "$T/prom-data" ]'
stop_daemon
check "SIGINT stops the daemon with exit 0" '[ "$RC" -eq 0 ]'
exit 0
