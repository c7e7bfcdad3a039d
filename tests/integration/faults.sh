#!/bin/sh
# faults.sh: crashes and broken state. kill -9 while plans are being
# committed and persisted -> the restarted daemon has the last committed
# plan intact; a corrupted or missing state file -> a clear warning and a
# safe start (the --plan file, or NO_PLAN); a full disk while persisting ->
# the commit is refused and the old plan stays; the control socket refuses
# other users; /metrics listens on loopback only.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d /tmp/ps-faults.XXXXXX)
chmod 755 "$T"
PID=""
MNT=""
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    rm -rf "$T" "/var/run/dpdk/ps$$"
}
trap cleanup EXIT INT TERM
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
CTL="$T/ctl.sock"
ctl() { "$BUILD/control/parcelsortctl" --ctl "$CTL" "$@"; }

start() {   # STATE_DIR [options...]
    st=$1
    shift
    # the log of the daemon before must not be read as this one's start
    rm -f "$T/log"
    "$BUILD/parcelsortd" -l 0-1 --no-huge -m 256 --no-pci --no-shconf \
        --log-level=3 --file-prefix "ps$$" --vdev net_null0 -- \
        --ip 198.18.0.2 --state-dir "$st" --ctl "$CTL" --metrics off "$@" \
        >"$T/log" 2>&1 &
    PID=$!
    for _ in $(seq 1 120); do   # 30 s: a sanitized build on a busy machine
        grep -q "^parcelsortd: UDP port" "$T/log" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.25
    done
    return 1
}
stop() { kill -INT "$PID" 2>/dev/null || { echo "# the daemon had died:"; tail -5 "$T/log"; }; wait "$PID"; PID=""; }
crash() { kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""; }
plan_k() {  # a plan whose chute for region 33... is k
    printf 'plan k%s\nsite 1 33\nreject 999\nhub 1 trunk T\nroute 33 1 %s\n' "$1" "$1" \
        >"$T/k$1.plan"
}
chute_now() {
    ctl --json route get 330100000000 | python3 -c "import json,sys; print(json.load(sys.stdin)['decision']['chute'])"
}
version_now() {
    ctl --json status | python3 -c "import json,sys; p=json.load(sys.stdin)['plan']; print(p['version'] if p else 0)"
}

# kill -9 while a pusher commits plan after plan
plan_k 1
start "$T/st" --plan "$T/k1.plan"
for round in 1 2 3; do
    (k=$(($(version_now) + 1)); while :; do plan_k $k; ctl plan load "$T/k$k.plan" >/dev/null 2>&1 || break; k=$((k + 1)); done) &
    PUSHER=$!
    # a commit of this round's pusher first (a loaded machine made none
    # in 0.5 s once), then the kill somewhere in the next ones
    v0=$(version_now)
    for _ in $(seq 1 150); do
        [ "$(version_now)" -gt "$v0" ] 2>/dev/null && break
        sleep 0.2
    done
    sleep "0.$((1 + round * 2))"
    crash
    wait $PUSHER 2>/dev/null
    start "$T/st"
    v=$(version_now)
    c=$(chute_now)
    name=$(ctl plan show | sed -n 's/^plan k//p')
    check "round $round: after kill -9 the plan in force is whole (v$v is plan k$name, decides chute $c)" \
        '[ "$v" -ge 1 ] && [ "$name" = "$c" ]'
    check "round $round: no interrupted commit is offered as history" \
        '[ "$(ctl --json plan history | python3 -c "import json,sys; print(max(h[\"version\"] for h in json.load(sys.stdin)))")" = "$v" ]'
done
check "history survived the crashes" '[ "$(ctl plan history | grep -c "load ")" -ge 2 ]'
stop

# a corrupted committed plan: a warning, then the --plan file or NO_PLAN
f=$(ls "$T"/st/plan-*.plan | tail -1)
printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
plan_k 77
start "$T/st" --plan "$T/k77.plan"
check "corrupt state: the daemon says so" 'grep -q "warning: .*corrupt.*starting from the --plan file" "$T/log"'
check "corrupt state: the --plan file decides" '[ "$(chute_now)" = 77 ]'
stop
printf 'garbage' >"$T/st/active"
start "$T/st"
check "damaged active pointer without --plan: NO_PLAN, says so" \
    'grep -q "warning: .*damaged.*NO_PLAN" "$T/log" && [ "$(version_now)" = 0 ]'
stop
rm -f "$T/st/active"
start "$T/st" --plan "$T/k1.plan"
check "missing state file: starts from the --plan file" '[ "$(chute_now)" = 1 ]'
stop

# a full disk while persisting
MNT="$T/small"
mkdir -p "$MNT"
if mount -t tmpfs -o size=256k tmpfs "$MNT" 2>/dev/null; then
    plan_k 5
    start "$MNT" --plan "$T/k5.plan"
    dd if=/dev/zero of="$MNT/filler" bs=1k count=400 2>/dev/null
    v=$(version_now)
    ctl plan load "$ROOT/config/yiwu.plan" >"$T/out" 2>&1
    rc=$?
    check "disk full: the commit is refused with the reason ($rc)" \
        '[ $rc -eq 1 ] && grep -q "No space left" "$T/out"'
    check "disk full: the old plan stays" '[ "$(version_now)" = "$v" ] && [ "$(chute_now)" = 5 ]'
    rm -f "$MNT/filler"
    check "space again: the same commit goes through" 'ctl plan load "$ROOT/config/yiwu.plan" >/dev/null'
    stop
    crash 2>/dev/null
    start "$MNT"
    check "and it is what restarts" 'ctl status | grep -q "yiwu-county-day"'
    stop
    umount "$MNT" && MNT=""
else
    echo "not ok - could not mount a small tmpfs to fill"
fi

# other users and the network
plan_k 1
start "$T/st2" --plan "$T/k1.plan" --metrics 127.0.0.1:0
# The CLI runs as nobody from a copy in $T (mode 755, removed on exit): the
# build tree may sit under a directory nobody cannot enter (a clone in a
# 0700 mktemp -d), and then nobody could not even start it. What is checked
# is the socket's own refusal: connect() fails with EACCES, exit 3.
mkdir -m 755 "$T/cli"
install -m 755 "$BUILD/control/parcelsortctl" "$T/cli/parcelsortctl"
check "nobody can run the CLI copy (it prints its usage)" \
    'runuser -u nobody -- "$T/cli/parcelsortctl" --help >/dev/null 2>&1'
runuser -u nobody -- "$T/cli/parcelsortctl" --ctl "$CTL" status >"$T/nobody.out" 2>&1
rc=$?
check "another user cannot use the control socket (exit $rc: $(head -c 200 "$T/nobody.out"))" \
    '[ $rc -eq 3 ] && grep -q "cannot reach parcelsortd at .*: Permission denied" "$T/nobody.out"'
check "/metrics listens on loopback only" \
    'ss -ltnp | grep "pid=$PID," | grep -q "127.0.0.1:" && ! ss -ltnp | grep "pid=$PID," | grep -qv "127.0.0.1:"'
stop
