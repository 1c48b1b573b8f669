#!/usr/bin/env python3
"""gen_tokenizer_json.py OUTDIR: tokenizer.json-only model folders and their
reference ids, for tests/test_tokenizer_json.c and tests/test_tokenizer_json.sh.

transformers 5.x save_pretrained writes tokenizer.json and tokenizer_config.json
but no vocab.txt. This script saves the default model's tokenizer that way
(checking that no vocab.txt was written) in three configurations:
  uncased   the model's own settings (lower-case, accents stripped)
  cased     do_lower_case=False
  accents   do_lower_case=True, strip_accents=False
Each folder also gets config.json and model.safetensors (a symlink) so that
whole-model commands (bertc info, predict) can load it.

Writes OUTDIR/<name>.bin in tools/gen_tokenizer.py's BTOKFIX1 format (single
texts only; vocab_path is the folder, relative to OUTDIR), for the edge corpus
(tests/data/tokenizer/edge_cases.txt plus the same long texts gen_tokenizer.py
adds) and the first 5,000 IMDB reviews (sorted by path, train+test) at
max_length 512. All 50,000 took over a minute of CPU with the rest (63 s user
on this machine) and a 187 MB fixture; test_tokenizer.c already compares all
50,000 from vocab.txt, and the vocabulary read from tokenizer.json is checked
token for token against the model's, so 5,000 per configuration suffice.
Also OUTDIR/bad/<case>/tokenizer.json (each next to a copy of the uncased
tokenizer_config.json) with OUTDIR/bad/expect.txt lines "case<TAB>code<TAB>
substring": tokenizer.json files bertc must refuse with one line naming the field.
"""
import json
import os
import re
import shutil
import struct
import sys
import tarfile

import tokenizers
import transformers
from transformers import AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_tokenizer import IMDB, MODEL, dec, read_cases, unescape  # noqa: E402


def header(f, folder, lower, strip, cjk, tok):
    vp = folder.encode()
    vocab = tok.get_vocab()
    size = max(vocab.values()) + 1
    ids = sorted(set([0, 1, 100, 101, 102, 103, size - 1, 7592, 2088]))
    head = b"BTOKFIX1" + struct.pack("<IIiII", 0, lower, strip, cjk, len(vp)) + vp
    head += struct.pack("<iI", size, len(ids))
    for i in ids:
        tb = tok.convert_ids_to_tokens(i).encode()
        head += struct.pack("<ii", i, len(tb)) + tb
    f.write(head)


def write_group(path, folder, lower, strip, cjk, tok, texts, max_length):
    kw = dict(truncation=True, max_length=max_length) if max_length else {}
    n = 0
    with open(path, "wb") as f:
        header(f, folder, lower, strip, cjk, tok)
        for s in range(0, len(texts), 5000):
            chunk = texts[s:s + 5000]
            enc = tok([dec(t) for t in chunk], return_offsets_mapping=True, **kw)
            for i, t in enumerate(chunk):
                ids, types = enc["input_ids"][i], enc["token_type_ids"][i]
                offs = enc["offset_mapping"][i] if (s + i) % 10 == 0 else None
                r = struct.pack("<Iii", 0, max_length, 0) + struct.pack("<I", len(t)) + t
                r += struct.pack("<II", 1 if offs is not None else 0, len(ids))
                r += struct.pack(f"<{len(ids)}i", *ids) + struct.pack(f"<{len(ids)}i", *types)
                if offs is not None:
                    r += struct.pack(f"<{2 * len(ids)}i", *[x for o in offs for x in o])
                f.write(r)
                n += 1
        f.seek(8)
        f.write(struct.pack("<I", n))


def save_folder(out, name, **kw):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(MODEL, **kw)
    tok.save_pretrained(d)
    if os.path.exists(os.path.join(d, "vocab.txt")):
        sys.exit(f"gen_tokenizer_json: transformers {transformers.__version__} wrote vocab.txt into {d}")
    if not os.path.exists(os.path.join(d, "tokenizer.json")):
        sys.exit(f"gen_tokenizer_json: no tokenizer.json in {d}")
    shutil.copy(os.path.join(MODEL, "config.json"), d)
    os.symlink(os.path.realpath(os.path.join(MODEL, "model.safetensors")), os.path.join(d, "model.safetensors"))
    reloaded = AutoTokenizer.from_pretrained(d)  # what users get from the saved folder
    probe = ["Héllo WÖRLD, naïve Café [SEP] 中文", "x" * 101]
    if [reloaded(s)["input_ids"] for s in probe] != [tok(s)["input_ids"] for s in probe]:
        sys.exit(f"gen_tokenizer_json: {d} reloads to other ids")
    return reloaded


def bad_cases(out):
    """tokenizer.json files bertc must refuse: (name, mutate(json), code, substring)."""
    def bpe(j):
        j["model"] = {"type": "BPE", "dropout": None, "unk_token": "[UNK]", "vocab": {"[UNK]": 0},
                      "merges": []}
    def unigram(j):
        j["model"] = {"type": "Unigram", "unk_id": 0, "vocab": [["[UNK]", 0.0]]}
    def nfkc(j):
        j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKC"}, j["normalizer"]]}
    def metaspace(j):
        j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                              "split": True}
    def novocab(j):
        del j["model"]["vocab"]
    def prefix(j):
        j["model"]["continuing_subword_prefix"] = "@@"
    def added(j):
        j["added_tokens"].append({"id": 5, "content": "<extra>", "single_word": False, "lstrip": False,
                                  "rstrip": False, "normalized": False, "special": True})
    def padleft(j):
        j["padding"] = {"strategy": "BatchLongest", "direction": "Left", "pad_to_multiple_of": None,
                        "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}
    def nocls(j):
        v = j["model"]["vocab"]
        v["[CLS-gone]"] = v.pop("[CLS]")
    def maxchars(j):
        j["model"]["max_input_chars_per_word"] = 200
    def lstrip(j):
        j["added_tokens"][4]["lstrip"] = True
    def gap(j):
        j["model"]["vocab"]["[MASK]"] = 40000
    return [
        ("bpe", bpe, "model.type", "\"BPE\"; bertc reads WordPiece tokenizers only"),
        ("unigram", unigram, "model.type", "\"Unigram\""),
        ("nfkc", nfkc, "normalizer.type", "\"Sequence\"; bertc implements BertNormalizer only"),
        ("metaspace", metaspace, "pre_tokenizer.type", "\"Metaspace\""),
        ("novocab", novocab, "model.vocab", "expected an object"),
        ("prefix", prefix, "model.continuing_subword_prefix", "\"@@\""),
        ("added", added, "added_tokens[5].content", "\"<extra>\""),
        ("padleft", padleft, "padding.direction", "\"Left\""),
        ("nocls", nocls, "vocabulary has no [CLS]", ""),
        ("maxchars", maxchars, "model.max_input_chars_per_word is 200", "uses 100"),
        ("lstrip", lstrip, "added_tokens[4].lstrip is true", ""),
        ("gap", gap, "model.vocab[\"[MASK]\"]", "0..30521"),
    ]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    edge = [unescape(l) for l in read_cases("edge_cases.txt")]
    edge.append(b"a" * (1 << 20))
    edge.append(b"unbelievable, " * ((1 << 20) // 14))
    edge.append("中文".encode() * ((1 << 20) // 6))
    edge.append(b"x" * 100 + b" " + b"y" * 101 + b" [SEP]" + b"z" * 5000)

    reviews = []
    with tarfile.open(IMDB, "r:gz") as tf:
        for m in tf:
            if m.isfile() and re.match(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt$", m.name):
                reviews.append((m.name, tf.extractfile(m).read()))
    reviews.sort()
    if len(reviews) != 50000:
        sys.exit(f"gen_tokenizer_json: {IMDB}: {len(reviews)} reviews, want 50000")
    reviews = [r[1] for r in reviews]

    configs = [("uncased", {}, 1, -1, 5000),
               ("cased", dict(do_lower_case=False), 0, -1, 5000),
               ("accents", dict(do_lower_case=True, strip_accents=False), 1, 0, 5000)]
    for name, kw, lower, strip, nrev in configs:
        tok = save_folder(out, name, **kw)
        write_group(os.path.join(out, f"{name}_edge.bin"), name, lower, strip, 1, tok, edge, 0)
        write_group(os.path.join(out, f"{name}_imdb.bin"), name, lower, strip, 1, tok, reviews[:nrev], 512)

    bad = os.path.join(out, "bad")
    shutil.rmtree(bad, ignore_errors=True)
    base = json.load(open(os.path.join(out, "uncased", "tokenizer.json"), encoding="utf-8"))
    lines = []
    for name, mutate, field, msg in bad_cases(out):
        j = json.loads(json.dumps(base))
        mutate(j)
        d = os.path.join(bad, name)
        os.makedirs(d)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False)
        shutil.copy(os.path.join(out, "uncased", "tokenizer_config.json"), d)
        if name in ("bpe", "unigram"):  # the real library must read them: they are real tokenizer.json files
            tokenizers.Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        lines.append(f"{name}\t{field}\t{msg}\n")
    with open(os.path.join(bad, "expect.txt"), "w", encoding="utf-8") as f:
        f.write("".join(lines))
    with open(os.path.join(out, "VERSIONS"), "w") as f:
        f.write(f"transformers {transformers.__version__}\ntokenizers {tokenizers.__version__}\n")


if __name__ == "__main__":
    main()
