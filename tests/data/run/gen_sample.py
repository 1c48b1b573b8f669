#!/usr/bin/env python3
"""Writes the sample run directory tests/data/run/ (inputs for the report test).

Numbers are made up but shaped like the notebook's run (1000 training reviews,
200 test reviews, 3 epochs, batch 8, logging every 10 steps); review texts are
the first few hundred characters of real IMDB test reviews, so they carry the
"<br />" tags and quotes the report must escape.
  python3 tests/data/run/gen_sample.py ../shared/data/imdb/aclImdb-text.tar.gz tests/data/run
"""
import json, math, random, re, sys, tarfile

src, out = sys.argv[1], sys.argv[2]
rng = random.Random(42)
texts = {"pos": [], "neg": []}
with tarfile.open(src) as tar:
    for m in tar:
        parts = m.name.split("/")
        if len(parts) == 4 and parts[1] == "test" and parts[2] in texts and m.isfile():
            if len(texts[parts[2]]) < 100:
                texts[parts[2]].append(tar.extractfile(m).read().decode("utf-8")[:300])
        if all(len(v) >= 100 for v in texts.values()):
            break
labels = ["Negative", "Positive"]

def dump(name, obj):
    with open(f"{out}/{name}", "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")

# data.json
edges = [i * 32 for i in range(0, 33)]
counts = [round(1000 * (math.exp(-((e + 16 - 230) / 130) ** 2 / 2) / 8.6)) for e in edges[:-1]]
counts[0] = 3
dump("data.json", {
    "labels": labels, "counts": [512, 488],
    "samples": [{"text": texts["neg"][0], "label": 0}, {"text": texts["pos"][1], "label": 1},
                {"text": texts["pos"][2], "label": "Positive"}],
    "lengths": {"bin_edges": edges, "counts": counts, "mean": 288.4, "p50": 214, "p90": 566,
                "p99": 901, "max_length": 128, "truncated_share": 0.873}})

# log.jsonl: 375 steps (1000 / 8 * 3), logging every 10, evaluation each epoch
with open(f"{out}/log.jsonl", "w") as f:
    for step in range(10, 376, 10):
        loss = 0.12 + 0.58 * math.exp(-step / 110) + rng.uniform(-0.05, 0.05)
        lr = 5e-5 * (1 - step / 375)
        f.write(json.dumps({"step": step, "epoch": round(step / 125, 4), "loss": round(loss, 4),
                            "learning_rate": lr, "grad_norm": round(rng.uniform(1, 9), 3)}) + "\n")
    for ep, (el, ea, ef) in enumerate([(0.3812, 0.845, 0.8431), (0.3305, 0.875, 0.8762),
                                       (0.3498, 0.885, 0.8844)], start=1):
        f.write(json.dumps({"step": 125 * ep, "epoch": float(ep), "eval_loss": el, "eval_accuracy": ea,
                            "eval_f1": ef}) + "\n")

# eval.json (200 test reviews)
cm = [[88, 12], [11, 89]]
per = []
for i, name in enumerate(labels):
    tp = cm[i][i]; p = tp / (cm[0][i] + cm[1][i]); r = tp / sum(cm[i])
    per.append({"label": name, "precision": round(p, 4), "recall": round(r, 4),
                "f1": round(2 * p * r / (p + r), 4), "support": sum(cm[i])})
macro = {k: round(sum(c[k] for c in per) / 2, 4) for k in ("precision", "recall", "f1")}
macro["support"] = 200
weighted = {k: round(sum(c[k] * c["support"] for c in per) / 200, 4) for k in ("precision", "recall", "f1")}
weighted["support"] = 200
text = "              precision    recall  f1-score   support\n\n"
for c in per:
    text += f"{c['label']:>12}       {c['precision']:.2f}      {c['recall']:.2f}      {c['f1']:.2f}       {c['support']:>3}\n"
text += f"\n    accuracy                           0.89       200\n"
text += f"   macro avg       {macro['precision']:.2f}      {macro['recall']:.2f}      {macro['f1']:.2f}       200\n"
text += f"weighted avg       {weighted['precision']:.2f}      {weighted['recall']:.2f}      {weighted['f1']:.2f}       200\n"
dump("eval.json", {"accuracy": 0.885, "loss": 0.3498, "labels": labels, "confusion_matrix": cm,
                   "per_class": per, "macro_avg": macro, "weighted_avg": weighted, "report_text": text})

# predictions.jsonl in the confusion matrix's proportions
with open(f"{out}/predictions.jsonl", "w") as f:
    for true, pool in ((0, texts["neg"]), (1, texts["pos"])):
        for k, t in enumerate(pool):
            wrong = k < cm[true][1 - true]
            pred = 1 - true if wrong else true
            score = round(rng.uniform(0.51, 0.8) if wrong else rng.uniform(0.7, 0.995), 4)
            probs = [round(1 - score, 4), score] if pred == 1 else [score, round(1 - score, 4)]
            f.write(json.dumps({"text": t, "label": labels[true], "pred": labels[pred], "score": score,
                                "probs": probs}, ensure_ascii=False) + "\n")

# attention.json: a 48-token prefix of one review, last layer, head 0
words = re.findall(r"\w+|[^\w\s]", texts["pos"][3].lower().replace("<br />", " "))
tokens = ["[CLS]"]
for w in words:
    if len(tokens) >= 47:
        break
    tokens += [w[:4], "##" + w[4:]] if len(w) > 9 else [w]
tokens = tokens[:47] + ["[SEP]"]
T = len(tokens)
weights = []
for i in range(T):
    logits = [2.5 * (j == 0) + 2.0 * (tokens[j] == "[SEP]") + 1.5 * (abs(i - j) == 1) +
              (0.8 if tokens[j] in (".", ",") else 0) + rng.gauss(0, 0.4) for j in range(T)]
    m = max(logits); e = [math.exp(x - m) for x in logits]; s = sum(e)
    weights.append([round(x / s, 5) for x in e])
dump("attention.json", {"text": texts["pos"][3], "tokens": tokens, "layer": 5, "head": 0,
                        "weights": weights, "pred": "Positive", "score": 0.9712})

dump("run.json", {"model": "all-MiniLM-L6-v2", "wall_seconds": 1843.6, "train_samples_per_second": 1.63,
                  "eval_samples_per_second": 41.2, "threads": 2, "bertc_version": "0.1.0",
                  "settings": {"epochs": 3, "batch_size": 8, "eval_batch_size": 8, "learning_rate": 5e-5,
                               "weight_decay": 0.0, "warmup_steps": 0, "max_length": 128, "seed": 42,
                               "logging_steps": 10, "eval_strategy": "epoch", "train_samples": 1000,
                               "test_samples": 200, "labels": labels}})
