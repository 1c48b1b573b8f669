#!/usr/bin/env bash
# test_eval_signal.sh: SIGTERM or SIGINT during `bertc eval --predictions` stops it
# with exit 128 + signal and one line, and leaves neither the predictions file
# nor its temporary file behind (nothing half-written).
set -u
BERTC=${BERTC:?} FX=${BERTC_FIXTURES:?} IMDB=${BERTC_IMDB:?}
model="$FX/forward/minilm2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
[ -d "$model" ] || { echo "FAIL $model missing: run make fixtures"; exit 1; }
for sig in TERM INT; do
    out="$tmp/$sig"
    mkdir -p "$out"
    "$BERTC" eval --model "$model" --data "$IMDB:test" --limit 3000 --batch-size 8 --max-length 128 \
        --threads 1 --quiet --predictions "$out/pred.jsonl" >"$out/stdout" 2>"$out/stderr" &
    pid=$!
    # wait until the temporary predictions file exists and has lines: the run is mid-way
    for _ in $(seq 1 600); do
        f=$(ls "$out"/pred.jsonl.tmp.* 2>/dev/null | head -1)
        [ -n "$f" ] && [ -s "$f" ] && break
        sleep 0.1
    done
    kill -s "$sig" "$pid"
    wait "$pid"
    code=$?
    want=$((128 + $(kill -l "$sig")))
    [ "$code" -eq "$want" ] && ok "SIG$sig: exit $code" || bad "SIG$sig: exit $code, want $want"
    errs=$(grep -v ": note: " "$out/stderr")   # the label-mapping note is not an error
    [ "$(printf '%s\n' "$errs" | grep -c .)" -eq 1 ] && printf '%s' "$errs" | grep -q "stopped by a signal" \
        && ok "SIG$sig: one line: $errs" || bad "SIG$sig: stderr: $(cat "$out/stderr")"
    left=$(ls "$out" | grep -c pred.jsonl)
    [ "$left" -eq 0 ] && ok "SIG$sig: no predictions file and no temporary file left" \
        || bad "SIG$sig: left behind: $(ls "$out")"
done
echo "eval_signal: $fails failed"
[ "$fails" -eq 0 ]
