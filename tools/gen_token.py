#!/usr/bin/env python3
"""gen_token.py OUTDIR: reference fixtures for tests/test_token_data.c and
tests/test_token_metrics.c (token classification, run_ner.py style).

Writes JSON Lines (floats as Python's repr, so they parse back exactly):

OUTDIR/align.jsonl: word-piece alignment by transformers' BertTokenizerFast
  (from_pretrained on the bertc model folder) with is_split_into_words=True,
  truncation=True, and run_ner.py's tokenize_and_align_labels.
  line 1: {"kind": "meta", "labels": [...], "b_to_i": [...], "model": PATH,
           "dev": PATH or null, "dev_sentences": N, "versions": {...}}
  then:   {"kind": "dev" | "edge", "name": str, "words": [...], "tags": [ids],
           "max_length": M, "input_ids": [...], "word_ids": [... -1 for None],
           "labels_first": [...], "labels_all": [...], "words_cut": K}
  "dev" lines are every sentence of CoNLL-2003 dev.txt in file order (read here
  independently of bertc: first column word, last column tag), at max_length 128
  and 16; "edge" lines a handcrafted list (accents, CJK, U.S., punctuation,
  long words, control characters, empty strings, literal [SEP]).

OUTDIR/metrics.jsonl: seqeval 1.2.2 default-mode results.
  {"name": str, "labels": [...], "gold": [[ids]], "pred": [[ids, -1 = "O"]],
   "digits": D, "types": [...], "p": [...], "r": [...], "f": [...], "support": [...],
   "micro": [p, r, f, s], "macro": [...], "weighted": [...], "accuracy": x or null,
   "report": str or null}
  report/macro are null where seqeval raises (no entity type at all); accuracy
  is null for zero tokens. Random cases (seeded) include invalid IOB2, E-/S-
  prefixes, odd names ("PER", ".", "B", "U-X", non-ASCII), empty sentences,
  all-O and zero-division; the last case is CoNLL-2003 test.txt with a
  corrupted copy as predictions (when $BERTC_CONLL/test.txt exists).
"""
import json
import os
import random
import sys
import warnings

import numpy as np
import seqeval
import tokenizers
import transformers
from seqeval.metrics import accuracy_score, classification_report
from seqeval.metrics.sequence_labeling import precision_recall_fscore_support
from transformers import BertTokenizerFast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.environ.get("BERTC_MODEL") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bertc/models/all-MiniLM-L6-v2")
CONLL = os.environ.get("BERTC_CONLL") or os.path.join(ROOT, "..", "shared", "data", "conll2003")


def read_conll(path):
    """Sentences as (words, tags): first column, last column; blank lines and
    -DOCSTART- lines end a sentence (Hugging Face's conll2003 loader)."""
    sents, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
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


def b_to_i_label(label_list):
    """run_ner.py, verbatim."""
    out = []
    for idx, label in enumerate(label_list):
        if label.startswith("B-") and label.replace("B-", "I-") in label_list:
            out.append(label_list.index(label.replace("B-", "I-")))
        else:
            out.append(idx)
    return out


def align(tok, words, tags, max_length, b2i):
    enc = tok(words, is_split_into_words=True, truncation=True, max_length=max_length)
    word_ids = enc.word_ids()
    first, every = [], []
    for label_all, out in ((False, first), (True, every)):
        prev = None
        for w in word_ids:  # run_ner.py's tokenize_and_align_labels
            if w is None:
                out.append(-100)
            elif w != prev:
                out.append(tags[w])
            else:
                out.append(b2i[tags[w]] if label_all else -100)
            prev = w
    full = tok(words, is_split_into_words=True, truncation=False).word_ids()
    n_full = [0] * len(words)
    n_kept = [0] * len(words)
    for w in full:
        if w is not None:
            n_full[w] += 1
    for w in word_ids:
        if w is not None:
            n_kept[w] += 1
    cut = sum(1 for a, b in zip(n_full, n_kept) if a > 0 and b < a)
    assert enc["token_type_ids"] == [0] * len(word_ids)
    return {"input_ids": enc["input_ids"], "word_ids": [-1 if w is None else w for w in word_ids],
            "labels_first": first, "labels_all": every, "words_cut": cut}


EDGE = [
    ("accents", ["Café", "Ñandú", "naïve", "Zürich", "ÅNGSTRÖM"]),
    ("cjk", ["東京都", "에서", "カタカナ", "北京", "is", "big"]),
    ("abbrev", ["U.S.", "officials", "met", "U.N.", "envoy", "e.g.", "Mr."]),
    ("punct_runs", ["Wow", "!!!???", "...", "--", "(", "a", ")", "\"quoted\""]),
    ("long_words", ["a" * 99, "b" * 100, "c" * 101, "supercalifragilisticexpialidocious", "x" * 250]),
    ("control_only", ["before", "\x07", "after", "\x1b", "\u200b"]),
    ("empty_strings", ["", "word", "", "", "end", ""]),
    ("spaces_inside", ["New York", " ", "\t", "San  Francisco", "a b c"]),
    ("literal_special", ["[SEP]", "[CLS]", "x[MASK]y", "[UNK]", "[PAD]"]),
    ("mixed", ["don't", "3.14", "$100", "50%", "C++", "e-mail", "😀", "€5", "ﬁne"]),
    ("numbers_hyphens", ["1996-08-30", "2-1", "6-3", "well-known", "state-of-the-art"]),
    ("empty_sentence", []),
    ("one_word", ["Germany"]),
    ("all_empty", ["", "\x07", " "]),
    ("long_sentence", ["The", "European", "Commission", "said", "on", "Thursday", "it", "disagreed", "with",
                       "German", "advice", "to", "consumers", "to", "shun", "British", "lamb", "until",
                       "scientists", "determine", "whether", "mad", "cow", "disease", "can", "be",
                       "transmitted", "to", "sheep", "."]),
    ("first_word_cut", ["Antidisestablishmentarianism" * 2, "x"]),
]


def gen_align(out_dir, tok):
    dev_path = os.path.join(CONLL, "dev.txt")
    dev = read_conll(dev_path) if os.path.exists(dev_path) else []
    labels = sorted({t for _, tags in dev for t in tags}) if dev else \
        ["B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O"]
    b2i = b_to_i_label(labels)
    lid = {l: i for i, l in enumerate(labels)}
    n = 0
    with open(os.path.join(out_dir, "align.jsonl"), "w", encoding="utf-8") as f:
        meta = {"kind": "meta", "labels": labels, "b_to_i": b2i, "model": MODEL,
                "dev": dev_path if dev else None, "dev_sentences": len(dev),
                "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__}}
        f.write(json.dumps(meta, ensure_ascii=False) + "\n")
        for m in (128, 16):
            for i, (words, tags) in enumerate(dev):
                ids = [lid[t] for t in tags]
                rec = {"kind": "dev", "name": "dev[%d]" % i, "words": words, "tags": ids, "max_length": m}
                rec.update(align(tok, words, ids, m, b2i))
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
        cycle = [lid["B-PER"], lid["I-PER"], lid["O"], lid["B-LOC"], lid["B-MISC"], lid["I-MISC"], lid["B-ORG"]]
        for m in (128, 16, 8, 3, 2):
            for name, words in EDGE:
                ids = [cycle[i % len(cycle)] for i in range(len(words))]
                rec = {"kind": "edge", "name": name, "words": words, "tags": ids, "max_length": m}
                rec.update(align(tok, words, ids, m, b2i))
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
    return n, len(dev)


# ---------------------------------------------------------------- metrics

def seqeval_case(name, labels, gold, pred, digits):
    """gold/pred: lists of id lists (pred -1 = "O")."""
    yt = [[labels[i] for i in s] for s in gold]
    yp = [["O" if i < 0 else labels[i] for i in s] for s in pred]
    rec = {"name": name, "labels": labels, "gold": gold, "pred": pred, "digits": digits}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = precision_recall_fscore_support(yt, yp, average=None)
        from seqeval.metrics.sequence_labeling import get_entities
        names = sorted({t for t, _, _ in get_entities(yt)} | {t for t, _, _ in get_entities(yp)})
        rec["types"] = names
        rec["p"], rec["r"], rec["f"] = [float(x) for x in p], [float(x) for x in r], [float(x) for x in f]
        rec["support"] = [int(x) for x in s]
        for avg in ("micro", "macro", "weighted"):
            ap, ar, af, asup = precision_recall_fscore_support(yt, yp, average=avg)
            vals = [float(ap), float(ar), float(af), int(asup)]
            rec[avg] = None if any(v != v for v in vals[:3]) else vals
        try:
            rec["accuracy"] = float(accuracy_score(yt, yp))
        except ZeroDivisionError:
            rec["accuracy"] = None
        try:
            rec["report"] = classification_report(yt, yp, digits=digits)
        except ValueError:  # no entity type at all: max() of an empty list
            rec["report"] = None
    return rec


LABEL_SETS = [
    ["B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O"],
    ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
    ["O", "B-X", "I-X", "PER", ".", "B", "I", "U-ORG", "B-X-Y", "I-X-Y", "E-X"],
    ["O", "B-été", "I-été", "B-日本", "I-日本", "B-Zz", "I-Zz", "B-a_very_long_entity_type_name", "I-a_very_long_entity_type_name"],
    ["O", "B-A", "I-A"],
    ["O"] + [p + "-T%02d" % i for i in range(20) for p in ("B", "I")],  # > 8 types: numpy's 8-way pairwise sum
]


def gen_metrics(out_dir):
    rng = random.Random(20261204)
    cases = []
    for c in range(480):
        labels = LABEL_SETS[c % len(LABEL_SETS)]
        K = len(labels)
        o = labels.index("O")
        n_sent = rng.randint(1, 12)
        style = rng.choice(["random", "mostly_o", "all_o", "empty", "copy", "no_pred"])
        gold, pred = [], []
        for _ in range(n_sent):
            L = rng.choice([0, 1, 2, 3, 5, 8, 13]) if style != "empty" else rng.choice([0, 0, 1])
            def draw():
                if style == "all_o":
                    return o
                if style in ("mostly_o", "copy", "no_pred") and rng.random() < 0.7:
                    return o
                return rng.randrange(K)
            g = [draw() for _ in range(L)]
            if style == "copy":
                q = [x if rng.random() < 0.8 else draw() for x in g]
            elif style == "no_pred":
                q = [rng.choice([o, -1]) for _ in g]
            else:
                q = [draw() if rng.random() < 0.9 else -1 for _ in g]
            gold.append(g)
            pred.append(q)
        if sum(len(s) for s in gold) == 0 and c % 2 == 0:
            gold.append([o])
            pred.append([o])
        cases.append(seqeval_case("random[%d]/%s" % (c, style), labels, gold, pred, rng.choice([0, 2, 4, 13])))
    # hand cases: zero division both ways, seqeval's own docstring example
    L9 = LABEL_SETS[0]
    ix = {l: i for i, l in enumerate(L9)}
    def ids(seq):
        return [ix[t] for t in seq]
    cases.append(seqeval_case("docstring", L9,
                              [ids(["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"]), ids(["B-PER", "I-PER", "O"])],
                              [ids(["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"]), ids(["B-PER", "I-PER", "O"])], 2))
    cases.append(seqeval_case("gold_only", L9, [ids(["B-PER", "I-PER"])], [ids(["O", "O"])], 2))
    cases.append(seqeval_case("pred_only", L9, [ids(["O", "O"])], [ids(["B-LOC", "O"])], 2))
    cases.append(seqeval_case("i_after_o", L9, [ids(["O", "I-PER", "I-PER", "I-LOC"])], [ids(["B-PER", "I-PER", "O", "I-LOC"])], 4))
    conll = 0
    test_path = os.path.join(CONLL, "test.txt")
    if os.path.exists(test_path):
        sents = read_conll(test_path)
        labels = sorted({t for _, tags in sents for t in tags})
        lid = {l: i for i, l in enumerate(labels)}
        rng = random.Random(7)
        gold = [[lid[t] for t in tags] for _, tags in sents]
        pred = []
        for g in gold:
            q = []
            for x in g:
                u = rng.random()
                q.append(x if u < 0.9 else (-1 if u < 0.92 else rng.randrange(len(labels))))
            pred.append(q)
        rec = seqeval_case("conll2003-test-corrupted", labels, gold, pred, 4)
        rec["file"] = test_path
        cases.append(rec)
        conll = len(sents)
    with open(os.path.join(out_dir, "metrics.jsonl"), "w", encoding="utf-8") as f:
        for rec in cases:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return len(cases), conll


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    import importlib.metadata as md
    assert md.version("seqeval") == "1.2.2", "seqeval 1.2.2 expected (tools/setup.sh python)"
    tok = BertTokenizerFast.from_pretrained(MODEL)
    n, ndev = gen_align(out_dir, tok)
    m, nconll = gen_metrics(out_dir)
    print("gen_token: %d alignment records (%d dev sentences x 2 lengths), %d seqeval cases (CoNLL test: %s) in %s"
          % (n, ndev, m, "%d sentences" % nconll if nconll else "not found", out_dir))


if __name__ == "__main__":
    main()
