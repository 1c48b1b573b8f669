#!/usr/bin/env bash
# test_token_cli.sh: token classification through the bertc command, against
# transformers and seqeval (fixtures: tools/gen_token_pipeline.py).
#   1. predict: for each aggregation strategy (none, simple, first, average,
#      max) the entities of 16 texts (accents, CJK, punctuation runs, words in
#      many pieces, literal [SEP], a long text) equal transformers' pipeline's:
#      same entities in the same order, strings and offsets exact, scores within
#      1e-4 (docs/numerics.md's forward tolerance).
#   2. eval: on 40 CoNLL sentences, eval.json's precision/recall/F1/accuracy and
#      the report text equal seqeval's on bertc's own predictions.jsonl.
#   3. train: a short token-classification run on those sentences: the loss
#      falls, OUT/model is a BertForTokenClassification folder with the tags,
#      and predict/eval run on it.
#   4. bad input: a CoNLL line with one column, unequal token/tag lists, a tag
#      the model does not know, a text-classification folder given to --task
#      token-classification: one line naming file and line, exit 1, no OUT.
set -uo pipefail
root=${BERTC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BERTC=${BERTC:-$root/build/bertc}
fx=${BERTC_FIXTURES:-$root/build/fixtures}/token_pipeline
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
[ -d "$fx/model" ] || { echo "FAIL $fx missing (make fixtures)"; exit 1; }
export OMP_NUM_THREADS=2

# 1. predict against the pipeline
for s in none simple first average max; do
    "$BERTC" predict --model "$fx/model" --aggregation-strategy $s --input "$fx/texts.txt" > "$tmp/p_$s.jsonl" 2> "$tmp/err" ||
        { bad "predict --aggregation-strategy $s: $(cat "$tmp/err")"; continue; }
    if msg=$(python3 - "$tmp/p_$s.jsonl" "$fx/pipeline_$s.jsonl" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(got) == len(want), f"{len(got)} lines, pipeline {len(want)}"
n, worst = 0, 0.0
for i, (g, w) in enumerate(zip(got, want)):
    assert len(g) == len(w), f"text {i + 1}: {len(g)} entities, pipeline {len(w)}"
    for a, b in zip(g, w):
        assert list(a) == list(b), f"text {i + 1}: keys {list(a)} vs {list(b)}"
        for k in a:
            if k == "score":
                worst = max(worst, abs(a[k] - b[k]))
                assert abs(a[k] - b[k]) <= 1e-4, f"text {i + 1}: score {a[k]} vs {b[k]}"
            else:
                assert a[k] == b[k], f"text {i + 1}: {k} {a[k]!r} vs {b[k]!r}"
        n += 1
assert n > 20, f"only {n} entities: the fixture proves little"
print(f"{n} entities over {len(got)} texts equal the pipeline's (scores within {worst:.1e})")
PY
    ); then ok "predict $s: $msg"; else bad "predict $s: $msg"; fi
done

# 1b. serve: /predict (and POST / with the Inference API's parameters) answers what
#     predict printed (a string and a list of inputs;
#     scores within 1e-5, since a batch of other texts pads to another length)
"$BERTC" serve --model "$fx/model" --port 0 --threads 1 2> "$tmp/serve.err" &
spid=$!
port=""
for _ in $(seq 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/serve.err" | sed 's/.*://')
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    bad "serve did not start: $(cat "$tmp/serve.err")"
elif msg=$(python3 - "$port" "$fx/texts.txt" "$tmp/p_simple.jsonl" <<'PY'
import http.client, json, sys, time
port, texts, want = int(sys.argv[1]), open(sys.argv[2], encoding="utf-8").read().splitlines(), \
    [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
def post(body, path="/predict"):
    for _ in range(50):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, json.loads(r.read())
        except ConnectionRefusedError:
            time.sleep(0.1)
    raise SystemExit("no connection")
def same(a, b):  # scores within 1e-5: another batch shape sums in another order
    return len(a) == len(b) and all(list(x) == list(y) and all(
        abs(x[k] - y[k]) <= 1e-5 if k == "score" else x[k] == y[k] for k in x) for x, y in zip(a, b))
st, one = post({"inputs": texts[1]})
assert st == 200 and same(one, want[1]), (st, one, want[1])
st, many = post({"inputs": texts[:5]})
assert st == 200 and len(many) == 5 and all(same(m, w) for m, w in zip(many, want[:5])), (st, many)
# The Inference API's route and parameters: the same entities, in the shape
# InferenceClient.token_classification reads (a string's list of entities).
st, root = post({"inputs": texts[1], "parameters": {"top_k": 2}}, "/")
assert st == 200 and same(root, want[1]), (st, root, want[1])
print(f"/predict gives predict's entities for a string and a list of {len(many)}; POST / with parameters the same")
PY
); then ok "serve: $msg"; else bad "serve: $msg"; fi
kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null

# 2. eval against seqeval on bertc's own predictions
if "$BERTC" eval --model "$fx/model" --data "$fx/tiny.conll" --run-dir "$tmp/ev" > "$tmp/ev.txt" 2>&1; then
    if msg=$(python3 - "$tmp/ev" <<'PY'
import json, os, sys
from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score
d = sys.argv[1]
e = json.load(open(os.path.join(d, "eval.json")))
rows = [json.loads(l) for l in open(os.path.join(d, "predictions.jsonl"), encoding="utf-8")]
yt, yp = [r["tags"] for r in rows], [r["pred"] for r in rows]
assert e["task"] == "token-classification" and e["sentences"] == len(rows) == 40, e["sentences"]
for k, f in [("f1", f1_score), ("precision", precision_score), ("recall", recall_score), ("accuracy", accuracy_score)]:
    assert abs(e[k] - f(yt, yp)) <= 1e-12, f"{k}: bertc {e[k]}, seqeval {f(yt, yp)}"
rep = classification_report(yt, yp, digits=2)
assert e["report"] == rep, f"report differs:\n{e['report']}\n---\n{rep}"
assert sum(map(sum, e["confusion"])) == sum(len(t) for t in yt), "confusion matrix does not count every word"
print(f"f1 {e['f1']:.4f}, accuracy {e['accuracy']:.4f} and the report text equal seqeval's")
PY
    ); then ok "eval: $msg"; else bad "eval: $msg"; fi
else
    bad "eval: $(tail -2 "$tmp/ev.txt")"
fi

# 3. a short training run
if "$BERTC" train --task token-classification --model "$fx/model" --train "$fx/tiny.conll" --eval "$fx/tiny.conll" \
        --epochs 4 --batch-size 8 --lr 5e-4 --logging-steps 5 --eval-strategy epoch --save-strategy no --seed 3 \
        --no-report --out "$tmp/run" > "$tmp/train.txt" 2>&1; then
    if msg=$(python3 - "$tmp/run" <<'PY'
import json, os, sys
d = sys.argv[1]
log = [json.loads(l) for l in open(os.path.join(d, "log.jsonl"))]
losses = [r["loss"] for r in log if "loss" in r]
evals = [r for r in log if "eval_f1" in r]
assert len(losses) >= 3 and losses[-1] < losses[0], f"losses {losses}"
assert len(evals) == 4 and all("eval_precision" in r and "eval_recall" in r for r in evals), evals
cfg = json.load(open(os.path.join(d, "model", "config.json")))
assert cfg["architectures"] == ["BertForTokenClassification"], cfg["architectures"]
assert sorted(cfg["id2label"].values()) == ["B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O"]
run = json.load(open(os.path.join(d, "run.json")))
assert run["settings"]["task"] == "token-classification"
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, eval loss {evals[0]['eval_loss']:.3f} -> {evals[-1]['eval_loss']:.3f}")
PY
    ); then ok "train: $msg"; else bad "train: $msg"; fi
    "$BERTC" predict --model "$tmp/run/model" "Peter met Angela in Berlin." > "$tmp/p.json" 2>&1 &&
        python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$tmp/p.json" && ok "predict on the trained folder" ||
        bad "predict on the trained folder: $(cat "$tmp/p.json")"
else
    bad "train: $(tail -3 "$tmp/train.txt")"
fi

# 4. bad input: one line naming the file and line, exit 1, nothing written
expect_fail() { # name, expected text, command...
    local name=$1 want=$2
    shift 2
    "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$? lines
    lines=$(wc -l < "$tmp/err")
    if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q -- "$want" "$tmp/err" && [ ! -e "$tmp/bad" ]; then
        ok "$name: $(cat "$tmp/err")"
    else
        bad "$name: rc $rc, $lines lines: $(cat "$tmp/err"); OUT exists: $([ -e "$tmp/bad" ] && echo yes || echo no)"
    fi
}
printf 'EU B-ORG\nrejects\nGerman B-MISC\n' > "$tmp/one.conll"
expect_fail "one-column CoNLL line" "one.conll:2" \
    "$BERTC" train --task token-classification --model "$fx/model" --train "$tmp/one.conll" --eval-strategy no --out "$tmp/bad"
printf '{"tokens": ["EU", "rejects"], "ner_tags": ["B-ORG"]}\n' > "$tmp/uneq.jsonl"
expect_fail "unequal token/tag lists" "uneq.jsonl:1" \
    "$BERTC" train --task token-classification --model "$fx/model" --train "$tmp/uneq.jsonl" --eval-strategy no --out "$tmp/bad"
printf 'EU B-ORG\nrejects O\n\nParis B-CITY\n' > "$tmp/unk.conll"
expect_fail "tag the model does not know" "unk.conll:4" \
    "$BERTC" eval --model "$fx/model" --data "$tmp/unk.conll" --run-dir "$tmp/bad"
expect_fail "a text-classification folder as a token model" "not token classification" \
    "$BERTC" predict --task token-classification --model "${BERTC_FIXTURES:-$root/build/fixtures}/forward/minilm2" "Berlin"
[ $fail -eq 0 ] && echo "token_cli: all checks passed" || echo "token_cli: some checks failed"
exit $fail
