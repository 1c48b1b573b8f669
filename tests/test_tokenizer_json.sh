#!/usr/bin/env bash
# test_tokenizer_json.sh: the CLI on tokenizer.json-only folders (transformers 5.x
# save_pretrained: tokenizer.json + tokenizer_config.json, no vocab.txt), made by
# tools/gen_tokenizer_json.py.
#   1. `bertc tokenize --model FOLDER TEXT` gives transformers' ids (AutoTokenizer
#      on the same folders, recorded below) for the uncased, cased and
#      accent-keeping folders.
#   2. `bertc info --model FOLDER` (the whole model) works, says tokenizer.json.
#   3. `bertc predict` runs on the folder (a new head: only that it runs).
#   4. A BPE tokenizer.json: exit 1 and one line on stderr naming model.type.
#   5. `bertc train` (2 steps) from the folder saves a model with tokenizer.json
#      and a vocab.txt equal to the original model's; the saved model tokenizes
#      to the same ids; `--resume latest` (checkpoint -> --model vocabulary
#      comparison) succeeds.
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}/tokenizer_json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

[ -f "$fx/uncased/tokenizer.json" ] || { echo "FAIL $fx missing (make build/fixtures/tokenizer_json.stamp)"; exit 1; }
[ ! -e "$fx/uncased/vocab.txt" ] || bad "$fx/uncased/vocab.txt exists: the folder must be tokenizer.json-only"

# 1. transformers 5.24 AutoTokenizer(folder)("Héllo WORLD, [SEP] naïve")["input_ids"]
text="Héllo WORLD, [SEP] naïve"
declare -A want=(
    [uncased]="[101,7592,2088,1010,102,15743,102]"
    [cased]="[101,100,100,1010,102,100,102]"
    [accents]="[101,100,2088,1010,102,100,102]"
)
for name in uncased cased accents; do
    if ! out=$("$BERTC" tokenize --model "$fx/$name" "$text" 2>"$tmp/err"); then
        bad "tokenize $name: exit non-zero: $(head -2 "$tmp/err")"; continue
    fi
    ids=$(printf '%s' "$out" | sed -n 's/.*"input_ids":\(\[[0-9,]*\]\).*/\1/p')
    if [ "$ids" = "${want[$name]}" ]; then ok "tokenize --model $name: $ids (transformers' ids)"
    else bad "tokenize --model $name: $ids, transformers ${want[$name]}"; fi
done

# 2. info on the whole model folder
if out=$("$BERTC" info --model "$fx/uncased" 2>"$tmp/err"); then
    if printf '%s' "$out" | grep -q "vocabulary *30522 tokens" && printf '%s' "$out" | grep -q "(tokenizer.json)"; then
        ok "info --model uncased: 30522 tokens, read from tokenizer.json"
    else bad "info: unexpected output: $out"; fi
else bad "info --model uncased: exit non-zero: $(head -2 "$tmp/err")"; fi

# 3. predict runs (the folder has no classifier: a seeded new head)
if out=$("$BERTC" predict --model "$fx/uncased" --threads 1 "a fine film" 2>"$tmp/err"); then
    ok "predict --model uncased runs: $(printf '%s' "$out" | head -1 | cut -c1-80)"
else bad "predict --model uncased: exit non-zero: $(head -2 "$tmp/err")"; fi

# 4. a tokenizer.json bertc does not implement: one line naming the field
"$BERTC" tokenize --model "$fx/bad/bpe" "x" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'model.type is "BPE"' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    ok "BPE tokenizer.json refused: $(cat "$tmp/err")"
else bad "BPE tokenizer.json: rc $rc, stderr: $(cat "$tmp/err")"; fi

# 5. train, save, resume
model_dir=${BERTC_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/bertc/models/all-MiniLM-L6-v2}
for i in 1 2 3 4 5 6 7 8; do
    echo "{\"text\": \"review number $i is good\", \"label\": \"pos\"}"
    echo "{\"text\": \"review $i was bad\", \"label\": \"neg\"}"
done >"$tmp/train.jsonl"
targs=(--model "$fx/uncased" --train "$tmp/train.jsonl" --max-steps 2 --batch-size 8 --max-length 32
       --eval-strategy no --threads 2 --no-report --seed 1 --out "$tmp/run")
if "$BERTC" train "${targs[@]}" >"$tmp/tlog" 2>&1; then
    m="$tmp/run/model"
    if [ -f "$m/tokenizer.json" ] && [ -f "$m/vocab.txt" ] && { [ ! -f "$model_dir/vocab.txt" ] || cmp -s "$m/vocab.txt" "$model_dir/vocab.txt"; }; then
        ok "train: saved model has tokenizer.json and the original vocab.txt"
    else bad "train: saved model lacks tokenizer.json or its vocab.txt differs"; fi
    ids=$("$BERTC" tokenize --model "$m" "$text" 2>&1 | sed -n 's/.*"input_ids":\(\[[0-9,]*\]\).*/\1/p')
    [ "$ids" = "${want[uncased]}" ] && ok "saved model tokenizes to transformers' ids" || bad "saved model: $ids"
    if "$BERTC" train "${targs[@]}" --resume latest >"$tmp/tlog2" 2>&1 && grep -q "resuming from" "$tmp/tlog2"; then
        ok "train --resume latest from a tokenizer.json-only --model"
    else bad "resume: $(tail -2 "$tmp/tlog2")"; fi
else bad "train: $(tail -2 "$tmp/tlog")"; fi

[ $failed -eq 0 ] && echo "test_tokenizer_json.sh: all checks passed" || echo "test_tokenizer_json.sh: $failed failed"
exit $((failed > 0))
