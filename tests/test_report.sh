#!/usr/bin/env bash
# test_report.sh: writes the HTML report of the sample run tests/data/run/ into a
# temporary copy and checks it as a user would see it, in headless Chromium:
#   - every chart <img> decodes with a non-zero natural size (a probe script in a
#     copy of the page records this into the DOM, read back with --dump-dom);
#   - the section headings and the classification-report table are there;
#   - review text with "<br />" stays text; every src/href is data: or #anchor;
#   - a full-page screenshot is not blank (more than a few colours).
# Without Chromium (no display stack needed) the checks on the files still run:
#   - missing inputs give "Not in this run" sections and remove stale charts;
#   - a malformed eval.json is an error that names the file;
#   - a multi-label eval.json (per_label) gets a per-label F1 chart and table
#     and no confusion matrix; label lists in predictions.jsonl count as right
#     only when the sets are equal.
# Uses `$BERTC report RUN_DIR` when the CLI has that subcommand, else the test
# binary's `test_chart --report RUN_DIR`. Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
tool="$(dirname "$BERTC")/tests/test_chart"
data=${BERTC_TESTDATA:-$root/tests/data}/run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

[ -x "$tool" ] || { echo "FAIL $tool not built (make all)"; exit 1; }
if [ -x "$BERTC" ] && "$BERTC" report --help >/dev/null 2>&1; then
    report() { "$BERTC" report "$1"; }
    echo "using: $BERTC report"
else
    report() { "$tool" --report "$1"; }
    echo "using: $tool --report (no 'bertc report' subcommand yet)"
fi

# 1. The full sample run.
cp -r "$data" "$tmp/run"
if report "$tmp/run" >"$tmp/out.txt" 2>&1; then ok "report written: $tmp/run/report.html"
else bad "report failed: $(cat "$tmp/out.txt")"; exit 1; fi
for f in label_distribution token_lengths training_loss eval_metrics confusion_matrix attention; do
    stats=$("$tool" --png-stats "$tmp/run/report/$f.png" 2>&1)
    read -r w h n <<<"$stats"
    if [ "${n:-0}" -gt 50 ] 2>/dev/null && [ "$w" -ge 300 ] && [ "$h" -ge 200 ]; then ok "report/$f.png ${w}x${h}, $n colours"
    else bad "report/$f.png: $stats"; fi
done

# 2. In headless Chromium.
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
    bad "chromium not installed (tools/setup.sh apt installs it)"
else
    chrome_run() {
        local prof
        prof=$(mktemp -d -p "$tmp")
        timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$prof" "$@" 2>>"$tmp/chrome.log"
    }
    # A copy of the page with a probe that reports what the browser decoded.
    probe='<pre id="bertc-probe"></pre><script>window.addEventListener("load",function(){
var imgs=[].map.call(document.images,function(i){return {id:i.id,complete:i.complete,naturalWidth:i.naturalWidth,naturalHeight:i.naturalHeight};});
var p=document.getElementById("bertc-probe");var text=document.querySelector("main").innerText;
p.textContent=JSON.stringify({images:imgs,br:document.querySelectorAll("br").length,text:text});});</script>'
    python3 - "$tmp/run/report.html" "$tmp/run/probe.html" "$probe" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
assert page.count("</body>") == 1, "report.html must have exactly one </body>"
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", sys.argv[3] + "</body>"))
PY
    chrome_run --virtual-time-budget=10000 --dump-dom "file://$tmp/run/probe.html" >"$tmp/dom.html"
    if python3 "$root/tests/report_check.py" "$tmp/dom.html" "$tmp/run/report.html"; then ok "DOM checks in Chromium"
    else bad "DOM checks in Chromium"; fi

    chrome_run --window-size=1200,6000 --screenshot="$tmp/shot.png" "file://$tmp/run/report.html" >/dev/null
    stats=$("$tool" --png-stats "$tmp/shot.png" 2>&1)
    read -r w h n <<<"$stats"
    if [ "${n:-0}" -gt 200 ] 2>/dev/null; then ok "page screenshot ${w}x${h} has $n colours (not blank)"
    else bad "page screenshot is blank or unreadable: $stats ($(tail -3 "$tmp/chrome.log"))"; fi
    [ -n "${BERTC_REPORT_KEEP:-}" ] && cp "$tmp/shot.png" "$tmp/run/report.html" "$BERTC_REPORT_KEEP/" 2>/dev/null
fi

# 3. Missing inputs: sections say so, stale charts are removed.
mkdir "$tmp/partial"
cp "$data/eval.json" "$tmp/partial/"
mkdir "$tmp/partial/report" && cp "$tmp/run/report/attention.png" "$tmp/partial/report/"
if report "$tmp/partial" >"$tmp/out.txt" 2>&1; then
    n=$(grep -c 'class="missing"' "$tmp/partial/report.html")
    [ "$n" -eq 7 ] && ok "eval.json only: 7 sections say their input is missing" || bad "eval.json only: $n missing-input notes, want 7"
    grep -q 'id="classification-report"' "$tmp/partial/report.html" && ok "eval.json only: classification report present" \
        || bad "eval.json only: no classification report"
    [ ! -e "$tmp/partial/report/attention.png" ] && ok "stale report/attention.png removed" || bad "stale attention.png left behind"
else
    bad "report of a run dir with only eval.json failed: $(cat "$tmp/out.txt")"
fi
mkdir "$tmp/empty"
report "$tmp/empty" >"$tmp/out.txt" 2>&1 && grep -q "Not in this run" "$tmp/empty/report.html" \
    && ok "empty run dir: report written, sections say what is missing" || bad "empty run dir: $(cat "$tmp/out.txt")"

# 4. Malformed inputs: an error naming the file (and line/key), no crash.
check_error() { # name file content expected-message
    local d="$tmp/bad_$1"
    mkdir "$d" && printf '%s' "$3" >"$d/$2"
    report "$d" >"$tmp/out.txt" 2>&1
    local code=$?
    if [ "$code" -eq 0 ]; then bad "$1: accepted"; return; fi
    if [ "$code" -lt 128 ] && grep -q -- "$4" "$tmp/out.txt"; then ok "$1: refused: $(head -1 "$tmp/out.txt")"
    else bad "$1: exit $code, message: $(cat "$tmp/out.txt") (want '$4')"; fi
}
check_error json eval.json '{"accuracy": 0.9, "confusion_matrix": [[1,2],[3' "eval.json: invalid JSON"
check_error type eval.json '{"accuracy": "high"}' 'eval.json: "accuracy" should be a number'
check_error ragged eval.json '{"confusion_matrix": [[1,2],[3]]}' 'eval.json: "confusion_matrix": row 1'
check_error square eval.json '{"labels":["a","b"],"confusion_matrix": [[1,2,3],[3,4,5]]}' "must be square"
check_error jsonl log.jsonl $'{"step":1,"loss":0.5}\n{"step":2,"loss":\n' "log.jsonl:2: not a JSON object"
check_error attn attention.json '{"tokens":["a"],"weights":[[1,0],[0,1]]}' "one row per token"
check_error edges data.json '{"lengths":{"bin_edges":[0,1],"counts":[1,2]}}' "bin_edges"
check_error per_label eval.json '{"per_label": {"label": "a"}}' 'eval.json: "per_label" should be an array of objects'
check_error ml_avg eval.json '{"per_label": [{"label": "a", "f1": 0.5}], "micro_avg": [1]}' '"micro_avg" should be an object'
check_error ml_pred predictions.jsonl '{"text": "t", "label": ["a"], "pred": "a"}' 'predictions.jsonl:1: "pred" should be a list'

# 5. A multi-label eval.json alone (bertc eval of a multi-label model writes one;
#    tests/test_eval_ml.sh checks a real one): per-label F1 chart, no heatmap.
mkdir "$tmp/ml"
cat >"$tmp/ml/eval.json" <<'JSON'
{"n": 4, "subset_accuracy": 0.25, "hamming_loss": 0.3, "loss": 0.61, "labels": ["pos", "funny"], "threshold": 0.5,
 "per_label": [{"label": "pos", "precision": 1, "recall": 0.5, "f1": 0.6667, "support": 2},
               {"label": "funny", "precision": 0.5, "recall": 1, "f1": 0.6667, "support": 1}],
 "micro_avg": {"precision": 0.667, "recall": 0.667, "f1": 0.667, "support": 3},
 "samples_avg": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 3}, "model": "some/model"}
JSON
printf '%s\n' '{"text": "a", "label": ["pos"], "pred": ["pos"], "probs": [0.9, 0.1]}' \
    '{"text": "b", "label": [], "pred": ["funny"], "probs": [0.2, 0.7]}' >"$tmp/ml/predictions.jsonl"
if report "$tmp/ml" >"$tmp/out.txt" 2>&1; then
    [ -s "$tmp/ml/report/per_label_f1.png" ] && [ ! -e "$tmp/ml/report/confusion_matrix.png" ] &&
        grep -q "<h2>Per-label F1</h2>" "$tmp/ml/report.html" && grep -q "<th>samples avg</th>" "$tmp/ml/report.html" &&
        grep -q "2 predictions, 1 with exactly the true labels" "$tmp/ml/report.html" &&
        grep -q "<title>bertc report: some/model</title>" "$tmp/ml/report.html" &&
        ok "multi-label eval.json: per-label F1 chart and table, no confusion matrix, predictions by exact match" ||
        bad "multi-label eval.json: report sections"
else bad "multi-label eval.json: $(cat "$tmp/out.txt")"; fi

echo "report test: $failed failed"
[ "$failed" -eq 0 ]
