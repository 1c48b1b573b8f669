#!/usr/bin/env bash
# demo.sh: the notebook end to end with bertc, on the embedded defaults
# (`make demo` runs it after `make deps all`):
#   1. bertc data       IMDB train, the first 1,000 after a shuffle with seed 42
#   2. bertc train      all-MiniLM-L6-v2; 1,000 train / 200 test reviews, seed 42,
#                       max length 128 padded, 3 epochs, batch 8, eval and save
#                       every epoch, log every 100 steps, best model at the end
#   3. bertc eval       the best model on the same 200 test reviews
#   4. bertc eval       the best model on all 25,000 test reviews (max length 128,
#                       batch 64): RUN_DIR/eval.json and predictions.jsonl
#   5. bertc attention  the last layer, head 0, of the first of the 200 test
#                       reviews (the full 128-token map for the report, and the
#                       notebook's 10 x 10 crop as a PNG)
#   6. bertc report     RUN_DIR/report.html
# Each stage's wall time goes to the terminal and RUN_DIR/timings.tsv.
#
# Environment: BERTC (the CLI, build/bertc), BERTC_IMDB (the archive),
# DEMO_OUT (the run directory, runs/demo; replaced), DEMO_FULL_EVAL=0 skips stage 4,
# DEMO_THREADS (CPU threads, 0 = all cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BERTC=${BERTC:-$root/build/bertc}
IMDB=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
OUT=${DEMO_OUT:-$root/runs/demo}
FULL=${DEMO_FULL_EVAL:-1}
THREADS=${DEMO_THREADS:-0}
MODEL=all-MiniLM-L6-v2

[ -x "$BERTC" ] || { echo "demo: $BERTC not built (make all)" >&2; exit 1; }
[ -f "$IMDB" ] || { echo "demo: IMDB archive not found at $IMDB (set BERTC_IMDB)" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"
printf 'stage\tseconds\n' >"$OUT/timings.tsv"
demo_start=$(date +%s.%N)
stage() { # name command...
    local name=$1; shift
    echo
    echo "=== $name: $*"
    local t0 t1
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    local s
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    printf '%s\t%.1f\n' "$name" "$s" >>"$OUT/timings.tsv"
    printf '=== %s: %.1f s\n' "$name" "$s"
}

stage data "$BERTC" data --data "$IMDB:train" --limit 1000 --seed 42 --model "$MODEL" --max-length 128 \
    --samples 3 --out "$OUT"

stage train "$BERTC" train --model "$MODEL" --train "$IMDB:train" --eval "$IMDB:test" \
    --train-limit 1000 --eval-limit 200 --seed 42 --max-length 128 --pad-to-max-length \
    --epochs 3 --batch-size 8 --eval-batch-size 8 --eval-strategy epoch --save-strategy epoch \
    --logging-steps 100 --load-best-model-at-end --threads "$THREADS" --out "$OUT"

stage eval-200 "$BERTC" eval --model "$OUT/model" --data "$IMDB:test" --limit 200 --seed 42 --max-length 128 \
    --batch-size 32 --threads "$THREADS" --output "$OUT/eval-200.json" --predictions "$OUT/predictions-200.jsonl"

if [ "$FULL" != 0 ]; then
    stage eval-25000 "$BERTC" eval --model "$OUT/model" --data "$IMDB:test" --max-length 128 --batch-size 64 \
        --threads "$THREADS" --run-dir "$OUT"
else
    # The report's evaluation section then shows the 200.
    cp "$OUT/eval-200.json" "$OUT/eval.json"
    cp "$OUT/predictions-200.jsonl" "$OUT/predictions.jsonl"
fi

stage attention "$BERTC" attention --model "$OUT/model" --data "$IMDB:test" --limit 200 --seed 42 --index 0 \
    --max-length 128 --truncate --layer -1 --head 0 --run-dir "$OUT"
"$BERTC" attention --model "$OUT/model" --data "$IMDB:test" --limit 200 --seed 42 --index 0 \
    --max-length 128 --truncate --layer -1 --head 0 --max-tokens 10 --out "$OUT/attention_10x10.png" >/dev/null 2>&1

stage report "$BERTC" report "$OUT"

total=$(awk -v a="$demo_start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
printf 'total\t%.1f\n' "$total" >>"$OUT/timings.tsv"
echo
echo "=== stage timings (seconds, $(nproc) CPUs):"
column -t -s $'\t' "$OUT/timings.tsv" 2>/dev/null || cat "$OUT/timings.tsv"
echo
echo "report: $OUT/report.html"
