#!/usr/bin/env bash
# test_sgemm.sh: which sgemm runs the fp32 matrix products (src/cpu_dispatch.h).
# OpenBLAS picks its kernels from the CPU's model number and falls back to its
# oldest ones for a model it does not know (seen on a cloud VM's "Intel(R) Xeon(R)
# Processor": the Prescott kernels, a quarter of PyTorch's fp32 speed); bertc then
# runs oneDNN's sgemm instead. OPENBLAS_CORETYPE=Prescott makes that fallback here:
#   1. bertc info names the sgemm and OpenBLAS's core: onednn by default on
#      AVX-512 CPUs (faster than OpenBLAS's kernels there, README) and with the
#      fallback, openblas on other AVX2 CPUs;
#      BERTC_SGEMM=openblas keeps OpenBLAS's, BERTC_SGEMM=onednn forces oneDNN's;
#   2. the probabilities with oneDNN's sgemm equal OpenBLAS's within 1e-5;
#   3. every kernel against the reference (test_ops) with BERTC_SGEMM=openblas and onednn;
#   4. the same probabilities, bit for bit, with 1 and 2 threads (oneDNN's sgemm
#      runs single-threaded in bertc's fixed blocks).
set -u
: "${BERTC:?}" "${BERTC_FIXTURES:?}"
build=$(dirname "$BERTC")
model=$BERTC_FIXTURES/forward/minilm2
[ -f "$model/model.safetensors" ] || { echo "FAIL: $model is missing (make fixtures)"; exit 1; }
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo || { echo "SKIP: no AVX2+FMA: the oneDNN fallback is for AVX2 CPUs"; exit 77; }
tmp=$(mktemp -d /tmp/bertc-sgemm-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
sgemm_of() { "$BERTC" info --model "$model" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu"]["sgemm"])'; }

s=$(unset BERTC_SGEMM; sgemm_of)
if grep -qw avx512f /proc/cpuinfo; then
    check '[[ "$s" == "onednn (AVX-512 CPU; OpenBLAS core "* || "$s" == "onednn (OpenBLAS fell back"* ]]' "default (AVX-512 CPU): $s"
else
    check '[[ "$s" == "openblas (core "* || "$s" == "onednn (OpenBLAS fell back"* ]]' "default (AVX2 CPU): $s"
fi
s=$(unset BERTC_SGEMM; OPENBLAS_CORETYPE=Prescott sgemm_of)
check '[[ "$s" == "onednn (OpenBLAS fell back to its Prescott kernels"* ]]' "OpenBLAS on Prescott kernels: $s"
s=$(BERTC_SGEMM=openblas OPENBLAS_CORETYPE=Prescott sgemm_of)
check '[[ "$s" == "openblas (BERTC_SGEMM=openblas; OpenBLAS core Prescott)" ]]' "BERTC_SGEMM=openblas: $s"
s=$(BERTC_SGEMM=onednn sgemm_of)
check '[[ "$s" == "onednn (BERTC_SGEMM=onednn;"* ]]' "BERTC_SGEMM=onednn: $s"
"$BERTC" info --model "$model" | grep -q '^sgemm ' ; check '[ $? -eq 0 ]' "bertc info prints an sgemm line"

printf 'A wonderful film.\nDull and far too long, with a plot that goes nowhere.\nOk.\nI expected nothing and still came away disappointed; the lead is wooden and the script is lazy.\n' >"$tmp/t.txt"
BERTC_SGEMM=openblas "$BERTC" predict --model "$model" --all-scores --batch-size 3 --input "$tmp/t.txt" >"$tmp/a.jsonl"
BERTC_SGEMM=onednn "$BERTC" predict --model "$model" --all-scores --batch-size 3 --input "$tmp/t.txt" >"$tmp/b.jsonl"
d=$(python3 - "$tmp/a.jsonl" "$tmp/b.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) == 4
print("%.3g" % max(abs(x["score"] - y["score"]) for p, q in zip(a, b) for x, y in zip(p, q) if x["label"] == y["label"]))
PY
)
check 'python3 -c "import sys; sys.exit(0 if float(\"$d\") <= 1e-5 else 1)"' "oneDNN's sgemm = OpenBLAS's within 1e-5 (largest difference $d)"
if [ -x "$build/tests/test_ops" ]; then
    # the default (oneDNN's) runs in tests/run.sh's test_ops; OpenBLAS's here
    BERTC_SGEMM=openblas "$build/tests/test_ops" >"$tmp/ops.out" 2>&1; rc=$?
    check '[ $rc -eq 0 ]' "test_ops with BERTC_SGEMM=openblas: $(tail -1 "$tmp/ops.out")"
    BERTC_SGEMM=onednn "$build/tests/test_ops" >"$tmp/ops.out" 2>&1; rc=$?
    check '[ $rc -eq 0 ]' "test_ops with BERTC_SGEMM=onednn: $(tail -1 "$tmp/ops.out")"
else
    echo "FAIL: $build/tests/test_ops is missing"; fail=1
fi
# 4. thread count: fixed blocks, so the same bits with 1 and 2 threads, with
# oneDNN's sgemm forced (the default only on AVX-512 CPUs) and with OpenBLAS's
# (the 4 texts give one block of rows for the classifier: OpenBLAS's either way,
# see ops_cpu.c)
for sg in onednn openblas; do
    for t in 1 2; do
        BERTC_SGEMM=$sg "$BERTC" predict --model "$model" --all-scores --batch-size 4 --threads $t --input "$tmp/t.txt" \
            >"$tmp/th$t.jsonl"
    done
    check 'cmp -s "$tmp/th1.jsonl" "$tmp/th2.jsonl" && [ -s "$tmp/th1.jsonl" ]' \
        "BERTC_SGEMM=$sg, 1 and 2 threads: the same probabilities, bit for bit"
done
exit $fail
