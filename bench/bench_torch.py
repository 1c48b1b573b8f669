#!/usr/bin/env python3
"""The baselines' side of bench/run.py: times transformers + PyTorch (eager) or
ONNX Runtime on the same token ids and the same loop as bench/bench_model.c,
and prints one JSON line with the same fields (samples_per_s, peak_rss_kib, ...).

  bench_torch.py --impl torch|torch-bf16|ort|ort-int8 --mode train|infer --model DIR [--onnx FILE]
                 [--ids FILE] [--pad-to-max] --batch B --length T --steps S
                 --warmup W --threads N

train (torch only): model.train() (dropout on), forward, cross-entropy,
loss.backward(), clip_grad_norm_(1.0), AdamW(lr 5e-5, wd 0.01) step, zero_grad:
the loop transformers' Trainer runs. infer: model.eval() + inference_mode, or an
ORT session (fp32, ORT_ENABLE_ALL, intra-op threads = --threads).
"""
import argparse, json, os, resource, time

import numpy as np


def batches(a, pad_id, n_needed):
    """Yields (ids, mask) int64 arrays, cut in file order, padded to the longest
    sequence in the batch (or to --length with --pad-to-max), as bench_model.c."""
    seqs = []
    if a.ids:
        with open(a.ids) as f:
            for line in f:
                v = [int(x) for x in line.split()][: a.length]
                if v:
                    seqs.append(v)
    else:
        rng = np.random.default_rng(1)
        seqs = [list(rng.integers(1000, 30000, a.length)) for _ in range(n_needed * a.batch)]
    cur = 0
    for _ in range(n_needed):
        chunk = [seqs[(cur + b) % len(seqs)] for b in range(a.batch)]
        labels = [((cur + b) % len(seqs)) for b in range(a.batch)]
        cur = (cur + a.batch) % len(seqs)
        T = a.length if a.pad_to_max or not a.ids else max(len(s) for s in chunk)
        ids = np.full((a.batch, T), pad_id, dtype=np.int64)
        mask = np.zeros((a.batch, T), dtype=np.int64)
        for b, s in enumerate(chunk):
            ids[b, : len(s)] = s
            mask[b, : len(s)] = 1
        yield ids, mask, np.array(labels, dtype=np.int64), sum(len(s) for s in chunk)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", default="torch")
    ap.add_argument("--mode", default="infer")
    ap.add_argument("--model", required=True)
    ap.add_argument("--onnx")
    ap.add_argument("--onnx-int8", help="quantize_dynamic of --onnx (for --impl ort-int8)")
    ap.add_argument("--ids")
    ap.add_argument("--pad-to-max", action="store_true")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    pad_id = cfg.get("pad_token_id") or 0
    nl = len(cfg.get("id2label", {})) or 2
    data = list(batches(a, pad_id, a.warmup + a.steps))
    times, tokens, padded = [], 0, 0

    if a.impl in ("ort", "ort-int8"):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(a.onnx_int8 if a.impl == "ort-int8" else a.onnx, so,
                                    providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        for i, (ids, mask, _, ntok) in enumerate(data):
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in names:
                feed["token_type_ids"] = np.zeros_like(ids)
            t0 = time.perf_counter()
            sess.run(None, feed)
            if i >= a.warmup:
                times.append(time.perf_counter() - t0)
                tokens += ntok
                padded += ids.size
        version = ort.__version__
    else:
        import torch
        from transformers import AutoModelForSequenceClassification
        torch.set_num_threads(a.threads)
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(a.model, attn_implementation="eager")
        if a.mode == "train":
            model.train()
            opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
        else:
            model.eval()
        # torch-bf16: torch.autocast(cpu, bfloat16) around the forward (Linear
        # layers in bf16, as the notebook's bf16=True does); the backward and
        # the optimizer outside it, as the Trainer runs them
        amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.impl == "torch-bf16" else None
        import contextlib
        for i, (ids, mask, labels, ntok) in enumerate(data):
            ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
            t0 = time.perf_counter()
            if a.mode == "train":
                with amp() if amp else contextlib.nullcontext():
                    out = model(input_ids=ids_t, attention_mask=mask_t, labels=torch.from_numpy(labels % nl))
                out.loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
            else:
                with torch.inference_mode(), amp() if amp else contextlib.nullcontext():
                    model(input_ids=ids_t, attention_mask=mask_t).logits.float().softmax(-1)
            if i >= a.warmup:
                times.append(time.perf_counter() - t0)
                tokens += ntok
                padded += ids.size
        version = torch.__version__
    secs = sum(times)
    print(json.dumps({"impl": a.impl, "mode": a.mode, "batch": a.batch, "length": a.length,
                      "dynamic": bool(a.ids and not a.pad_to_max), "steps": a.steps, "seconds": secs,
                      "samples_per_s": a.batch * a.steps / secs, "seconds_per_step": secs / a.steps,
                      "real_tokens": tokens, "padded_tokens": padded,
                      "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "threads": a.threads, "version": version}))


if __name__ == "__main__":
    main()
