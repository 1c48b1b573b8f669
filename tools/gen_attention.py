#!/usr/bin/env python3
"""gen_attention.py OUTDIR: reference attention maps from transformers'
output_attentions, for tests/test_attention.sh.

The model is the MiniLM BertForSequenceClassification with a seeded 2-label head
that tools/gen_forward.py saves as OUTDIR/../forward/minilm2; when that folder is
not there yet (fixtures are generated in name order), the same model is saved
here as OUTDIR/minilm2 (all-MiniLM-L6-v2, torch.manual_seed(0), num_labels=2).

Writes OUTDIR/cases.json:
  {"model": PATH, "cases": [{"text", "layer", "head" (int or "mean"),
    "tokens", "weights" (T x T), "probs" (NL)}]}
where weights = outputs.attentions[layer][0, head] (or .mean over heads) for
tokenizer(text) with no truncation, in eval mode with eager attention, float32.
"""
import json
import os
import shutil
import sys

import torch
from transformers import AutoTokenizer, BertForSequenceClassification

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
TOKENIZER_FILES = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]

TEXTS = [
    "I loved this movie, it was great.",
    "This is the worst film I have seen in years.<br /><br />The plot makes no sense, "
    "the acting is wooden and the ending (if you can call it that) is a mess!",
    "Café déjà vu: a naïve remake, 東京 at night; 10/10 would watch again 😀",
]
# (text index, layer (negative = from the end), head or "mean")
CASES = [(0, 5, 0), (0, -1, "mean"), (1, 0, 7), (1, 3, "mean"), (2, 2, 11), (2, 5, 3)]


def main():
    outdir = os.path.abspath(sys.argv[1])
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    model_dir = os.path.join(os.path.dirname(outdir), "forward", "minilm2")
    if not os.path.isfile(os.path.join(model_dir, "model.safetensors")):
        model_dir = os.path.join(outdir, "minilm2")
        shutil.rmtree(model_dir, ignore_errors=True)
        torch.manual_seed(0)
        m = BertForSequenceClassification.from_pretrained(MINILM, num_labels=2)
        m.save_pretrained(model_dir, safe_serialization=True)
        for f in TOKENIZER_FILES:
            shutil.copy(os.path.join(MINILM, f), os.path.join(model_dir, f))
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = BertForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager",
                                                          dtype=torch.float32).eval()
    L = model.config.num_hidden_layers
    cases = []
    for ti, layer, head in CASES:
        text = TEXTS[ti]
        enc = tok(text, return_tensors="pt")
        with torch.no_grad():
            out = model(**enc, output_attentions=True)
        att = out.attentions[layer][0]  # (NH, T, T)
        w = att.mean(dim=0) if head == "mean" else att[head]
        cases.append({
            "text": text,
            "layer": layer % L,
            "layer_arg": layer,
            "head": head,
            "tokens": tok.convert_ids_to_tokens(enc["input_ids"][0]),
            "weights": w.tolist(),
            "probs": torch.softmax(out.logits[0], -1).tolist(),
        })
    with open(os.path.join(outdir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"model": model_dir, "cases": cases}, f, ensure_ascii=False)
    print(f"gen_attention: {len(cases)} cases from {model_dir}")


if __name__ == "__main__":
    main()
