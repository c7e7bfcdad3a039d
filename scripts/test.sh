#!/bin/sh
# test.sh: install what is missing, build, and run every test suite (Criterion
# unit suites, integration scripts). Ends with one line "N passed, N failed"
# summed over all suites; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${PARCELSORT_BUILD:-build}

./scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" >"$ROOT/.test-setup.log" 2>&1 ||
        { cat "$ROOT/.test-setup.log"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$BUILD" >"$ROOT/.test-build.log" 2>&1; then
    cat "$ROOT/.test-build.log"; echo "0 passed, 1 failed"; exit 1
fi
rm -f "$ROOT/.test-setup.log" "$ROOT/.test-build.log"

passed=0
failed=0
LOG=$(mktemp -d /tmp/parcelsort-test.XXXXXX)
trap 'rm -rf "$LOG"' EXIT

# Criterion unit suites: every tests/test_* binary.
for exe in "$BUILD"/tests/test_*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    name=$(basename "$exe")
    "$exe" >"$LOG/$name" 2>&1
    line=$(grep 'Synthesis: Tested:' "$LOG/$name" | tail -1)
    if [ -z "$line" ]; then
        echo "unit $name: crashed before reporting"
        cat "$LOG/$name"
        failed=$((failed + 1))
        continue
    fi
    tested=$(echo "$line" | sed -E 's/.*Tested: ([0-9]+).*/\1/')
    ok=$(echo "$line" | sed -E 's/.*Passing: ([0-9]+).*/\1/')
    bad=$((tested - ok))
    echo "unit $name: $ok passed, $bad failed"
    [ "$bad" -gt 0 ] && grep -E '\[(----|FAIL)\]' "$LOG/$name" | head -40
    passed=$((passed + ok))
    failed=$((failed + bad))
done

# Integration suites: each prints "ok - NAME" / "not ok - NAME" lines.
for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    BUILD="$ROOT/$BUILD" sh "$t" >"$LOG/$name" 2>&1
    rc=$?
    ok=$(grep -c '^ok ' "$LOG/$name")
    bad=$(grep -c '^not ok ' "$LOG/$name")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1
        echo "integration $name: exited $rc"
    fi
    echo "integration $name: $ok passed, $bad failed"
    [ "$bad" -gt 0 ] && cat "$LOG/$name" | tail -40
    passed=$((passed + ok))
    failed=$((failed + bad))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
