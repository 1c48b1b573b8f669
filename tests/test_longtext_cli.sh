#!/usr/bin/env bash
# test_longtext_cli.sh: --long-text in the CLI.
#  1. `bertc predict --long-text chunks` gives softmax(mean/max of transformers'
#     per-window logits) for the longtext fixture's cases (tools/gen_longtext.py).
#  2. `bertc train --long-text chunks` on the tiny train fixture (16-token
#     windows, several per review): the loss falls; the eval loss logged at the
#     first evaluation equals transformers' cross-entropy of the mean-pooled
#     window logits of that checkpoint (1e-4); a resumed run ends with the same
#     weights as the uninterrupted one; multi-label + chunks runs; bad flags.
set -u
BERTC=${BERTC:?}; FL=${BERTC_FIXTURES:?}/longtext; F=${BERTC_FIXTURES:?}/train
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0

# 1. predict
python3 - "$FL/cases.json" "$tmp" <<'PY' || exit 1
import json, sys
cases = json.load(open(sys.argv[1]))["cases"]
settings = sorted({(c["max_length"], c["stride"]) for c in cases})
with open(f"{sys.argv[2]}/settings", "w") as f:
    for M, S in settings:
        f.write(f"{M} {S}\n")
        with open(f"{sys.argv[2]}/in.{M}.{S}", "w") as g:
            for c in cases:
                if c["max_length"] == M and c["stride"] == S and c["text"]:
                    g.write(c["text"] + "\n")
PY
while read -r M S; do
    for pool in mean max; do
        "$BERTC" predict --model "$FL/model" --long-text chunks --max-length $M --stride $S --pool $pool --all-scores \
            --threads 1 --input "$tmp/in.$M.$S" >"$tmp/out.$M.$S.$pool" 2>"$tmp/perr" ||
            { cat "$tmp/perr"; echo "FAIL: predict chunks M=$M S=$S $pool"; fail=1; }
    done
done <"$tmp/settings"
python3 - "$FL/cases.json" "$tmp" <<'PY' || fail=1
import json, math, sys
cases = json.load(open(sys.argv[1]))["cases"]
tmp = sys.argv[2]
worst, n, bad = 0.0, 0, 0
for M, S in sorted({(c["max_length"], c["stride"]) for c in cases}):
    cs = [c for c in cases if c["max_length"] == M and c["stride"] == S and c["text"]]
    for pool in ["mean", "max"]:
        rows = [json.loads(l) for l in open(f"{tmp}/out.{M}.{S}.{pool}")]
        if len(rows) != len(cs):
            print(f"FAIL: M={M} S={S} {pool}: {len(rows)} outputs for {len(cs)} texts"); bad = 1; continue
        for c, row in zip(cs, rows):
            x = c[pool]; mx = max(x); z = sum(math.exp(v - mx) for v in x)
            want = {f"LABEL_{k}": math.exp(v - mx) / z for k, v in enumerate(x)}
            got = {r["label"]: r["score"] for r in row}
            d = max(abs(want[k] - got.get(k, -1)) for k in want)
            worst = max(worst, d); n += 1
            if d > 1e-5:
                print(f"FAIL: M={M} S={S} {pool} windows={len(c['windows'])}: bertc {got}, transformers {want}"); bad = 1
print(f"predict --long-text chunks: {n} texts x settings, max |prob diff| vs transformers {worst:.2e}")
sys.exit(bad)
PY

# 2. train with chunks. 10 epochs at lr 1e-3 learn for every seed tried (42
# and 1-7: final eval loss 0.38-0.53 from 0.69); 4 epochs at 5e-3 learned for
# some seeds only (2, 3 and 6 stayed at 0.69), so a change of dropout masks
# could fail the test without any fault.
common=(--model "$F/tiny" --train "$F/train.jsonl" --eval "$F/eval.jsonl" --long-text chunks --max-length 16 --stride 4
        --batch-size 4 --eval-batch-size 8 --epochs 10 --lr 1e-3 --logging-steps 4 --threads 1 --no-report)
"$BERTC" train "${common[@]}" --out "$tmp/run" >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err"; echo "FAIL: train --long-text chunks"; exit 1; }
grep '^chunks:\|^memory:' "$tmp/err"
python3 - "$tmp/run" "$F/eval.jsonl" <<'PY' 2>/dev/null || fail=1
import json, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
run, evp = sys.argv[1:3]
log = [json.loads(l) for l in open(f"{run}/log.jsonl")]
losses = [e["loss"] for e in log if "loss" in e]
ev = [e for e in log if "eval_loss" in e]
print(f"train loss {losses[0]:.4f} -> {losses[-1]:.4f} ({len(losses)} logs); eval loss {ev[0]['eval_loss']:.4f} -> "
      f"{ev[-1]['eval_loss']:.4f}, accuracy {ev[0]['eval_accuracy']:.4f} -> {ev[-1]['eval_accuracy']:.4f}")
bad = 0
if not (sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 and ev[-1]["eval_loss"] < ev[0]["eval_loss"] - 0.02
        and ev[-1]["eval_accuracy"] > ev[0]["eval_accuracy"] + 0.2):
    print("FAIL: chunks training did not learn"); bad = 1
d = f"{run}/checkpoint-{ev[0]['step']}"
tok = AutoTokenizer.from_pretrained(d); m = AutoModelForSequenceClassification.from_pretrained(d).eval()
rows = [json.loads(l) for l in open(evp)]
tot = 0.0
with torch.no_grad():
    for r in rows:
        enc = tok(r["text"], truncation=True, max_length=16, stride=4, return_overflowing_tokens=True,
                  padding=True, return_tensors="pt")
        lg = m(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits.mean(0)
        tot += float(torch.nn.functional.cross_entropy(lg[None], torch.tensor([m.config.label2id[r["label"]]])))
ref = tot / len(rows)
print(f"eval loss at step {ev[0]['step']}: bertc {ev[0]['eval_loss']:.7f}, transformers (mean-pooled windows) {ref:.7f}")
if abs(ref - ev[0]["eval_loss"]) > 1e-4:
    print("FAIL: pooled eval loss differs"); bad = 1
sys.exit(bad)
PY
# one step's gradient: a dropout-free copy of the first checkpoint, every text in
# one batch (so the batch order does not matter): the logged loss and pre-clip
# gradient norm equal PyTorch's for CE on mean-pooled window logits
first=$(ls -d "$tmp/run"/checkpoint-* | sort -t- -k2 -n | head -1)
mkdir -p "$tmp/nodrop"
cp "$first"/config.json "$first"/model.safetensors "$first"/vocab.txt "$first"/tokenizer_config.json "$tmp/nodrop/" 2>/dev/null
cp "$first"/special_tokens_map.json "$tmp/nodrop/" 2>/dev/null
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["hidden_dropout_prob"]=0.0; c["attention_probs_dropout_prob"]=0.0; c["classifier_dropout"]=0.0; json.dump(c,open(p,"w"))' \
    "$tmp/nodrop/config.json"
"$BERTC" train --model "$tmp/nodrop" --train "$F/train.jsonl" --long-text chunks --max-length 16 --stride 4 \
    --batch-size 64 --max-steps 1 --logging-steps 1 --eval-strategy no --save-strategy no --threads 1 --no-report \
    --out "$tmp/g1" >/dev/null 2>"$tmp/eg" || { cat "$tmp/eg"; echo "FAIL: one-step run"; fail=1; }
python3 - "$tmp/nodrop" "$tmp/g1/log.jsonl" "$F/train.jsonl" <<'PY' 2>/dev/null || fail=1
import json, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
d, logp, trp = sys.argv[1:4]
e = json.loads(open(logp).readline())
tok = AutoTokenizer.from_pretrained(d); m = AutoModelForSequenceClassification.from_pretrained(d).train()
rows = [json.loads(l) for l in open(trp)]
loss = 0
for r in rows:
    enc = tok(r["text"], truncation=True, max_length=16, stride=4, return_overflowing_tokens=True, padding=True,
              return_tensors="pt")
    lg = m(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits.mean(0)
    loss = loss + torch.nn.functional.cross_entropy(lg[None], torch.tensor([m.config.label2id[r["label"]]]))
loss = loss / len(rows)
loss.backward()
norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in m.parameters() if p.grad is not None)).item()
rel = abs(norm - e["grad_norm"]) / norm
print(f"one step, 64 texts: loss bertc {e['loss']:.7f} torch {loss.item():.7f}; grad norm bertc {e['grad_norm']:.7f} "
      f"torch {norm:.7f} (rel {rel:.1e})")
if not (abs(loss.item() - e["loss"]) < 1e-5 and rel < 1e-3):
    print("FAIL: one-step loss/gradient norm vs PyTorch"); sys.exit(1)
PY
# resume from the first checkpoint: the same final weights
cp -r "$tmp/run" "$tmp/run2"
rm -rf "$tmp/run2/model" "$tmp/run2/run.json"
for c in "$tmp/run2"/checkpoint-*; do [ "$(basename "$c")" = "$(basename "$first")" ] || rm -rf "$c"; done
"$BERTC" train "${common[@]}" --out "$tmp/run2" --resume latest >/dev/null 2>"$tmp/err2" ||
    { cat "$tmp/err2"; echo "FAIL: resume"; fail=1; }
cmp -s "$tmp/run/model/model.safetensors" "$tmp/run2/model/model.safetensors" &&
    echo "resumed from $(basename "$first"): final weights identical" ||
    { echo "FAIL: resumed run's weights differ"; fail=1; }
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["settings"]; assert s["long_text"]=="chunks" and s["stride"]==4, s' \
    "$tmp/run/run.json" || { echo "FAIL: run.json settings"; fail=1; }
# multi-label with chunks, max pooling, capped windows
python3 -c 'import json,sys
for l in open(sys.argv[1]): r = json.loads(l); print(json.dumps({"text": r["text"], "label": [r["label"]] + (["funny"] if "funny" in r["text"].lower() else [])}))' \
    "$F/train.jsonl" >"$tmp/ml.jsonl"
"$BERTC" train --model "$F/tiny" --train "$tmp/ml.jsonl" --validation-split 0.25 --multi-label --long-text chunks \
    --max-length 16 --pool max --max-windows 3 --batch-size 4 --max-steps 6 --eval-strategy steps --eval-steps 3 \
    --logging-steps 3 --threads 1 --no-report --out "$tmp/ml" >/dev/null 2>"$tmp/err3" ||
    { cat "$tmp/err3"; echo "FAIL: multi-label + chunks"; fail=1; }
# Bmax = 3 windows x the larger of --batch-size 4 and --eval-batch-size 8
grep -q "up to 24 windows per forward" "$tmp/err3" || { grep chunks "$tmp/err3"; echo "FAIL: --max-windows 3 x batch 8"; fail=1; }
grep -q '"eval_hamming_loss"' "$tmp/ml/log.jsonl" || { echo "FAIL: multi-label chunks eval"; fail=1; }
# bad flags: exit 2, one line naming the flag, nothing written
while read -r flag args; do
    "$BERTC" train --model "$F/tiny" --train "$F/train.jsonl" --out "$tmp/bad" --eval-strategy no $args 2>"$tmp/e5"
    rc=$?
    if [ $rc != 2 ] || [ "$(wc -l <"$tmp/e5")" != 1 ] || ! grep -q -- "$flag" "$tmp/e5" || [ -e "$tmp/bad" ]; then
        cat "$tmp/e5"; echo "FAIL: train '$args' gave rc $rc"; fail=1
    fi
done <<'CASES'
--stride --stride 4
--pool --pool max
--max-windows --max-windows 2
--long-text --long-text paragraphs
--stride --long-text chunks --max-length 16 --stride 14
--long-text --long-text head+tail --truncation tail
--long-text --long-text chunks --text-pair-column text
CASES
while read -r flag args; do
    "$BERTC" predict --model "$FL/model" $args "some text" >/dev/null 2>"$tmp/e6"
    rc=$?
    if [ $rc != 2 ] || [ "$(wc -l <"$tmp/e6")" != 1 ] || ! grep -q -- "$flag" "$tmp/e6"; then
        cat "$tmp/e6"; echo "FAIL: predict '$args' gave rc $rc"; fail=1
    fi
done <<'CASES'
--stride --stride 4
--pool --pool max
--stride --long-text chunks --max-length 16 --stride 14
--threshold --threshold 0.4
--long-text --long-text chunks --pair
CASES
[ $fail = 0 ] && echo "ok: predict and train with --long-text chunks"
exit $fail
