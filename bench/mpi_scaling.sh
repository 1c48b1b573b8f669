#!/usr/bin/env bash
# mpi_scaling.sh: data parallelism over MPI on this machine (issue 14).
#   A: 1 process x 2 threads, --gradient-accumulation-steps 2
#   B: 2 ranks x 1 thread (mpirun -np 2), --gradient-accumulation-steps 1
# The same global batch (2 x 8 reviews of IMDB at 128 tokens, all-MiniLM-L6-v2),
# STEPS optimizer steps, no evaluation, no checkpoints. Reports the training
# throughput of both, the communication share of B's step (its run.json:
# seconds in the gradient allreduce / seconds in steps, rank 0), and the
# allreduce cost per megabyte on idle ranks (bench/allreduce.c). From those, a
# PROJECTION (not a measurement) of the throughput at 8 and 64 ranks: a ring
# allreduce moves 2 (N-1)/N of the gradient bytes per rank, the per-rank compute
# stays (same per-rank batch), and the allreduce is either not hidden at all (a
# bound: all of it after the backward) or fully hidden behind the backward (the
# other bound). bertc starts each layer's buckets during the backward of a rank's
# last micro-batch; B's run.json gives the part left exposed (allreduce_seconds)
# and the whole time the buckets were in flight (allreduce_inflight_seconds).
# Writes bench/results/mpi_scaling.json (the machine named) and prints the table.
#   STEPS (default 12), THREADS_A (default 2), NET_GBPS (the assumed inter-node
#   bandwidth for the multi-machine column, default 12.5 GB/s = 100 Gb/s InfiniBand)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=${BERTC:-$root/build/bertc}
IM=${BERTC_IMDB:-$root/../shared/data/imdb/aclImdb-text.tar.gz}
work=${WORK:-$root/bench/work/mpi_scaling}
steps=${STEPS:-12}
net=${NET_GBPS:-12.5}
mkdir -p "$work" "$root/bench/results"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
command -v mpirun >/dev/null || { echo "mpi_scaling: mpirun not installed (tools/setup.sh apt)" >&2; exit 1; }
mpc=$(pkg-config --exists mpi && echo mpi || echo ompi-c)
cc -O2 "$root/bench/allreduce.c" $(pkg-config --cflags --libs "$mpc") -o "$work/allreduce"

if [ -z "${REPORT_ONLY:-}" ]; then  # REPORT_ONLY=1: the summary again from $work's last runs
cut -d' ' -f1-3 /proc/loadavg >"$work/load0"
common=(--model all-MiniLM-L6-v2 --train "$IM:train" --train-limit 1024 --max-length 128 --batch-size 8
        --max-steps "$steps" --eval-strategy no --save-strategy no --logging-steps 1 --seed 42 --overwrite --no-report)
echo "mpi_scaling: A = 1 process x ${THREADS_A:-2} threads, accumulation 2" >&2
"$B" train "${common[@]}" --threads "${THREADS_A:-2}" --gradient-accumulation-steps 2 --out "$work/a" \
    >"$work/a.out" 2>"$work/a.err"
echo "mpi_scaling: B = 2 ranks x 1 thread, accumulation 1" >&2
mpirun -np 2 --oversubscribe "$B" train "${common[@]}" --threads 1 --out "$work/b" >"$work/b.out" 2>"$work/b.err"
# the gradient's size: the model's parameters x 4 bytes
mb=$(python3 -c "import json; d=json.load(open('$work/b/run.json'))['distributed']; print(d['allreduce_bytes']/d['steps_timed']/1e6)")
echo "mpi_scaling: allreduce of $mb MB on idle ranks" >&2
mpirun -np 2 --oversubscribe "$work/allreduce" "$mb" 10 >"$work/allreduce.json"
cut -d' ' -f1-3 /proc/loadavg >"$work/load1"
fi

python3 - "$work" "$root/bench/results/mpi_scaling.json" "$net" <<'PY'
import json, platform, subprocess, sys, time
work, out, net = sys.argv[1], sys.argv[2], float(sys.argv[3])
a = json.load(open(f"{work}/a/run.json")); b = json.load(open(f"{work}/b/run.json"))
ar = json.load(open(f"{work}/allreduce.json"))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
cpu += " (AVX-512)" if " avx512f" in flags else " (AVX2, no AVX-512)" if " avx2" in flags else ""
d = b["distributed"]
steps = d["steps_timed"]
step_b = d["step_seconds"] / steps            # a 2-rank step, rank 0 (allreduce included)
comm_b = d["allreduce_seconds"] / steps       # of which waited for after the backward (exposed)
inflight_b = d.get("allreduce_inflight_seconds", 0) / steps  # buckets in flight, overlap included
compute = step_b - comm_b                     # one rank's forward+backward of its micro-batch
                                              # (with whatever the overlapped allreduce slowed it)
mbytes = d["allreduce_bytes"] / steps / 1e6   # gradient megabytes per step
s_per_mb = ar["seconds_per_mb"]               # 2-rank allreduce on idle ranks, per MB
# ring allreduce: each rank sends and receives 2 (N-1)/N of the bytes; at N = 2
# that is 1 x the bytes, so the measured per-MB cost is the per-MB link cost.
def ring(n, per_mb): return 2 * (n - 1) / n * mbytes * per_mb
rows = []
for n in (2, 8, 64):
    for link, per_mb in (("idle allreduce here (measured)", s_per_mb),
                         ("exposed wait in B's steps (measured)", comm_b / mbytes),
                         (f"{net:g} GB/s network (assumed)", 1e-3 / net)):
        t = ring(n, per_mb)
        rows.append({"ranks": n, "link": link, "allreduce_seconds": t, "compute_seconds": compute,
                     "share_no_overlap": t / (compute + t),
                     "speedup_no_overlap": n * compute / (compute + t),
                     "speedup_full_overlap": n * compute / max(compute, t)})
res = {
    "what": "issue 14: 1 process x 2 threads vs 2 MPI ranks x 1 thread, same global batch; projection to 8 and 64 ranks",
    "machine": f"{cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores",
    "mpi": d["mpi"], "date": time.strftime("%Y-%m-%d"),
    "load_average_before_after": [open(f"{work}/load0").read().strip(), open(f"{work}/load1").read().strip()],
    "model": "all-MiniLM-L6-v2", "batch": "2 x 8 reviews x 128 tokens per optimizer step", "steps": steps,
    "a_1proc_2threads": {"train_samples_per_second": a["train_samples_per_second"], "wall_seconds": a["wall_seconds"]},
    "b_2ranks_1thread": {"train_samples_per_second": b["train_samples_per_second"], "wall_seconds": b["wall_seconds"],
                         "step_seconds": step_b, "allreduce_seconds_per_step": comm_b,
                         "communication_share": comm_b / step_b,
                         "allreduce_inflight_seconds_per_step": inflight_b},
    "b_over_a_throughput": b["train_samples_per_second"] / a["train_samples_per_second"],
    "gradient_megabytes": mbytes,
    "allreduce_idle_2ranks": ar,
    "projection": {"note": "PROJECTION, not measured: ring allreduce 2(N-1)/N x gradient bytes per rank at the "
                           "per-MB cost given; per-rank compute as measured in B; speedup against one rank of B's compute",
                   "rows": rows},
}
json.dump(res, open(out, "w"), indent=2)
print(f"machine: {res['machine']}; {d['mpi']}; gradient {mbytes:.1f} MB")
print(f"A 1 process x 2 threads: {a['train_samples_per_second']:.2f} samples/s")
print(f"B 2 ranks x 1 thread:    {b['train_samples_per_second']:.2f} samples/s  (B/A = {res['b_over_a_throughput']:.2f}); "
      f"step {step_b:.3f} s of which waiting for the allreduce {comm_b:.3f} s = {100 * comm_b / step_b:.1f}% "
      f"(buckets in flight {inflight_b:.3f} s per step, from the first layer's start)")
print(f"idle 2-rank allreduce: {ar['seconds_median']:.4f} s for {ar['bytes']/1e6:.1f} MB = {1e3 * s_per_mb:.3f} ms/MB")
print("| ranks | link | allreduce s/step | comm share (no overlap) | speedup no overlap | speedup full overlap |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['ranks']} | {r['link']} | {r['allreduce_seconds']:.3f} | {100 * r['share_no_overlap']:.0f}% | "
          f"{r['speedup_no_overlap']:.1f}x | {r['speedup_full_overlap']:.1f}x |")
PY
