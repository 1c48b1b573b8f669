#!/usr/bin/env python3
"""gen_metrics.py OUTDIR: reference classification metrics from scikit-learn.

Writes OUTDIR/cases.json: a list of cases, each with seeded random y_true/y_pred,
the label names, and what scikit-learn computes from them: accuracy_score,
precision_recall_fscore_support (per class, macro, weighted), f1 for
"metric for best model" (binary: pos_label=1; else macro), confusion_matrix and the
classification_report text (labels=range(NL), target_names=names, digits).
tests/test_metrics.c feeds the predictions to src/metrics.c in batches and compares.
"""
import json
import os
import sys
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix,
                             f1_score, precision_recall_fscore_support)


def case(name, names, y_true, y_pred, digits=2):
    labels = list(range(len(names)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_division warnings are the point here
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None)
        avg = {}
        for a in ("macro", "weighted"):
            ap, ar, af, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=a)
            avg[a] = {"precision": float(ap), "recall": float(ar), "f1": float(af)}
        if len(names) == 2:
            best = f1_score(y_true, y_pred, labels=labels, average="binary", pos_label=1)
        else:
            best = f1_score(y_true, y_pred, labels=labels, average="macro")
        report = classification_report(y_true, y_pred, labels=labels, target_names=names, digits=digits)
    return {
        "name": name,
        "labels": names,
        "digits": digits,
        "y_true": [int(v) for v in y_true],
        "y_pred": [int(v) for v in y_pred],
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": [float(v) for v in p],
        "recall": [float(v) for v in r],
        "f1": [float(v) for v in f],
        "support": [int(v) for v in s],
        "macro": avg["macro"],
        "weighted": avg["weighted"],
        "best_f1": float(best),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "report": report,
    }


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    cases = []

    # Binary, about 80% right.
    n = 997
    yt = rng.integers(0, 2, n)
    yp = np.where(rng.random(n) < 0.8, yt, 1 - yt)
    cases.append(case("binary", ["neg", "pos"], yt, yp))
    cases.append(case("binary_digits4", ["negative", "positive"], yt, yp, digits=4))

    # Four classes, class 2 never predicted (precision 0/0 -> 0), a long name that
    # widens the first column.
    n = 1013
    yt = rng.integers(0, 4, n)
    yp = np.where(rng.random(n) < 0.6, yt, rng.integers(0, 4, n))
    yp = np.where(yp == 2, 3, yp)
    cases.append(case("four_class", ["World", "Sports", "Business_and_finance_news", "Sci/Tech"], yt, yp))

    # Three classes with non-ASCII names (width counts characters, not bytes) and a
    # class that is neither true nor predicted (everything 0/0 -> 0, support 0).
    n = 301
    yt = rng.integers(0, 2, n) * 2           # labels 0 and 2 only
    yp = np.where(rng.random(n) < 0.7, yt, 2 - yt)
    cases.append(case("unicode_absent", ["négatif_très_fort", "neutre", "positif"], yt, yp, digits=3))

    with open(os.path.join(out, "cases.json"), "w", encoding="utf-8") as fh:
        json.dump(cases, fh, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
