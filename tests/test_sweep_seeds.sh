#!/usr/bin/env bash
# test_sweep_seeds.sh: `bertc sweep --seeds 1,2`: every trial trains under both
# seeds (OUT/trial-N/seed-S), halving ranks trials by the mean of their seeds'
# logged eval loss (checked here from each seed's own log.jsonl), OUT/best is the
# best trial's first seed's model, and `bertc report` draws a mean +- std band
# per trial. A --seed among the train flags is refused. --budget-minutes stops
# starting trainings (1 of 2 trials done) and --resume finishes the others. Fixtures: tools/gen_train.py.
set -u
BERTC=${BERTC:?} ; F=${BERTC_FIXTURES:?}/train
[ -d "$F/tiny" ] || { echo "missing fixture $F/tiny (make fixtures)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
train=(-- --model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --batch-size 16 --threads 1 --epochs 2)

"$BERTC" sweep --out "$tmp/s" --search halving --lr 1e-4,1e-3,3e-3 --metric loss --seeds 1,2 "${train[@]}" \
    >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; bad "sweep --seeds failed"; exit 1; }
python3 - "$tmp/s" <<'PY' || bad "sweep --seeds scores or decisions"
import json, statistics, sys
d = sys.argv[1]
recs = {r["trial"]: r for r in map(json.loads, open(d + "/trials.jsonl"))}
assert sorted(recs) == [0, 1, 2], recs
def mean_at(t, ep):
    return statistics.fmean([[r["eval_loss"] for r in map(json.loads, open(f"{d}/trial-{t}/seed-{s}/log.jsonl"))
                              if "eval_loss" in r and r["epoch"] == ep][-1] for s in (1, 2)])
for t, r in recs.items():
    assert abs(r["eval_loss"] - mean_at(t, r["epoch"])) < 1e-12, (t, r["eval_loss"], mean_at(t, r["epoch"]))
e1 = sorted(range(3), key=lambda t: (mean_at(t, 1), t))
assert recs[e1[2]]["status"] == "stopped" and recs[e1[2]]["epoch"] == 1, recs   # 3 trials keep 2 at rung 1
for t in e1[:2]:
    assert recs[t]["status"] == "finished" and recs[t]["epoch"] == 2, recs[t]
best = min(e1[:2], key=lambda t: (mean_at(t, 2), t))
assert json.load(open(d + "/best.json"))["best_trial"] == best
open(d + "/winner", "w").write(str(best))
print("sweep --seeds: trial %d stopped at epoch 1; best trial %d by the mean of 2 seeds" % (e1[2], best))
PY
w=$(cat "$tmp/s/winner" 2>/dev/null)
cmp -s "$tmp/s/best/model.safetensors" "$tmp/s/trial-$w/seed-1/model/model.safetensors" || bad "OUT/best is not the winner's seed-1 model"
"$BERTC" report "$tmp/s" >/dev/null 2>"$tmp/e" || bad "report of a sweep with seeds: $(cat "$tmp/e")"
n=$(grep -o 'id="chart-band-[0-9]*-accuracy"' "$tmp/s/compare.html" | wc -l)
[ "$n" -eq 3 ] || bad "report: $n accuracy bands, want one per trial (3)"
"$BERTC" sweep --out "$tmp/x" --lr 1e-4,1e-3 --seeds 1,2 "${train[@]}" --seed 5 2>"$tmp/e" && bad "--seed with --seeds accepted"
grep -q -- "--seed: conflicts" "$tmp/e" || bad "--seed with --seeds: $(cat "$tmp/e")"

# --budget-minutes: no training starts after the budget; --resume (with no budget) finishes the rest
"$BERTC" sweep --out "$tmp/b" --lr 1e-4,1e-3 --seeds 1,2 --budget-minutes 0.0005 "${train[@]}" >"$tmp/b.out" 2>"$tmp/b.err" ||
    { cat "$tmp/b.err"; bad "sweep with a budget failed"; }
grep -q "time budget reached" "$tmp/b.err" || bad "budget: no 'time budget reached' line: $(tail -2 "$tmp/b.err")"
python3 -c "import json,sys; j=json.loads(open('$tmp/b.out').read().splitlines()[-1]); sys.exit(0 if j['finished']==1 and j['pending']==1 else 1)" ||
    bad "budget: want 1 finished and 1 pending: $(tail -1 "$tmp/b.out")"
md5sum "$tmp/b/trial-0/seeds.json" >"$tmp/b.sum"
"$BERTC" sweep --out "$tmp/b" --lr 1e-4,1e-3 --seeds 1,2 --resume "${train[@]}" >"$tmp/b2.out" 2>"$tmp/b2.err" ||
    { cat "$tmp/b2.err"; bad "resume after the budget failed"; }
grep -q "trial 0: finished earlier, not run again" "$tmp/b2.err" || bad "budget resume: trial 0 not kept"
md5sum -c --quiet "$tmp/b.sum" || bad "budget resume: trial 0 was trained again"
python3 -c "import json,sys; j=json.loads(open('$tmp/b2.out').read().splitlines()[-1]); sys.exit(0 if j['finished']==2 and j['pending']==0 else 1)" ||
    bad "budget resume: want 2 finished: $(tail -1 "$tmp/b2.out")"

[ $fail -eq 0 ] && echo "test_sweep_seeds.sh: all checks passed"
exit $fail
