#!/usr/bin/env bash
# test_portable.sh: the distribution build (`make portable`, what `make install`
# copies; docs/portable.md) runs here and picks its kernels at run time:
#   1. `bertc info` of the portable binary names the build, the compiled kernel
#      sets (avx2 avx512), the set in use and the CPU's flags; the set is avx512
#      exactly when the CPU has x86-64-v4 (AVX-512 F/BW/DQ/VL/CD), else avx2;
#   2. BERTC_CPU=avx2 forces the AVX2 kernels and `bertc info` says so; an
#      unknown value is ignored and said so; a level above the CPU's is refused
#      with a note (it lowers, never raises);
#   3. its probabilities (all labels, the minilm2 fixture) equal the native
#      build's within 1e-5, with the kernels it picked and with BERTC_CPU=avx2;
#      tests/test_ops.c, built in the portable tree, passes (every kernel,
#      forward and backward, against the reference), also with BERTC_CPU=avx2,
#      and so does tests/test_int8.c (its AVX2 activation quantization);
#   4. objdump -d of the portable bertc and libbertc.so: every function with an
#      instruction on zmm registers, mask registers or EVEX-encoded is one of the
#      AVX-512 copies (name ending _avx512: ops_cpu.avx512.o, ops_bf16.c's
#      cvt_row_avx512), and the AVX-512 copy of the kernels does use zmm.
# On a CPU without AVX-512 the AVX-512 kernels cannot run: that case is reported
# as "SKIP (partial)", never passed silently.
# Builds build-install/ (make portable; shared with test_install: minutes the first time).
set -u
: "${BERTC_ROOT:?}" "${BERTC_FIXTURES:?}" "${BERTC:?}"
model=$BERTC_FIXTURES/forward/minilm2
[ -f "$model/model.safetensors" ] || { echo "FAIL: $model is missing (make build/fixtures/forward.stamp)"; exit 1; }
tmp=$(mktemp -d /tmp/bertc-portable-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }

if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice make -C "$BERTC_ROOT" portable >"$tmp/build.log" 2>&1; then
    echo "FAIL: make portable: $(grep -m3 -i error "$tmp/build.log")"; exit 1
fi
pbin=$BERTC_ROOT/build-install/bertc
pso=$BERTC_ROOT/build-install/libbertc.so.0.1.0
field() { # $1: json file, $2: key of "cpu"
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cpu"][sys.argv[2]])' "$1" "$2"
}

# 1. the choice, as `bertc info` shows it
"$pbin" info --model "$model" --json >"$tmp/info.json" 2>"$tmp/info.err"; rc=$?
check '[ $rc -eq 0 ]' "the portable bertc runs: bertc info $(head -c 200 "$tmp/info.err")"
flags=$(field "$tmp/info.json" cpu_flags)
if grep -q avx512f /proc/cpuinfo && grep -q avx512bw /proc/cpuinfo && grep -q avx512dq /proc/cpuinfo \
   && grep -q avx512vl /proc/cpuinfo && grep -q avx512cd /proc/cpuinfo; then
    want=avx512
else
    want=avx2
fi
check '[ "$(field "$tmp/info.json" build)" = portable ] && [ "$(field "$tmp/info.json" compiled)" = "avx2 avx512" ]' \
      "build $(field "$tmp/info.json" build), compiled kernel sets: $(field "$tmp/info.json" compiled)"
check '[ "$(field "$tmp/info.json" kernels)" = $want ]' \
      "kernels $(field "$tmp/info.json" kernels) on a CPU with: $flags (/proc/cpuinfo says $want)"
"$pbin" info --model "$model" >"$tmp/info.txt" 2>&1
check 'grep -q "^kernels *$want (portable build, compiled: avx2 avx512" "$tmp/info.txt" && grep -q "^cpu  .*avx2" "$tmp/info.txt"' \
      "bertc info's text: $(grep -E '^(cpu|kernels) ' "$tmp/info.txt" | tr '\n' '|')"
"$BERTC" info --model "$model" --json >"$tmp/native.json"
check '[ "$(field "$tmp/native.json" build)" = native ] && [ "$(field "$tmp/native.json" kernels)" = native ]' \
      "the native build says build native, kernels native"

# 2. BERTC_CPU
BERTC_CPU=avx2 "$pbin" info --model "$model" --json >"$tmp/avx2.json"
check '[ "$(field "$tmp/avx2.json" kernels)" = avx2 ] && [ "$(field "$tmp/avx2.json" level)" = avx2 ] && [ "$(field "$tmp/avx2.json" bertc_cpu)" = avx2 ]' \
      "BERTC_CPU=avx2: kernels $(field "$tmp/avx2.json" kernels), level $(field "$tmp/avx2.json" level)"
BERTC_CPU=avx2 "$pbin" info --model "$model" >"$tmp/avx2.txt"
check 'grep -q "^kernels *avx2 .*BERTC_CPU=avx2" "$tmp/avx2.txt"' "bertc info shows it: $(grep '^kernels' "$tmp/avx2.txt")"
BERTC_CPU=sse2 "$pbin" info --model "$model" --json >"$tmp/bad.json"
check '[ "$(field "$tmp/bad.json" kernels)" = $want ] && field "$tmp/bad.json" note | grep -q "BERTC_CPU=sse2 ignored"' \
      "BERTC_CPU=sse2: $(field "$tmp/bad.json" note)"
if [ $want = avx2 ]; then
    BERTC_CPU=avx512 "$pbin" info --model "$model" --json >"$tmp/up.json"
    check '[ "$(field "$tmp/up.json" kernels)" = avx2 ] && field "$tmp/up.json" note | grep -q "never raises"' \
          "BERTC_CPU=avx512 on this CPU: kernels $(field "$tmp/up.json" kernels): $(field "$tmp/up.json" note)"
fi

# 3. the same probabilities as the native build
cat >"$tmp/texts.txt" <<'EOF'
A wonderful film.
Dull and far too long, with a plot that goes nowhere.
I expected nothing and still came away disappointed; the lead is wooden, the script is lazy, and the score never stops telling you what to feel. Two hours I will not get back, although the cinematography in the final act is genuinely beautiful and the supporting cast do what they can with what they were given.
Ok.
EOF
run() { "$@" predict --model "$model" --all-scores --batch-size 3 --input "$tmp/texts.txt"; }
run "$BERTC" >"$tmp/native.jsonl" 2>"$tmp/native.err"
check '[ $? -eq 0 ]' "native predict"
close() { # $1 $2: JSONL of --all-scores; prints the largest difference, fails above 1e-5
    python3 - "$1" "$2" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) == 4, (len(a), len(b))
d = max(abs(x["score"] - y["score"]) for ra, rb in zip(a, b) for x, y in zip(ra, rb) if x["label"] == y["label"])
labels = all([x["label"] for x in ra] == [y["label"] for y in rb] for ra, rb in zip(a, b))
print("%.2g" % d)
sys.exit(0 if d <= 1e-5 and labels else 1)
PY
}
run "$pbin" >"$tmp/port.jsonl" 2>"$tmp/port.err"
d=$(close "$tmp/native.jsonl" "$tmp/port.jsonl"); rc=$?
check '[ $rc -eq 0 ]' "portable ($want kernels) = native within 1e-5 (largest difference $d)"
BERTC_CPU=avx2 run "$pbin" >"$tmp/port2.jsonl" 2>"$tmp/port2.err"
d=$(close "$tmp/native.jsonl" "$tmp/port2.jsonl"); rc=$?
check '[ $rc -eq 0 ]' "portable with BERTC_CPU=avx2 = native within 1e-5 (largest difference $d)"
# every kernel, forward and backward, against the reference (tests/test_ops.c built
# in the portable tree): with the kernels the binary picks, and forced to avx2
tops=$BERTC_ROOT/build-install/tests/test_ops
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice make -C "$BERTC_ROOT" BUILD=build-install PORTABLE=1 \
       PIC="-fPIC -fvisibility=hidden" build-install/tests/test_ops >"$tmp/ops.log" 2>&1; then
    "$tops" >"$tmp/ops.out" 2>&1; rc=$?
    check '[ $rc -eq 0 ]' "test_ops in the portable build ($want kernels): $(tail -1 "$tmp/ops.out")"
    if [ $want = avx512 ]; then
        BERTC_CPU=avx2 "$tops" >"$tmp/ops2.out" 2>&1; rc=$?
        check '[ $rc -eq 0 ]' "test_ops in the portable build with BERTC_CPU=avx2: $(tail -1 "$tmp/ops2.out")"
    fi
else
    echo "FAIL: building test_ops in the portable build: $(grep -m3 -i error "$tmp/ops.log")"; fail=1
fi
# the int8 layers in the portable build (tests/test_int8.c): ops_int8.c is compiled
# for the x86-64-v3 baseline there, so this runs its AVX2 quantization loops, which
# the native build on an AVX-512 CPU replaces with AVX-512 ones
tint8=$BERTC_ROOT/build-install/tests/test_int8
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice make -C "$BERTC_ROOT" BUILD=build-install PORTABLE=1 \
       PIC="-fPIC -fvisibility=hidden" build-install/tests/test_int8 >"$tmp/int8.log" 2>&1; then
    "$tint8" >"$tmp/int8.out" 2>&1; rc=$?
    check '[ $rc -eq 0 ]' "test_int8 in the portable build (AVX2 quantization): $(tail -1 "$tmp/int8.out")"
else
    echo "FAIL: building test_int8 in the portable build: $(grep -m3 -i error "$tmp/int8.log")"; fail=1
fi
if [ $want = avx2 ]; then
    echo "SKIP (partial): the AVX-512 kernels (ops_cpu.avx512.o) were not run: this CPU has no AVX-512 ($flags); only their build and the objdump check ran"
fi

# 4. AVX-512 instructions only in the AVX-512 copies
evex_functions() { # $1: binary; prints "function count" for each function using zmm, k registers or EVEX
    objdump -d -w "$1" | awk -F'\t' '
        /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
        NF >= 3 && $1 ~ /^ *[0-9a-f]+:$/ {
            b = $2; sub(/^ +/, "", b)
            if (b ~ /^((26|2e|36|3e|64|65|67) )*62 / || $3 ~ /zmm|%k[0-7]/) n[fn]++
        }
        END { for (f in n) print f, n[f] }' | sort
}
for bin in "$pbin" "$pso"; do
    evex_functions "$bin" >"$tmp/evex.txt"
    outside=$(awk '$1 !~ /_avx512$/ { print $1 }' "$tmp/evex.txt" | head -5 | tr '\n' ' ')
    kernels=$(awk '$1 ~ /^cpu_.*_avx512$/' "$tmp/evex.txt" | wc -l)
    check '[ -z "$outside" ]' "$(basename "$bin"): no zmm/EVEX instruction outside the *_avx512 functions ${outside:+(found in: $outside)}"
    check '[ "$kernels" -ge 10 ]' "$(basename "$bin"): $kernels cpu_*_avx512 kernels use AVX-512 instructions"
done
exit $fail
