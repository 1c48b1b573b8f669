#!/usr/bin/env python3
"""gen_forward.py OUTDIR: reference forward passes of BertForSequenceClassification
from transformers, for tests/test_forward.c.

Writes, for each case, a model folder (save_pretrained + the tokenizer files) and
the reference outputs of one padded batch, as .npy files (numpy format 1.0,
little-endian '<f4' / '<i4', C order):

  OUTDIR/CASE/                  the model folder bertc loads
  OUTDIR/CASE/ref/input_ids.npy       (B,T) int32
  OUTDIR/CASE/ref/token_type_ids.npy  (B,T) int32
  OUTDIR/CASE/ref/attention_mask.npy  (B,T) int32
  OUTDIR/CASE/ref/logits.npy          (B,NL)
  OUTDIR/CASE/ref/pooled.npy          (B,C)
  OUTDIR/CASE/ref/hidden_states.npy   (L+1,B,T,C)  index 0 = embeddings output
  OUTDIR/CASE/ref/attentions.npy      (L,B,NH,T,T)

Cases: minilm2 (all-MiniLM-L6-v2 with a seeded 2-label head), base3 (a random
bert-base-sized model, 3 labels), base3_bf16 and base3_f16 (the same saved in
bf16 / f16; their outputs come from the rounded weights computed in fp32, as
bertc computes). Eval mode (no dropout), eager attention.
"""
import copy
import os
import shutil
import sys

import numpy as np
import torch
from transformers import BertConfig, BertForSequenceClassification

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
TOKENIZER_FILES = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]
LENGTHS = [48, 30, 9, 41]  # B = 4 sequences, padded to T = 48
T = max(LENGTHS)


def batch(vocab_size, seed):
    g = torch.Generator().manual_seed(seed)
    B = len(LENGTHS)
    ids = torch.zeros(B, T, dtype=torch.long)
    tts = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        ids[b, :n] = torch.randint(1000, vocab_size, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = 101, 102          # [CLS] ... [SEP]
        mask[b, :n] = 1
        tts[b, n // 2:n] = 1                          # a second segment
    return ids, tts, mask


def save_case(outdir, name, model, src_for_tokenizer, dtype=None):
    d = os.path.join(outdir, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    m = model if dtype is None else copy.deepcopy(model).to(dtype)
    m.save_pretrained(d, safe_serialization=True)
    for f in TOKENIZER_FILES:
        shutil.copy(os.path.join(src_for_tokenizer, f), os.path.join(d, f))
    # the reference: reload what was written, compute in fp32
    ref = BertForSequenceClassification.from_pretrained(d, attn_implementation="eager",
                                                        dtype=torch.float32).eval()
    ids, tts, mask = batch(ref.config.vocab_size, 7)
    with torch.no_grad():
        out = ref(input_ids=ids, token_type_ids=tts, attention_mask=mask,
                  output_hidden_states=True, output_attentions=True)
        pooled = ref.bert(input_ids=ids, token_type_ids=tts, attention_mask=mask).pooler_output
    r = os.path.join(d, "ref")
    os.makedirs(r)
    np.save(os.path.join(r, "input_ids.npy"), ids.numpy().astype("<i4"))
    np.save(os.path.join(r, "token_type_ids.npy"), tts.numpy().astype("<i4"))
    np.save(os.path.join(r, "attention_mask.npy"), mask.numpy().astype("<i4"))
    np.save(os.path.join(r, "logits.npy"), out.logits.numpy().astype("<f4"))
    np.save(os.path.join(r, "pooled.npy"), pooled.numpy().astype("<f4"))
    np.save(os.path.join(r, "hidden_states.npy"),
            torch.stack(out.hidden_states).numpy().astype("<f4"))
    np.save(os.path.join(r, "attentions.npy"), torch.stack(out.attentions).numpy().astype("<f4"))
    print(f"gen_forward: {name}: logits {out.logits.numpy().round(4).tolist()}")


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)

    torch.manual_seed(0)  # seeds the new 2-label head
    minilm = BertForSequenceClassification.from_pretrained(MINILM, num_labels=2)
    save_case(outdir, "minilm2", minilm, MINILM)

    torch.manual_seed(1)
    base = BertForSequenceClassification(BertConfig(num_labels=3))
    save_case(outdir, "base3", base, MINILM)
    save_case(outdir, "base3_bf16", base, MINILM, torch.bfloat16)
    save_case(outdir, "base3_f16", base, MINILM, torch.float16)


if __name__ == "__main__":
    main()
