#!/usr/bin/env python3
"""gen_grads.py OUTDIR: reference losses and parameter gradients of
BertForSequenceClassification from PyTorch autograd, for tests/test_grads.c.

Dropout is off (model.eval()) but gradients are computed. For each case:

  OUTDIR/CASE/                        the model folder (save_pretrained, with its head)
  OUTDIR/CASE/ref/input_ids.npy       (B,T) int32   token_type_ids.npy, attention_mask.npy alike
  OUTDIR/CASE/ref/labels.npy          (B) int32
  OUTDIR/CASE/ref/class_weights.npy   (NL) float32, only for weighted cases
  OUTDIR/CASE/ref/loss.npy            (1) float32
  OUTDIR/CASE/ref/grads.npy           (num_params) float32: every gradient, placed
                                      in bertc's parameter layout (src/bert.h)
  OUTDIR/CASE/ref/grads_index.txt     one line per transformers parameter:
                                      "name offset count" into grads.npy

Cases: tiny (C=32, 2 layers, 4 heads, vocab 100, 3 labels, class-weighted
cross-entropy) and minilm2 (all-MiniLM-L6-v2 with a seeded 2-label head, the
model's own unweighted loss).
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForSequenceClassification

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")


def layout(cfg):
    """bertc's tensors in order (bert.h's enum), with their element counts."""
    V, C, L, F_, P, TT, NL = (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers,
                              cfg.intermediate_size, cfg.max_position_embeddings,
                              cfg.type_vocab_size, cfg.num_labels)
    return [("wte", V * C), ("wpe", P * C), ("wtt", TT * C), ("lnew", C), ("lneb", C),
            ("qkvw", L * 3 * C * C), ("qkvb", L * 3 * C), ("attow", L * C * C), ("attob", L * C),
            ("ln1w", L * C), ("ln1b", L * C), ("fcw", L * F_ * C), ("fcb", L * F_),
            ("fcprojw", L * C * F_), ("fcprojb", L * C), ("ln2w", L * C), ("ln2b", L * C),
            ("poolw", C * C), ("poolb", C), ("clsw", NL * C), ("clsb", NL)]


def place(name, cfg, start):
    """Offset in bertc's flat layout of transformers parameter `name`."""
    C, F_ = cfg.hidden_size, cfg.intermediate_size
    n = name[len("bert."):] if name.startswith("bert.") else name
    fixed = {"embeddings.word_embeddings.weight": ("wte", 0),
             "embeddings.position_embeddings.weight": ("wpe", 0),
             "embeddings.token_type_embeddings.weight": ("wtt", 0),
             "embeddings.LayerNorm.weight": ("lnew", 0), "embeddings.LayerNorm.bias": ("lneb", 0),
             "pooler.dense.weight": ("poolw", 0), "pooler.dense.bias": ("poolb", 0),
             "classifier.weight": ("clsw", 0), "classifier.bias": ("clsb", 0)}
    if n in fixed:
        t, off = fixed[n]
        return start[t] + off
    parts = n.split(".")
    assert parts[0] == "encoder" and parts[1] == "layer", name
    l, rest = int(parts[2]), ".".join(parts[3:])
    qkv = {"query": 0, "key": 1, "value": 2}
    if rest.startswith("attention.self."):
        which, kind = parts[5], parts[6]
        if kind == "weight":
            return start["qkvw"] + (l * 3 + qkv[which]) * C * C
        return start["qkvb"] + (l * 3 + qkv[which]) * C
    per = {"attention.output.dense.weight": ("attow", C * C), "attention.output.dense.bias": ("attob", C),
           "attention.output.LayerNorm.weight": ("ln1w", C), "attention.output.LayerNorm.bias": ("ln1b", C),
           "intermediate.dense.weight": ("fcw", F_ * C), "intermediate.dense.bias": ("fcb", F_),
           "output.dense.weight": ("fcprojw", C * F_), "output.dense.bias": ("fcprojb", C),
           "output.LayerNorm.weight": ("ln2w", C), "output.LayerNorm.bias": ("ln2b", C)}
    t, size = per[rest]
    return start[t] + l * size


def batch(lengths, vocab_lo, vocab_hi, cls, sep, seed):
    g = torch.Generator().manual_seed(seed)
    B, T = len(lengths), max(lengths)
    ids = torch.zeros(B, T, dtype=torch.long)
    tts = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(vocab_lo, vocab_hi, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = cls, sep
        mask[b, :n] = 1
        tts[b, n // 2:n] = 1
    return ids, tts, mask


def save_case(outdir, name, model, tokenizer_writer, ids, tts, mask, labels, class_weights):
    d = os.path.join(outdir, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.save_pretrained(d, safe_serialization=True)
    tokenizer_writer(d)
    model.eval()  # dropout off, gradients on
    model.zero_grad()
    logits = model(input_ids=ids, token_type_ids=tts, attention_mask=mask).logits
    if class_weights is None:
        loss = model(input_ids=ids, token_type_ids=tts, attention_mask=mask, labels=labels).loss
    else:
        loss = F.cross_entropy(logits, labels, weight=class_weights)
    loss.backward()

    cfg = model.config
    flat, index, off = flat_grads(model)

    r = os.path.join(d, "ref")
    os.makedirs(r)
    np.save(os.path.join(r, "input_ids.npy"), ids.numpy().astype("<i4"))
    np.save(os.path.join(r, "token_type_ids.npy"), tts.numpy().astype("<i4"))
    np.save(os.path.join(r, "attention_mask.npy"), mask.numpy().astype("<i4"))
    np.save(os.path.join(r, "labels.npy"), labels.numpy().astype("<i4"))
    if class_weights is not None:
        np.save(os.path.join(r, "class_weights.npy"), class_weights.numpy().astype("<f4"))
    np.save(os.path.join(r, "loss.npy"), np.array([loss.item()], dtype="<f4"))
    np.save(os.path.join(r, "grads.npy"), flat)
    with open(os.path.join(r, "grads_index.txt"), "w") as f:
        f.write("\n".join(index) + "\n")
    print(f"gen_grads: {name}: loss {loss.item():.6f}, {len(index)} tensors, {off} gradients")


def flat_grads(model, layout_fn=None, place_fn=None):
    """Every parameter's .grad laid out as bertc's parameter block (float32), and
    the index lines "NAME OFFSET COUNT" that tests/grad_check.h reads. layout_fn
    and place_fn map another architecture's names (default: BERT's)."""
    layout_fn, place_fn = layout_fn or layout, place_fn or place
    start, off = {}, 0
    for t, n in layout_fn(model.config):
        start[t] = off
        off += n
    flat = np.full(off, np.nan, dtype="<f4")
    index = []
    for pname, p in model.named_parameters():
        o = place_fn(pname, model.config, start)
        g = p.grad.detach().numpy().astype("<f4").ravel()
        assert np.isnan(flat[o:o + g.size]).all(), f"{pname} overlaps another tensor"
        flat[o:o + g.size] = g
        index.append(f"{pname} {o} {g.size}")
    assert not np.isnan(flat).any(), "some of bertc's layout got no gradient"
    return flat, index, off


def tiny_tokenizer(d):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(special + [f"tok{i}" for i in range(len(special), 100)]) + "\n")
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 64,
                   "tokenizer_class": "BertTokenizer"}, f)


def minilm_tokenizer(d):
    for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(MINILM, f), os.path.join(d, f))


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)

    torch.manual_seed(3)
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
                     num_labels=3)
    tiny = BertForSequenceClassification(cfg)
    # larger weights than the 0.02 init so every path carries a visible gradient
    with torch.no_grad():
        for p in tiny.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    ids, tts, mask = batch([12, 7, 3, 12, 9], 5, 100, 2, 3, 11)
    labels = torch.tensor([0, 2, 1, 1, 2])
    save_case(outdir, "tiny", tiny, tiny_tokenizer, ids, tts, mask, labels,
              torch.tensor([0.5, 2.0, 1.25]))

    torch.manual_seed(0)
    minilm = BertForSequenceClassification.from_pretrained(MINILM, num_labels=2)
    ids, tts, mask = batch([32, 20, 7, 25], 1000, minilm.config.vocab_size, 101, 102, 12)
    save_case(outdir, "minilm2", minilm, minilm_tokenizer, ids, tts, mask,
              torch.tensor([0, 1, 1, 0]), None)


if __name__ == "__main__":
    main()
