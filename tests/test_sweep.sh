#!/usr/bin/env bash
# test_sweep.sh: `bertc sweep` on the tiny model.
# 1. Successive halving over 4 learning rates (3 epochs each, scored on eval
#    loss): the two worst at epoch 1 are stopped, then the worse of the two left
#    at epoch 2, and the last one finishes; checked against the eval_loss each
#    trial logged in its own log.jsonl. OUT/best is the finished trial's model.
# 2. The same sweep killed (SIGKILL) once rung 1 is decided, then --resume: the
#    stopped trials are not trained again, and the records equal the
#    uninterrupted sweep's.
# 3. A grid sweep killed after its first finished trial, then --resume: the
#    finished trial is not run again (its log untouched); every trial appears
#    once in trials.jsonl.
# 1b. --reduction-factor 3: rungs at epochs 1 and 3, the best 2 of 4 go on.
# 4. Bad input: a test split as --eval, no evaluation data, a resumed sweep
#    with other flags, a reduction factor below 2 or with grid search.
# Fixtures: tools/gen_train.py (the tiny model).
set -u
BERTC=${BERTC:?} ; F=${BERTC_FIXTURES:?}/train
[ -d "$F/tiny" ] || { echo "missing fixture $F/tiny (make fixtures)"; exit 1; }
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
common=(-- --model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --threads 1)
train=("${common[@]}" --batch-size 16)
halving=(--search halving --lr 1e-4,3e-4,1e-3,3e-3 --metric loss)

# 1. halving, uninterrupted
"$BERTC" sweep --out "$tmp/h" "${halving[@]}" "${train[@]}" --epochs 3 >"$tmp/h.out" 2>"$tmp/h.err" ||
    { cat "$tmp/h.err"; bad "halving sweep failed"; exit 1; }
python3 - "$tmp/h" <<'PY' || bad "halving stopped the wrong trials"
import json, sys
d = sys.argv[1]
recs = {r["trial"]: r for r in map(json.loads, open(d + "/trials.jsonl"))}
assert sorted(recs) == [0, 1, 2, 3], recs
def logged(t, epoch):  # the eval_loss trial t logged at that epoch, from its own log
    vals = [r["eval_loss"] for r in map(json.loads, open(f"{d}/trial-{t}/log.jsonl")) if "eval_loss" in r and r["epoch"] == epoch]
    return vals[-1]
e1 = sorted(range(4), key=lambda t: (logged(t, 1), t))            # lower loss is better; ties to the lower index
out1 = e1[2:]
for t in out1:
    assert recs[t]["status"] == "stopped" and recs[t]["rung"] == 1 and recs[t]["epoch"] == 1, (t, recs[t])
    assert recs[t]["eval_loss"] == logged(t, 1)
left = e1[:2]
e2 = sorted(left, key=lambda t: (logged(t, 2), t))
assert recs[e2[1]]["status"] == "stopped" and recs[e2[1]]["rung"] == 2, recs[e2[1]]
win = e2[0]
assert recs[win]["status"] == "finished" and recs[win]["epoch"] == 3 and recs[win]["eval_loss"] == logged(win, 3), recs[win]
for t in out1:  # a stopped trial trained no further than its rung
    assert max(r["epoch"] for r in map(json.loads, open(f"{d}/trial-{t}/log.jsonl"))) <= 1, t
best = json.load(open(d + "/best.json"))
assert best["best_trial"] == win, best
print(f"halving: stopped {out1} at epoch 1, {e2[1]} at epoch 2; trial {win} finished (eval_loss {recs[win]['eval_loss']})")
open(d + "/winner", "w").write(str(win))
PY
win=$(cat "$tmp/h/winner" 2>/dev/null)
cmp -s "$tmp/h/best/model.safetensors" "$tmp/h/trial-$win/model/model.safetensors" || bad "OUT/best is not the winner's model"
tail -1 "$tmp/h.out" | grep -q '"best_trial"' || bad "stdout's summary has no best_trial"

# 1b. --reduction-factor 3: rungs at epochs 1 and 3; the best ceil(4/3) = 2 go on from epoch 1
"$BERTC" sweep --out "$tmp/h3" "${halving[@]}" --reduction-factor 3 "${train[@]}" --epochs 3 >/dev/null 2>"$tmp/h3.err" ||
    { cat "$tmp/h3.err"; bad "halving sweep with --reduction-factor 3 failed"; }
python3 - "$tmp/h3" <<'PY' || bad "--reduction-factor 3 stopped the wrong trials"
import json, sys
d = sys.argv[1]
recs = {r["trial"]: r for r in map(json.loads, open(d + "/trials.jsonl"))}
assert sorted(recs) == [0, 1, 2, 3], recs
assert json.load(open(d + "/sweep.json"))["reduction_factor"] == 3
def logged(t, epoch):
    return [r["eval_loss"] for r in map(json.loads, open(f"{d}/trial-{t}/log.jsonl")) if "eval_loss" in r and r["epoch"] == epoch][-1]
e1 = sorted(range(4), key=lambda t: (logged(t, 1), t))
for t in e1[2:]:
    assert recs[t]["status"] == "stopped" and recs[t]["rung"] == 1 and recs[t]["epoch"] == 1, (t, recs[t])
for t in e1[:2]:  # no rung at epoch 2: both go on to their 3 epochs and finish at rung 3
    assert recs[t]["status"] == "finished" and recs[t]["rung"] == 3 and recs[t]["epoch"] == 3, (t, recs[t])
    assert recs[t]["eval_loss"] == logged(t, 3)
win = min(e1[:2], key=lambda t: (logged(t, 3), t))
assert json.load(open(d + "/best.json"))["best_trial"] == win
print(f"reduction factor 3: stopped {e1[2:]} at epoch 1; {e1[:2]} finished; best {win}")
PY
grep -q "rung 1 (epoch 1): 4 trials, keeping the best 2" "$tmp/h3.err" || bad "rung 1 line: $(grep rung "$tmp/h3.err")"
grep -q "rung 2 " "$tmp/h3.err" && bad "a rung at epoch 2 with --reduction-factor 3"

# 2. the same sweep killed once rung 1 is decided, then resumed
"$BERTC" sweep --out "$tmp/k" "${halving[@]}" "${train[@]}" --epochs 3 >/dev/null 2>"$tmp/k1.err" &
pid=$!
for _ in $(seq 1 600); do
    [ -f "$tmp/k/trials.jsonl" ] && [ "$(wc -l <"$tmp/k/trials.jsonl")" -ge 2 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""
n1=$(wc -l <"$tmp/k/trials.jsonl")
[ "$n1" -ge 2 ] && [ "$n1" -lt 4 ] || echo "note: the kill came at $n1 records"
stopped=$(python3 -c "import json;print(' '.join(str(r['trial']) for r in map(json.loads, open('$tmp/k/trials.jsonl'))))")
for t in $stopped; do stat -c %s "$tmp/k/trial-$t.log" >"$tmp/size-$t"; done
"$BERTC" sweep --out "$tmp/k" "${halving[@]}" --resume "${train[@]}" --epochs 3 >/dev/null 2>"$tmp/k2.err" ||
    { cat "$tmp/k2.err"; bad "resumed halving sweep failed"; }
for t in $stopped; do
    [ "$(stat -c %s "$tmp/k/trial-$t.log")" = "$(cat "$tmp/size-$t")" ] || bad "trial $t was decided before the kill but trained again"
    grep -q "trial $t: training" "$tmp/k2.err" && bad "trial $t trained again after the resume"
done
python3 - "$tmp/h" "$tmp/k" <<'PY' || bad "the resumed sweep decided otherwise than the uninterrupted one"
import json, sys
def recs(d):
    return sorted((r["trial"], r["status"], r["rung"], r["epoch"], r["eval_loss"]) for r in map(json.loads, open(d + "/trials.jsonl")))
a, b = recs(sys.argv[1]), recs(sys.argv[2])
assert a == b, (a, b)
print("killed and resumed halving: the same", len(b), "records")
PY

# 3. grid, killed after its first finished trial, resumed
"$BERTC" sweep --out "$tmp/g" --lr 1e-4,1e-3 --batch-size 16,32 "${common[@]}" --epochs 1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    [ -f "$tmp/g/trials.jsonl" ] && [ "$(wc -l <"$tmp/g/trials.jsonl")" -ge 1 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""
done_trials=$(python3 -c "import json;print(' '.join(str(r['trial']) for r in map(json.loads, open('$tmp/g/trials.jsonl'))))")
[ -n "$done_trials" ] || bad "the grid sweep finished no trial before the kill"
for t in $done_trials; do md5sum "$tmp/g/trial-$t/log.jsonl" "$tmp/g/trial-$t/run.json" >"$tmp/sum-$t"; done
"$BERTC" sweep --out "$tmp/g" --lr 1e-4,1e-3 --batch-size 16,32 --resume "${common[@]}" --epochs 1 >/dev/null 2>"$tmp/g2.err" ||
    { cat "$tmp/g2.err"; bad "resumed grid sweep failed"; }
for t in $done_trials; do
    md5sum -c --quiet "$tmp/sum-$t" || bad "finished trial $t was run again"
    grep -q "trial $t: finished earlier, not run again" "$tmp/g2.err" || bad "trial $t: no 'finished earlier' line"
done
python3 - "$tmp/g" <<'PY' || bad "grid trials.jsonl"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1] + "/trials.jsonl")]
ids = [r["trial"] for r in recs]
assert sorted(ids) == [0, 1, 2, 3], ids
assert all(r["status"] == "finished" for r in recs)
assert [json.load(open(sys.argv[1] + "/sweep.json"))["trials"][i]["settings"] for i in range(4)] == \
    [{"lr": "1e-4", "batch-size": "16"}, {"lr": "1e-4", "batch-size": "32"}, {"lr": "1e-3", "batch-size": "16"}, {"lr": "1e-3", "batch-size": "32"}]
print("grid: 4 trials, each once; the killed sweep's finished trials kept")
PY

# 4. bad input
"$BERTC" sweep --out "$tmp/b1" --lr 1e-4,1e-3 -- --model "$F/tiny" --train "$F/train.jsonl" --eval "data.tar.gz:test" 2>"$tmp/e" &&
    bad "a test split as --eval accepted"
grep -q "never on a test set" "$tmp/e" || bad "test split: $(cat "$tmp/e")"
"$BERTC" sweep --out "$tmp/b2" --lr 1e-4,1e-3 -- --model "$F/tiny" --train "$F/train.jsonl" 2>"$tmp/e" && bad "no evaluation data accepted"
grep -q -- "--validation-split" "$tmp/e" || bad "no eval: $(cat "$tmp/e")"
"$BERTC" sweep --out "$tmp/h" "${halving[@]}" --resume "${train[@]}" --epochs 2 2>"$tmp/e" && bad "resume with other flags accepted"
grep -q "other flags" "$tmp/e" || bad "resume with other flags: $(cat "$tmp/e")"
"$BERTC" sweep --out "$tmp/h" "${halving[@]}" "${train[@]}" --epochs 3 2>"$tmp/e" && bad "a second sweep into a sweep folder accepted"
grep -q -- "--resume" "$tmp/e" || bad "existing sweep: $(cat "$tmp/e")"
"$BERTC" sweep --out "$tmp/b3" --lr 1e-4 --dropout 0.1 -- --model "$F/tiny" --train "$F/train.jsonl" --validation-split 0.25 2>"$tmp/e" &&
    bad "--dropout accepted"
for v in 1 x; do
    "$BERTC" sweep --out "$tmp/b4" "${halving[@]}" --reduction-factor $v "${train[@]}" 2>"$tmp/e" && bad "--reduction-factor $v accepted"
    grep -q -- "--reduction-factor" "$tmp/e" || bad "--reduction-factor $v: $(cat "$tmp/e")"
done
"$BERTC" sweep --out "$tmp/b5" --lr 1e-4,1e-3 --reduction-factor 3 "${train[@]}" 2>"$tmp/e" && bad "--reduction-factor with grid accepted"
grep -q "only for --search halving" "$tmp/e" || bad "--reduction-factor grid: $(cat "$tmp/e")"
[ -e "$tmp/b1" ] || [ -e "$tmp/b2" ] || [ -e "$tmp/b3" ] || [ -e "$tmp/b4" ] || [ -e "$tmp/b5" ] && bad "a refused sweep created its folder"

[ $fail -eq 0 ] && echo "test_sweep.sh: all checks passed"
exit $fail
