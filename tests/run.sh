#!/usr/bin/env bash
# run.sh BUILD_DIR: runs every test binary BUILD_DIR/tests/test_* and every
# tests/test_*.sh script (given BERTC=BUILD_DIR/bertc), then prints the closing
# line "N passed, N failed". Exits non-zero if any test failed or none ran.
# TESTS="a b" limits the run to the named tests (without the test_ prefix).
set -u
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
export BERTC_FIXTURES=${BERTC_FIXTURES:-$root/build/fixtures}
export BERTC_TESTDATA=${BERTC_TESTDATA:-$root/tests/data}
export BERTC_IMDB=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
export BERTC=${BERTC:-$root/$build/bertc}
export BERTC_ROOT=$root
# Tests never reach the real Hub: a name missing from the cache is not downloaded
# (test_hub unsets this and points HF_ENDPOINT at its own 127.0.0.1 server).
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
passed=0; failed=0; failed_names=""
want() {
    [ -z "${TESTS:-}" ] && return 0
    local n=$1 t
    for t in $TESTS; do [ "$t" = "$n" ] && return 0; done
    return 1
}
for t in "$root/$build"/tests/test_* "$root"/tests/test_*.sh; do
    [ -e "$t" ] || continue
    case "$t" in *.c|*.o|*.d) continue ;; esac
    name=$(basename "$t"); name=${name#test_}; name=${name%.sh}
    want "$name" || continue
    echo "--- $name"
    start=$(date +%s)
    if "$t"; then
        passed=$((passed + 1)); echo "ok   $name ($(( $(date +%s) - start ))s)"
    else
        failed=$((failed + 1)); failed_names="$failed_names $name"; echo "FAIL $name ($(( $(date +%s) - start ))s)"
    fi
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
