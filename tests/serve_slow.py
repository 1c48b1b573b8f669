#!/usr/bin/env python3
"""serve_slow.py: slow-client load on `bertc serve` (tests/test_serve_slow.sh).

    serve_slow.py PORT PID SLOW IPS SECONDS MAX_BODY MAX_BUFFERED MAX_REQUEST_TIME RSS_BOUND_MB

SLOW connections to 127.0.0.1:PORT, spread over IPS source addresses
(127.0.0.10, 127.0.0.11, ...; Linux routes all of 127/8 to loopback), each
announce a body of MAX_BODY bytes and trickle it (16 KiB every 0.25 s); a
connection the server closes is opened again 0.5 s later, for SECONDS seconds.
Meanwhile a normal client (from 127.0.0.2) sends a small POST /predict every
0.3 s on a fresh connection, and the server's VmRSS (/proc/PID/status) is
sampled every 0.1 s. Checks:
  - every normal request was answered 200 (at least 10 of them);
  - the server's RSS grew by at most RSS_BOUND_MB over its value before the load;
  - some slow requests were answered 503 (the --max-buffered budget);
  - no slow connection was kept sending for more than MAX_REQUEST_TIME + 3 s.
Prints "ok: ..." / "FAIL: ..." and exits 1 if any check failed. Standard
library only; every socket is non-blocking or has a timeout.
"""
import http.client
import json
import resource
import selectors
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
CHUNK = 16384
failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures += 1


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Slow:
    """One slow client: connect, send the headers, trickle the body."""

    def __init__(self, src):
        self.src = src
        self.sock = None
        self.reopen_at = 0.0
        self.opened = 0.0
        self.got = b""


def main():
    port, pid, n_slow, n_ips, seconds = map(int, sys.argv[1:6])
    max_body, max_buffered, max_req_time, rss_bound_mb = map(int, sys.argv[6:10])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, n_slow + 256) if hard != resource.RLIM_INFINITY else n_slow + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    headers = (f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {max_body}\r\n\r\n").encode()
    chunk = b"a" * CHUNK
    sel = selectors.DefaultSelector()
    slows = [Slow(f"127.0.0.{10 + i % n_ips}") for i in range(n_slow)]
    stats = {"opened": 0, "503": 0, "other": 0, "closed_silent": 0, "longest": 0.0}
    stop = threading.Event()

    base = rss_kb(pid)
    peak = [base]

    def monitor():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.1)

    normal = []

    def normal_client():
        while not stop.is_set():
            t0 = time.time()
            try:
                c = http.client.HTTPConnection(HOST, port, timeout=10, source_address=("127.0.0.2", 0))
                c.request("POST", "/predict", body=json.dumps({"inputs": "a fine film"}),
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                normal.append((r.status, time.time() - t0))
                c.close()
            except OSError as e:
                normal.append((str(e), time.time() - t0))
            time.sleep(0.3)

    def close(s, now):
        if s.sock is None:
            return
        stats["longest"] = max(stats["longest"], now - s.opened)
        if s.got.startswith(b"HTTP/1.1 503"):
            stats["503"] += 1
        elif s.got:
            stats["other"] += 1
        else:
            stats["closed_silent"] += 1
        try:
            sel.unregister(s.sock)
        except (KeyError, ValueError):
            pass
        s.sock.close()
        s.sock = None
        s.got = b""
        s.reopen_at = now + 0.5

    def open_(s, now):
        sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sk.bind((s.src, 0))
            sk.setblocking(False)
            sk.connect_ex((HOST, port))
        except OSError:
            sk.close()
            s.reopen_at = now + 0.5
            return
        s.sock, s.opened, s.got = sk, now, b""
        s.sent_headers = False
        stats["opened"] += 1
        sel.register(sk, selectors.EVENT_READ | selectors.EVENT_WRITE, s)

    threads = [threading.Thread(target=monitor, daemon=True), threading.Thread(target=normal_client, daemon=True)]
    for t in threads:
        t.start()
    t_end = time.time() + seconds
    next_trickle = 0.0
    while True:
        now = time.time()
        if now >= t_end:
            break
        for s in slows:
            if s.sock is None and now >= s.reopen_at:
                open_(s, now)
        trickle = now >= next_trickle
        if trickle:
            next_trickle = now + 0.25
        for key, ev in sel.select(timeout=0.05):
            s = key.data
            if s.sock is None:
                continue
            if ev & selectors.EVENT_READ:
                try:
                    d = s.sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    d = None
                except OSError:
                    d = b""
                if d == b"":
                    close(s, now)
                    continue
                if d:
                    s.got += d
            if ev & selectors.EVENT_WRITE and not s.sent_headers:
                try:
                    s.sock.send(headers)
                    s.sent_headers = True
                    sel.modify(s.sock, selectors.EVENT_READ, s)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    close(s, now)
        if trickle:
            for s in slows:
                if s.sock is not None and s.sent_headers:
                    try:
                        s.sock.send(chunk)
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        close(s, now)
    stop.set()
    for t in threads:
        t.join(15)
    now = time.time()
    still_open = sum(1 for s in slows if s.sock is not None)
    for s in slows:
        close(s, now)

    grown_mb = (peak[0] - base) / 1024
    print(f"   slow connections opened {stats['opened']} ({n_slow} at once from {n_ips} addresses), "
          f"answered 503: {stats['503']}, closed without an answer: {stats['closed_silent']}, "
          f"other answers: {stats['other']}, open at the end: {still_open}; "
          f"server RSS {base / 1024:.0f} MiB -> peak {peak[0] / 1024:.0f} MiB", flush=True)
    ok = [n for n in normal if n[0] == 200]
    worst = max((n[1] for n in normal), default=0)
    check(len(normal) >= 10 and len(ok) == len(normal),
          f"normal client during the load: {len(ok)} of {len(normal)} requests answered 200 "
          f"(slowest {worst:.2f} s; others: {[n[0] for n in normal if n[0] != 200][:3]})")
    check(grown_mb <= rss_bound_mb, f"server RSS grew by {grown_mb:.1f} MiB (bound {rss_bound_mb} MiB; "
          f"{n_slow} x {max_body} bytes would be {n_slow * max_body / 1048576:.0f} MiB)")
    check(stats["503"] > 0, f"slow requests over --max-buffered {max_buffered} were answered 503 ({stats['503']})")
    check(stats["longest"] <= max_req_time + 3,
          f"no slow connection was kept longer than --max-request-time {max_req_time} s + 3 "
          f"(longest {stats['longest']:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
