#!/usr/bin/env bash
# test_mpi.sh: data-parallel training over MPI (docs/distributed.md) on the tiny
# fixture model (dropout 0.1 on, so the per-micro-batch masks are checked too).
#  1. 2 ranks x --gradient-accumulation-steps 1 against 1 process x 2, 30 steps:
#     per-step losses within 1e-5, saved weights within 1e-6, every evaluation's
#     accuracy and F1 equal and its loss within 1e-6 (tolerances: docs/distributed.md).
#  2. SIGTERM to rank 1 alone: the ranks agree to stop, rank 0 writes a checkpoint,
#     the job exits 143.
#  3. Resumed with 2 ranks: its next checkpoint is bit-identical to the uninterrupted
#     run's; then SIGKILL to rank 1: the launcher stops the job naming rank 1; resumed
#     with ONE rank x 2 from the newest complete checkpoint it ends with the
#     uninterrupted run's weights (within 1e-6). A resume that changes the product
#     ranks x accumulation is refused.
#  4. token classification and question answering (not under sanitizers: time):
#     the evaluations split across 2 ranks equal one process's.
# Needs mpirun and a bertc built with MPI (else exit 77). As root, Open MPI wants
# OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) (set here); --oversubscribe: 2 ranks on any
# machine. Under sanitizers: detect_leaks=0 (Open MPI's own allocations at
# MPI_Init are never freed; nothing of bertc's is hidden: the one-process runs
# here keep leak detection on).
set -u
BERTC=${BERTC:?} ; F=${BERTC_FIXTURES:?}/train
[ -d "$F/tiny" ] || { echo "missing fixture $F/tiny (make fixtures)"; exit 1; }
command -v mpirun >/dev/null || { echo "SKIP: mpirun not installed (apt-get install openmpi-bin)"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPIASAN=${ASAN_OPTIONS:-}
[ -n "${BERTC_SANITIZED:-}" ] && MPIASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
mpi() { ASAN_OPTIONS=$MPIASAN timeout 120 mpirun -np "$1" --oversubscribe "${@:2}"; }

args=(--model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --batch-size 2 --max-steps 30 --lr 1e-3
      --logging-steps 1 --eval-strategy steps --eval-steps 10 --save-strategy steps --save-steps 5
      --threads 1 --no-report)

# python3 compare.py A B: losses per step, evaluations, weights of two runs
cat >"$tmp/compare.py" <<'PY'
import json, struct, sys
import numpy as np
a, b, what = sys.argv[1], sys.argv[2], sys.argv[3]
def log(d):
    rows = [json.loads(l) for l in open(d + "/log.jsonl")]
    return ({r["step"]: r["loss"] for r in rows if "loss" in r}, [r for r in rows if "eval_loss" in r])
def weights(d):
    raw = open(d + "/model/model.safetensors", "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    return {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.float32)
            for k, v in h.items() if k != "__metadata__"}
bad = []
if "log" in what:
    (la, ea), (lb, eb) = log(a), log(b)
    if sorted(la) != sorted(lb) or len(la) != 30: bad.append(f"logged steps differ: {len(la)} vs {len(lb)}")
    d = max((abs(la[s] - lb[s]) for s in la if s in lb), default=float("inf"))
    print(f"  per-step loss: max difference {d:.3g} over {len(la)} steps (tolerance 1e-5)")
    if not d <= 1e-5: bad.append(f"per-step losses differ by {d:.3g}")
    if len(ea) != len(eb) or len(ea) != 3: bad.append(f"evaluations: {len(ea)} vs {len(eb)}")
    for x, y in zip(ea, eb):
        if x["eval_accuracy"] != y["eval_accuracy"] or x["eval_f1"] != y["eval_f1"]:
            bad.append(f"step {x['step']}: eval accuracy/f1 {x['eval_accuracy']}/{x['eval_f1']} vs {y['eval_accuracy']}/{y['eval_f1']}")
        if not abs(x["eval_loss"] - y["eval_loss"]) <= 1e-6:
            bad.append(f"step {x['step']}: eval_loss {x['eval_loss']} vs {y['eval_loss']}")
    print(f"  evaluations: {len(ea)}, accuracy and F1 equal: {not any('accuracy' in m for m in bad)}")
wa, wb = weights(a), weights(b)
if sorted(wa) != sorted(wb): bad.append("tensor names differ")
d = max(float(np.max(np.abs(wa[k] - wb[k]))) for k in wa if k in wb)
same = all(np.array_equal(wa[k], wb[k]) for k in wa if k in wb)
print(f"  weights: max difference {d:.3g} (tolerance 1e-6){', bit-identical' if same else ''}")
if not d <= 1e-6: bad.append(f"weights differ by {d:.3g}")
for m in bad: print("FAIL: " + m)
sys.exit(1 if bad else 0)
PY

# a build without MPI refuses to run as one of 2 ranks: nothing to test then
mpi 2 "$BERTC" train "${args[@]}" --out "$tmp/two" >"$tmp/two.out" 2>"$tmp/two.err"; rc=$?
if grep -q "built without MPI" "$tmp/two.err"; then
    echo "SKIP: $BERTC was built without MPI (make WITH_MPI=0 or no libopenmpi-dev)"; exit 77
fi
[ $rc -eq 0 ] || { cat "$tmp/two.err"; bad "2 ranks: exit $rc"; exit 1; }

# 1. 2 ranks x 1 against 1 process x 2
"$BERTC" train "${args[@]}" --gradient-accumulation-steps 2 --out "$tmp/one" >"$tmp/one.out" 2>"$tmp/one.err" ||
    { cat "$tmp/one.err"; bad "1 process: failed"; exit 1; }
echo "2 ranks x 1 against 1 process x 2 micro-batches:"
python3 "$tmp/compare.py" "$tmp/one" "$tmp/two" log || bad "2 ranks differ from 1 process with accumulation 2"
[ "$(wc -l <"$tmp/two.out")" -eq 1 ] || bad "2 ranks: expected one result line (rank 0's), got $(wc -l <"$tmp/two.out")"
python3 - "$tmp/two/run.json" <<'PY' || bad "run.json: distributed.ranks 2 and its timings missing"
import json, sys
d = json.load(open(sys.argv[1]))["distributed"]
assert d["ranks"] == 2 and d["allreduce_bytes"] > 0 and 0 < d["communication_share"] <= 1, d
print(f"  communication share of a step: {d['communication_share']:.2f} ({d['mpi']})")
PY

# the descendant of PID $1 that is MPI rank $2 (Open MPI or MPICH environment)
rank_pid() {
    local p kids=$1 all=""
    while [ -n "$kids" ]; do
        local next=""
        for p in $kids; do all="$all $p"; next="$next $(pgrep -P "$p" | tr '\n' ' ')"; done
        kids=$(echo $next)
    done
    for p in $all; do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -Eqx "(OMPI_COMM_WORLD_RANK|PMI_RANK)=$2" &&
            grep -q bertc "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}
# waits for OUT/checkpoint-$2 while PID $3 lives
wait_ckpt() { for _ in $(seq 1 6000); do [ -d "$1/checkpoint-$2" ] && return 0; kill -0 "$3" 2>/dev/null || return 1; sleep 0.01; done; return 1; }

# 2. SIGTERM to rank 1 alone: the ranks stop at the same step, rank 0 writes a checkpoint
mpi 2 "$BERTC" train "${args[@]}" --out "$tmp/run" >"$tmp/term.out" 2>"$tmp/term.err" &
job=$!
step=""
if wait_ckpt "$tmp/run" 5 $job && r1=$(rank_pid $job 1); then
    kill -TERM "$r1"
    wait $job; rc=$?
    [ $rc -ne 0 ] || bad "SIGTERM to rank 1: job exited 0"
    grep -q "continue with --resume latest" "$tmp/term.err" || { cat "$tmp/term.err"; bad "SIGTERM to rank 1: no clean stop"; }
    step=$(sed -nE 's/.*interrupted at step ([0-9]+) .*/\1/p' "$tmp/term.err" | head -1)
    if [ -n "$step" ] && [ "$step" -lt 25 ]; then
        [ -d "$tmp/run/checkpoint-$step" ] || bad "SIGTERM: no checkpoint-$step"
        echo "SIGTERM to rank 1: every rank stopped at step $step, checkpoint written"
    else
        bad "SIGTERM to rank 1: no 'interrupted at step N' before step 25 (got '${step}')"; step=""
    fi
else
    wait $job; bad "SIGTERM: could not find rank 1 of the running job"
fi

# 3. resumed with 2 ranks, SIGKILL to rank 1 after its next checkpoint: the job ends naming
#    the rank; the checkpoint the resumed run wrote equals the uninterrupted run's; resumed
#    with ONE rank x 2 it ends with the uninterrupted run's weights
if [ -n "$step" ]; then
    next=$(( (step / 5 + 1) * 5 ))
    mpi 2 "$BERTC" train "${args[@]}" --out "$tmp/run" --resume latest >"$tmp/kill.out" 2>"$tmp/kill.err" &
    job=$!
    if wait_ckpt "$tmp/run" $next $job && r1=$(rank_pid $job 1); then
        kill -KILL "$r1"
        wait $job; rc=$?
        [ $rc -ne 0 ] || bad "SIGKILL to rank 1: job exited 0"
        [ -f "$tmp/run/model/model.safetensors" ] && bad "SIGKILL to rank 1: the job still wrote a final model"
        grep -Eiq "rank 1[^0-9]|\[\[[0-9]+,1\],1\]" "$tmp/kill.err" || { cat "$tmp/kill.err"; bad "SIGKILL: no message naming rank 1"; }
        echo "SIGKILL to rank 1: $(grep -Ei 'rank 1[^0-9]' "$tmp/kill.err" | head -1 | sed 's/^ *//')"
        cmp -s "$tmp/run/checkpoint-$next/model.safetensors" "$tmp/two/checkpoint-$next/model.safetensors" &&
            echo "resumed with 2 ranks after SIGTERM: checkpoint-$next bit-identical to the uninterrupted run's" ||
            bad "resumed with 2 ranks after SIGTERM: checkpoint-$next differs from the uninterrupted run's"
        "$BERTC" train "${args[@]}" --out "$tmp/run" --resume latest >/dev/null 2>"$tmp/k1.err" &&
            bad "resume with 1 rank x 1 (product 1, was 2) was accepted"
        grep -q "x ranks" "$tmp/k1.err" || { cat "$tmp/k1.err"; bad "resume 1 x 1: no message about the product"; }
        "$BERTC" train "${args[@]}" --gradient-accumulation-steps 2 --out "$tmp/run" --resume latest >/dev/null 2>"$tmp/k2.err" ||
            { cat "$tmp/k2.err"; bad "resume with 1 rank x 2 failed"; }
        from=$(sed -nE 's/^resuming from .*checkpoint-([0-9]+)$/\1/p' "$tmp/k2.err")
        [ -n "$from" ] || bad "resume with 1 rank: did not resume from a checkpoint"
        echo "killed after checkpoint ${from:-?}, resumed with 1 rank x 2, against the uninterrupted 2-rank run:"
        python3 "$tmp/compare.py" "$tmp/two" "$tmp/run" weights || bad "SIGKILL then 1-rank resume: other weights"
        ls -d "$tmp"/run/.checkpoint-*.tmp-* >/dev/null 2>&1 && bad "a half-written checkpoint was left"
    else
        wait $job; bad "SIGKILL: could not find rank 1 of the resumed job"
    fi
fi

# 4. token classification and question answering: their split evaluations (word
# predictions merged, window logits summed) equal one process's
if [ -n "${BERTC_SANITIZED:-}" ]; then
    echo "SKIP (partial): token classification and question answering under MPI (the 60 s budget under sanitizers)"
else
    tk=$BERTC_FIXTURES/token_pipeline qa=$BERTC_FIXTURES/qa_cli
    # the evaluations of two runs: accuracy and F1 equal, losses within 1e-6
    cat >"$tmp/evals.py" <<'PY'
import json, sys
ev = [[json.loads(l) for l in open(d + "/log.jsonl") if "eval_loss" in l] for d in sys.argv[1:3]]
ok = len(ev[0]) > 0 and len(ev[0]) == len(ev[1])
for x, y in zip(*ev):
    ok = ok and x["eval_accuracy"] == y["eval_accuracy"] and x["eval_f1"] == y["eval_f1"] and \
        abs(x["eval_loss"] - y["eval_loss"]) <= 1e-6
    print(f"step {x['step']}: accuracy {x['eval_accuracy']:.4f}/{y['eval_accuracy']:.4f} "
          f"f1 {x['eval_f1']:.4f}/{y['eval_f1']:.4f};", end=" ")
sys.exit(0 if ok else 1)
PY
    same_evals() { python3 "$tmp/evals.py" "$1" "$2"; }
    task_case() {  # NAME ARGS...
        local name=$1; shift
        "$BERTC" train "$@" --gradient-accumulation-steps 2 --out "$tmp/$name-1" >/dev/null 2>"$tmp/$name-1.err" ||
            { cat "$tmp/$name-1.err"; bad "$name: 1 process failed"; return; }
        mpi 2 "$BERTC" train "$@" --out "$tmp/$name-2" >/dev/null 2>"$tmp/$name-2.err" ||
            { cat "$tmp/$name-2.err"; bad "$name: 2 ranks failed"; return; }
        local r; r=$(same_evals "$tmp/$name-1" "$tmp/$name-2")
        if [ $? -eq 0 ]; then echo "$name: split evaluations, 1 process x 2 / 2 ranks: $r"
        else bad "$name: evaluations differ: $r"; fi
    }
    task_case token --task token-classification --model "$tk/model" --train "$tk/tiny.conll" --eval "$tk/tiny.conll" \
        --epochs 2 --batch-size 4 --eval-batch-size 3 --lr 5e-4 --eval-strategy epoch --save-strategy no --seed 3 \
        --no-report --threads 1
    task_case qa --task question-answering --model "$qa/tiny" --train "$qa/train.json" --eval "$qa/dev.json" \
        --max-length 64 --doc-stride 16 --batch-size 4 --eval-batch-size 5 --max-steps 8 --lr 1e-3 \
        --eval-strategy steps --eval-steps 4 --save-strategy no --no-report --threads 1
fi

[ $fail -eq 0 ] && echo "mpi: all checks passed"
exit $fail
