#!/usr/bin/env bash
# test_eval.sh: `bertc eval` scored against scikit-learn on its own predictions.
#   1. Binary: the MiniLM 2-label fixture (unnamed labels LABEL_0/1, so IMDB's
#      neg/pos are matched by position, with a note) on 100 IMDB test reviews
#      (seeded shuffle 42): tools/check_metrics.py checks accuracy, P/R/F1/support,
#      macro/weighted averages, confusion matrix, report text and loss.
#   2. 4-class: tools/gen_eval.py's tiny4 model (named labels World, Sports,
#      Business, Sci/Tech) on 60 JSONL texts whose label names sort differently
#      (mapping by name), with --digits 4; the same texts with integer labels give
#      the same confusion matrix; batch sizes 1 and 7 give the same counts.
#   3. Errors: empty data, a missing file, a model without a trained classifier,
#      a label the model does not have, unnamed labels of another count, --limit -1,
#      a bad --batch-size: one line, a non-zero exit, no eval.json written.
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}
imdb=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
check="python3 $root/tools/check_metrics.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

minilm2=$fx/forward/minilm2
[ -f "$minilm2/model.safetensors" ] || minilm2=$fx/attention/minilm2
[ -f "$minilm2/model.safetensors" ] || { echo "FAIL no MiniLM fixture (make fixtures)"; exit 1; }
[ -d "$fx/eval/tiny4" ] || { echo "FAIL $fx/eval missing (make fixtures)"; exit 1; }

# 1. Binary, IMDB.
if "$BERTC" eval --model "$minilm2" --data "$imdb:test" --limit 100 --seed 42 --max-length 64 --batch-size 16 \
    --run-dir "$tmp/bin" >"$tmp/bin.txt" 2>"$tmp/bin.err"; then
    if out=$($check "$tmp/bin/predictions.jsonl" "$tmp/bin/eval.json"); then ok "binary: $out"; else bad "binary: $out"; fi
    grep -q "matched the data's by position: neg = LABEL_0, pos = LABEL_1" "$tmp/bin.err" \
        && ok "binary: unnamed labels matched by position, with a note" || bad "binary: no position note: $(cat "$tmp/bin.err")"
    python3 - "$tmp/bin/eval.json" "$tmp/bin.txt" <<'PY' && ok "binary: terminal shows accuracy, loss and the report" || bad "binary: terminal text"
import json, sys
ev = json.load(open(sys.argv[1])); out = open(sys.argv[2]).read()
assert ev["labels"] == ["neg", "pos"] and ev["label_mapping"] == "position" and ev["n"] == 100
assert f"Test Accuracy: {ev['accuracy']:.4f}" in out and f"Eval Loss:     {ev['loss']:.4f}" in out
assert ev["report_text"] in out
PY
else
    bad "binary eval failed: $(tail -2 "$tmp/bin.err")"
fi

# 2. 4-class, names and integer labels, batch sizes.
run4() { # dir data extra-args...
    local d=$1 data=$2; shift 2
    "$BERTC" eval --model "$fx/eval/tiny4" --data "$data" --digits 4 --output "$tmp/$d.json" \
        --predictions "$tmp/$d.jsonl" "$@" >"$tmp/$d.txt" 2>&1
}
if run4 n4 "$fx/eval/news4.jsonl" --batch-size 8; then
    if out=$($check "$tmp/n4.jsonl" "$tmp/n4.json" 4); then ok "4-class: $out"; else bad "4-class: $out"; fi
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); assert e["labels"]==["World","Sports","Business","Sci/Tech"] and e["label_mapping"]=="name", e["labels"]' \
        "$tmp/n4.json" && ok "4-class: labels in the model's order, matched by name" || bad "4-class: label order"
else bad "4-class eval failed: $(tail -2 "$tmp/n4.txt")"; fi
if run4 ids "$fx/eval/news4_ids.jsonl" --batch-size 60 && run4 b1 "$fx/eval/news4.jsonl" --batch-size 1 &&
    run4 b7 "$fx/eval/news4.jsonl" --batch-size 7; then
    python3 - "$tmp/n4.json" "$tmp/ids.json" "$tmp/b1.json" "$tmp/b7.json" <<'PY' && ok "4-class: integer labels and batch sizes 1/7/8/60 give the same counts" || bad "4-class: results differ across label form or batch size"
import json, sys
e = [json.load(open(p)) for p in sys.argv[1:]]
for x in e[1:]:
    assert x["confusion_matrix"] == e[0]["confusion_matrix"], (x["confusion_matrix"], e[0]["confusion_matrix"])
    assert x["report_text"] == e[0]["report_text"]
    assert abs(x["loss"] - e[0]["loss"]) < 1e-5, (x["loss"], e[0]["loss"])
PY
else bad "4-class reruns failed: $(tail -2 "$tmp/b7.txt")"; fi

# 3. Errors.
check_error() { # name expected-message args...
    local name=$1 want=$2; shift 2
    rm -rf "$tmp/err"
    "$BERTC" eval --run-dir "$tmp/err" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
    local code=$?
    if [ "$code" -ne 0 ] && [ "$code" -lt 128 ] && grep -q -- "$want" "$tmp/err.txt" && [ "$(wc -l <"$tmp/err.txt")" -eq 1 ] \
        && [ ! -e "$tmp/err/eval.json" ]; then ok "$name: exit $code: $(cat "$tmp/err.txt")"
    else bad "$name: exit $code, stderr: $(cat "$tmp/err.txt") (want '$want')"; fi
}
check_error "empty data" "empty.jsonl.*no examples" --model "$fx/eval/tiny4" --data "$fx/eval/empty.jsonl"
check_error "missing file" "nope.jsonl" --model "$fx/eval/tiny4" --data "$tmp/nope.jsonl"
mkdir -p "$tmp/headless"
python3 - "$fx/eval/tiny4" "$tmp/headless" <<'PY'
import json, shutil, sys
from safetensors.numpy import load_file, save_file
src, dst = sys.argv[1:3]
t = {k: v for k, v in load_file(f"{src}/model.safetensors").items() if not k.startswith("classifier.")}
save_file(t, f"{dst}/model.safetensors")
cfg = json.load(open(f"{src}/config.json"))
for k in ("id2label", "label2id", "architectures"):
    cfg.pop(k, None)
json.dump(cfg, open(f"{dst}/config.json", "w"))
for f in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
    shutil.copy(f"{src}/{f}", f"{dst}/{f}")
PY
check_error "model without a classifier" "has no trained classifier" --model "$tmp/headless" --data "$fx/eval/news4.jsonl"
check_error "label not in the model" 'news4_bad.jsonl:3: label "Weather" is not one of the 4' --model "$fx/eval/tiny4" \
    --data "$fx/eval/news4_bad.jsonl"
check_error "unnamed labels, other count" "matched by position only when the counts are equal" --model "$minilm2" \
    --data "$fx/eval/news4.jsonl"
check_error "--limit -1" "--limit: expected an integer in 0.." --model "$fx/eval/tiny4" --data "$fx/eval/news4.jsonl" --limit -1
check_error "--batch-size 0" "--batch-size: expected an integer" --model "$fx/eval/tiny4" --data "$fx/eval/news4.jsonl" \
    --batch-size 0
check_error "no --data" "--data is required" --model "$fx/eval/tiny4"

echo "eval test: $failed failed"
[ "$failed" -eq 0 ]
