#!/usr/bin/env bash
# test_distil_cli.sh: a DistilBERT folder through every command (issue 7).
# tools/gen_distil.py's random DistilBertModel (dim 64, 2 layers, 4 heads, no
# classifier) on the train fixture's 64 reviews (pos/neg; 32 to evaluate):
#   1. bertc info names the architecture; bertc data counts the labels.
#   2. bertc train (5 epochs, max length 32): the training and eval losses fall;
#      OUT/model is a DistilBertForSequenceClassification folder.
#   3. transformers loads OUT/model and its softmax(logits) equal the
#      probabilities of `bertc predict --all-scores` within 1e-4.
#   4. bertc eval: tools/check_metrics.py recomputes accuracy, the report, the
#      confusion matrix and the loss from predictions.jsonl with scikit-learn;
#      its probabilities equal predict's for the same texts.
#   5. bertc attention (last layer head 0, and the mean of the heads): every row
#      sums to 1 and the map equals transformers' output_attentions within 1e-5,
#      with the tokenizer's tokens.
#   6. bertc report of the run directory: report.html names the model that was
#      fine-tuned (run.json) and holds the data, training, evaluation,
#      confusion-matrix and attention charts, no section missing.
#   7. Multi-label: bertc train --multi-label on the same base, bertc eval of the
#      result checked by check_metrics.py (per-label scores, averages, Hamming
#      loss, subset accuracy against scikit-learn).
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}
base=$fx/distil/base
T=$fx/train
chart="$(dirname "$BERTC")/tests/test_chart"
check="python3 $root/tools/check_metrics.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
[ -f "$base/model.safetensors" ] || { echo "FAIL $base missing (make fixtures)"; exit 1; }
[ -f "$T/train.jsonl" ] || { echo "FAIL $T missing (make fixtures)"; exit 1; }
run=$tmp/run
TEXT="A wonderful, touching film with a superb cast; the ending was brilliant."

# 1. info and data
if "$BERTC" info --model "$base" --json >"$tmp/info.json" 2>"$tmp/e" &&
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["model_type"]=="distilbert" and j["type_vocab_size"]==0 and not j["trained_classifier"], j' \
        "$tmp/info.json"; then ok "info: model_type distilbert, no token types, no classifier yet"
else bad "info: $(cat "$tmp/e" "$tmp/info.json")"; fi
if "$BERTC" data --model "$base" --data "$T/train.jsonl" --max-length 32 --out "$run" >/dev/null 2>"$tmp/e" &&
    python3 - "$run/data.json" "$T/train.jsonl" <<'PY'; then ok "data: label counts with the DistilBERT tokenizer"; else bad "data: $(cat "$tmp/e")"; fi
import collections, json, sys
d = json.load(open(sys.argv[1]))
c = collections.Counter(json.loads(l)["label"] for l in open(sys.argv[2]))
assert d["labels"] == sorted(c) and d["counts"] == [c[k] for k in d["labels"]], (d["labels"], d["counts"], c)
assert d["lengths"]["max_length"] == 32 and 0 < d["lengths"]["truncated_share"] <= 1
PY

# 2. train
if "$BERTC" train --model "$base" --train "$T/train.jsonl" --eval "$T/eval.jsonl" --max-length 32 --epochs 5 \
    --lr 3e-3 --batch-size 8 --logging-steps 8 --save-strategy no --threads 1 --no-report --overwrite --out "$run" \
    >"$tmp/train.out" 2>"$tmp/train.err"; then
    python3 - "$run" <<'PY' && ok "train: losses fall; OUT/model is a DistilBertForSequenceClassification folder" || bad "train: did not learn or wrong folder"
import json, sys
run = sys.argv[1]
log = [json.loads(l) for l in open(f"{run}/log.jsonl")]
tl = [e["loss"] for e in log if "loss" in e]
el = [e["eval_loss"] for e in log if "eval_loss" in e]
print(f"  train loss {tl[0]:.4f} -> {tl[-1]:.4f}, eval loss {el[0]:.4f} -> {el[-1]:.4f} ({len(el)} evaluations)")
assert len(el) == 5 and tl[-1] < tl[0] - 0.03 and el[-1] < el[0], (tl, el)
cfg = json.load(open(f"{run}/model/config.json"))
assert cfg["model_type"] == "distilbert" and cfg["architectures"] == ["DistilBertForSequenceClassification"], cfg
assert cfg["id2label"] == {"0": "neg", "1": "pos"}, cfg["id2label"]
PY
else bad "train failed: $(tail -3 "$tmp/train.err")"; fi
model=$run/model

# 3-5. predict, eval and attention against transformers and scikit-learn
python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["text"])' "$T/eval.jsonl" >"$tmp/texts.txt"
"$BERTC" predict --model "$model" --all-scores --batch-size 8 --threads 1 --input "$tmp/texts.txt" >"$tmp/pred.jsonl" 2>"$tmp/e" ||
    bad "predict failed: $(cat "$tmp/e")"
if "$BERTC" eval --model "$model" --data "$T/eval.jsonl" --batch-size 8 --threads 1 --run-dir "$run" >"$tmp/eval.txt" 2>"$tmp/e"; then
    if out=$($check "$run/predictions.jsonl" "$run/eval.json"); then ok "eval: $out"; else bad "eval: $out"; fi
else bad "eval failed: $(cat "$tmp/e")"; fi
"$BERTC" attention --model "$model" --text "$TEXT" --threads 1 --run-dir "$run" --out "$tmp/att.png" >/dev/null 2>"$tmp/e" &&
    "$BERTC" attention --model "$model" --text "$TEXT" --layer 0 --head mean --threads 1 --json "$tmp/att_mean.json" \
        >/dev/null 2>>"$tmp/e" || bad "attention failed: $(cat "$tmp/e")"
python3 - "$model" "$tmp/texts.txt" "$tmp/pred.jsonl" "$run" "$tmp/att_mean.json" "$TEXT" <<'PY' 2>"$tmp/py.err" && ok "predict, eval and attention equal transformers' DistilBertForSequenceClassification" || { cat "$tmp/py.err"; bad "predict/eval/attention vs transformers"; }
import json, sys
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
d, texts_p, pred_p, run, mean_p, text = sys.argv[1:7]
tok = AutoTokenizer.from_pretrained(d)
m = AutoModelForSequenceClassification.from_pretrained(d, attn_implementation="eager").eval()
assert type(m).__name__ == "DistilBertForSequenceClassification", type(m).__name__
texts = open(texts_p, encoding="utf-8").read().splitlines()
with torch.no_grad():
    probs = torch.softmax(m(**tok(texts, padding=True, truncation=True, return_tensors="pt")).logits, -1)
pred = [{o["label"]: o["score"] for o in json.loads(l)} for l in open(pred_p)]
names = [m.config.id2label[k] for k in range(probs.shape[1])]
dp = max(abs(p[n] - float(probs[i, k])) for i, p in enumerate(pred) for k, n in enumerate(names))
ev = [json.loads(l) for l in open(f"{run}/predictions.jsonl")]
ej = json.load(open(f"{run}/eval.json"))
assert ej["labels"] == names and len(ev) == len(pred) == len(texts)
de = max(abs(e["probs"][k] - p[n]) for e, p in zip(ev, pred) for k, n in enumerate(names))
print(f"  predict vs transformers: max |prob diff| {dp:.2e}; eval vs predict {de:.2e}; eval accuracy {ej['accuracy']:.4f}")
assert dp <= 1e-4 and de <= 1e-6, (dp, de)
enc = tok(text, return_tensors="pt")
with torch.no_grad():
    att = m(**enc, output_attentions=True).attentions
toks = tok.convert_ids_to_tokens(enc["input_ids"][0])
for path, layer, head in [(f"{run}/attention.json", len(att) - 1, 0), (mean_p, 0, None)]:
    a = json.load(open(path))
    ref = att[layer][0, head] if head is not None else att[layer][0].mean(0)
    w = torch.tensor(a["weights"])
    assert a["tokens"] == toks, (a["tokens"], toks)
    assert a["layer"] == layer and a["head"] == head, (a["layer"], a["head"])
    rows = float((w.sum(-1) - 1).abs().max())
    diff = float((w - ref).abs().max())
    print(f"  attention layer {layer} head {head if head is not None else 'mean'}: {len(toks)} tokens, "
          f"rows sum to 1 within {rows:.1e}, max |diff| vs transformers {diff:.1e}")
    assert rows <= 1e-5 and diff <= 1e-5, (rows, diff)
PY

# 6. report
if "$BERTC" report "$run" >"$tmp/rep.txt" 2>&1; then
    for f in label_distribution token_lengths training_loss eval_metrics confusion_matrix attention; do
        read -r w h n <<<"$("$chart" --png-stats "$run/report/$f.png" 2>&1)"
        [ "${n:-0}" -gt 20 ] && [ "${w:-0}" -ge 300 ] || bad "report/$f.png: ${w:-?}x${h:-?}, ${n:-?} colours"
    done
    python3 - "$run/report.html" "$base" <<'PY' && ok "report: names the DistilBERT model, every chart drawn" || bad "report.html"
import sys
page, model = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
assert model in page.split("</title>")[0], "the title does not name the model run.json names"
for fig in ["label_distribution", "token_lengths", "training_loss", "eval_metrics", "confusion_matrix", "attention"]:
    assert f'id="fig-{fig}"' in page, fig
assert page.count('class="missing"') == 0, "a section says its input is missing"
PY
else bad "report failed: $(cat "$tmp/rep.txt")"; fi

# 7. multi-label DistilBERT: train, then eval against scikit-learn
python3 - "$T" "$tmp" <<'PY'
import json, sys
T, out = sys.argv[1:3]
for split in ["train", "eval"]:
    with open(f"{out}/ml_{split}.jsonl", "w") as o:
        for line in open(f"{T}/{split}.jsonl"):
            r = json.loads(line); t = r["text"].lower()
            o.write(json.dumps({"text": r["text"], "label": [r["label"]] + [w for w in ("funny", "boring") if w in t]}) + "\n")
PY
if "$BERTC" train --model "$base" --train "$tmp/ml_train.jsonl" --multi-label --max-length 32 --epochs 2 --lr 3e-3 \
    --batch-size 8 --eval-strategy no --save-strategy no --threads 1 --no-report --out "$tmp/mlrun" >/dev/null 2>"$tmp/e" &&
    "$BERTC" eval --model "$tmp/mlrun/model" --data "$tmp/ml_eval.jsonl" --threads 1 --run-dir "$tmp/mlrun" >/dev/null 2>>"$tmp/e"; then
    if out=$($check "$tmp/mlrun/predictions.jsonl" "$tmp/mlrun/eval.json"); then ok "multi-label DistilBERT eval: $out"
    else bad "multi-label DistilBERT eval: $out"; fi
else bad "multi-label DistilBERT train/eval failed: $(tail -2 "$tmp/e")"; fi

echo "distil_cli test: $failed failed"
[ "$failed" -eq 0 ]
