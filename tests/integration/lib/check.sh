# check.sh: the two helpers every integration test asserts with (sourced
# by common.sh and fleet.sh, not run).

check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

# wait_for SECONDS CONDITION: until CONDITION (eval'd, its output dropped)
# holds, tried every 0.2 s for at most SECONDS; a check after it asserts
# it. A slow or loaded machine (the sanitized build, CI) outlasts a fixed
# sleep; it does not outlast this.
wait_for() {
    _wf_n=$(($1 * 5))
    while [ "$_wf_n" -gt 0 ]; do
        eval "$2" >/dev/null 2>&1 && return 0
        sleep 0.2
        _wf_n=$((_wf_n - 1))
    done
    return 1
}
