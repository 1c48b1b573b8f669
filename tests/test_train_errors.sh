#!/usr/bin/env bash
# test_train_errors.sh: bad flags and bad data make `bertc train` stop before it
# writes anything: a non-zero exit (2 for flags), an error line naming the flag
# or file, and no OUT folder (or an existing OUT left exactly as it was).
set -u
BERTC=${BERTC:?}; F=${BERTC_FIXTURES:?}/train
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; n=0
base=(--model "$F/tiny" --eval "$F/eval.jsonl" --threads 1 --no-report)

# expect CODE NEEDLE ARGS...: exit CODE (or any non-zero for "nz"), last stderr line
# "bertc train: ..." containing NEEDLE, and $tmp/out not created.
expect() {
    local code=$1 needle=$2; shift 2
    n=$((n + 1))
    rm -rf "$tmp/out"
    "$BERTC" train "$@" --out "$tmp/out" >"$tmp/so" 2>"$tmp/se"; local rc=$?
    local last; last=$(tail -1 "$tmp/se")
    if [ "$code" = nz ]; then [ $rc -ne 0 ]; else [ $rc -eq "$code" ]; fi ||
        { echo "FAIL case $n ($*): exit $rc, expected $code"; fail=1; }
    case "$last" in "bertc train: "*"$needle"*) ;; *) echo "FAIL case $n: message '$last' lacks '$needle'"; fail=1 ;; esac
    [ -e "$tmp/out" ] && { echo "FAIL case $n: $tmp/out was created"; fail=1; }
    echo "case $n: exit $rc: $last"
}

printf '{"text": "fine", "label": "pos"}\n{"text": "so so", "label": "meh"}\n' >"$tmp/eval_unseen.jsonl"
: >"$tmp/empty.jsonl"
for i in 1 2 3 4 5 6 7 8 9 10; do echo "{\"text\": \"good $i\", \"label\": \"pos\"}"; done >"$tmp/one.jsonl"
printf 'text,sentiment\nnice,pos\nbad,neg\n' >"$tmp/nolabel.csv"
head -c 3000 /dev/urandom >"$tmp/broken.tar.gz"
T=(--train "$F/train.jsonl")

expect 2 "--lr" "${base[@]}" "${T[@]}" --lr -1e-5
expect 2 "--lr" "${base[@]}" "${T[@]}" --lr fast
expect 2 "--epochs" "${base[@]}" "${T[@]}" --epochs 0
expect 2 "--batch-size" "${base[@]}" "${T[@]}" --batch-size 65
expect 2 "--batch-size" "${base[@]}" "${T[@]}" --batch-size 0
expect 2 "--eval-strategy" "${base[@]}" "${T[@]}" --eval-strategy sometimes
expect 2 "--save-strategy" "${base[@]}" "${T[@]}" --save-strategy always
expect 2 "--metric-for-best-model" "${base[@]}" "${T[@]}" --metric-for-best-model auc
expect 2 "--truncation" "${base[@]}" "${T[@]}" --truncation middle
expect 2 "--lr-scheduler" "${base[@]}" "${T[@]}" --lr-scheduler wavy
expect 2 "--warmup-ratio" "${base[@]}" "${T[@]}" --warmup-ratio 1.5
expect 2 "--weight-decay" "${base[@]}" "${T[@]}" --weight-decay -0.1
expect 2 "--no-such-flag" "${base[@]}" "${T[@]}" --no-such-flag 1
expect 2 "--train" --model "$F/tiny" --threads 1
expect 2 "--load-best-model-at-end" "${base[@]}" "${T[@]}" --load-best-model-at-end --save-strategy steps
expect 2 "--eval-strategy" --model "$F/tiny" "${T[@]}"
expect 2 "--class-weights" "${base[@]}" "${T[@]}" --class-weights 1,2,3
expect 2 "--class-weights" "${base[@]}" "${T[@]}" --class-weights heavy
expect 2 "--max-length" "${base[@]}" "${T[@]}" --max-length 1000
expect 2 "--validation-split" "${base[@]}" "${T[@]}" --validation-split 0.2
expect nz "eval_unseen.jsonl" --model "$F/tiny" "${T[@]}" --eval "$tmp/eval_unseen.jsonl" --threads 1
expect nz "empty.jsonl" "${base[@]}" --train "$tmp/empty.jsonl"
expect nz "one.jsonl" "${base[@]}" --train "$tmp/one.jsonl"
expect nz "label" "${base[@]}" --train "$tmp/nolabel.csv"
expect nz "broken.tar.gz" "${base[@]}" --train "$tmp/broken.tar.gz"
expect nz "missing.jsonl" "${base[@]}" --train "$tmp/missing.jsonl"
expect nz "--model" --model "$tmp/no-model" "${T[@]}" --eval "$F/eval.jsonl"

# an OUT that holds a run is left exactly as it was without --resume
mkdir -p "$tmp/prev/checkpoint-3"; echo '{"step": 1}' >"$tmp/prev/log.jsonl"
before=$(ls -laR "$tmp/prev" | md5sum)
"$BERTC" train "${base[@]}" "${T[@]}" --out "$tmp/prev" >/dev/null 2>"$tmp/se"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--out" "$tmp/se" || { echo "FAIL: existing run: exit $rc: $(tail -1 "$tmp/se")"; fail=1; }
[ "$before" = "$(ls -laR "$tmp/prev" | md5sum)" ] || { echo "FAIL: existing run was changed"; fail=1; }
echo "existing run: exit $rc: $(tail -1 "$tmp/se")"

# --resume with other settings than the checkpoint's run: refused with one line naming the
# flag and both values, before anything in OUT changes
R=(--max-steps 2 --save-strategy steps --save-steps 2 --batch-size 4)
"$BERTC" train "${base[@]}" "${T[@]}" "${R[@]}" --out "$tmp/run" >/dev/null 2>"$tmp/se" ||
    { echo "FAIL: resume setup run: $(tail -1 "$tmp/se")"; fail=1; }
snap() { (cd "$tmp/run" && find . -printf '%p %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort) | md5sum; }
before=$(snap)
rs=0
resume_refused() {   # FLAG NEEDLE ARGS...
    local flag=$1 needle=$2; shift 2
    rs=$((rs + 1))
    "$BERTC" train "${base[@]}" "${T[@]}" "${R[@]}" --resume latest "$@" --out "$tmp/run" >/dev/null 2>"$tmp/se"; local rc=$?
    local last; last=$(tail -1 "$tmp/se")
    [ $rc -eq 2 ] || { echo "FAIL: resume with $*: exit $rc, expected 2"; fail=1; }
    case "$last" in "bertc train: --resume: $flag is "*"$needle"*) ;; *) echo "FAIL: resume with $*: message '$last' lacks '$flag ... $needle'"; fail=1 ;; esac
    [ "$before" = "$(snap)" ] || { echo "FAIL: resume with $*: OUT was changed"; fail=1; before=$(snap); }
    echo "resume with $*: exit $rc: $last"
}
resume_refused --seed "7 here but 42 in" --seed 7
resume_refused --batch-size "2 here but 4 in" --batch-size 2
resume_refused --gradient-accumulation-steps "2 here but 1 in" --gradient-accumulation-steps 2
resume_refused --weight-decay "0.01 here but 0 in" --weight-decay 0.01
resume_refused --max-length "32 here but 128 in" --max-length 32
resume_refused --task "token-classification here but text-classification in" --task token-classification
# the same settings resume
"$BERTC" train "${base[@]}" "${T[@]}" "${R[@]}" --resume latest --out "$tmp/run" >/dev/null 2>"$tmp/se" ||
    { echo "FAIL: resume with the same settings: $(tail -1 "$tmp/se")"; fail=1; }
n=$((n + rs))

# the JSON line on stdout is JSON whatever the --out path holds (quotes, backslashes, tabs)
odd="$tmp/o\"dd\\di	r"
"$BERTC" train "${base[@]}" "${T[@]}" --max-steps 1 --batch-size 4 --save-strategy no --eval-strategy no --out "$odd" \
    >"$tmp/so" 2>"$tmp/se" || { echo "FAIL: run into an odd --out: $(tail -1 "$tmp/se")"; fail=1; }
ODD="$odd" python3 -c 'import json,os,sys; j=json.loads(open(sys.argv[1]).read()); assert j["model"] == os.environ["ODD"] + "/model", j["model"]' "$tmp/so" ||
    { echo "FAIL: stdout is not JSON naming the odd --out: $(cat "$tmp/so")"; fail=1; }
echo "odd --out: $(cat "$tmp/so")"
[ $fail -eq 0 ] && echo "train_errors: $n cases and the existing-run case passed"
exit $fail
