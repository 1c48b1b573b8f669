#!/usr/bin/env bash
# test_serve.sh: `bertc serve` on 127.0.0.1 with the MiniLM fixture that has a
# trained-shape 2-label head (build/fixtures/forward/minilm2), driven by
# tests/serve_client.py (standard library only):
#   1. shapes, top_k, the same label/score as `bertc predict` (1e-6), and every
#      malformed request with its status (400/405/404/413/422);
#   2. two clients stall mid-request: others are answered meanwhile, and the
#      stallers are cut after --timeout;
#   3. a bounded load (500 requests, 16 connections): 0 errors, throughput, p50/p99;
#   4. SIGTERM with requests in flight: all answered 200, new connections
#      refused, exit status 0;
#   5. a second server with --queue 2 --max-batch 1: a burst gets 429 at once.
# Every server is killed at exit (trap); every client socket has a timeout.
set -u
. "$(dirname "$0")/serve_lib.sh" serve
model=$BERTC_FIXTURES/forward/minilm2
client="python3 $BERTC_ROOT/tests/serve_client.py"
[ -f "$model/model.safetensors" ] || { echo "FAIL: $model is missing (make fixtures)"; exit 1; }

# start NAME FLAGS...: serve_start (a server on a free port; sets $pid and
# $port), then waits until its /health answers 200.
start() {
    local name=$1; shift
    serve_start "$name" "$model" "$@"
    curl_ok=0
    for _ in $(seq 100); do
        python3 -c "import http.client,sys; c=http.client.HTTPConnection('127.0.0.1',$port,timeout=2); c.request('GET','/health'); sys.exit(c.getresponse().status!=200)" 2>/dev/null && { curl_ok=1; break; }
        sleep 0.1
    done
    [ $curl_ok = 1 ] || { echo "FAIL: $name server: /health does not answer"; exit 1; }
}

# The reference: bertc predict on the same texts (top 2 labels each).
python3 - "$tmp/texts.txt" <<'PY'
import sys
sys.path.insert(0, __import__("os").environ["BERTC_ROOT"] + "/tests")
from serve_client import REVIEWS
open(sys.argv[1], "w").write("\n".join(REVIEWS) + "\n")
PY
"$BERTC" predict --model "$model" --threads 1 --top-k 2 --input "$tmp/texts.txt" >"$tmp/ref.jsonl" 2>"$tmp/ref.err"
check '[ $? -eq 0 ] && [ $(wc -l <"$tmp/ref.jsonl") -eq 8 ]' "bertc predict reference for 8 texts"

start main --timeout 3
main_pid=$pid main_port=$port
$client "$port" check "$tmp/ref.jsonl" || fail=1
$client "$port" stall 3 || fail=1
$client "$port" load 500 16 || fail=1
$client "$port" drain 6 "$main_pid" || fail=1
timeout 30 bash -c "while kill -0 $main_pid 2>/dev/null; do sleep 0.1; done"
wait "$main_pid"; rc=$?
check '[ $rc -eq 0 ]' "SIGTERM: the server exits 0 after answering ($(tail -1 "$tmp/main.err"))"
check 'grep -q "stopped: .* requests answered" "$tmp/main.err"' "the server reports what it served on exit"

start flood --queue 2 --max-batch 1
$client "$port" flood 40 || fail=1
serve_stop
check '[ $rc -eq 0 ]' "the flooded server exits 0 on SIGTERM"
check 'grep -q "with 429" "$tmp/flood.err"' "it counted the 429s: $(tail -1 "$tmp/flood.err")"

# Bad flags are one line and status 2, before any model is loaded.
"$BERTC" serve --model "$model" --port 70000 >/dev/null 2>"$tmp/bad.err"; rc=$?
check '[ $rc -eq 2 ] && grep -q -- "--port" "$tmp/bad.err"' "--port 70000 -> status 2 naming the flag"
"$BERTC" serve --model "$model" --port 0 --host nowhere.invalid >/dev/null 2>"$tmp/bad.err"; rc=$?
check '[ $rc -eq 1 ] && grep -q "IPv4" "$tmp/bad.err"' "--host that is not an IPv4 address -> one line, status 1"
exit $fail
