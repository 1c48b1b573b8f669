#!/usr/bin/env bash
# demo_ner.sh: named-entity recognition on CoNLL-2003 with bertc, end to end
# (`make demo-ner` runs it after `make deps all`), the recipe of
# bench/ner_conll.sh and the README's NER table:
#   1. bertc train    --task token-classification: all-MiniLM-L6-v2 with a new
#                     token-classification head, CoNLL-2003 train (14,041
#                     sentences), 1 epoch, batch 32, lr 1e-4, max length 128,
#                     seed 42, evaluated on test at the end
#   2. bertc eval     the model on test.txt: seqeval's entity scores and report,
#                     RUN_DIR/eval.json and predictions.jsonl
#   3. bertc report   RUN_DIR/report.html: loss and F1 curves, per-type F1, the
#                     tag confusion matrix, sample sentences with their entities
#   4. bertc predict  a few sentences, entities as the pipeline gives them
# Each stage's wall time goes to RUN_DIR/timings.tsv. About 15 minutes of
# training on a 2-core machine.
# Environment: BERTC (build/bertc), BERTC_CONLL (the conll2003 folder),
# DEMO_OUT (runs/demo-ner; replaced), DEMO_THREADS (0 = all cores),
# DEMO_TRAIN_LIMIT (sentences to train on, 0 = all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BERTC=${BERTC:-$root/build/bertc}
DATA=${BERTC_CONLL:-$root/../shared/data/conll2003}
OUT=${DEMO_OUT:-$root/runs/demo-ner}
THREADS=${DEMO_THREADS:-0}
LIMIT=${DEMO_TRAIN_LIMIT:-0}
[ -x "$BERTC" ] || { echo "demo-ner: $BERTC not built (make all)" >&2; exit 1; }
for f in train.txt test.txt; do
    [ -f "$DATA/$f" ] || { echo "demo-ner: $DATA/$f not found (set BERTC_CONLL)" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT"
printf 'stage\tseconds\n' >"$OUT/timings.tsv"
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
stage train "$BERTC" train --task token-classification --model all-MiniLM-L6-v2 \
    --train "$DATA/train.txt" --eval "$DATA/test.txt" --format conll --train-limit "$LIMIT" \
    --max-length 128 --epochs 1 --batch-size 32 --eval-batch-size 64 --lr 1e-4 --seed 42 \
    --eval-strategy epoch --save-strategy no --logging-steps 50 --threads "$THREADS" --no-report \
    --out "$OUT" --overwrite
stage eval "$BERTC" eval --model "$OUT/model" --data "$DATA/test.txt" --max-length 128 --batch-size 64 \
    --threads "$THREADS" --run-dir "$OUT"
stage report "$BERTC" report "$OUT"
stage predict "$BERTC" predict --model "$OUT/model" \
    "EU rejects German call to boycott British lamb." \
    "Peter Blackburn met Angela Merkel in Berlin on Tuesday." \
    "Apple opened a new office in Zürich, says Tim Cook."
echo
cat "$OUT/timings.tsv"
echo "demo-ner: the report is $OUT/report.html"
