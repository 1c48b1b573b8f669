#!/usr/bin/env python3
"""bench/notebook.py: the notebook's fine-tuning recipe run both ways on this machine.

  bertc:        bertc train --model all-MiniLM-L6-v2 --train IMDB:train --train-limit 1000
                --eval IMDB:test --eval-limit 200 --pad-to-max-length --max-length 128
                --epochs 3 --batch-size 8 --eval-strategy epoch --save-strategy epoch
                --logging-steps 100 --load-best-model-at-end --seed S
  transformers: Trainer with the same TrainingArguments on the *same* 1,000/200 reviews
                (exported from bertc's data order with a small C program linked against
                build/libbertc.a, so both sides train on identical texts in the same
                selection; the batch order inside training differs, as it would between
                any two frameworks).

Prints accuracy on the 200, wall time and train samples/s of each, then scores both
final models on the same fixed 2,000 IMDB test reviews (bertc_data shuffle with seed
42, first 2,000: the notebook's 200 are their first 200, and `bertc train --eval-limit 2000
--seed 42` selects the same reviews, as bench/longtext.sh does; the 200 are too few to compare): bertc's model through
`bertc predict`, Trainer's in PyTorch. With --seeds 42,43,44 the numbers are averaged.
Results go to bench/results/notebook.json.

    python3 bench/notebook.py [--seeds 42] [--threads 2] [--keep DIR]

Never run in CI: one seed takes tens of minutes on 2 cores.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BERTC = os.path.join(ROOT, "build", "bertc")
IMDB = os.path.join(ROOT, "..", "shared", "data", "imdb", "aclImdb-text.tar.gz")
MODEL = os.path.expanduser("~/.cache/bertc/models/all-MiniLM-L6-v2")

EXPORT_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "src/data.h"
/* export SPEC SEED LIMIT: bertc's selection (bertc_data_shuffle_limit) as JSON Lines */
int main(int argc, char **argv) {
    bertc_err err = {0};
    bertc_data_opts o; bertc_data_opts_default(&o);
    bertc_dataset ds = {0};
    if (argc != 4 || bertc_data_load(&ds, argv[1], "train", &o, &err) ||
        bertc_data_shuffle_limit(&ds, strtoull(argv[2], NULL, 10), atol(argv[3]), &err)) {
        fprintf(stderr, "export: %s\n", err.msg); return 1;
    }
    for (int i = 0; i < ds.n; i++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "text", ds.ex[i].text);
        cJSON_AddStringToObject(j, "label", ds.labels[ds.ex[i].label]);
        char *s = cJSON_PrintUnformatted(j); puts(s); free(s); cJSON_Delete(j);
    }
    bertc_data_free(&ds);
    return 0;
}
"""


def build_exporter(tmp):
    src, exe = os.path.join(tmp, "export.c"), os.path.join(tmp, "export")
    with open(src, "w") as f:
        f.write(EXPORT_C)
    libs = ["-lopenblas", "-ldnnl", "-lutf8proc", "-lcjson", "-larchive", "-lmicrohttpd", "-lcurl", "-lz", "-lm"]
    cairo = subprocess.run(["pkg-config", "--libs", "cairo"], capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-fopenmp", "-I", ROOT, src, "-o", exe,
                    os.path.join(ROOT, "build", "libbertc.a")] + libs + cairo, check=True)
    return exe


def export(exe, spec, seed, limit):
    out = subprocess.run([exe, spec, str(seed), str(limit)], capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.split("\n") if line]


def run_bertc(seed, out, threads, precision="fp32"):
    cmd = [BERTC, "train", "--precision", precision, "--model", MODEL, "--train", IMDB + ":train", "--train-limit", "1000",
           "--eval", IMDB + ":test", "--eval-limit", "200", "--max-length", "128", "--pad-to-max-length",
           "--epochs", "3", "--batch-size", "8", "--eval-batch-size", "8", "--eval-strategy", "epoch",
           "--save-strategy", "epoch", "--logging-steps", "100", "--load-best-model-at-end",
           "--seed", str(seed), "--threads", str(threads), "--out", out, "--overwrite"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    if p.returncode != 0:
        sys.exit(f"bertc train failed:\n{p.stderr[-3000:]}")
    run = json.load(open(os.path.join(out, "run.json")))
    evals = [json.loads(l) for l in open(os.path.join(out, "log.jsonl")) if "eval_accuracy" in l]
    best = min(evals, key=lambda e: e["eval_loss"])  # load_best_model_at_end with Trainer's default metric
    return {"wall_seconds": wall, "train_seconds": run["wall_seconds"],
            "train_samples_per_second": run["train_samples_per_second"],
            "eval_accuracy_200": best["eval_accuracy"], "evals": evals}


def run_trainer(seed, train_rows, eval_rows, out, threads):
    import numpy as np
    import torch
    from transformers import (AutoTokenizer, BertForSequenceClassification, Trainer, TrainingArguments)
    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(MODEL)
    lab = {"neg": 0, "pos": 1}

    def ds(rows):  # the notebook's map(tokenize, padding="max_length") as a list of tensors
        enc = tok([r["text"] for r in rows], padding="max_length", truncation=True, max_length=128,
                  return_tensors="pt")
        return [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
                 "token_type_ids": enc["token_type_ids"][i], "labels": torch.tensor(lab[r["label"]])}
                for i, r in enumerate(rows)]

    t0 = time.time()
    model = BertForSequenceClassification.from_pretrained(MODEL, num_labels=2, id2label={0: "neg", 1: "pos"},
                                                          label2id=lab)
    args = TrainingArguments(output_dir=out, num_train_epochs=3, per_device_train_batch_size=8,
                             per_device_eval_batch_size=8, eval_strategy="epoch", save_strategy="epoch",
                             logging_steps=100, load_best_model_at_end=True, seed=seed, report_to=[],
                             use_cpu=True, dataloader_num_workers=0)

    def metrics(p):
        return {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())}

    tr = Trainer(model=model, args=args, train_dataset=ds(train_rows), eval_dataset=ds(eval_rows),
                 compute_metrics=metrics)
    res = tr.train()
    ev = tr.evaluate()
    wall = time.time() - t0
    return tr.model, tok, {"wall_seconds": wall, "train_seconds": res.metrics["train_runtime"],
                           "train_samples_per_second": res.metrics["train_samples_per_second"],
                           "eval_accuracy_200": ev["eval_accuracy"]}


def score_torch(model, tok, rows):
    import torch
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(rows), 64):
            b = rows[i:i + 64]
            enc = tok([r["text"] for r in b], truncation=True, max_length=128, padding=True, return_tensors="pt")
            pred = model(**enc).logits.argmax(-1).tolist()
            right += sum(model.config.id2label[p] == r["label"] for p, r in zip(pred, b))
    return right / len(rows)


def score_bertc(model_dir, rows, tmp, threads, precision="fp32"):
    path = os.path.join(tmp, "score.txt")
    with open(path, "w") as f:
        for r in rows:  # one text a line; newlines are whitespace to the tokenizer either way
            f.write(" ".join(r["text"].split()) + "\n")  # str.split() also removes U+2028/U+0085
    p = subprocess.run([BERTC, "predict", "--model", model_dir, "--max-length", "128", "--input", path,
                        "--threads", str(threads), "--precision", precision], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bertc predict failed: {p.stderr[-2000:]}")
    preds = [json.loads(l)["label"] for l in p.stdout.split("\n") if l]
    return sum(a == r["label"] for a, r in zip(preds, rows)) / len(rows)


def ensure_accelerate():
    """transformers' Trainer needs accelerate; the test stack does not, so install it here."""
    try:
        import accelerate  # noqa: F401
    except ImportError:
        print("notebook: installing accelerate (transformers' Trainer needs it)", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "accelerate>=1.1.0"], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="42")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", default=None, help="keep the run folders here")
    ap.add_argument("--skip-trainer", action="store_true")
    ap.add_argument("--precisions", default="fp32",
                    help="bertc runs per seed: fp32, bf16 or fp32,bf16 (bf16 trains and scores with --precision bf16)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "notebook.json"))
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="no runs: combine the runs of earlier --out files into --out (seeds run apart)")
    a = ap.parse_args()
    if a.merge:
        runs = [r for path in a.merge for r in json.load(open(path))["runs"]]
        write_summary(runs, a.threads, a.out)
        return
    seeds = [int(s) for s in a.seeds.split(",")]
    if not a.skip_trainer:
        ensure_accelerate()
    tmp = a.keep or tempfile.mkdtemp(prefix="bertc-notebook-")
    os.makedirs(tmp, exist_ok=True)
    exe = build_exporter(tmp)
    fixed = export(exe, IMDB + ":test", 42, 2000)
    results = []
    for s in seeds:
        train_rows = export(exe, IMDB + ":train", s, 1000)
        eval_rows = export(exe, IMDB + ":test", s, 200)
        r = {"seed": s}
        for prec in a.precisions.split(","):
            side = "bertc" if prec == "fp32" else "bertc-" + prec
            out = os.path.join(tmp, f"{side}-{s}")
            r[side] = run_bertc(s, out, a.threads, prec)
            r[side]["accuracy_2000"] = score_bertc(os.path.join(out, "model"), fixed, tmp, a.threads, prec)
            r[side]["loadavg"] = os.getloadavg()[0]
            print(f"seed {s} {side + ':':<13} acc@200 {r[side]['eval_accuracy_200']:.4f}  "
                  f"acc@2000 {r[side]['accuracy_2000']:.4f}  train {r[side]['train_seconds']:.0f}s  "
                  f"{r[side]['train_samples_per_second']:.2f} samples/s", flush=True)
        if not a.skip_trainer:
            model, tok, tr = run_trainer(s, train_rows, eval_rows, os.path.join(tmp, f"trainer-{s}"), a.threads)
            tr["accuracy_2000"] = score_torch(model, tok, fixed)
            r["trainer"] = tr
            print(f"seed {s} transformers: acc@200 {tr['eval_accuracy_200']:.4f}  acc@2000 {tr['accuracy_2000']:.4f}  "
                  f"train {tr['train_seconds']:.0f}s  {tr['train_samples_per_second']:.2f} samples/s", flush=True)
        results.append(r)
    write_summary(results, a.threads, a.out)


def write_summary(results, threads, path):
    """Means over the runs' seeds, the accuracy gap on the fixed 2,000, and the JSON file."""
    seeds = [r["seed"] for r in results]
    summary = {}
    for side in ["bertc", "bertc-bf16", "trainer"]:
        rs = [r[side] for r in results if side in r]
        if rs:
            summary[side] = {k: sum(x[k] for x in rs) / len(rs) for k in
                             ["eval_accuracy_200", "accuracy_2000", "train_seconds", "train_samples_per_second"]}
            print(f"mean over seeds {seeds} {side}: " + "  ".join(f"{k} {v:.4f}" for k, v in summary[side].items()))
    if "trainer" in summary:
        gap = 100 * (summary["bertc"]["accuracy_2000"] - summary["trainer"]["accuracy_2000"])
        print(f"bertc - Trainer accuracy on the fixed 2,000: {gap:+.2f} points (done-means: within 2)")
    if "bertc-bf16" in summary and "bertc" in summary:
        gap = 100 * (summary["bertc-bf16"]["accuracy_2000"] - summary["bertc"]["accuracy_2000"])
        speed = summary["bertc-bf16"]["train_samples_per_second"] / summary["bertc"]["train_samples_per_second"]
        print(f"bertc bf16 - fp32 accuracy on the fixed 2,000: {gap:+.2f} points (accepted within 0.5); "
              f"training speed bf16/fp32 {speed:.2f}x")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"seeds": seeds, "threads": threads, "runs": results, "mean": summary,
                   "machine": os.uname().machine, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")},
                  f, indent=1)


if __name__ == "__main__":
    main()
