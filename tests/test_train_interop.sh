#!/usr/bin/env bash
# test_train_interop.sh: a folder written by `bertc train` (OUT/model and a
# checkpoint) loads in transformers with bertc's logits (within 1e-4) and labels
# (tools/check_interop.py). The other direction is test_train_interop.c.
set -u
BERTC=${BERTC:?}; F=${BERTC_FIXTURES:?}/train; ROOT=${BERTC_ROOT:?}
dump=$(dirname "$BERTC")/tests/test_train_interop
[ -x "$dump" ] || { echo "missing $dump"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BERTC" train --model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --out "$tmp/run" \
    --epochs 3 --lr 1e-3 --logging-steps 5 --threads 1 --no-report >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err"; echo "FAIL: bertc train"; exit 1; }
fail=0
for d in "$tmp/run/model" "$tmp/run/checkpoint-24"; do
    "$dump" --dump "$d" >"$tmp/logits.json" || { echo "FAIL: bertc could not run $d"; fail=1; continue; }
    python3 "$ROOT/tools/check_interop.py" "$d" "$tmp/logits.json" "$F/hf_tuned.json" 2>"$tmp/py.err" ||
        { tail -5 "$tmp/py.err"; echo "FAIL: $d"; fail=1; }
done
exit $fail
