#!/usr/bin/env bash
# test_attention.sh: `bertc attention` against transformers' output_attentions.
#   1. For each case of build/fixtures/attention/cases.json (tools/gen_attention.py:
#      3 texts, layers 0..5 and -1, heads 0, 3, 7, 11 and mean) the JSON's tokens
#      equal the tokenizer's, every weight is within 1e-5 of transformers' and the
#      label probabilities within 1e-5 (docs/numerics.md: fp32 forward).
#   2. --max-tokens crops the JSON to the first N rows and columns of the same map.
#   3. A 512-token map renders: the PNG exists, is about 1000+ pixels square and
#      has many colours; the JSON has 512 tokens.
#   4. Errors: layer/head out of range, a text longer than --max-length, no text:
#      one line naming the flag, a non-zero exit, no JSON written.
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}/attention/cases.json
chart="$(dirname "$BERTC")/tests/test_chart"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

[ -f "$fx" ] || { echo "FAIL $fx missing (make fixtures)"; exit 1; }
model=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model"])' "$fx")
ncases=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cases"]))' "$fx")

# 1. Parity with transformers.
for ((i = 0; i < ncases; i++)); do
    args=$(python3 - "$fx" "$i" <<'PY'
import json, shlex, sys
c = json.load(open(sys.argv[1]))["cases"][int(sys.argv[2])]
print(shlex.join(["--text", c["text"], "--layer", str(c["layer_arg"]), "--head", str(c["head"])]))
PY
)
    eval "set -- $args"
    if ! "$BERTC" attention --model "$model" "$@" --threads 1 --json "$tmp/$i.json" >"$tmp/out.txt" 2>&1; then
        bad "case $i: bertc attention failed: $(tail -2 "$tmp/out.txt")"; continue
    fi
    if msg=$(python3 - "$fx" "$i" "$tmp/$i.json" <<'PY'
import json, sys
ref = json.load(open(sys.argv[1]))["cases"][int(sys.argv[2])]
got = json.load(open(sys.argv[3]))
TOL = 1e-5  # fp32 forward against PyTorch, docs/numerics.md
assert got["tokens"] == ref["tokens"], f"tokens differ: {got['tokens']} vs {ref['tokens']}"
assert got["layer"] == ref["layer"], (got["layer"], ref["layer"])
if ref["head"] == "mean":
    assert got["head"] is None and got["head_reduction"] == "mean", "mean head not marked"
else:
    assert got["head"] == ref["head"]
W, R = got["weights"], ref["weights"]
assert len(W) == len(R) and all(len(a) == len(b) for a, b in zip(W, R)), "shape differs"
d = max(abs(x - y) for a, b in zip(W, R) for x, y in zip(a, b))
assert d <= TOL, f"max |weight diff| {d:.3g} > {TOL}"
rs = [abs(sum(r) - 1) for r in W]
assert max(rs) < 1e-4, f"a row does not sum to 1: {max(rs)}"
p = max(abs(x - y) for x, y in zip(got["probs"], ref["probs"]))
assert p <= TOL, f"probs differ by {p:.3g}"
best = max(range(len(ref["probs"])), key=lambda k: ref["probs"][k])
assert got["pred"] == got["labels"][best] and abs(got["score"] - ref["probs"][best]) <= TOL, "pred/score"
print(f"{len(W)}x{len(W)} tokens, layer {ref['layer']} head {ref['head']}: max diff {d:.2g}")
PY
    ); then ok "case $i: $msg"; else bad "case $i: $msg"; fi
done

# 2. --max-tokens crops the same map.
"$BERTC" attention --model "$model" --text "I loved this movie, it was great." --max-tokens 4 \
    --json "$tmp/crop.json" --out "$tmp/crop.png" >/dev/null 2>&1 &&
    "$BERTC" attention --model "$model" --text "I loved this movie, it was great." \
        --json "$tmp/full.json" >/dev/null 2>&1
if python3 - "$tmp/crop.json" "$tmp/full.json" <<'PY'; then ok "--max-tokens 4 crops the map"; else bad "--max-tokens"; fi
import json, sys
c, f = (json.load(open(p)) for p in sys.argv[1:3])
assert len(c["tokens"]) == 4 and c["tokens"] == f["tokens"][:4]
assert c["weights"] == [row[:4] for row in f["weights"][:4]]
assert c["tokens_in_model"] == len(f["tokens"])
PY

# 3. A 512-token map renders.
python3 -c 'print(" ".join("word%d good bad" % (i % 50) for i in range(400)))' >"$tmp/long.txt"
if "$BERTC" attention --model "$model" --text-file "$tmp/long.txt" --max-length 512 --truncate --head mean \
    --out "$tmp/a512.png" --json "$tmp/a512.json" >"$tmp/out.txt" 2>&1; then
    read -r w h n <<<"$("$chart" --png-stats "$tmp/a512.png" 2>&1)"
    T=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tokens"]))' "$tmp/a512.json")
    if [ "$T" = 512 ] && [ "${w:-0}" -ge 800 ] && [ "${h:-0}" -ge 800 ] && [ "${n:-0}" -gt 50 ]; then
        ok "512-token map: ${w}x${h} PNG, $n colours, $T tokens"
    else bad "512-token map: ${w:-?}x${h:-?}, ${n:-?} colours, $T tokens"; fi
    grep -q "note: the text has .* tokens; the model saw the first 512" "$tmp/out.txt" \
        && ok "--truncate says the text was cut" || bad "no truncation note: $(cat "$tmp/out.txt" | head -3)"
else
    bad "512-token map failed: $(tail -2 "$tmp/out.txt")"
fi

# 4. Errors: one line naming the problem, non-zero exit, nothing written.
check_error() { # name expected-message args...
    local name=$1 want=$2; shift 2
    rm -f "$tmp/err.json"
    "$BERTC" attention --model "$model" --json "$tmp/err.json" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
    local code=$?
    if [ "$code" -ne 0 ] && [ "$code" -lt 128 ] && grep -q -- "$want" "$tmp/err.txt" && [ "$(wc -l <"$tmp/err.txt")" -eq 1 ] \
        && [ ! -e "$tmp/err.json" ]; then ok "$name: exit $code: $(cat "$tmp/err.txt")"
    else bad "$name: exit $code, stderr: $(cat "$tmp/err.txt") (want '$want')"; fi
}
check_error "layer too high" "--layer 6 is out of range" --text hi --layer 6
check_error "layer too low" "--layer -7 is out of range" --text hi --layer -7
check_error "head too high" "--head 12 is out of range" --text hi --head 12
check_error "head not a number" "--head: expected a head number or mean" --text hi --head first
check_error "text too long" "more than the max length 128 .*--truncate cuts it" --text-file "$tmp/long.txt" --max-length 128
check_error "no text" "give exactly one of" --layer 0
check_error "empty text" "the text is empty" --text ""

echo "attention test: $failed failed"
[ "$failed" -eq 0 ]
