#!/bin/sh
# fleet_secure.sh: the fleet with its security on (docs/fleet.md,
# "Security"). A 3-node NATS cluster on loopback with TLS (a CA and
# certificates made here with openssl) and one user per role with the
# permissions `parcelsortctl fleet permissions` prints: ops, a reader of
# events, sites a and b. Site a runs a parcelsortd and an agent that
# trusts only plans signed by ops' key. Checked: the honest path (signed
# push, applied, status, events read by the reader, signed holds and
# manifest applied); a server certificate
# from another CA is refused with a clear error; site a's credential
# cannot read b's plan, write b's status, publish on b's subject or
# consume b's holds or manifest (each denial seen from the server), while
# it can do each for itself and its agent applies the holds and the
# manifest signed for a; a plan
# put into the bucket unsigned, with one byte changed, or an old signed
# plan put back is refused at the site, and the plan in force stays. Site
# a's agent and one ops user authenticate with nkey seeds (--nats-creds);
# an unknown seed and a file that is no credential are refused.
# PSD=path runs another parcelsortd (default: $BUILD's).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ID=$$
T=$(mktemp -d /tmp/ps-fsec.XXXXXX)
. "$HERE/lib/nats.sh"
. "$HERE/lib/fleet.sh"
CTLBIN="$BUILD/control/parcelsortctl"
AGENT="$BUILD/fleet/parcelsort-agent"
PROBE="$BUILD/tests/fleet_probe"
PLAN="$ROOT/config/yiwu.plan"
PSD=${PSD:-$BUILD/parcelsortd}
AGENT_a="" DAEMON_a="" BADAGENT=""

cleanup() {
    for p in $AGENT_a $BADAGENT; do kill -9 "$p" 2>/dev/null; done
    [ -n "$DAEMON_a" ] && stop_gently "$DAEMON_a"
    ip netns del "psx$ID" 2>/dev/null
    ip link del "pxa$ID" 2>/dev/null
    rm -rf "/var/run/dpdk/psx$ID"
    nats_stop
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

# --- certificates: the cluster's CA, and another CA ---------------------
mkcert() {   # mkcert CA NAME: NAME.key, NAME.crt signed by CA, SANs for loopback
    openssl req -newkey rsa:2048 -nodes -keyout "$T/$2.key" -subj "/CN=$2" \
        -out "$T/$2.csr" 2>/dev/null &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/$2.ext" &&
    openssl x509 -req -in "$T/$2.csr" -CA "$T/$1.crt" -CAkey "$T/$1.key" \
        -CAcreateserial -days 2 -extfile "$T/$2.ext" -out "$T/$2.crt" 2>/dev/null
}
for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$ca" \
        -keyout "$T/$ca.key" -out "$T/$ca.crt" 2>/dev/null
done
mkcert ca server && mkcert other-ca other-server
check "certificates made (a CA, the servers', another CA's)" \
    '[ -s "$T/server.crt" ] && [ -s "$T/other-server.crt" ]'

# --- users and permissions ----------------------------------------------
mkdir -p "$T/nats"
for u in ops reader site-b; do echo "pw-$u-$ID" >"$T/$u.pw"; done
user() {   # user NAME PERMISSIONS-COMMAND...
    n=$1; shift
    printf '  { user: "%s", password: "pw-%s-%s",\n' "$n" "$n" "$ID"
    "$CTLBIN" fleet permissions "$@" | grep -v '^#'
    printf '  }\n'
}
nkuser() {   # nkuser NAME PERMISSIONS-COMMAND...: an nkey user, seed in NAME.nk
    n=$1; shift
    printf '  { nkey: "%s",\n' "$("$PROBE" --nkey-gen "$T/$n.nk")"
    "$CTLBIN" fleet permissions "$@" | grep -v '^#'
    printf '  }\n'
}
# site a's agent and a second ops user authenticate with nkeys
# (--nats-creds with a user nkey seed), the others with passwords
{
    echo "authorization { users: ["
    user ops ops; user reader reader; nkuser ops-nk ops
    nkuser site-a --site a; user site-b --site b
    echo "] }"
} >"$T/nats/users.conf"
"$PROBE" --nkey-gen "$T/stranger.nk" >/dev/null   # a seed the cluster does not know
check "nkey seeds made for site a and ops-nk" \
    'grep -q "^SU" "$T/site-a.nk" && grep -q "^SU" "$T/ops-nk.nk" && grep -q "nkey: \"U" "$T/nats/users.conf"' 
# the loopback cluster of lib/nats.sh, each node with TLS and the users
nats_start_secure() {
    set -- $(free_ports 6)
    NATS_PORT1=$1 NATS_PORT2=$2 NATS_PORT3=$3
    NATS_CPORT1=$4 NATS_CPORT2=$5 NATS_CPORT3=$6
    NATS_URLS="nats://127.0.0.1:$NATS_PORT1,nats://127.0.0.1:$NATS_PORT2,nats://127.0.0.1:$NATS_PORT3"
    export PARCELSORT_NATS="$NATS_URLS"
    for i in 1 2 3; do
        nats_conf $i
        cat >>"$T/nats/n$i.conf" <<CONF
tls {
    cert_file: "$T/server.crt"
    key_file: "$T/server.key"
    timeout: 2
}
include "users.conf"
CONF
        nats_run $i
    done
    for _ in $(seq 1 60); do
        grep -q "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" \
            "$T"/nats/n*.log 2>/dev/null && return 0
        sleep 0.25
    done
    return 1
}

nats_start_secure
check "3-node NATS cluster with TLS and per-role users up" '[ $? -eq 0 ]'
TLS="--nats-ca $T/ca.crt"
as() {   # as USER parcelsortctl/probe args: the user's credential and TLS
    u=$1; shift
    inbox=_INBOX_ops; [ "$u" = reader ] && inbox=_INBOX_reader
    "$CTLBIN" fleet "$@" $TLS --nats-user "$u" --nats-password-file "$T/$u.pw" \
        --nats-inbox "$inbox"
}
cred() {   # cred USER: its credential options
    if [ -f "$T/$1.nk" ]; then echo "--nats-creds $T/$1.nk"
    else echo "--nats-user $1 --nats-password-file $T/$1.pw"; fi
}
probe() {   # probe USER OP SITE [FILE]
    u=$1; shift
    inbox=_INBOX_ops
    case $u in site-*) inbox="_INBOX_site_${u#site-}";; esac
    "$PROBE" --nats "$NATS_URLS" $TLS $(cred "$u") --nats-inbox "$inbox" "$@"
}
as ops init --replicas 3 >"$T/init" 2>&1
check "ops: fleet init over TLS" '[ $? -eq 0 ]'
"$CTLBIN" fleet status $TLS >"$T/anon" 2>&1
check "no credential: refused by the cluster" '[ $? -ne 0 ] && grep -qi "auth\|credential" "$T/anon"'

# --- site a: parcelsortd, and an agent trusting ops' key ----------------
as ops keygen "$T/ops-key" >/dev/null
check "fleet keygen: a 0600 secret key and a public key" \
    '[ "$(stat -c %a "$T/ops-key")" = 600 ] && [ -s "$T/ops-key.pub" ]'
ns="psx$ID" va="pxa$ID" vb="pxb$ID"
ip netns add "$ns" && ip link add "$va" type veth peer name "$vb" &&
ip link set "$vb" netns "$ns" &&
sysctl -qw "net.ipv6.conf.$va.disable_ipv6=1" && ip link set "$va" up &&
ip netns exec "$ns" ip link set lo up &&
ip netns exec "$ns" ip addr add 198.18.0.1/24 dev "$vb" &&
ip netns exec "$ns" ip link set "$vb" up &&
ip netns exec "$ns" ethtool -K "$vb" tx off >/dev/null
"$PSD" -l 0-1 --no-huge -m 512 --no-pci --no-shconf \
    --log-level=3 --file-prefix "psx$ID" \
    --vdev "net_af_packet0,iface=$va" -- --ip 198.18.0.2 \
    --state-dir "$T/state-a" --ctl "$T/ctl-a.sock" --metrics off \
    --plan "$ROOT/config/example.plan" --export-spool "$T/spool-a" \
    --idle-sleep-us 200 >"$T/daemon-a.log" 2>&1 &
DAEMON_a=$!
for _ in $(seq 1 120); do
    grep -q "^parcelsortd: UDP port" "$T/daemon-a.log" && break
    sleep 0.25
done
"$AGENT" --site a --nats "$NATS_URLS" $TLS --nats-creds "$T/site-a.nk" \
    --no-watch --trust "$T/ops-key.pub" \
    --ctl "$T/ctl-a.sock" --state "$T/agent-a" --spool "$T/spool-a" \
    >"$T/agent-a.log" 2>&1 &
AGENT_a=$!
ctl() { "$CTLBIN" --ctl "$T/ctl-a.sock" "$@"; }
version() { ip netns exec "$ns" python3 "$HERE/ask.py" "SF10000000000$1" 330782100201 --version | cut -d" " -f3; }
field() {
    as ops --json status --site a | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
s = d["status"] or {}
v = d["pushed_revision"] if sys.argv[1] == "pushed" else s.get(sys.argv[1], "")
print(v)' "$1"
}
wait_handled() {
    for _ in $(seq 1 300); do
        [ "$(field pushed)" = "$(field revision)" ] && return 0
        sleep 0.1
    done
    return 1
}
wait_for 30 '[ "$(field outcome)" = waiting ]'
check "site a's agent connects over TLS with its own nkey (--nats-creds) and reports" \
    '[ "$(field outcome)" = waiting ]'

# --- the honest path ----------------------------------------------------
as ops push "$PLAN" --site a --sign "$T/ops-key" >"$T/push1" 2>&1
wait_handled
V1=$(field plan_version)
check "a signed push is applied (plan version $V1) and stamped on replies" \
    '[ "$(field outcome)" = active ] && [ "$(version 01)" = "$V1" ]'
probe ops get-plan a "$T/signed-1" >/dev/null
check "the plan in the bucket carries its signature line" \
    'tail -1 "$T/signed-1" | grep -q "^# parcelsort-signature v1 kind=plan site=a after="'
for _ in $(seq 1 120); do
    n=$(as reader --json events --site a 2>"$T/events.err" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])' 2>/dev/null)
    [ "${n:-0}" -ge 1 ] && break
    sleep 0.25
done
check "the reader reads site a's events (${n:-none})" '[ "${n:-0}" -ge 1 ]'
as reader push "$PLAN" --site a --no-check >"$T/reader-push" 2>&1
check "the reader cannot push a plan" \
    '[ $? -ne 0 ] && grep -q "not pushed" "$T/reader-push"'

# --- holds under site a's credential ------------------------------------
hold() {   # a member of site a's "holds" status record
    as ops --json status --site a | python3 -c '
import json, sys
s = (json.load(sys.stdin)[0]["status"] or {}).get("holds", {})
print(s.get(sys.argv[1], ""))' "$1"
}
as ops hold add SF0000000000777 SF0000000000778 --note "secure" --site a \
    --sign "$T/ops-key" >"$T/hold-add" 2>&1
for _ in $(seq 1 100); do [ "$(hold hold_outcome)" = applied ] && break; sleep 0.2; done
check "site a's agent, under its own credential, receives a signed hold and applies it" \
    '[ "$(hold hold_outcome)" = applied ] && [ "$(hold hold_count)" = 2 ] &&
     [ "$(ctl --json hold list --limit 0 | python3 -c "import json,sys; print(json.load(sys.stdin)[\"count\"])")" = 2 ] &&
     ! grep -q "hold operations unavailable" "$T/agent-a.log"'
as ops hold add SF0000000000779 --site b --sign "$T/ops-key" >/dev/null 2>&1
r=$(probe site-a consume-holds b 2>&1)
check "site a cannot consume site b's holds ($r)" 'echo "$r" | grep -q "^denied: .*Permissions Violation"'
r=$(probe site-a consume-holds b agent-a 2>&1)
check "nor through a consumer named as its own on b's subject ($r)" \
    'echo "$r" | grep -q "^denied: .*Permissions Violation"'

# --- a manifest under site a's credential ---------------------------------
man() {   # a member of site a's "manifest" status record
    as ops --json status --site a | python3 -c '
import json, sys
s = (json.load(sys.stdin)[0]["status"] or {}).get("manifest", {})
print(s.get(sys.argv[1], ""))' "$1"
}
printf 'MF0000000000001,330782100201\nMF0000000000002,330782100202\n' >"$T/pre.csv"
as ops manifest push "$T/pre.csv" --site a --sign "$T/ops-key" >"$T/man-push" 2>&1
mrev=$(sed -n 's/.*revisions [0-9]*\.\.\([0-9]*\)).*/\1/p' "$T/man-push")
for _ in $(seq 1 100); do [ "$(man manifest_revision)" = "${mrev:-x}" ] && break; sleep 0.2; done
check "site a's agent, under its own credential, receives a signed manifest and applies it" \
    '[ -n "$mrev" ] && [ "$(man manifest_outcome)" = applied ] && [ "$(man manifest_entries)" = 2 ] &&
     ctl --json manifest get MF0000000000002 | grep -q 330782100202'
as ops manifest push "$T/pre.csv" --site b --sign "$T/ops-key" >/dev/null 2>&1
r=$(probe site-a consume-manifest b 2>&1)
check "site a cannot consume site b's manifest stream ($r)" 'echo "$r" | grep -q "^denied: .*Permissions Violation"'
r=$(probe site-a consume-manifest b agent-a 2>&1)
check "nor through a consumer named as its own on b's manifest stream ($r)" \
    'echo "$r" | grep -q "^denied: .*Permissions Violation"'

# --- what site a's credential may not do ---------------------------------
as ops push "$PLAN" --site b --sign "$T/ops-key" >/dev/null 2>&1
r=$(probe site-a get-plan b 2>&1)
check "site a cannot read site b's plan ($r)" 'echo "$r" | grep -q "^denied: .*Permissions Violation"'
r=$(probe site-a put-status b 2>&1)
check "site a cannot write site b's status ($r)" 'echo "$r" | grep -q "^denied: .*Permissions Violation"'
r=$(probe site-a publish b 2>&1)
check "site a cannot publish on site b's event subject ($r)" 'echo "$r" | grep -q "^denied: .*Permissions Violation"'
r=$(probe site-a put-plan a "$T/signed-1" 2>&1)
check "site a cannot write its own plan key ($r)" 'echo "$r" | grep -q "^denied: .*Permissions Violation"'
check "while it reads its own plan, writes its own status, publishes its own events" \
    '[ "$(probe site-a get-plan a "$T/own")" = allowed ] && cmp -s "$T/own" "$T/signed-1" &&
     [ "$(probe site-a put-status a)" = allowed ] && [ "$(probe site-a publish a)" = allowed ]'

# --- plans the site refuses ------------------------------------------------
refused_with() {   # refused_with TEXT: refused at the site for TEXT, plan kept
    wait_handled && [ "$(field outcome)" = refused ] &&
    as ops status --site a | grep -q "$1" && [ "$(field plan_version)" = "$V1" ] &&
    [ "$(version $2)" = "$V1" ]
}
sed 's/^plan .*/plan forged/' "$PLAN" >"$T/unsigned.plan"
as ops push "$T/unsigned.plan" --site a >/dev/null 2>&1
check "an unsigned plan is refused at the site; version $V1 stays" 'refused_with "not signed" 02'
sed '1,/^route /s/^route \([0-9]*\) \([0-9]*\)/route \1 \2/; 0,/ 1$/s/ 1$/ 2/' "$T/signed-1" >"$T/tampered"
python3 - "$T/signed-1" "$T/tampered" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"\nroute ") + 8          # one byte of the first route line
b[i] = ord("9") if b[i] != ord("9") else ord("8")
open(sys.argv[2], "wb").write(b)
PY
probe ops put-plan a "$T/tampered" >/dev/null
check "a signed plan with one byte changed is refused; version $V1 stays" 'refused_with "bad signature" 03'
sed 's/^plan .*/plan yiwu-county-2/' "$PLAN" >"$T/p2.plan"
as ops push "$T/p2.plan" --site a --sign "$T/ops-key" >/dev/null 2>&1
wait_handled
V2=$(field plan_version)
check "the next signed push is applied (version $V2)" \
    '[ "$(field outcome)" = active ] && [ "$V2" -gt "$V1" ] && [ "$(version 04)" = "$V2" ]'
V1=$V2
probe ops put-plan a "$T/signed-1" >/dev/null
check "the old signed plan put back is refused as replayed; version $V2 stays" 'refused_with "replayed" 05'
check "no refused plan reached the daemon" \
    '[ "$(ctl plan history | grep -c "fleet revision")" = 2 ]'

# --- a server certificate from another CA ----------------------------------
"$AGENT" --site a --nats "$NATS_URLS" --nats-ca "$T/other-ca.crt" \
    --nats-creds "$T/site-a.nk" \
    --ctl "$T/ctl-a.sock" --state "$T/agent-bad" >"$T/agent-bad.log" 2>&1 &
BADAGENT=$!
for _ in $(seq 1 60); do kill -0 "$BADAGENT" 2>/dev/null || break; sleep 0.25; done
kill -9 "$BADAGENT" 2>/dev/null     # still trying: the check fails
wait "$BADAGENT" 2>/dev/null; rc=$?
BADAGENT=""
check "an agent trusting another CA refuses the cluster's certificate (exit $rc): $(head -c 200 "$T/agent-bad.log")" \
    '[ "$rc" = 1 ] && grep -q "certificate does not verify" "$T/agent-bad.log"'
"$CTLBIN" fleet status --nats-ca "$T/other-ca.crt" --nats-user ops \
    --nats-password-file "$T/ops.pw" >"$T/ctl-bad" 2>&1
check "so does parcelsortctl fleet" '[ $? -ne 0 ] && grep -q "certificate does not verify" "$T/ctl-bad"'

# --- --nats-creds: a fleet command with an nkey; wrong creds refused -------
"$CTLBIN" fleet status --site a $TLS --nats-creds "$T/ops-nk.nk" \
    --nats-inbox _INBOX_ops >"$T/nk-status" 2>&1
check "fleet status with --nats-creds (ops' nkey seed) reads site a" \
    '[ $? -eq 0 ] && grep -q "^a " "$T/nk-status"'
"$CTLBIN" fleet status $TLS --nats-creds "$T/stranger.nk" >"$T/nk-bad" 2>&1
check "an nkey the cluster does not know is refused: $(head -c 160 "$T/nk-bad")" \
    '[ $? -ne 0 ] && grep -q "credential is not accepted" "$T/nk-bad"'
printf 'not a credential\n' >"$T/garbage.creds"
"$CTLBIN" fleet status $TLS --nats-creds "$T/garbage.creds" >"$T/nk-garbage" 2>&1
check "a file that is no credential is refused before connecting: $(head -c 160 "$T/nk-garbage")" \
    '[ $? -ne 0 ] && grep -q "neither a NATS credentials file" "$T/nk-garbage"'
"$AGENT" --site a --nats "$NATS_URLS" $TLS --nats-creds "$T/stranger.nk" \
    --ctl "$T/ctl-a.sock" --state "$T/agent-stranger" >"$T/agent-stranger.log" 2>&1 &
BADAGENT=$!
for _ in $(seq 1 60); do kill -0 "$BADAGENT" 2>/dev/null || break; sleep 0.25; done
kill -9 "$BADAGENT" 2>/dev/null
wait "$BADAGENT" 2>/dev/null; rc=$?
BADAGENT=""
check "an agent with an unknown nkey exits 1 with the reason (exit $rc)" \
    '[ "$rc" = 1 ] && grep -q "credential is not accepted" "$T/agent-stranger.log"'
