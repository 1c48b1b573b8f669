#!/usr/bin/env python3
"""check_interop.py MODEL_DIR BERTC_LOGITS.json TEXTS.json: a folder saved by bertc
loads in transformers (AutoModelForSequenceClassification + AutoTokenizer) and
gives bertc's logits within TOL and the same labels.

BERTC_LOGITS.json is what `test_train_interop --dump MODEL_DIR` prints:
{"logits": [[...]], "labels": [...]} for the "texts" of TEXTS.json (the
fixture hf_tuned.json). Exit status 0 only when every check passes.
"""
import json
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

TOL = 1e-4  # fp32 on both sides, different summation orders


def main():
    model_dir, bertc_path, texts_path = sys.argv[1:4]
    bertc = json.load(open(bertc_path))
    texts = json.load(open(texts_path))["texts"]
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        enc = tok(texts, truncation=True, max_length=128, padding=True, return_tensors="pt")
        logits = model(**enc).logits
    ref = torch.tensor(bertc["logits"])
    fails = 0
    if ref.shape != logits.shape:
        print(f"FAIL: shapes: bertc {tuple(ref.shape)}, transformers {tuple(logits.shape)}")
        sys.exit(1)
    diff = (ref - logits).abs()
    if diff.max().item() > TOL:
        i, k = divmod(int(diff.argmax()), logits.shape[1])
        print(f"FAIL: text {i} logit {k}: bertc {ref[i, k]:.7f}, transformers {logits[i, k]:.7f}")
        fails += 1
    labels = [model.config.id2label[int(i)] for i in logits.argmax(-1)]
    same = sum(a == b for a, b in zip(labels, bertc["labels"]))
    if same != len(labels):
        print(f"FAIL: labels differ on {len(labels) - same} texts")
        fails += 1
    print(f"bertc -> transformers: {len(texts)} texts, max |logit diff| {diff.max().item():.2e}, "
          f"{same}/{len(labels)} labels equal, id2label {model.config.id2label}")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
