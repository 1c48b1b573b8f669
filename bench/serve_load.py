#!/usr/bin/env python3
"""serve_load.py: the load test of `bertc serve` (never in CI; run by hand).

Starts `bertc serve` on 127.0.0.1 (a free port) three times with the same model
and sends one short IMDB-like review per request (tests/serve_client.py's load):

  batched     --max-batch 32, N requests on C keep-alive connections (default 10,000 x 64)
  unbatched   --max-batch 1, the same N x C: every request is its own forward pass
  sequential  --max-batch 32, one connection, one request at a time (N/10 requests)

and prints (and writes to --out) throughput, p50/p99 latency, errors and the mean
batch size of each, plus the factor dynamic batching gains (batched / unbatched
and batched / sequential throughput). Exits 1 if any request failed.

    bench/serve_load.py [--model build/fixtures/forward/minilm2] [--requests 10000]
                        [--connections 64] [--threads 0] [--out bench/results/serve_load.json]
"""
import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import serve_client  # noqa: E402


def start(bertc, model, threads, extra):
    p = subprocess.Popen([bertc, "serve", "--model", model, "--port", "0", "--threads", str(threads)] + extra,
                         stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        sys.exit("bertc serve did not start: " + line + p.stderr.read())
    return p, int(m.group(1))


def stop(p):
    p.send_signal(signal.SIGTERM)
    tail = p.stderr.read()
    rc = p.wait(timeout=120)
    return rc, tail.strip().splitlines()[-1] if tail.strip() else ""


def run(name, args, extra, n, conns):
    p, port = start(args.bertc, args.model, args.threads, extra)
    try:
        serve_client.load(port, min(200, n), conns)  # warm-up (not counted)
        before = serve_client.request(port, "GET", "/info")[1]["stats"]
        r = serve_client.load(port, n, conns)
        after = serve_client.request(port, "GET", "/info")[1]["stats"]
    finally:
        rc, last = stop(p)
    batches = after["batches"] - before["batches"]
    r.update(name=name, flags=" ".join(extra), mean_batch=round((after["inputs"] - before["inputs"]) / max(1, batches), 2),
             exit_status=rc)
    print("%-10s %6d req x %2d conn  %8.1f req/s  p50 %8.1f ms  p99 %8.1f ms  mean batch %5.2f  errors %d  exit %d"
          % (name, n, conns, r["requests_per_second"], r["p50_ms"], r["p99_ms"], r["mean_batch"], r["errors"], rc),
          flush=True)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bertc", default=os.path.join(ROOT, "build", "bertc"))
    ap.add_argument("--model", default=os.path.join(ROOT, "build", "fixtures", "forward", "minilm2"))
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="bertc serve --threads (0 = all cores)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "serve_load.json"))
    args = ap.parse_args()
    n, c = args.requests, args.connections
    runs = [run("batched", args, ["--max-batch", "32"], n, c),
            run("unbatched", args, ["--max-batch", "1"], n, c),
            run("sequential", args, ["--max-batch", "32"], max(100, n // 10), 1)]
    b, u, s = (r["requests_per_second"] for r in runs)
    out = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.machine(), "cpus": os.cpu_count(),
           "load_average_at_end": os.getloadavg(), "model": args.model, "threads": args.threads,
           "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "runs": runs,
           "batching_gain_vs_unbatched": round(b / u, 2), "batching_gain_vs_sequential": round(b / s, 2)}
    print("dynamic batching gains x%.2f over --max-batch 1 at %d connections, x%.2f over one request at a time"
          % (out["batching_gain_vs_unbatched"], c, out["batching_gain_vs_sequential"]))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", args.out)
    sys.exit(1 if any(r["errors"] or r["exit_status"] for r in runs) else 0)


if __name__ == "__main__":
    main()
