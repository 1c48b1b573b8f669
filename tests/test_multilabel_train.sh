#!/usr/bin/env bash
# test_multilabel_train.sh: `bertc train --multi-label` on a tiny multi-label
# JSONL (the train fixture's reviews with extra labels "funny"/"boring" when the
# word occurs): eval micro-F1 rises from the first to the last evaluation and the
# BCE eval loss falls; config.json says multi_label_classification; the folder
# loads in transformers with bertc's logits (tools/check_interop.py, 1e-4);
# `bertc predict` prints the labels >= --threshold with sigmoid scores equal to
# transformers'; mismatches between model and data kinds are clear errors.
set -u
BERTC=${BERTC:?}; F=${BERTC_FIXTURES:?}/train; ROOT=${BERTC_ROOT:?}
dump=$(dirname "$BERTC")/tests/test_train_interop
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
python3 - "$F" "$tmp" <<'PY' || exit 1
import json, sys
F, out = sys.argv[1:3]
for split in ["train", "eval"]:
    with open(f"{out}/{split}.jsonl", "w") as o:
        for line in open(f"{F}/{split}.jsonl"):
            r = json.loads(line); t = r["text"].lower()
            labs = [r["label"]] + [w for w in ("funny", "boring") if w in t]
            o.write(json.dumps({"text": r["text"], "label": labs}) + "\n")
PY
"$BERTC" train --model "$F/tiny" --train "$tmp/train.jsonl" --eval "$tmp/eval.jsonl" --out "$tmp/run" \
    --multi-label --epochs 8 --lr 3e-3 --logging-steps 4 --save-strategy no --threads 1 --no-report \
    >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; echo "FAIL: bertc train --multi-label"; exit 1; }
grep -q '^memory: about [0-9.]* GiB (parameters' "$tmp/err" || { echo "FAIL: no memory estimate on stderr"; fail=1; }
python3 - "$tmp/run" <<'PY' || fail=1
import json, sys
run = sys.argv[1]
ev = [json.loads(l) for l in open(f"{run}/log.jsonl") if "eval_f1" in l]
assert len(ev) == 8, f"{len(ev)} evaluations"
for e in ev:
    assert "eval_hamming_loss" in e, e
first, last = ev[0], ev[-1]
print(f"eval micro-F1 {first['eval_f1']:.4f} -> {last['eval_f1']:.4f}, BCE {first['eval_loss']:.4f} -> {last['eval_loss']:.4f}, "
      f"hamming {first['eval_hamming_loss']:.4f} -> {last['eval_hamming_loss']:.4f}")
if not (last["eval_f1"] > first["eval_f1"] + 0.1 and last["eval_loss"] < first["eval_loss"]):
    print("FAIL: multi-label training did not learn"); sys.exit(1)
cfg = json.load(open(f"{run}/model/config.json"))
if cfg.get("problem_type") != "multi_label_classification":
    print(f"FAIL: config.json problem_type {cfg.get('problem_type')}"); sys.exit(1)
run_json = json.load(open(f"{run}/run.json"))
assert run_json["settings"]["problem_type"] == "multi_label_classification"
PY
"$dump" --dump "$tmp/run/model" >"$tmp/logits.json" && python3 "$ROOT/tools/check_interop.py" "$tmp/run/model" \
    "$tmp/logits.json" "$F/hf_tuned.json" 2>/dev/null || { echo "FAIL: interop"; fail=1; }

# predict: every label >= threshold, sigmoid scores as transformers'
texts=("Funny funny great wonderful film!" "Boring awful dull waste of a movie.")
for th in 0.5 0.3; do
    "$BERTC" predict --model "$tmp/run/model" --threshold $th --threads 1 "${texts[@]}" >"$tmp/pred.$th" 2>"$tmp/perr" ||
        { cat "$tmp/perr"; echo "FAIL: predict --threshold $th"; fail=1; }
done
python3 - "$tmp/run/model" "$tmp/pred.0.5" "$tmp/pred.0.3" "${texts[@]}" <<'PY' 2>/dev/null || fail=1
import json, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
d, p5, p3, *texts = sys.argv[1:]
tok = AutoTokenizer.from_pretrained(d); m = AutoModelForSequenceClassification.from_pretrained(d).eval()
with torch.no_grad():
    probs = torch.sigmoid(m(**tok(texts, padding=True, truncation=True, return_tensors="pt")).logits)
bad = 0
for path, th in [(p5, 0.5), (p3, 0.3)]:
    rows = [json.loads(l) for l in open(path)]
    assert len(rows) == len(texts), rows
    for row, pr in zip(rows, probs):
        want = sorted([(m.config.id2label[k], float(pr[k])) for k in range(len(pr)) if pr[k] >= th], key=lambda x: -x[1])
        got = [(r["label"], r["score"]) for r in row]
        if [w[0] for w in want] != [g[0] for g in got] or any(abs(w[1] - g[1]) > 1e-5 for w, g in zip(want, got)):
            print(f"FAIL: threshold {th}: bertc {got}, transformers {want}"); bad = 1
    print(f"predict --threshold {th}: {[[r['label'] for r in row] for row in rows]}")
sys.exit(bad)
PY

# kinds must match: single-label data on a multi-label model, and the reverse
python3 -c 'import json,sys
for i, l in enumerate(open(sys.argv[1])): print(json.dumps({"text": json.loads(l)["text"], "label": ["boring", "funny", "neg", "pos"][i % 4]}))' \
    "$F/train.jsonl" >"$tmp/train4.jsonl"
if "$BERTC" train --model "$tmp/run/model" --train "$tmp/train4.jsonl" --out "$tmp/r2" --eval-strategy no \
    --threads 1 2>"$tmp/e2"; then echo "FAIL: single-label training of a multi-label model accepted"; fail=1; fi
grep -q "multi-label model" "$tmp/e2" || { cat "$tmp/e2"; echo "FAIL: message"; fail=1; }
[ -e "$tmp/r2" ] && { echo "FAIL: $tmp/r2 written on error"; fail=1; }
python3 -c 'import json,sys
for l in open(sys.argv[1]): r = json.loads(l); print(json.dumps({"text": r["text"], "label": [r["label"]]}))' \
    "$F/train.jsonl" >"$tmp/train2.jsonl"
if "$BERTC" train --model "$F/hf_tuned" --train "$tmp/train2.jsonl" --out "$tmp/r3" --multi-label --eval-strategy no \
    --threads 1 2>"$tmp/e3"; then echo "FAIL: multi-label training of a single-label classifier accepted"; fail=1; fi
grep -q "single-label classifier" "$tmp/e3" || { cat "$tmp/e3"; echo "FAIL: message"; fail=1; }
if "$BERTC" train --model "$F/tiny" --train "$tmp/train.jsonl" --out "$tmp/r4" --eval-strategy no \
    --threads 1 2>"$tmp/e4"; then echo "FAIL: list labels without --multi-label accepted"; fail=1; fi
grep -q "multi-label" "$tmp/e4" || { cat "$tmp/e4"; echo "FAIL: message"; fail=1; }
# bad flags: exit 2, one line naming the flag, nothing written
while read -r flag args; do
    "$BERTC" train --model "$F/tiny" --train "$tmp/train.jsonl" --out "$tmp/r5" --eval-strategy no $args 2>"$tmp/e5"
    rc=$?
    if [ $rc != 2 ] || [ "$(wc -l <"$tmp/e5")" != 1 ] || ! grep -q -- "$flag" "$tmp/e5" || [ -e "$tmp/r5" ]; then
        cat "$tmp/e5"; echo "FAIL: '$args' gave rc $rc"; fail=1
    fi
done <<'CASES'
--threshold --threshold 0.3
--label-separator --label-separator ,
--threshold --multi-label --threshold 2
--class-weights --multi-label --class-weights auto
CASES
[ $fail = 0 ] && echo "ok: multi-label training, interop, predict --threshold, kind errors"
exit $fail
