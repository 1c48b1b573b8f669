#!/usr/bin/env python3
"""gen_qa.py OUTDIR: references for extractive question answering, for
tests/test_qa_data.c, tests/test_qa_decode.c and tests/test_qa_metrics.c.

  OUTDIR/train.jsonl    ~200 generated examples in the Hugging Face flat form (id, question,
                        context, answers{text, answer_start}); accents, CJK, punctuation runs,
                        long words that split into many pieces, contexts 3-5 windows long,
                        answers at window edges, impossible questions, questions with leading
                        (Unicode) whitespace
  OUTDIR/squad.json     the same examples as SQuAD v2.0 JSON (data/paragraphs/qas, is_impossible)
  OUTDIR/features.json  {"settings": [{"max_length", "stride", "features": [{"example", "input_ids",
                        "token_type_ids", "offsets", "sequence_ids" (-1 = None), "word_ids",
                        "start_pad", "end_pad", "start_nopad", "end_nopad", "val_offsets"}]}]}:
                        transformers' fast tokenizer with run_qa.py's arguments, labels by
                        run_qa's prepare_train_features (padding="max_length" and False),
                        validation offsets by prepare_validation_features (-1 = None)
  OUTDIR/decode.json    seeded random logits per padded feature and run_qa's
                        postprocess_qa_predictions (utils_qa.py, reproduced below) for v1 and v2
                        settings: best text, n-best (text, offsets, logits, score, probability),
                        score_diff
  OUTDIR/metrics.json   predictions against gold answers with the official SQuAD v1.1 and v2.0
                        evaluation functions (reproduced below): per question and aggregated

Versions: transformers and tokenizers as installed (recorded in features.json).
"""
import collections
import json
import os
import random
import re
import string
import sys

import numpy as np
import tokenizers
import transformers
from transformers import AutoTokenizer

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
SETTINGS = [(64, 16), (384, 128)]

WORDS = ("the a an of river city museum was built in by during century north old new "
         "café naïve Ångström résumé Zürich São Paulo Kraków Straße façade "
         "北京大学 東京 上海 中华人民共和国 서울 ひらがな カタカナ "
         "1856 3.14 42 2nd 19th 1,200 "
         "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis "
         "antidisestablishmentarianism floccinaucinihilipilification "
         "state-of-the-art e-mail don't O'Brien U.S.A. e.g. "
         "«quoted» “curly” ‘single’ — – … ¿qué? ¡sí! (paren) [bracket] {brace} "
         "!!! ... ?!? ;; :: -- ##hash @at #tag $5 100% a/b x+y").split()


def rand_word(rng):
    r = rng.random()
    if r < 0.08:  # a random long word: many word pieces
        return "".join(rng.choice("bcdfghjklmnpqrstvwxzaeiou") for _ in range(rng.randint(12, 40)))
    return rng.choice(WORDS)


def rand_text(rng, n_words):
    out = []
    for i in range(n_words):
        w = rand_word(rng)
        out.append(w)
        if rng.random() < 0.08:
            out.append(rng.choice([".", ",", "!!", "...", ";", "?"]))
    s = " ".join(out)
    # some runs without spaces around punctuation
    return s.replace(" .", ".").replace(" ,", ",") if rng.random() < 0.5 else s


def make_examples(tok, rng):
    examples = []
    for i in range(200):
        kind = rng.random()
        # context length in pieces: short, 3-5 windows at 64/16 (~100-170 pieces), and every
        # 20th 3-5 windows at 384/128 (~850-1300 pieces)
        if i % 20 == 0:
            target = rng.randint(850, 1300)
        elif kind < 0.3:
            target = rng.randint(5, 40)
        else:
            target = rng.randint(100, 170)
        words = []
        while True:
            words.append(rand_text(rng, 8 if target > 300 else 1))
            context = " ".join(words)
            if len(tok(context, add_special_tokens=False)["input_ids"]) >= target:
                break
        if rng.random() < 0.1:
            context = "  " + context + " \n"
        while True:  # at most 30 question pieces: room for stride 16 at max_length 64
            question = rand_text(rng, rng.randint(2, 9)) + "?"
            if len(tok(question, add_special_tokens=False)["input_ids"]) <= 30:
                break
        if i % 7 == 0:
            question = rng.choice(["   ", "\u3000", "\xa0 ", "\t\n "]) + question
        ex = {"id": f"q{i:03d}", "question": question, "context": context,
              "answers": {"text": [], "answer_start": []}}
        if rng.random() >= 0.15:
            enc = tok(context, add_special_tokens=False, return_offsets_mapping=True)
            offs = enc["offset_mapping"]
            n = len(offs)
            if n == 0:
                examples.append(ex)
                continue
            # window edges for 64/16 with this question's length
            nq = len(tok(question.lstrip(), add_special_tokens=False)["input_ids"])
            W = 64 - 3 - nq
            edges = []
            if W > 16:
                step = W - 16
                for k in range(0, 6):
                    for e in (k * step, k * step + W - 1, k * step + W):
                        if 0 <= e < n:
                            edges.append(e)
            for a_i in range(rng.randint(1, 3)):
                if edges and rng.random() < 0.5:
                    e = rng.choice(edges)
                    if rng.random() < 0.5:
                        a, b = e, min(n - 1, e + rng.randint(0, 3))
                    else:
                        a, b = max(0, e - rng.randint(0, 3)), e
                else:
                    a = rng.randrange(n)
                    b = min(n - 1, a + rng.randint(0, 6))
                s, t = offs[a][0], offs[b][1]
                if t <= s:
                    continue
                ex["answers"]["text"].append(context[s:t])
                ex["answers"]["answer_start"].append(s)
        examples.append(ex)
    return examples


def sid(x):
    return -1 if x is None else x


def features_for(tok, examples, M, S):
    """run_qa.py's prepare_train_features and prepare_validation_features."""
    questions = [e["question"].lstrip() for e in examples]
    contexts = [e["context"] for e in examples]
    out = {}
    for padding in ("max_length", False):
        enc = tok(questions, contexts, truncation="only_second", max_length=M, stride=S,
                  return_overflowing_tokens=True, return_offsets_mapping=True, padding=padding)
        mapping = enc["overflow_to_sample_mapping"]
        starts, ends = [], []
        for i, offsets in enumerate(enc["offset_mapping"]):
            input_ids = enc["input_ids"][i]
            cls_index = input_ids.index(tok.cls_token_id)
            seq = enc.sequence_ids(i)
            answers = examples[mapping[i]]["answers"]
            if len(answers["answer_start"]) == 0:
                starts.append(cls_index), ends.append(cls_index)
                continue
            start_char = answers["answer_start"][0]
            end_char = start_char + len(answers["text"][0])
            ts = 0
            while seq[ts] != 1:
                ts += 1
            te = len(input_ids) - 1
            while seq[te] != 1:
                te -= 1
            if not (offsets[ts][0] <= start_char and offsets[te][1] >= end_char):
                starts.append(cls_index), ends.append(cls_index)
            else:
                while ts < len(offsets) and offsets[ts][0] <= start_char:
                    ts += 1
                starts.append(ts - 1)
                while offsets[te][1] >= end_char:
                    te -= 1
                ends.append(te + 1)
        out[padding] = (enc, mapping, starts, ends)
    enc, mapping, sp, ep = out["max_length"]
    _, _, sn, en = out[False]
    feats = []
    for i in range(len(enc["input_ids"])):
        n = sum(enc["attention_mask"][i])
        seq = enc.sequence_ids(i)
        val = [list(o) if seq[k] == 1 else None for k, o in enumerate(enc["offset_mapping"][i])]
        feats.append({
            "example": mapping[i],
            "input_ids": enc["input_ids"][i][:n],
            "token_type_ids": enc["token_type_ids"][i][:n],
            "offsets": [list(o) for o in enc["offset_mapping"][i][:n]],
            "sequence_ids": [sid(x) for x in seq[:n]],
            "word_ids": [sid(x) for x in enc.word_ids(i)[:n]],
            "start_pad": sp[i], "end_pad": ep[i], "start_nopad": sn[i], "end_nopad": en[i],
            "val_offsets": [v if v is not None else [-1, -1] for v in val],
            "_val": val,
        })
    return feats


def postprocess_qa_predictions(examples, features, all_start, all_end, version_2_with_negative=False,
                               n_best_size=20, max_answer_length=30, null_score_diff_threshold=0.0):
    """utils_qa.py's postprocess_qa_predictions (transformers examples), same logic, returning
    the predictions, the n-best lists and the score differences."""
    per_example = collections.defaultdict(list)
    for i, f in enumerate(features):
        per_example[f["example"]].append(i)
    preds, nbest, diffs = {}, {}, {}
    for ei, ex in enumerate(examples):
        min_null = None
        prelim = []
        for fi in per_example[ei]:
            sl, el = all_start[fi], all_end[fi]
            om = features[fi]["_val"]
            null = sl[0] + el[0]
            if min_null is None or min_null["score"] > null:
                min_null = {"offsets": (0, 0), "score": null, "start_logit": sl[0], "end_logit": el[0]}
            s_idx = np.argsort(sl)[-1: -n_best_size - 1: -1].tolist()
            e_idx = np.argsort(el)[-1: -n_best_size - 1: -1].tolist()
            for s in s_idx:
                for e in e_idx:
                    if s >= len(om) or e >= len(om) or om[s] is None or len(om[s]) < 2 or om[e] is None \
                            or len(om[e]) < 2:
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    prelim.append({"offsets": (om[s][0], om[e][1]), "score": sl[s] + el[e],
                                   "start_logit": sl[s], "end_logit": el[e]})
        if version_2_with_negative:
            prelim.append(min_null)
            null_score = min_null["score"]
        predictions = sorted(prelim, key=lambda x: x["score"], reverse=True)[:n_best_size]
        if version_2_with_negative and not any(p["offsets"] == (0, 0) for p in predictions):
            predictions.append(min_null)
        context = ex["context"]
        for p in predictions:
            p["start"], p["end"] = p["offsets"]
            p["text"] = context[p["offsets"][0]: p["offsets"][1]]
        if len(predictions) == 0 or (len(predictions) == 1 and predictions[0]["text"] == ""):
            predictions.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0,
                                   "start": -1, "end": -1, "offsets": None})
        scores = np.array([p["score"] for p in predictions])
        exp_scores = np.exp(scores - np.max(scores))
        probs = exp_scores / exp_scores.sum()
        for prob, p in zip(probs, predictions):
            p["probability"] = prob
        if not version_2_with_negative:
            preds[ex["id"]] = predictions[0]["text"]
        else:
            i = 0
            while predictions[i]["text"] == "":
                i += 1
            best = predictions[i]
            diff = null_score - best["start_logit"] - best["end_logit"]
            diffs[ex["id"]] = float(diff)
            preds[ex["id"]] = "" if diff > null_score_diff_threshold else best["text"]
        nbest[ex["id"]] = [{"text": p["text"], "start": int(p["start"]), "end": int(p["end"]),
                            "start_logit": float(p["start_logit"]), "end_logit": float(p["end_logit"]),
                            "score": float(p["score"]), "probability": float(p["probability"])}
                           for p in predictions]
    return preds, nbest, diffs


# ---- the official SQuAD evaluation scripts (v1.1 and v2.0), same logic ----

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
    p = normalize_answer(prediction).split()
    g = normalize_answer(ground_truth).split()
    common = collections.Counter(p) & collections.Counter(g)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(p)
    recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)


def em_v1(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def evaluate_v1(golds, preds):
    f1 = exact_match = total = 0
    for qid, gts in golds:
        total += 1
        exact_match += max(em_v1(preds[qid], g) for g in gts)
        f1 += max(f1_v1(preds[qid], g) for g in gts)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def evaluate_v2(golds, preds):
    exact, f1, has_ans = {}, {}, {}
    for qid, gts in golds:
        has_ans[qid] = bool(gts)
        gold_answers = [a for a in gts if normalize_answer(a)]
        if not gold_answers:
            gold_answers = [""]
        exact[qid] = max(compute_exact(a, preds[qid]) for a in gold_answers)
        f1[qid] = max(compute_f1(a, preds[qid]) for a in gold_answers)

    def make(ids):
        total = len(ids)
        return {"exact": 100.0 * sum(exact[k] for k in ids) / total,
                "f1": 100.0 * sum(f1[k] for k in ids) / total, "total": total}

    out = make(list(exact))
    has = [k for k in exact if has_ans[k]]
    no = [k for k in exact if not has_ans[k]]
    if has:
        out.update({"HasAns_" + k: v for k, v in make(has).items()})
    if no:
        out.update({"NoAns_" + k: v for k, v in make(no).items()})
    return out, exact, f1


PRED_WORDS = ["The", "the", "a", "An", "an", "Eiffel", "Tower", "tower", "Paris", "PARIS", "café", "Café",
              "naïve", "1889", "1,889", "e.g.", "U.S.", "«Paris»", "“Paris”", "Paris!", "—", "…", "¿qué?",
              "theatre", "another", "Anne", "a.m.", "北京", "ÅNGSTRÖM", "ångström", "x_y", "_the_",
              "the\u0301", "The-end", "thé", "Ωmega", "ΟΔΟΣ", "οδος", "ΣΟΦΙΑ", "İstanbul", "i̇stanbul",
              "   ", "\t", "\xa0", "\u3000the\u3000", "don't", "rock'n'roll", "a+b", "[x]"]


def make_metric_cases(rng):
    cases = []
    for i in range(400):
        def phrase(k):
            return rng.choice([" ", "  ", "\n", ""]).join(rng.choice(PRED_WORDS) for _ in range(k))
        n_gold = rng.choice([0, 1, 1, 2, 3])
        golds = [phrase(rng.randint(1, 4)) for _ in range(n_gold)]
        r = rng.random()
        if r < 0.15:
            pred = ""
        elif r < 0.35 and golds:
            g = rng.choice(golds)
            pred = rng.choice([g, g.upper(), g + " the", "the " + g, g + "!", g + " " + g])
        else:
            pred = phrase(rng.randint(1, 5))
        if golds and rng.random() < 0.1:
            golds.append(golds[0])  # a duplicate gold answer
        cases.append({"id": f"m{i:03d}", "pred": pred, "golds": golds})
    return cases


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(20261204)
    tok = AutoTokenizer.from_pretrained(MINILM)
    examples = make_examples(tok, rng)
    with open(os.path.join(outdir, "train.jsonl"), "w") as f:
        for e in examples:
            f.write(json.dumps(e, ensure_ascii=rng.random() < 0.5) + "\n")
    squad = {"version": "v2.0", "data": [{"title": "generated", "paragraphs": [
        {"context": e["context"], "qas": [{
            "id": e["id"], "question": e["question"], "is_impossible": not e["answers"]["text"],
            "answers": [{"text": t, "answer_start": s}
                        for t, s in zip(e["answers"]["text"], e["answers"]["answer_start"])]}]}
        for e in examples]}]}
    with open(os.path.join(outdir, "squad.json"), "w") as f:
        json.dump(squad, f, indent=1, ensure_ascii=False)

    settings, decode = [], []
    nprng = np.random.default_rng(7)
    for M, S in SETTINGS:
        feats = features_for(tok, examples, M, S)
        wins = collections.Counter(f["example"] for f in feats)
        # logits for the padded features; distinct values within a row so that argsort has no ties
        start = np.zeros((len(feats), M), np.float32)
        end = np.zeros((len(feats), M), np.float32)
        for i in range(len(feats)):
            for arr in (start, end):
                while True:
                    row = (nprng.standard_normal(M) * 3).astype(np.float32)
                    if len(set(row.tolist())) == M:
                        break
                arr[i] = row
        runs = []
        for v2, nb, mal, thr in [(False, 20, 30, 0.0), (True, 20, 30, 0.0), (True, 5, 10, -1.5),
                                 (False, 3, 4, 0.0), (True, 20, 30, 2.0)]:
            preds, nbest, diffs = postprocess_qa_predictions(examples, feats, start, end, v2, nb, mal, thr)
            runs.append({"version_2_with_negative": v2, "n_best_size": nb, "max_answer_length": mal,
                         "null_score_diff_threshold": thr,
                         "predictions": [preds[e["id"]] for e in examples],
                         "score_diff": [diffs.get(e["id"], 0.0) for e in examples],
                         "nbest": [nbest[e["id"]] for e in examples]})
        decode.append({"max_length": M, "stride": S, "start_logits": start.tolist(),
                       "end_logits": end.tolist(), "runs": runs})
        for f in feats:
            del f["_val"]
        settings.append({"max_length": M, "stride": S, "features": feats})
        print(f"gen_qa: M {M} S {S}: {len(feats)} features, windows per example up to {max(wins.values())}, "
              f"examples with >= 3 windows {sum(1 for v in wins.values() if v >= 3)}")
    with open(os.path.join(outdir, "features.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                   "settings": settings}, f)
    with open(os.path.join(outdir, "decode.json"), "w") as f:
        json.dump({"settings": decode}, f)

    cases = make_metric_cases(rng)
    golds = [(c["id"], c["golds"]) for c in cases]
    preds = {c["id"]: c["pred"] for c in cases}
    for c in cases:
        c["normalized_pred"] = normalize_answer(c["pred"])
        c["v1_em"] = float(max(em_v1(c["pred"], g) for g in c["golds"])) if c["golds"] else None
        c["v1_f1"] = float(max(f1_v1(c["pred"], g) for g in c["golds"])) if c["golds"] else None
    v1 = evaluate_v1([g for g in golds if g[1]], preds)
    v2, ex2, f12 = evaluate_v2(golds, preds)
    for c in cases:
        c["v2_exact"], c["v2_f1"] = float(ex2[c["id"]]), float(f12[c["id"]])
    with open(os.path.join(outdir, "metrics.json"), "w") as f:
        json.dump({"cases": cases, "v1": v1, "v2": v2}, f, ensure_ascii=False)
    print(f"gen_qa: {len(examples)} examples ({sum(1 for e in examples if not e['answers']['text'])} impossible), "
          f"{len(cases)} metric cases, v1 {v1}, v2 exact {v2['exact']:.4f} f1 {v2['f1']:.4f}")


if __name__ == "__main__":
    main()
