#!/usr/bin/env python3
"""serve_client.py: a standard-library client for `bertc serve` (http.client,
threads, raw sockets), used by tests/test_serve.sh and bench/serve_load.py.

    serve_client.py PORT check REF.jsonl     shapes, top_k, parity with `bertc predict`,
                                             every malformed request and its status
    serve_client.py PORT stall TIMEOUT       half a request that stalls: others are answered
                                             meanwhile, the stalled one is cut after TIMEOUT s
    serve_client.py PORT flood N             N requests at once against a tiny queue: only
                                             200 and 429, at least one of each
    serve_client.py PORT load N C            N requests on C keep-alive connections: 0 errors,
                                             prints throughput and p50/p99 latency (JSON line)
    serve_client.py PORT drain N PID         N slow requests in flight, then SIGTERM to PID:
                                             every one answered 200, new connections refused

Each check prints "ok: ..." or "FAIL: ..."; the exit status is 1 if any failed.
Only 127.0.0.1. Every socket has a timeout, so nothing waits forever.
"""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
TIMEOUT = 60  # seconds per socket operation: a hung server fails the test, not the CI
failures = 0

# Short IMDB-like reviews (the load test cycles through them).
REVIEWS = [
    "This movie was a delight from start to finish, the cast is wonderful.",
    "I wanted to like it, but the plot made no sense and the ending dragged.",
    "A beautifully shot film with a weak script.",
    "Terrible acting, cheap effects, and a story that goes nowhere.",
    "One of the best performances I have seen in years.",
    "It was fine. Nothing special, nothing awful.",
    "The director clearly loves these characters, and so did I.",
    "Two hours of my life I will never get back.",
]


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures += 1
    return cond


def request(port, method, path, body=None, headers=None, conn=None):
    """One request; returns (status, parsed JSON or raw bytes, headers)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    try:
        data = json.loads(data)
    except ValueError:
        pass
    hdrs = dict(r.getheaders())
    if own:
        conn.close()
    return r.status, data, hdrs


def raw(port, data, read=True, timeout=TIMEOUT):
    """Sends bytes on a fresh socket; returns (status, body) of the answer."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                m = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if m and len(rest) >= int(m[0].split(b":")[1]):
                    break
        status = int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/") else 0
        return status, buf.partition(b"\r\n\r\n")[2]
    finally:
        if read:
            s.close()


def is_scores(x, n):
    return (isinstance(x, list) and len(x) == n and all(
        isinstance(d, dict) and set(d) == {"label", "score"} and isinstance(d["score"], float) for d in x))


def error_is(got, status, what):
    st, body, _ = got
    ok = st == status and isinstance(body, dict) and isinstance(body.get("error"), str) and "error_type" in body
    check(ok, "%s -> %d with a JSON error (got %d %s)" % (what, status, st, str(body)[:120]))


def cmd_check(port, ref_path):
    refs = [json.loads(l) for l in open(ref_path, encoding="utf-8")]  # bertc predict --top-k 2, one line each
    texts = REVIEWS[:len(refs)]
    st, h, _ = request(port, "GET", "/health")
    check(st == 200 and h == {"status": "ok"}, "GET /health -> 200 {\"status\":\"ok\"}")
    st, info, _ = request(port, "GET", "/info")
    check(st == 200 and isinstance(info.get("labels"), list) and info.get("max_inputs") == 32
          and info.get("max_length", 0) >= 2 and "model" in info, "GET /info: model, labels, limits")
    labels = info.get("labels", [])
    # One string: a list of top_k (default 1) {label, score}, as the pipeline.
    st, one, _ = request(port, "POST", "/predict", {"inputs": texts[0]})
    check(st == 200 and is_scores(one, 1), "a string -> [{label, score}]: %s" % one)
    if st == 200 and is_scores(one, 1):
        check(one[0]["label"] == refs[0][0]["label"] and abs(one[0]["score"] - refs[0][0]["score"]) <= 1e-6,
              "same label and score as bertc predict (1e-6): %s vs %s" % (one[0], refs[0][0]))
    # A list: a list of lists, each input in order, with the same numbers.
    st, many, _ = request(port, "POST", "/predict", {"inputs": texts, "top_k": 2})
    ok = st == 200 and isinstance(many, list) and len(many) == len(texts) and all(is_scores(x, 2) for x in many)
    check(ok, "a list of %d with top_k 2 -> %d lists of 2" % (len(texts), len(texts)))
    if ok:
        worst = max(abs(a["score"] - b["score"]) for x, r in zip(many, refs) for a, b in zip(x, r))
        same = all([a["label"] for a in x] == [b["label"] for b in r] for x, r in zip(many, refs))
        check(same and worst <= 1e-6, "list: labels equal bertc predict, max |score diff| %.2e <= 1e-6" % worst)
        check(all(x[0]["score"] >= x[1]["score"] for x in many), "top_k entries sorted by score")
    st, alls, _ = request(port, "POST", "/predict", {"inputs": texts[0], "top_k": None})
    check(st == 200 and is_scores(alls, len(labels)), "top_k null -> every label")
    st, big, _ = request(port, "POST", "/predict", {"inputs": [texts[1]], "top_k": 1000})
    check(st == 200 and isinstance(big, list) and len(big) == 1 and is_scores(big[0], len(labels)),
          "top_k above the label count -> every label, one list per input")
    st, e, _ = request(port, "POST", "/predict", {"inputs": ""})
    check(st == 200 and is_scores(e, 1), "an empty string is scored ([CLS] [SEP])")
    st, u, _ = request(port, "POST", "/predict", {"inputs": "Ein schöner Film 🎬 — 良い映画"})
    check(st == 200 and is_scores(u, 1), "non-ASCII text is scored")
    # Malformed requests and their statuses.
    error_is(request(port, "POST", "/predict", b'{"inputs": "unterminated'), 400, "bad JSON")
    error_is(request(port, "POST", "/predict", b'{"inputs": "a"} trailing'), 400, "trailing garbage")
    error_is(request(port, "POST", "/predict", b""), 400, "empty body")
    error_is(request(port, "POST", "/predict", {"inputs": 5}), 400, "inputs is a number")
    error_is(request(port, "POST", "/predict", {"inputs": ["a", 3]}), 400, "a list item is not a string")
    error_is(request(port, "POST", "/predict", {"text": "a"}), 400, "no inputs key")
    error_is(request(port, "POST", "/predict", ["a"]), 400, "body is a list, not an object")
    error_is(request(port, "POST", "/predict", {"inputs": "a", "top_k": "2"}), 400, "top_k is a string")
    error_is(request(port, "POST", "/predict", {"inputs": "a", "top_k": 1.5}), 400, "top_k is not an integer")
    error_is(request(port, "POST", "/predict", {"inputs": "a", "top_k": 0}), 422, "top_k 0")
    error_is(request(port, "POST", "/predict", b'{"inputs": "caf\xc3"}'), 400, "invalid UTF-8 (cut sequence)")
    error_is(request(port, "POST", "/predict", b'{"inputs": "\xed\xa0\x80"}'), 400, "invalid UTF-8 (surrogate)")
    error_is(request(port, "POST", "/predict", b'{"inputs": "\\ud800"}'), 400, "unpaired \\ud800 escape")
    error_is(request(port, "POST", "/predict", b'{"inputs": "a\\u0000b"}'), 400, "\\u0000 escape")
    error_is(request(port, "POST", "/predict", b'{"inputs": "a\x00b"}'), 400, "a NUL byte")
    error_is(request(port, "POST", "/predict", {"inputs": []}), 422, "empty inputs list")
    error_is(request(port, "POST", "/predict", {"inputs": ["x"] * 33}), 422, "33 inputs (max 32)")
    error_is(request(port, "POST", "/predict", {"inputs": ["x"] * 100000}), 422, "100,000 inputs")
    error_is(request(port, "POST", "/predict", {"inputs": "é" * (info.get("max_chars", 0) + 1)}), 422,
             "a text one character over max_chars")
    st, _, _ = request(port, "POST", "/predict", {"inputs": "é" * info.get("max_chars", 0)})
    check(st == 200, "a text of exactly max_chars characters (long ones are truncated to max_length tokens)")
    # Over --max-body: refused from Content-Length before the body is read ...
    status, body = raw(port, b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 2000001\r\n\r\n")
    check(status == 413 and b"max-body" in body, "Content-Length over --max-body -> 413 before the body (%d)" % status)
    # ... and when sent chunked (no length announced), once it passes the limit.
    chunk = b"x" * 1000000
    data = b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    data += (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 3 + b"0\r\n\r\n"
    status, body = raw(port, data)
    check(status == 413, "a chunked body over --max-body -> 413 (%d)" % status)
    error_is(request(port, "GET", "/predict"), 405, "GET /predict")
    st, _, h = request(port, "POST", "/health")
    check(st == 405 and "GET" in h.get("Allow", ""), "POST /health -> 405 with Allow: GET")
    error_is(request(port, "GET", "/nope"), 404, "unknown path")
    # Keep-alive: several requests on one connection.
    c = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    sts = [request(port, "POST", "/predict", {"inputs": t}, conn=c)[0] for t in texts[:3]]
    c.close()
    check(sts == [200] * 3, "three requests on one keep-alive connection")
    st, info2, _ = request(port, "GET", "/health")
    check(st == 200, "still healthy after the malformed requests")


def cmd_stall(port, timeout):
    """Half a request, then silence: others are answered; the server cuts it."""
    t0 = time.monotonic()
    s = raw(port, b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inputs\": \"ha", read=False)
    s2 = raw(port, b"POST /predict HTTP/1.1\r\nHost: x\r\nContent", read=False)  # stalls inside the headers
    answered = []
    for i in range(5):
        st, r, _ = request(port, "POST", "/predict", {"inputs": REVIEWS[i]})
        answered.append(st == 200)
    check(all(answered) and time.monotonic() - t0 < timeout,
          "5 requests answered while two clients stall (%.2fs)" % (time.monotonic() - t0))
    for name, sock in (("mid-body", s), ("mid-headers", s2)):
        sock.settimeout(timeout + 15)
        try:
            data = sock.recv(65536)
            closed = True
        except socket.timeout:
            data, closed = b"", False
        except ConnectionResetError:
            data, closed = b"", True
        took = time.monotonic() - t0
        check(closed and took >= timeout - 0.5 and took < timeout + 15,
              "the %s staller is cut after the %ds timeout (%.1fs, %d bytes: %r)"
              % (name, timeout, took, len(data), data[:40]))
        sock.close()


def cmd_flood(port, n):
    """n requests at once; with a tiny queue some must get 429 at once."""
    results = [None] * n
    start = threading.Barrier(n)

    def one(i):
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            c.connect()
            start.wait()
            t = time.monotonic()
            st, body, _ = request(port, "POST", "/predict", {"inputs": [REVIEWS[i % 8]] * 4}, conn=c)
            results[i] = (st, body, time.monotonic() - t)
            c.close()
        except Exception as e:  # noqa: BLE001 - any failure is a result
            results[i] = (0, repr(e), 0)

    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    sts = [r[0] for r in results]
    n200, n429 = sts.count(200), sts.count(429)
    check(n200 + n429 == n, "%d requests at once: only 200 and 429 (%d, %d; others %s)"
          % (n, n200, n429, [r for r in results if r[0] not in (200, 429)][:3]))
    check(n200 >= 1 and n429 >= 1, "at least one answered and one refused with 429")
    ok429 = [r for r in results if r[0] == 429]
    check(all(isinstance(r[1], dict) and r[1].get("error_type") == "overloaded" for r in ok429),
          "429 bodies say error_type overloaded")
    slowest200 = max([r[2] for r in results if r[0] == 200] or [0])
    fastest429 = max([r[2] for r in ok429] or [0])
    check(fastest429 <= max(1.0, slowest200), "429 comes at once (slowest 429 %.3fs, slowest 200 %.3fs)"
          % (fastest429, slowest200))


def load(port, n, conns, inputs_per_request=1):
    """n requests over conns keep-alive connections; returns a dict of figures."""
    lat = []
    errors = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker():
        c = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = {"inputs": REVIEWS[i % len(REVIEWS)] if inputs_per_request == 1
                    else [REVIEWS[(i + k) % len(REVIEWS)] for k in range(inputs_per_request)]}
            t = time.monotonic()
            try:
                st, r, _ = request(port, "POST", "/predict", body, conn=c)
                ok = st == 200 and isinstance(r, list) and len(r) == inputs_per_request
            except Exception as e:  # noqa: BLE001
                st, r, ok = 0, repr(e), False
                c.close()
                c = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            dt = time.monotonic() - t
            with lock:
                lat.append(dt)
                if not ok:
                    errors.append((st, str(r)[:100]))
        c.close()

    t0 = time.monotonic()
    th = [threading.Thread(target=worker) for _ in range(conns)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    wall = time.monotonic() - t0
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] if lat else float("nan")

    return {"requests": n, "connections": conns, "errors": len(errors), "first_errors": errors[:3],
            "seconds": round(wall, 3), "requests_per_second": round(n / wall, 2),
            "p50_ms": round(pct(50) * 1000, 2), "p99_ms": round(pct(99) * 1000, 2),
            "max_ms": round(lat[-1] * 1000, 2) if lat else None}


def cmd_load(port, n, conns):
    r = load(port, n, conns)
    print(json.dumps(r), flush=True)
    check(r["errors"] == 0, "%d requests at %d connections, 0 errors: %.1f req/s, p50 %.1f ms, p99 %.1f ms"
          % (n, conns, r["requests_per_second"], r["p50_ms"], r["p99_ms"]))
    st, info, _ = request(port, "GET", "/info")
    s = info.get("stats", {})
    check(st == 200 and s.get("batches", 0) > 0 and s.get("inputs", 0) >= n,
          "dynamic batching: %s inputs in %s forward passes (%.2f per batch)"
          % (s.get("inputs"), s.get("batches"), s.get("inputs", 0) / max(1, s.get("batches", 1))))


def cmd_drain(port, n, pid):
    """n requests in flight (each 4 long inputs), then SIGTERM: all answered 200."""
    long_text = " ".join(REVIEWS) * 3
    results = [None] * n
    conns = [http.client.HTTPConnection(HOST, port, timeout=TIMEOUT) for _ in range(n)]
    for c in conns:
        c.connect()

    def one(i):
        try:
            results[i] = request(port, "POST", "/predict", {"inputs": [long_text] * 4}, conn=conns[i])[0]
        except Exception as e:  # noqa: BLE001
            results[i] = repr(e)

    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    # Wait until the server holds them all (queued, or being scored), then SIGTERM.
    deadline = time.monotonic() + 30
    queued = 0
    while time.monotonic() < deadline:
        queued = request(port, "GET", "/info")[1].get("stats", {}).get("queued", 0)
        if queued >= n:
            break
        time.sleep(0.02)
    check(queued >= n, "%d requests in the queue before SIGTERM" % queued)
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.3)
    try:
        socket.create_connection((HOST, port), timeout=2).close()
        refused = False
    except OSError:
        refused = True
    check(refused, "after SIGTERM new connections are refused")
    for t in th:
        t.join()
    check(results == [200] * n, "every request in flight is answered 200: %s" % results)


def main():
    port, what = int(sys.argv[1]), sys.argv[2]
    args = sys.argv[3:]
    if what == "check":
        cmd_check(port, args[0])
    elif what == "stall":
        cmd_stall(port, int(args[0]))
    elif what == "flood":
        cmd_flood(port, int(args[0]))
    elif what == "load":
        cmd_load(port, int(args[0]), int(args[1]))
    elif what == "drain":
        cmd_drain(port, int(args[0]), int(args[1]))
    else:
        sys.exit("unknown check " + what)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
