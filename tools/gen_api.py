#!/usr/bin/env python3
"""gen_api.py OUTDIR: reference probabilities for tests/test_api.c, computed by
transformers' text-classification pipeline on build/fixtures/forward/minilm2
(a MiniLM with a 2-label head saved by transformers), for texts and pairs.

OUTDIR/cases.jsonl: {"text", "text_pair" (or null), "probs": [p0, p1]} per line.
"""
import json
import os
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

TEXTS = [
    ("I loved this movie, the acting was superb.", None),
    ("Terrible, boring film. <br /><br />Avoid it.", None),
    ("Caf\u00e9 na\u00efve \u65e5\u672c\u8a9e emoji \U0001F600 [SEP] inside", None),
    ("", None),
    ("Is this a question?", "Yes, and this is its answer."),
    ("word " * 700, None),  # longer than 512 tokens: truncated at the model's maximum
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = os.path.join(here, "build", "fixtures", "forward", "minilm2")
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager").eval()
    with open(os.path.join(out, "cases.jsonl"), "w") as f:
        for a, b in TEXTS:
            enc = tok(a, b, truncation=True, max_length=512, return_tensors="pt")
            with torch.no_grad():
                p = model(**enc).logits.softmax(-1)[0].tolist()
            f.write(json.dumps({"text": a, "text_pair": b, "probs": p}) + "\n")
    print(f"gen_api: {len(TEXTS)} cases")


if __name__ == "__main__":
    main()
