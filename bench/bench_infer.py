#!/usr/bin/env python3
"""Inference throughput: bertc against transformers + PyTorch, same inputs, same
thread count, one run. Prints sequences/s for each and the ratio, and writes
bench/results/infer.json.

Both sides tokenize the same IMDB test reviews (padded/truncated to --length),
run the encoder + classifier in batches of --batch, and are timed from the first
tokenization to the last logit (model loading excluded on both sides). bertc's
time is the one it reports with `predict --stats`.

usage: bench/bench_infer.py [--bertc build/bertc] [--models all-MiniLM-L6-v2,DIR]
                            [--n 256] [--batch 32] [--length 128] [--threads 2]
"""
import argparse, json, os, platform, subprocess, sys, tarfile, tempfile, time


def imdb_texts(path, n):
    texts = []
    with tarfile.open(path, "r:gz") as tf:
        for m in tf:
            if m.isfile() and "/test/" in m.name and m.name.endswith(".txt"):
                texts.append(tf.extractfile(m).read().decode("utf-8"))
                if len(texts) == n:
                    break
    return texts


def resolve(model):
    if os.path.isdir(model):
        return model
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return os.path.join(cache, "bertc", "models", model)


def bench_torch(folder, texts, batch, length, threads):
    import torch
    from transformers import AutoTokenizer, AutoModelForSequenceClassification
    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    model.eval()
    with torch.inference_mode():  # warm-up batch, not timed (bertc has no JIT to warm)
        enc = tok(texts[:batch], padding="max_length", truncation=True, max_length=length, return_tensors="pt")
        model(**enc)
        t0 = time.perf_counter()
        for i in range(0, len(texts), batch):
            enc = tok(texts[i:i + batch], padding="max_length", truncation=True, max_length=length,
                      return_tensors="pt")
            model(**enc).logits.softmax(-1)
        dt = time.perf_counter() - t0
    return len(texts) / dt


def bench_bertc(bertc, folder, texts, batch, length, threads):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for t in texts:
            f.write(t.replace("\n", " ") + "\n")
        path = f.name
    try:
        r = subprocess.run([bertc, "predict", "--model", folder, "--input", path, "--batch-size", str(batch),
                            "--max-length", str(length), "--pad-to-max-length", "--stats",
                            "--threads", str(threads)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"bertc predict failed: {r.stderr.strip()}")
        stats = [json.loads(l) for l in r.stderr.splitlines() if l.startswith("{")]
        return stats[-1]["sequences_per_second"]
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--bertc", default=os.path.join(root, "build", "bertc"))
    ap.add_argument("--models", default="all-MiniLM-L6-v2," + os.path.join(root, "build/fixtures/forward/base3"))
    ap.add_argument("--imdb", default=os.path.join(root, "..", "shared", "data", "imdb", "aclImdb-text.tar.gz"))
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(root, "bench", "results", "infer.json"))
    a = ap.parse_args()
    texts = imdb_texts(a.imdb, a.n)
    rows = []
    for model in a.models.split(","):
        folder = resolve(model)
        b = bench_bertc(a.bertc, folder, texts, a.batch, a.length, a.threads)
        t = bench_torch(folder, texts, a.batch, a.length, a.threads)
        rows.append({"model": model, "bertc_seq_per_s": round(b, 2), "torch_seq_per_s": round(t, 2),
                     "ratio": round(b / t, 3)})
        print(f"{os.path.basename(model.rstrip('/')):>20}: bertc {b:8.2f} seq/s   "
              f"PyTorch {t:8.2f} seq/s   ratio {b / t:5.2f}x", flush=True)
    import torch
    result = {"benchmark": "inference", "batch": a.batch, "length": a.length, "threads": a.threads,
              "sequences": a.n, "machine": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "torch": torch.__version__,
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(unset)"), "rows": rows,
              "date": time.strftime("%Y-%m-%d")}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
