#!/usr/bin/env python3
"""gen_train10.py OUTDIR: ten training steps of a tiny BertForSequenceClassification
in PyTorch, as transformers' Trainer would run them, for tests/test_train10.c.

Dropout is off (all dropout probabilities 0 in the config). Trainer's recipe:
AdamW (torch, single-tensor path) with weight decay 0.01 on
Trainer.get_decay_parameter_names and 0 on the rest, lr 1e-3, linear schedule
with warmup ratio 0.2 (TrainingArguments.get_warmup_steps), clip_grad_norm_(1.0),
one batch per optimizer step (no accumulation).

Writes
  OUTDIR/model/           the initial model folder (save_pretrained + vocab.txt)
  OUTDIR/train10.json     per step: the batch (input_ids, token_type_ids,
                          attention_mask, labels as (B,T)/(B) int lists), the
                          loss before the update, the pre-clip gradient norm and
                          the lr used; then the final parameters in bertc's flat
                          layout (src/bert.h), the settings above, and
                          decay_tensors: 1/0 per bertc tensor, whether Trainer's
                          get_decay_parameter_names puts it in the decay group.
"""
import json
import os
import shutil
import sys
import types

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
from transformers.optimization import get_linear_schedule_with_warmup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_grads import layout, place, tiny_tokenizer  # noqa: E402  (bertc's layout, shared)

STEPS, B, T = 10, 4, 12
LR, WD, WARMUP_RATIO, MAX_NORM = 1e-3, 0.01, 0.2, 1.0


def make_batch(g, vocab):
    lengths = torch.randint(3, T + 1, (B,), generator=g).tolist()
    lengths[0] = T
    ids = torch.zeros(B, T, dtype=torch.long)
    tts = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(5, vocab, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = 2, 3
        mask[b, :n] = 1
        tts[b, n // 2:n] = 1
    labels = torch.randint(0, 3, (B,), generator=g)
    return ids, tts, mask, labels


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    torch.manual_seed(5)
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
                     num_labels=3, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():  # larger than the 0.02 init so the loss moves visibly
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    d = os.path.join(out, "model")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.save_pretrained(d, safe_serialization=True)
    tiny_tokenizer(d)

    decay = set(Trainer.get_decay_parameter_names(None, model))
    groups = [
        {"params": [p for n, p in model.named_parameters() if n in decay], "weight_decay": WD},
        {"params": [p for n, p in model.named_parameters() if n not in decay], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    warmup = TrainingArguments.get_warmup_steps(types.SimpleNamespace(warmup_steps=WARMUP_RATIO), STEPS)
    sched = get_linear_schedule_with_warmup(opt, warmup, STEPS)
    model.train()
    g = torch.Generator().manual_seed(17)
    steps = []
    for k in range(STEPS):
        ids, tts, mask, labels = make_batch(g, cfg.vocab_size)
        opt.zero_grad()
        loss = model(input_ids=ids, token_type_ids=tts, attention_mask=mask, labels=labels).loss
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        lr = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
        steps.append({"input_ids": ids.tolist(), "token_type_ids": tts.tolist(),
                      "attention_mask": mask.tolist(), "labels": labels.tolist(),
                      "loss": loss.item(), "grad_norm": float(norm), "lr": float(lr)})
        print(f"gen_train10: step {k}: loss {loss.item():.6f} norm {float(norm):.4f} lr {lr:.3g}")

    lay = layout(cfg)
    start, off = {}, 0
    for t, n in lay:
        start[t] = off
        off += n
    flat = [None] * off
    for name, p in model.named_parameters():
        o = place(name, cfg, start)
        v = p.detach().reshape(-1).tolist()
        flat[o:o + len(v)] = v
    assert all(x is not None for x in flat)
    # Trainer's decay groups per bertc tensor (bert.h's order): the test checks
    # bertc's mask against these directly (decay moves a parameter by ~1e-5 in
    # ten steps, too little for the final-parameter comparison to tell).
    decay_of = {}
    for name, p in model.named_parameters():
        o = place(name, cfg, start)
        t = next(tt for tt, n in lay if start[tt] <= o < start[tt] + n)
        assert decay_of.setdefault(t, name in decay) == (name in decay), t
    decay_tensors = [int(decay_of[t]) for t, n in lay]
    with open(os.path.join(out, "train10.json"), "w") as f:
        json.dump({"lr": LR, "weight_decay": WD, "warmup_steps": warmup, "total_steps": STEPS,
                   "max_grad_norm": MAX_NORM, "B": B, "T": T, "steps": steps, "final_params": flat,
                   "decay_tensors": decay_tensors}, f)


if __name__ == "__main__":
    main()
