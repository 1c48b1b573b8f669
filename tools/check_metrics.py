#!/usr/bin/env python3
"""check_metrics.py PREDICTIONS.jsonl EVAL.json [DIGITS]: checks that every
number bertc eval wrote equals scikit-learn's on the same predictions.

From predictions.jsonl (one line per example: label, pred, score, probs):
  - pred is the argmax of probs (the first on ties), score = probs[pred], probs
    sum to 1 (float32: within 1e-5);
  - accuracy_score, precision_recall_fscore_support (per class, macro,
    weighted; labels = every class of eval.json, zero_division=0),
    confusion_matrix and classification_report(digits=DIGITS, default 2) text
    equal eval.json's accuracy, per_class, macro_avg, weighted_avg,
    confusion_matrix and report_text (floats within 1e-12, text byte for byte);
  - loss = mean(-log probs[label]) equals eval.json's loss within 1e-4 (bertc
    computes it from the logits; probs are rounded to float32).

A multi-label eval.json (it has "per_label") is checked as a multilabel-indicator
problem instead: each line's "label" and "pred" are lists of names, pred is the
labels with probs >= eval.json's threshold (in label order); per-label
precision_recall_fscore_support, the micro/macro/weighted/samples averages,
hamming_loss, accuracy_score (subset accuracy) and classification_report text
(zero_division=0) equal eval.json's; the loss (mean binary cross-entropy over
examples and labels, from the float32 probs) within 1e-4.
Prints one line and exits 0 when all match, else names each mismatch, exits 1.
"""
import json
import math
import sys

from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix, hamming_loss,
                             precision_recall_fscore_support)


def close_to(errors, a, b, what, tol=1e-12):
    if a is None or not math.isclose(a, b, rel_tol=tol, abs_tol=tol):
        errors.append(f"{what}: bertc {a} vs scikit-learn {b}")


def check_multilabel(pred_path, ev, digits):
    import numpy as np
    names = ev["labels"]
    NL = len(names)
    idx = {n: i for i, n in enumerate(names)}
    th = ev["threshold"]
    errors, Y, P, bce = [], [], [], []
    with open(pred_path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            p = json.loads(line)
            probs = p["probs"]
            if len(probs) != NL or not isinstance(p["label"], list) or not isinstance(p["pred"], list):
                errors.append(f"line {ln}: want {NL} probs and label/pred lists: {line[:200]}")
                continue
            want = [names[k] for k in range(NL) if probs[k] >= th]
            if p["pred"] != want:
                errors.append(f"line {ln}: pred {p['pred']} is not the labels with probs >= {th}: {want}")
            y = [0] * NL
            for n in p["label"]:
                y[idx[n]] = 1
            if [names[k] for k in range(NL) if y[k]] != p["label"]:
                errors.append(f"line {ln}: label list {p['label']} is not in the model's label order")
            Y.append(y)
            P.append([1 if n in p["pred"] else 0 for n in names])
            bce.append(sum(-math.log(max(q if t else 1 - q, 1e-45)) for q, t in zip(probs, y)) / NL)
    Y, P = np.array(Y).reshape(-1, NL), np.array(P).reshape(-1, NL)
    if ev["n"] != len(Y):
        errors.append(f"n: bertc {ev['n']} vs {len(Y)} prediction lines")
    labels = list(range(NL))
    close_to(errors, ev["subset_accuracy"], accuracy_score(Y, P), "subset_accuracy")
    close_to(errors, ev["hamming_loss"], hamming_loss(Y, P), "hamming_loss")
    Pr, R, F, S = precision_recall_fscore_support(Y, P, labels=labels, average=None, zero_division=0)
    for k, pl in enumerate(ev["per_label"]):
        if pl["label"] != names[k]:
            errors.append(f"per_label[{k}] is {pl['label']}, want {names[k]}")
        close_to(errors, pl["precision"], Pr[k], f"{names[k]} precision")
        close_to(errors, pl["recall"], R[k], f"{names[k]} recall")
        close_to(errors, pl["f1"], F[k], f"{names[k]} f1")
        if pl["support"] != S[k]:
            errors.append(f"{names[k]} support: bertc {pl['support']} vs {S[k]}")
    for avg in ("micro", "macro", "weighted", "samples"):
        p, r, f, _ = precision_recall_fscore_support(Y, P, labels=labels, average=avg, zero_division=0)
        got = ev[f"{avg}_avg"]
        close_to(errors, got["precision"], p, f"{avg} precision")
        close_to(errors, got["recall"], r, f"{avg} recall")
        close_to(errors, got["f1"], f, f"{avg} f1")
        if got["support"] != int(S.sum()):
            errors.append(f"{avg} support: bertc {got['support']} vs {int(S.sum())}")
    text = classification_report(Y, P, labels=labels, target_names=names, digits=digits, zero_division=0)
    if ev["report_text"] != text:
        errors.append(f"report_text differs:\n--- bertc\n{ev['report_text']}\n--- scikit-learn\n{text}")
    close_to(errors, ev["loss"], sum(bce) / len(bce), "loss (BCE)", 1e-4)
    if errors:
        for e in errors[:20]:
            print("check_metrics:", e)
        sys.exit(1)
    print(f"check_metrics: {len(Y)} multi-label predictions, {NL} labels, threshold {th}, subset accuracy "
          f"{ev['subset_accuracy']:.4f}, micro F1 {ev['micro_avg']['f1']:.4f}: all metrics equal scikit-learn's")


def main():
    pred_path, eval_path = sys.argv[1], sys.argv[2]
    digits = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    ev = json.load(open(eval_path, encoding="utf-8"))
    if "per_label" in ev:
        return check_multilabel(pred_path, ev, digits)
    names = ev["labels"]
    NL = len(names)
    idx = {n: i for i, n in enumerate(names)}
    y_true, y_pred, losses = [], [], []
    errors = []
    with open(pred_path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            p = json.loads(line)
            probs = p["probs"]
            if len(probs) != NL:
                errors.append(f"line {ln}: {len(probs)} probs for {NL} labels")
                continue
            best = max(range(NL), key=lambda k: (probs[k], -k))
            if names[best] != p["pred"]:
                errors.append(f"line {ln}: pred {p['pred']} is not the argmax {names[best]}")
            if abs(p["score"] - probs[best]) > 0:
                errors.append(f"line {ln}: score {p['score']} != probs[pred] {probs[best]}")
            if abs(sum(probs) - 1) > 1e-5:
                errors.append(f"line {ln}: probs sum to {sum(probs)}")
            y_true.append(idx[p["label"]])
            y_pred.append(idx[p["pred"]])
            losses.append(-math.log(max(probs[idx[p["label"]]], 1e-45)))
    labels = list(range(NL))

    def close(a, b, what, tol=1e-12):
        if a is None or not math.isclose(a, b, rel_tol=tol, abs_tol=tol):
            errors.append(f"{what}: bertc {a} vs scikit-learn {b}")

    if ev["n"] != len(y_true):
        errors.append(f"n: bertc {ev['n']} vs {len(y_true)} prediction lines")
    close(ev["accuracy"], accuracy_score(y_true, y_pred), "accuracy")
    P, R, F, S = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for k, pc in enumerate(ev["per_class"]):
        if pc["label"] != names[k]:
            errors.append(f"per_class[{k}] is {pc['label']}, want {names[k]}")
        close(pc["precision"], P[k], f"{names[k]} precision")
        close(pc["recall"], R[k], f"{names[k]} recall")
        close(pc["f1"], F[k], f"{names[k]} f1")
        if pc["support"] != S[k]:
            errors.append(f"{names[k]} support: bertc {pc['support']} vs {S[k]}")
    for avg in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg, zero_division=0)
        got = ev[f"{avg}_avg"]
        close(got["precision"], p, f"{avg} precision")
        close(got["recall"], r, f"{avg} recall")
        close(got["f1"], f, f"{avg} f1")
    cm = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    if ev["confusion_matrix"] != cm:
        errors.append(f"confusion_matrix: bertc {ev['confusion_matrix']} vs {cm}")
    text = classification_report(y_true, y_pred, labels=labels, target_names=names, digits=digits, zero_division=0)
    if ev["report_text"] != text:
        errors.append(f"report_text differs:\n--- bertc\n{ev['report_text']}\n--- scikit-learn\n{text}")
    close(ev["loss"], sum(losses) / len(losses), "loss", 1e-4)
    if errors:
        for e in errors[:20]:
            print("check_metrics:", e)
        sys.exit(1)
    print(f"check_metrics: {len(y_true)} predictions, {NL} classes, accuracy {ev['accuracy']:.4f}: "
          f"all metrics equal scikit-learn's")


if __name__ == "__main__":
    main()
