#!/usr/bin/env python3
"""gen_token_decode.py OUTDIR: references for token-classification output decoding
(src/tasks/token_decode.c), for tests/test_token_decode.c.

No trained model is needed: transformers' TokenClassificationPipeline is built
around a tiny random BertForTokenClassification (hidden 32, 1 layer, 9 labels) and
all-MiniLM-L6-v2's tokenizer; for each text, the pipeline's own preprocess and
_forward run, then the logits are replaced by seeded random ones (biased towards
B-/I- runs so that entities appear) and postprocess decodes them for each
aggregation strategy.

  OUTDIR/cases.json  {"transformers": VERSION, "labels": [9 names],
                      "strategies": ["none", "simple", "first", "average", "max"],
                      "cases": [{"text_hex": the UTF-8 bytes bertc decodes (some invalid),
                                 "text": those bytes decoded with errors="replace",
                                 "input_ids": [n],
                                 "logits": [[9 floats] x n]  (float32 values),
                                 "expected": {STRATEGY: [entity dicts as the pipeline
                                              returns them, score as float],
                                              "none:keep", "simple:keep": the same
                                              with ignore_labels=[]},
                      "labels_odd": [9 names outside plain BIO], "cases_odd": the first
                      12 texts again with those labels}
                                 "json": {STRATEGY: json.dumps of that list}}]}
"""
import json
import os
import sys
import warnings

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, BertConfig, BertForTokenClassification
from transformers.pipelines.token_classification import AggregationStrategy, TokenClassificationPipeline

MINILM = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                      "bertc", "models", "all-MiniLM-L6-v2")
LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
# Labels outside plain BIO: a bare tag counts as I- of itself in grouping ("LOC" joins
# "B-LOC"), "E-LOC" is its own tag yet its group is "LOC" (split at the first "-").
LABELS_ODD = ["O", "PER", "B-LOC", "I-LOC", "E-LOC", "S-MISC", "B-X-Y", "I-X-Y", "LOC"]
STRATEGIES = ["none", "simple", "first", "average", "max"]
TEXTS = [
    "My name is Wolfgang and I live in Berlin.",
    "Hugging Face Inc. is a company based in New York City. Its headquarters are in DUMBO, Brooklyn.",
    "The New York-based company hired Sarah Connor-Smith last week.",
    "Angela Merkel met Emmanuel Macron in Paris, then Angela Merkel flew home.",
    "Café Müller in Zürich serves crème brûlée; ask for Ångström or Łukasz.",
    "cafe\u0301 and nai\u0308ve written with combining accents",
    "東京タワーは東京都港区にある。北京和上海是中国的城市。",
    "서울특별시 is the capital of 대한민국.",
    "I love 🍕 and 🎉🎉 with my friends at Google 🚀!",
    "Wait... what?!?! No way!!! (really) [sic] {ok} <tag>",
    "antidisestablishmentarianism and pneumonoultramicroscopicsilicovolcanoconiosis",
    "Supercalifragilisticexpialidocious Mary Poppins",
    "a" * 120 + " is a very long word that becomes [UNK]",
    "x",
    "   ",
    ".",
    "Hello [SEP] world [CLS] again [UNK] and [MASK] too",
    "Barack Obama, Barack Obama, Barack Obama.",
    "IBM, NASA, UNESCO and the U.S.A. signed it.",
    "Don't you think it's O'Neill's car? We're sure they've gone; I'm not.",
    "e-mail john.doe@example.com or visit https://example.org/path?q=1&r=2",
    "Prices: $1,000.50, €20, £3.99 and ¥500 — cheap!",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nin the text",
    "São Paulo, Bogotá, Reykjavík and Kraków are cities.",
    "Ελλάδα και Αθήνα, Россия и Москва.",
    "The 2024 Olympics in Paris-Saint-Denis were hosted by Île-de-France.",
    "Dr. J. R. R. Tolkien wrote The Lord of the Rings.",
    "#hashtag @mention ##double ###triple",
    "UNITED NATIONS Security Council Resolution 1441",
    "Microsoft Corporation's CEO Satya Nadella spoke at MIT.",
    "The Amazon river flows through Brazil, Peru and Colombia.",
    "über-cool naïve résumé façade coöperate",
    "Mr. Smith went to Washington; Mrs. Smith stayed in Washington state.",
    "ThisIsCamelCaseText and snake_case_text and kebab-case-text",
    "123 456.789 1e10 3/4 50% #1",
    "Привет, мир! Hello, world! مرحبا بالعالم",
    "Apple Apple Apple Apple Apple",
    "He said: “Go to London” — and she went to ‘Oxford’.",
    "A.B.C.D.E.F.G.H.I.J",
    "nothing to see here",
    "Zoë Saldaña and Beyoncé Knowles-Carter performed at Madison Square Garden.",
]
# Texts with invalid UTF-8, as bytes: the pipeline gets bytes.decode("utf-8", "replace"),
# which is how bertc reads them (an ill-formed subpart is one U+FFFD code point).
RAW_TEXTS = [
    b"caf\xc3 Berlin \xff\xfeGermany",
    b"a" * 101 + b"\xe2\x82" + b"b lives in Paris",
]
# Extra runs with ignore_labels=[] (keeps the "O" tokens and groups).
KEEP_ALL = ["none", "simple"]


def draw_logits(rng, n, NL):
    """(n, NL) float32 logits: a Markov chain over O / B-X / I-X with noise, so that
    entities, I- runs without B-, label changes inside words and near-ties appear."""
    L = rng.normal(0.0, 1.0, size=(n, NL))
    prev = 0
    for i in range(n):
        r = rng.random()
        if r < 0.35:
            lab = 0
        elif r < 0.55:
            lab = 1 + 2 * rng.integers(0, 4)            # B-X
        elif r < 0.85:
            lab = prev + 1 if prev % 2 == 1 else (prev if prev else 2 * rng.integers(1, 5))  # I-X
        else:
            lab = int(rng.integers(0, NL))
        strength = rng.choice([0.5, 1.5, 3.0, 6.0])
        L[i, lab] += strength
        prev = lab
    if n > 2 and rng.random() < 0.3:                    # a flat row: low scores, argmax by noise
        L[int(rng.integers(0, n))] = rng.normal(0, 0.01, size=NL)
    # exact ties, where numpy's argmax (and Python's max) take the first: an all-equal
    # row, a row whose two best labels are equal, and a row repeated in the next token
    if n > 3 and rng.random() < 0.5:
        L[int(rng.integers(1, n - 1))] = 0.25
    if n > 3:
        i = int(rng.integers(1, n - 1))
        a, b = sorted(rng.choice(NL, size=2, replace=False))
        L[i, a] = L[i, b] = L[i].max() + 1.0
    if n > 4:
        i = int(rng.integers(1, n - 2))
        L[i + 1] = L[i]
    return L.astype(np.float32)


def to_py(v):
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


def build_cases(tok, labels, raws, rng):
    """The pipeline's answers for each text in raws (bytes) with labels as id2label."""
    NL = len(labels)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, num_labels=NL,
                     id2label={i: l for i, l in enumerate(labels)}, label2id={l: i for i, l in enumerate(labels)})
    model = BertForTokenClassification(cfg).eval()
    pipe = TokenClassificationPipeline(model=model, tokenizer=tok)
    cases = []
    for raw in raws:
        text = raw.decode("utf-8", "replace")
        chunks = list(pipe.preprocess(text, is_split_into_words=False))
        assert len(chunks) == 1, "one chunk per text (no stride)"
        ids = [int(x) for x in chunks[0]["input_ids"][0]]
        n = len(ids)
        logits = draw_logits(rng, n, NL)
        # a word whose two tokens tie on their best probability with different labels:
        # "max" takes the first token. Swapping labels 0 and 1 keeps numpy's float32
        # row sum bit-identical (its pairwise sum adds lanes 0 and 1 first).
        subs = [j for j in range(2, n - 1) if tok.convert_ids_to_tokens(ids[j]).startswith("##")]
        if subs:
            j = subs[int(rng.integers(0, len(subs)))]
            logits[j - 1, 1] = logits[j - 1].max() + 2.0
            logits[j] = logits[j - 1]
            logits[j, [0, 1]] = logits[j - 1, [1, 0]]
        expected, dumps = {}, {}
        for key in STRATEGIES + [s + ":keep" for s in KEEP_ALL]:
            s = key.split(":")[0]
            extra = {"ignore_labels": []} if key.endswith(":keep") else {}
            # _forward pops keys from its input: give it a fresh copy each time
            mi = dict(list(pipe.preprocess(text, is_split_into_words=False))[0])
            with torch.no_grad():
                out = pipe._forward(mi)
            out["logits"] = torch.from_numpy(logits.copy()).unsqueeze(0)
            ents = pipe.postprocess([out], aggregation_strategy=AggregationStrategy[s.upper()], **extra)
            ents = [{k: to_py(v) for k, v in e.items()} for e in ents]
            expected[key] = ents
            dumps[key] = json.dumps(ents)
        cases.append({"text_hex": raw.hex(), "text": text, "input_ids": ids, "logits": logits.astype(np.float64).tolist(),
                      "expected": expected, "json": dumps})
    return cases


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(5)
    rng = np.random.default_rng(2024)
    tok = AutoTokenizer.from_pretrained(MINILM)
    cases = build_cases(tok, LABELS, [t.encode() for t in TEXTS] + RAW_TEXTS, rng)
    cases_odd = build_cases(tok, LABELS_ODD, [t.encode() for t in TEXTS[:12]], rng)
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "labels": LABELS, "strategies": STRATEGIES,
                   "cases": cases, "labels_odd": LABELS_ODD, "cases_odd": cases_odd}, f)
    n_ent = {s: sum(len(c["expected"][s]) for c in cases) for s in cases[0]["expected"]}
    print(f"gen_token_decode: {len(cases)} texts, entities per strategy {n_ent} -> {outdir}/cases.json")


if __name__ == "__main__":
    main()
