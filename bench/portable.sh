#!/usr/bin/env bash
# portable.sh: does the distribution build (make portable: x86-64-v3 baseline,
# kernels picked at run time) lose speed against the native one (make:
# -march=native)? `bertc predict` on the same IMDB test reviews with both
# binaries, alternated round by round (A B A B ...) so that load on a shared
# machine falls on both alike; the ratio of the median throughputs. Writes
# bench/results/portable.json with the CPU, the kernels each binary picked and
# OpenBLAS's kernel. Never in CI.
#   bench/portable.sh [ROUNDS]   (default 5; MODEL, N, MAXLEN, BATCH, THREADS in the environment)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
model=${MODEL:-all-MiniLM-L6-v2}
n=${N:-256}
maxlen=${MAXLEN:-256}
batch=${BATCH:-32}
threads=${THREADS:-$(nproc)}
imdb=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
work=$root/bench/work/portable
mkdir -p "$work" "$root/bench/results"
native=$root/build/bertc
portable=$root/build-install/bertc
[ -x "$native" ] || make -C "$root" -s build/bertc
make -C "$root" -s portable >/dev/null
# the first N test reviews, one per line
python3 - "$imdb" "$n" "$work/texts.txt" <<'PY'
import sys, tarfile
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
texts = []
with tarfile.open(path) as t:
    for m in t:
        if m.isfile() and "/test/" in m.name and m.name.endswith(".txt"):
            texts.append(t.extractfile(m).read().decode("utf-8").replace("\n", " ").replace("\r", " "))
            if len(texts) == n: break
open(out, "w", encoding="utf-8").write("\n".join(texts) + "\n")
PY
one() { # $1: binary; prints "sequences_per_second cpu_seconds" (user + system, the child's rusage)
    python3 - "$1" predict --model "$model" --input "$work/texts.txt" --max-length "$maxlen" --batch-size "$batch" \
        --threads "$threads" --stats <<'PY'
import json, resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.loads(p.stderr.strip().splitlines()[-1])["sequences_per_second"], round(ru.ru_utime + ru.ru_stime, 3))
PY
}
one "$native" >/dev/null; one "$portable" >/dev/null   # warm the page cache
: >"$work/rounds.txt"
for r in $(seq "$rounds"); do
    a=$(one "$native"); b=$(one "$portable")
    echo "$r $a $b" | tee -a "$work/rounds.txt" >&2   # round, native seq/s cpu s, portable seq/s cpu s
done
"$native" info --model "$model" --json >"$work/native_info.json"
"$portable" info --model "$model" --json >"$work/portable_info.json"
python3 - "$work" "$root/bench/results/portable.json" "$model" "$n" "$maxlen" "$batch" "$threads" <<'PY'
import json, os, platform, statistics, subprocess, sys, datetime
work, out, model, n, maxlen, batch, threads = sys.argv[1:]
rows = [l.split() for l in open(os.path.join(work, "rounds.txt"))]
nat = [float(r[1]) for r in rows]; por = [float(r[3]) for r in rows]
nat_cpu = [float(r[2]) for r in rows]; por_cpu = [float(r[4]) for r in rows]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
info = lambda f: json.load(open(os.path.join(work, f)))["cpu"]
res = {
    "benchmark": "portable vs native build, bertc predict",
    "date": datetime.date.today().isoformat(), "cpu": cpu, "cpu_count": os.cpu_count(),
    "cpu_flags": info("native_info.json")["cpu_flags"], "loadavg_end": open("/proc/loadavg").read().split()[:3],
    "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
    "model": model, "texts": int(n), "max_length": int(maxlen), "batch_size": int(batch), "threads": int(threads),
    "native": {"kernels": info("native_info.json")["kernels"], "sequences_per_second": nat,
               "median": statistics.median(nat), "cpu_seconds": nat_cpu, "median_cpu_seconds": statistics.median(nat_cpu)},
    "portable": {"kernels": info("portable_info.json")["kernels"], "sequences_per_second": por,
                 "median": statistics.median(por), "cpu_seconds": por_cpu, "median_cpu_seconds": statistics.median(por_cpu)},
    "per_round_ratios": [round(b / a, 3) for a, b in zip(nat, por)],
}
# throughput: > 1 means the portable build is faster; CPU seconds: < 1 means it used less CPU
res["ratio_portable_over_native"] = res["portable"]["median"] / res["native"]["median"]
res["cpu_ratio_portable_over_native"] = res["portable"]["median_cpu_seconds"] / res["native"]["median_cpu_seconds"]
json.dump(res, open(out, "w"), indent=2)
print("native %.2f seq/s, portable (%s kernels) %.2f seq/s: ratio %.3f; CPU seconds ratio %.3f; on %s (%d cores, load %s)" % (
    res["native"]["median"], res["portable"]["kernels"], res["portable"]["median"],
    res["ratio_portable_over_native"], res["cpu_ratio_portable_over_native"], cpu, os.cpu_count(),
    " ".join(res["loadavg_end"])))
PY
