#!/usr/bin/env bash
# test_serve_slow.sh: `bertc serve` under 1,000 slow connections (127.0.0.1 only).
# tests/serve_slow.py opens 1,000 connections from 5 loopback source addresses
# that each announce a 1 MB body and trickle it, reopening what the server closes,
# for 15 s, while a normal client (from 127.0.0.2) keeps sending small requests.
# The server runs with the default connection limits (--max-connections 512,
# --max-per-ip 64) and --max-buffered 16 MB, --max-request-time 6. Checks: every
# normal request is answered 200; the server's RSS grows by at most 96 MiB (1,000
# bodies of 1 MB would be ~950 MiB); slow requests over the budget get 503; no
# slow sender is kept past --max-request-time; the server still exits 0 on SIGTERM.
# Also: bad values of the new flags are refused with one line, exit 2.
set -u
. "$(dirname "$0")/serve_lib.sh" serveslow
model=$BERTC_FIXTURES/forward/minilm2
[ -f "$model/model.safetensors" ] || { echo "FAIL: $model is missing (make fixtures)"; exit 1; }

# Under ASan freed memory sits in a quarantine (256 MiB by default) and counts in the
# RSS: keep it small, so that the bound still measures what the server holds.
asan=${ASAN_OPTIONS:-}
[ -n "${BERTC_SANITIZED:-}" ] && asan="${asan:+$asan:}quarantine_size_mb=8"
ASAN_OPTIONS=$asan serve_start serve "$model" --max-body 1000000 --max-buffered 16000000 --max-request-time 6 \
    --timeout 10
# one request first, so the model's buffers are in the RSS before the baseline
python3 -c "import http.client; c=http.client.HTTPConnection('127.0.0.1',$port,timeout=30); c.request('POST','/predict',body='{\"inputs\": \"warm up\"}'); assert c.getresponse().status==200" ||
    { echo "FAIL: the server does not answer"; exit 1; }

timeout 60 python3 "$BERTC_ROOT/tests/serve_slow.py" "$port" "$pid" 1000 5 15 1000000 16000000 6 96 || fail=1
python3 -c "
import http.client, json
c = http.client.HTTPConnection('127.0.0.1', $port, timeout=10); c.request('GET', '/info')
i = json.loads(c.getresponse().read())
assert (i['max_connections'], i['max_per_ip'], i['max_buffered'], i['max_request_time']) == (512, 64, 16000000, 6), i
assert i['stats']['overloaded'] > 0, i['stats']" && echo "ok: GET /info shows the limits and counts the 503s" ||
    { echo "FAIL: GET /info"; fail=1; }
serve_stop
check '[ $rc -eq 0 ]' "the server exits 0 on SIGTERM after the load ($(tail -1 "$tmp/serve.err"))"

for bad in "--max-connections 0" "--max-per-ip -1" "--max-buffered 10 --max-body 100" "--max-request-time 0"; do
    "$BERTC" serve --model "$model" --port 0 $bad >/dev/null 2>"$tmp/bad.err"; rc=$?
    check '[ $rc -eq 2 ] && [ $(wc -l <"$tmp/bad.err") -eq 1 ] && grep -q -- "${bad%% *}" "$tmp/bad.err"' \
        "serve $bad: exit 2, one line naming the flag ($(cat "$tmp/bad.err"))"
done
exit $fail
