#!/usr/bin/env bash
# test_train_seeds.sh: `bertc train --seeds 1,2,3` trains OUT/seed-S for each seed
# and writes OUT/seeds.json: its mean and sample standard deviation (ddof 1) of
# every final metric are checked against numbers computed here, independently,
# from each seed's own log.jsonl (the last evaluation; the log prints 10
# significant digits) and run.json (exactly). Then: --resume latest keeps the
# finished seeds (none is retrained), and bad --seeds are one-line errors.
# Fixtures: tools/gen_train.py (the tiny model).
set -u
BERTC=${BERTC:?} ; F=${BERTC_FIXTURES:?}/train
[ -d "$F/tiny" ] || { echo "missing fixture $F/tiny (make fixtures)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
args=(--model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --epochs 2 --batch-size 4 --lr 1e-3
      --threads 1 --no-report --save-strategy no)

"$BERTC" train "${args[@]}" --seeds 1,2,3 --out "$tmp/s" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; bad "--seeds run failed"; exit 1; }
for s in 1 2 3; do [ -f "$tmp/s/seed-$s/model/model.safetensors" ] || bad "no model for seed $s"; done
grep -q "sample standard deviation" "$tmp/err" || bad "the printed summary does not say which standard deviation"
python3 - "$tmp/s" <<'PY' || bad "seeds.json does not match the per-seed numbers"
import json, math, statistics, sys
d = sys.argv[1]
summ = json.load(open(d + "/seeds.json"))
assert summ["seeds"] == [1, 2, 3] and summ["n"] == 3 and summ["std_ddof"] == 1, summ
# from each seed's own log: the last evaluation record
per = {k: [] for k in ("eval_loss", "eval_accuracy", "eval_f1")}
for s in (1, 2, 3):
    evals = [json.loads(l) for l in open(f"{d}/seed-{s}/log.jsonl") if '"eval_loss"' in l]
    for k in per: per[k].append(evals[-1][k])
for k, xs in per.items():
    m, sd = statistics.fmean(xs), statistics.stdev(xs)  # stdev: ddof 1
    assert abs(summ["mean"][k] - m) <= 1e-9, (k, summ["mean"][k], m)
    assert abs(summ["std"][k] - sd) <= 1e-9, (k, summ["std"][k], sd)
    print(f"{k}: mean {m:.10f} std {sd:.10f} (from the logs)")
# every number of run.json, exactly (the same doubles, two-pass formula)
runs = [json.load(open(f"{d}/seed-{s}/run.json")) for s in (1, 2, 3)]
keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
assert {"eval_loss", "eval_accuracy", "eval_f1", "wall_seconds", "best_metric"} <= set(keys), keys
for k in keys:
    xs = [float(r[k]) for r in runs]
    m = sum(xs) / 3
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / 2)
    assert summ["mean"][k] == m or abs(summ["mean"][k] - m) <= 1e-15 * max(1, abs(m)), (k, summ["mean"][k], m)
    assert abs(summ["std"][k] - sd) <= 1e-15 * max(1, abs(sd)), (k, summ["std"][k], sd)
assert len(set(per["eval_loss"])) == 3, "the seeds gave identical runs"
print(len(keys), "metrics aggregated exactly")
PY
tail -1 "$tmp/out" | python3 -c "import json,sys; j=json.load(sys.stdin); assert j['n']==3" || bad "stdout's last line is not the summary"

# resume: finished seeds are kept, not retrained
cp "$tmp/s/seeds.json" "$tmp/seeds.before"
stat -c %Y "$tmp/s/seed-2/run.json" >"$tmp/mtime"
sleep 1
"$BERTC" train "${args[@]}" --seeds 1,2,3 --out "$tmp/s" --resume latest >/dev/null 2>"$tmp/err2" || bad "--resume latest failed"
[ "$(grep -c 'finished earlier' "$tmp/err2")" -eq 3 ] || bad "--resume latest retrained a finished seed: $(cat "$tmp/err2")"
[ "$(stat -c %Y "$tmp/s/seed-2/run.json")" = "$(cat "$tmp/mtime")" ] || bad "seed-2/run.json was rewritten"
cmp -s "$tmp/s/seeds.json" "$tmp/seeds.before" || bad "seeds.json changed on a resume with nothing to do"

# bad input
"$BERTC" train "${args[@]}" --seeds 1,1 --out "$tmp/x" 2>"$tmp/e" && bad "--seeds 1,1 accepted"
grep -q -- "--seeds: .*twice" "$tmp/e" || bad "--seeds 1,1: $(cat "$tmp/e")"
"$BERTC" train "${args[@]}" --seeds 1,x --out "$tmp/x" 2>"$tmp/e" && bad "--seeds 1,x accepted"
grep -q -- "--seeds" "$tmp/e" || bad "--seeds 1,x: $(cat "$tmp/e")"
"$BERTC" train "${args[@]}" --seeds 1,2 --seed 5 --out "$tmp/x" 2>"$tmp/e" && bad "--seeds with --seed accepted"
grep -q -- "--seeds: conflicts with --seed" "$tmp/e" || bad "--seeds --seed: $(cat "$tmp/e")"
[ -e "$tmp/x" ] && bad "a bad --seeds created OUT"

[ $fail -eq 0 ] && echo "test_train_seeds.sh: all checks passed"
exit $fail
