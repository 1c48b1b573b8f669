#!/usr/bin/env python3
"""gen_evalml.py OUTDIR: a multi-label model and data for tests/test_eval_ml.sh
(`bertc eval` of a multi-label model, with and without --long-text chunks).

  OUTDIR/tiny5/         a tiny random BertForSequenceClassification (hidden 32, 2 layers,
                        max_position 128) saved by transformers with problem_type
                        "multi_label_classification" and 5 named labels in the order
                        pos, neg, strong, funny, long (byte order differs: labels are
                        mapped by name); all-MiniLM-L6-v2's tokenizer files. Its
                        classifier is centred and scaled on the texts below so that
                        every label's sigmoid falls on both sides of 0.5.
  OUTDIR/reviews.jsonl  48 texts of 2 to 90 words with label lists (some empty, one a
                        plain string) over 4 of the 5 labels ("long" never occurs: a
                        label with no support)
  OUTDIR/reviews.csv    the same rows, the label field joined with "|"
                        (--label-separator '|'); an empty field is no label
  OUTDIR/bad.jsonl      line 3 has a label the model does not have ("Weather")
  OUTDIR/ref.json       transformers' sigmoid(logits) per text of reviews.jsonl, in
                        file order: "trunc32" truncated at max_length 32 (head),
                        "chunks16_mean" / "chunks16_max" from the windows of
                        max_length 16, stride 4 (return_overflowing_tokens) with
                        the window logits pooled by mean / max before the sigmoid
"""
import csv
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
LABELS = ["pos", "neg", "strong", "funny", "long"]
WORDS = ("the film movie great awful boring funny hilarious terrible superb plot acting cast "
         "wonderful dull ending music story loved hated very really strong weak laugh joke "
         "café naïve résumé 東京 scenes director").split()


def rows_for(rng):
    rows = []
    for i in range(48):
        n = rng.choice([2, 5, 9, 14, 20, 30, 45, 60, 90])
        words = [rng.choice(WORDS) for _ in range(n)]
        text = " ".join(words)
        if i % 5 == 0:
            text = text.capitalize() + ", with commas, and \"quotes\"!"
        labs = []
        if "great" in words or "superb" in words or "loved" in words:
            labs.append("pos")
        if "awful" in words or "boring" in words or "hated" in words:
            labs.append("neg")
        if "very" in words and labs:
            labs.append("strong")
        if "funny" in words or "joke" in words:
            labs.append("funny")
        rng.shuffle(labs)
        label = labs[0] if i == 7 and len(labs) == 1 else labs  # one plain string label
        rows.append({"text": text, "label": label})
    return rows


def sigmoid_rows(x):
    return torch.sigmoid(x).tolist()


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    torch.manual_seed(17)
    rng = random.Random(23)
    rows = rows_for(rng)
    texts = [r["text"] for r in rows]
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, num_labels=len(LABELS),
                     problem_type="multi_label_classification",
                     id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)})
    model = BertForSequenceClassification(cfg).eval()
    tok = AutoTokenizer.from_pretrained(MINILM)
    # A random tiny BERT gives nearly the same pooled output for every text:
    # centre the classifier on these texts and scale it so sigmoids spread.
    with torch.no_grad():
        enc = tok(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
        pooled = model.bert(**enc).pooler_output
        scale = 2.5 / (pooled - pooled.mean(0)).std()
        model.classifier.weight.mul_(scale)
        model.classifier.bias.copy_(-model.classifier.weight @ pooled.mean(0))
    d = os.path.join(outdir, "tiny5")
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, safe_serialization=True)
    for f in TOKENIZER_FILES:
        shutil.copy(os.path.join(MINILM, f), os.path.join(d, f))

    with open(os.path.join(outdir, "reviews.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(os.path.join(outdir, "reviews.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for r in rows:
            lab = r["label"]
            w.writerow([r["text"], lab if isinstance(lab, str) else "|".join(lab)])
    with open(os.path.join(outdir, "bad.jsonl"), "w", encoding="utf-8") as f:
        for i, r in enumerate(rows[:5]):
            f.write(json.dumps({"text": r["text"], "label": ["pos", "Weather"] if i == 2 else r["label"]},
                               ensure_ascii=False) + "\n")

    ref = BertForSequenceClassification.from_pretrained(d, attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(d)
    out = {"labels": LABELS}
    with torch.no_grad():
        enc = tok(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
        out["trunc32"] = sigmoid_rows(ref(**enc).logits)
        mean, mx, nwin = [], [], []
        for t in texts:
            w = tok(t, truncation=True, max_length=16, stride=4, return_overflowing_tokens=True,
                    padding=True, return_tensors="pt")
            lg = ref(input_ids=w["input_ids"], attention_mask=w["attention_mask"]).logits
            mean.append(lg.mean(0))
            mx.append(lg.max(0).values)
            nwin.append(int(lg.shape[0]))
        out["chunks16_mean"] = sigmoid_rows(torch.stack(mean))
        out["chunks16_max"] = sigmoid_rows(torch.stack(mx))
        out["windows16"] = nwin
    with open(os.path.join(outdir, "ref.json"), "w") as f:
        json.dump(out, f)
    p = torch.tensor(out["trunc32"])
    print(f"gen_evalml: tiny5 ({LABELS}), {len(rows)} texts, share of sigmoids >= 0.5 per label "
          f"{(p >= 0.5).float().mean(0).numpy().round(2).tolist()}, windows of 16: up to {max(nwin)}")


if __name__ == "__main__":
    main()
