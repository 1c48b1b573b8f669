#!/usr/bin/env bash
# bench/sgemm_fallback.sh: what OpenBLAS's fallback to its pre-AVX2 kernels costs
# and what running oneDNN's sgemm instead (src/cpu_dispatch.h) gives back, in one
# run: bertc fp32 inference (bench_model, all-MiniLM-L6-v2, B=32, T=128 padded,
# 2 threads), interleaved ROUNDS times, best of each:
#   openblas           OpenBLAS's own choice for this CPU
#   fallback-openblas  OPENBLAS_CORETYPE=Prescott BERTC_SGEMM=openblas: what a CPU
#                      OpenBLAS does not recognise ran before (a cloud VM's Xeon)
#   fallback-auto      OPENBLAS_CORETYPE=Prescott: bertc notices and uses oneDNN's
#   onednn             BERTC_SGEMM=onednn on this CPU
# Writes bench/results/sgemm_fallback.json. Never part of CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=$root/build/bench/bench_model
[ -x "$B" ] || { mkdir -p "$root/build/bench"; make -C "$root" -s build/libbertc.a build/obj/ops_ref.o
  gcc -std=c11 -D_GNU_SOURCE -I"$root/src" -O3 -march=native -fopenmp "$root/bench/bench_model.c" -o "$B" \
      "$root/build/obj/ops_ref.o" "$root/build/libbertc.a" -lopenblas -ldnnl -lutf8proc -lcjson -larchive \
      -lmicrohttpd -lcurl -lz $(pkg-config --libs cairo) -lwordnet $(pkg-config --libs ompi 2>/dev/null || echo -lmpi) -lm; }
MODEL=${MODEL:-$HOME/.cache/bertc/models/all-MiniLM-L6-v2}
ROUNDS=${ROUNDS:-2}
out=${OUT_JSON:-$root/bench/results/sgemm_fallback.json}
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
for r in $(seq "$ROUNDS"); do
  for cfg in "openblas:" "fallback-openblas:OPENBLAS_CORETYPE=Prescott BERTC_SGEMM=openblas" \
             "fallback-auto:OPENBLAS_CORETYPE=Prescott" "onednn:BERTC_SGEMM=onednn"; do
    name=${cfg%%:*}; envs=${cfg#*:}
    s=$(env -u BERTC_SGEMM $envs "$B" --model "$MODEL" --mode infer --batch 32 --length 128 --steps 2 --warmup 1 \
          --threads 2 --pad-to-max 2>/dev/null | tail -1)
    echo "$name $s" >>"$tmp"; echo "$name $(echo "$s" | cut -c1-80)"
  done
done
python3 - "$tmp" "$out" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" "$(cat /proc/loadavg)" <<'PY'
import json, sys
best = {}
for line in open(sys.argv[1]):
    name, js = line.split(" ", 1)
    v = json.loads(js)["samples_per_s"]
    best[name] = max(best.get(name, 0), v)
r = {"what": "bertc fp32 inference, all-MiniLM-L6-v2, B=32 T=128, 2 threads, seq/s (best of rounds)",
     "cpu": sys.argv[3], "loadavg_end": sys.argv[4], "seq_per_s": best,
     "fallback_cost": round(best["fallback-openblas"] / best["openblas"], 3),
     "fallback_auto_vs_fallback": round(best["fallback-auto"] / best["fallback-openblas"], 2),
     "onednn_vs_openblas": round(best["onednn"] / best["openblas"], 3)}
json.dump(r, open(sys.argv[2], "w"), indent=1)
print(json.dumps(r, indent=1))
PY
