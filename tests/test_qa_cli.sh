#!/usr/bin/env bash
# test_qa_cli.sh: question answering through the CLI (issue 11), on
# tools/gen_qa_cli.py's fixtures (a random BertForQuestionAnswering, hidden 32,
# 2 layers, on all-MiniLM-L6-v2's vocabulary):
#   1. bertc predict = transformers 4.57's pipeline("question-answering") on 30
#      question/context pairs (accents, CJK, Hangul, punctuation runs, long words,
#      contexts of several windows, unanswerable questions) x 4 settings (top-k,
#      handle-impossible-answer, max-answer-length, max-length/doc-stride): the
#      same spans and answer texts, scores within 1e-4 (tests/qa_check.py);
#      --question/--context = the same input through --input.
#   2. bertc train --task question-answering on 60 generated SQuAD questions
#      (answer: "banana"), evaluated every 4 steps on 20 more: the eval loss falls
#      by 30%, exact match rises by 30 points to >= 60; OUT/model is a
#      BertForQuestionAnswering folder.
#   3. bertc eval of the trained model: its metrics equal the official SQuAD
#      v1.1 and v2.0 scripts' on its own --predictions (v2 with a null threshold
#      that leaves a mix of empty and non-empty answers), within 1e-9.
#   4. Bad input: a bad answer offset, an empty context, a missing question id
#      (eval and train), a JSONL predict line without a context: one line naming
#      the file and the id/line, exit 1, nothing written; a question too long
#      for --max-length (through the library's bertc_qa_answers). bertc serve on a
#      QA model is tests/test_serve_qa.sh's.
# Exits non-zero on any failure.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}/qa_cli
check="python3 $root/tests/qa_check.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
[ -f "$fx/tiny/model.safetensors" ] && [ -f "$fx/runs.json" ] || { echo "FAIL $fx missing (make build/fixtures/qa_cli.stamp)"; exit 1; }

# 1. predict = the pipeline
for k in 0 1 2 3; do
    mapfile -t flags < <(python3 -c "import json,sys; print('\n'.join(json.load(open(sys.argv[1]))['runs'][$k]['flags']))" "$fx/runs.json")
    [ "${#flags[@]}" -eq 1 ] && [ -z "${flags[0]}" ] && flags=()
    if "$BERTC" predict --model "$fx/tiny" --input "$fx/inputs.jsonl" --threads 1 "${flags[@]}" >"$tmp/p$k.jsonl" 2>"$tmp/p$k.err" &&
        $check pipeline "$fx/runs.json" "$k" "$tmp/p$k.jsonl"; then
        ok "predict ${flags[*]:-(defaults)} = pipeline"
    else
        bad "predict ${flags[*]:-(defaults)}"; cat "$tmp/p$k.err"
    fi
done
q=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['question'])" "$fx/inputs.jsonl")
c=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['context'])" "$fx/inputs.jsonl")
one=$("$BERTC" predict --model "$fx/tiny" --question "$q" --context "$c" --threads 1 2>&1)
if [ "$one" = "$(head -1 "$tmp/p0.jsonl")" ]; then ok "--question/--context = --input's first line: $one"
else bad "--question/--context gave '$one', --input '$(head -1 "$tmp/p0.jsonl")'"; fi
one=$(head -1 "$fx/inputs.jsonl" | "$BERTC" predict --model "$fx/tiny" --input - --threads 1 2>&1)
if [ "$one" = "$(head -1 "$tmp/p0.jsonl")" ]; then ok "--input - reads stdin"; else bad "--input - gave '$one'"; fi

# 2. a tiny training run that learns
run=$tmp/run
if "$BERTC" train --task question-answering --model "$fx/tiny" --train "$fx/train.json" --eval "$fx/dev.json" \
    --out "$run" --max-length 64 --doc-stride 16 --batch-size 8 --epochs 4 --lr 1e-3 --logging-steps 4 \
    --eval-strategy steps --eval-steps 4 --save-strategy no --no-report --threads 1 >"$tmp/train.out" 2>&1 &&
    $check log "$run/log.jsonl"; then
    ok "train --task question-answering learns"
else
    bad "train --task question-answering"; tail -5 "$tmp/train.out"
fi
if grep -q '"BertForQuestionAnswering"' "$run/model/config.json" 2>/dev/null; then ok "OUT/model is a BertForQuestionAnswering folder"
else bad "OUT/model/config.json does not name BertForQuestionAnswering"; fi

# 3. eval = the official SQuAD scripts on bertc's own predictions
m=$run/model
if "$BERTC" eval --model "$m" --data "$fx/dev.json" --predictions "$tmp/pred1.json" --output "$tmp/met1.json" \
    --threads 1 >"$tmp/eval1.out" 2>&1 && cmp -s "$tmp/eval1.out" "$tmp/met1.json" &&
    $check squad "$fx/dev.json" "$tmp/pred1.json" "$tmp/met1.json" v1; then
    ok "eval v1.1 = evaluate-v1.1.py (stdout = --output)"
else
    bad "eval v1.1"; cat "$tmp/eval1.out"
fi
if "$BERTC" eval --model "$m" --data "$fx/dev-v2.json" --version-2-with-negative --null-score-diff-threshold=-10 \
    --predictions "$tmp/pred2.json" --output "$tmp/met2.json" --threads 1 >"$tmp/eval2.out" 2>&1 &&
    $check squad "$fx/dev-v2.json" "$tmp/pred2.json" "$tmp/met2.json" v2; then
    n_empty=$(python3 -c "import json,sys; print(sum(v == '' for v in json.load(open(sys.argv[1])).values()))" "$tmp/pred2.json")
    if [ "$n_empty" -gt 0 ] && [ "$n_empty" -lt 28 ]; then ok "eval v2.0 = evaluate-v2.0.py ($n_empty of 28 answers empty)"
    else bad "eval v2.0: $n_empty of 28 answers empty; want a mix"; fi
else
    bad "eval v2.0"; cat "$tmp/eval2.out"
fi
if "$BERTC" eval --model "$m" --data "$fx/dev-v2.json" --threads 1 >"$tmp/e.out" 2>&1; then bad "v2 data without --version-2-with-negative accepted"
elif grep -q 'q120.*--version-2-with-negative' "$tmp/e.out"; then ok "v2 data needs --version-2-with-negative: $(cat "$tmp/e.out")"
else bad "v2 data without the flag: $(cat "$tmp/e.out")"; fi

# 4. bad input: one line naming the file and the id/line, exit 1, nothing written
python3 - "$fx/dev.json" "$tmp" <<'EOF'
import copy, json, sys
src, tmp = sys.argv[1], sys.argv[2]
d = json.load(open(src))
def save(name, f):
    x = copy.deepcopy(d); f(x); json.dump(x, open(f"{tmp}/{name}", "w"))
save("bad_offset.json", lambda x: x["data"][0]["paragraphs"][3]["qas"][0]["answers"][0].__setitem__("answer_start", 1))
save("empty_context.json", lambda x: x["data"][0]["paragraphs"][5].__setitem__("context", ""))
save("no_id.json", lambda x: x["data"][0]["paragraphs"][7]["qas"][0].pop("id"))
EOF
printf '{"question": "Who?", "context": "Bob."}\n{"question": "Who?"}\n' >"$tmp/no_context.jsonl"
expect_bad() { # name, grep pattern, command...
    local name=$1 pat=$2; shift 2
    "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/bad.err")
    if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -q -- "$pat" "$tmp/bad.err" && [ ! -s "$tmp/bad.out" ] &&
        [ ! -e "$tmp/never" ] && [ ! -e "$tmp/never.json" ]; then
        ok "$name: $(cat "$tmp/bad.err")"
    else
        bad "$name: exit $rc, $lines lines: $(cat "$tmp/bad.err")"
    fi
}
for f in bad_offset empty_context no_id; do
    case $f in
        bad_offset) pat='bad_offset.json.*q103' ;;
        empty_context) pat='empty_context.json.*q105' ;;
        no_id) pat='no_id.json.*paragraphs\[7\].*id' ;;
    esac
    expect_bad "eval $f" "$pat" "$BERTC" eval --model "$m" --data "$tmp/$f.json" --output "$tmp/never.json" --predictions "$tmp/never.json"
    expect_bad "train $f" "$pat" "$BERTC" train --task question-answering --model "$fx/tiny" --train "$tmp/$f.json" --eval-strategy no --out "$tmp/never"
done
expect_bad "predict JSONL without context" 'no_context.jsonl:2.*context' "$BERTC" predict --model "$fx/tiny" --input "$tmp/no_context.jsonl"
expect_bad "predict: a question too long for --max-length" 'line 1.*leave no room for the context' \
    "$BERTC" predict --model "$fx/tiny" --input <(echo '{"question": "one two three four five six seven eight", "context": "Bob."}') --max-length 8 --doc-stride 0

[ "$failed" -eq 0 ] && echo "test_qa_cli: all passed" || echo "test_qa_cli: $failed failed"
[ "$failed" -eq 0 ]
