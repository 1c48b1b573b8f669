#!/usr/bin/env python3
"""gen_optim.py OUTDIR: reference numbers for tests/test_optim.c.

Writes OUTDIR/optim.json with, for each schedule case, 10 steps of
torch.optim.AdamW (single-tensor path, foreach=False) over a few random
tensors in two parameter groups as Trainer builds them (weight decay 0.01 /
0.0) plus one frozen tensor, with transformers' LambdaLR schedules and
torch.nn.utils.clip_grad_norm_(max_norm=1.0) on given random gradients. Some
steps have small gradients (no clipping), the others large (clipping).

Per step it records the lr AdamW used (param_groups' lr before the step), the
pre-clip gradient norm and every tensor after the step; at the end the AdamW
moments. It also records transformers' schedule multipliers over a longer run
and TrainingArguments.get_warmup_steps for a few warmup values, so the C side
is checked against transformers' own code, not a copy of it.

Floats are written as JSON numbers (Python's repr of the exact double value of
each fp32 number, so they round-trip exactly).
"""
import json
import os
import sys
import types

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
from transformers.optimization import (
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

# (shape, decay): decay=None marks a frozen tensor (not given to the optimizer).
TENSORS = [((7, 5), True), ((5,), False), ((3, 4, 2), True), ((11,), False),
           ((6,), None), ((4, 3), True)]
STEPS = 10
BASE_LR = 1e-3
WD = 0.01
# Gradient scale per step: 0.01 keeps the global norm well below 1 (no clipping).
GRAD_SCALE = [0.01, 1.0, 0.01, 3.0, 1.0, 0.01, 0.5, 1.0, 0.01, 2.0]


def make_sched(kind, opt, warmup, total):
    if kind == "linear":
        return get_linear_schedule_with_warmup(opt, warmup, total)
    if kind == "cosine":
        return get_cosine_schedule_with_warmup(opt, warmup, total)
    if kind == "constant":
        return get_constant_schedule(opt)
    if kind == "constant_with_warmup":
        return get_constant_schedule_with_warmup(opt, warmup)
    raise ValueError(kind)


def warmup_steps(w, total):
    # transformers' own method, called on a stand-in (a real TrainingArguments
    # needs accelerate, which the reference stack does not install).
    return TrainingArguments.get_warmup_steps(types.SimpleNamespace(warmup_steps=w), total)


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run_case(kind, warmup):
    g = torch.Generator().manual_seed(1234)
    params = [torch.randn(s, generator=g, dtype=torch.float32) for s, _ in TENSORS]
    init = [flat(p) for p in params]
    for p, (_, d) in zip(params, TENSORS):
        p.requires_grad_(d is not None)
    grads = [[torch.randn(s, generator=g, dtype=torch.float32) * GRAD_SCALE[k]
              for s, _ in TENSORS] for k in range(STEPS)]
    train = [p for p, (_, d) in zip(params, TENSORS) if d is not None]
    groups = [
        {"params": [p for p, (_, d) in zip(params, TENSORS) if d is True], "weight_decay": WD},
        {"params": [p for p, (_, d) in zip(params, TENSORS) if d is False], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=BASE_LR, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    sched = make_sched(kind, opt, warmup, STEPS)
    steps = []
    for k in range(STEPS):
        for p, gr, (_, d) in zip(params, grads[k], TENSORS):
            if d is not None:
                p.grad = gr.clone()
        norm = torch.nn.utils.clip_grad_norm_(train, 1.0)
        lr = opt.param_groups[0]["lr"]
        assert lr == opt.param_groups[1]["lr"]
        opt.step()
        sched.step()
        steps.append({
            "lr": float(lr),
            "norm": float(norm),
            "clipped": bool(float(norm) > 1.0),
            "params": [flat(p) for p in params],
        })
    m = [flat(opt.state[p]["exp_avg"]) if p in opt.state else [0.0] * p.numel() for p in params]
    v = [flat(opt.state[p]["exp_avg_sq"]) if p in opt.state else [0.0] * p.numel() for p in params]
    return {
        "schedule": kind, "warmup_steps": warmup, "total_steps": STEPS,
        "init": init,
        "grads": [[flat(t) for t in grads[k]] for k in range(STEPS)],
        "steps": steps, "exp_avg": m, "exp_avg_sq": v,
    }


def lambdas(kind, warmup, total):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    s = make_sched(kind, opt, warmup, total)
    return [float(f(k)) for f in s.lr_lambdas for k in range(total + 3)]


def decay_names():
    # Trainer's own choice of decayed parameters on a tiny BERT classifier
    # (get_decay_parameter_names only looks at the model).
    cfg = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=16, max_position_embeddings=16)
    model = BertForSequenceClassification(cfg)
    decayed = set(Trainer.get_decay_parameter_names(None, model))
    return [{"name": n, "decay": int(n in decayed)} for n, _ in model.named_parameters()]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    cases = [("linear", 3), ("cosine", warmup_steps(0.25, STEPS)), ("constant", 0),
             ("constant_with_warmup", 2), ("linear", 0)]
    data = {
        "tensors": [{"shape": list(s), "decay": (-1 if d is None else int(d))} for s, d in TENSORS],
        "base_lr": BASE_LR, "weight_decay": WD, "max_grad_norm": 1.0,
        "cases": [run_case(k, w) for k, w in cases],
        "lambdas": [{"schedule": k, "warmup_steps": w, "total_steps": t, "values": lambdas(k, w, t)}
                    for k, w, t in [("linear", 7, 100), ("cosine", 7, 100), ("cosine", 0, 37),
                                    ("constant_with_warmup", 13, 50), ("constant", 5, 20),
                                    ("linear", 0, 1), ("linear", 5, 5)]],
        "decay_names": decay_names(),
        "warmup": [{"warmup": w, "total": t, "steps": warmup_steps(w, t)}
                   for w, t in [(0.0, 100), (0.1, 100), (0.1, 95), (0.06, 1234), (0.5, 3),
                                (1, 100), (7, 100), (7.9, 100), (0.999, 10)]],
    }
    assert any(s["clipped"] for c in data["cases"] for s in c["steps"])
    assert not all(s["clipped"] for c in data["cases"] for s in c["steps"])
    with open(os.path.join(out, "optim.json"), "w") as f:
        json.dump(data, f)
    print(f"gen_optim: wrote {out}/optim.json ({len(data['cases'])} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
