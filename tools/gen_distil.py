#!/usr/bin/env python3
"""gen_distil.py OUTDIR: reference forward passes, losses and gradients of
transformers' DistilBertForSequenceClassification, for tests/test_distil.c.

One random model (seeded), dim 64, 2 layers, 4 heads, hidden_dim 128, 3 labels,
all-MiniLM-L6-v2's WordPiece vocabulary (30522 ids), weights perturbed beyond the
0.02 init so every path carries a visible gradient; saved with save_pretrained:

  OUTDIR/tiny/                         the model folder bertc loads
  OUTDIR/tiny/ref/input_ids.npy        (B,T) int32 (no token_type_ids: DistilBERT has none)
  OUTDIR/tiny/ref/attention_mask.npy   (B,T) int32
  OUTDIR/tiny/ref/labels.npy           (B) int32
  OUTDIR/tiny/ref/logits.npy           (B,NL)    eval mode, eager attention
  OUTDIR/tiny/ref/pooled.npy           (B,C)     relu(pre_classifier(h[:,0]))
  OUTDIR/tiny/ref/hidden_states.npy    (L+1,B,T,C)
  OUTDIR/tiny/ref/attentions.npy       (L,B,NH,T,T)
  OUTDIR/tiny/ref/loss.npy             (1) the model's own cross-entropy loss
  OUTDIR/tiny/ref/grads.npy            (num_params) every gradient in bertc's layout
  OUTDIR/tiny/ref/grads_index.txt      "name offset count" per transformers parameter

  OUTDIR/base/                         the same model as DistilBertModel (no prefix,
                                       no pre_classifier/classifier): bertc gives it a new head
"""
import os
import shutil
import sys

import numpy as np
import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_grads import flat_grads  # noqa: E402  (bertc's gradient layout, shared)

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
LENGTHS = [24, 17, 5, 20]


def layout(cfg):
    """bertc's tensors in bert.h's order with their sizes (TT = 0 for DistilBERT)."""
    V, C, L, F, P, NL = (cfg.vocab_size, cfg.dim, cfg.n_layers, cfg.hidden_dim,
                         cfg.max_position_embeddings, cfg.num_labels)
    return [("wte", V * C), ("wpe", P * C), ("wtt", 0), ("lnew", C), ("lneb", C),
            ("qkvw", L * 3 * C * C), ("qkvb", L * 3 * C), ("attow", L * C * C), ("attob", L * C),
            ("ln1w", L * C), ("ln1b", L * C), ("fcw", L * F * C), ("fcb", L * F),
            ("fcprojw", L * C * F), ("fcprojb", L * C), ("ln2w", L * C), ("ln2b", L * C),
            ("poolw", C * C), ("poolb", C), ("clsw", NL * C), ("clsb", NL)]


def place(name, cfg, start):
    C, F = cfg.dim, cfg.hidden_dim
    n = name[len("distilbert."):] if name.startswith("distilbert.") else name
    fixed = {"embeddings.word_embeddings.weight": "wte", "embeddings.position_embeddings.weight": "wpe",
             "embeddings.LayerNorm.weight": "lnew", "embeddings.LayerNorm.bias": "lneb",
             "pre_classifier.weight": "poolw", "pre_classifier.bias": "poolb",
             "classifier.weight": "clsw", "classifier.bias": "clsb"}
    if n in fixed:
        return start[fixed[n]]
    parts = n.split(".")
    assert parts[0] == "transformer" and parts[1] == "layer", name
    l, rest = int(parts[2]), ".".join(parts[3:])
    qkv = {"q_lin": 0, "k_lin": 1, "v_lin": 2}
    if parts[3] == "attention" and parts[4] in qkv:
        if parts[5] == "weight":
            return start["qkvw"] + (l * 3 + qkv[parts[4]]) * C * C
        return start["qkvb"] + (l * 3 + qkv[parts[4]]) * C
    per = {"attention.out_lin.weight": ("attow", C * C), "attention.out_lin.bias": ("attob", C),
           "sa_layer_norm.weight": ("ln1w", C), "sa_layer_norm.bias": ("ln1b", C),
           "ffn.lin1.weight": ("fcw", F * C), "ffn.lin1.bias": ("fcb", F),
           "ffn.lin2.weight": ("fcprojw", C * F), "ffn.lin2.bias": ("fcprojb", C),
           "output_layer_norm.weight": ("ln2w", C), "output_layer_norm.bias": ("ln2b", C)}
    t, size = per[rest]
    return start[t] + l * size


def copy_tokenizer(d):
    for f in ["vocab.txt", "special_tokens_map.json"]:
        shutil.copy(os.path.join(MINILM, f), os.path.join(d, f))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        f.write('{"do_lower_case": true, "model_max_length": 64, "tokenizer_class": "DistilBertTokenizer"}\n')


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    torch.manual_seed(5)
    cfg = DistilBertConfig(vocab_size=30522, dim=64, n_layers=2, n_heads=4, hidden_dim=128,
                           max_position_embeddings=64, num_labels=3)
    model = DistilBertForSequenceClassification(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)

    d = os.path.join(outdir, "tiny")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.save_pretrained(d, safe_serialization=True)
    copy_tokenizer(d)
    ref = DistilBertForSequenceClassification.from_pretrained(d, attn_implementation="eager").eval()

    g = torch.Generator().manual_seed(9)
    B, T = len(LENGTHS), max(LENGTHS)
    ids = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        ids[b, :n] = torch.randint(1000, cfg.vocab_size, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = 101, 102
        mask[b, :n] = 1
    labels = torch.tensor([0, 2, 1, 2])

    with torch.no_grad():
        out = ref(input_ids=ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
        h = ref.distilbert(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = torch.relu(ref.pre_classifier(h[:, 0]))
    ref.zero_grad()
    loss = ref(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()

    flat, index, off = flat_grads(ref, layout, place)

    r = os.path.join(d, "ref")
    os.makedirs(r)
    np.save(os.path.join(r, "input_ids.npy"), ids.numpy().astype("<i4"))
    np.save(os.path.join(r, "attention_mask.npy"), mask.numpy().astype("<i4"))
    np.save(os.path.join(r, "labels.npy"), labels.numpy().astype("<i4"))
    np.save(os.path.join(r, "logits.npy"), out.logits.numpy().astype("<f4"))
    np.save(os.path.join(r, "pooled.npy"), pooled.numpy().astype("<f4"))
    np.save(os.path.join(r, "hidden_states.npy"), torch.stack(out.hidden_states).numpy().astype("<f4"))
    np.save(os.path.join(r, "attentions.npy"), torch.stack(out.attentions).numpy().astype("<f4"))
    np.save(os.path.join(r, "loss.npy"), np.array([loss.item()], dtype="<f4"))
    np.save(os.path.join(r, "grads.npy"), flat)
    with open(os.path.join(r, "grads_index.txt"), "w") as f:
        f.write("\n".join(index) + "\n")
    print(f"gen_distil: tiny: loss {loss.item():.6f}, logits {out.logits.numpy().round(4).tolist()}")

    base = os.path.join(outdir, "base")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    ref.distilbert.save_pretrained(base, safe_serialization=True)
    copy_tokenizer(base)


if __name__ == "__main__":
    main()
