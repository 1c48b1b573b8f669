#!/usr/bin/env python3
"""gen_heads.py OUTDIR: references for the per-token heads (tests/test_heads.c):
transformers' BertForTokenClassification, BertForQuestionAnswering,
DistilBertForTokenClassification and DistilBertForQuestionAnswering.

For each case (bert_token, bert_qa, distil_token, distil_qa) one small random
model (seeded; weights perturbed beyond the 0.02 init so every path carries a
visible gradient), saved with save_pretrained (safetensors, config.json with
its architectures) plus a tiny vocab.txt:
  OUTDIR/CASE/                       the model folder bertc loads
  OUTDIR/CASE/ref/input_ids.npy      (B,T) int32, right-padded
  OUTDIR/CASE/ref/token_type_ids.npy (B,T) int32 (BERT only)
  OUTDIR/CASE/ref/attention_mask.npy (B,T) int32
  OUTDIR/CASE/ref/labels.npy         (B,T) int32, -100 on padding, [CLS]/[SEP] and some
                                     later sub-words (token classification)
  OUTDIR/CASE/ref/start.npy, end.npy (B) int32 answer positions, one past T (ignored)
                                     and one negative (clamped to 0) among them (QA)
  OUTDIR/CASE/ref/logits.npy         (B,T,NL) eval mode (QA: NL = 2, start|end)
  OUTDIR/CASE/ref/loss.npy           (1) the model's own loss, eval mode
  OUTDIR/CASE/ref/grads.npy          every gradient of that loss in bertc's layout
                                     (src/bert.h; no pooler: its tensors are empty)
  OUTDIR/CASE/ref/grads_index.txt    "name offset count" per transformers parameter
  OUTDIR/CASE/train10.json           ten AdamW steps as Trainer takes them (weight decay
                                     0.01 on Trainer's decay names, lr 1e-3 linear with
                                     20% warmup, clipping at 1.0, dropout off): per step
                                     the loss before the update; the final parameters
                                     in bertc's layout
"""
import json
import os
import shutil
import sys
import types

import numpy as np
import torch
from transformers import (BertConfig, BertForQuestionAnswering, BertForTokenClassification,
                          DistilBertConfig, DistilBertForQuestionAnswering,
                          DistilBertForTokenClassification, Trainer, TrainingArguments)
from transformers.optimization import get_linear_schedule_with_warmup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_distil  # noqa: E402  (DistilBERT's names in bertc's layout)
import gen_grads  # noqa: E402  (BERT's names in bertc's layout, flat_grads, tiny_tokenizer)

LENGTHS = [12, 9, 4, 11]
NTAGS = 5
STEPS, LR, WD, WARMUP_RATIO, MAX_NORM = 10, 1e-3, 0.01, 0.2, 1.0


def layout_for(base_layout):
    """bertc's layout of a per-token head: the pooler's tensors are empty."""
    def lay(cfg):
        return [(t, 0 if t in ("poolw", "poolb") else n) for t, n in base_layout(cfg)]
    return lay


def place_for(base_place):
    """qa_outputs.* land where classifier.* would (bertc's clsw/clsb)."""
    def place(name, cfg, start):
        return base_place(name.replace("qa_outputs.", "classifier."), cfg, start)
    return place


CASES = {
    "bert_token": (BertForTokenClassification, "bert"),
    "bert_qa": (BertForQuestionAnswering, "bert"),
    "distil_token": (DistilBertForTokenClassification, "distil"),
    "distil_qa": (DistilBertForQuestionAnswering, "distil"),
}


def config(kind, qa, dropout):
    nl = 2 if qa else NTAGS
    tags = {} if qa else {"id2label": {i: f"TAG{i}" for i in range(nl)}}
    if kind == "bert":
        return BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, num_labels=nl,
                          hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, **tags)
    return DistilBertConfig(vocab_size=100, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                            max_position_embeddings=64, num_labels=nl, dropout=dropout,
                            attention_dropout=dropout, qa_dropout=dropout, **tags)


def make_batch(g, kind, qa):
    B, T = len(LENGTHS), max(LENGTHS)
    ids = torch.zeros(B, T, dtype=torch.long)
    tts = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        ids[b, :n] = torch.randint(5, 100, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = 2, 3
        mask[b, :n] = 1
        if kind == "bert":
            tts[b, n // 2:n] = 1
        for t in range(1, n - 1):
            if torch.rand((), generator=g).item() < 0.8:  # the rest: later sub-words
                labels[b, t] = int(torch.randint(0, NTAGS, (), generator=g))
    start = torch.randint(0, T, (B,), generator=g)
    end = torch.clamp(start + torch.randint(0, 3, (B,), generator=g), max=T - 1)
    if qa:
        start[1], end[2] = T + 3, -2  # ignored (clamped to T) and clamped to 0
    kw = {"input_ids": ids, "attention_mask": mask}
    if kind == "bert":
        kw["token_type_ids"] = tts
    targets = {"start_positions": start, "end_positions": end} if qa else {"labels": labels}
    return kw, targets, labels, start, end, tts


def flat_params(model, lay, place):
    start, off = {}, 0
    for t, n in lay(model.config):
        start[t] = off
        off += n
    flat = [None] * off
    for name, p in model.named_parameters():
        o = place(name, model.config, start)
        v = p.detach().reshape(-1).tolist()
        flat[o:o + len(v)] = v
    assert all(x is not None for x in flat)
    return flat


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    for case, (cls, kind) in CASES.items():
        qa = case.endswith("_qa")
        lay = layout_for(gen_grads.layout if kind == "bert" else gen_distil.layout)
        place = place_for(gen_grads.place if kind == "bert" else gen_distil.place)
        torch.manual_seed(11)
        model = cls(config(kind, qa, 0.0))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        d = os.path.join(out, case)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        model.save_pretrained(d, safe_serialization=True)
        gen_grads.tiny_tokenizer(d)
        ref = cls.from_pretrained(d, attn_implementation="eager").eval()
        g = torch.Generator().manual_seed(23)
        kw, targets, labels, start, end, tts = make_batch(g, kind, qa)
        with torch.no_grad():
            o = ref(**kw)
        logits = torch.stack([o.start_logits, o.end_logits], dim=-1) if qa else o.logits
        ref.zero_grad()
        loss = ref(**kw, **targets).loss
        loss.backward()
        flat, index, _ = gen_grads.flat_grads(ref, lay, place)
        r = os.path.join(d, "ref")
        os.makedirs(r)
        np.save(os.path.join(r, "input_ids.npy"), kw["input_ids"].numpy().astype("<i4"))
        if kind == "bert":
            np.save(os.path.join(r, "token_type_ids.npy"), tts.numpy().astype("<i4"))
        np.save(os.path.join(r, "attention_mask.npy"), kw["attention_mask"].numpy().astype("<i4"))
        if qa:
            np.save(os.path.join(r, "start.npy"), start.numpy().astype("<i4"))
            np.save(os.path.join(r, "end.npy"), end.numpy().astype("<i4"))
        else:
            np.save(os.path.join(r, "labels.npy"), labels.numpy().astype("<i4"))
        np.save(os.path.join(r, "logits.npy"), logits.detach().numpy().astype("<f4"))
        np.save(os.path.join(r, "loss.npy"), np.array([loss.item()], dtype="<f4"))
        np.save(os.path.join(r, "grads.npy"), flat)
        with open(os.path.join(r, "grads_index.txt"), "w") as f:
            f.write("\n".join(index) + "\n")

        # ten steps from the saved weights, Trainer's optimizer and schedule
        model = cls.from_pretrained(d, attn_implementation="eager")
        decay = set(Trainer.get_decay_parameter_names(None, model))
        groups = [
            {"params": [p for n, p in model.named_parameters() if n in decay], "weight_decay": WD},
            {"params": [p for n, p in model.named_parameters() if n not in decay], "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8, foreach=False)
        warmup = TrainingArguments.get_warmup_steps(types.SimpleNamespace(warmup_steps=WARMUP_RATIO), STEPS)
        sched = get_linear_schedule_with_warmup(opt, warmup, STEPS)
        model.train()  # dropout is 0 in the config
        g = torch.Generator().manual_seed(29)
        steps = []
        for _ in range(STEPS):
            kw, targets, labels, start, end, tts = make_batch(g, kind, qa)
            opt.zero_grad()
            loss = model(**kw, **targets).loss
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
            lr = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
            step = {"input_ids": kw["input_ids"].tolist(), "token_type_ids": tts.tolist(),
                    "attention_mask": kw["attention_mask"].tolist(), "loss": loss.item(),
                    "grad_norm": float(norm), "lr": float(lr)}
            if qa:
                step["start"], step["end"] = start.tolist(), end.tolist()
            else:
                step["labels"] = labels.tolist()
            steps.append(step)
        with open(os.path.join(d, "train10.json"), "w") as f:
            json.dump({"lr": LR, "weight_decay": WD, "warmup_steps": warmup, "total_steps": STEPS,
                       "max_grad_norm": MAX_NORM, "B": len(LENGTHS), "T": max(LENGTHS), "steps": steps,
                       "final_params": flat_params(model, lay, place)}, f)
        print(f"gen_heads: {case}: loss {steps[0]['loss']:.6f} -> {steps[-1]['loss']:.6f}")


if __name__ == "__main__":
    main()
