#!/usr/bin/env python3
"""gen_longtext.py OUTDIR: references for long-text windows and pooling, for
tests/test_longtext.c.

  OUTDIR/model/        a small random BertForSequenceClassification (hidden 32, 2 layers,
                       3 labels, max_position 64) with all-MiniLM-L6-v2's vocabulary
  OUTDIR/cases.json    {"cases": [{"text", "max_length", "stride",
                         "windows": [[ids...], ...]      transformers' tokenizer with
                                                         truncation=True,
                                                         return_overflowing_tokens=True
                         "window_logits": [[NL floats], ...]  each window alone, eval
                         "mean": [NL], "max": [NL]}]}
"""
import json
import os
import shutil
import sys

import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
TEXTS = [
    "This movie was a long, slow and wonderful ride. " * 12 + "Unbelievable ending!",
    "Short review: great.",
    "",
    " ".join(f"word{i}" for i in range(40)),
]
SETTINGS = [(16, 4), (16, 0), (24, 7), (12, 9), (64, 16)]


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    torch.manual_seed(13)
    tok = AutoTokenizer.from_pretrained(MINILM)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64, num_labels=3)
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    d = os.path.join(outdir, "model")
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, safe_serialization=True)
    for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(MINILM, f), os.path.join(d, f))
    model = BertForSequenceClassification.from_pretrained(d, attn_implementation="eager").eval()
    cases = []
    for text in TEXTS:
        for M, S in SETTINGS:
            enc = tok(text, truncation=True, max_length=M, stride=S, return_overflowing_tokens=True)
            wins = [list(map(int, w)) for w in enc["input_ids"]]
            with torch.no_grad():
                logits = [model(input_ids=torch.tensor([w])).logits[0] for w in wins]
            L = torch.stack(logits)
            cases.append({"text": text, "max_length": M, "stride": S, "windows": wins,
                          "window_logits": L.tolist(), "mean": L.mean(0).tolist(),
                          "max": L.max(0).values.tolist()})
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump({"cases": cases}, f)
    print(f"gen_longtext: {len(cases)} cases, windows per case "
          f"{[len(c['windows']) for c in cases]}")


if __name__ == "__main__":
    main()
