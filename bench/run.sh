#!/usr/bin/env bash
# bench/run.sh (`make bench`): builds the C benchmark programs against
# build/libbertc.a, installs ONNX Runtime if missing, makes the bert-base-sized
# fixture, then runs bench/run.py (all cases; arguments are passed on, e.g.
# bench/run.sh --cases infer --rounds 1). Never part of CI.
# BENCH_BUILD_ONLY=DIR only compiles the C programs into DIR and stops: what
# tests/test_bench_build.sh runs, so CI notices a benchmark that no longer builds
# without timing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
CC=${CC:-gcc}
bin=${BENCH_BUILD_ONLY:-build/bench}
mkdir -p "$bin"
[ -f build/libbertc.a ] && [ -f build/obj/ops_ref.o ] || make -s build/libbertc.a build/obj/ops_ref.o
CFLAGS="-std=c11 -D_GNU_SOURCE -O3 -march=native -fopenmp -Wall -Wextra -Werror -g"
LIBS="-lopenblas -ldnnl -lutf8proc -lcjson -larchive -lmicrohttpd -lcurl -lz $(pkg-config --libs cairo 2>/dev/null) -lm"
$CC $CFLAGS bench/bench_model.c -o "$bin/bench_model" build/obj/ops_ref.o build/libbertc.a $LIBS
$CC $CFLAGS bench/peak.c -o "$bin/peak" -lopenblas -lm
$CC $CFLAGS bench/gemm_phases.c -o "$bin/gemm_phases" build/libbertc.a $LIBS
[ -n "${BENCH_BUILD_ONLY:-}" ] && exit 0
if ! $PYTHON -c "import onnxruntime, onnx" 2>/dev/null; then
    echo "bench: installing onnxruntime and onnx (for the ONNX Runtime baseline)"
    $PYTHON -m pip install -q --disable-pip-version-check onnxruntime onnx || echo "bench: no onnxruntime; ORT columns skipped"
fi
[ -d build/fixtures/forward/base3 ] || make -s fixtures
exec $PYTHON bench/run.py "$@"
