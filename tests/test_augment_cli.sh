#!/usr/bin/env bash
# test_augment_cli.sh: `bertc augment` and `bertc train --augment` end to end.
# The same seed writes the same file byte for byte and another seed another
# file; every example keeps its label (n + 1 rows per input row, label by label);
# [CLS]/[SEP] survive in every copy; CSV, TSV, JSON Lines and fastText come out
# in the input's format and read back with `bertc data`; WordNet missing
# (WNSEARCHDIR at an empty folder) is a one-line error and writes nothing;
# contextual substitution says it is not available; a tiny training run with
# --augment trains on the augmented set and records it in run.json.
# Needs Debian's wordnet-base. Fixtures: tools/gen_train.py (the tiny model).
set -u
BERTC=${BERTC:?} ; F=${BERTC_FIXTURES:?}/train
[ -f /usr/share/wordnet/data.noun ] || [ -n "${WNSEARCHDIR:-}" ] || { echo "SKIP: WordNet (wordnet-base) is not installed"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

cat >"$tmp/in.csv" <<'EOF'
text,label
"[CLS] The movie was a good film, truly great. [SEP]",pos
"[CLS] A terrible, boring story with bad actors [SEP]",neg
"[CLS] Wonderful acting and a beautiful ending [SEP]",pos
EOF

# determinism per seed
"$BERTC" augment --data "$tmp/in.csv" --output "$tmp/a.csv" --n 3 --seed 7 2>"$tmp/err" || { cat "$tmp/err"; bad "augment failed"; }
"$BERTC" augment --data "$tmp/in.csv" --output "$tmp/b.csv" --n 3 --seed 7 2>/dev/null || bad "augment (again) failed"
"$BERTC" augment --data "$tmp/in.csv" --output "$tmp/c.csv" --n 3 --seed 8 2>/dev/null || bad "augment seed 8 failed"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || bad "the same seed wrote different files"
cmp -s "$tmp/a.csv" "$tmp/c.csv" && bad "seeds 7 and 8 wrote the same file"

# labels kept and specials untouched: each input row is followed by its 3 copies
python3 - "$tmp/in.csv" "$tmp/a.csv" <<'PY' || bad "labels or special tokens"
import csv, sys
inp = list(csv.DictReader(open(sys.argv[1])))
out = list(csv.DictReader(open(sys.argv[2])))
assert len(out) == 4 * len(inp), (len(out), len(inp))
for i, row in enumerate(inp):
    group = out[4 * i: 4 * i + 4]
    assert group[0]["text"] == row["text"], "the original comes first, unchanged"
    for g in group:
        assert g["label"] == row["label"], ("label changed", g)
        assert g["text"].count("[CLS]") == 1 and g["text"].count("[SEP]") == 1, ("special token touched", g["text"])
    assert any(g["text"] != row["text"] for g in group[1:]), "no copy changed"
print("labels and special tokens kept:", len(out), "rows")
PY

# every format comes out as it came in, and reads back
python3 - "$tmp" <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/in.csv")))
with open(d + "/in.tsv", "w") as f:
    f.write("text\tlabel\n" + "".join(r["text"] + "\t" + r["label"] + "\n" for r in rows))
with open(d + "/in.jsonl", "w") as f:
    f.write("".join(json.dumps({"text": r["text"], "label": r["label"]}) + "\n" for r in rows))
with open(d + "/in.txt", "w") as f:
    f.write("".join("__label__" + r["label"] + " " + r["text"] + "\n" for r in rows))
PY
for ext in tsv jsonl txt; do
    "$BERTC" augment --data "$tmp/in.$ext" --output "$tmp/out.$ext" --n 2 2>/dev/null || { bad "augment .$ext failed"; continue; }
    "$BERTC" data --data "$tmp/out.$ext" --json --samples 0 --model "$F/tiny" >"$tmp/data.$ext.json" 2>"$tmp/err" ||
        { cat "$tmp/err"; bad ".$ext output does not read back"; continue; }
    python3 - "$tmp/data.$ext.json" "$ext" <<'PY' || bad ".$ext: counts"
import json, sys
j = json.load(open(sys.argv[1]))
c = dict(zip(j["labels"], j["counts"]))
assert j["n"] == 9 and c == {"neg": 3, "pos": 6}, (j["n"], c)
print(sys.argv[2], "reads back:", j["n"], "examples,", c)
PY
done
head -c 1 "$tmp/out.jsonl" | grep -q '{' || bad "jsonl output is not JSON Lines"
grep -q '^__label__' "$tmp/out.txt" || bad "fastText output has no __label__ prefix"
head -1 "$tmp/out.tsv" | grep -q $'^text\tlabel$' || bad "tsv output has no tab header"

# flags: one-line errors naming the flag
"$BERTC" augment --data "$tmp/in.csv" --output "$tmp/x.csv" --alpha 2 2>"$tmp/err" && bad "--alpha 2 accepted"
grep -q -- "--alpha" "$tmp/err" || bad "--alpha error does not name the flag: $(cat "$tmp/err")"
"$BERTC" augment --data "$tmp/in.csv" --output "$tmp/x.csv" --method eda:beta=1 2>"$tmp/err" && bad "eda:beta=1 accepted"
grep -q "beta" "$tmp/err" || bad "unknown key not named"

# WordNet missing: one line, non-zero, nothing written
mkdir -p "$tmp/empty"
WNSEARCHDIR="$tmp/empty" "$BERTC" augment --data "$tmp/in.csv" --output "$tmp/none.csv" 2>"$tmp/err" && bad "missing WordNet accepted"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "missing WordNet: not one line: $(cat "$tmp/err")"
grep -q "WordNet dictionary not found in $tmp/empty" "$tmp/err" || bad "missing WordNet: unclear: $(cat "$tmp/err")"
[ -e "$tmp/none.csv" ] && bad "missing WordNet: a file was written"
WNSEARCHDIR="$tmp/empty" "$BERTC" train --model "$F/tiny" --train "$F/train.jsonl" --out "$tmp/run0" --augment eda \
    --eval-strategy no --no-report --threads 1 2>"$tmp/err" && bad "train --augment without WordNet accepted"
grep -q "WordNet dictionary not found" "$tmp/err" || bad "train --augment without WordNet: $(cat "$tmp/err")"

# contextual: not available without a masked-LM head
"$BERTC" augment --data "$tmp/in.csv" --output "$tmp/x.csv" --method contextual --model "$F/tiny" 2>"$tmp/err" &&
    bad "contextual accepted"
grep -q "not available" "$tmp/err" || bad "contextual: $(cat "$tmp/err")"
[ -e "$tmp/x.csv" ] && bad "contextual without a head wrote a file"
"$BERTC" train --model "$F/tiny" --train "$F/train.jsonl" --out "$tmp/run1" --augment contextual \
    --eval-strategy no --no-report 2>"$tmp/err" && bad "train --augment contextual on a model without a head accepted"
grep -q -- "--augment: contextual substitution is not available" "$tmp/err" || bad "train --augment contextual: $(cat "$tmp/err")"
[ -e "$tmp/run1" ] && bad "a refused --augment contextual created OUT"

# contextual with a masked-LM head (tools/gen_mlm.py): same seed same file, labels
# kept, [CLS]/[SEP] untouched, no WordNet needed; train --augment contextual:model=...
M=${BERTC_FIXTURES}/mlm/bert
if [ -f "$M/model.safetensors" ]; then
    for s in 7 7 8; do
        WNSEARCHDIR="$tmp/empty" "$BERTC" augment --data "$tmp/in.csv" --output "$tmp/ctx$s.$RANDOM.csv" --method contextual:alpha=0.3 \
            --model "$M" --n 3 --seed $s 2>"$tmp/err" || { cat "$tmp/err"; bad "contextual augment (seed $s) failed"; }
    done
    set -- "$tmp"/ctx7.*.csv
    [ $# -eq 2 ] && cmp -s "$1" "$2" || bad "contextual: the same seed wrote different files"
    cmp -s "$1" "$tmp"/ctx8.*.csv && bad "contextual: seeds 7 and 8 wrote the same file"
    python3 - "$tmp/in.csv" "$1" <<'PY' || bad "contextual: labels or special tokens"
import csv, sys
inp = list(csv.DictReader(open(sys.argv[1])))
out = list(csv.DictReader(open(sys.argv[2])))
assert len(out) == 4 * len(inp), (len(out), len(inp))
for i, row in enumerate(inp):
    group = out[4 * i: 4 * i + 4]
    assert group[0]["text"] == row["text"]
    for g in group:
        assert g["label"] == row["label"], ("label changed", g)
        assert g["text"].startswith("[CLS] ") and g["text"].endswith(" [SEP]"), ("special token touched", g["text"])
        assert len(g["text"].split()) == len(row["text"].split()), ("word count changed", g["text"])
    assert any(g["text"] != row["text"] for g in group[1:]), "no copy changed"
print("contextual: labels, special tokens and word counts kept:", len(out), "rows")
PY
    "$BERTC" train --model "$F/tiny" --train "$F/train.jsonl" --out "$tmp/runc" --augment "contextual:model=$M,n=1" \
        --epochs 1 --batch-size 16 --lr 1e-3 --threads 1 --eval-strategy no --no-report >"$tmp/out" 2>"$tmp/err" ||
        { cat "$tmp/err"; bad "train --augment contextual failed"; }
    grep -q "augment: 64 training examples -> 128 (contextual, 1 copies each)" "$tmp/err" ||
        bad "train --augment contextual: no 64 -> 128 line: $(grep augment "$tmp/err")"
else
    echo "FAIL: fixture $M missing (tools/gen_mlm.py)"; fail=1
fi

# train --augment: the training set grows by n copies per example
"$BERTC" train --model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --out "$tmp/run" \
    --augment eda:alpha=0.2,n=2 --epochs 1 --batch-size 16 --lr 1e-3 --threads 1 --no-report >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err"; bad "train --augment failed"; }
grep -q "augment: 64 training examples -> 192" "$tmp/err" || bad "train --augment: no 64 -> 192 line: $(grep augment "$tmp/err")"
grep -Eq '"augment":[[:space:]]*"eda:alpha=0.2,n=2"' "$tmp/run/run.json" || bad "train --augment not in run.json"
"$BERTC" train --model "$F/tiny" --train "$F/train.jsonl" --out "$tmp/run2" --augment eda:n=0 2>"$tmp/err" && bad "--augment eda:n=0 accepted"
grep -q -- "--augment" "$tmp/err" || bad "--augment error does not name the flag"
[ -e "$tmp/run2" ] && bad "a bad --augment created OUT"

[ $fail -eq 0 ] && echo "test_augment_cli.sh: all checks passed"
exit $fail
