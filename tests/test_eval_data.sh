#!/usr/bin/env bash
# test_eval_data.sh: `bertc data` and a run directory filled by the CLI.
#   1. bertc data on tools/gen_eval.py's 60 texts: counts per label equal
#      Python's; token lengths equal transformers' tokenizer (lengths.json): mean,
#      numpy percentiles p50/p90/p99, share longer than --max-length; histogram
#      counts add up to n over strictly increasing edges; the printed samples are
#      Python's text[:100] with their labels (unicode cut by characters).
#   2. --plots draws the label bar chart and the length histogram (sensible
#      size, more than one colour).
#   3. A run directory filled by data + eval + attention, then `bertc report`:
#      report.html is written and every chart of those inputs is there.
#   4. Errors: empty data, a missing file, --samples out of range.
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}
chart="$(dirname "$BERTC")/tests/test_chart"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
[ -d "$fx/eval/tiny4" ] || { echo "FAIL $fx/eval missing (make fixtures)"; exit 1; }
tiny=$fx/eval/tiny4

# 1. Numbers.
if "$BERTC" data --model "$tiny" --data "$fx/eval/news4.jsonl" --max-length 16 --samples 7 --out "$tmp/run" \
    --plots "$tmp/plots" >"$tmp/data.txt" 2>&1; then
    if msg=$(python3 - "$fx/eval" "$tmp/run/data.json" "$tmp/data.txt" <<'PY'
import collections, json, sys
import numpy as np
fx, dj, txt = sys.argv[1:4]
rows = [json.loads(l) for l in open(f"{fx}/news4.jsonl", encoding="utf-8")]
lengths = json.load(open(f"{fx}/lengths.json"))
d = json.load(open(dj, encoding="utf-8"))
c = collections.Counter(r["label"] for r in rows)
assert d["labels"] == sorted(c), d["labels"]            # names in byte order (docs/data.md)
assert d["counts"] == [c[k] for k in d["labels"]], (d["counts"], c)
L = d["lengths"]
assert abs(L["mean"] - np.mean(lengths)) < 1e-9, (L["mean"], np.mean(lengths))
for q in (50, 90, 99):
    assert abs(L[f"p{q}"] - np.percentile(lengths, q)) < 1e-9, (q, L[f"p{q}"], np.percentile(lengths, q))
assert L["max_length"] == 16 and abs(L["truncated_share"] - np.mean(np.array(lengths) > 16)) < 1e-12
e, n = L["bin_edges"], L["counts"]
assert len(e) == len(n) + 1 and all(a < b for a, b in zip(e, e[1:])) and sum(n) == len(rows)
assert list(np.histogram(lengths, bins=e)[0]) == n, "histogram counts"
out = open(txt, encoding="utf-8").read()
for i, r in enumerate(rows[:7]):
    line = f"Review {i+1}: {r['text'][:100]}... (Label: {r['label']})"
    assert line in out, f"missing sample line: {line}"
assert len(d["samples"]) == 7 and d["samples"][0]["text"] == rows[0]["text"]
print(f"{len(rows)} texts, mean {L['mean']:.2f} tokens, {100*L['truncated_share']:.1f}% over 16")
PY
    ); then ok "data: counts, lengths, percentiles, histogram, samples equal Python's ($msg)"; else bad "data: $msg"; fi
    for f in label_distribution token_lengths; do
        read -r w h n <<<"$("$chart" --png-stats "$tmp/plots/$f.png" 2>&1)"
        [ "${n:-0}" -gt 20 ] && [ "${w:-0}" -ge 300 ] && [ "${h:-0}" -ge 200 ] && ok "--plots $f.png ${w}x${h}, $n colours" \
            || bad "--plots $f.png: ${w:-?}x${h:-?} ${n:-?} colours"
    done
else
    bad "bertc data failed: $(tail -2 "$tmp/data.txt")"
fi

# 3. A whole run directory through the CLI, then the report.
if "$BERTC" eval --model "$tiny" --data "$fx/eval/news4.jsonl" --run-dir "$tmp/run" >/dev/null 2>"$tmp/err.txt" &&
    "$BERTC" attention --model "$tiny" --data "$fx/eval/news4.jsonl" --index 3 --head mean --run-dir "$tmp/run" \
        >/dev/null 2>>"$tmp/err.txt" &&
    "$BERTC" report "$tmp/run" >"$tmp/rep.txt" 2>>"$tmp/err.txt"; then
    grep -q "^report: $tmp/run/report.html" "$tmp/rep.txt" && ok "report: says where the report is" || bad "report output: $(cat "$tmp/rep.txt")"
    for f in label_distribution token_lengths confusion_matrix attention; do
        [ -s "$tmp/run/report/$f.png" ] && ok "report/$f.png drawn" || bad "report/$f.png missing"
    done
    python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["head"] is None and a["head_reduction"]=="mean"' \
        "$tmp/run/attention.json" && ok "attention.json: head null, head_reduction mean (the report accepts it)" \
        || bad "attention.json: mean head not marked"
else
    bad "run dir through the CLI failed: $(tail -3 "$tmp/err.txt")"
fi

# 4. Errors.
check_error() { # name expected-message args...
    local name=$1 want=$2; shift 2
    rm -rf "$tmp/err"
    "$BERTC" data --model "$tiny" --out "$tmp/err" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
    local code=$?
    if [ "$code" -ne 0 ] && [ "$code" -lt 128 ] && grep -q -- "$want" "$tmp/err.txt" && [ "$(wc -l <"$tmp/err.txt")" -eq 1 ] \
        && [ ! -e "$tmp/err/data.json" ]; then ok "$name: exit $code: $(cat "$tmp/err.txt")"
    else bad "$name: exit $code, stderr: $(cat "$tmp/err.txt") (want '$want')"; fi
}
check_error "empty data" "empty.jsonl: no examples" --data "$fx/eval/empty.jsonl"
check_error "missing file" "nope.csv: cannot open" --data "$tmp/nope.csv"
check_error "--samples -1" "--samples: expected" --data "$fx/eval/news4.jsonl" --samples -1
check_error "no --data" "--data is required"

echo "data test: $failed failed"
[ "$failed" -eq 0 ]
