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
results=$root/bench/results/longtext.json
# SETTINGS picks which to run (default all four); a setting already recorded in
# bench/results/longtext.json is kept unless FORCE=1, so the comparison can be
# completed over several sessions (each 512-token setting takes about an hour on
# 2 AVX2 cores). The summary merges the recorded rows with the new ones.
SETTINGS=${SETTINGS:-trunc128 trunc512 headtail512 chunks512}
recorded() {
    [ -z "${FORCE:-}" ] && [ -f "$results" ] &&
        python3 -c "import json,sys; sys.exit(0 if any(r['setting'] == '$1' for r in json.load(open('$results'))['rows']) else 1)"
}
run() {
    local name=$1; shift
    case " $SETTINGS " in *" $name "*) ;; *) return ;; esac
    if recorded "$name"; then echo "longtext: $name (recorded in $results, kept)" >&2; return; fi
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
python3 - "$work" "$results" <<'PY'
import json, os, sys, platform, time
work, out = sys.argv[1], sys.argv[2]
order = ["trunc128", "trunc512", "headtail512", "chunks512"]
old = json.load(open(out)) if os.path.exists(out) else {}
rows = {r["setting"]: r for r in old.get("rows", [])}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = open("/proc/cpuinfo").read()
for name in order:
    run_json = os.path.join(work, name, "run.json")
    if not os.path.exists(run_json) or (name in rows and not os.environ.get("FORCE")):
        continue
    r = json.load(open(run_json))
    ev = [json.loads(l) for l in open(os.path.join(work, name, "log.jsonl")) if '"eval_accuracy"' in l]
    rows[name] = {"setting": name, "eval_accuracy": ev[-1]["eval_accuracy"], "eval_loss": ev[-1]["eval_loss"],
                  "wall_seconds": r.get("wall_seconds"), "train_samples_per_second": r.get("train_samples_per_second"),
                  "eval_seconds": ev[-1].get("eval_runtime"),
                  "loadavg_before": open(os.path.join(work, name + ".load0")).read().split(),
                  "loadavg_after": open(os.path.join(work, name + ".load1")).read().split(),
                  "date": time.strftime("%Y-%m-%d"), "cpu": cpu, "cpu_count": os.cpu_count(),
                  "avx512f": " avx512f " in flags, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}
for name in order:
    if name in rows:
        r = rows[name]
        print(f"{name:>12}: accuracy {r['eval_accuracy']:.4f} on 2,000 test reviews, wall {r['wall_seconds'] or 0:.0f} s "
              f"({r['train_samples_per_second'] or 0:.2f} train samples/s; {r['cpu']}, load {' '.join(r['loadavg_before'])})")
    else:
        print(f"{name:>12}: not run yet (SETTINGS={name} bench/longtext.sh)")
json.dump({"benchmark": "longtext", "model": "all-MiniLM-L6-v2", "train": 1000, "eval": 2000, "epochs": 3,
           "missing": [n for n in order if n not in rows], "rows": [rows[n] for n in order if n in rows]},
          open(out, "w"), indent=2)
PY
