#!/usr/bin/env python3
"""qa_check.py: comparisons for tests/test_qa_cli.sh; exits 1 on any mismatch.

  qa_check.py pipeline RUNS_JSON K BERTC_OUT.jsonl
      run K of gen_qa_cli.py's runs.json against bertc predict's output, line by line:
      the same shape (dict or list), spans, answer texts; scores within 1e-4
  qa_check.py squad DATA.json PREDICTIONS.json METRICS.json v1|v2
      the official SQuAD evaluate-v1.1.py / evaluate-v2.0.py (their code, below, run on
      bertc's predictions) against the metrics bertc eval printed; within 1e-9
  qa_check.py log LOG.jsonl
      the QA training run learned: eval_loss falls, eval_exact_match / eval_f1 rise
"""
import collections
import json
import math
import re
import string
import sys

SCORE_TOL = 1e-4   # pipeline scores: softmax products of a float32 forward
METRIC_TOL = 1e-9  # metrics: the same sums in double


# ---- the official scripts' code (evaluate-v1.1.py, evaluate-v2.0.py) ----
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_v1(prediction, ground_truth):
    p, g = normalize_answer(prediction).split(), normalize_answer(ground_truth).split()
    common = collections.Counter(p) & collections.Counter(g)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision, recall = 1.0 * num_same / len(p), 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)


def evaluate_v1(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                golds = [a["text"] for a in qa["answers"]]
                pred = predictions[qa["id"]]
                exact_match += max(float(normalize_answer(pred) == normalize_answer(g)) for g in golds)
                f1 += max(f1_v1(pred, g) for g in golds)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def get_tokens(s):
    return normalize_answer(s).split() if s else []


def compute_f1_v2(a_gold, a_pred):
    gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision, recall = 1.0 * num_same / len(pred_toks), 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def evaluate_v2(dataset, preds):
    exact, f1, has = {}, {}, {}
    for article in dataset:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                qid = qa["id"]
                has[qid] = bool(qa["answers"])
                golds = [a["text"] for a in qa["answers"] if normalize_answer(a["text"])] or [""]
                exact[qid] = max(int(normalize_answer(a) == normalize_answer(preds[qid])) for a in golds)
                f1[qid] = max(compute_f1_v2(a, preds[qid]) for a in golds)

    def agg(ids):
        n = len(ids)
        return (100.0 * sum(exact[k] for k in ids) / n, 100.0 * sum(f1[k] for k in ids) / n, n)

    out = collections.OrderedDict()
    out["exact"], out["f1"], out["total"] = agg(list(exact))
    for name, ids in (("HasAns", [k for k in exact if has[k]]), ("NoAns", [k for k in exact if not has[k]])):
        if ids:
            out[name + "_exact"], out[name + "_f1"], out[name + "_total"] = agg(ids)
    return out


# ---- checks ----
def check_pipeline(runs_path, k, out_path):
    want = json.load(open(runs_path, encoding="utf-8"))["runs"][int(k)]["answers"]
    got = [json.loads(line) for line in open(out_path, encoding="utf-8") if line.strip()]
    bad, worst, n = 0, 0.0, 0
    if len(got) != len(want):
        print(f"FAIL: {len(got)} output lines, {len(want)} expected")
        return 1
    for i, (g, w) in enumerate(zip(got, want)):
        gl, wl = (g if isinstance(g, list) else [g]), (w if isinstance(w, list) else [w])
        if isinstance(g, list) != isinstance(w, list) or len(gl) != len(wl):
            print(f"FAIL: input {i + 1}: bertc {json.dumps(g, ensure_ascii=False)}, pipeline {json.dumps(w, ensure_ascii=False)}")
            bad += 1
            continue
        for a, b in zip(gl, wl):
            n += 1
            d = abs(a["score"] - b["score"])
            worst = max(worst, d)
            if (a["start"], a["end"], a["answer"]) != (b["start"], b["end"], b["answer"]) or not d <= SCORE_TOL:
                print(f"FAIL: input {i + 1}: bertc {json.dumps(a, ensure_ascii=False)}, pipeline {json.dumps(b, ensure_ascii=False)}")
                bad += 1
    print(f"run {k}: {len(got)} inputs, {n} answers, {bad} mismatches, max score diff {worst:.2e} (tolerance {SCORE_TOL})")
    return 1 if bad or n == 0 else 0


def check_squad(data_path, pred_path, metrics_path, version):
    data = json.load(open(data_path, encoding="utf-8"))["data"]
    preds = json.load(open(pred_path, encoding="utf-8"))
    got = json.load(open(metrics_path, encoding="utf-8"))
    want = evaluate_v1(data, preds) if version == "v1" else evaluate_v2(data, preds)
    bad = 0
    if set(got) != set(want):
        print(f"FAIL: keys {sorted(got)} != official {sorted(want)}")
        bad += 1
    for key, v in want.items():
        if key in got and not abs(got[key] - v) <= METRIC_TOL:
            print(f"FAIL: {key}: bertc {got[key]!r}, official {v!r}")
            bad += 1
    print(f"squad {version}: bertc {json.dumps(got)} | official {json.dumps(want)}: {bad} mismatches")
    return 1 if bad else 0


def check_log(log_path):
    evals = [json.loads(line) for line in open(log_path) if "eval_loss" in line]
    if len(evals) < 2:
        print(f"FAIL: {len(evals)} evaluations logged")
        return 1
    first, last = evals[0], evals[-1]
    print(f"eval_loss {first['eval_loss']:.4f} -> {last['eval_loss']:.4f}, eval_exact_match "
          f"{first['eval_exact_match']:.1f} -> {last['eval_exact_match']:.1f}, eval_f1 {first['eval_f1']:.1f} -> "
          f"{last['eval_f1']:.1f}")
    ok = (last["eval_loss"] < 0.7 * first["eval_loss"] and last["eval_exact_match"] >= first["eval_exact_match"] + 30
          and last["eval_exact_match"] >= 60 and math.isclose(last["eval_accuracy"], last["eval_exact_match"] / 100)
          and last["eval_f1"] >= last["eval_exact_match"])
    if not ok:
        print("FAIL: the QA training run did not learn (want the loss down 30%, exact match up 30 points to >= 60)")
    return 0 if ok else 1


def main():
    cmd = sys.argv[1]
    if cmd == "pipeline":
        return check_pipeline(*sys.argv[2:5])
    if cmd == "squad":
        return check_squad(*sys.argv[2:6])
    if cmd == "log":
        return check_log(sys.argv[2])
    print(f"qa_check.py: unknown command {cmd}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
