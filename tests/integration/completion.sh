#!/bin/sh
# completion.sh: parcelsortctl's bash completion (generated from the
# command table and the offline commands of --help) checked with compgen:
# every command's words complete, subcommands, options, files, and the
# chute numbers and hub ids of a running daemon. Also the man pages: each
# one clean under `groff -ww -z`, parcelsortctl(8) listing every command
# of the table and parcelsortd(8) every key.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d /tmp/ps-completion.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill -INT "$PID" 2>/dev/null && wait "$PID"; rm -rf "$T" /var/run/dpdk/ps$$c' EXIT INT TERM
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
COMP="$BUILD/completion/parcelsortctl"
TSV="$BUILD/man/ctl-commands.tsv"

# complete LINE: what the completion offers for the line's last word
# (a line ending in a space: a new word), one a line, sorted
complete_line() {
    PATH="$BUILD/control:$PATH" bash -c '
        . "$1"
        line=$2
        read -ra COMP_WORDS <<<"$line"
        [ "${line% }" != "$line" ] && COMP_WORDS+=("")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMP_LINE=$line
        _parcelsortctl
        printf "%s\n" "${COMPREPLY[@]}" | sort -u' _ "$COMP" "$1"
}

check "the completion is registered for parcelsortctl" \
    'bash -c ". \"$COMP\"; complete -p parcelsortctl" | grep -q "_parcelsortctl"'
complete_line "parcelsortctl " >"$T/first"
cut -f1 "$TSV" | awk '{ print $1 }' | sort -u >"$T/want-first"
printf 'doctor\nfleet\nplan\n' >>"$T/want-first"
check "first words: every command of the table, and the offline ones" \
    '[ -s "$T/first" ] && sort -u "$T/want-first" | comm -23 - "$T/first" | { ! grep .; }'
missing=""
while IFS="$(printf '\t')" read -r form _; do
    set -- $form
    case ${2:-} in [a-z]*) ;; *) continue ;; esac
    complete_line "parcelsortctl $1 " | grep -qx "$2" || missing="$missing '$1 $2'"
done <"$TSV"
check "every command's second word completes after its first${missing:+ (missing$missing)}" '[ -z "$missing" ]'
check "plan: load diff show history rollback and the offline check and whatif" \
    '[ "$(complete_line "parcelsortctl plan " | tr "\n" " ")" = "check diff history load rollback show whatif " ]'
check "prefix: 'plan h' gives history" '[ "$(complete_line "parcelsortctl plan h")" = "history" ]'
check "options of a command: hold list --" \
    '[ "$(complete_line "parcelsortctl hold list --" | tr "\n" " ")" = "--after --limit " ]'
check "options after arguments: route get 330782 --w" \
    '[ "$(complete_line "parcelsortctl route get 330782 --w" | tr "\n" " ")" = "--waybill --weight " ]'
check "global options first" \
    'complete_line "parcelsortctl --" | grep -qx -- "--json" && complete_line "parcelsortctl --" | grep -qx -- "--ctl"'
check "options of the offline doctor" 'complete_line "parcelsortctl doctor --r" | grep -qx -- "--root"'
check "fleet subcommands and security options" \
    'complete_line "parcelsortctl fleet " | grep -qx push &&
     complete_line "parcelsortctl fleet push x.plan --nats-c" | grep -qx -- "--nats-creds"'
: >"$T/next-shift.plan"
check "files where the form says FILE: plan load" \
    '[ "$(cd "$T" && complete_line "parcelsortctl plan load next")" = "next-shift.plan" ]'

# a daemon that answers: chute numbers and hub ids from it
"$BUILD/parcelsortd" -l 0-1 --no-huge -m 256 --no-pci --no-shconf --log-level=3 \
    --file-prefix "ps$$c" --vdev net_null0 -- --ip 198.18.0.2 \
    --plan "$ROOT/config/example.plan" --state-dir "$T/state" --ctl "$T/ctl.sock" \
    --metrics off >"$T/daemon.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do [ -S "$T/ctl.sock" ] && break; sleep 0.25; done
complete_line "parcelsortctl --ctl $T/ctl.sock chute disable " >"$T/chutes"
check "chute disable: the daemon's chutes ($(tr '\n' ' ' <"$T/chutes"))" \
    'grep -qx 41 "$T/chutes" && grep -qx 90 "$T/chutes" && grep -qx 999 "$T/chutes"'
check "chute enable 41 9: chutes again, by prefix" \
    '[ "$(complete_line "parcelsortctl --ctl $T/ctl.sock chute enable 41 9" | tr "\n" " ")" = "90 91 999 " ]'
complete_line "parcelsortctl --ctl $T/ctl.sock hub del " >"$T/hubs"
check "hub del: the plan's hub ids ($(tr '\n' ' ' <"$T/hubs"))" \
    '[ "$(tr "\n" " " <"$T/hubs")" = "100 110 200 310 311 410 900 " ]'
check "route add PREFIX HUB: hub ids in the HUB place" \
    'complete_line "parcelsortctl --ctl $T/ctl.sock route add 3307 " | grep -qx 200'
check "no daemon: no chutes, no error" \
    '[ -z "$(complete_line "parcelsortctl --ctl $T/none.sock chute disable " 2>&1)" ]'

# a daemon that accepts and never answers (stuck for 30 s): the completion
# gives up on it within a few seconds instead of hanging the shell
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
s.settimeout(30); held = []; end = time.time() + 30
while time.time() < end:
    try: held.append(s.accept()[0])
    except OSError: break
' "$T/stuck.sock" &
STUCK=$!
for _ in $(seq 1 40); do [ -S "$T/stuck.sock" ] && break; sleep 0.25; done
t0=$(date +%s)
complete_line "parcelsortctl --ctl $T/stuck.sock chute disable " >"$T/stuck" 2>&1
complete_line "parcelsortctl --ctl $T/stuck.sock hub del " >>"$T/stuck" 2>&1
took=$(( $(date +%s) - t0 ))
kill "$STUCK" 2>/dev/null; wait "$STUCK" 2>/dev/null
check "a stuck daemon: the completion gives up (${took} s), offers nothing" \
    '[ "$took" -lt 15 ] && ! grep -q . "$T/stuck"'

# the man pages
for p in "$BUILD"/man/*.[158]; do
    LC_ALL=C.UTF-8 groff -ww -z -man "$p" >"$T/groff" 2>&1
    check "man page $(basename "$p") clean under groff -ww -z" '[ $? -eq 0 ] && [ ! -s "$T/groff" ]'
done
MANWIDTH=400 man -l "$BUILD/man/parcelsortctl.8" 2>/dev/null | col -b >"$T/ctl.txt"
missing=""
while IFS="$(printf '\t')" read -r form _; do
    grep -qF -- "$form" "$T/ctl.txt" || missing="$missing '$form'"
done <"$TSV"
check "parcelsortctl(8) lists every form of the command table${missing:+ (missing$missing)}" '[ -z "$missing" ]'
check "parcelsortctl(8) lists the offline commands" \
    'grep -q "plan check FILE" "$T/ctl.txt" && grep -q "doctor \[--root DIR\]" "$T/ctl.txt" &&
     grep -q "fleet push FILE" "$T/ctl.txt"'
MANWIDTH=400 man -l "$BUILD/man/parcelsortd.8" 2>/dev/null | col -b >"$T/d.txt"
missing=""
for k in $("$BUILD/parcelsortd" --keys | cut -f2); do
    grep -q -- "--$k " "$T/d.txt" || missing="$missing $k"
done
check "parcelsortd(8) lists every option of the key table${missing:+ (missing$missing)}" '[ -z "$missing" ]'
