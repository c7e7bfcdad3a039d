#!/bin/sh
# test.sh: install what is missing, build, and run every test suite (Criterion
# unit suites, integration scripts). Ends with one line "N passed, N failed"
# summed over all suites; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${PARCELSORT_BUILD:-build}

ASAN_BUILD=${PARCELSORT_ASAN_BUILD:-build-asan}

./scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

# build DIR [meson options...]: configure once, then build.
build() {
    dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >"$ROOT/.test-setup.log" 2>&1 ||
            { cat "$ROOT/.test-setup.log"; echo "0 passed, 1 failed"; exit 1; }
    fi
    if ! ninja -C "$dir" >"$ROOT/.test-build.log" 2>&1; then
        cat "$ROOT/.test-build.log"; echo "0 passed, 1 failed"; exit 1
    fi
    rm -f "$ROOT/.test-setup.log" "$ROOT/.test-build.log"
}
build "$BUILD"
# AddressSanitizer + UndefinedBehaviorSanitizer build of the unit suites.
build "$ASAN_BUILD" -Db_sanitize=address,undefined -Dbuildtype=debugoptimized \
    -Db_lundef=false
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

passed=0
failed=0
LOG=$(mktemp -d /tmp/parcelsort-test.XXXXXX)
trap 'rm -rf "$LOG"' EXIT

# Criterion unit suites: every tests/test_* binary, plain and sanitized.
for exe in "$BUILD"/tests/test_* "$ASAN_BUILD"/tests/test_*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    name=$(basename "$exe")
    case "$exe" in "$ASAN_BUILD"/*) name="asan:$name" ;; esac
    "$exe" >"$LOG/$name" 2>&1
    line=$(grep 'Synthesis: Tested:' "$LOG/$name" | tail -1)
    if [ -z "$line" ]; then
        echo "unit $name: crashed before reporting"
        cat "$LOG/$name"
        failed=$((failed + 1))
        continue
    fi
    tested=$(echo "$line" | sed -E 's/.*Tested: ([0-9]+).*/\1/')
    # every test the suite lists must report: one that did not is said,
    # the suite run again once, and what is still missing counts failed
    listed=$("$exe" --list 2>/dev/null | grep -c -E '^(├──|└──)')
    if [ "$tested" -lt "$listed" ]; then
        echo "unit $name: $tested of $listed tests reported; running it again"
        "$exe" >"$LOG/$name" 2>&1
        line=$(grep 'Synthesis: Tested:' "$LOG/$name" | tail -1)
        tested=$(echo "$line" | sed -E 's/.*Tested: ([0-9]+).*/\1/')
        [ -n "$tested" ] || tested=0
    fi
    ok=$(echo "$line" | sed -E 's/.*Passing: ([0-9]+).*/\1/')
    [ -n "$ok" ] || ok=0
    bad=$((tested - ok))
    if [ "$tested" -lt "$listed" ]; then
        echo "unit $name: $((listed - tested)) of $listed tests never reported"
        bad=$((bad + listed - tested))
    fi
    echo "unit $name: $ok passed, $bad failed"
    [ "$bad" -gt 0 ] && grep -E '\[(----|FAIL)\]' "$LOG/$name" | head -40
    passed=$((passed + ok))
    failed=$((failed + bad))
done

# Integration suites: each prints "ok - NAME" / "not ok - NAME" lines. They
# run against the plain build, then against the sanitized one.
for pre in "" "asan:"; do
    b=$BUILD
    [ -n "$pre" ] && b=$ASAN_BUILD
    for t in tests/integration/*.sh; do
        [ -f "$t" ] || continue
        name=$pre$(basename "$t" .sh)
        BUILD="$ROOT/$b" sh "$t" >"$LOG/$name" 2>&1
        rc=$?
        ok=$(grep -c '^ok ' "$LOG/$name")
        bad=$(grep -c '^not ok ' "$LOG/$name")
        if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
            bad=1
            echo "integration $name: exited $rc"
        fi
        echo "integration $name: $ok passed, $bad failed"
        [ "$bad" -gt 0 ] && grep -v '^ok ' "$LOG/$name" | tail -40
        passed=$((passed + ok))
        failed=$((failed + bad))
    done
done

# Fuzz smoke: each libFuzzer harness for a bounded time (60 s on CI).
FUZZ_SECONDS=${FUZZ_SECONDS:-$([ -n "${CI:-}" ] && echo 60 || echo 20)}
./scripts/fuzz.sh "$FUZZ_SECONDS" >"$LOG/fuzz" 2>&1
ok=$(grep -c '^ok ' "$LOG/fuzz")
bad=$(grep -c '^not ok ' "$LOG/fuzz")
[ $((ok + bad)) -eq 0 ] && bad=1
echo "fuzz: $ok passed, $bad failed"
[ "$bad" -gt 0 ] && tail -20 "$LOG/fuzz"
passed=$((passed + ok))
failed=$((failed + bad))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
