#!/usr/bin/env bash
# test_eval_ml.sh: `bertc eval` of multi-label models and of long texts (issue 7).
#   1. Multi-label: tools/gen_evalml.py's tiny5 (5 named labels, problem_type
#      multi_label_classification) on 48 JSONL texts with label lists, max length
#      32, batch 7. tools/check_metrics.py recomputes from the predictions.jsonl
#      bertc wrote (labels whose probability >= the threshold) every per-label
#      precision/recall/F1/support, the micro/macro/weighted/samples averages,
#      Hamming loss, subset accuracy, the classification_report text (byte for
#      byte) and the BCE loss with scikit-learn; the probabilities equal
#      transformers' sigmoid(logits) (ref.json) within 1e-4; the true label lists
#      are the data file's; the terminal shows the same numbers.
#   2. The same rows as CSV with --label-separator '|' give the same numbers;
#      --threshold 0.3 is what the predictions use; --limit keeps N examples.
#   3. --long-text chunks (max length 16, stride 4, mean and max pooling): the
#      probabilities equal transformers' sigmoid of the pooled window logits
#      (1e-4) and `bertc predict --long-text chunks` on the same texts with the
#      same batch size (1e-6: windows are batched alike).
#      Single-label (eval/tiny4): chunks probabilities equal predict's, and the
#      accuracy, report and loss equal scikit-learn's from the file;
#      --long-text head+tail equals --truncation head+tail and differs from head.
#   4. `bertc report` of the multi-label run: a per-label F1 chart, no confusion
#      matrix (a stale one is removed), the per-label table and the averages as
#      eval.json has them, predictions counted right only when the sets match.
#   5. Bad flags and data: one line naming the flag or file, a non-zero exit
#      (2 for flags, 1 for data), no run directory written.
#   6. check_metrics.py fails on a tampered predictions file (the check can fail).
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}
F=$fx/evalml
chart="$(dirname "$BERTC")/tests/test_chart"
check="python3 $root/tools/check_metrics.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
[ -f "$F/tiny5/model.safetensors" ] || { echo "FAIL $F missing (make fixtures)"; exit 1; }
[ -d "$fx/eval/tiny4" ] || { echo "FAIL $fx/eval missing (make fixtures)"; exit 1; }
ev() { "$BERTC" eval --threads 1 --quiet "$@"; }

# The texts alone, one per line, for bertc predict.
python3 - "$F/reviews.jsonl" "$fx/eval/news4.jsonl" "$tmp" <<'PY' || exit 1
import json, sys
for src, dst in [(sys.argv[1], "ml_texts.txt"), (sys.argv[2], "news_texts.txt")]:
    with open(f"{sys.argv[3]}/{dst}", "w", encoding="utf-8") as f:
        for line in open(src, encoding="utf-8"):
            f.write(json.loads(line)["text"] + "\n")
PY

# 1. Multi-label, truncated at 32 tokens.
if ev --model "$F/tiny5" --data "$F/reviews.jsonl" --max-length 32 --batch-size 7 --run-dir "$tmp/ml" \
    >"$tmp/ml.txt" 2>"$tmp/ml.err"; then
    if out=$($check "$tmp/ml/predictions.jsonl" "$tmp/ml/eval.json"); then ok "multi-label: $out"; else bad "multi-label: $out"; fi
    python3 - "$tmp/ml" "$F" "$tmp/ml.txt" trunc32 <<'PY' && ok "multi-label: probabilities equal transformers' sigmoid(logits), true labels the file's, eval.json and terminal agree" || bad "multi-label: probabilities, labels or summary"
import json, sys
run, F, txt, key = sys.argv[1:5]
ref = json.load(open(f"{F}/ref.json"))
rows = [json.loads(l) for l in open(f"{run}/predictions.jsonl", encoding="utf-8")]
data = [json.loads(l) for l in open(f"{F}/reviews.jsonl", encoding="utf-8")]
ev = json.load(open(f"{run}/eval.json"))
assert len(rows) == len(data) == len(ref[key]) == 48, (len(rows), len(data))
worst = max(abs(a - b) for r, w in zip(rows, ref[key]) for a, b in zip(r["probs"], w))
print(f"  max |prob - transformers| {worst:.2e} over {len(rows)} x 5")
assert worst <= 1e-4, worst
for r, d in zip(rows, data):
    want = d["label"] if isinstance(d["label"], list) else [d["label"]]
    assert r["text"] == d["text"] and sorted(r["label"]) == sorted(want), (r["label"], want)
assert ev["labels"] == ["pos", "neg", "strong", "funny", "long"] and ev["label_mapping"] == "name"
assert ev["problem_type"] == "multi_label_classification" and ev["threshold"] == 0.5 and ev["long_text"] == "truncate"
assert ev["max_length"] == 32 and ev["model"].endswith("tiny5") and ev["data"].endswith("reviews.jsonl")
assert ev["seconds"] > 0 and ev["n"] == 48 and "accuracy" not in ev and "confusion_matrix" not in ev
out = open(txt, encoding="utf-8").read()
assert f"Subset Accuracy: {ev['subset_accuracy']:.4f}" in out and f"Hamming Loss:    {ev['hamming_loss']:.4f}" in out, out
assert f"Eval Loss:       {ev['loss']:.4f}" in out and ev["report_text"] in out and "samples avg" in ev["report_text"]
assert 0 < ev["subset_accuracy"] < 1 and 0 < ev["micro_avg"]["f1"] < 1, "degenerate fixture"
PY
else bad "multi-label eval failed: $(tail -2 "$tmp/ml.err")"; fi

# 2. CSV with a label separator; another threshold; --limit.
if ev --model "$F/tiny5" --data "$F/reviews.csv" --label-separator '|' --max-length 32 --batch-size 48 \
    --output "$tmp/csv.json" --predictions "$tmp/csv.jsonl" >/dev/null 2>"$tmp/csv.err"; then
    python3 - "$tmp/ml/eval.json" "$tmp/csv.json" "$tmp/ml/predictions.jsonl" "$tmp/csv.jsonl" <<'PY' && ok "CSV with --label-separator '|' (batch 48) gives the JSONL run's numbers" || bad "CSV run differs"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ["n", "subset_accuracy", "hamming_loss", "per_label", "micro_avg", "macro_avg", "weighted_avg", "samples_avg", "report_text"]:
    assert a[k] == b[k], (k, a[k], b[k])
assert abs(a["loss"] - b["loss"]) < 1e-6
ra = [json.loads(l) for l in open(sys.argv[3])]; rb = [json.loads(l) for l in open(sys.argv[4])]
assert [r["label"] for r in ra] == [r["label"] for r in rb]
# batches of 7 and 48 pad to other lengths: float32 sums in another order
assert max(abs(x - y) for p, q in zip(ra, rb) for x, y in zip(p["probs"], q["probs"])) < 2e-5
PY
else bad "CSV eval failed: $(tail -2 "$tmp/csv.err")"; fi
if ev --model "$F/tiny5" --data "$F/reviews.jsonl" --max-length 32 --threshold 0.3 --digits 4 --run-dir "$tmp/t3" \
    >/dev/null 2>"$tmp/t3.err"; then
    if out=$($check "$tmp/t3/predictions.jsonl" "$tmp/t3/eval.json" 4); then ok "--threshold 0.3 --digits 4: $out"; else bad "--threshold 0.3: $out"; fi
    python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:3]); assert b["threshold"]==0.3 and b["micro_avg"]["recall"]>a["micro_avg"]["recall"], (a["micro_avg"], b["micro_avg"])' \
        "$tmp/ml/eval.json" "$tmp/t3/eval.json" && ok "--threshold 0.3 predicts more labels (micro recall up)" || bad "--threshold 0.3 not applied"
else bad "--threshold 0.3 eval failed: $(tail -2 "$tmp/t3.err")"; fi
if ev --model "$F/tiny5" --data "$F/reviews.jsonl" --max-length 32 --limit 20 --seed 3 --run-dir "$tmp/lim" \
    >"$tmp/lim.txt" 2>&1 && out=$($check "$tmp/lim/predictions.jsonl" "$tmp/lim/eval.json") &&
    [ "$(wc -l <"$tmp/lim/predictions.jsonl")" -eq 20 ] && grep -q "the first 20 of 48" "$tmp/lim.txt"; then
    ok "--limit 20: $out"
else bad "--limit 20: ${out:-} $(tail -2 "$tmp/lim.txt")"; fi

# 3. Long texts.
for pool in mean max; do
    if ev --model "$F/tiny5" --data "$F/reviews.jsonl" --long-text chunks --max-length 16 --stride 4 --pool $pool \
        --batch-size 5 --run-dir "$tmp/ch_$pool" >/dev/null 2>"$tmp/ch.err" &&
        "$BERTC" predict --model "$F/tiny5" --long-text chunks --max-length 16 --stride 4 --pool $pool --all-scores \
            --batch-size 5 --threads 1 --input "$tmp/ml_texts.txt" >"$tmp/pred_$pool.jsonl" 2>>"$tmp/ch.err"; then
        if out=$($check "$tmp/ch_$pool/predictions.jsonl" "$tmp/ch_$pool/eval.json"); then ok "multi-label chunks ($pool): $out"
        else bad "multi-label chunks ($pool): $out"; fi
        python3 - "$tmp/ch_$pool" "$tmp/pred_$pool.jsonl" "$F/ref.json" "chunks16_$pool" <<'PY' && ok "multi-label chunks ($pool): probabilities equal transformers' pooled windows and bertc predict's" || bad "multi-label chunks ($pool): probabilities"
import json, sys
run, pred, refp, key = sys.argv[1:5]
ref = json.load(open(refp))
ev = json.load(open(f"{run}/eval.json"))
rows = [json.loads(l) for l in open(f"{run}/predictions.jsonl")]
preds = [{d["label"]: d["score"] for d in json.loads(l)} for l in open(pred)]
names = ev["labels"]
assert len(rows) == len(preds) == len(ref[key]) == 48
assert max(ref["windows16"]) > 3, "the texts should need several windows"
dt = max(abs(a - b) for r, w in zip(rows, ref[key]) for a, b in zip(r["probs"], w))
dp = max(abs(r["probs"][k] - p[n]) for r, p in zip(rows, preds) for k, n in enumerate(names))
print(f"  max |prob diff|: transformers {dt:.2e}, bertc predict {dp:.2e}")
assert dt <= 1e-4 and dp <= 1e-6, (dt, dp)
assert ev["long_text"] == "chunks" and ev["stride"] == 4 and ev["pool"] == key.split("_")[1] and ev["max_length"] == 16
PY
    else bad "multi-label chunks ($pool) failed: $(tail -2 "$tmp/ch.err")"; fi
done
# single-label chunks against predict; accuracy and loss from the file
if ev --model "$fx/eval/tiny4" --data "$fx/eval/news4.jsonl" --long-text chunks --max-length 16 --stride 4 \
    --batch-size 8 --run-dir "$tmp/sl" >"$tmp/sl.txt" 2>"$tmp/sl.err" &&
    "$BERTC" predict --model "$fx/eval/tiny4" --long-text chunks --max-length 16 --stride 4 --all-scores --threads 1 \
        --batch-size 8 --input "$tmp/news_texts.txt" >"$tmp/sl_pred.jsonl" 2>>"$tmp/sl.err"; then
    if out=$($check "$tmp/sl/predictions.jsonl" "$tmp/sl/eval.json"); then ok "single-label chunks: $out"; else bad "single-label chunks: $out"; fi
    python3 - "$tmp/sl" "$tmp/sl_pred.jsonl" "$tmp/sl.txt" <<'PY' && ok "single-label chunks: probabilities equal bertc predict --long-text chunks" || bad "single-label chunks vs predict"
import json, sys
run, pred, txt = sys.argv[1:4]
ev = json.load(open(f"{run}/eval.json"))
rows = [json.loads(l) for l in open(f"{run}/predictions.jsonl")]
preds = [{d["label"]: d["score"] for d in json.loads(l)} for l in open(pred)]
assert len(rows) == len(preds) == ev["n"] == 60
d = max(abs(r["probs"][k] - p[n]) for r, p in zip(rows, preds) for k, n in enumerate(ev["labels"]))
print(f"  max |prob diff| vs predict {d:.2e}")
assert d <= 1e-6 and ev["long_text"] == "chunks" and ev["problem_type"] == "single_label_classification"
assert "long text chunks: windows of 16 tokens sharing 4" in open(txt).read()
PY
else bad "single-label chunks failed: $(tail -2 "$tmp/sl.err")"; fi
ev --model "$fx/eval/tiny4" --data "$fx/eval/news4.jsonl" --max-length 16 --long-text head+tail --run-dir "$tmp/ht1" >/dev/null 2>&1 &&
    ev --model "$fx/eval/tiny4" --data "$fx/eval/news4.jsonl" --max-length 16 --truncation head+tail --run-dir "$tmp/ht2" >/dev/null 2>&1 &&
    ev --model "$fx/eval/tiny4" --data "$fx/eval/news4.jsonl" --max-length 16 --run-dir "$tmp/head" >/dev/null 2>&1
python3 - "$tmp/ht1" "$tmp/ht2" "$tmp/head" <<'PY' && ok "--long-text head+tail equals --truncation head+tail, differs from head" || bad "--long-text head+tail"
import json, sys
a, b, h = ([json.loads(l)["probs"] for l in open(f"{d}/predictions.jsonl")] for d in sys.argv[1:4])
ea = json.load(open(f"{sys.argv[1]}/eval.json"))
assert a == b and ea["long_text"] == "head+tail"
assert max(abs(x - y) for p, q in zip(a, h) for x, y in zip(p, q)) > 1e-4, "head+tail changed nothing"
PY

# 4. The report of the multi-label run.
cp -r "$tmp/ml" "$tmp/rep"
mkdir -p "$tmp/rep/report" && cp "$tmp/rep/eval.json" "$tmp/rep/report/confusion_matrix.png"   # a stale chart
if "$BERTC" report "$tmp/rep" >"$tmp/rep.txt" 2>&1; then
    read -r w h n <<<"$("$chart" --png-stats "$tmp/rep/report/per_label_f1.png" 2>&1)"
    [ "${n:-0}" -gt 20 ] && [ "${w:-0}" -ge 300 ] && ok "report: per_label_f1.png ${w}x${h}, $n colours" || bad "report: per_label_f1.png ${w:-?}x${h:-?}"
    [ ! -e "$tmp/rep/report/confusion_matrix.png" ] && ok "report: no confusion matrix (the stale one removed)" || bad "report: confusion_matrix.png left"
    python3 - "$tmp/rep/report.html" "$tmp/rep/eval.json" <<'PY' && ok "report: per-label table, averages, subset accuracy and predictions as eval.json has them" || bad "report: multi-label sections"
import json, re, sys
from html.parser import HTMLParser
page, ev = open(sys.argv[1], encoding="utf-8").read(), json.load(open(sys.argv[2]))
class T(HTMLParser):
    def __init__(s):
        super().__init__(); s.rows, s.on, s.row = [], False, None
    def handle_starttag(s, tag, a):
        if tag == "table": s.on = dict(a).get("id") == "classification-report"
        elif tag == "tr" and s.on: s.row = []
        elif tag in ("td", "th") and s.row is not None: s.row.append("")
    def handle_endtag(s, tag):
        if tag == "tr" and s.row is not None: s.rows.append(s.row); s.row = None
        elif tag == "table": s.on = False
    def handle_data(s, d):
        if s.row: s.row[-1] += d
t = T(); t.feed(page)
rows = {r[0]: r[1:] for r in t.rows if r and r[0]}
f = lambda x: f"{x:.2f}"
for pl in ev["per_label"]:
    assert rows[pl["label"]] == [f(pl["precision"]), f(pl["recall"]), f(pl["f1"]), str(pl["support"])], (pl, rows.get(pl["label"]))
for k in ["micro", "macro", "weighted", "samples"]:
    a = ev[f"{k}_avg"]
    assert rows[f"{k} avg"] == [f(a["precision"]), f(a["recall"]), f(a["f1"]), str(a["support"])], (k, rows.get(f"{k} avg"))
assert 'id="fig-per_label_f1"' in page and 'id="fig-confusion_matrix"' not in page and "<h2>Per-label F1</h2>" in page
assert f"subset accuracy <b>{100 * ev['subset_accuracy']:.2f}%</b>" in page and ev["model"] in page.split("</title>")[0]
right = round(ev["subset_accuracy"] * ev["n"])
assert f"{ev['n']} predictions, {right} with exactly the true labels" in page, re.findall(r"<p>\d+ predictions[^<]*", page)
PY
else bad "report of the multi-label run failed: $(cat "$tmp/rep.txt")"; fi

# 5. Errors: one line naming the flag or file, the exit status, nothing written.
check_error() { # name exit-status expected-message args...
    local name=$1 want_rc=$2 want=$3; shift 3
    rm -rf "$tmp/err"
    "$BERTC" eval --threads 1 --run-dir "$tmp/err" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
    local code=$?
    if [ "$code" -eq "$want_rc" ] && grep -q -- "$want" "$tmp/err.txt" && [ "$(wc -l <"$tmp/err.txt")" -eq 1 ] &&
        [ ! -e "$tmp/err" ]; then ok "$name: exit $code: $(cat "$tmp/err.txt")"
    else bad "$name: exit $code (want $want_rc), stderr: $(cat "$tmp/err.txt") (want '$want'), written: $(ls "$tmp/err" 2>&1)"; fi
}
T4=(--model "$fx/eval/tiny4" --data "$fx/eval/news4.jsonl")
M5=(--model "$F/tiny5" --data "$F/reviews.jsonl")
check_error "--threshold, single-label model" 2 "--threshold: .*tiny4 is a single-label model" "${T4[@]}" --threshold 0.3
check_error "--label-separator, single-label model" 2 "--label-separator: .*single-label" "${T4[@]}" --label-separator '|'
check_error "--stride without chunks" 2 "--stride: needs --long-text chunks" "${M5[@]}" --stride 4
check_error "--pool without chunks" 2 "--pool: needs --long-text chunks" "${M5[@]}" --pool max
check_error "--stride too large" 2 "--stride: must be in 0..13 for --max-length 16" "${M5[@]}" --long-text chunks \
    --max-length 16 --stride 14
check_error "head+tail vs --truncation tail" 2 "--long-text: head+tail conflicts with --truncation tail" "${T4[@]}" \
    --long-text head+tail --truncation tail
check_error "chunks with pairs" 2 "--long-text: chunks is for single texts, not --text-pair-column" "${T4[@]}" \
    --long-text chunks --text-pair-column label
check_error "chunks with padding" 2 "--pad-to-max-length: not with --long-text chunks" "${T4[@]}" --long-text chunks \
    --pad-to-max-length
check_error "--long-text paragraphs" 2 "--long-text" "${T4[@]}" --long-text paragraphs
check_error "--threshold 1.5" 2 "--threshold" "${M5[@]}" --threshold 1.5
check_error "label the model does not have" 1 'bad.jsonl:3: label "Weather" is not one of the 5' --model "$F/tiny5" \
    --data "$F/bad.jsonl"
check_error "label lists, single-label model" 1 'reviews.jsonl:1: "label" is a list' --model "$fx/eval/tiny4" \
    --data "$F/reviews.jsonl"

# 6. The checker can fail: a prediction that is not the labels above the threshold.
python3 - "$tmp/ml/predictions.jsonl" "$tmp/tampered.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows[5]["pred"] = [] if rows[5]["pred"] else ["pos"]
open(sys.argv[2], "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
if $check "$tmp/tampered.jsonl" "$tmp/ml/eval.json" >"$tmp/tamper.txt" 2>&1; then bad "check_metrics accepted a tampered file"
else ok "check_metrics rejects a tampered prediction: $(head -1 "$tmp/tamper.txt")"; fi

echo "eval_ml test: $failed failed"
[ "$failed" -eq 0 ]
