#!/bin/sh
# service.sh: parcelsortd as systemd runs it, without systemd as PID 1:
# both units pass `systemd-analyze verify`; config/parcelsortd.conf is the
# key table's (every key); --check-config exit codes and every error; under
# a test NOTIFY_SOCKET and WATCHDOG_USEC the daemon says READY=1, answers a
# scan sent right after, feeds the watchdog at half the interval, keeps
# STATUS= and says STOPPING=1 on SIGTERM; "<N>" priorities on stderr under
# JOURNAL_STREAM (DPDK's lines too), none otherwise; SIGHUP applies a new
# allow-list live (a newly allowed sender is answered), names a key that
# needs a restart and reopens a rotated log file.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
D="$BUILD/parcelsortd"
PLAN="$ROOT/config/yiwu.plan"
LPID=""
# cleanup removes /var/run/dpdk/ps$ID; the three daemons below have their
# own prefixes
trap 'cleanup; [ -n "$LPID" ] && kill "$LPID" 2>/dev/null
      rm -rf "/var/run/dpdk/ps${ID}j" "/var/run/dpdk/ps${ID}g" "/var/run/dpdk/ps${ID}q"' EXIT INT TERM

# --- the units ---------------------------------------------------------
mkdir -p "$T/bin" "$T/units"
ln -s "$BUILD/parcelsortd" "$T/bin/parcelsortd"
ln -s "$BUILD/fleet/parcelsort-agent" "$T/bin/parcelsort-agent"
for u in parcelsortd parcelsort-agent; do
    sed "s#@bindir@#$T/bin#g; s#@sysconfdir@#/etc#g" "$ROOT/systemd/$u.service" >"$T/units/$u.service"
    systemd-analyze verify --man=no "$T/units/$u.service" >"$T/verify-$u" 2>&1
    check "systemd-analyze verify $u.service" '[ $? -eq 0 ] && [ ! -s "$T/verify-$u" ]'
done
check "parcelsortd.service: Type=notify, check-config first, reload by SIGHUP, watchdog" \
    'grep -qx "Type=notify" "$ROOT/systemd/parcelsortd.service" &&
     grep -q "^ExecStartPre=@bindir@/parcelsortd --check-config" "$ROOT/systemd/parcelsortd.service" &&
     grep -qx "ExecReload=/bin/kill -HUP \$MAINPID" "$ROOT/systemd/parcelsortd.service" &&
     grep -q "^WatchdogSec=" "$ROOT/systemd/parcelsortd.service"'

# --- the shipped configuration file -----------------------------------
"$D" --print-config >"$T/conf"
check "config/parcelsortd.conf is what the key table prints (parcelsortd --print-config)" \
    'diff -u "$ROOT/config/parcelsortd.conf" "$T/conf" >"$T/conf.diff"'
[ -s "$T/conf.diff" ] && head -20 "$T/conf.diff"
"$D" --keys | cut -f1 | sort >"$T/keys"
awk '/^\[/ { s = substr($0, 2, length($0) - 2); next }
     /^#?[a-z0-9_]+ =/ { k = $1; sub(/^#/, "", k); print s "." k }' \
    "$ROOT/config/parcelsortd.conf" | sort >"$T/conf-keys"
check "every key of the table is in config/parcelsortd.conf ($(wc -l <"$T/keys") keys)" \
    '[ -s "$T/keys" ] && comm -23 "$T/keys" "$T/conf-keys" | { ! grep .; }'
check "the shipped file alone is refused: no address (safe default)" \
    '! "$D" --check-config --config "$ROOT/config/parcelsortd.conf" 2>"$T/err" &&
     grep -q "dataplane.ip" "$T/err"'

# --- --check-config ----------------------------------------------------
cat >"$T/good.ini" <<INI
[dataplane]
ip = 198.18.0.2
allow = 198.18.0.0/24
[plan]
file = $PLAN
state_dir = $T/state-check
INI
"$D" --check-config -- --config "$T/good.ini" >"$T/out" 2>&1
check "--check-config: good configuration and plan exit 0" '[ $? -eq 0 ] && grep -q "is good" "$T/out"'
printf '[dataplane]\nip = 198.18.0.2\nport = seventy\ncolour = red\n[dedup]\nwindow = 0\n' >"$T/bad.ini"
"$D" --check-config --config "$T/bad.ini" --log-level loud >"$T/out" 2>&1
rc=$?
check "--check-config: broken configuration exits 2 (rc $rc)" '[ $rc -eq 2 ]'
check "--check-config: every error listed, not just the first" \
    'grep -q "port = .seventy." "$T/out" && grep -q "unknown key .dataplane.colour." "$T/out" &&
     grep -q "window = .0." "$T/out" && grep -q "log.level = .loud." "$T/out" &&
     grep -q "4 errors" "$T/out"'
printf 'plan bad\nsite 1 33\nreject 9\nroute 33 7 1\nroute 3 1 1\n' >"$T/bad.plan"
"$D" --check-config -- --ip 198.18.0.2 --plan "$T/bad.plan" --state-dir "$T/s" >"$T/out" 2>&1
rc=$?
check "--check-config: broken plan exits 2 with every FILE:LINE (rc $rc)" \
    '[ $rc -eq 2 ] && grep -q "bad.plan:4: route names hub 7" "$T/out" &&
     grep -q "bad.plan:5: bad route prefix" "$T/out"'
check "--check-config starts nothing (no EAL)" '! grep -q "EAL:" "$T/out"'
# an allow-list too long to read whole is refused, never cut short (a
# prefix cut after "/1" of "/16" would admit half the Internet)
long=$(python3 -c 'print(" " * 4084 + "128.0.0.0/16")')
"$D" --check-config -- --ip 198.18.0.2 --sorter-allow "$long" --state-dir "$T/s" >"$T/out" 2>&1
rc=$?
check "--check-config: an allow-list over 4095 characters exits 2, not cut (rc $rc)" \
    '[ $rc -eq 2 ] && grep -q "longer than 4095 characters" "$T/out"'
# the file form keeps 255 characters of a value (rte_cfgfile): a longer one
# is refused, not read cut ("128.0.0.0/16" cut to "128.0.0.0/1")
python3 -c '
v = ", ".join("198.51.100.%d/32" % i for i in range(1, 14))
v += " " * (244 - len(v)) + "128.0.0.0/16"
print("[dataplane]\nip = 198.18.0.2\nallow = " + v)' >"$T/long.ini"
"$D" --check-config -- --config "$T/long.ini" --state-dir "$T/s" >"$T/out" 2>&1
rc=$?
check "--check-config: a file value of 255 characters or more exits 2, not cut (rc $rc)" \
    '[ $rc -eq 2 ] && grep -q "dataplane.allow: 255 characters or more" "$T/out"'
"$D" --check-config -- --config "$T/good.ini" --log-file "$T/no/such/dir/parcelsortd.log" \
    --ctl "$T/no/such/ctl.sock" >"$T/out" 2>&1
rc=$?
check "--check-config: a log file and a control socket the daemon could not open (rc $rc)" \
    '[ $rc -eq 2 ] && grep -q "log.file = .*cannot be created" "$T/out" &&
     grep -q "control.socket.*cannot be created" "$T/out" && grep -q "2 errors" "$T/out"'

# --- journal priorities ------------------------------------------------
jrun() {   # out-file [env...]: a short run on net_null with DPDK's INFO lines
    out=$1; shift
    : >"$out"
    env "$@" "$D" -l 0-1 --no-huge -m 256 --no-pci --no-shconf \
        --file-prefix "ps${ID}j" --vdev net_null0 -- --ip 198.18.0.2 \
        --state-dir "$T/state-j" --ctl "$T/j.sock" --metrics off \
        --duration 1 --log-level debug >/dev/null 2>>"$out"
}
: >"$T/j.err"
jrun "$T/j.err" JOURNAL_STREAM="$(stat -c '%d:%i' "$T/j.err")"
check "under JOURNAL_STREAM: <6> on parcelsortd's own lines" 'grep -q "^<6>parcelsortd: ready" "$T/j.err"'
check "under JOURNAL_STREAM: DPDK's log routed with priorities" 'grep -Eq "^<[3-7]>parcelsortd: EAL: " "$T/j.err"'
check "under JOURNAL_STREAM: every line has a priority" '! grep -v "^<[0-7]>" "$T/j.err" | grep -q .'
jrun "$T/plain.err" JOURNAL_STREAM=1:1
check "another stream: plain stderr lines, no priority prefix" \
    'grep -q "^parcelsortd: ready" "$T/plain.err" && ! grep -q "^<" "$T/plain.err"'
# no log.level: the EAL's own --log-level decides DPDK's lines, debug too
"$D" -l 0-1 --no-huge -m 256 --no-pci --no-shconf --file-prefix "ps${ID}g" \
    --log-level=lib.eal:debug --vdev net_null0 -- --ip 198.18.0.2 \
    --state-dir "$T/state-g" --ctl "$T/g.sock" --metrics off --duration 1 \
    >/dev/null 2>"$T/g.err"
check "no log.level: the EAL's --log-level=lib.eal:debug lines come through" \
    'grep -q "^parcelsortd: EAL: Detected lcore 0 as core" "$T/g.err"'
check "log level err: no info lines" \
    '"$D" -l 0-1 --no-huge -m 256 --no-pci --no-shconf --file-prefix "ps${ID}q" \
        --vdev net_null0 -- --ip 198.18.0.2 --state-dir "$T/state-q" --ctl "$T/q.sock" \
        --metrics off --duration 1 --log-level err 2>"$T/q.err" >/dev/null &&
     ! grep -q "ready\|EAL: Detected" "$T/q.err"'

# --- sd_notify: READY, a scan, WATCHDOG, STATUS, STOPPING ---------------
setup_netns
python3 "$HERE/notify_listen.py" "$T/notify.sock" "$T/notify.out" 90 &
LPID=$!
for _ in $(seq 1 40); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000
start_daemon notify --plan "$PLAN"
check "daemon started under NOTIFY_SOCKET" '[ $? -eq 0 ]'
unset NOTIFY_SOCKET WATCHDOG_USEC
for _ in $(seq 1 100); do grep -q "READY=1" "$T/notify.out" && break; sleep 0.1; done
check "READY=1 sent" 'grep -q "	READY=1$" "$T/notify.out"'
got=$(in_ns python3 "$HERE/ask.py" SF0000000000801 330782100201)
check "a scan sent right after READY=1 is answered ($got)" '[ "$got" != "no reply" ] && [ -n "$got" ]'
sleep 3
check "STATUS= names the plan and the rate" 'grep -q "	STATUS=plan .* v[0-9]*, [0-9]* records/s" "$T/notify.out"'
awk -F'\t' '$2 == "READY=1" { r = $1 } $2 == "WATCHDOG=1" && r { n++; if (p) { g = $1 - p; if (g > m) m = g } p = $1 }
    END { printf "%d %.3f\n", n, m }' "$T/notify.out" >"$T/wd"
read -r wd_n wd_max <"$T/wd"
check "WATCHDOG=1 every half interval ($wd_n in 3 s, longest gap ${wd_max}s < 1 s)" \
    '[ "$wd_n" -ge 4 ] && awk "BEGIN { exit !($wd_max < 1.0) }"'
# another plan: STATUS= names it at once, not at the next 5 s turn (the
# load comes right after a periodic STATUS=, 5 s before the next one)
sed 's/^plan yiwu-county-day$/plan status-fresh/' "$PLAN" >"$T/fresh.plan"
n_status=$(grep -c "	STATUS=" "$T/notify.out")
for _ in $(seq 1 70); do
    [ "$(grep -c "	STATUS=" "$T/notify.out")" -gt "$n_status" ] && break; sleep 0.1
done
"$BUILD/control/parcelsortctl" --ctl "$CTL" plan load "$T/fresh.plan" >"$T/fresh.out" 2>&1
t_load=$(python3 -c 'import time; print("%.3f" % time.monotonic())')    # active now
for _ in $(seq 1 40); do grep -q "STATUS=plan status-fresh" "$T/notify.out" && break; sleep 0.1; done
awk -F'\t' -v t="$t_load" '$2 ~ /^STATUS=plan status-fresh/ { print $1 - t; exit }' "$T/notify.out" >"$T/fresh.lag"
check "a plan loaded: STATUS= names it by the time the load returns (+$(cat "$T/fresh.lag") s)" \
    '[ -s "$T/fresh.lag" ] && awk "BEGIN { exit !($(cat "$T/fresh.lag") < 1.0) }"'
kill -TERM "$PID"
for _ in $(seq 1 40); do kill -0 "$PID" 2>/dev/null || break; sleep 0.25; done
check "SIGTERM: exits 0" 'wait "$PID"'
PID=""
check "STOPPING=1 sent on SIGTERM" 'tail -1 "$T/notify.out" | grep -q "	STOPPING=1$"'
kill "$LPID" 2>/dev/null
LPID=""

# --- SIGHUP: live allow-list, a restart key named, log reopened --------
from_host() {   # SOURCE WAYBILL REGION: one scan from SOURCE, the reason or "no reply"
    in_ns python3 - "$HERE" "$@" <<'PY'
import socket, sys
sys.path.insert(0, sys.argv[1])
import reference as ref
from scanner import rec, request
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 0))
s.settimeout(2)
s.sendto(request([rec(wb=sys.argv[3].encode(), region=int(sys.argv[4]))], 1),
         ("198.18.0.2", 7100))
try:
    print(ref.REASONS[s.recv(4096)[16 + 31]])
except socket.timeout:
    print("no reply")
PY
}
hup_ini() {
    cat >"$T/hup.ini" <<INI
[dataplane]
ip = 198.18.0.2
allow = $1
[plan]
file = $PLAN
state_dir = $T/state-hup
[dedup]
capacity = $2
INI
}
hup_ini 198.18.0.0/24 65536
"$BUILD/parcelsortd" -l 0-1 --no-huge -m 512 --no-pci --no-shconf --log-level=3 \
    --file-prefix "ps$ID" --vdev "net_af_packet0,iface=$VA" -- \
    --config "$T/hup.ini" --ctl "$T/hup.sock" --metrics off --log-file "$T/hup.log" \
    >"$T/hup.out" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
    grep -q "^parcelsortd: UDP port" "$T/hup.log" 2>/dev/null && break; sleep 0.25
done
check "daemon started with --log-file (its lines in the file)" 'grep -q "^parcelsortd: UDP port" "$T/hup.log"'
check "198.18.0.1 (allowed) is answered" '[ "$(from_host 198.18.0.1 SF0000000000811 330782100201)" != "no reply" ]'
check "198.19.0.5 (not allowed) is not" '[ "$(from_host 198.19.0.5 SF0000000000812 330782100201)" = "no reply" ]'
hup_ini "198.18.0.0/24, 198.19.0.5/32" 131072
mv "$T/hup.log" "$T/hup.log.1"
kill -HUP "$PID"
for _ in $(seq 1 40); do grep -q "reloaded" "$T/hup.log" 2>/dev/null && break; sleep 0.25; done
check "SIGHUP reopened the rotated log file" 'grep -q "reloaded .*hup.ini: 2 keys changed" "$T/hup.log"'
check "and the old file got nothing more" '! grep -q "reloaded" "$T/hup.log.1"'
check "the reload names the key that needs a restart" \
    'grep -q "dedup.capacity changed: it needs a restart" "$T/hup.log"'
check "the live key is applied" 'grep -q "dataplane.allow = .* applied" "$T/hup.log"'
got=$(from_host 198.19.0.5 SF0000000000813 330782100201)
check "198.19.0.5, newly allowed, is answered ($got)" '[ -n "$got" ] && [ "$got" != "no reply" ]'
check "198.18.0.1 still is" '[ "$(from_host 198.18.0.1 SF0000000000814 330782100201)" != "no reply" ]'
# reloads back to back: each switch waits its grace periods, the last wins
hup_burst() {   # LIST...: one SIGHUP per list, 60 ms apart; waits for the last
    for list in "$@"; do
        hup_ini "$list" 131072
        kill -HUP "$PID"
        sleep 0.06
    done
    for _ in $(seq 1 40); do grep -q "allow = '$list' applied" "$T/hup.log" && break; sleep 0.25; done
}
hup_burst "198.18.0.0/24" "198.18.0.0/24, 198.19.0.5/32" "198.18.0.0/24" \
    "198.18.0.0/24, 198.18.0.1/32"
check "reloads back to back: the last list applies, 198.19.0.5 out of it is not answered" \
    'grep -q "allow = .198.18.0.0/24, 198.18.0.1/32. applied" "$T/hup.log" &&
     [ "$(from_host 198.19.0.5 SF0000000000816 330782100201)" = "no reply" ]'
hup_burst "198.18.0.0/24, 198.19.0.5/32" "198.18.0.0/24" "198.19.0.5/32, 198.18.0.0/24"
got=$(from_host 198.19.0.5 SF0000000000817 330782100201)
check "reloads back to back: 198.19.0.5, in the last list again, is answered ($got)" \
    '[ -n "$got" ] && [ "$got" != "no reply" ]'
printf '[dataplane]\nip = 198.18.0.2\nallow = 198.18.0.1/15\n' >"$T/hup.ini"
kill -HUP "$PID"
for _ in $(seq 1 40); do grep -q "reload refused" "$T/hup.log" && break; sleep 0.25; done
check "a broken file on SIGHUP is refused whole" 'grep -q "reload refused, nothing changed" "$T/hup.log"'
got=$(from_host 198.19.0.5 SF0000000000818 330782100201)
check "and the running allow-list stays ($got)" '[ -n "$got" ] && [ "$got" != "no reply" ]'
stop_daemon
check "the daemon exits 0 after the reloads" '[ "$RC" -eq 0 ]'
