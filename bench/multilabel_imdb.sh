#!/usr/bin/env bash
# multilabel_imdb.sh: issue 7's end-to-end multi-label run on a data set built
# from IMDB's ratings. Each review gets the labels
#   "positive" (rating >= 7) or "negative" (rating <= 4), and also
#   "strong" when the rating is at an extreme (1 or 10),
# so a text has one or two labels. 800 training reviews from the train split and
# 400 evaluation reviews from the test split (a fixed seeded sample of each),
# all-MiniLM-L6-v2, --multi-label, 3 epochs, batch 8, max length 128, evaluated
# every epoch: log.jsonl and report.html show whether it learns.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=${BERTC:-$root/build/bertc}
IM=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
work=${WORK:-$root/bench/work/multilabel}
mkdir -p "$work" "$root/bench/results"
python3 - "$IM" "$work" <<'PY'
import json, random, re, sys, tarfile
path, work = sys.argv[1], sys.argv[2]
rows = {"train": [], "test": []}
with tarfile.open(path, "r:gz") as tf:
    for m in tf:
        g = re.match(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$", m.name)
        if not g:
            continue
        rating = int(g.group(4))
        labels = ["positive" if rating >= 7 else "negative"] + (["strong"] if rating in (1, 10) else [])
        rows[g.group(1)].append((m.name, tf.extractfile(m).read().decode("utf-8"), labels))
for split, n in (("train", 800), ("test", 400)):
    data = sorted(rows[split])
    random.Random(42).shuffle(data)
    with open(f"{work}/{split}.jsonl", "w") as f:
        for _, text, labels in data[:n]:
            f.write(json.dumps({"text": text, "label": labels}) + "\n")
PY
"$B" train --model all-MiniLM-L6-v2 --multi-label --train "$work/train.jsonl" --eval "$work/test.jsonl" \
    --max-length 128 --epochs 3 --batch-size 8 --eval-batch-size 32 --eval-strategy epoch --save-strategy no \
    --logging-steps 25 --seed 42 --overwrite --out "$work/run" > "$work/train.out"
grep eval_ "$work/run/log.jsonl" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
for r in rows:
    print("epoch %.0f: eval_loss %.4f  micro-F1 %.4f  subset accuracy %.4f  hamming %.4f" % (
        r["epoch"], r["eval_loss"], r["eval_f1"], r["eval_accuracy"], r.get("eval_hamming_loss", float("nan"))))
json.dump({"benchmark": "multilabel_imdb", "evals": rows}, open(sys.argv[1], "w"), indent=2)
' "$root/bench/results/multilabel_imdb.json"
echo "report: $work/run/report.html"
