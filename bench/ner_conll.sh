#!/usr/bin/env bash
# ner_conll.sh: named-entity recognition on CoNLL-2003, bertc against
# transformers' Trainer with the same recipe, over seeds (issue 11).
#   all-MiniLM-L6-v2 as the encoder, a new token-classification head; CoNLL-2003
#   train (14,041 sentences), scored on test (3,453) with seqeval's entity F1;
#   RECIPE below, 2 threads each, one run at a time.
# Writes bench/results/ner_conll.json (every run, the means and spreads, the
# machine) and keeps each bertc run in bench/work/ner/SEED/.
#   SEEDS="42 43 44"  SIDES="bertc trainer"  EPOCHS=1  BATCH=32  LR=5e-5
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BERTC=${BERTC:-build/bertc}
DATA=${BERTC_CONLL:-$root/../shared/data/conll2003}
MODEL=${MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/bertc/models/all-MiniLM-L6-v2}
SEEDS=${SEEDS:-42 43 44}
SIDES=${SIDES:-bertc trainer}
EPOCHS=${EPOCHS:-1}
BATCH=${BATCH:-32}
LR=${LR:-5e-5}
MAXLEN=${MAXLEN:-128}
THREADS=${THREADS:-2}
work=bench/work/ner
mkdir -p "$work" bench/results
for f in train.txt test.txt; do [ -f "$DATA/$f" ] || { echo "ner_conll: $DATA/$f missing" >&2; exit 1; }; done
for seed in $SEEDS; do
    for side in $SIDES; do
        out=$work/$side-$seed.json
        [ -f "$out" ] && { echo "ner_conll: $out exists, kept"; continue; }
        echo "ner_conll: $side seed $seed ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
        if [ "$side" = bertc ]; then
            run=$work/bertc-$seed
            start=$(date +%s.%N)
            OMP_NUM_THREADS=$THREADS "$BERTC" train --task token-classification --model "$MODEL" \
                --train "$DATA/train.txt" --eval "$DATA/test.txt" --format conll --max-length "$MAXLEN" \
                --epochs "$EPOCHS" --batch-size "$BATCH" --eval-batch-size 64 --lr "$LR" --seed "$seed" \
                --eval-strategy epoch --save-strategy no --logging-steps 100 --threads "$THREADS" \
                --out "$run" --overwrite > "$run.log" 2>&1 || { tail -5 "$run.log"; exit 1; }
            end=$(date +%s.%N)
            python3 - "$run/run.json" "$out" "$seed" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
res = {"side": "bertc", "seed": int(sys.argv[3]), "test_f1": r["eval_f1"], "test_accuracy": r["eval_accuracy"],
       "test_precision": r.get("eval_precision"), "test_recall": r.get("eval_recall"), "eval_loss": r["eval_loss"],
       "train_wall_seconds": r["wall_seconds"], "train_samples_per_second": r["train_samples_per_second"],
       "process_wall_seconds": float(sys.argv[5]) - float(sys.argv[4]), "settings": r["settings"]}
json.dump(res, open(sys.argv[2], "w"), indent=1)
print(json.dumps({k: v for k, v in res.items() if k != "settings"}))
PY
        else
            python3 bench/ner_trainer.py "$MODEL" "$DATA/train.txt" "$DATA/test.txt" "$out" --seed "$seed" \
                --epochs "$EPOCHS" --batch-size "$BATCH" --lr "$LR" --max-length "$MAXLEN" --threads "$THREADS" \
                > "$work/trainer-$seed.log" 2>&1 || { tail -5 "$work/trainer-$seed.log"; exit 1; }
            tail -1 "$work/trainer-$seed.log"
        fi
    done
done
python3 - "$work" bench/results/ner_conll.json <<'PY'
import glob, json, os, platform, statistics, sys
work, out = sys.argv[1], sys.argv[2]
runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, "*-*.json")))]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
summary = {}
for side in sorted({r["side"] for r in runs}):
    f1 = [r["test_f1"] for r in runs if r["side"] == side]
    sps = [r["train_samples_per_second"] for r in runs if r["side"] == side]
    summary[side] = {"seeds": [r["seed"] for r in runs if r["side"] == side], "test_f1": f1,
                     "f1_mean": statistics.mean(f1), "f1_stdev": statistics.stdev(f1) if len(f1) > 1 else 0.0,
                     "train_samples_per_second_mean": statistics.mean(sps),
                     "train_wall_seconds": [r["train_wall_seconds"] for r in runs if r["side"] == side]}
json.dump({"machine": {"cpu": cpu, "cores": os.cpu_count(), "avx512": "avx512f" in flags,
                       "avx512_bf16": "avx512_bf16" in flags, "kernel": platform.release()},
           "summary": summary, "runs": runs}, open(out, "w"), indent=1)
for side, s in summary.items():
    print(f"{side}: F1 {s['f1_mean']:.4f} +- {s['f1_stdev']:.4f} over seeds {s['seeds']}, "
          f"{s['train_samples_per_second_mean']:.1f} train samples/s")
PY
