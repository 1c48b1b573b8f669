#!/usr/bin/env python3
"""gen_eval.py OUTDIR: a 4-class case for tests/test_eval.sh and test_eval_data.sh.

Writes
  OUTDIR/tiny4/          a tiny random BertForSequenceClassification (2 layers,
                         hidden 32) saved by transformers, with 4 named labels in
                         the order World, Sports, Business, Sci/Tech and
                         all-MiniLM-L6-v2's tokenizer files; its classifier is
                         scaled up so that its predictions spread over the classes
  OUTDIR/news4.jsonl     60 short texts with label names (in byte order the data's
                         own label ids differ from the model's: mapping by name)
  OUTDIR/news4_ids.jsonl the same texts with the model's integer ids as labels
  OUTDIR/news4_bad.jsonl a label the model does not have ("Weather", line 3)
  OUTDIR/empty.jsonl     no examples
  OUTDIR/lengths.json    tokens per text of news4.jsonl (transformers' tokenizer,
                         no truncation) for the `bertc data` check
"""
import json
import os
import random
import shutil
import sys

import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
TOKENIZER_FILES = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]
LABELS = ["World", "Sports", "Business", "Sci/Tech"]
WORDS = ("the match government market stocks election league goal physics robot rocket bank trade "
         "minister striker coach inflation profit laptop software planet café naïve 東京 résumé "
         "peace treaty tariff quarterback galaxy quantum merger summit").split()


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(3)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, num_labels=4,
                     id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)})
    model = BertForSequenceClassification(cfg).eval()
    rng = random.Random(5)
    rows = []
    for i in range(60):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40)))
        if i % 7 == 0:
            text = text.capitalize() + "! " + "x" * rng.randint(90, 130)  # long enough to be cut at 100
        rows.append({"text": text, "label": LABELS[rng.randrange(4)]})
    # A random tiny BERT gives nearly the same pooled output for every text; centre
    # the classifier on these texts and scale it so that predictions spread.
    tok = AutoTokenizer.from_pretrained(MINILM)
    with torch.no_grad():
        enc = tok([r["text"] for r in rows], padding=True, return_tensors="pt")
        pooled = model.bert(**enc).pooler_output
        pooled = pooled - pooled.mean(0)
        scale = 3.0 / pooled.std()
        model.classifier.weight.mul_(scale)
        model.classifier.bias.copy_(-model.classifier.weight @ model.bert(**enc).pooler_output.mean(0))
    d = os.path.join(outdir, "tiny4")
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, safe_serialization=True)
    for f in TOKENIZER_FILES:
        shutil.copy(os.path.join(MINILM, f), os.path.join(d, f))
    with open(os.path.join(outdir, "news4.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(os.path.join(outdir, "news4_ids.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"text": r["text"], "label": LABELS.index(r["label"])}, ensure_ascii=False) + "\n")
    with open(os.path.join(outdir, "news4_bad.jsonl"), "w", encoding="utf-8") as f:
        for i, r in enumerate(rows[:5]):
            f.write(json.dumps({"text": r["text"], "label": "Weather" if i == 2 else r["label"]}) + "\n")
    open(os.path.join(outdir, "empty.jsonl"), "w").close()

    tok = AutoTokenizer.from_pretrained(d)
    lengths = [len(tok(r["text"])["input_ids"]) for r in rows]
    with open(os.path.join(outdir, "lengths.json"), "w") as f:
        json.dump(lengths, f)
    print(f"gen_eval: tiny4 ({LABELS}), {len(rows)} texts")


if __name__ == "__main__":
    main()
