#!/usr/bin/env bash
# test_int8_cli.sh: --precision int8 and auto through the bertc command.
#   1. eval --precision int8 on the tiny4 fixture (news4.jsonl, 60 texts):
#      eval.json says "precision": "int8"; every probability within 0.05 of
#      fp32's and at least 58 of 60 labels equal (tests/test_int8.c checks the
#      logits; the texts that may flip have fp32 margins under 0.06).
#   2. predict --precision int8 gives eval's int8 probabilities (the same path);
#      serve --precision int8 answers and GET /info reports int8.
#   3. auto: `bertc info` names what auto resolves to on this CPU (bf16 with
#      AVX512-BF16, else fp32), and predict without --precision prints exactly
#      what predict --precision <that> prints; BERTC_PRECISION replaces the
#      default (not a given flag), a bad value is refused naming it.
#   4. Errors: --precision int4 for predict, eval and serve (exit 2, one line
#      naming --precision); train --precision int8 (one line saying int8 is
#      inference only, non-zero exit, no output folder).
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
tiny=$fx/eval/tiny4
news=$fx/eval/news4.jsonl
[ -d "$tiny" ] && [ -f "$news" ] || { echo "FAIL $fx/eval missing (make fixtures)"; exit 1; }

# 1. eval fp32 vs int8
for p in fp32 int8; do
    "$BERTC" eval --model "$tiny" --data "$news" --threads 2 --precision $p --output "$tmp/e_$p.json" \
        --predictions "$tmp/p_$p.jsonl" >/dev/null 2>"$tmp/err_$p" || bad "eval $p: $(cat "$tmp/err_$p")"
done
python3 - "$tmp" <<'PY' && ok "eval int8: probabilities within 0.05 of fp32, >= 58/60 labels equal, eval.json records int8" || bad "eval int8 vs fp32"
import json, sys
t = sys.argv[1]
a = [json.loads(l) for l in open(t + "/p_fp32.jsonl")]; b = [json.loads(l) for l in open(t + "/p_int8.jsonl")]
assert len(a) == len(b) == 60, (len(a), len(b))
worst = max(abs(x - y) for r, s in zip(a, b) for x, y in zip(r["probs"], s["probs"]))
same = sum(r["pred"] == s["pred"] for r, s in zip(a, b))
print(f"     worst probability difference {worst:.4f}, labels equal {same}/60")
assert worst < 0.05 and same >= 58, (worst, same)
assert json.load(open(t + "/e_int8.json"))["precision"] == "int8"
assert json.load(open(t + "/e_fp32.json"))["precision"] == "fp32"
PY

# 2. predict int8 == eval int8
python3 -c '
import json, sys
with open(sys.argv[2], "w") as f:
    for l in open(sys.argv[1]): f.write(" ".join(json.loads(l)["text"].split()) + "\n")' "$news" "$tmp/texts.txt"
if "$BERTC" predict --model "$tiny" --threads 2 --precision int8 --all-scores --input "$tmp/texts.txt" \
    >"$tmp/pred_int8.jsonl" 2>"$tmp/pe"; then
    python3 - "$tmp/pred_int8.jsonl" "$tmp/p_int8.jsonl" <<'PY' && ok "predict int8: eval's probabilities" || bad "predict int8 vs eval int8"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]; e = [json.loads(l) for l in open(sys.argv[2])]
assert len(p) == len(e) == 60
labels = ["World", "Sports", "Business", "Sci/Tech"]
for x, y in zip(p, e):
    d = {s["label"]: s["score"] for s in x}
    assert max(abs(d[k] - v) for k, v in zip(labels, y["probs"])) < 1e-6, (d, y["probs"])
PY
else bad "predict int8: $(cat "$tmp/pe")"; fi

# 2b. serve --precision int8 answers and says so in GET /info
"$BERTC" serve --model "$tiny" --port 0 --threads 1 --precision int8 2>"$tmp/serve.err" &
spid=$!; port=""
for _ in $(seq 1 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/serve.err" | sed 's/.*://')
    [ -n "$port" ] && break; sleep 0.1
done
if [ -n "$port" ] && curl -s "localhost:$port/info" | grep -q '"precision":"int8"' &&
    curl -s "localhost:$port/predict" -d '{"inputs": ["bank profit trade"]}' | grep -q '"label"'; then
    ok "serve --precision int8: answers, GET /info says int8"
else bad "serve int8: port '$port', $(cat "$tmp/serve.err")"; fi
kill -TERM $spid 2>/dev/null; wait $spid 2>/dev/null

# 3. auto
want=fp32
grep -q avx512_bf16 /proc/cpuinfo && want=bf16
unset BERTC_PRECISION  # tests/run.sh sets fp32; here the default itself is tested
if "$BERTC" info --model "$tiny" >"$tmp/info" 2>&1 && grep -q "auto = $want on this CPU" "$tmp/info"; then
    ok "info: auto = $want on this CPU"
else bad "info: $(grep precision "$tmp/info")"; fi
"$BERTC" predict --model "$tiny" --threads 2 --all-scores --input "$tmp/texts.txt" >"$tmp/pa" 2>/dev/null &&
    "$BERTC" predict --model "$tiny" --threads 2 --all-scores --precision $want --input "$tmp/texts.txt" >"$tmp/pw" 2>/dev/null &&
    cmp -s "$tmp/pa" "$tmp/pw" && ok "predict's default (auto) = --precision $want here" || bad "predict auto differs from $want"
BERTC_PRECISION=int8 "$BERTC" predict --model "$tiny" --threads 2 --all-scores --input "$tmp/texts.txt" >"$tmp/pe8" 2>/dev/null &&
    cmp -s "$tmp/pe8" "$tmp/pred_int8.jsonl" && ok "BERTC_PRECISION=int8 replaces the default" || bad "BERTC_PRECISION=int8"
"$BERTC" predict --model "$tiny" --threads 2 --all-scores --precision fp32 --input "$tmp/texts.txt" >"$tmp/pf32" 2>/dev/null &&
    BERTC_PRECISION=int8 "$BERTC" predict --model "$tiny" --threads 2 --all-scores --precision fp32 --input "$tmp/texts.txt" >"$tmp/pf" 2>/dev/null &&
    cmp -s "$tmp/pf" "$tmp/pf32" && ok "a given --precision wins over BERTC_PRECISION" || bad "--precision vs BERTC_PRECISION"
BERTC_PRECISION=int4 "$BERTC" predict --model "$tiny" text >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q BERTC_PRECISION "$tmp/e" && ok "BERTC_PRECISION=int4: exit 2 naming it" || bad "BERTC_PRECISION=int4: rc $rc $(cat "$tmp/e")"

# 4. errors
for cmd in "predict --precision int4 text" "eval --precision int4 --data $news" "serve --precision int4"; do
    set -- $cmd
    "$BERTC" "$@" --model "$tiny" >"$tmp/o" 2>"$tmp/e"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] && grep -q -- "--precision" "$tmp/e"; then
        ok "$1 --precision int4: exit 2, one line"
    else bad "$1 --precision int4: rc $rc, $(cat "$tmp/e")"; fi
done
"$BERTC" train --model "$tiny" --train "$news" --precision int8 --max-steps 1 --eval-strategy no --out "$tmp/never" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -ne 0 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] && grep -q -- "int8 is for inference only" "$tmp/e" && [ ! -e "$tmp/never" ]; then
    ok "train --precision int8: refused in one line (rc $rc), nothing written"
else bad "train --precision int8: rc $rc, $(cat "$tmp/e")"; fi

[ $failed -eq 0 ] && echo "test_int8_cli: all passed" || echo "test_int8_cli: $failed failed"
exit $((failed > 0))
