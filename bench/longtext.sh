#!/usr/bin/env bash
# longtext.sh: issue 7's comparison of ways to read reviews longer than the
# window, on IMDB with all-MiniLM-L6-v2: the notebook's 1,000 training reviews
# (seed 42), 3 epochs, batch 8, scored once at the end on the same 2,000 test
# reviews as bench/notebook.py. Writes bench/results/longtext.json.
#   truncation at 128 | truncation at 512 | head+tail at 512 | chunks of 512 (stride 128, <= 4 windows)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=${BERTC:-$root/build/bertc}
IM=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
work=${WORK:-$root/bench/work/longtext}
threads=${THREADS:-$(nproc)}
mkdir -p "$work" "$root/bench/results"
steps=375   # 1,000 reviews / batch 8 = 125 steps per epoch, 3 epochs: evaluate once, at the end
common=(--model all-MiniLM-L6-v2 --train "$IM:train" --train-limit 1000 --eval "$IM:test" --eval-limit 2000
        --epochs 3 --batch-size 8 --eval-batch-size 32 --eval-strategy steps --eval-steps $steps
        --save-strategy no --logging-steps 50 --seed 42 --threads "$threads" --overwrite --no-report)
run() {
    local name=$1; shift
    if [ -n "${SKIP_DONE:-}" ] && [ -f "$work/$name/run.json" ]; then echo "longtext: $name (kept)" >&2; return; fi
    echo "longtext: $name" >&2
    cut -d' ' -f1-3 /proc/loadavg > "$work/$name.load0"
    "$B" train "${common[@]}" "$@" --out "$work/$name" > "$work/$name.out" 2> "$work/$name.err"
    cut -d' ' -f1-3 /proc/loadavg > "$work/$name.load1"
}
run trunc128 --max-length 128
run trunc512 --max-length 512
run headtail512 --max-length 512 --long-text head+tail
run chunks512 --max-length 512 --long-text chunks --stride 128 --max-windows 4
python3 - "$work" "$root/bench/results/longtext.json" <<'PY'
import json, os, sys, platform, time
work, out = sys.argv[1], sys.argv[2]
rows = []
for name in ["trunc128", "trunc512", "headtail512", "chunks512"]:
    r = json.load(open(os.path.join(work, name, "run.json")))
    ev = [json.loads(l) for l in open(os.path.join(work, name, "log.jsonl")) if '"eval_accuracy"' in l]
    rows.append({"setting": name, "eval_accuracy": ev[-1]["eval_accuracy"], "eval_loss": ev[-1]["eval_loss"],
                 "wall_seconds": r.get("wall_seconds"), "train_samples_per_second": r.get("train_samples_per_second"),
                 "loadavg_before": open(os.path.join(work, name + ".load0")).read().split(),
                 "loadavg_after": open(os.path.join(work, name + ".load1")).read().split()})
    print(f"{name:>12}: accuracy {ev[-1]['eval_accuracy']:.4f} on 2,000 test reviews, "
          f"wall {r.get('wall_seconds', 0):.0f} s")
json.dump({"benchmark": "longtext", "model": "all-MiniLM-L6-v2", "train": 1000, "eval": 2000, "epochs": 3,
           "cpu_count": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "rows": rows}, open(out, "w"), indent=2)
PY
