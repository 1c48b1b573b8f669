#!/usr/bin/env python3
"""gen_multilabel.py OUTDIR: references for multi-label classification, for
tests/test_multilabel.c.

  OUTDIR/tiny/      a tiny random BertForSequenceClassification with
                    problem_type "multi_label_classification" and 5 labels (saved by
                    save_pretrained), and in ref/ one batch's PyTorch results:
                    input_ids, token_type_ids, attention_mask (B,T) int32;
                    targets (B,NL) float32 0/1; logits, probs (sigmoid) (B,NL);
                    loss (1) = the model's own BCEWithLogitsLoss (mean over B*NL);
                    grads (num_params) in bertc's layout + grads_index.txt
                    (as tools/gen_grads.py).
  OUTDIR/metrics/   y_true.npy, y_pred.npy (n,5) int32 indicator matrices (with
                    examples that have no true and/or no predicted label) and
                    expected.json: scikit-learn's precision_recall_fscore_support
                    per label and for average micro/macro/weighted/samples
                    (zero_division=0), hamming_loss and accuracy_score (subset), and
                    "reports": classification_report texts of the same matrices
                    (multilabel-indicator: micro/macro/weighted/samples avg rows) for
                    a few target_names (null: sklearn's "0".."4") and digits.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
from sklearn.metrics import accuracy_score, classification_report, hamming_loss, precision_recall_fscore_support
from transformers import BertConfig, BertForSequenceClassification

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_grads import batch, flat_grads, layout, place, tiny_tokenizer  # noqa: E402


def model_case(outdir):
    torch.manual_seed(21)
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, num_labels=5,
                     problem_type="multi_label_classification",
                     id2label={i: n for i, n in enumerate(["pos", "neg", "strong", "funny", "long"])},
                     label2id={n: i for i, n in enumerate(["pos", "neg", "strong", "funny", "long"])})
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    d = os.path.join(outdir, "tiny")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.save_pretrained(d, safe_serialization=True)
    tiny_tokenizer(d)
    model.eval()
    ids, tts, mask = batch([12, 7, 3, 12, 9, 10], 5, 100, 2, 3, 17)
    g = torch.Generator().manual_seed(4)
    targets = (torch.rand(6, 5, generator=g) < 0.4).float()
    targets[2] = 0  # an example with no label
    model.zero_grad()
    out = model(input_ids=ids, token_type_ids=tts, attention_mask=mask, labels=targets)
    out.loss.backward()
    ref_loss = torch.nn.BCEWithLogitsLoss()(out.logits.detach(), targets)
    assert abs(ref_loss.item() - out.loss.item()) < 1e-7

    flat, index, off = flat_grads(model)
    r = os.path.join(d, "ref")
    os.makedirs(r)
    np.save(os.path.join(r, "input_ids.npy"), ids.numpy().astype("<i4"))
    np.save(os.path.join(r, "token_type_ids.npy"), tts.numpy().astype("<i4"))
    np.save(os.path.join(r, "attention_mask.npy"), mask.numpy().astype("<i4"))
    np.save(os.path.join(r, "targets.npy"), targets.numpy().astype("<f4"))
    np.save(os.path.join(r, "logits.npy"), out.logits.detach().numpy().astype("<f4"))
    np.save(os.path.join(r, "probs.npy"), torch.sigmoid(out.logits).detach().numpy().astype("<f4"))
    np.save(os.path.join(r, "loss.npy"), np.array([out.loss.item()], dtype="<f4"))
    np.save(os.path.join(r, "grads.npy"), flat)
    with open(os.path.join(r, "grads_index.txt"), "w") as f:
        f.write("\n".join(index) + "\n")
    print(f"gen_multilabel: tiny: BCE loss {out.loss.item():.6f}")


def metrics_case(outdir):
    rng = np.random.default_rng(8)
    n, nl = 60, 5
    y_true = (rng.random((n, nl)) < [0.5, 0.3, 0.2, 0.1, 0.05]).astype(np.int32)
    noise = rng.random((n, nl)) < 0.25
    y_pred = np.where(noise, 1 - y_true, y_true).astype(np.int32)
    y_true[0] = 0; y_pred[0] = 0          # nothing true, nothing predicted
    y_true[1] = 0; y_pred[1] = [1, 0, 0, 0, 0]
    y_true[2] = [0, 1, 1, 0, 0]; y_pred[2] = 0
    y_pred[:, 4] = 0                      # a label never predicted
    d = os.path.join(outdir, "metrics")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    np.save(os.path.join(d, "y_true.npy"), y_true.astype("<i4"))
    np.save(os.path.join(d, "y_pred.npy"), y_pred.astype("<i4"))
    exp = {}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    exp["per_label"] = [{"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                         "support": int(s[i])} for i in range(nl)]
    for avg in ["micro", "macro", "weighted", "samples"]:
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        exp[avg] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    exp["hamming_loss"] = float(hamming_loss(y_true, y_pred))
    exp["subset_accuracy"] = float(accuracy_score(y_true, y_pred))
    exp["reports"] = []
    for names, digits in [(["pos", "neg", "strong", "funny", "long"], 2),
                          (["positive", "négatif", "très fort — strong", "funny", "long"], 4),
                          (None, 0)]:
        text = classification_report(y_true, y_pred, target_names=names, digits=digits, zero_division=0)
        exp["reports"].append({"names": names, "digits": digits, "text": text})
    with open(os.path.join(d, "expected.json"), "w") as fh:
        json.dump(exp, fh, indent=1)
    print(f"gen_multilabel: metrics: samples F1 {exp['samples']['f1']:.6f}, hamming {exp['hamming_loss']:.6f}")


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    model_case(outdir)
    metrics_case(outdir)


if __name__ == "__main__":
    main()
