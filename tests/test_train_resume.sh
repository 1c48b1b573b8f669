#!/usr/bin/env bash
# test_train_resume.sh: a short training run of a tiny random BERT is killed with
# SIGKILL at random moments (during steps and during checkpoint saves) and
# resumed with --resume latest each time. Checks that every restart begins at the
# newest complete checkpoint, and that the final weights and the log equal an
# uninterrupted run's bit for bit. Then SIGTERM: a clean checkpoint and exit 143.
# Then SIGINT during an evaluation, and a second signal (ends the run at once); then a
# second bertc train on the OUT of a running one (refused: OUT/.lock).
# Also: a run with --gradient-checkpointing ends with the same weights and log.
# Fixtures: tools/gen_train.py. KILLS (default 20; 6 under sanitizers).
set -u
BERTC=${BERTC:?} ; F=${BERTC_FIXTURES:?}/train
[ -d "$F/tiny" ] || { echo "missing fixture $F/tiny (make fixtures)"; exit 1; }
KILLS=${KILLS:-20}
[ -n "${BERTC_SANITIZED:-}" ] && KILLS=${KILLS_SANITIZED:-6}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

args=(--model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --epochs 4 --batch-size 4 --lr 1e-3
      --logging-steps 3 --save-strategy steps --save-steps 3 --eval-strategy steps --eval-steps 6
      --save-total-limit 3 --threads 1 --no-report)

# the log without timings (eval_runtime differs from run to run)
strip_log() { sed -E 's/, "eval_runtime": [^,}]*//; s/, "eval_samples_per_second": [^,}]*//' "$1"; }
newest() { ls -d "$1"/checkpoint-* 2>/dev/null | sed 's/.*checkpoint-//' | sort -n | tail -1; }

"$BERTC" train "${args[@]}" --out "$tmp/ref" >"$tmp/ref.out" 2>"$tmp/ref.err" || { cat "$tmp/ref.err"; bad "reference run failed"; exit 1; }
t_ref=$(python3 -c "import json;print(json.load(open('$tmp/ref/run.json'))['wall_seconds'])")
echo "reference run: $(cat "$tmp/ref.out") in ${t_ref}s"

# --gradient-checkpointing recomputes each layer in the backward: the same weights and log
"$BERTC" train "${args[@]}" --gradient-checkpointing --out "$tmp/gc" >"$tmp/gc.out" 2>"$tmp/gc.err" ||
    { cat "$tmp/gc.err"; bad "--gradient-checkpointing run failed"; }
cmp -s "$tmp/ref/model/model.safetensors" "$tmp/gc/model/model.safetensors" ||
    bad "--gradient-checkpointing: final weights differ from the run without it"
cmp -s <(strip_log "$tmp/ref/log.jsonl") <(strip_log "$tmp/gc/log.jsonl") ||
    bad "--gradient-checkpointing: log differs from the run without it"
grep -Eq '"gradient_checkpointing":[[:space:]]*true' "$tmp/gc/run.json" || bad "--gradient-checkpointing: not recorded in run.json"
grep -q "activations" "$tmp/gc.err" || bad "--gradient-checkpointing: no memory plan printed"
echo "gradient checkpointing: weights and log identical to the reference run"

# kill moments: uniform in [0.05, span) seconds after the start of each attempt
span=$(python3 -c "print(max(0.3, min(1.0, $t_ref * 0.3)))")
RANDOM=12345
kills=0; during_save=0; restarts_checked=0; attempt=0
while [ $kills -lt "$KILLS" ] && [ $attempt -lt $((KILLS * 3)) ]; do
    attempt=$((attempt + 1))
    expect=$(newest "$tmp/run")
    "$BERTC" train "${args[@]}" --out "$tmp/run" --resume latest >"$tmp/a.out" 2>"$tmp/a.err" &
    pid=$!
    delay=$(awk -v r=$RANDOM -v s="$span" 'BEGIN { printf "%.3f", 0.05 + (s - 0.05) * r / 32768 }')
    if [ $during_save -eq 0 ] && [ $kills -eq $((KILLS - 1)) ]; then
        # the last kill and none has hit a save yet (random moments need not, e.g. the 6 kills
        # of a sanitizer run): wait for a checkpoint being written and kill it then
        for _ in $(seq 1 6000); do
            ls -d "$tmp"/run/.checkpoint-*.tmp-* >/dev/null 2>&1 && break
            kill -0 $pid 2>/dev/null || break
            sleep 0.005
        done
    else
        sleep "$delay"
    fi
    if kill -9 $pid 2>/dev/null; then
        wait $pid 2>/dev/null
        kills=$((kills + 1))
        ls -d "$tmp"/run/.checkpoint-*.tmp-* >/dev/null 2>&1 && during_save=$((during_save + 1))
    else
        wait $pid; rc=$?
        [ $rc -eq 0 ] || { cat "$tmp/a.err"; bad "attempt $attempt exited $rc"; }
    fi
    # where did this attempt start?
    # (an attempt killed before it chose its checkpoint says nothing: not counted)
    if grep -q "resuming from" "$tmp/a.err"; then
        restarts_checked=$((restarts_checked + 1))
        [ -n "$expect" ] && grep -qx "resuming from $tmp/run/checkpoint-$expect" "$tmp/a.err" ||
            { bad "attempt $attempt: expected to resume from checkpoint-${expect:-(none)}"; grep resuming "$tmp/a.err"; }
    elif grep -q "no complete checkpoint" "$tmp/a.err"; then
        restarts_checked=$((restarts_checked + 1))
        [ -z "$expect" ] || bad "attempt $attempt started over although checkpoint-$expect existed"
    fi
    [ -f "$tmp/run/model/model.safetensors" ] && [ -f "$tmp/run/run.json" ] && [ $kills -lt "$KILLS" ] &&
        { rm -rf "$tmp/run"; }   # finished before the kills were used up: start over
done
echo "$kills kills ($during_save during a checkpoint save), $restarts_checked restarts checked"
[ $kills -ge "$KILLS" ] || bad "only $kills kills landed"
[ $during_save -ge 1 ] || bad "no kill landed during a save"
[ $restarts_checked -ge $((KILLS / 2)) ] || bad "only $restarts_checked restarts said where they began"

# finish the interrupted run
"$BERTC" train "${args[@]}" --out "$tmp/run" --resume latest >"$tmp/a.out" 2>"$tmp/a.err" || { cat "$tmp/a.err"; bad "final resume failed"; }
cmp -s "$tmp/ref/model/model.safetensors" "$tmp/run/model/model.safetensors" ||
    bad "final weights differ from the uninterrupted run"
cmp -s <(strip_log "$tmp/ref/log.jsonl") <(strip_log "$tmp/run/log.jsonl") ||
    { bad "log.jsonl differs from the uninterrupted run"; diff <(strip_log "$tmp/ref/log.jsonl") <(strip_log "$tmp/run/log.jsonl") | head; }

# SIGTERM: stop after the current step with a checkpoint, exit 128+15. Deterministic:
# wait for the first checkpoint (step 3 of 64), freeze the run (SIGSTOP) so it cannot
# finish first, queue SIGTERM, then let it go on (SIGCONT): the signal always lands
# mid-run, never after the end.
"$BERTC" train "${args[@]}" --out "$tmp/term" >"$tmp/t.out" 2>"$tmp/t.err" &
pid=$!
for _ in $(seq 6000); do   # up to 60 s
    [ -f "$tmp/term/checkpoint-3/COMPLETE" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
if ! kill -STOP $pid 2>/dev/null; then
    bad "SIGTERM: the run ended before its first checkpoint could be seen"; wait $pid
elif [ ! -f "$tmp/term/checkpoint-3/COMPLETE" ]; then
    kill -CONT $pid; kill $pid; wait $pid; bad "SIGTERM: no checkpoint-3 after 60 s"
else
    kill -TERM $pid; kill -CONT $pid; wait $pid; rc=$?
    [ $rc -eq 143 ] || bad "SIGTERM: exit $rc, expected 143"
    step=$(sed -nE 's/.*interrupted at step ([0-9]+) of.*/\1/p' "$tmp/t.err")
    [ -n "$step" ] || { bad "SIGTERM: no 'interrupted at step' message"; cat "$tmp/t.err"; }
    [ -n "$step" ] && { [ -f "$tmp/term/checkpoint-$step/COMPLETE" ] || bad "SIGTERM: no complete checkpoint-$step"; }
    [ -n "$step" ] && [ "$step" -ge 64 ] && bad "SIGTERM: interrupted at step $step, not before the end"
    ls -d "$tmp"/term/.checkpoint-* >/dev/null 2>&1 && bad "SIGTERM: a temporary checkpoint folder was left"
    "$BERTC" train "${args[@]}" --out "$tmp/term" --resume latest >/dev/null 2>"$tmp/t2.err" || bad "resume after SIGTERM failed"
    grep -qx "resuming from $tmp/term/checkpoint-$step" "$tmp/t2.err" || bad "did not resume from checkpoint-$step"
    cmp -s "$tmp/ref/model/model.safetensors" "$tmp/term/model/model.safetensors" ||
        bad "weights after SIGTERM + resume differ from the uninterrupted run"
    echo "SIGTERM at step $step: exit $rc, checkpoint-$step complete, resumed to the same weights"
fi

# Ctrl-C during an evaluation: the evaluation stops between batches and the run writes a
# checkpoint at that step which runs the evaluation again on resume (same log, same weights).
# A second signal ends the run at once, leaving the last complete checkpoint. Deterministic:
# the run is frozen (SIGSTOP) once step 4's log line is out (the evaluation at step 4 follows
# it and lasts seconds), the signals are queued, then it goes on (SIGCONT).
reps=700; [ -n "${BERTC_SANITIZED:-}" ] && reps=120
for _ in $(seq $reps); do cat "$F/eval.jsonl"; done >"$tmp/long.jsonl"
eargs=(--model "$F/tiny" --train "$F/train.jsonl" --eval "$tmp/long.jsonl" --max-steps 6 --batch-size 4
       --eval-batch-size 1 --logging-steps 2 --eval-strategy steps --eval-steps 4 --save-strategy steps
       --save-steps 2 --threads 1 --no-report)
"$BERTC" train "${eargs[@]}" --out "$tmp/eref" >/dev/null 2>"$tmp/e.err" || { cat "$tmp/e.err"; bad "long-evaluation reference run failed"; }
ev_rt=$(sed -nE 's/.*"eval_runtime": ([0-9.e+-]+).*/\1/p' "$tmp/eref/log.jsonl" | head -1)
echo "long evaluation: ${ev_rt}s for $((reps * 32)) examples"
# start_in_eval OUT: starts a run, freezes it at step 4's evaluation; sets $pid
start_in_eval() {
    "$BERTC" train "${eargs[@]}" --out "$1" >/dev/null 2>"$1.err" &
    pid=$!
    for _ in $(seq 6000); do
        grep -q '"step": 4,.*"learning_rate"' "$1/log.jsonl" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.01
    done
    kill -STOP $pid 2>/dev/null || { bad "$1: the run ended before step 4"; return 1; }
    [ -e "$1/checkpoint-4" ] && { kill -CONT $pid; wait $pid; bad "$1: the evaluation ended before the signal (too short)"; return 1; }
    return 0
}
if start_in_eval "$tmp/eint"; then
    kill -INT $pid; t0=$(date +%s.%N); kill -CONT $pid; wait $pid; rc=$?; t1=$(date +%s.%N)
    took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    [ $rc -eq 130 ] || bad "SIGINT in the evaluation: exit $rc, expected 130"
    grep -q "interrupted at step 4 of 6 during its evaluation" "$tmp/eint.err" ||
        { bad "SIGINT in the evaluation: no 'interrupted at step 4 of 6 during its evaluation'"; tail -2 "$tmp/eint.err"; }
    awk -v t="$took" -v e="$ev_rt" 'BEGIN { exit !(t < e / 2) }' ||
        bad "SIGINT in the evaluation: the run took ${took}s to stop (the evaluation takes ${ev_rt}s)"
    [ -f "$tmp/eint/checkpoint-4/COMPLETE" ] || bad "SIGINT in the evaluation: no complete checkpoint-4"
    grep -Eq '"eval_pending":[[:space:]]*true' "$tmp/eint/checkpoint-4/trainer_state.json" ||
        bad "SIGINT in the evaluation: checkpoint-4 does not say its evaluation is pending"
    grep -q '"eval_loss"' "$tmp/eint/log.jsonl" && bad "SIGINT in the evaluation: an evaluation line was logged before the resume"
    "$BERTC" train "${eargs[@]}" --out "$tmp/eint" --resume latest >/dev/null 2>"$tmp/eint2.err" ||
        { tail -2 "$tmp/eint2.err"; bad "resume after SIGINT in the evaluation failed"; }
    cmp -s <(strip_log "$tmp/eref/log.jsonl") <(strip_log "$tmp/eint/log.jsonl") ||
        { bad "log after SIGINT in the evaluation + resume differs"; diff <(strip_log "$tmp/eref/log.jsonl") <(strip_log "$tmp/eint/log.jsonl"); }
    cmp -s "$tmp/eref/model/model.safetensors" "$tmp/eint/model/model.safetensors" ||
        bad "weights after SIGINT in the evaluation + resume differ"
    echo "SIGINT in the evaluation: exit $rc after ${took}s, checkpoint-4 with the evaluation pending, resumed to the same log and weights"
fi
if start_in_eval "$tmp/eint2x"; then
    kill -INT $pid; kill -TERM $pid; kill -CONT $pid; wait $pid; rc=$?
    # Both signals are pending when the run goes on, and two threads may take one each at the
    # same moment: whichever handler runs second is "the second signal" and kills the process
    # with its own default action, SIGTERM (143) or SIGINT (130). Either is "ended at once".
    [ $rc -eq 143 ] || [ $rc -eq 130 ] || bad "a second signal: exit $rc, expected 143 or 130 (killed by SIGTERM or SIGINT)"
    grep -q "interrupted at step" "$tmp/eint2x.err" && bad "a second signal: the run went on to stop cleanly instead of ending at once"
    [ -e "$tmp/eint2x/checkpoint-4" ] && bad "a second signal: checkpoint-4 was written"
    [ -f "$tmp/eint2x/checkpoint-2/COMPLETE" ] || bad "a second signal: checkpoint-2 is not complete"
    "$BERTC" train "${eargs[@]}" --out "$tmp/eint2x" --resume latest >/dev/null 2>"$tmp/eint3.err" ||
        { tail -2 "$tmp/eint3.err"; bad "resume after a second signal failed"; }
    grep -qx "resuming from $tmp/eint2x/checkpoint-2" "$tmp/eint3.err" || bad "a second signal: did not resume from checkpoint-2"
    cmp -s "$tmp/eref/model/model.safetensors" "$tmp/eint2x/model/model.safetensors" ||
        bad "weights after a second signal + resume differ"
    echo "a second signal: killed at once (exit $rc), resumed from checkpoint-2 to the same weights"
fi

# one run per OUT: a second bertc train on the OUT of a running one (frozen mid-run) fails at
# once with a line naming the folder and the first run's PID, and changes nothing there
if start_in_eval "$tmp/elock"; then
    snap() { (cd "$1" && find . -printf '%p %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort) | md5sum; }
    before=$(snap "$tmp/elock")
    for how in "--resume latest" "--overwrite"; do
        # shellcheck disable=SC2086
        timeout 60 "$BERTC" train "${eargs[@]}" --out "$tmp/elock" $how >/dev/null 2>"$tmp/lock.err"; rc=$?
        last=$(tail -1 "$tmp/lock.err")
        [ $rc -ne 0 ] && [ $rc -ne 124 ] || bad "a second run in the same OUT ($how): exit $rc"
        case "$last" in *"$tmp/elock is in use by another bertc train (PID $pid "*) ;;
            *) bad "a second run in the same OUT ($how): message '$last' lacks the folder and PID $pid" ;; esac
        [ "$(wc -l <"$tmp/lock.err")" -eq 1 ] || { bad "a second run ($how): more than one line"; cat "$tmp/lock.err"; }
        [ "$before" = "$(snap "$tmp/elock")" ] || bad "a second run in the same OUT ($how) changed it"
        echo "a second run in the same OUT ($how): exit $rc: $last"
    done
    kill -CONT $pid; wait $pid; rc=$?
    [ $rc -eq 0 ] || bad "the first run failed after the second was refused: exit $rc"
    cmp -s "$tmp/eref/model/model.safetensors" "$tmp/elock/model/model.safetensors" ||
        bad "the first run's weights differ after the second was refused"
    # the lock ends with the run: a resume now takes it
    "$BERTC" train "${eargs[@]}" --out "$tmp/elock" --resume latest >/dev/null 2>"$tmp/lock2.err" ||
        { tail -1 "$tmp/lock2.err"; bad "a run after the first ended could not take OUT"; }
fi
[ $fail -eq 0 ] && echo "train_resume: all checks passed"
exit $fail
