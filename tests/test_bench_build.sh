#!/usr/bin/env bash
# test_bench_build.sh: the C benchmark programs `make bench` compiles
# (bench/bench_model.c, peak.c, gemm_phases.c) still build against
# build/libbertc.a with -Werror. Nothing is run or timed: a benchmark that no
# longer compiles is found here rather than on the next machine lent for it.
set -u
root=${BERTC_ROOT:?}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
if ! BENCH_BUILD_ONLY="$d" "$root/bench/run.sh" >"$d/log" 2>&1; then
    tail -20 "$d/log" | sed 's/^/  /'
    echo "FAIL: bench/run.sh could not build the benchmark programs"; exit 1
fi
fail=0
for p in bench_model peak gemm_phases; do
    if [ -x "$d/$p" ]; then echo "ok: bench/$p.c builds"; else echo "FAIL: $p was not built"; fail=1; fi
done
exit $fail
