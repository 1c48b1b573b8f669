#!/usr/bin/env python3
"""gen_train.py OUTDIR: fixtures for the bertc train tests (tests/test_train_*.c|sh).

Writes
  OUTDIR/tiny/            a tiny random BertModel (C=32, 2 layers, 4 heads, F=64,
                          P=128) with all-MiniLM-L6-v2's vocabulary and tokenizer
                          files, without a classification head (bertc adds one)
  OUTDIR/train.jsonl      64 synthetic reviews, labels "neg"/"pos" (learnable:
  OUTDIR/eval.jsonl       32     they use sentiment words)
  OUTDIR/hf_tuned/        the tiny model with a 2-label head fine-tuned for 6 AdamW
                          steps by PyTorch and saved by transformers, exactly as
                          save_pretrained writes it (transformers 5: tokenizer.json,
                          no vocab.txt; bertc reads the vocabulary from tokenizer.json)
  OUTDIR/hf_tuned.json    {"texts", "logits", "labels"}: transformers' eval-mode logits
                          for the eval texts (AutoTokenizer, truncation at 128, padding)

Everything is seeded, so the files are the same on every run.
"""
import json
import os
import random
import shutil
import sys

import torch
import transformers
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

MINILM = os.path.expanduser("~/.cache/bertc/models/all-MiniLM-L6-v2")
POS = ["great", "wonderful", "superb", "moving", "brilliant", "funny", "beautiful", "loved", "excellent", "touching"]
NEG = ["awful", "boring", "terrible", "dull", "stupid", "waste", "worst", "bad", "poor", "annoying"]
FILL = ["the", "movie", "film", "plot", "actors", "was", "and", "really", "story", "ending", "i", "thought",
        "this", "a", "very", "quite", "music", "scenes", "director", "cast"]


def review(rng, label):
    words = []
    for _ in range(rng.randint(6, 60)):
        r = rng.random()
        if r < 0.2:
            words.append(rng.choice(POS if label == "pos" else NEG))
        elif r < 0.25:
            words.append(rng.choice(NEG if label == "pos" else POS))
        else:
            words.append(rng.choice(FILL))
    return " ".join(words).capitalize() + rng.choice([".", "!", "..."])


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for t, l in rows:
            f.write(json.dumps({"text": t, "label": l}) + "\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1234)
    train = [(review(rng, l), l) for l in ["pos", "neg"] * 32]
    evl = [(review(rng, l), l) for l in ["neg", "pos"] * 16]
    write_jsonl(os.path.join(out, "train.jsonl"), train)
    write_jsonl(os.path.join(out, "eval.jsonl"), evl)

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=128, type_vocab_size=2)
    tiny = os.path.join(out, "tiny")
    shutil.rmtree(tiny, ignore_errors=True)
    BertModel(cfg).save_pretrained(tiny, safe_serialization=True)
    for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(MINILM, f), os.path.join(tiny, f))

    # transformers fine-tunes and saves: bertc must load this folder as is
    tok = AutoTokenizer.from_pretrained(tiny)
    model = BertForSequenceClassification.from_pretrained(tiny, num_labels=2, id2label={0: "neg", 1: "pos"},
                                                          label2id={"neg": 0, "pos": 1})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    model.train()
    for step in range(6):
        batch = train[step * 8:(step + 1) * 8]
        enc = tok([t for t, _ in batch], truncation=True, max_length=128, padding=True, return_tensors="pt")
        y = torch.tensor([1 if l == "pos" else 0 for _, l in batch])
        loss = model(**enc, labels=y).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    tuned = os.path.join(out, "hf_tuned")
    shutil.rmtree(tuned, ignore_errors=True)
    model.save_pretrained(tuned, safe_serialization=True)
    tok.save_pretrained(tuned)
    model.eval()
    texts = [t for t, _ in evl]
    with torch.no_grad():
        enc = tok(texts, truncation=True, max_length=128, padding=True, return_tensors="pt")
        logits = model(**enc).logits
    with open(os.path.join(out, "hf_tuned.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "texts": texts, "logits": logits.tolist(),
                   "labels": [model.config.id2label[int(i)] for i in logits.argmax(-1)]}, f)
    print(f"gen_train: wrote {out} (tiny model, {len(train)}/{len(evl)} reviews, hf_tuned)")


if __name__ == "__main__":
    main()
