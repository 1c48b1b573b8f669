#!/usr/bin/env python3
"""gen_token_pipeline.py OUTDIR: an end-to-end reference for token classification
(tests/test_token_cli.sh): a small random BertForTokenClassification on
all-MiniLM-L6-v2's vocabulary and tokenizer files (hidden 48, 2 layers, the 9
CoNLL-2003 tags; weights perturbed well beyond the init so that its argmaxes
are confident and varied), and what transformers 5.24's
pipeline("token-classification", aggregation_strategy=S) answers for a corpus
of texts, for S in none, simple, first, average, max.
  OUTDIR/model/            the model folder (save_pretrained + MiniLM's tokenizer files)
  OUTDIR/texts.txt         one text per line: accents, CJK, punctuation runs, words split
                           into many pieces, literal [SEP], long and short texts
  OUTDIR/pipeline_S.jsonl  one JSON list of entities per text (scores as floats)
  OUTDIR/tiny.conll        a small CoNLL file (dev sentences) for bertc eval
"""
import json
import os
import shutil
import sys

import torch
from transformers import AutoTokenizer, BertConfig, BertForTokenClassification, pipeline
from transformers.utils import logging

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
TAGS = ["B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O"]
TEXTS = [
    "EU rejects German call to boycott British lamb.",
    "Peter Blackburn met Angela Merkel in Berlin on Tuesday.",
    "São Paulo and Zürich are twinned with Kraków, says José Müller.",
    "東京タワー is in Tokyo; 北京 is the capital of China.",
    "Wow!!! ... What?!? (really) -- yes: \"quoted\" & 'single'",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "The New York-based firm hired O'Neill and McDonald's staff.",
    "[SEP] literal tokens [CLS] in text [MASK] here",
    "a",
    "Visit https://example.com/path?q=1 or mail info@example.org today",
    "Mr. Smith, Mrs. Jones and Dr. Who went to the U.S.A. and the U.K. in 2024.",
    "naïve café résumé coöperate Ångström Øresund",
    "Le président Macron a rencontré Olaf Scholz à Paris.",
    "Apple Inc. v. Samsung Electronics Co., Ltd. (Case No. 11-cv-01846)",
    "emoji 😀 and symbols © ® ™ € £ ¥ between words",
    " ".join(["Barcelona"] * 40) + " and " + " ".join(["Real Madrid"] * 30),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    logging.set_verbosity_error()
    torch.manual_seed(31)
    cfg = BertConfig(vocab_size=30522, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=96, max_position_embeddings=512, num_labels=len(TAGS),
                     id2label=dict(enumerate(TAGS)), label2id={t: i for i, t in enumerate(TAGS)})
    model = BertForTokenClassification(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(torch.randn_like(p) * (0.6 if name.startswith("classifier") else 0.08))
    d = os.path.join(out, "model")
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, safe_serialization=True)
    for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(MINILM, f), os.path.join(d, f))
    with open(os.path.join(out, "texts.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(TEXTS) + "\n")
    tok = AutoTokenizer.from_pretrained(d)
    ref = BertForTokenClassification.from_pretrained(d, attn_implementation="eager").eval()
    for s in ["none", "simple", "first", "average", "max"]:
        pipe = pipeline("token-classification", model=ref, tokenizer=tok, aggregation_strategy=s, device="cpu")
        with open(os.path.join(out, f"pipeline_{s}.jsonl"), "w", encoding="utf-8") as f:
            for t in TEXTS:
                ents = pipe(t)
                f.write(json.dumps([{k: (float(v) if k == "score" else int(v) if k in ("index", "start", "end")
                                         else v) for k, v in e.items()} for e in ents], ensure_ascii=False) + "\n")
        n = sum(len(json.loads(l)) for l in open(os.path.join(out, f"pipeline_{s}.jsonl"), encoding="utf-8"))
        print(f"gen_token_pipeline: {s}: {n} entities over {len(TEXTS)} texts")
    conll = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "conll2003",
                         "dev.txt")
    lines, sents = [], 0
    for line in open(conll, encoding="utf-8"):
        lines.append(line.rstrip("\n"))
        if not line.strip():
            sents += 1
            if sents == 40:
                break
    with open(os.path.join(out, "tiny.conll"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
