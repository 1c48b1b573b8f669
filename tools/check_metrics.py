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
Prints one line and exits 0 when all match, else names each mismatch, exits 1.
"""
import json
import math
import sys

from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix,
                             precision_recall_fscore_support)


def main():
    pred_path, eval_path = sys.argv[1], sys.argv[2]
    digits = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    ev = json.load(open(eval_path, encoding="utf-8"))
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
