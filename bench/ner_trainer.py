#!/usr/bin/env python3
"""ner_trainer.py: the reference side of bench/ner_conll.sh. transformers'
Trainer fine-tunes AutoModelForTokenClassification on CoNLL-2003 as
examples/pytorch/token-classification/run_ner.py does, with the recipe given
on the command line (the same one bertc runs), and scores the final model on
the test file with seqeval (entity micro F1, default mode, over words: a word's
prediction is its first piece's, as run_ner's compute_metrics; words cut by
max_length are predicted O, as bertc does).

usage: ner_trainer.py MODEL TRAIN TEST OUT.json --seed S [--epochs E] [--batch-size B]
                      [--lr LR] [--max-length N] [--threads T] [--train-limit N]

Reads the CoNLL files itself (first column the word, last the tag, blank lines
between sentences, -DOCSTART- skipped); the label list is sorted(set(tags)) of
the training file, as run_ner's get_label_list. Writes OUT.json with the test
metrics, training wall time and samples/s.
"""
import argparse
import json
import os
import random
import time

import subprocess
import sys

try:
    import accelerate  # noqa: F401  (transformers' Trainer needs it; the test stack does not)
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "accelerate>=1.1.0"], check=True)

import numpy as np
import torch
from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                          Trainer, TrainingArguments, set_seed)


def read_conll(path):
    sents, words, tags = [], [], []
    for line in open(path, encoding="utf-8"):
        cols = line.split()
        if not cols or cols[0] == "-DOCSTART-":
            if words:
                sents.append((words, tags))
            words, tags = [], []
            continue
        words.append(cols[0])
        tags.append(cols[-1])
    if words:
        sents.append((words, tags))
    return sents


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=float, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-limit", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train, test = read_conll(a.train), read_conll(a.test)
    if a.train_limit:
        random.Random(a.seed).shuffle(train)
        train = train[:a.train_limit]
    labels = sorted({t for _, ts in train for t in ts})
    l2i = {l: i for i, l in enumerate(labels)}
    tok = AutoTokenizer.from_pretrained(a.model)

    def encode(sents, label_all=False):
        feats = []
        for words, tags in sents:
            e = tok(words, is_split_into_words=True, truncation=True, max_length=a.max_length)
            prev, lab = None, []
            for w in e.word_ids():
                lab.append(-100 if w is None or w == prev else l2i[tags[w]])
                prev = w
            feats.append({"input_ids": e["input_ids"], "token_type_ids": e["token_type_ids"],
                          "attention_mask": e["attention_mask"], "labels": lab})
        return feats

    tr, te = encode(train), encode(test)
    set_seed(a.seed)  # run_ner seeds before it builds the model (the new classifier's init)
    model = AutoModelForTokenClassification.from_pretrained(
        a.model, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=l2i)
    outdir = a.out + ".trainer"
    args = TrainingArguments(output_dir=outdir, num_train_epochs=a.epochs, per_device_train_batch_size=a.batch_size,
                             per_device_eval_batch_size=64, learning_rate=a.lr, seed=a.seed, save_strategy="no",
                             eval_strategy="no", logging_steps=100, report_to=[], use_cpu=True,
                             dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=tr, data_collator=DataCollatorForTokenClassification(tok))
    t0 = time.time()
    trainer.train()
    wall = time.time() - t0
    pred = trainer.predict(te)
    argmax = np.argmax(pred.predictions, axis=-1)
    y_true, y_pred = [], []
    for (words, tags), f, p in zip(test, te, argmax):
        guess = ["O"] * len(words)
        e = tok(words, is_split_into_words=True, truncation=True, max_length=a.max_length)
        prev = None
        for k, w in enumerate(e.word_ids()):
            if w is not None and w != prev:
                guess[w] = labels[p[k]]
            prev = w
        y_true.append(tags)
        y_pred.append(guess)
    res = {"side": "transformers Trainer", "seed": a.seed, "epochs": a.epochs, "batch_size": a.batch_size,
           "lr": a.lr, "max_length": a.max_length, "train_sentences": len(train), "test_sentences": len(test),
           "test_f1": f1_score(y_true, y_pred), "test_precision": precision_score(y_true, y_pred),
           "test_recall": recall_score(y_true, y_pred), "test_accuracy": accuracy_score(y_true, y_pred),
           "train_wall_seconds": wall, "train_samples_per_second": len(train) * a.epochs / wall,
           "torch": torch.__version__, "threads": a.threads}
    json.dump(res, open(a.out, "w"), indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
