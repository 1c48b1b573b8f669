#!/usr/bin/env bash
# int8_accuracy.sh: issue 13's accuracy check of --precision int8: the same
# IMDB test reviews through `bertc predict` in fp32 and in int8; how many
# labels change, how far the logits move, and (for a model fine-tuned on IMDB,
# whose labels are neg/pos) both accuracies. Writes
# bench/results/int8_accuracy.json with the machine named.
#   MODEL   default all-MiniLM-L6-v2, whose head is new (random, seed 42): then
#           accuracy means nothing and is not reported; a fine-tuned IMDB model
#           folder (the demo's runs/demo/model) gives the accuracies too
#   LIMIT   test reviews (0 = all 25,000; default 2000: every 12th and 13th in
#           file order, alternately, so both classes are in)
#   MAXLEN  tokens per review (default 128, as the demo's eval)
#   PRECISIONS  which predictions to (re)compute, default "fp32 int8"; "int8"
#           keeps WORK's fp32.jsonl and fp32.time from an earlier run on the same
#           MODEL, LIMIT and MAXLEN (checked: the texts must be the same file);
#           "none" recomputes only the summary from WORK's predictions
#   BERTC_INT8_KERNEL  onednn: oneDNN's 7-bit-weight kernel where bertc's own
#           exact one is the default (AVX2 without VNNI); the JSON names the
#           kernel the int8 run used (bertc info) either way
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=${BERTC:-$root/build/bertc}
IM=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
MODEL=${MODEL:-all-MiniLM-L6-v2}
LIMIT=${LIMIT:-2000}
MAXLEN=${MAXLEN:-128}
work=${WORK:-$root/bench/work/int8_accuracy}
out=${OUT:-$root/bench/results/int8_accuracy.json}
mkdir -p "$work" "$(dirname "$out")"
python3 - "$IM" "$LIMIT" "$work" <<'PY'
import sys, tarfile
im, limit, w = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
with tarfile.open(im, "r:gz") as tf:
    for m in tf:
        if m.isfile() and "/test/" in m.name and m.name.endswith(".txt") and ("/pos/" in m.name or "/neg/" in m.name):
            rows.append((m.name, "pos" if "/pos/" in m.name else "neg", tf.extractfile(m).read().decode("utf-8")))
rows.sort()
if limit and limit < len(rows):
    step = len(rows) / limit
    rows = [rows[int(i * step)] for i in range(limit)]
with open(w + "/texts.txt", "w") as f, open(w + "/gold.txt", "w") as g:
    for _, lab, t in rows:
        f.write(" ".join(t.split()) + "\n")
        g.write(lab + "\n")
PY
PRECISIONS=${PRECISIONS:-fp32 int8}
case " $PRECISIONS " in
*" fp32 "*) ;;
*)  # reuse fp32: only if it was computed for these very texts
    [ -s "$work/fp32.jsonl" ] && [ -s "$work/fp32.texts.sha" ] && [ -s "$work/fp32.time" ] ||
        { echo "int8_accuracy.sh: PRECISIONS=\"$PRECISIONS\" without fp32, but $work has no earlier fp32 run" >&2; exit 2; }
    sha256sum <"$work/texts.txt" | cmp -s - "$work/fp32.texts.sha" ||
        { echo "int8_accuracy.sh: $work/fp32.jsonl was computed for other texts (MODEL, LIMIT or MAXLEN changed)" >&2; exit 2; } ;;
esac
for p in $PRECISIONS; do
    [ $p = none ] && continue
    /usr/bin/time -f %e -o "$work/$p.time" "$B" predict --model "$MODEL" --max-length "$MAXLEN" \
        --threads "${THREADS:-$(nproc)}" --precision $p --all-scores --input "$work/texts.txt" >"$work/$p.jsonl" 2>"$work/$p.err"
    [ $p = fp32 ] && sha256sum <"$work/texts.txt" >"$work/fp32.texts.sha"
    [ $p = int8 ] && "$B" info --model "$MODEL" --json >"$work/int8.info.json"
done
PYTHONPATH="$root/bench" python3 - "$work" "$out" "$MODEL" "$LIMIT" "$MAXLEN" <<'PY'
import json, math, sys, time
import machine
w, out, model, limit, maxlen = sys.argv[1:]
gold = open(w + "/gold.txt").read().split()
pr = {p: [{d["label"]: d["score"] for d in json.loads(l)} for l in open(f"{w}/{p}.jsonl")] for p in ("fp32", "int8")}
n = len(gold); assert len(pr["fp32"]) == len(pr["int8"]) == n
top = lambda d: max(d, key=d.get)
same = sum(top(a) == top(b) for a, b in zip(pr["fp32"], pr["int8"]))
# 2 labels: the logit margin log(p1/p0) is what softmax keeps of the logits
labs = sorted(pr["fp32"][0])
def margin(d):
    return math.log(max(d[labs[1]], 1e-30)) - math.log(max(d[labs[0]], 1e-30))
dm = [abs(margin(a) - margin(b)) for a, b in zip(pr["fp32"], pr["int8"])]
m32 = [abs(margin(a)) for a in pr["fp32"]]
trained = set(labs) <= {"neg", "pos"}
acc = {p: (sum(top(d) == g for d, g in zip(pr[p], gold)) / n if trained else None) for p in ("fp32", "int8")}
r = {"what": "bertc predict on IMDB test reviews: fp32 vs --precision int8",
     "date": time.strftime("%Y-%m-%d %H:%M"),
     "machine": machine.describe(),
     "model": model, "head": "fine-tuned (labels neg/pos)" if trained else "new, random (seed 42): accuracy not meaningful",
     "reviews": n, "max_length": int(maxlen),
     "accuracy_fp32": acc["fp32"], "accuracy_int8": acc["int8"],
     "accuracy_diff_points": round(100 * (acc["int8"] - acc["fp32"]), 3) if trained else None,
     "labels_unchanged": same, "labels_unchanged_pct": round(100 * same / n, 3),
     "logit_margin_abs_diff_mean": sum(dm) / n, "logit_margin_abs_diff_max": max(dm),
     "fp32_logit_margin_abs_mean": sum(m32) / n,
     "seconds": {p: float(open(f"{w}/{p}.time").read().split()[-1]) for p in ("fp32", "int8")}}
try:
    info = json.load(open(w + "/int8.info.json"))
    r["int8_kernel"] = info.get("int8_kernel", "onednn (before the kernel choice existed)")
    r["int8_weight_bits"] = info.get("int8_weight_bits")
    r["onednn_isa"] = info.get("onednn_isa")
except (OSError, ValueError):
    r["int8_kernel"] = "not recorded"
json.dump(r, open(out, "w"), indent=2)
print(json.dumps(r, indent=2))
PY
