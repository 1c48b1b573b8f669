#!/usr/bin/env bash
# run.sh BUILD_DIR: runs every test binary BUILD_DIR/tests/test_* and every
# tests/test_*.sh script (given BERTC=BUILD_DIR/bertc), then prints the closing
# line "N passed, N failed, N skipped" and, when anything was skipped, one line
# naming each skipped test or case and why. Exits non-zero if any test failed or
# none passed.
# TESTS="a b" limits the run to the named tests (without the test_ prefix).
#
# Skips are reported, never silent. A test that cannot run at all here (e.g. the
# bf16 tests on a CPU without AVX512-BF16) prints "SKIP: reason" and exits 77
# (the automake convention): it counts as skipped, not passed. A test that runs
# some cases and cannot run others prints "SKIP (partial): reason" per missing
# case and exits 0: it counts as passed and its partial skips are listed too.
set -u
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
export BERTC_FIXTURES=${BERTC_FIXTURES:-$root/build/fixtures}
export BERTC_TESTDATA=${BERTC_TESTDATA:-$root/tests/data}
export BERTC_IMDB=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
export BERTC=${BERTC:-$root/$build/bertc}
export BERTC_ROOT=$root
# predict/eval/serve default to --precision auto (bf16 on AVX512-BF16 CPUs);
# the tests compare with fp32 references, so they run fp32 unless a test asks
# otherwise (test_int8_cli unsets it to check auto)
export BERTC_PRECISION=${BERTC_PRECISION:-fp32}
# Tests never reach the real Hub: a name missing from the cache is not downloaded
# (test_hub unsets this and points HF_ENDPOINT at its own 127.0.0.1 server).
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
passed=0; failed=0; skipped=0; failed_names=""; skip_notes=""
out=$(mktemp); trap 'rm -f "$out"' EXIT
want() {
    [ -z "${TESTS:-}" ] && return 0
    local n=$1 t
    for t in $TESTS; do [ "$t" = "$n" ] && return 0; done
    return 1
}
# the test's "SKIP: why" / "SKIP (partial): why" lines, joined with "; "
skip_reasons() { sed -nE 's/^SKIP( \(partial\))?: *//p' "$out" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }'; }
for t in "$root/$build"/tests/test_* "$root"/tests/test_*.sh; do
    [ -e "$t" ] || continue
    case "$t" in *.c|*.o|*.d) continue ;; esac
    name=$(basename "$t"); name=${name#test_}; name=${name%.sh}
    want "$name" || continue
    echo "--- $name"
    start=$(date +%s)
    "$t" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    took=$(( $(date +%s) - start ))
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1)); echo "ok   $name (${took}s)"
        grep -q '^SKIP (partial):' "$out" && skip_notes="$skip_notes${skip_notes:+, }$name partly ($(skip_reasons))"
    elif [ "$rc" -eq 77 ]; then
        skipped=$((skipped + 1)); echo "skip $name (${took}s)"
        why=$(skip_reasons); skip_notes="$skip_notes${skip_notes:+, }$name (${why:-no reason given})"
    else
        failed=$((failed + 1)); failed_names="$failed_names $name"; echo "FAIL $name (${took}s)"
    fi
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ -n "$skip_notes" ] && echo "skipped: $skip_notes"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
