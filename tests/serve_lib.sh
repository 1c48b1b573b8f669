# serve_lib.sh: what the test_serve*.sh scripts share; they source it
# (`. "$(dirname "$0")/serve_lib.sh" TAG`). Not a test itself: tests/run.sh runs
# only tests/test_*. Sourcing it
#   - requires BERTC, BERTC_ROOT and BERTC_FIXTURES (set by tests/run.sh);
#   - makes $tmp, a fresh folder /tmp/bertc-TAG-XXXXXX;
#   - sets a trap that, at exit, kills (-9) every server serve_start started and
#     not yet stopped by serve_stop, waits for them and removes $tmp;
#   - sets fail=0 and defines check CONDITION WHAT ("ok: WHAT" or "FAIL: WHAT"
#     and fail=1), serve_start and serve_stop below.
: "${BERTC:?}" "${BERTC_ROOT:?}" "${BERTC_FIXTURES:?}"
tmp=$(mktemp -d "/tmp/bertc-${1:?serve_lib.sh: a tag for the temporary folder}-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }

# serve_start NAME MODEL [FLAGS...]: `bertc serve --model MODEL --port 0
# --threads 1 FLAGS...` in the background, its stderr in $tmp/NAME.err; waits
# (30 s at most) for its "listening on http://127.0.0.1:PORT" line and sets pid
# and port. A server that exits or never listens fails the test (exit 1) with
# what it said. Environment assignments before the call reach the server.
serve_start() {
    local name=$1 model=$2; shift 2
    "$BERTC" serve --model "$model" --port 0 --threads 1 "$@" 2>"$tmp/$name.err" &
    pid=$!; pids+=("$pid"); port=""
    for _ in $(seq 300); do
        port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/$name.err" | sed 's/.*://')
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "FAIL: bertc serve ($name) did not start: $(cat "$tmp/$name.err")"; exit 1; }
}

# serve_stop: SIGTERM to the server serve_start started last ($pid); waits for
# it and sets rc to its exit status. The trap leaves it alone from then on.
serve_stop() {
    kill -TERM "$pid"; wait "$pid"; rc=$?
    local p keep=()
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    pids=("${keep[@]}"); pid=""
}
