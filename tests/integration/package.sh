#!/bin/sh
# package.sh: the Debian packages: `dpkg-buildpackage -us -uc -b` (with
# DEB_BUILD_OPTIONS=nocheck: the suites run from the clone) on a copy of
# the source, lintian without errors, `dpkg -i` on this machine, then
# parcelsortd --version, parcelsortctl doctor and parcelsort-gen run from
# /usr/bin (the source copy gone), the installed units verified with their
# man pages, the configuration and completion in place; the purge removes
# the state and runtime directories too; both packages are purged on the
# way out, even when a check fails or the run is interrupted.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
if meson introspect --buildoptions "$BUILD" 2>/dev/null | grep -q '"name": "b_sanitize", "value": "address'; then
    echo "# the package is built once, with the plain build's suites"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then echo "not ok - needs root for dpkg -i"; exit 1; fi
T=$(mktemp -d /tmp/ps-package.XXXXXX)
purge() {
    dpkg --purge parcelsort-agent parcelsort >"$T/purge.log" 2>&1
    rm -rf "$T"
}
trap purge EXIT
trap 'exit 130' INT TERM     # purge once, on the way out, and stop there

# the source as the repository has it (tracked and new files, no build trees)
mkdir "$T/src"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - 2>/dev/null) |
    tar xf - -C "$T/src"
check "source copied" '[ -f "$T/src/debian/control" ] && [ -f "$T/src/meson.build" ]'
(cd "$T/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -us -uc -b (rc $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || { tail -30 "$T/build.log"; exit 1; }
VERSION=$(sed -n "s/^project('parcelsort', 'c',//; s/^ *version : '\(.*\)',/\1/p" "$ROOT/meson.build" | head -1)
DEB=$(ls "$T"/parcelsort_*.deb 2>/dev/null | head -1)
AGENT=$(ls "$T"/parcelsort-agent_*.deb 2>/dev/null | head -1)
check "two packages: parcelsort and parcelsort-agent, version $VERSION" \
    '[ -n "$DEB" ] && [ -n "$AGENT" ] && case "$DEB" in *_"$VERSION"_*) true ;; *) false ;; esac'
[ -n "$DEB" ] && [ -n "$AGENT" ] || exit 1
TMPDIR="$T" lintian --no-tag-display-limit "$DEB" "$AGENT" >"$T/lintian" 2>&1
check "lintian: no errors ($(grep -c '^E:' "$T/lintian") errors, $(grep -c '^W:' "$T/lintian") warnings)" \
    '! grep -q "^E:" "$T/lintian"'
grep '^[EW]:' "$T/lintian" | head -20
check "parcelsort holds daemon, CLI, generator, units, man pages, completion, plans" \
    'dpkg-deb -c "$DEB" >"$T/contents" &&
     for f in ./usr/bin/parcelsortd ./usr/bin/parcelsortctl ./usr/bin/parcelsort-gen \
              ./etc/parcelsort/parcelsortd.conf ./lib/systemd/system/parcelsortd.service \
              ./usr/share/man/man8/parcelsortd.8.gz ./usr/share/man/man8/parcelsortctl.8.gz \
              ./usr/share/man/man1/parcelsort-gen.1.gz ./usr/share/man/man5/parcelsort.plan.5.gz \
              ./usr/share/bash-completion/completions/parcelsortctl \
              ./usr/share/parcelsort/yiwu.plan ./usr/share/parcelsort/regions/villages.txt.gz; do
         grep -q " $f\$" "$T/contents" || { echo "# missing $f"; exit 1; }; done'
check "parcelsort-agent holds the agent, its unit and man page" \
    'dpkg-deb -c "$AGENT" 2>/dev/null | grep -q " ./usr/bin/parcelsort-agent$" &&
     dpkg-deb -c "$AGENT" 2>/dev/null | grep -q " ./lib/systemd/system/parcelsort-agent.service$" &&
     dpkg-deb -c "$AGENT" 2>/dev/null | grep -q " ./usr/share/man/man8/parcelsort-agent.8.gz$"'
rm -rf "$T/src"          # what is installed must not lean on the source

dpkg -i "$DEB" "$AGENT" >"$T/install.log" 2>&1
rc=$?
check "dpkg -i both packages (rc $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || { tail -20 "$T/install.log"; exit 1; }
check "/usr/bin/parcelsortd --version: $VERSION" \
    '[ "$(/usr/bin/parcelsortd --version)" = "parcelsortd $VERSION" ]'
/usr/bin/parcelsortctl doctor >"$T/doctor" 2>&1
rc=$?
check "/usr/bin/parcelsortctl doctor runs: exit 0 or 1 with its findings (rc $rc)" \
    '{ [ $rc -eq 0 ] && grep -q "^ready" "$T/doctor"; } || { [ $rc -eq 1 ] && grep -q "^not ready" "$T/doctor"; }'
check "/usr/bin/parcelsort-gen finds the installed region tables" \
    '/usr/bin/parcelsort-gen --pcap "$T/g.pcap" --datagrams 20 --quiet && [ -s "$T/g.pcap" ]'
check "installed units verify, man pages and all" \
    'systemd-analyze verify /lib/systemd/system/parcelsortd.service \
        /lib/systemd/system/parcelsort-agent.service >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]'
cat "$T/verify" 2>/dev/null | head -5
check "/etc/parcelsort/parcelsortd.conf has every key, and --check-config reads it" \
    '/usr/bin/parcelsortd --print-config | cmp -s - /etc/parcelsort/parcelsortd.conf &&
     ! /usr/bin/parcelsortd --check-config --config /etc/parcelsort/parcelsortd.conf 2>&1 |
        grep -v "dataplane.ip\|refused" | grep -q .'
check "the installed default state directory is /var/lib/parcelsort" \
    '/usr/bin/parcelsortd --keys | grep -q "^plan.state_dir	state-dir	DIR	/var/lib/parcelsort	"'
check "man parcelsortctl finds the installed page" 'man -w parcelsortctl | grep -q "^/usr/share/man/man8/parcelsortctl.8.gz$"'
check "the services are installed, not enabled (ports and config first)" \
    '[ ! -e /etc/systemd/system/multi-user.target.wants/parcelsortd.service ]'
# what the services make at run time (StateDirectory=, RuntimeDirectory=)
mkdir -p /var/lib/parcelsort/plans /var/lib/parcelsort-agent /run/parcelsort
: >/var/lib/parcelsort/plans/current.plan
: >/var/lib/parcelsort-agent/cursor
dpkg --purge parcelsort-agent parcelsort >"$T/purge.log" 2>&1
check "purge removes the state and runtime directories the services made" \
    '[ ! -e /var/lib/parcelsort ] && [ ! -e /var/lib/parcelsort-agent ] && [ ! -e /run/parcelsort ]'
check "both purged" '! dpkg -s parcelsort >/dev/null 2>&1 && ! dpkg -s parcelsort-agent >/dev/null 2>&1 &&
    [ ! -e /usr/bin/parcelsortd ] && [ ! -e /etc/parcelsort/parcelsortd.conf ]'
