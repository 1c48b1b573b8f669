#!/usr/bin/env python3
"""gen_mlm.py OUTDIR: references for the masked-LM head that contextual word
substitution uses (src/augment_mlm.c; tests/test_augment_mlm.c,
tests/test_augment_cli.sh).

Two small random models with a masked-LM head over a small English vocabulary
(seeded; weights perturbed beyond the 0.02 init so the predictions differ per
context), saved with save_pretrained (safetensors; the decoder tied to the word
embeddings, so the file has no decoder weight, as bert-base-uncased's has none)
plus vocab.txt and tokenizer_config.json:
  OUTDIR/bert/     BertForMaskedLM      (cls.predictions.*)
  OUTDIR/distil/   DistilBertForMaskedLM (vocab_transform, vocab_layer_norm, vocab_projector)
  OUTDIR/CASE/ref/input_ids.npy       (B,T) int32, right-padded, [MASK]s in every row
  OUTDIR/CASE/ref/attention_mask.npy  (B,T) int32
  OUTDIR/CASE/ref/rows.npy            (N) int32: b*T+t of every [MASK]
  OUTDIR/CASE/ref/logits.npy          (N,V) float32: the model's prediction scores
                                      there (eval mode)
  OUTDIR/untied/   BertForMaskedLM with tie_word_embeddings false: the file
                   carries cls.predictions.decoder.weight of its own
  OUTDIR/untied/ref/...               as above
"""
import os
import shutil
import sys

import numpy as np
import torch
from transformers import (BertConfig, BertForMaskedLM, BertTokenizer, DistilBertConfig,
                          DistilBertForMaskedLM)

WORDS = """the a an and but movie film story plot actor actors acting scene scenes was is were are
it this that of to in on with for as at by good great bad terrible boring wonderful beautiful
funny sad long short fine best worst really very quite truly ending music director character
characters script time people love loved hate hated watch watched see saw think thought make
made one two first last new old big small little young man woman world life day night way thing
things lot well just even also still never always again here there then now""".split()
PIECES = ["##s", "##ed", "##ing", "##ly", "##er", ".", ",", "!", "?", "'"]
TEXTS = [
    "the movie was [MASK] and the acting was [MASK] .",
    "a [MASK] story with a [MASK] ending",
    "i [MASK] this film",
    "the [MASK] [MASK] was really good , but the plot was boring !",
]


def write_tokenizer(d):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(special + WORDS + PIECES) + "\n")
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        f.write('{"do_lower_case": true, "model_max_length": 64, "tokenizer_class": "BertTokenizer"}\n')
    return len(special) + len(WORDS) + len(PIECES)


def make(case, d):
    V = write_tokenizer(d)
    torch.manual_seed({"bert": 5, "distil": 6, "untied": 7}[case])
    if case == "distil":
        cfg = DistilBertConfig(vocab_size=V, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                               max_position_embeddings=64)
        model = DistilBertForMaskedLM(cfg)
    else:
        cfg = BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
                         tie_word_embeddings=case != "untied")
        model = BertForMaskedLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    model.eval()
    return model, V


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    for case in ("bert", "distil", "untied"):
        d = os.path.join(out, case)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "ref"))
        model, V = make(case, d)
        model.save_pretrained(d, safe_serialization=True)
        tok = BertTokenizer(os.path.join(d, "vocab.txt"), do_lower_case=True)
        enc = tok(TEXTS, padding=True, return_tensors="pt")
        kw = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        with torch.no_grad():
            logits = model(**kw).logits  # (B,T,V)
        ids = enc["input_ids"]
        B, T = ids.shape
        rows = [b * T + t for b in range(B) for t in range(T) if ids[b, t] == tok.mask_token_id]
        assert len(rows) == 7, rows
        np.save(os.path.join(d, "ref", "input_ids.npy"), ids.numpy().astype(np.int32))
        np.save(os.path.join(d, "ref", "attention_mask.npy"), enc["attention_mask"].numpy().astype(np.int32))
        np.save(os.path.join(d, "ref", "rows.npy"), np.array(rows, dtype=np.int32))
        np.save(os.path.join(d, "ref", "logits.npy"),
                logits.reshape(B * T, V)[rows].numpy().astype(np.float32))
        names = sorted(k for k in model.state_dict())
        print(case, "V =", V, "masks:", len(rows), "head tensors:",
              [n for n in names if n.startswith(("cls.", "vocab_"))])


if __name__ == "__main__":
    main()
